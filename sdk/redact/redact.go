// Package redact removes secrets from text and JSON before they reach a
// log, an error, an audit entry or a chat message.
//
// Two rules work together: sensitive key names (password, token, api_key,
// ...) have their values replaced wherever they appear in JSON, form or
// query data; and known secret values (a target's API key, a canary) are
// replaced wherever they appear at all.
package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask replaces a redacted value.
const Mask = "[REDACTED]"

// DefaultKeys are key names whose values are always secret. Matching
// ignores case and the separators "_", "-" and ".".
var DefaultKeys = []string{
	"password", "passwd", "pass", "newpass", "root_password", "first_password",
	"secret", "secret_key", "client_secret", "api_key", "apikey", "api_token",
	"token", "access_token", "refresh_token", "login_token", "auth_token",
	"authorization", "x_token", "cookie", "set_cookie", "private_key", "privatekey",
	"passphrase", "sshkey_passphrase", "mysql_pass", "accesshash",
	"initial_root_password", "remote_access_password", "encryption_key",
	"initial_root_password_encryption_key", "tfa_token", "otpauth_str",
	"key_data", "pem", "application_key", "kerberos_content_file",
}

// Redactor scrubs secrets. The zero value is not usable; call [New].
// It is safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	keys     map[string]bool
	values   []string
	patterns []*regexp.Regexp
}

// New returns a Redactor that knows [DefaultKeys] plus extraKeys, and the
// private-key patterns: PEM blocks (PKCS#1, PKCS#8, encrypted PKCS#8,
// OpenSSH, EC) and PuTTY key files.
func New(extraKeys ...string) *Redactor {
	r := &Redactor{keys: map[string]bool{}}
	for _, k := range DefaultKeys {
		r.keys[normKey(k)] = true
	}
	for _, k := range extraKeys {
		r.keys[normKey(k)] = true
	}
	r.patterns = patterns
	return r
}

// patterns are compiled once: a redactor is made for every target, and
// often for a single call.
var patterns = []*regexp.Regexp{
	// PEM: "-----BEGIN OPENSSH PRIVATE KEY-----", PKCS#8's "BEGIN PRIVATE
	// KEY" and "BEGIN ENCRYPTED PRIVATE KEY", PKCS#1's "BEGIN RSA ...";
	// to the END line, or to the end of a text cut short.
	// PGP's "BEGIN PGP PRIVATE KEY BLOCK" and RFC 4716's four-dash
	// "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----" too.
	regexp.MustCompile(`-{4,5} ?BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}[\s\S]*?(-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|$)`),
	regexp.MustCompile(`(?i)(PassWord:\s*)\S+`),
	// A PuTTY key file (WHM's convertopensshtoputty answers one): from its
	// first line to its MAC, or to the end of a text cut short.
	regexp.MustCompile(`PuTTY-User-Key-File-[0-9]+\s*:[\s\S]*?(Private-MAC:[ \t]*[0-9A-Fa-f]+|$)`),
}

// AddKeys marks more key names sensitive.
func (r *Redactor) AddKeys(keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		r.keys[normKey(k)] = true
	}
}

// AddSecret registers a value to scrub wherever it appears, with its URL-
// and JSON-escaped forms. Values shorter than 4 characters are ignored:
// scrubbing them would mangle ordinary text.
func (r *Redactor) AddSecret(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) < 4 {
			continue
		}
		forms := []string{v, url.QueryEscape(v), url.PathEscape(v)}
		if b, err := json.Marshal(v); err == nil {
			forms = append(forms, string(b[1:len(b)-1]))
		}
		for _, f := range forms {
			if !slices.Contains(r.values, f) {
				r.values = append(r.values, f)
			}
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

func normKey(k string) string {
	k = strings.ToLower(k)
	return keySeparators.Replace(k)
}

var keySeparators = strings.NewReplacer("_", "", "-", "", ".", "", " ", "")

// IsSensitiveKey reports whether values under key are secret. It is the
// one rule for JSON keys, form and query fields, key-value pairs and log
// attributes: a known name (password), a numbered or prefixed form of one
// (password-1, x_api_key), one asking for it again (password_confirmation),
// or a bracketed or dotted path whose last name is one (user[password],
// auth[token], servers[0].password).
func (r *Redactor) IsSensitiveKey(key string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.sensitiveName(key) {
		return true
	}
	segs := strings.FieldsFunc(key, func(c rune) bool { return c == '[' || c == ']' || c == '.' })
	for i := len(segs) - 1; i >= 0; i-- {
		if strings.Trim(segs[i], "0123456789") == "" {
			continue // an index: user[0]
		}
		return len(segs) > 1 && r.sensitiveName(segs[i])
	}
	return false
}

// confirmSuffixes are what a form adds to a field to ask for it twice.
var confirmSuffixes = []string{"confirmation", "confirmed", "confirm", "verification", "verify", "repeat", "again", "retype"}

// sensitiveName applies the name rule to one name; r.mu is held.
func (r *Redactor) sensitiveName(key string) bool {
	// Numbered forms (password-1, ip-0) are the same key.
	n := strings.TrimRight(normKey(key), "0123456789")
	for _, suf := range confirmSuffixes {
		if base := strings.TrimSuffix(n, suf); base != n && base != "" {
			n = strings.TrimRight(base, "0123456789")
			break
		}
	}
	if r.keys[n] {
		return true
	}
	// Prefixed forms: x_api_key, newpassword.
	for k := range r.keys {
		if len(k) >= 5 && strings.HasSuffix(n, k) {
			return true
		}
	}
	return false
}

// String scrubs known secret values and secret patterns from s.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	values := r.values
	r.mu.RUnlock()
	for _, v := range values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	// The patterns are costly; most text cannot match them.
	if strings.Contains(s, "PRIVATE KEY") {
		s = r.patterns[0].ReplaceAllString(s, Mask)
	}
	if strings.Contains(s, "ord:") || strings.Contains(s, "ORD:") {
		s = r.patterns[1].ReplaceAllString(s, "${1}"+Mask)
	}
	if strings.Contains(s, "PuTTY-User-Key-File-") {
		s = r.patterns[2].ReplaceAllString(s, Mask)
	}
	return s
}

// Excerpt returns at most n characters of s for an error message, scrubbed
// first: cutting first could leave part of a secret the scrub no longer
// recognises.
func (r *Redactor) Excerpt(s string, n int) string {
	s = r.String(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// Value returns Mask if key is sensitive, else v scrubbed of known secrets.
func (r *Redactor) Value(key, v string) string {
	if r.IsSensitiveKey(key) {
		return Mask
	}
	return r.String(v)
}

// Query scrubs a URL query or form body (a=b&c=d).
func (r *Redactor) Query(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		nv := make([]string, len(vs))
		for i, v := range vs {
			nv[i] = r.Value(k, v)
		}
		out[k] = nv
	}
	return out
}

// URL scrubs a URL's query and userinfo.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	if c.RawQuery != "" {
		if q, err := url.ParseQuery(c.RawQuery); err == nil {
			c.RawQuery = r.Query(q).Encode()
		}
	}
	return r.String(c.String())
}

// JSON scrubs a JSON document: values under sensitive keys become Mask, at
// any depth; other strings lose known secrets. A stream of several
// documents ({"a":1} {"b":2}) is scrubbed whole, one document a line, so
// none is hidden from whoever reads it. Input that is not JSON is scrubbed
// as text.
func (r *Redactor) JSON(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var docs [][]byte
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF && len(docs) > 0 {
			break
		}
		if err != nil {
			return []byte(r.String(string(b)))
		}
		out, err := json.Marshal(r.Any(v))
		if err != nil {
			return []byte(r.String(string(b)))
		}
		docs = append(docs, out)
	}
	return bytes.Join(docs, []byte("\n"))
}

// Body scrubs a request or response body of the given content type: JSON
// by key, a form (application/x-www-form-urlencoded) by field, anything
// else as text. With no content type, a body that parses as JSON is taken
// as JSON and one that looks like a form (name=value&..., nothing else) as
// a form.
func (r *Redactor) Body(b []byte, contentType string) string {
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "json"):
		return string(r.JSON(b))
	case strings.Contains(ct, "x-www-form-urlencoded"):
		if q, err := url.ParseQuery(string(b)); err == nil {
			return r.Query(q).Encode()
		}
	case ct == "":
		if t := bytes.TrimSpace(b); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(firstDoc(t)) {
			return string(r.JSON(b))
		}
		if formRE.Match(b) {
			if q, err := url.ParseQuery(string(b)); err == nil {
				return r.Query(q).Encode()
			}
		}
	}
	return r.String(string(b))
}

// formRE matches a form body: name=value pairs joined by &, no spaces.
var formRE = regexp.MustCompile(`^[^=&\s]+=[^&\s]*(&[^=&\s]+=[^&\s]*)*$`)

// firstDoc returns the first JSON document of a stream, or b.
func firstDoc(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return b
	}
	return raw
}

// Any scrubs a decoded JSON value (maps, slices, strings) and returns a copy.
func (r *Redactor) Any(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		// Keys in order, so that two keys masked alike are told apart the
		// same way every time.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := x[k]
			// A secret can be a key too ({"auth":{"<token>":1}}, an error
			// keyed by the value it refuses): mask it there as well.
			nk := r.String(k)
			for i := 2; ; i++ {
				if _, taken := m[nk]; !taken {
					break
				}
				nk = fmt.Sprintf("%s#%d", r.String(k), i)
			}
			if r.IsSensitiveKey(k) && val != nil {
				// The whole value, an object or a list included
				// ({"password":{"value":"x"}}); ssh_password: true says
				// nothing secret.
				if _, isBool := val.(bool); !isBool {
					m[nk] = Mask
					continue
				}
			}
			m[nk] = r.Any(val)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, val := range x {
			s[i] = r.Any(val)
		}
		return s
	case string:
		return r.String(x)
	}
	return v
}

// Partial shows the first four and last two characters of a secret that
// people need to recognise but not copy (a licence key): "WsTs…tD".
func Partial(s string) string {
	if len(s) <= 8 {
		return "…"
	}
	return s[:4] + "…" + s[len(s)-2:]
}

// With returns a copy of r that also scrubs secrets; r is unchanged.
func (r *Redactor) With(secrets ...string) *Redactor {
	r.mu.RLock()
	c := &Redactor{keys: make(map[string]bool, len(r.keys)), values: append([]string(nil), r.values...), patterns: r.patterns}
	for k := range r.keys {
		c.keys[k] = true
	}
	r.mu.RUnlock()
	c.AddSecret(secrets...)
	return c
}

// Union returns a copy of r that also scrubs everything o does: its
// sensitive keys and its secret values. Neither is changed.
func (r *Redactor) Union(o *Redactor) *Redactor {
	c := r.With()
	if o == nil {
		return c
	}
	o.mu.RLock()
	values := append([]string(nil), o.values...)
	keys := make([]string, 0, len(o.keys))
	for k := range o.keys {
		keys = append(keys, k)
	}
	o.mu.RUnlock()
	c.mu.Lock()
	for _, k := range keys {
		c.keys[k] = true
	}
	for _, v := range values {
		if !slices.Contains(c.values, v) {
			c.values = append(c.values, v)
		}
	}
	sort.Slice(c.values, func(i, j int) bool { return len(c.values[i]) > len(c.values[j]) })
	c.mu.Unlock()
	return c
}
