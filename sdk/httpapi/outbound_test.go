package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
)

const canaryToken = "CANARY-outbound-token-77aa"

// behindProxy returns a client with a header and a query credential, whose
// requests go through a fault proxy to a server that answers {"ok":true}.
func behindProxy(t *testing.T) (*Client, *faultproxy.Proxy) {
	t.Helper()
	p := faultproxy.New(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	c, err := New(p.URL + "/api")
	require.NoError(t, err)
	c.Sleep = noWait
	c.Redactor.AddSecret(canaryToken)
	c.Authorize = func(r *http.Request) error {
		r.Header.Set("X-Token", canaryToken)
		r.Header.Set("Authorization", "Bearer "+canaryToken)
		q := r.URL.Query()
		q.Set("token", canaryToken)
		r.URL.RawQuery = q.Encode()
		return nil
	}
	return c, p
}

func TestAChangeIsSentOnceThroughEveryFault(t *testing.T) {
	for _, fault := range []faultproxy.Fault{faultproxy.BadGatewayAfterWork, faultproxy.ResetAfterWork} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(fault.String()+"/"+method, func(t *testing.T) {
				c, p := behindProxy(t)
				// A first call leaves a kept-alive connection: Go's
				// transport re-sends a GET on its own when a reused
				// connection fails, which must not happen to a change.
				_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/warm", Effect: Reads})
				require.NoError(t, err)

				p.Set(fault)
				_, err = c.Do(context.Background(), &Request{Method: method, Path: "/keys/create", Effect: Changes})
				require.Error(t, err)
				assert.Equal(t, 1, p.Seen(method, "/api/keys/create"), "the change reached the server once")
				assert.True(t, OutcomeUnknown(err), "%v", err)
				assert.Contains(t, err.Error(), "check before trying again")
				assert.NotContains(t, err.Error(), canaryToken)

				_, err = c.Do(context.Background(), &Request{Method: method, Path: "/keys/list", Effect: Reads})
				require.Error(t, err)
				// Three tries, and for a GET perhaps Go's own re-send
				// on a reused connection.
				assert.GreaterOrEqual(t, p.Seen(method, "/api/keys/list"), 3, "a read is retried")
				assert.False(t, OutcomeUnknown(err))
			})
		}
	}
}

func TestAReadRetriedAfterAFaultSucceeds(t *testing.T) {
	c, p := behindProxy(t)
	p.SetFor(faultproxy.ResetAfterWork, 1)
	var out struct{ OK bool }
	_, err := c.JSON(context.Background(), &Request{Path: "/x", Effect: Reads}, &out)
	require.NoError(t, err)
	assert.True(t, out.OK)
	assert.Equal(t, 2, p.Seen("GET", "/api/x"))
}

func TestNoCredentialCrossesARedirectToAnotherHost(t *testing.T) {
	for _, effect := range []Effect{Reads, Changes} {
		t.Run(effect.String(), func(t *testing.T) {
			c, p := behindProxy(t)
			p.Set(faultproxy.RedirectElsewhere)
			_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/servers", Effect: effect})
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrRedirectRefused), "%v", err)
			assert.Contains(t, err.Error(), "not followed")
			assert.NotContains(t, err.Error(), canaryToken)
			assert.False(t, OutcomeUnknown(err), "a redirect is an answer: nothing was done")
			assert.Empty(t, p.Elsewhere(), "the other host received nothing")
			assert.Zero(t, p.Total(), "nor did the API: the proxy answered")
		})
	}
}

func TestARedirectOnTheSameHostIsFollowed(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/old" {
			http.Redirect(w, r, "/api/new", http.StatusFound)
			return
		}
		n.Add(1)
		_, _ = w.Write([]byte(`{}`))
	})
	_, err := c.Do(context.Background(), &Request{Path: "/old", Effect: Reads})
	require.NoError(t, err)
	assert.Equal(t, int32(1), n.Load())
}

func TestHTTPSIsRequiredExceptToLoopback(t *testing.T) {
	for _, ok := range []string{"https://cln.cloudlinux.com/api", "https://203.0.113.7", "http://127.0.0.1:8080/api", "http://127.1.2.3", "http://localhost:9000", "http://[::1]:80/"} {
		_, err := New(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"http://cln.cloudlinux.com/api", "http://203.0.113.7:2087", "http://localhost.example.com", "http://[2001:db8::1]/"} {
		_, err := New(bad)
		assert.ErrorContains(t, err, "plain http is allowed only to loopback", bad)
	}
	_, err := New("https://user:secret-pass@example.com")
	assert.ErrorContains(t, err, "not in the URL")
	assert.NotContains(t, err.Error(), "secret-pass")

	// A base URL changed after New is checked on every call.
	c, err := New("https://example.com")
	require.NoError(t, err)
	c.BaseURL.Scheme = "http"
	_, err = c.Do(context.Background(), &Request{Path: "/x", Effect: Reads})
	assert.ErrorContains(t, err, "plain http")
}

func TestPathEscapesEachSegmentAndRefusesDots(t *testing.T) {
	p, err := Path("servers", "a/b?c=1", "snapshots", "x y%2e")
	require.NoError(t, err)
	assert.Equal(t, "/servers/a%2Fb%3Fc=1/snapshots/x%20y%252e", p)
	c, err := New("https://api.example.com/v1")
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com/v1/servers/a%2Fb%3Fc=1/snapshots/x%20y%252e?k=v", c.URL(&Request{Path: p, Query: map[string][]string{"k": {"v"}}}).String())
	assert.Equal(t, "https://api.example.com/v1/zones/my%20zone", c.URL(&Request{Path: "/zones/my zone"}).String(), "an unescaped path is escaped")

	for _, bad := range [][]string{{"servers", ""}, {"servers", "."}, {"snapshots", ".."}} {
		_, err := Path(bad...)
		assert.True(t, errors.Is(err, ErrBadPath), "%q: %v", bad, err)
	}
}

func TestADotSegmentIsNeverSent(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1) })
	for _, path := range []string{"/snapshots/..", "/snapshots/../servers", "/snapshots/%2e%2E", "/a/./b", "/a//b"} {
		_, err := c.Do(context.Background(), &Request{Method: "DELETE", Path: path, Effect: Changes})
		require.Error(t, err, path)
		assert.True(t, errors.Is(err, ErrBadPath), "%s: %v", path, err)
		assert.True(t, strings.Contains(err.Error(), "nothing was sent"), err.Error())
	}
	assert.Zero(t, n.Load())
}
