// Package client calls a CloudFlow control panel, which speaks OnApp's
// REST API: HTTP Basic (account e-mail and API key, or user and
// password), .json paths, objects wrapped in their type name both ways,
// page/per_page lists, {"errors": ...} bodies, and actions queued as
// transactions, which a caller reads (Queued) until they end.
package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Options configure a client.
type Options struct {
	// BaseURL is the control panel's address (https://cp.example.com).
	BaseURL string
	// User is the account e-mail (with an API key) or the login (with a
	// password); Password is the API key or the password.
	User, Password string
	Timeout        time.Duration
}

// Client calls one control panel.
type Client struct {
	http *httpapi.Client
}

// SensitiveKeys hold secrets in OnApp answers.
var SensitiveKeys = []string{"initial_root_password", "remote_access_password", "initial_root_password_encryption_key",
	"encryption_key", "api_key", "password", "remote_access_session", "authorization"}

// New returns a client.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		return nil, errors.New("setting base_url is required (the control panel's address)")
	}
	if o.User == "" {
		return nil, errors.New("setting user is required (the account e-mail or login)")
	}
	if o.Password == "" {
		return nil, errors.New("secret api_key (or password) is required")
	}
	h, err := httpapi.New(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		h.HTTP.Timeout = o.Timeout
	}
	h.Redactor.AddKeys(SensitiveKeys...)
	h.Redactor.AddSecret(o.Password, base64.StdEncoding.EncodeToString([]byte(o.User+":"+o.Password)))
	h.UserAgent = "deskbot-cloudflow"
	user, pass := o.User, o.Password
	h.Authorize = func(r *http.Request) error {
		r.SetBasicAuth(user, pass)
		return nil
	}
	return &Client{http: h}, nil
}

// Redactor returns the client's redactor.
func (c *Client) Redactor() *redact.Redactor { return c.http.Redactor }

// APIError is an error the control panel answered with.
type APIError struct {
	Status   int
	Messages []string
}

func (e *APIError) Error() string {
	var what string
	switch e.Status {
	case http.StatusForbidden:
		what = "the request was understood but not allowed"
	case http.StatusNotFound:
		what = "not found"
	case http.StatusUnprocessableEntity:
		what = "invalid parameters"
	case http.StatusInternalServerError:
		what = "the control panel failed; its support should look at it"
	case http.StatusUnauthorized:
		what = "the user or API key is wrong"
	default:
		what = fmt.Sprintf("HTTP %d", e.Status)
	}
	if len(e.Messages) > 0 {
		return "CloudFlow: " + what + ": " + strings.Join(e.Messages, "; ")
	}
	return "CloudFlow: " + what
}

// NotFound reports whether err says the thing does not exist.
func NotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// errorMessages reads {"errors": {"field": ["msg"]}}, {"errors": ["msg"]}
// and {"error": "msg"}.
func errorMessages(body []byte) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	var out []string
	if raw, ok := top["errors"]; ok {
		var byField map[string]any
		var list []any
		switch {
		case json.Unmarshal(raw, &byField) == nil:
			keys := make([]string, 0, len(byField))
			for k := range byField {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, m := range asList(byField[k]) {
					if k == "base" {
						out = append(out, m)
					} else {
						out = append(out, k+" "+m)
					}
				}
			}
		case json.Unmarshal(raw, &list) == nil:
			for _, m := range list {
				out = append(out, fmt.Sprint(m))
			}
		}
	}
	if raw, ok := top["error"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func asList(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

// Request is one call. Path is without ".json" (it is added).
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Root and Body: the body is sent wrapped, {"virtual_machine": Body}.
	Root string
	Body any
}

func (c *Client) request(r Request) *httpapi.Request {
	hr := &httpapi.Request{Method: r.Method, Path: r.Path + ".json", Query: r.Query, Effect: httpapi.Changes}
	// Stopgap until every CloudFlow endpoint is declared: OnApp changes
	// nothing with GET.
	if r.Method == http.MethodGet {
		hr.Effect = httpapi.Reads
	}
	if r.Body != nil {
		if r.Root != "" {
			hr.JSON = map[string]any{r.Root: r.Body}
		} else {
			hr.JSON = r.Body
		}
	} else if r.Method == http.MethodPost || r.Method == http.MethodPut {
		hr.JSON = map[string]any{}
	}
	return hr
}

// Describe writes a call as a plan shows it, secrets masked.
func (c *Client) Describe(r Request) (method, endpoint, body string) {
	hr := c.request(r)
	method, endpoint = c.http.Describe(hr)
	if hr.JSON != nil {
		b, _ := json.Marshal(hr.JSON)
		if string(b) != "{}" {
			body = string(c.http.Redactor.JSON(b))
		}
	}
	return method, endpoint, body
}

// Result is what one call brought back.
type Result struct {
	Status int
	// Body is the answer with OnApp's wrapper removed.
	Body json.RawMessage
	// Transactions are those an action queued, oldest first, as far as
	// they were followed; StillRunning says following stopped before
	// they all ended.
	Transactions []Transaction
	StillRunning bool
}

// Decode reads the answer into v; an empty answer leaves v as it is.
func (r *Result) Decode(v any) error {
	if len(r.Body) == 0 {
		return nil
	}
	return json.Unmarshal(r.Body, v)
}

// Call sends a call and returns its answer.
func (c *Client) Call(ctx context.Context, r Request) (*Result, error) {
	var body json.RawMessage
	status, err := c.Do(ctx, r, &body)
	if err != nil {
		return nil, err
	}
	return &Result{Status: status, Body: body}, nil
}

// Do sends a call; out, if set, receives the answer with its wrapper
// removed ({"virtual_machine": {...}} or a list of such).
func (c *Client) Do(ctx context.Context, r Request, out any) (int, error) {
	resp, err := c.http.Do(ctx, c.request(r))
	if err != nil {
		if resp != nil {
			return resp.Status, &APIError{Status: resp.Status, Messages: redactAll(c.http.Redactor, errorMessages(resp.Body))}
		}
		return 0, err
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(Unwrap(resp.Body), out); err != nil {
			return resp.Status, fmt.Errorf("CloudFlow %s %s: the answer is not as expected: %v", r.Method, r.Path, err)
		}
	}
	return resp.Status, nil
}

func redactAll(r *redact.Redactor, msgs []string) []string {
	for i := range msgs {
		msgs[i] = r.String(msgs[i])
	}
	return msgs
}

// Unwrap removes OnApp's type wrappers: {"x": {...}} becomes {...}, and
// [{"x": {...}}, ...] becomes [{...}, ...]. Anything else is returned as is.
func Unwrap(body []byte) []byte {
	var one map[string]json.RawMessage
	if json.Unmarshal(body, &one) == nil && len(one) == 1 {
		for _, v := range one {
			if len(v) > 0 && v[0] == '{' {
				return v
			}
		}
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(body, &list) == nil {
		out := make([]json.RawMessage, 0, len(list))
		for _, m := range list {
			if len(m) != 1 {
				return body
			}
			for _, v := range m {
				out = append(out, v)
			}
		}
		b, _ := json.Marshal(out)
		return b
	}
	return body
}

// List reads every page of a list (per_page items a page, until a short one).
func (c *Client) List(ctx context.Context, path string, out any) error {
	const per = 100
	var all []json.RawMessage
	for page := 1; page <= 1000; page++ {
		var items []json.RawMessage
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(per)}}
		if _, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path, Query: q}, &items); err != nil {
			return err
		}
		all = append(all, items...)
		if len(items) < per {
			break
		}
	}
	b, _ := json.Marshal(all)
	return json.Unmarshal(b, out)
}

// Transaction is a queued piece of work.
type Transaction struct {
	ID         int    `json:"id"`
	Action     string `json:"action"`
	Status     string `json:"status"`
	ParentID   int    `json:"parent_id"`
	ParentType string `json:"parent_type"`
	CreatedAt  string `json:"created_at"`
	StartedAt  string `json:"started_at"`
	UpdatedAt  string `json:"updated_at"`
}

// Final reports whether a transaction status is an end.
func Final(status string) bool {
	switch status {
	case "complete", "failed", "cancelled":
		return true
	}
	return false
}

// Transactions lists a virtual machine's transactions, newest first.
func (c *Client) Transactions(ctx context.Context, vm string) ([]Transaction, error) {
	var txs []Transaction
	_, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/virtual_machines/" + url.PathEscape(vm) + "/transactions", Query: url.Values{"per_page": {"50"}}}, &txs)
	sort.Slice(txs, func(i, j int) bool { return txs[i].ID > txs[j].ID })
	return txs, err
}

// LastTransaction is the newest transaction id of a virtual machine (0 if none).
func (c *Client) LastTransaction(ctx context.Context, vm string) (int, error) {
	txs, err := c.Transactions(ctx, vm)
	if err != nil || len(txs) == 0 {
		return 0, err
	}
	return txs[0].ID, nil
}

// Queue is where the transactions an action queued are: a machine's
// transactions newer than the newest before the action, oldest first.
type Queue []Transaction

// Queued reads, once, the transactions of virtual machine vm newer than
// after.
func (c *Client) Queued(ctx context.Context, vm string, after int) (Queue, error) {
	txs, err := c.Transactions(ctx, vm)
	if err != nil {
		return nil, err
	}
	var q Queue
	for _, t := range txs {
		if t.ID > after {
			q = append(q, t)
		}
	}
	sort.Slice(q, func(i, j int) bool { return q[i].ID < q[j].ID })
	return q, nil
}

// Done counts the transactions that have ended.
func (q Queue) Done() int {
	n := 0
	for _, t := range q {
		if Final(t.Status) {
			n++
		}
	}
	return n
}

// Current is the first transaction still open, or the last when all have
// ended.
func (q Queue) Current() Transaction {
	for _, t := range q {
		if !Final(t.Status) {
			return t
		}
	}
	if len(q) == 0 {
		return Transaction{}
	}
	return q[len(q)-1]
}

// Ended reports whether there are transactions and all have ended.
func (q Queue) Ended() bool { return len(q) > 0 && q.Done() == len(q) }

// Failed names the first transaction that failed or was cancelled, or is
// nil.
func (q Queue) Failed() error {
	for _, t := range q {
		if t.Status == "failed" || t.Status == "cancelled" {
			return fmt.Errorf("CloudFlow: transaction %d (%s) %s", t.ID, t.Action, t.Status)
		}
	}
	return nil
}
