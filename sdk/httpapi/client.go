// Package httpapi is the HTTP client plugins call their provider's REST API
// with: a timeout on every call, the caller's context honoured, retries with
// backoff for requests declared reading only, a rate limiter shared by all
// callers of one API key, and secrets scrubbed from every error and log line.
//
// Its outbound rules hold for every provider: a request that changes
// something is sent once and never again (whatever its HTTP method), and a
// failure after it may have reached the provider is reported as
// [ErrOutcomeUnknown]; no request follows a redirect to another host, so
// credentials stay with the provider; plain http is allowed to loopback
// only; and a path with an empty, "." or ".." segment is never sent.
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
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	// MaxAttempts bounds tries of a request declared [Reads].
	MaxAttempts int
	// RetryRateLimited re-sends any request, reading or changing,
	// answered with 429: the provider refused it unprocessed. Leave it off
	// unless the API documents that.
	RetryRateLimited bool
	// MaxRetryWait caps how long a Retry-After is honoured.
	MaxRetryWait time.Duration
	UserAgent    string
	Log          *slog.Logger
	// Sleep waits between attempts (a timer honouring ctx if nil). Tests
	// replace it so that no test depends on how fast the machine is.
	Sleep func(ctx context.Context, d time.Duration) error

	// fresh caches, per transport, the copy changing requests use.
	fresh *sync.Map
}

// New returns a client for baseURL with safe defaults. The URL must be
// https, or plain http to a loopback address (a simulator, a test server).
func New(baseURL string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("base URL %q is not an absolute http(s) URL", baseURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("base URL %q: scheme must be http or https", baseURL)
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	if u.User != nil {
		return nil, fmt.Errorf("base URL %s: put credentials in the target's secrets, not in the URL", redact.New().URL(u))
	}
	return &Client{
		fresh:        &sync.Map{},
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
	// Effect declares what the request does to the provider's state,
	// whatever its method: CLN changes things with GET. Only a request
	// declared Reads is ever sent twice; see [Effect].
	Effect Effect
}

// Effect is what a request does to the provider's state.
type Effect int

const (
	// Undeclared is treated as Changes. A request nobody has checked may
	// change something (CLN creates licence keys with GET); sending it
	// once costs at most a failed read the user can repeat, while sending
	// a change twice can bill a key twice or resize a backup twice.
	Undeclared Effect = iota
	// Reads changes nothing: it may be retried after a network failure,
	// a 502/503/504 or a 429.
	Reads
	// Changes is sent once. A failure after it may have reached the
	// provider is reported as [ErrOutcomeUnknown]; a 429 is re-sent only
	// with [Client.RetryRateLimited].
	Changes
)

func (e Effect) String() string {
	switch e {
	case Reads:
		return "reads"
	case Changes:
		return "changes"
	}
	return "undeclared"
}

// ErrOutcomeUnknown is wrapped by the error of a changing request that
// failed after it may have reached the provider: a transport error once
// the request was written, a reset, a timeout, or a 502/503/504 from a
// gateway that may have passed it on. It was not re-sent. Providers wrap
// it with how the user can check what happened before trying again.
var ErrOutcomeUnknown = errors.New("the outcome is unknown: the provider may have carried the request out, so check before trying again")

// ErrRedirectRefused is wrapped by the error of a request the provider
// redirected to another host (or from https to http): it is not followed,
// so no credential reaches a host the target was not configured with.
var ErrRedirectRefused = errors.New("redirect to another host refused")

// ErrBadPath is wrapped by the error of a request whose path has an empty,
// "." or ".." segment; nothing is sent.
var ErrBadPath = errors.New("path segment refused")

// Path joins segments into a request path, escaping each one, so that an
// id with "/" or "?" stays one segment. An empty segment, "." or ".." is
// refused: a normalising proxy would turn it into another resource.
//
//	p, err := httpapi.Path("servers", id, "snapshots", snapshotID)
func Path(segments ...string) (string, error) {
	var b strings.Builder
	for i, s := range segments {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("%w: segment %d of the path is %q", ErrBadPath, i+1, s)
		}
		b.WriteString("/")
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), nil
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
	// OutcomeUnknown is set for a changing request that may have been
	// carried out; the error then wraps ErrOutcomeUnknown.
	OutcomeUnknown bool
	// body is the whole answer, redacted, for ErrorBody.
	body []byte
}

// ErrorBody decodes the body of the provider's error answer that err
// reports (an [*Error] with a status, anywhere in err's chain) into T, the
// provider's own error shape, with secrets masked as in the error's text:
//
//	type apiError struct{ Code, Message string }
//	if e, ok := httpapi.ErrorBody[apiError](err); ok && e.Code == "NOT_FOUND" { ... }
//
// ok is false when err carries no answer, or its body is not T's JSON.
func ErrorBody[T any](err error) (T, bool) {
	var out T
	var e *Error
	if !errors.As(err, &e) || len(e.body) == 0 {
		return out, false
	}
	if json.Unmarshal(e.body, &out) != nil {
		return out, false
	}
	return out, true
}

func (e *Error) Error() string {
	var msg string
	if e.Status == 0 {
		msg = fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
	} else {
		msg = fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Status)
		if e.Body != "" {
			msg += ": " + e.Body
		}
	}
	if e.OutcomeUnknown {
		msg += "; " + ErrOutcomeUnknown.Error()
	}
	return msg
}

func (e *Error) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.OutcomeUnknown {
		errs = append(errs, ErrOutcomeUnknown)
	}
	return errs
}

// OutcomeUnknown reports whether err says a change may have been carried
// out although the call failed.
func OutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

// URL returns the full URL a request goes to. The request's path is taken
// as escaped (as [Path] makes it); one that is not valid escaping is
// escaped whole.
func (c *Client) URL(r *Request) *url.URL {
	u := *c.BaseURL
	path, rawQuery, _ := strings.Cut(r.Path, "?")
	escaped := strings.TrimSuffix(c.BaseURL.EscapedPath(), "/") + "/" + strings.TrimPrefix(path, "/")
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = p, escaped
	} else {
		u.Path = strings.TrimSuffix(c.BaseURL.Path, "/") + "/" + strings.TrimPrefix(path, "/")
		u.RawPath = ""
	}
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

// DescribeStep writes the call as a plan step shows it, for approvers to
// read before it is made: method, redacted URL and the body it would
// send ("" for none), with values under sensitive keys and the client's
// secrets masked. A JSON body is shown as JSON (every document of a
// stream), a form as a query string.
func (c *Client) DescribeStep(r *Request) (method, endpoint, body string) {
	method, endpoint = c.Describe(r)
	b, ctype, err := encodeBody(r)
	switch {
	case err != nil:
		body = c.Redactor.String(err.Error())
	case len(b) == 0:
	case r.JSON == nil && r.Form != nil:
		body = c.Redactor.Query(r.Form).Encode()
	default:
		// A raw body by its content type: a form's fields and a JSON
		// document's keys are masked by the same rule as above.
		body = c.Redactor.Body(b, ctype)
	}
	return method, endpoint, body
}

// Do sends the request. A non-2xx answer is returned as *Error along with
// the response, so callers can decode provider error bodies.
//
// A request declared [Reads] is retried after a transport failure, a
// 502/503/504 or a 429, up to MaxAttempts. Any other request is sent once:
// a 429 is re-sent only with RetryRateLimited, and a failure after it may
// have reached the provider wraps [ErrOutcomeUnknown].
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = http.MethodGet
	}
	u := c.URL(r)
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	if err := checkSegments(u); err != nil {
		return nil, fmt.Errorf("%s %s: %w; nothing was sent", method, c.Redactor.URL(u), err)
	}
	body, ctype, err := encodeBody(r)
	if err != nil {
		return nil, err
	}
	reads := r.Effect == Reads
	attempts := 1
	if reads && c.MaxAttempts > 1 {
		attempts = c.MaxAttempts
	}
	var last error
	for try := 0; ; try++ {
		done, err := c.turn(ctx)
		if err != nil {
			return nil, c.fail(method, u, 0, nil, err, false)
		}
		resp, sent, err := c.once(ctx, method, u, r.Header, body, ctype, !reads, done)
		if err != nil {
			// A refused redirect was an answer: the provider did not do
			// the work here, so the outcome is known.
			unknown := !reads && sent && !errors.Is(err, ErrRedirectRefused)
			last = c.fail(method, u, 0, nil, err, unknown)
			if !reads || ctx.Err() != nil || try+1 >= attempts || errors.Is(err, ErrRedirectRefused) {
				return nil, last
			}
			if werr := c.sleep(ctx, backoff(try)); werr != nil {
				return nil, last
			}
			continue
		}
		if resp.Status >= 200 && resp.Status < 300 {
			return resp, nil
		}
		gateway := resp.Status == http.StatusBadGateway || resp.Status == http.StatusServiceUnavailable || resp.Status == http.StatusGatewayTimeout
		last = c.fail(method, u, resp.Status, resp.Body, nil, !reads && gateway)
		retryable := resp.Status == http.StatusTooManyRequests && (reads || c.RetryRateLimited) || reads && gateway
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
		if werr := c.sleep(ctx, wait); werr != nil {
			return resp, last
		}
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return sleep(ctx, d)
}

// checkScheme allows https anywhere and plain http to loopback only:
// credentials and changes never cross a network in clear text.
func checkScheme(u *url.URL) error {
	if u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname()) {
		return nil
	}
	if u.Scheme == "http" {
		return fmt.Errorf("base URL %s: plain http is allowed only to loopback (127.0.0.1, ::1, localhost); use https", redact.New().URL(&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}))
	}
	return fmt.Errorf("base URL %s: scheme must be http or https", redact.New().URL(&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSegments refuses a path with a "." or ".." segment, escaped or not,
// and an empty segment inside it: a normalising proxy or server would
// resolve it to another resource than the one named.
func checkSegments(u *url.URL) error {
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i, s := range segs {
		p, err := url.PathUnescape(s)
		if err != nil {
			p = s
		}
		if p == "." || p == ".." || s == "" && i < len(segs)-1 {
			return fmt.Errorf("%w: %q", ErrBadPath, p)
		}
	}
	return nil
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
// sent reports whether the request may have reached the server: its
// headers were written.
func (c *Client) once(ctx context.Context, method string, u *url.URL, h http.Header, body []byte, ctype string, changes bool, done func(*http.Response)) (resp *Response, sent bool, err error) {
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
	var wrote sync.Once
	written := make(chan struct{})
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Do(func() { close(written) }) }})
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, false, err
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
			return nil, false, fmt.Errorf("authorize: %w", err)
		}
	}
	start := time.Now()
	hr, err := c.httpClient(u, changes).Do(req)
	if err != nil {
		select {
		case <-written:
			sent = true
		default:
		}
		return nil, sent, err
	}
	defer hr.Body.Close()
	observed = true
	done(hr)
	b, err := io.ReadAll(io.LimitReader(hr.Body, 64<<20))
	if err != nil {
		return nil, true, fmt.Errorf("read response: %w", err)
	}
	c.Log.Debug("provider call", "method", method, "url", c.Redactor.URL(u), "status", hr.StatusCode, "duration", time.Since(start))
	return &Response{Status: hr.StatusCode, Header: hr.Header, Body: b}, true, nil
}

// httpClient is c.HTTP with the redirect rule for a request to u, and for a
// changing request a transport that opens a new connection: Go's transport
// silently re-sends a GET whose reused connection fails after it was
// written, and a change must never be sent twice.
func (c *Client) httpClient(u *url.URL, changes bool) *http.Client {
	hc := http.Client{}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	hc.CheckRedirect = sameHost(u, c.Redactor, hc.CheckRedirect)
	if changes {
		hc.Transport = c.freshTransport(hc.Transport)
	}
	return &hc
}

func (c *Client) freshTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		// A transport of the caller's own (a test's): it decides.
		return rt
	}
	if c.fresh != nil {
		if f, ok := c.fresh.Load(t); ok {
			return f.(http.RoundTripper)
		}
	}
	f := t.Clone()
	f.DisableKeepAlives = true
	if c.fresh != nil {
		got, _ := c.fresh.LoadOrStore(t, f)
		return got.(http.RoundTripper)
	}
	return f
}

// sameHost follows redirects only on the request's own scheme and host:
// Go's client carries custom headers (X-TOKEN) across hosts, and a query
// token is in the URL the provider chose, so refusing is the one safe
// answer.
func sameHost(orig *url.URL, r *redact.Redactor, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != orig.Scheme || !strings.EqualFold(req.URL.Host, orig.Host) {
			to := &url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path}
			return fmt.Errorf("%w: the provider answered with a redirect to %s; it is not followed, so that no credential leaves %s (check the target's base_url)", ErrRedirectRefused, r.URL(to), orig.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

func (c *Client) fail(method string, u *url.URL, status int, body []byte, err error, unknown bool) error {
	e := &Error{Method: method, URL: c.Redactor.URL(u), Status: status, OutcomeUnknown: unknown}
	if err != nil {
		// Transport errors quote the URL, query and all: scrub them too.
		e.Err = errors.New(c.Redactor.String(scrubURLs(err.Error(), u, c.Redactor)))
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			e.Err = fmt.Errorf("%w", context.DeadlineExceeded)
		case errors.Is(err, context.Canceled):
			e.Err = fmt.Errorf("%w", context.Canceled)
		case errors.Is(err, ErrQueueTooLong):
			// Refused before sending; it names only a time.
			e.Err = err
		case errors.Is(err, ErrRedirectRefused):
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			e.Err = fmt.Errorf("%w", err)
		}
	}
	if len(body) > 0 {
		e.body = c.Redactor.JSON(body)
		s := string(e.body)
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
