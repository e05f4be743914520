// Package client calls WHM API 1 on one server: GET for simple calls, a
// POST form for long or repeated parameters, a JSON body for the functions
// that take one; success is metadata.result == 1, never the reason text.
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Options configure a client for one WHM server.
type Options struct {
	// Host is the server's name; Port defaults to 2087.
	Host string
	Port int
	// Scheme is https (default); the local simulator speaks http.
	Scheme string
	// User and Token authenticate: Authorization: whm USER:TOKEN.
	User  string
	Token string
	// CAFile trusts a private CA; Fingerprint pins the server's
	// certificate (SHA-256 of its DER, hex, colons allowed). Without
	// either, the system's roots are used. Verification is never skipped.
	CAFile      string
	Fingerprint string
	// Timeout bounds each call (60 s if zero).
	Timeout time.Duration
	// LongTimeout bounds the calls WHM takes long over (creating,
	// removing, restoring an account; see [Long]); 10 minutes if zero.
	LongTimeout time.Duration
	// Sleep waits between attempts of a read (a timer if nil); tests
	// replace it so that none depends on how fast the machine is.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls one WHM server.
type Client struct {
	http                 *httpapi.Client
	cat                  *catalog.Catalog
	timeout, longTimeout time.Duration
}

// SensitiveKeys are parameter and response keys that hold secrets in WHM
// API 1, beyond the redactor's defaults.
var SensitiveKeys = []string{
	"password", "pass", "root_password", "sshkey_passphrase", "passphrase", "privatekey", "client_secret",
	"application_key", "mysql_pass", "secret", "tfa_token", "token", "api_token", "access_token",
	"login_token", "cp_security_token", "PUSHBULLET_ACCESS_TOKEN", "key_data", "accesshash",
	"otpauth_str", "refresh_token", "private_key", "hulk_auth_passwd", "set-cookie", "pem", "parameter_value",
}

// New returns a client.
func New(o Options) (*Client, error) {
	if o.Host == "" {
		return nil, errors.New("setting host is required")
	}
	if o.User == "" {
		o.User = "root"
	}
	if o.Token == "" {
		return nil, errors.New("secret token is required (a WHM API token)")
	}
	if o.Port == 0 {
		o.Port = 2087
	}
	if o.Scheme == "" {
		o.Scheme = "https"
	}
	base := fmt.Sprintf("%s://%s/json-api", o.Scheme, net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
	h, err := httpapi.New(base)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := tlsConfig(o)
	if err != nil {
		return nil, err
	}
	timeout, long := o.Timeout, o.LongTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	if long <= 0 {
		long = 10 * time.Minute
	}
	long = max(long, timeout)
	// Each call gets its own deadline (see Call): a long one for the
	// functions WHM takes long over, the ordinary one for the others.
	h.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 4}}
	h.Redactor.AddKeys(SensitiveKeys...)
	h.Redactor.AddSecret(o.Token)
	h.UserAgent = "deskbot-whm"
	h.Sleep = o.Sleep
	auth := "whm " + o.User + ":" + o.Token
	h.Authorize = func(r *http.Request) error {
		r.Header.Set("Authorization", auth)
		return nil
	}
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	return &Client{http: h, cat: cat, timeout: timeout, longTimeout: long}, nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.Host}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.Fingerprint != "" {
		want, err := hex.DecodeString(strings.ReplaceAll(strings.ToLower(o.Fingerprint), ":", ""))
		if err != nil || len(want) != sha256.Size {
			return nil, fmt.Errorf("fingerprint %q is not a SHA-256 digest in hex", o.Fingerprint)
		}
		// The pinned certificate replaces the chain check: WHM's certificate
		// is often self-signed. The pin itself is checked on every handshake.
		cfg.InsecureSkipVerify = true
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("the server sent no certificate")
			}
			got := sha256.Sum256(raw[0])
			if !bytes.Equal(got[:], want) {
				return fmt.Errorf("the server's certificate (sha256 %s) is not the pinned one", hex.EncodeToString(got[:]))
			}
			return nil
		}
	}
	return cfg, nil
}

// Redactor returns the client's redactor.
func (c *Client) Redactor() *redact.Redactor { return c.http.Redactor }

// Catalog returns the function catalog.
func (c *Client) Catalog() *catalog.Catalog { return c.cat }

// Metadata is an answer's metadata.
type Metadata struct {
	Command  string   `json:"command"`
	Reason   string   `json:"reason"`
	Result   int      `json:"result"`
	Version  int      `json:"version"`
	Messages TextList `json:"messages,omitempty"`
	Warnings TextList `json:"warnings,omitempty"`
	Output   Output   `json:"output"`
}

// Output is metadata.output: usually {"raw": "..."}, a plain string in
// some answers (installssl).
type Output struct {
	Raw string `json:"raw"`
}

// UnmarshalJSON accepts both forms.
func (o *Output) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		o.Raw = s
		return nil
	}
	var obj struct {
		Raw any `json:"raw"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil // an output we cannot read is not a failure of the call
	}
	switch r := obj.Raw.(type) {
	case string:
		o.Raw = r
	case nil:
	default:
		raw, _ := json.Marshal(r)
		o.Raw = string(raw)
	}
	return nil
}

// TextList is a list of messages; a single string or other values are
// accepted and written as text.
type TextList []string

// UnmarshalJSON accepts a string, a list of strings or a list of values.
func (l *TextList) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "" {
			*l = TextList{s}
		}
		return nil
	}
	var vs []any
	if json.Unmarshal(b, &vs) != nil {
		return nil
	}
	for _, v := range vs {
		if s, ok := v.(string); ok {
			*l = append(*l, s)
		} else {
			raw, _ := json.Marshal(v)
			*l = append(*l, string(raw))
		}
	}
	return nil
}

// Result is a successful answer.
type Result struct {
	// Data is the answer's data, with a data.payload list unwrapped.
	Data     json.RawMessage
	Metadata Metadata
	// Body is the whole answer.
	Body []byte
}

// Decode reads Data into v.
func (r *Result) Decode(v any) error {
	if len(r.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return fmt.Errorf("WHM %s: the answer's data is not as documented: %v", r.Metadata.Command, err)
	}
	return nil
}

// APIError is a failure WHM reported (metadata.result 0), or a refusal
// of the token (HTTP 401/403).
type APIError struct {
	Function string
	Reason   string
	// Status is the HTTP status when it was not 200.
	Status int
}

// Denied reports whether WHM refused the token or its ACLs: HTTP 401 or
// 403, or a reason that says permission or access was denied.
func (e *APIError) Denied() bool {
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return true
	}
	r := strings.ToLower(e.Reason)
	for _, w := range []string{"access denied", "permission denied", "not permitted", "not authorized", "unauthorized", "lacks the", "acl", "privilege"} {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

func (e *APIError) Error() string { return fmt.Sprintf("WHM %s failed: %s", e.Function, e.Reason) }

// Args are a call's arguments; a key may repeat.
type Args = url.Values

// Request builds the HTTP request for a function. Functions that only
// read, with short arguments, go as GET and may be retried after a network
// failure; everything else goes once, as a POST form (or a JSON body for
// the functions that take one), so nothing between here and the server
// repeats a change. Whether a function reads is the catalog's word
// ([catalog.Reads]), not its risk: fetchsslinfo is critical and reads.
//
// api.version=1 goes in the query string and in the body too: WHM reads
// a POST's parameters from its body (cPanel's own PHP client sends them
// all there), the reference lists api.version as a body field of the JSON
// functions, and without it WHM answers as API 0.
func (c *Client) Request(fn string, args Args, jsonBody any) *httpapi.Request {
	q := url.Values{"api.version": {"1"}}
	reads := catalog.Reads(fn)
	r := &httpapi.Request{Method: http.MethodGet, Path: "/" + fn, Effect: httpapi.Changes}
	if reads {
		r.Effect = httpapi.Reads
	}
	if jsonBody != nil {
		r.Method, r.Query, r.JSON = http.MethodPost, q, withVersion(jsonBody)
		return r
	}
	long := !reads
	for _, vs := range args {
		long = long || len(vs) > 1
	}
	if len(args.Encode()) > 1500 {
		long = true
	}
	if f, ok := c.cat.Get(fn); ok && f.Body == "form" {
		long = true
	}
	if long {
		form := url.Values{}
		for k, vs := range args {
			form[k] = vs
		}
		form.Set("api.version", "1")
		r.Method, r.Query, r.Form = http.MethodPost, q, form
		return r
	}
	for k, vs := range args {
		if k != "api.version" {
			q[k] = vs
		}
	}
	r.Query = q
	return r
}

// withVersion returns a JSON body with "api.version": 1 in it, when the
// body is an object; anything else is sent as it is.
func withVersion(body any) any {
	if m, ok := body.(map[string]any); ok {
		out := make(map[string]any, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		out["api.version"] = 1
		return out
	}
	b, err := json.Marshal(body)
	if err != nil {
		return body
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil || obj == nil {
		return body
	}
	obj["api.version"] = json.RawMessage("1")
	return obj
}

// Describe writes a call the way a plan shows it: method, URL, and a form
// body, secrets redacted.
func (c *Client) Describe(fn string, args Args, jsonBody any) (method, endpoint, body string) {
	r := c.Request(fn, args, jsonBody)
	method, endpoint = c.http.Describe(r)
	switch {
	case r.Form != nil:
		body = c.http.Redactor.Query(r.Form).Encode()
	case r.JSON != nil:
		b, _ := json.Marshal(r.JSON)
		body = string(c.http.Redactor.JSON(b))
	}
	return strings.ReplaceAll(method, " ", ""), strings.ReplaceAll(endpoint, "%5BREDACTED%5D", redact.Mask), body
}

// Call runs a function. A metadata.result other than 1 is an *APIError
// with WHM's reason; an answer without metadata is refused; a change whose
// answer was lost (a timeout, a reset, a gateway's 502 after it was sent)
// is an *OutcomeUnknownError saying how to check; other failures of the
// transport are returned as they come.
//
// Each call has its own deadline: Timeout, or LongTimeout for the
// functions in [Long], and always a little before the caller's own
// deadline, so that the user hears what happened rather than that the
// plugin did not answer.
func (c *Client) Call(ctx context.Context, fn string, args Args, jsonBody any) (*Result, error) {
	ctx, cancel := c.deadline(ctx, fn)
	defer cancel()
	resp, err := c.http.Do(ctx, c.Request(fn, args, jsonBody))
	if err != nil {
		if httpapi.OutcomeUnknown(err) {
			return nil, &OutcomeUnknownError{Function: fn, Long: Long(fn), Check: CheckHint(fn, args), cause: err.Error()}
		}
		if resp != nil {
			// A refusal in WHM's own envelope says more than the status.
			var ae *APIError
			if _, perr := c.parse(fn, resp.Body); errors.As(perr, &ae) {
				ae.Status = resp.Status
				return nil, ae
			}
			if resp.Status == http.StatusForbidden || resp.Status == http.StatusUnauthorized {
				return nil, &APIError{Function: fn, Status: resp.Status, Reason: fmt.Sprintf("access denied, HTTP %d (check the API token and its ACLs)", resp.Status)}
			}
		}
		return nil, err
	}
	return c.parse(fn, resp.Body)
}

// TimeoutFor is how long a call of fn may take.
func (c *Client) TimeoutFor(fn string) time.Duration {
	if Long(fn) {
		return c.longTimeout
	}
	return c.timeout
}

// deadline bounds one call: its own timeout, and a margin before the
// caller's deadline (a tenth of the time left, at most three seconds).
func (c *Client) deadline(ctx context.Context, fn string) (context.Context, context.CancelFunc) {
	end := time.Now().Add(c.TimeoutFor(fn))
	if dl, ok := ctx.Deadline(); ok {
		margin := min(3*time.Second, time.Until(dl)/10)
		if early := dl.Add(-margin); early.Before(end) {
			end = early
		}
	}
	return context.WithDeadline(ctx, end)
}

// ErrNoMetadata is wrapped by the error for an answer without metadata:
// not WHM API 1's envelope (every function's answer has data and
// metadata), so not a success. API 0 answers that way when api.version
// is lost, and so do proxies and error pages.
var ErrNoMetadata = errors.New("the answer has no metadata, so it is not a WHM API 1 answer")

// parse reads the envelope. An answer without metadata is refused (see
// [ErrNoMetadata]); one whose fields sit beside data (system_needs_reboot,
// as the reference shows it) is accepted.
func (c *Client) parse(fn string, body []byte) (*Result, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("WHM %s: the answer is not JSON: %s", fn, c.http.Redactor.Excerpt(string(body), 200))
	}
	res := &Result{Body: body}
	meta, hasMeta := top["metadata"]
	if t := bytes.TrimSpace(meta); !hasMeta || len(t) == 0 || bytes.Equal(t, []byte("null")) {
		hint := ""
		_, api0msg := top["statusmsg"]
		_, api0 := top["status"]
		if api0msg || api0 {
			hint = " (it looks like API 0's: WHM did not take api.version=1)"
		}
		return nil, fmt.Errorf("WHM %s: %w%s; the call is not taken for a success: %s", fn, ErrNoMetadata, hint, c.http.Redactor.Excerpt(string(body), 200))
	}
	if err := json.Unmarshal(meta, &res.Metadata); err != nil {
		return nil, fmt.Errorf("WHM %s: metadata: %v", fn, err)
	}
	if res.Metadata.Result != 1 {
		reason := strings.TrimSpace(res.Metadata.Reason)
		if reason == "" {
			reason = "no reason given"
		}
		return nil, &APIError{Function: fn, Reason: c.http.Redactor.String(reason)}
	}
	if res.Metadata.Command == "" {
		res.Metadata.Command = fn
	}
	if data, ok := top["data"]; ok {
		res.Data = data
		var wrapped struct {
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &wrapped) == nil && len(wrapped.Payload) > 0 {
			res.Data = wrapped.Payload
		}
	} else {
		rest := map[string]json.RawMessage{}
		for k, v := range top {
			if k != "metadata" {
				rest[k] = v
			}
		}
		if len(rest) > 0 {
			res.Data, _ = json.Marshal(rest)
		}
	}
	return res, nil
}

// BatchCall is one call within a batch.
type BatchCall struct {
	Function string
	Args     Args
}

// Batch runs several calls in one request; each has its own outcome.
func (c *Client) Batch(ctx context.Context, calls []BatchCall, abortOnError bool) ([]*Result, []error, error) {
	args := BatchArgs(calls, abortOnError)
	res, err := c.Call(ctx, "batch", args, nil)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(calls))
	for i, bc := range calls {
		names[i] = bc.Function
	}
	results, errs, err := c.Unbatch(res, names)
	return results, errs, err
}

// BatchArgs writes calls as the arguments of the batch function.
func BatchArgs(calls []BatchCall, abortOnError bool) Args {
	args := Args{}
	for _, bc := range calls {
		cmd := bc.Function
		if len(bc.Args) > 0 {
			cmd += "?" + bc.Args.Encode()
		}
		args.Add("command", cmd)
	}
	if abortOnError {
		args.Set("abort_on_error", "1")
	}
	return args
}

// Unbatch splits a batch answer into its calls' answers; names are the
// functions called, in order. Each has its own outcome.
func (c *Client) Unbatch(res *Result, names []string) ([]*Result, []error, error) {
	var out struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := res.Decode(&out); err != nil {
		return nil, nil, err
	}
	results := make([]*Result, len(out.Result))
	errs := make([]error, len(out.Result))
	for i, raw := range out.Result {
		fn := "batch"
		if i < len(names) {
			fn = names[i]
		}
		results[i], errs[i] = c.parse(fn, raw)
	}
	return results, errs, nil
}

// SortedKeys lists a form's keys in order, for stable output.
func SortedKeys(a Args) []string {
	out := make([]string, 0, len(a))
	for k := range a {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
