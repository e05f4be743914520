package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const canary = "CANARY-httpapi-31c9"

// A plan step shows what the call sends, and an approver never sees a
// secret in it: not under a sensitive key, not as a known secret.
func TestDescribeStepShowsTheBodyMasked(t *testing.T) {
	c, err := New("https://api.example.com/v1")
	require.NoError(t, err)
	c.Redactor.AddSecret(canary)
	cases := map[string]struct {
		req  *Request
		want string
	}{
		"json": {&Request{Method: "post", Path: "/users", JSON: map[string]any{"name": "bob", "password": "hunter22", "note": "key " + canary}},
			`{"name":"bob","note":"key [REDACTED]","password":"[REDACTED]"}`},
		"form": {&Request{Method: "POST", Path: "/users", Form: url.Values{"name": {"bob"}, "password": {"hunter22"}}},
			"name=bob&password=%5BREDACTED%5D"},
		"raw json": {&Request{Method: "PUT", Path: "/users/bob", Body: []byte(`{"token":"x","n":1}`), ContentType: "application/json"},
			`{"n":1,"token":"[REDACTED]"}`},
		"raw text": {&Request{Method: "PUT", Path: "/note", Body: []byte("say " + canary), ContentType: "text/plain"}, "say [REDACTED]"},
		"none":     {&Request{Method: "GET", Path: "/users"}, ""},
		"raw form": {&Request{Method: "POST", Path: "/users", Body: []byte("user=bob&password=hunter22"), ContentType: "application/x-www-form-urlencoded"},
			"password=%5BREDACTED%5D&user=bob"},
		"bracketed form": {&Request{Method: "POST", Path: "/users", Form: url.Values{"user[name]": {"bob"}, "user[password]": {"hunter22"}}},
			"user%5Bname%5D=bob&user%5Bpassword%5D=%5BREDACTED%5D"},
		"nested secret": {&Request{Method: "POST", Path: "/users", JSON: map[string]any{"password": map[string]any{"value": "hunter22"}, "password_confirmation": "hunter22"}},
			`{"password":"[REDACTED]","password_confirmation":"[REDACTED]"}`},
		"json stream": {&Request{Method: "PUT", Path: "/users/bob", Body: []byte(`{"a":1} {"delete":"everything"}`), ContentType: "application/json"},
			"{\"a\":1}\n{\"delete\":\"everything\"}"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			method, endpoint, body := c.DescribeStep(tc.req)
			assert.Equal(t, strings.ToUpper(tc.req.Method), method)
			assert.True(t, strings.HasPrefix(endpoint, "https://api.example.com/v1/"), endpoint)
			assert.Equal(t, tc.want, body)
			assert.NotContains(t, body, "hunter22")
			assert.NotContains(t, body, canary)
		})
	}
	_, endpoint, _ := c.DescribeStep(&Request{Method: "GET", Path: "/users?auth[token]=hunter22&page=2"})
	assert.NotContains(t, endpoint, "hunter22")
}

// A provider's error answer decodes into its own shape, masked as the
// error's text is, and whole even when the text is cut short.
func TestErrorBodyDecodesTheProvidersAnswer(t *testing.T) {
	long := strings.Repeat("x", 600)
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"code":"IN_USE","message":"key ` + canary + ` is in use","password":"p","detail":"` + long + `"}`))
	})
	c.Redactor.AddSecret(canary)
	_, err := c.Do(context.Background(), &Request{Method: "DELETE", Path: "/keys/1", Effect: Changes})
	require.Error(t, err)
	type apiError struct {
		Code, Message, Password, Detail string
	}
	e, ok := ErrorBody[apiError](err)
	require.True(t, ok)
	assert.Equal(t, "IN_USE", e.Code)
	assert.Equal(t, "key [REDACTED] is in use", e.Message)
	assert.Equal(t, "[REDACTED]", e.Password)
	assert.Equal(t, long, e.Detail)

	_, ok = ErrorBody[apiError](context.Canceled)
	assert.False(t, ok, "an error with no answer has no body")
	_, ok = ErrorBody[[]int](err)
	assert.False(t, ok, "a body of another shape does not decode")
}

// A secret the provider or the plugin puts in a JSON key is masked in the
// plan step, the error's text and the decoded error body alike.
func TestSecretsUsedAsKeysAreMasked(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":{"` + canary + `":"token expired"}}`))
	})
	c.Redactor.AddSecret(canary)
	_, _, body := c.DescribeStep(&Request{Method: "POST", Path: "/x", JSON: map[string]any{"auth": map[string]any{canary: 1}}})
	assert.Equal(t, `{"auth":{"[REDACTED]":1}}`, body)

	_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/x"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), canary)
	assert.Contains(t, err.Error(), "token expired")
	e, ok := ErrorBody[map[string]map[string]string](err)
	require.True(t, ok)
	assert.Equal(t, map[string]map[string]string{"errors": {"[REDACTED]": "token expired"}}, e)
}
