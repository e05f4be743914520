// Package httpapi is the HTTP client plugins call their provider's REST API
// with: a timeout on every call, the caller's context honoured, retries with
// backoff for safe methods only, a rate limiter shared by all callers of one
// API key, and secrets scrubbed from every error and log line.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/sdk/redact"
)

// Limiter paces requests. *rate.Limiter satisfies it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Reserver is an optional Limiter extension for limiters that learn from
// answers (rate-limit headers, 429s). The client calls Reserve instead of
// Wait, sends the attempt at once, and then calls done exactly once with
// the answer, or with nil when none came. *WindowLimiter implements it.
type Reserver interface {
	Reserve(ctx context.Context) (done func(*http.Response), err error)
}

// Client calls one provider API. Configure it once per target and share it.
type Client struct {
	// BaseURL is prepended to request paths.
	BaseURL *url.URL
	// HTTP does the work; New gives it a 30 s timeout.
	HTTP *http.Client
	// Authorize adds credentials to each request (a header, a query token).
	Authorize func(*http.Request) error
	// Limiter, if set, is waited on before every attempt.
	Limiter Limiter
	// Redactor scrubs URLs, bodies and errors; New gives it the defaults.
	Redactor *redact.Redactor
	// MaxAttempts bounds tries of a safe request (GET, HEAD, OPTIONS).
	MaxAttempts int
	// RetryRateLimited re-sends any request, safe or not, answered with
	// 429: the provider refused it unprocessed. Leave it off unless the
	// API documents that.
	RetryRateLimited bool
	// MaxRetryWait caps how long a Retry-After is honoured.
	MaxRetryWait time.Duration
	UserAgent    string
	Log          *slog.Logger
}

// New returns a client for baseURL with safe defaults.
func New(baseURL string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("base URL %q is not an absolute http(s) URL", baseURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("base URL %q: scheme must be http or https", baseURL)
	}
	return &Client{
		BaseURL:      u,
		HTTP:         &http.Client{Timeout: 30 * time.Second},
		Redactor:     redact.New(),
		MaxAttempts:  3,
		MaxRetryWait: 2 * time.Minute,
		UserAgent:    "deskbot",
		Log:          slog.Default(),
	}, nil
}

// Request is one API call.
type Request struct {
	Method string
	// Path is joined to the base URL's path; it may carry a query.
	Path   string
	Query  url.Values
	Header http.Header
	// Body is sent as is; JSON, if set, is marshalled instead; Form, if
	// set, is sent url-encoded.
	Body        []byte
	ContentType string
	JSON        any
	Form        url.Values
	// NoRetry sends the request once even if its method is safe: for APIs
	// that change things over GET.
	NoRetry bool
}

// Response is a completed call.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is a non-2xx answer, or a failure to get one. Its text is scrubbed.
type Error struct {
	Method string
	URL    string // redacted
	Status int    // 0 when no answer came
	Body   string // redacted, truncated
	Err    error  // the transport error, if any
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
	}
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Safe reports whether an HTTP method is read-only and may be retried.
func Safe(method string) bool {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// URL returns the full URL a request goes to.
func (c *Client) URL(r *Request) *url.URL {
	u := *c.BaseURL
	path, rawQuery, _ := strings.Cut(r.Path, "?")
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(path, "/")
	u.RawPath = ""
	q, _ := url.ParseQuery(rawQuery)
	for k, vs := range r.Query {
		q[k] = append(q[k], vs...)
	}
	u.RawQuery = q.Encode()
	return &u
}

// Describe writes the call as a plan step shows it: method and redacted URL.
func (c *Client) Describe(r *Request) (method, endpoint string) {
	return strings.ToUpper(r.Method), c.Redactor.URL(c.URL(r))
}

// Do sends the request. A non-2xx answer is returned as *Error along with
// the response, so callers can decode provider error bodies.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = http.MethodGet
	}
	body, ctype, err := encodeBody(r)
	if err != nil {
		return nil, err
	}
	u := c.URL(r)
	attempts := 1
	safe := Safe(method) && !r.NoRetry
	if safe && c.MaxAttempts > 1 {
		attempts = c.MaxAttempts
	}
	var last error
	for try := 0; ; try++ {
		done, err := c.turn(ctx)
		if err != nil {
			return nil, c.fail(method, u, 0, nil, err)
		}
		resp, err := c.once(ctx, method, u, r.Header, body, ctype, done)
		if err != nil {
			last = c.fail(method, u, 0, nil, err)
			if ctx.Err() != nil || try+1 >= attempts {
				return nil, last
			}
			if werr := sleep(ctx, backoff(try)); werr != nil {
				return nil, last
			}
			continue
		}
		if resp.Status >= 200 && resp.Status < 300 {
			return resp, nil
		}
		last = c.fail(method, u, resp.Status, resp.Body, nil)
		retryable := resp.Status == http.StatusTooManyRequests && (safe || c.RetryRateLimited) ||
			safe && (resp.Status == http.StatusBadGateway || resp.Status == http.StatusServiceUnavailable || resp.Status == http.StatusGatewayTimeout)
		limit := attempts
		if resp.Status == http.StatusTooManyRequests && c.RetryRateLimited {
			limit = max(attempts, 5)
		}
		if !retryable || try+1 >= limit {
			return resp, last
		}
		wait := backoff(try)
		if ra := retryAfter(resp.Header); ra > 0 {
			wait = min(ra, c.MaxRetryWait)
		}
		c.Log.Info("provider asked to retry", "method", method, "url", c.Redactor.URL(u), "status", resp.Status, "wait", wait)
		if werr := sleep(ctx, wait); werr != nil {
			return resp, last
		}
	}
}

// turn waits for the limiter; done reports the attempt's answer to it.
func (c *Client) turn(ctx context.Context) (done func(*http.Response), err error) {
	switch l := c.Limiter.(type) {
	case nil:
	case Reserver:
		return l.Reserve(ctx)
	default:
		if err := l.Wait(ctx); err != nil {
			return nil, err
		}
	}
	return func(*http.Response) {}, nil
}

// once sends one attempt and tells done its answer (nil if none came).
func (c *Client) once(ctx context.Context, method string, u *url.URL, h http.Header, body []byte, ctype string, done func(*http.Response)) (*Response, error) {
	observed := false
	defer func() {
		if !observed {
			done(nil)
		}
	}()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.UserAgent)
	if c.Authorize != nil {
		if err := c.Authorize(req); err != nil {
			return nil, fmt.Errorf("authorize: %w", err)
		}
	}
	start := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	observed = true
	done(resp)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	c.Log.Debug("provider call", "method", method, "url", c.Redactor.URL(u), "status", resp.StatusCode, "duration", time.Since(start))
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

func (c *Client) fail(method string, u *url.URL, status int, body []byte, err error) error {
	e := &Error{Method: method, URL: c.Redactor.URL(u), Status: status}
	if err != nil {
		// Transport errors quote the URL, query and all: scrub them too.
		e.Err = errors.New(c.Redactor.String(scrubURLs(err.Error(), u, c.Redactor)))
		if errors.Is(err, context.DeadlineExceeded) {
			e.Err = fmt.Errorf("%w", context.DeadlineExceeded)
		} else if errors.Is(err, context.Canceled) {
			e.Err = fmt.Errorf("%w", context.Canceled)
		}
	}
	if len(body) > 0 {
		s := string(c.Redactor.JSON(body))
		if len(s) > 500 {
			s = s[:500] + "…"
		}
		e.Body = s
	}
	return e
}

func scrubURLs(msg string, u *url.URL, r *redact.Redactor) string {
	return strings.ReplaceAll(msg, u.String(), r.URL(u))
}

// JSON sends r and decodes a 2xx JSON answer into out (if non-nil).
func (c *Client) JSON(ctx context.Context, r *Request, out any) (*Response, error) {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return resp, err
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, fmt.Errorf("%s %s: the provider sent a response that is not the JSON expected: %v", strings.ToUpper(r.Method), c.Redactor.URL(c.URL(r)), err)
		}
	}
	return resp, nil
}

func encodeBody(r *Request) ([]byte, string, error) {
	switch {
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, "", fmt.Errorf("encode request body: %w", err)
		}
		return b, "application/json", nil
	case r.Form != nil:
		return []byte(r.Form.Encode()), "application/x-www-form-urlencoded", nil
	case r.Body != nil:
		return r.Body, r.ContentType, nil
	}
	return nil, "", nil
}

func backoff(try int) time.Duration {
	d := 200 * time.Millisecond << try
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	return d/2 + rand.N(d/2+1)
}

func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
