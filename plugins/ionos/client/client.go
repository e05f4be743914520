// Package client calls the IONOS Cloud Panel API v1: X-TOKEN auth, bare
// JSON bodies, lists paged until a short page, the {type,message,errors}
// error body, and one rate limiter per API key shared by every caller.
package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/redact"
)

// DefaultBaseURL is the API's address.
const DefaultBaseURL = "https://cloudpanel-api.ionos.com/v1"

// Options configure a client.
type Options struct {
	BaseURL string
	Token   string
	Timeout time.Duration
	// MaxInFlight caps concurrent calls per key (4 if zero): the API
	// blocks bursts of simultaneous requests.
	MaxInFlight int
	// Poll is how often work at IONOS is checked until it is done (5 s
	// if zero).
	Poll time.Duration
	// MaxQueueWait bounds how long a call waits for the key's request
	// limit to reset (DefaultMaxQueueWait if zero): a longer wait (an
	// hourly limit) fails at once with the reset time, instead of the
	// bot's "did not answer in time". The bot does not count the wait
	// against the call's deadline, so it may cover a whole window.
	MaxQueueWait time.Duration
	// Sleep waits between retries of a read (a timer if nil); tests
	// replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultMaxQueueWait is how long a call waits for the request limit by
// default: longer than the API's one-minute window, with room for a
// reset the server rounds up, so that a burst of quick calls queues
// behind the window instead of failing; an hourly limit still fails at
// once.
const DefaultMaxQueueWait = 2 * time.Minute

// Client calls the API with one key.
type Client struct {
	http *httpapi.Client
	lim  *httpapi.WindowLimiter
	cat  *catalog.Catalog
	poll time.Duration
}

// SensitiveKeys hold secrets in requests and answers.
var SensitiveKeys = []string{"x-token", "first_password", "password", "key", "api_key", "allowed_ips", "kerberos_content_file",
	"config_zip_file", "user_data", "initial_password"}

var (
	limMu    sync.Mutex
	limiters = map[string]*httpapi.WindowLimiter{}
)

// limiterFor returns the limiter of an API key: the allowance belongs to
// the key, so every target and user sharing it waits in one queue.
func limiterFor(base, token string, inflight int, maxWait time.Duration) *httpapi.WindowLimiter {
	sum := sha256.Sum256([]byte(base + "\x00" + token))
	k := hex.EncodeToString(sum[:])
	limMu.Lock()
	defer limMu.Unlock()
	if l, ok := limiters[k]; ok {
		return l
	}
	l := httpapi.NewWindowLimiter(25, time.Minute)
	l.MaxInFlight = inflight
	l.MaxWait = maxWait
	limiters[k] = l
	return l
}

// New returns a client.
func New(o Options) (*Client, error) {
	if o.Token == "" {
		return nil, errors.New("secret api_key is required (an IONOS Cloud Panel API key)")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	h, err := httpapi.New(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		h.HTTP.Timeout = o.Timeout
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 4
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	h.Redactor.AddKeys(SensitiveKeys...)
	h.Redactor.AddSecret(o.Token)
	h.UserAgent = "deskbot-ionos"
	token := o.Token
	h.Authorize = func(r *http.Request) error {
		r.Header.Set("X-TOKEN", token)
		return nil
	}
	// A 429 is a refusal before any work: it is safe to send again once
	// the window resets, whatever the method.
	h.RetryRateLimited = true
	if o.MaxQueueWait <= 0 {
		o.MaxQueueWait = DefaultMaxQueueWait
	}
	h.Sleep = o.Sleep
	lim := limiterFor(h.BaseURL.String(), o.Token, o.MaxInFlight, o.MaxQueueWait)
	h.Limiter = lim
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	return &Client{http: h, lim: lim, cat: cat, poll: o.Poll}, nil
}

// Limiter returns the key's shared limiter.
func (c *Client) Limiter() *httpapi.WindowLimiter { return c.lim }

// Redactor returns the client's redactor.
func (c *Client) Redactor() *redact.Redactor { return c.http.Redactor }

// Poll returns how often work at IONOS is checked until it is done.
func (c *Client) Poll() time.Duration { return c.poll }

// Catalog returns the operation catalog.
func (c *Client) Catalog() *catalog.Catalog { return c.cat }

// APIError is an error the API answered with.
type APIError struct {
	Status  int
	Type    string
	Message string
	Errors  any
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := "IONOS: " + msg
	if e.Type != "" {
		s += " (" + e.Type + ")"
	}
	if e.Errors != nil {
		if b, err := json.Marshal(e.Errors); err == nil && string(b) != "null" && string(b) != "{}" {
			s += ": " + string(b)
		}
	}
	switch e.Status {
	case http.StatusUnauthorized:
		s += "; check the API key"
	case http.StatusNotAcceptable:
		s += "; the API key does not allow calls from this address"
	}
	return s
}

// NotFound reports whether err is the API saying the thing does not exist.
func NotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// Request is one call.
type Request struct {
	Method string
	// Path with its variables filled in: /servers/ABC/status.
	Path  string
	Query url.Values
	// Body is sent as JSON (nil: none; EmptyBody: {}).
	Body      any
	EmptyBody bool
}

// Response is an answer.
type Response struct {
	Status int
	Body   []byte
}

// endpoint finds the catalog operation a request calls and its
// declaration, with the path's variables (unescaped). A request that is
// no catalog operation is undeclared: the SDK sends it once.
func (c *Client) endpoint(r Request) (name string, e Endpoint, vars map[string]string) {
	path, _, _ := strings.Cut(r.Path, "?")
	o, vars, ok := c.cat.Match(r.Method, path)
	if !ok {
		return "", Endpoint{Effect: httpapi.Undeclared}, nil
	}
	for k, v := range vars {
		if u, err := url.PathUnescape(v); err == nil {
			vars[k] = u
		}
	}
	return o.Name, Endpoints[o.Name], vars
}

func (c *Client) request(r Request) *httpapi.Request {
	_, e, _ := c.endpoint(r)
	hr := &httpapi.Request{Method: r.Method, Path: r.Path, Query: r.Query, Effect: e.Effect}
	switch {
	case r.Body != nil:
		hr.JSON = r.Body
	case r.EmptyBody:
		hr.JSON = map[string]any{}
	}
	return hr
}

// CheckOf is the command that shows whether a change made by r happened,
// its variables filled in ("" for a read).
func (c *Client) CheckOf(r Request) string {
	_, e, vars := c.endpoint(r)
	check := e.Check
	for k, v := range vars {
		check = strings.ReplaceAll(check, "{"+k+"}", v)
	}
	return check
}

// Describe writes a call as a plan shows it, secrets masked.
func (c *Client) Describe(r Request) (method, endpoint, body string) {
	hr := c.request(r)
	method, endpoint = c.http.Describe(hr)
	if hr.JSON != nil {
		b, _ := json.Marshal(hr.JSON)
		body = string(c.http.Redactor.JSON(b))
	}
	return method, endpoint, body
}

// Do sends a call and decodes the answer into out (if not nil).
func (c *Client) Do(ctx context.Context, r Request, out any) (*Response, error) {
	resp, err := c.http.Do(ctx, c.request(r))
	if httpapi.OutcomeUnknown(err) {
		// A gateway's 502 or a lost connection after the change was
		// sent: never re-sent, and the user learns how to look.
		if check := c.CheckOf(r); check != "" {
			return nil, fmt.Errorf("%w; check with %s", err, check)
		}
		return nil, err
	}
	if err != nil {
		if resp != nil {
			return nil, c.apiError(resp)
		}
		return nil, err
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, fmt.Errorf("IONOS %s %s: the answer is not as documented: %v", r.Method, r.Path, err)
		}
	}
	return &Response{Status: resp.Status, Body: resp.Body}, nil
}

// apiError reads the error body; its keys come in either letter case.
func (c *Client) apiError(resp *httpapi.Response) error {
	var e struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Errors  any    `json:"errors"`
	}
	ae := &APIError{Status: resp.Status}
	if json.Unmarshal(resp.Body, &e) == nil {
		ae.Type, ae.Message, ae.Errors = e.Type, c.http.Redactor.String(e.Message), c.http.Redactor.Any(e.Errors)
	}
	return ae
}

// List reads every page of a collection (per_page items a page) into out,
// a pointer to a slice, with the SDK's pager: it ends at a short page, and
// fails clearly on a page it has already read (a server or proxy that
// ignores page/per_page) and at a cap, instead of collecting the same
// servers a thousand times.
func (c *Client) List(ctx context.Context, path string, query url.Values, perPage int, out any) error {
	if perPage <= 0 {
		perPage = 100
	}
	pager := httpapi.Pager[json.RawMessage]{
		Size: perPage,
		// A list of fewer than 10 is taken as whole: a page the API caps
		// would hold more, and a second request to find it empty spends
		// half of a per-minute allowance on nothing.
		MinCap: 10,
		Fetch: func(ctx context.Context, p httpapi.Page) ([]json.RawMessage, []byte, error) {
			q := url.Values{}
			for k, v := range query {
				q[k] = v
			}
			q.Set("page", strconv.Itoa(p.Number))
			q.Set("per_page", strconv.Itoa(p.Size))
			var items []json.RawMessage
			resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path, Query: q}, &items)
			if err != nil {
				return nil, nil, err
			}
			return items, resp.Body, nil
		},
		ID: func(item json.RawMessage) string {
			var v struct {
				ID any `json:"id"`
			}
			if json.Unmarshal(item, &v) != nil || v.ID == nil {
				// No id: the item itself names it.
				return string(item)
			}
			return fmt.Sprint(v.ID)
		},
	}
	all, err := pager.All(ctx)
	if err != nil {
		return fmt.Errorf("IONOS %s: %w", path, err)
	}
	b, _ := json.Marshal(all)
	return json.Unmarshal(b, out)
}

// Status is a resource's state.
type Status struct {
	State   string `json:"state"`
	Percent *int   `json:"percent"`
}

// Steady reports whether a state is a resting one.
func Steady(state string) bool {
	switch strings.ToUpper(state) {
	case "POWERED_ON", "POWERED_OFF", "ACTIVE", "COMPLETED", "ONLINE", "OFFLINE", "ENABLED", "DISABLED", "":
		return true
	}
	return false
}

// Status reads a status path (/servers/ID/status) once. Following work
// until it is done is the caller's: each read counts against the key's
// rate limit.
func (c *Client) Status(ctx context.Context, path string) (Status, error) {
	var st Status
	_, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path}, &st)
	return st, err
}

// Result is what one step of a command came to: the answer and, for work
// that goes on at IONOS after it (a 202), where that work ended.
type Result struct {
	*Response
	// Final is the steady state the work reached ("REMOVED" once a
	// deleted server is gone); "" if it was not followed or still runs.
	Final string
	// Still says the work was still running when the answer was due.
	Still bool
}

// Decode decodes the answer's body into v; an empty body leaves v as is.
func (r *Result) Decode(v any) error {
	if r.Response == nil || len(r.Body) == 0 {
		return nil
	}
	return json.Unmarshal(r.Body, v)
}

// Fill puts path variables into a catalog path, each escaped as one
// segment; an empty value, "." or ".." is refused before anything is
// sent (a normalising proxy would make it another resource).
func Fill(path string, vars map[string]string) (string, error) {
	var segs []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if strings.HasPrefix(s, "{") {
			name := strings.Trim(s, "{}")
			v, ok := vars[name]
			if !ok || v == "" {
				return "", fmt.Errorf("%s is required", name)
			}
			if v == "." || v == ".." {
				return "", fmt.Errorf("%s: %q is not an id", name, v)
			}
			s = v
		}
		segs = append(segs, s)
	}
	return httpapi.Path(segs...)
}

// Path joins segments into a request path, each escaped as one segment;
// an empty one, "." or ".." is refused.
func Path(segments ...string) (string, error) { return httpapi.Path(segments...) }
