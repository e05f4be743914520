package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/plugins/whm/sim"
)

const token = "CANARY-whm-token-5f4e3d2c1b"

type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (s *seen) add(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	s.body = append(s.body, string(b))
}

func hostPort(t *testing.T, u string) (string, int) {
	t.Helper()
	pu, err := url.Parse(u)
	require.NoError(t, err)
	h, p, _ := net.SplitHostPort(pu.Host)
	n, _ := strconv.Atoi(p)
	return h, n
}

// recorder answers every call with a success envelope and keeps the request.
func recorder(t *testing.T, tlsServer bool) (*httptest.Server, *seen) {
	s := &seen{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.add(r)
		fn := strings.TrimPrefix(r.URL.Path, "/json-api/")
		_ = json.NewEncoder(w).Encode(map[string]any{"metadata": map[string]any{"command": fn, "result": 1, "reason": "OK"}, "data": map[string]any{"fn": fn}})
	})
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, s
}

func newClient(t *testing.T, srv *httptest.Server, o client.Options) *client.Client {
	t.Helper()
	o.Host, o.Port = hostPort(t, srv.URL)
	if o.Token == "" {
		o.Token = token
	}
	if srv.TLS == nil {
		o.Scheme = "http"
	}
	c, err := client.New(o)
	require.NoError(t, err)
	return c
}

func TestTheWire(t *testing.T) {
	srv, s := recorder(t, false)
	c := newClient(t, srv, client.Options{User: "deskbot"})
	ctx := context.Background()

	// A read-only call with short arguments: GET, api.version=1, the token header.
	_, err := c.Call(ctx, "listaccts", client.Args{"search": {"demo"}}, nil)
	require.NoError(t, err)
	r := s.reqs[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/json-api/listaccts", r.URL.Path)
	assert.Equal(t, "1", r.URL.Query().Get("api.version"))
	assert.Equal(t, "demo", r.URL.Query().Get("search"))
	assert.Equal(t, "whm deskbot:"+token, r.Header.Get("Authorization"))

	// A change: POST form, nothing in the URL but the version.
	_, err = c.Call(ctx, "suspendacct", client.Args{"user": {"demo1"}, "reason": {"abuse"}}, nil)
	require.NoError(t, err)
	r = s.reqs[1]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "api.version=1", r.URL.RawQuery)
	form, _ := url.ParseQuery(s.body[1])
	assert.Equal(t, "demo1", form.Get("user"))
	assert.Equal(t, "1", form.Get("api.version"), "and in the body, where WHM reads a POST's parameters")

	// A read-only call with a repeated parameter: POST form.
	_, err = c.Call(ctx, "get_users_features_settings", client.Args{"user": {"a", "b"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, s.reqs[2].Method)
	form, _ = url.ParseQuery(s.body[2])
	assert.Equal(t, []string{"a", "b"}, form["user"])

	// A read-only call with a long argument: POST form.
	_, err = c.Call(ctx, "listaccts", client.Args{"search": {strings.Repeat("x", 2000)}}, nil)
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, s.reqs[3].Method)

	// A JSON-body function.
	_, err = c.Call(ctx, "php_fpm_config_set", nil, map[string]any{"domain": "demo1.example"})
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, s.reqs[4].Method)
	assert.Contains(t, s.reqs[4].Header.Get("Content-Type"), "application/json")
	assert.JSONEq(t, `{"domain":"demo1.example","api.version":1}`, s.body[4])
}

func TestChangesAreNeverRetried(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := newClient(t, srv, client.Options{})
	_, err := c.Call(context.Background(), "removeacct", client.Args{"username": {"x"}}, nil)
	require.Error(t, err)
	assert.Equal(t, 1, calls, "a change is sent once, whatever happens")
	calls = 0
	_, err = c.Call(context.Background(), "version", nil, nil)
	require.Error(t, err)
	assert.Equal(t, 3, calls, "a read is retried")
}

func TestRefusalsAndAccessDenied(t *testing.T) {
	s, err := sim.New(sim.Options{Token: token})
	require.NoError(t, err)
	hp, stop, err := s.Listen()
	require.NoError(t, err)
	defer stop()
	host, port, _ := net.SplitHostPort(hp)
	p, _ := strconv.Atoi(port)
	ctx := context.Background()

	c, err := client.New(client.Options{Host: host, Port: p, Scheme: "http", Token: token})
	require.NoError(t, err)
	_, err = c.Call(ctx, "suspendacct", client.Args{"user": {"nobody"}}, nil)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae, "HTTP 200 with result 0 is a failure")
	assert.Contains(t, ae.Reason, "nobody")

	bad, err := client.New(client.Options{Host: host, Port: p, Scheme: "http", Token: "wrong"})
	require.NoError(t, err)
	_, err = bad.Call(ctx, "version", nil, nil)
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, err.Error(), "Access denied")
}

func TestBatch(t *testing.T) {
	s, err := sim.New(sim.Options{Token: token})
	require.NoError(t, err)
	hp, stop, err := s.Listen()
	require.NoError(t, err)
	defer stop()
	host, port, _ := net.SplitHostPort(hp)
	p, _ := strconv.Atoi(port)
	c, err := client.New(client.Options{Host: host, Port: p, Scheme: "http", Token: token})
	require.NoError(t, err)
	res, errs, err := c.Batch(context.Background(), []client.BatchCall{
		{Function: "gethostname"},
		{Function: "accountsummary", Args: client.Args{"user": {"nobody"}}},
		{Function: "systemloadavg"},
	}, false)
	require.NoError(t, err)
	require.Len(t, res, 3)
	var h struct{ Hostname string }
	require.NoError(t, res[0].Decode(&h))
	assert.Equal(t, "server.example.net", h.Hostname)
	assert.Error(t, errs[1], "each call has its own outcome")
	assert.NoError(t, errs[2])
	calls := s.Calls()
	assert.Equal(t, "batch", calls[len(calls)-1].Function, "one request")
}

func pemOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	return path
}

func TestTLS(t *testing.T) {
	srv, _ := recorder(t, true)
	ctx := context.Background()

	// The self-signed certificate is refused by default: verification is
	// never skipped silently.
	c := newClient(t, srv, client.Options{})
	_, err := c.Call(ctx, "version", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")

	// Trusted through a CA file.
	c = newClient(t, srv, client.Options{CAFile: pemOf(t, srv)})
	_, err = c.Call(ctx, "version", nil, nil)
	require.NoError(t, err)

	// Trusted through its pinned fingerprint, with colons or without.
	sum := sha256.Sum256(srv.Certificate().Raw)
	hexed := hex.EncodeToString(sum[:])
	var colons []string
	for i := 0; i < len(hexed); i += 2 {
		colons = append(colons, strings.ToUpper(hexed[i:i+2]))
	}
	for _, fp := range []string{hexed, strings.Join(colons, ":")} {
		c = newClient(t, srv, client.Options{Fingerprint: fp})
		_, err = c.Call(ctx, "version", nil, nil)
		require.NoError(t, err, fp)
	}

	// A different pin is refused, and says which certificate it saw.
	other := sha256.Sum256([]byte("another certificate"))
	c = newClient(t, srv, client.Options{Fingerprint: hex.EncodeToString(other[:])})
	_, err = c.Call(ctx, "version", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not the pinned one")
	assert.Contains(t, err.Error(), hexed)

	// Bad settings are refused up front.
	_, err = client.New(client.Options{Host: "h", Token: "t", Fingerprint: "abc"})
	assert.ErrorContains(t, err, "not a SHA-256")
	_, err = client.New(client.Options{Host: "h", Token: "t", CAFile: filepath.Join(t.TempDir(), "missing.pem")})
	assert.ErrorContains(t, err, "ca_file")
	_, err = client.New(client.Options{Host: "h"})
	assert.ErrorContains(t, err, "token")
}

func TestDescribeHidesSecrets(t *testing.T) {
	srv, _ := recorder(t, false)
	c := newClient(t, srv, client.Options{})
	m, u, body := c.Describe("passwd", client.Args{"user": {"demo1"}, "password": {"hunter2-CANARY"}}, nil)
	assert.Equal(t, "POST", m)
	assert.Contains(t, u, "/json-api/passwd?api.version=1")
	assert.Contains(t, body, "user=demo1")
	assert.NotContains(t, body+u, "hunter2-CANARY")
	_, u, _ = c.Describe("get_password_strength", client.Args{"password": {"hunter2-CANARY"}}, nil)
	assert.NotContains(t, u, "hunter2-CANARY")
	_, _, body = c.Describe("installssl", client.Args{"domain": {"x.example"}, "key": {"-----BEGIN PRIVATE KEY-----\nABC\n-----END PRIVATE KEY-----"}}, nil)
	assert.NotContains(t, body, "ABC")
}
