// Package slack is the Slack adapter: signed slash commands, interactivity
// and events over HTTP or Socket Mode, Block Kit rendering, approvals with
// buttons and modals, progress in threads, App Home. slack-go does the
// signature verification, the Web API, Block Kit types and Socket Mode.
package slack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	slackgo "github.com/slack-go/slack"
)

// ErrTooLarge is returned for bodies over the limit.
var ErrTooLarge = errors.New("request body too large")

// Verify reads r's body (at most maxBody bytes) and checks its Slack
// signature and timestamp (within five minutes). It returns the body.
func Verify(r *http.Request, signingSecret string, maxBody int64) ([]byte, error) {
	sv, err := slackgo.NewSecretsVerifier(r.Header, signingSecret)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > maxBody {
		return nil, ErrTooLarge
	}
	if _, err := io.Copy(&sv, bytes.NewReader(body)); err != nil {
		return nil, err
	}
	if err := sv.Ensure(); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return body, nil
}

// Sign computes Slack's request signature (v0=HMAC-SHA256 of
// "v0:TIMESTAMP:BODY"), as Slack sends it in X-Slack-Signature. The local
// playground signs what it forwards with it.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:", timestamp)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}
