package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func answer(status int, limit, remaining, reset string) *http.Response {
	h := http.Header{}
	if limit != "" {
		h.Set("X-Rate-Limit-Limit", limit)
		h.Set("X-Rate-Limit-Remaining", remaining)
		h.Set("X-Rate-Limit-Reset", reset)
	}
	return &http.Response{StatusCode: status, Header: h}
}

func TestWindowLimiterProbesThenSpendsWhatIsLeft(t *testing.T) {
	l := NewWindowLimiter(25, time.Minute)
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx))
	// Until the first answer, a second call waits.
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	assert.Error(t, l.Wait(short), "one call at a time before the allowance is known")
	cancel()
	l.Observe(answer(200, "3", "2", "60"))
	require.NoError(t, l.Wait(ctx))
	require.NoError(t, l.Wait(ctx))
	short, cancel = context.WithTimeout(ctx, 30*time.Millisecond)
	assert.Error(t, l.Wait(short), "the two calls left are spent")
	cancel()
}

func TestWindowLimiterWaitsForTheReset(t *testing.T) {
	l := NewWindowLimiter(25, time.Minute)
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx))
	l.Observe(answer(200, "1", "0", "0.15"))
	start := time.Now()
	require.NoError(t, l.Wait(ctx))
	assert.GreaterOrEqual(t, time.Since(start), 120*time.Millisecond, "waited for the window to reset")
	// A 429 empties the allowance until its reset.
	l.Observe(answer(429, "1", "0", "0.1"))
	start = time.Now()
	require.NoError(t, l.Wait(ctx))
	assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)
	_, throttled := l.Stats()
	assert.Equal(t, 1, throttled)
}

func TestWindowLimiterCapsCallsInFlight(t *testing.T) {
	l := NewWindowLimiter(25, time.Minute)
	l.MaxInFlight = 2
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx))
	l.Observe(answer(200, "100", "99", "60"))
	require.NoError(t, l.Wait(ctx))
	require.NoError(t, l.Wait(ctx))
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	assert.Error(t, l.Wait(short), "two in flight")
	cancel()
	l.Observe(nil) // one ends without an answer
	require.NoError(t, l.Wait(ctx))
}

// Against a server that counts: concurrent callers never exceed its window.
func TestWindowLimiterAgainstAServer(t *testing.T) {
	var mu sync.Mutex
	var winStart time.Time
	count, maxSeen := 0, 0
	var refused atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if winStart.IsZero() || now.Sub(winStart) >= 200*time.Millisecond {
			winStart, count = now, 0
		}
		reset := (200*time.Millisecond - now.Sub(winStart)).Seconds()
		w.Header().Set("X-Rate-Limit-Limit", "4")
		w.Header().Set("X-Rate-Limit-Reset", formatSeconds(reset))
		if count >= 4 {
			refused.Add(1)
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.WriteHeader(429)
			return
		}
		count++
		maxSeen = max(maxSeen, count)
		w.Header().Set("X-Rate-Limit-Remaining", formatInt(4-count))
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL)
	require.NoError(t, err)
	c.Limiter = NewWindowLimiter(25, time.Minute)
	c.RetryRateLimited = true
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x"})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, maxSeen, 4)
	assert.LessOrEqual(t, refused.Load(), int32(1))
}

func TestNoRetrySendsOnce(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := New(srv.URL)
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Method: http.MethodGet, Path: "/change", NoRetry: true})
	require.Error(t, err)
	assert.Equal(t, int32(1), n.Load(), "a GET that changes things is not repeated")
}

func formatSeconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

func formatInt(n int) string { return strconv.Itoa(n) }
