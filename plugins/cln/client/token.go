// Package client is a typed client for the CloudLinux Network (CLN) REST
// API, both editions of its reference: the newer one (v2 CloudLinux keys,
// ELS by productType with POST/PUT/DELETE, AccelerateWP, features) and the
// older one (ELS by code over GET, CloudLinux Backups).
package client

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
)

// Token builds a CLN token: login|ts|sha1(secret+ts), the hash in lower-case
// hex. A fresh token is made for every request.
func Token(login, secret string, ts int64) string {
	t := strconv.FormatInt(ts, 10)
	sum := sha1.Sum([]byte(secret + t))
	return login + "|" + t + "|" + hex.EncodeToString(sum[:])
}
