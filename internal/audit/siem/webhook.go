package siem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/store"
)

// WebhookConfig is an HTTPS endpoint that takes JSON lines.
type WebhookConfig struct {
	URL string
	// Token is sent as a bearer token; it is a secret.
	Token string
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Client sends the requests (default: a plain client); tests give one
	// that trusts their server.
	Client *http.Client
}

// Webhook posts batches as JSON lines; any 2xx answer is a delivery.
type Webhook struct {
	cfg  WebhookConfig
	name string
}

var (
	_ Destination          = (*Webhook)(nil)
	_ audit.CheckpointSink = (*Webhook)(nil)
)

// NewWebhook checks cfg: https, or http to a loopback address only; no
// credentials in the URL (they belong in the token).
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, errors.New("webhook url: not an absolute URL")
	}
	if u.User != nil {
		return nil, errors.New("webhook url: credentials in the URL are refused; use token")
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	loopback := host == "localhost" || ip != nil && ip.IsLoopback()
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return nil, fmt.Errorf("webhook url: want https (http only to a loopback address), not %s", u.Scheme)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	// The name leaves out the query, where a careless URL could carry a
	// secret.
	return &Webhook{cfg: cfg, name: "webhook:" + u.Scheme + "://" + u.Host + u.Path}, nil
}

// Name implements [Destination] and [audit.CheckpointSink].
func (w *Webhook) Name() string { return w.name }

// Deliver implements [Destination].
func (w *Webhook) Deliver(ctx context.Context, recs []store.AuditRecord) error {
	var body bytes.Buffer
	for _, r := range recs {
		body.Write(recordJSON(r))
		body.WriteByte('\n')
	}
	return w.post(ctx, body.Bytes())
}

// WriteCheckpoint implements [audit.CheckpointSink].
func (w *Webhook) WriteCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	return w.post(ctx, c.Line())
}

func (w *Webhook) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if w.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
	}
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return fmt.Errorf("%s: %w", w.name, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", w.name, resp.Status)
	}
	return nil
}
