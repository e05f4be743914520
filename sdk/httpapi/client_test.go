package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newClient(t *testing.T, h http.HandlerFunc) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL + "/api")
	require.NoError(t, err)
	c.MaxRetryWait = 50 * time.Millisecond
	c.Sleep = noWait
	return c, srv
}

// noWait stands in for the backoff between attempts: no test waits on the
// clock.
func noWait(ctx context.Context, d time.Duration) error { return ctx.Err() }

// Retries follow the declared effect, never the method: CLN changes things
// with GET, and an undeclared request is treated as a change.
func TestOnlyRequestsDeclaredReadingAreRetried(t *testing.T) {
	cases := map[string]struct {
		method string
		effect Effect
		sent   int32
	}{
		"GET declared reading":   {"GET", Reads, 3},
		"POST declared reading":  {"POST", Reads, 3},
		"GET declared changing":  {"GET", Changes, 1},
		"POST declared changing": {"POST", Changes, 1},
		"GET undeclared":         {"GET", Undeclared, 1},
		"DELETE undeclared":      {"DELETE", Undeclared, 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int32
			c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			_, err := c.Do(context.Background(), &Request{Method: tc.method, Path: "/x", Effect: tc.effect})
			require.Error(t, err)
			assert.Equal(t, tc.sent, n.Load())
			var he *Error
			require.True(t, errors.As(err, &he))
			assert.Equal(t, 503, he.Status)
			assert.Equal(t, tc.effect != Reads, OutcomeUnknown(err), "a change answered 503 by a gateway may have been done: %v", err)
			if tc.effect != Reads {
				assert.Contains(t, err.Error(), "check before trying again")
			}
		})
	}
}

// A change that never left the machine has a known outcome: it was not
// done. It is still not re-sent.
func TestAChangeThatWasNotSentIsNotUnknown(t *testing.T) {
	c, err := New("http://127.0.0.1:1/api")
	require.NoError(t, err)
	c.Sleep = noWait
	_, err = c.Do(context.Background(), &Request{Method: "POST", Path: "/x", Effect: Changes})
	require.Error(t, err)
	assert.False(t, OutcomeUnknown(err), "%v", err)
}

// A change answered with an ordinary error (the provider refused it) has
// a known outcome too.
func TestARefusedChangeIsNotUnknown(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnprocessableEntity) })
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/x", Effect: Changes})
	require.Error(t, err)
	assert.False(t, OutcomeUnknown(err))
}

func TestRateLimitedIsRetriedAfterTheServersWait(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	})
	var out struct{ OK bool }
	_, err := c.JSON(context.Background(), &Request{Method: "GET", Path: "/x", Effect: Reads}, &out)
	require.NoError(t, err)
	assert.True(t, out.OK)

	// A change answered 429 is re-sent only when the client says the API
	// refuses such requests unprocessed; its method does not matter.
	for _, method := range []string{"PUT", "GET"} {
		n.Store(0)
		c.RetryRateLimited = false
		_, err = c.Do(context.Background(), &Request{Method: method, Path: "/x", Effect: Changes})
		require.Error(t, err)
		assert.Equal(t, int32(1), n.Load())
		assert.False(t, OutcomeUnknown(err), "a 429 was refused unprocessed")
		n.Store(0)
		c.RetryRateLimited = true
		_, err = c.Do(context.Background(), &Request{Method: method, Path: "/x", Effect: Changes})
		require.NoError(t, err)
		assert.Equal(t, int32(2), n.Load())
	}
}

func TestCancellationReachesTheRequest(t *testing.T) {
	// The server never answers: only a cancelled request ends the call.
	arrived := make(chan struct{})
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := c.Do(ctx, &Request{Method: "GET", Path: "/slow", Effect: Reads})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)

	// A change cancelled while the server works on it may still be done.
	arrived = make(chan struct{})
	ctx, cancel = context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err = c.Do(ctx, &Request{Method: "POST", Path: "/slow", Effect: Changes})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.True(t, OutcomeUnknown(err), "%v", err)
}

func TestErrorsAreScrubbed(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"message":"bad","password":"hunter2","echo":"` + r.URL.Query().Get("token") + `"}`))
	})
	c.Redactor.AddSecret("canary-token-xyz")
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/x", Query: map[string][]string{"token": {"canary-token-xyz"}, "ip": {"1.2.3.4"}}})
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "canary-token-xyz")
	assert.NotContains(t, msg, "hunter2")
	assert.Contains(t, msg, "HTTP 400")
	assert.Contains(t, msg, "ip=1.2.3.4")

	// Transport errors quote the URL: scrubbed as well.
	c2, err := New("http://127.0.0.1:1/api")
	require.NoError(t, err)
	c2.MaxAttempts = 1
	_, err = c2.Do(context.Background(), &Request{Method: "GET", Path: "/x", Query: map[string][]string{"token": {"canary-token-xyz"}}})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "canary-token-xyz")
}

type countingLimiter struct{ n atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error { l.n.Add(1); return ctx.Err() }

func TestLimiterIsWaitedOnEveryAttempt(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	l := &countingLimiter{}
	c.Limiter = l
	_, _ = c.Do(context.Background(), &Request{Method: "GET", Path: "/x", Effect: Reads})
	assert.Equal(t, int32(3), l.n.Load())
}

func TestURLJoinAndDescribe(t *testing.T) {
	c, err := New("https://cln.example.com/api/")
	require.NoError(t, err)
	u := c.URL(&Request{Path: "/ipl/check.json?ip=1.2.3.4", Query: map[string][]string{"token": {"a|b"}}})
	assert.Equal(t, "https://cln.example.com/api/ipl/check.json?ip=1.2.3.4&token=a%7Cb", u.String())
	m, e := c.Describe(&Request{Method: "get", Path: "/ipl/check.json", Query: map[string][]string{"token": {"x"}, "ip": {"1.2.3.4"}}})
	assert.Equal(t, "GET", m)
	assert.Equal(t, "https://cln.example.com/api/ipl/check.json?ip=1.2.3.4&token=%5BREDACTED%5D", e)

	_, err = New("cln.example.com")
	assert.ErrorContains(t, err, "not an absolute")
	_, err = New("ftp://x/")
	assert.ErrorContains(t, err, "scheme must be http or https")
}

func TestBadJSONIsAClearError(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"truncated":`)) })
	var out map[string]any
	_, err := c.JSON(context.Background(), &Request{Path: "/x"}, &out)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "not the JSON expected"), err.Error())
}
