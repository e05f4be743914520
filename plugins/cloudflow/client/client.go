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
	// Sleep waits between tries of a reading request (a timer if nil):
	// tests make it return at once.
	Sleep func(ctx context.Context, d time.Duration) error
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
	h.Sleep = o.Sleep
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

// Request is one call. Path is without ".json" (it is added). The EP*
// methods (endpoints.go) make every request the plugin sends, each
// declared reading or changing.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Root and Body: the body is sent wrapped, {"virtual_machine": Body}.
	Root string
	Body any
	// Effect says whether the request changes anything at the panel,
	// whatever its method: only a request declared httpapi.Reads is ever
	// sent twice. Undeclared is sent once, as a change.
	Effect httpapi.Effect
	// Check is the command that shows whether a change was carried out,
	// for when its answer is lost (httpapi.OutcomeUnknown).
	Check string
	// Fallback, if set, is sent instead when the panel answers this
	// request 404 or 405: it has no such route, so nothing was done and
	// the other form may be tried (resize; see EPResize). It is never
	// sent after any other failure.
	Fallback *Request
	// Err is a path that could not be built (an empty, "." or ".."
	// segment): the request is refused and nothing is sent.
	Err error
}

func (c *Client) request(r Request) *httpapi.Request {
	hr := &httpapi.Request{Method: r.Method, Path: r.Path + ".json", Query: r.Query, Effect: r.Effect}
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

// Call sends a call and returns its answer. A request with a Fallback
// that the panel answers 404 or 405 is sent in its other form.
func (c *Client) Call(ctx context.Context, r Request) (*Result, error) {
	var body json.RawMessage
	status, err := c.Do(ctx, r, &body)
	if err != nil && r.Fallback != nil && noRoute(err) {
		body = nil
		status, err = c.Do(ctx, *r.Fallback, &body)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Status: status, Body: body}, nil
}

// noRoute reports whether err is the panel's answer that it has no route
// for the request (404, 405): a definite answer that nothing was done,
// never a lost one.
func noRoute(err error) bool {
	var ae *APIError
	return !httpapi.OutcomeUnknown(err) && errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed)
}

// Do sends a call; out, if set, receives the answer with its wrapper
// removed ({"virtual_machine": {...}} or a list of such). A change whose
// answer was lost is not sent again: its error wraps
// httpapi.ErrOutcomeUnknown and names the command that shows whether it
// was carried out.
func (c *Client) Do(ctx context.Context, r Request, out any) (int, error) {
	if r.Err != nil {
		return 0, fmt.Errorf("CloudFlow %s %s: %w; nothing was sent", r.Method, r.Path, r.Err)
	}
	resp, err := c.http.Do(ctx, c.request(r))
	if httpapi.OutcomeUnknown(err) {
		check := r.Check
		if check == "" {
			check = "the control panel"
		}
		status := 0
		if resp != nil {
			status = resp.Status
		}
		return status, fmt.Errorf("CloudFlow %s %s: %w; to see whether it was done, use %s", r.Method, r.Path, err, check)
	}
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

// PageSize is how many items a list asks for a page.
const PageSize = 100

// List reads a list (an EP* list request) into out, page by page with
// page and per_page. OnApp's own clients list unpaged, and a panel may
// ignore the paging parameters and answer the whole list every time: the
// pager sees the second page hold the same machines as the first and
// stops, and the first answer, complete, is used, each item once. A list
// longer than the pager's cap is an error, never a silent cut.
func (c *Client) List(ctx context.Context, r Request, out any) error {
	items, err := c.list(ctx, r)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(items)
	return json.Unmarshal(b, out)
}

// ListResult is List as a step's result: the items, unwrapped, as a JSON
// list.
func (c *Client) ListResult(ctx context.Context, r Request) (*Result, error) {
	items, err := c.list(ctx, r)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(items)
	return &Result{Status: http.StatusOK, Body: b}, nil
}

func (c *Client) list(ctx context.Context, r Request) ([]json.RawMessage, error) {
	first := -1 // how many items the first page held
	p := httpapi.Pager[json.RawMessage]{
		Size: PageSize,
		Fetch: func(ctx context.Context, pg httpapi.Page) ([]json.RawMessage, []byte, error) {
			q := url.Values{}
			for k, v := range r.Query {
				q[k] = append([]string(nil), v...)
			}
			q.Set("page", strconv.Itoa(pg.Number))
			q.Set("per_page", strconv.Itoa(pg.Size))
			rr := r
			rr.Query = q
			var items []json.RawMessage
			_, err := c.Do(ctx, rr, &items)
			if pg.Number == 1 {
				first = len(items)
			}
			return items, nil, err
		},
		ID: itemID,
	}
	items, err := p.All(ctx)
	if errors.Is(err, httpapi.ErrPagingIgnored) {
		if first > PageSize {
			// The panel answered more than a page: the whole list, on
			// every page (as OnApp's own clients expect).
			return items, nil
		}
		// A page's worth, again and again: the rest was never sent.
		return nil, fmt.Errorf("CloudFlow %s: the panel sent the same %d items for every page and never the rest of the list; the list is incomplete, so nothing is concluded from it", r.Path, len(items))
	}
	if err != nil {
		return nil, fmt.Errorf("CloudFlow %s: %w", r.Path, err)
	}
	return items, nil
}

// itemID names a list item by its id, or by its whole text if it has none.
func itemID(raw json.RawMessage) string {
	var x struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &x) == nil && len(x.ID) > 0 && string(x.ID) != "null" {
		return string(x.ID)
	}
	return string(raw)
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
	_, err := c.Do(ctx, c.EPVMTransactions(vm), &txs)
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
