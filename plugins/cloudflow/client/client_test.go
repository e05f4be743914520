package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
)

func TestUnwrap(t *testing.T) {
	assert.JSONEq(t, `{"id":1}`, string(client.Unwrap([]byte(`{"virtual_machine":{"id":1}}`))))
	assert.JSONEq(t, `[{"id":1},{"id":2}]`, string(client.Unwrap([]byte(`[{"transaction":{"id":1}},{"transaction":{"id":2}}]`))))
	assert.JSONEq(t, `{"version":"6.7"}`, string(client.Unwrap([]byte(`{"version":"6.7"}`))), "a bare object stays")
	assert.JSONEq(t, `[]`, string(client.Unwrap([]byte(`[]`))))
}

func TestErrorBodies(t *testing.T) {
	cases := map[string]struct {
		status int
		body   string
		want   string
	}{
		"by field":  {422, `{"errors":{"memory":["must be a multiple of 4"],"base":["Virtual machine is locked"]}}`, "CloudFlow: invalid parameters: Virtual machine is locked; memory must be a multiple of 4"},
		"list":      {422, `{"errors":["Template is not available"]}`, "CloudFlow: invalid parameters: Template is not available"},
		"single":    {401, `{"error":"You need to sign in"}`, "CloudFlow: the user or API key is wrong: You need to sign in"},
		"forbidden": {403, ``, "CloudFlow: the request was understood but not allowed"},
		"not found": {404, `{"errors":{"base":["Virtual machine not found"]}}`, "CloudFlow: not found: Virtual machine not found"},
		"server":    {500, `<html>oops</html>`, "CloudFlow: the control panel failed; its support should look at it"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, err := client.New(client.Options{BaseURL: srv.URL, User: "u@example.com", Password: "k"})
			require.NoError(t, err)
			_, err = c.Do(context.Background(), client.Request{Method: "POST", Path: "/virtual_machines/1/startup"}, nil)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestWrappedRequestsAndBasicAuth(t *testing.T) {
	var body, path, user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 512)
		n, _ := r.Body.Read(b)
		body, path = string(b[:n]), r.URL.Path
		user, pass, _ = r.BasicAuth()
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c, err := client.New(client.Options{BaseURL: srv.URL, User: "ops@example.com", Password: "api-key-1"})
	require.NoError(t, err)
	status, err := c.Do(context.Background(), client.Request{Method: "PUT", Path: "/virtual_machines/7", Root: "virtual_machine", Body: map[string]any{"cpus": 2}}, nil)
	require.NoError(t, err)
	assert.Equal(t, 204, status)
	assert.Equal(t, "/virtual_machines/7.json", path)
	assert.JSONEq(t, `{"virtual_machine":{"cpus":2}}`, body)
	assert.Equal(t, "ops@example.com", user)
	assert.Equal(t, "api-key-1", pass)
	_, err = client.New(client.Options{BaseURL: srv.URL, User: "x"})
	assert.ErrorContains(t, err, "api_key")
}
