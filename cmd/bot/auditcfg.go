package main

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/audit/siem"
)

// checkAudit refuses a bad audit section at load: a sink that cannot
// work should stop the bot at start, not lose entries later.
func (c *Config) checkAudit() error {
	cp := c.Audit.Checkpoints
	if cp.Interval < 0 {
		return errors.New("audit.checkpoints.interval must be positive")
	}
	if cp.Interval > 0 && cp.Interval < c.minInterval() {
		return fmt.Errorf("audit.checkpoints.interval %s is too short (at least %s)", cp.Interval, c.minInterval())
	}
	if b := c.Audit.Ship.Batch; b < 0 || b > 10000 {
		return fmt.Errorf("audit.ship.batch %d: want 1 to 10000", b)
	}
	for name, sc := range map[string]*SyslogCfg{"audit.checkpoints.syslog": cp.Syslog, "audit.ship.syslog": c.Audit.Ship.Syslog} {
		if sc == nil {
			continue
		}
		if _, err := sc.build(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for name, wc := range map[string]*WebhookCfg{"audit.checkpoints.webhook": cp.Webhook, "audit.ship.webhook": c.Audit.Ship.Webhook} {
		if wc == nil {
			continue
		}
		if wc.Token == nil {
			return fmt.Errorf("%s: token is required ({env: VARIABLE} or {file: PATH})", name)
		}
		if _, err := siem.NewWebhook(siem.WebhookConfig{URL: wc.URL, Timeout: wc.Timeout}); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// minInterval is the shortest checkpoint interval accepted.
func (c *Config) minInterval() time.Duration { return time.Second }

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8, "cron": 9,
	"authpriv": 10, "ftp": 11, "ntp": 12, "audit": 13, "alert": 14, "clock": 15,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// build turns the configuration into a syslog writer, reading its TLS
// files.
func (sc *SyslogCfg) build() (*siem.Syslog, error) {
	cfg := siem.SyslogConfig{Address: sc.Address, Hostname: sc.Hostname, AppName: sc.AppName, Timeout: sc.Timeout, Facility: 13}
	if sc.Facility != "" {
		f, ok := facilities[strings.ToLower(sc.Facility)]
		if !ok {
			n, err := strconv.Atoi(sc.Facility)
			if err != nil || n < 0 || n > 23 {
				return nil, fmt.Errorf("facility %q: want a name (local0-local7, auth, authpriv, audit, daemon...) or 0 to 23", sc.Facility)
			}
			f = n
		}
		cfg.Facility = f
	}
	if sc.Timeout < 0 {
		return nil, errors.New("timeout must be positive")
	}
	if t := sc.TLS; t != nil {
		tc := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, fmt.Errorf("tls.ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate in it", t.CAFile)
			}
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			return nil, errors.New("tls: cert_file and key_file go together")
		}
		if t.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
			if err != nil {
				// The error of LoadX509KeyPair never quotes the key.
				return nil, fmt.Errorf("tls client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		cfg.TLS = tc
	}
	return siem.NewSyslog(cfg)
}

// build turns the configuration into a webhook writer, reading its token.
func (wc *WebhookCfg) build(base string) (*siem.Webhook, string, error) {
	token, err := wc.Token.Resolve(base)
	if err != nil {
		return nil, "", fmt.Errorf("token: %w", err)
	}
	w, err := siem.NewWebhook(siem.WebhookConfig{URL: wc.URL, Token: token, Timeout: wc.Timeout})
	return w, token, err
}

// auditSecret reads the configured audit key, or the one kept in the data
// directory (made on first use). With PostgreSQL it must be configured:
// every replica seals the one chain with the same key.
func (c *Config) auditSecret() ([]byte, error) {
	if c.AuditKey != nil {
		k, err := c.AuditKey.Resolve(c.dir)
		if err != nil {
			return nil, fmt.Errorf("audit_key: %w", err)
		}
		if len(k) < audit.MinKeyLength {
			return nil, fmt.Errorf("audit_key: use at least %d characters", audit.MinKeyLength)
		}
		return []byte(k), nil
	}
	if c.Store.Driver == "postgres" {
		return nil, errors.New("audit_key is required with the postgres driver: every replica must share it")
	}
	path := filepath.Join(c.DataDir, "audit.key")
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	enc := []byte(hex.EncodeToString(k))
	if err := os.WriteFile(path, enc, 0o600); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return enc, nil
}

// previousKey is a key from audit.previous_keys.
type previousKey struct {
	secret []byte
	key    *audit.Key
}

// auditPreviousKeys reads audit.previous_keys. Messages name a key by its
// place in the list and its id, never by its value.
func (c *Config) auditPreviousKeys(current *audit.Key) ([]previousKey, error) {
	var out []previousKey
	seen := map[string]int{}
	for i, ref := range c.Audit.PreviousKeys {
		v, err := ref.Resolve(c.dir)
		if err != nil {
			return nil, fmt.Errorf("audit.previous_keys[%d]: %w", i, err)
		}
		k, err := audit.NewKey([]byte(v))
		if err != nil {
			return nil, fmt.Errorf("audit.previous_keys[%d]: %w", i, err)
		}
		if k.ID() == current.ID() {
			return nil, fmt.Errorf("audit.previous_keys[%d] is the audit_key itself (id %s): list only the keys it replaced", i, k.ID())
		}
		if j, dup := seen[k.ID()]; dup {
			return nil, fmt.Errorf("audit.previous_keys[%d] is the same key as audit.previous_keys[%d] (id %s)", i, j, k.ID())
		}
		seen[k.ID()] = i
		out = append(out, previousKey{secret: []byte(v), key: k})
	}
	return out, nil
}
