package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/redact"
)

// DefaultBaseURL is the API root.
const DefaultBaseURL = "https://cln.cloudlinux.com/api"

// Edition picks which reference's conventions differing endpoints follow.
type Edition int

const (
	// Newer is the current reference: ELS calls take productType and use
	// POST, PUT and DELETE; server.json takes up to 100 IPs.
	Newer Edition = iota
	// Older is the earlier reference: ELS calls take code and use GET;
	// server.json takes one IP.
	Older
)

func (e Edition) String() string {
	if e == Older {
		return "older"
	}
	return "newer"
}

// Options configure a client.
type Options struct {
	BaseURL string
	Login   string
	Secret  string
	// IPLRoot is the IP-licence path root: "/ipl" (default) or "/ip".
	IPLRoot string
	Edition Edition
	// Now is the clock tokens are made from.
	Now func() time.Time
	// HTTP, if set, replaces the default HTTP client (tests).
	HTTP *http.Client
	// Sleep, if set, waits between attempts of a read (tests).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls the CLN API for one account.
type Client struct {
	http    *httpapi.Client
	login   string
	secret  string
	iplRoot string
	edition Edition
	now     func() time.Time
}

// New returns a client. The secret key is registered with the client's
// redactor, so it can never appear in an error or a log line.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.Login == "" || o.Secret == "" {
		return nil, errors.New("a CLN login and secret key are required")
	}
	h, err := httpapi.New(o.BaseURL)
	if err != nil {
		return nil, err
	}
	if o.HTTP != nil {
		h.HTTP = o.HTTP
	}
	h.Sleep = o.Sleep
	h.Redactor.AddSecret(o.Secret)
	h.UserAgent = "deskbot-cln"
	root := "/" + strings.Trim(o.IPLRoot, "/")
	if root == "/" {
		root = "/ipl"
	}
	if root != "/ipl" && root != "/ip" {
		return nil, fmt.Errorf("ipl_root %q: want /ipl or /ip", o.IPLRoot)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{http: h, login: o.Login, secret: o.Secret, iplRoot: root, edition: o.Edition, now: o.Now}, nil
}

// Edition returns the edition the client follows.
func (c *Client) Edition() Edition { return c.edition }

// Redactor returns the client's redactor.
func (c *Client) Redactor() *redact.Redactor { return c.http.Redactor }

// Endpoint is one API call, before the token is added.
type Endpoint struct {
	Method string
	Path   string
	Query  url.Values
	// Effect says whether the call reads or changes, whatever its method:
	// CLN creates and removes with GET. A change is sent once and never
	// retried (see httpapi.Effect).
	Effect httpapi.Effect
	// Check says how a user sees whether a change was done, when CLN's
	// answer was lost on the way.
	Check string
	// JSON is a request body (PATCH /v2/features/account).
	JSON any
	// Plain marks endpoints answering plain text.
	Plain bool
	// TokenInPath puts the token into the path instead of the query
	// (/kcare/nagios-res/{login}/{token}).
	TokenInPath bool
}

// reads is a call that changes nothing; it may be retried.
func reads(method, path string, kv ...string) Endpoint {
	return Endpoint{Method: method, Path: path, Query: query(kv), Effect: httpapi.Reads}
}

// changes is a call that changes something, sent once whatever its
// method; check says how to see whether it was done.
func changes(check, method, path string, kv ...string) Endpoint {
	return Endpoint{Method: method, Path: path, Query: query(kv), Effect: httpapi.Changes, Check: check}
}

func query(kv []string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

// Describe writes an endpoint the way a plan shows it: the exact method
// and URL, with the token redacted and licence keys shortened.
func (c *Client) Describe(e Endpoint) (method, endpoint string) {
	q := url.Values{}
	for k, v := range e.Query {
		q[k] = append([]string(nil), v...)
	}
	if k := q.Get("key"); k != "" {
		q.Set("key", redact.Partial(k))
	}
	path := e.Path
	if e.TokenInPath {
		path += "/" + redact.Mask
	} else if e.Path != "/status.json" && e.Path != "/status.plain" && !strings.HasPrefix(e.Path, "/kcare/nagios/") {
		q.Set("token", redact.Mask)
	}
	u := c.http.URL(&httpapi.Request{Path: path})
	u.RawQuery = encodeSorted(q)
	s := strings.ReplaceAll(u.String(), "%5BREDACTED%5D", redact.Mask)
	if e.JSON != nil {
		b, _ := json.Marshal(e.JSON)
		s += " " + string(b)
	}
	return e.Method, s
}

func encodeSorted(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "%5BREDACTED%5D", "[REDACTED]"))
		}
	}
	return strings.Join(parts, "&")
}

// APIError is a failure the CLN API reported (success:false), or a
// success that means failure (data:false, a non-zero code).
type APIError struct {
	Path    string
	Message string
}

func (e *APIError) Error() string { return e.Message }

// ErrNotFound is wrapped by errors for things that do not exist or are
// not the account's.
var ErrNotFound = errors.New("not found")

type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }
func (e *notFound) Unwrap() error { return ErrNotFound }

// envelope is the JSON answer's shape: {success, message, data}.
type envelope struct {
	Success *bool           `json:"success"`
	Message *string         `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// raw sends e and returns the body. Errors name the call without secrets.
func (c *Client) raw(ctx context.Context, e Endpoint) ([]byte, error) {
	token := Token(c.login, c.secret, c.now().Unix())
	q := url.Values{}
	for k, v := range e.Query {
		q[k] = v
	}
	path := e.Path
	h := c.http
	if e.TokenInPath {
		path += "/" + token
		// This one token is in a path, where key-name rules cannot see it.
		cp := *c.http
		cp.Redactor = c.http.Redactor.With(token, url.PathEscape(token))
		h = &cp
	} else if e.Path != "/status.json" && e.Path != "/status.plain" && !strings.HasPrefix(e.Path, "/kcare/nagios/") {
		q.Set("token", token)
	}
	req := &httpapi.Request{Method: e.Method, Path: path, Query: q, JSON: e.JSON, Effect: e.Effect}
	if e.Plain {
		req.Header = http.Header{"Accept": {"text/plain"}}
	}
	resp, err := h.Do(ctx, req)
	if httpapi.OutcomeUnknown(err) {
		check := e.Check
		if check == "" {
			check = "CLN's own panel"
		}
		return nil, fmt.Errorf("CLN %s: %w; to see whether it was done, use %s", e.Path, err, check)
	}
	if err != nil {
		// A JSON error body with success:false says more than the status.
		var he *httpapi.Error
		if errors.As(err, &he) && resp != nil {
			if msg, ok := failureMessage(resp.Body); ok {
				return nil, &APIError{Path: e.Path, Message: "CLN: " + h.Redactor.String(msg)}
			}
		}
		return nil, err
	}
	return resp.Body, nil
}

func failureMessage(body []byte) (string, bool) {
	var env envelope
	if json.Unmarshal(body, &env) == nil && env.Success != nil && !*env.Success {
		if env.Message != nil && *env.Message != "" {
			return *env.Message, true
		}
		return "the request failed", true
	}
	return "", false
}

// Do sends e and decodes the answer into out. An enveloped answer with
// success:false becomes an *APIError carrying the API's message; an
// answer without an envelope (some v2 endpoints) is decoded whole.
func (c *Client) Do(ctx context.Context, e Endpoint, out any) error {
	body, err := c.raw(ctx, e)
	if err != nil {
		return err
	}
	return decodeEnvelope(e.Path, body, out, c.http.Redactor)
}

func decodeEnvelope(path string, body []byte, out any, r *redact.Redactor) error {
	trimmed := bytes.TrimSpace(body)
	data := trimmed
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var env envelope
		if err := json.Unmarshal(trimmed, &env); err == nil && env.Success != nil {
			if !*env.Success {
				msg := "the request failed"
				if env.Message != nil && *env.Message != "" {
					msg = *env.Message
				}
				return &APIError{Path: path, Message: "CLN: " + r.String(msg)}
			}
			data = env.Data
		}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("CLN %s: the answer is not what the API documents: %v", path, err)
	}
	return nil
}

// isNullData reports whether an enveloped answer's data is null.
func isNullData(body []byte) bool {
	var env envelope
	return json.Unmarshal(body, &env) == nil && (len(env.Data) == 0 || string(bytes.TrimSpace(env.Data)) == "null")
}

func messageOf(body []byte) string {
	var env envelope
	if json.Unmarshal(body, &env) == nil && env.Message != nil {
		return *env.Message
	}
	return ""
}

// Plain is a decoded .plain answer.
type Plain struct {
	Success bool
	Message string
	// Fields are the other "name:value" lines, and "name:value" pairs of
	// the first line ("success:true code:0").
	Fields map[string]string
	Order  []string
}

// ParsePlain reads a .plain answer: "success:true|false" first, an
// optional "message:..." line, then endpoint-specific "name:value" lines.
func ParsePlain(body string) (Plain, error) {
	p := Plain{Fields: map[string]string{}}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	first := strings.TrimSpace(lines[0])
	if !strings.HasPrefix(first, "success:") {
		return p, errors.New("a .plain answer must start with success:")
	}
	var msgLines []string
	inMessage := false
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if i == 0 {
			for _, f := range strings.Fields(line) {
				k, v, pair := strings.Cut(f, ":")
				if !pair {
					continue // not a name:value pair
				}
				switch k {
				case "success":
					p.Success = v == "true"
				case "message":
					// The message runs to the end of the line, spaces and all.
					inMessage = true
					_, text, _ := strings.Cut(line, "message:")
					msgLines = append(msgLines, strings.TrimSpace(text))
				default:
					p.Fields[k] = v
					p.Order = append(p.Order, k)
				}
				if inMessage {
					break
				}
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if k == "message" {
			inMessage = true
			msgLines = append(msgLines, strings.TrimSpace(v))
			continue
		}
		if !ok || strings.ContainsAny(k, " (") {
			if inMessage {
				msgLines = append(msgLines, line)
			}
			continue
		}
		inMessage = false
		// Drop the reference's "// comment" tails.
		v, _, _ = strings.Cut(v, "//")
		p.Fields[k] = strings.TrimSuffix(strings.TrimSpace(v), ",")
		p.Order = append(p.Order, k)
	}
	p.Message = strings.Join(msgLines, " ")
	return p, nil
}
