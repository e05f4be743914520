package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/client"
)

// exchange is one reference exchange of testdata/reference: a request or
// an answer from a source independent of the simulator, named in Source.
type exchange struct {
	Source      string            `json:"source"`
	Function    string            `json:"function"`
	RequestBody map[string]any    `json:"request_body"`
	Method      string            `json:"method"`
	ContentType string            `json:"content_type"`
	BodyParams  map[string]string `json:"body_params"`
	Status      int               `json:"status"`
	Body        string            `json:"body"`
	Response    json.RawMessage   `json:"response"`
}

func reference(t *testing.T, name string) exchange {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference", name))
	require.NoError(t, err)
	var x exchange
	require.NoError(t, json.Unmarshal(b, &x))
	require.NotEmpty(t, x.Source, "%s names its source", name)
	return x
}

// answering serves one fixed answer to every call and keeps the requests.
func answering(t *testing.T, status int, ctype string, body []byte) (*httptest.Server, *seen) {
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.add(r)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

// The reference lists api.version as a field of the JSON body of the
// functions that take one; WHM answers as API 0 without it. The client
// sends the body the reference's sample shows, version included, and the
// version in the query string as well.
func TestAPIVersionTravelsInTheJSONBodyAsTheReferenceShows(t *testing.T) {
	for _, file := range []string{"personalization_set.json", "batch_create_cphulk_records.json"} {
		t.Run(file, func(t *testing.T) {
			x := reference(t, file)
			srv, s := recorder(t, false)
			c := newClient(t, srv, client.Options{})
			args := map[string]any{}
			for k, v := range x.RequestBody {
				if k != "api.version" {
					args[k] = v
				}
			}
			_, err := c.Call(context.Background(), x.Function, nil, args)
			require.NoError(t, err)
			want, _ := json.Marshal(x.RequestBody)
			assert.JSONEq(t, string(want), s.body[0], "the body as the reference's sample shows it (%s)", x.Source)
			assert.Equal(t, "1", s.reqs[0].URL.Query().Get("api.version"))
		})
	}
}

// cPanel's own PHP client sends every parameter in a POST form body, and
// nothing in the query string: WHM reads a POST's parameters from its
// body. So api.version goes in the form as well as in the query.
func TestAPIVersionTravelsInTheFormBodyWhereWHMReadsIt(t *testing.T) {
	x := reference(t, "form_post.json")
	srv, s := recorder(t, false)
	c := newClient(t, srv, client.Options{})
	args := client.Args{}
	for k, v := range x.BodyParams {
		args.Set(k, v)
	}
	_, err := c.Call(context.Background(), x.Function, args, nil)
	require.NoError(t, err)
	r := s.reqs[0]
	assert.Equal(t, x.Method, r.Method)
	assert.Contains(t, r.Header.Get("Content-Type"), x.ContentType)
	form, err := url.ParseQuery(s.body[0])
	require.NoError(t, err)
	assert.Equal(t, "1", form.Get("api.version"), "the body carries the version (%s)", x.Source)
	for k, v := range x.BodyParams {
		assert.Equal(t, v, form.Get(k))
	}
	assert.Equal(t, "1", r.URL.Query().Get("api.version"), "and so does the query string")
}

// API 0's answer (what WHM sends when it did not take api.version=1) has
// no metadata. It used to be taken for a success; it is refused, saying
// what it looks like.
func TestAnAnswerWithoutMetadataIsNotASuccess(t *testing.T) {
	x := reference(t, "api0_accountsummary.json")
	srv, _ := answering(t, http.StatusOK, "application/json", x.Response)
	c := newClient(t, srv, client.Options{})
	res, err := c.Call(context.Background(), x.Function, client.Args{"user": {"gus"}}, nil)
	require.Error(t, err, "an API 0 answer is no success (%s)", x.Source)
	assert.Nil(t, res)
	assert.True(t, errors.Is(err, client.ErrNoMetadata), "%v", err)
	assert.Contains(t, err.Error(), "API 0")
	assert.Contains(t, err.Error(), "no metadata")

	// Nor is an empty object, or an answer whose metadata is null.
	for _, body := range []string{`{}`, `{"metadata":null,"data":{"acct":[]}}`, `{"data":{"acct":[]}}`} {
		srv, _ := answering(t, http.StatusOK, "application/json", []byte(body))
		c := newClient(t, srv, client.Options{})
		_, err := c.Call(context.Background(), "accountsummary", client.Args{"user": {"gus"}}, nil)
		assert.True(t, errors.Is(err, client.ErrNoMetadata), "%s: %v", body, err)
	}
}

// A refused token gets WHM's login page, not its envelope: it is access
// denied, with the status, and never anything about the account.
func TestALoginPageIsAccessDenied(t *testing.T) {
	x := reference(t, "login_page_403.json")
	srv, _ := answering(t, x.Status, x.ContentType, []byte(x.Body))
	c := newClient(t, srv, client.Options{})
	_, err := c.Call(context.Background(), x.Function, client.Args{"user": {"demo1"}}, nil)
	var ae *client.APIError
	require.True(t, errors.As(err, &ae), "%v", err)
	assert.True(t, ae.Denied())
	assert.Equal(t, x.Status, ae.Status)
	assert.Contains(t, ae.Error(), "access denied")
	assert.False(t, strings.Contains(ae.Error(), "does not exist"))
}
