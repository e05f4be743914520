package httpapi

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The limiter's tests run in synctest bubbles: time is fake and moves only
// when every goroutine of the test is blocked, so a wait, a window and a
// late answer mean the same on a busy machine as on an idle one.

func answer(status int, limit, remaining, reset string) *http.Response {
	h := http.Header{}
	if limit != "" {
		h.Set("X-Rate-Limit-Limit", limit)
		h.Set("X-Rate-Limit-Remaining", remaining)
		h.Set("X-Rate-Limit-Reset", reset)
	}
	return &http.Response{StatusCode: status, Header: h}
}

// reserveLater asks for a turn in the background; the channel yields the
// done function once the turn is given.
func reserveLater(t *testing.T, l *WindowLimiter) <-chan func(*http.Response) {
	got := make(chan func(*http.Response), 1)
	go func() {
		done, err := l.Reserve(t.Context())
		if err == nil {
			got <- done
		}
	}()
	return got
}

// given reports whether a turn asked for with reserveLater has been given,
// once every goroutine of the bubble has done what it can.
func given(ch <-chan func(*http.Response)) (func(*http.Response), bool) {
	synctest.Wait()
	select {
	case d := <-ch:
		return d, true
	default:
		return nil, false
	}
}

func reserve(t *testing.T, l *WindowLimiter) func(*http.Response) {
	t.Helper()
	done, err := l.Reserve(t.Context())
	require.NoError(t, err)
	return done
}

func TestWindowLimiterProbesThenSpendsWhatIsLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(25, time.Minute)
		first := reserve(t, l)
		second := reserveLater(t, l)
		_, ok := given(second)
		assert.False(t, ok, "one call at a time before the allowance is known")

		first(answer(200, "3", "2", "60"))
		d2, ok := given(second)
		require.True(t, ok, "the answer told the allowance: two more may go")
		d3 := reserve(t, l)
		fourth := reserveLater(t, l)
		_, ok = given(fourth)
		assert.False(t, ok, "the two calls left are spent")

		d2(answer(200, "3", "1", "59"))
		d3(answer(200, "3", "0", "59"))
		_, ok = given(fourth)
		assert.False(t, ok, "nothing left until the window ends")
		time.Sleep(58 * time.Second)
		_, ok = given(fourth)
		assert.False(t, ok, "not before the reset")
		time.Sleep(3 * time.Second)
		_, ok = given(fourth)
		assert.True(t, ok, "after the reset, the allowance is back")
	})
}

func TestWindowLimiterWaitsForTheReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(25, time.Minute)
		reserve(t, l)(answer(200, "1", "0", "0.150"))
		start := time.Now()
		done := reserve(t, l)
		assert.Equal(t, 151*time.Millisecond, time.Since(start), "waited for the window to end, and the header's last digit")

		// A 429 empties the allowance until its reset.
		done(answer(429, "1", "0", "0.100"))
		start = time.Now()
		reserve(t, l)(nil)
		assert.Equal(t, 101*time.Millisecond, time.Since(start))
		_, throttled := l.Stats()
		assert.Equal(t, 1, throttled)

		// A 429 without a reset header blocks for DefaultReset.
		l.DefaultReset = 7 * time.Second
		done = reserve(t, l)
		done(&http.Response{StatusCode: 429, Header: http.Header{}})
		start = time.Now()
		reserve(t, l)(nil)
		assert.Equal(t, 7*time.Second, time.Since(start))
	})
}

func TestWindowLimiterCapsCallsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(25, time.Minute)
		l.MaxInFlight = 2
		reserve(t, l)(answer(200, "100", "99", "60"))
		d1 := reserve(t, l)
		reserve(t, l)
		third := reserveLater(t, l)
		_, ok := given(third)
		assert.False(t, ok, "two in flight")
		d1(nil) // one ends without an answer
		_, ok = given(third)
		assert.True(t, ok)
	})
}

func TestWindowLimiterWaitCountsTheTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(25, time.Minute)
		reserve(t, l)(answer(200, "2", "1", "10"))
		require.NoError(t, l.Wait(t.Context()), "Wait takes the last turn of the window")
		next := reserveLater(t, l)
		_, ok := given(next)
		assert.False(t, ok, "a turn taken with Wait is spent")
		time.Sleep(11 * time.Second)
		_, ok = given(next)
		assert.True(t, ok)
	})
}

// An answer read long after the server sent it, once the allowance has
// refilled, is from a window already over: it must not move the end of
// the window the limiter now counts in, or the limiter would refill early,
// while the server's window still holds the calls sent since.
func TestWindowLimiterIgnoresAnswersFromAnEndedWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(25, time.Minute)
		t0 := time.Now()
		reserve(t, l)(answer(200, "3", "2", "10.000"))
		late := reserve(t, l) // its answer will be read late
		reserve(t, l)(answer(200, "3", "0", "10.000"))
		time.Sleep(time.Until(t0.Add(10001 * time.Millisecond)))

		// The window is over: three may go, less the one still in flight.
		t1 := time.Now()
		a, b := reserve(t, l), reserve(t, l)
		a(answer(200, "3", "2", "10.000"))
		b(answer(200, "3", "1", "10.000"))

		// Two seconds on, the old window's answer arrives: the server sent
		// it 2.1 s into that window. Read now, it seems to say the window
		// ends in 7.9 s, before the one holding a and b does.
		time.Sleep(2 * time.Second)
		late(answer(200, "3", "1", "7.900"))
		next := reserveLater(t, l)
		time.Sleep(time.Until(t1.Add(9950 * time.Millisecond)))
		_, ok := given(next)
		assert.False(t, ok, "the stale answer did not end the window early")
		time.Sleep(time.Until(t1.Add(10001 * time.Millisecond)))
		_, ok = given(next)
		assert.True(t, ok)
	})
}

// A call sent late in a window may reach the server after that window
// ended and begin the next one. Its answer says so: the end it implies
// lies beyond anything the old window allowed. The limiter then counts in
// the new window, and does not refill when the old one would have ended.
func TestWindowLimiterFollowsANewerWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(25, time.Minute)
		t0 := time.Now()
		first := reserve(t, l)
		time.Sleep(2 * time.Second) // the server began its window at t0+1 s; the answer is read at t0+2 s
		first(answer(200, "5", "4", "60"))
		reserve(t, l)(answer(200, "5", "3", "59"))
		reserve(t, l)(answer(200, "5", "2", "59"))

		time.Sleep(time.Until(t0.Add(60500 * time.Millisecond)))
		x, y := reserve(t, l), reserve(t, l)
		time.Sleep(1500 * time.Millisecond) // they began the server's next window at t0+61.5 s
		x(answer(200, "5", "4", "60"))
		y(answer(200, "5", "3", "60"))
		for range 3 {
			reserve(t, l)(answer(200, "5", "2", "59"))
		}
		more := reserveLater(t, l)
		_, ok := given(more)
		assert.False(t, ok, "the new window's five are spent")
		time.Sleep(time.Until(t0.Add(122900 * time.Millisecond)))
		_, ok = given(more)
		assert.False(t, ok, "no refill when the old window would have ended, nor before the new one has")
		time.Sleep(time.Until(t0.Add(123 * time.Second)))
		_, ok = given(more)
		assert.True(t, ok)
	})
}

// When every call since a refill ends without an answer, the limiter
// knows nothing of the window; it probes with one call rather than stall.
func TestWindowLimiterProbesWhenAnswersAreLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(25, time.Minute)
		reserve(t, l)(answer(200, "2", "0", "1"))
		time.Sleep(2100 * time.Millisecond)
		a, b := reserve(t, l), reserve(t, l)
		a(nil)
		b(nil)
		probe := reserveLater(t, l)
		d, ok := given(probe)
		require.True(t, ok, "one call may probe")
		second := reserveLater(t, l)
		_, ok = given(second)
		assert.False(t, ok, "only one")
		d(answer(200, "2", "1", "30"))
		_, ok = given(second)
		assert.True(t, ok)
	})
}

// The limiter's promise, against a server that counts every call that
// reaches it (refused or not) in fixed windows, through a network that
// delays each leg of each call at random, reordering answers and reading
// some of them after their window has ended. No window may ever see more
// calls than the allowance, and every call must go through.
func TestWindowLimiterNeverExceedsTheAllowance(t *testing.T) {
	cases := map[string]struct {
		limit     int
		window    time.Duration
		maxDelay  time.Duration
		wholeSecs bool // the reset header in whole seconds, as IONOS sends it
		callers   int
		calls     int
	}{
		"IONOS: 25 a minute, whole seconds, delays up to 20 s": {25, time.Minute, 20 * time.Second, true, 10, 12},
		"5 a second, milliseconds, delays up to 2 windows":     {5, time.Second, 2 * time.Second, false, 8, 15},
		"3 in 250 ms, delays up to a window":                   {3, 250 * time.Millisecond, 250 * time.Millisecond, false, 6, 10},
	}
	for name, tc := range cases {
		for seed := uint64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("%s/seed %d", name, seed), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					srv := &windowServer{limit: tc.limit, window: tc.window, wholeSecs: tc.wholeSecs}
					net := &slowNet{h: srv, max: tc.maxDelay, rng: rand.New(rand.NewPCG(seed, 7))}
					c, err := New("https://api.test")
					require.NoError(t, err)
					c.HTTP = &http.Client{Transport: net}
					c.Limiter = NewWindowLimiter(25, time.Minute)
					c.RetryRateLimited = true

					var wg sync.WaitGroup
					for range tc.callers {
						wg.Go(func() {
							for range tc.calls {
								_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x"})
								assert.NoError(t, err)
							}
						})
					}
					wg.Wait()
					most, refused, total := srv.stats()
					assert.LessOrEqual(t, most, tc.limit, "calls that reached the server in one window")
					assert.Zero(t, refused, "calls refused with 429")
					assert.Equal(t, tc.callers*tc.calls, total)
				})
			})
		}
	}
}

// windowServer is an API with a fixed-window allowance: a window starts
// with the first call after the last one ended. It counts every call that
// reaches it, refused or not.
type windowServer struct {
	limit     int
	window    time.Duration
	wholeSecs bool

	mu       sync.Mutex
	start    time.Time
	count    int
	most     int
	refused  int
	accepted int
}

func (s *windowServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.start.IsZero() || !now.Before(s.start.Add(s.window)) {
		s.start, s.count = now, 0
	}
	s.count++
	s.most = max(s.most, s.count)
	left := s.start.Add(s.window).Sub(now)
	reset := strconv.FormatFloat(math.Ceil(left.Seconds()*1000)/1000, 'f', 3, 64)
	if s.wholeSecs {
		reset = strconv.Itoa(int(math.Ceil(left.Seconds())))
	}
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(s.limit))
	w.Header().Set("X-Rate-Limit-Reset", reset)
	if s.count > s.limit {
		s.refused++
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	s.accepted++
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(s.limit-s.count))
	_, _ = w.Write([]byte(`{}`))
}

func (s *windowServer) stats() (most, refused, accepted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.most, s.refused, s.accepted
}

// slowNet carries each request to h and its answer back, each leg after
// its own random delay.
type slowNet struct {
	h   http.Handler
	max time.Duration

	mu  sync.Mutex
	rng *rand.Rand
}

func (n *slowNet) delay() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	// Mostly short, sometimes the whole range: late answers are the rare
	// case that breaks a careless limiter.
	if n.rng.IntN(4) == 0 {
		return time.Duration(n.rng.Int64N(int64(n.max) + 1))
	}
	return time.Duration(n.rng.Int64N(int64(n.max)/20 + 1))
}

func (n *slowNet) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(n.delay())
	rec := httptest.NewRecorder()
	n.h.ServeHTTP(rec, r)
	time.Sleep(n.delay())
	return rec.Result(), nil
}

// spent is a limiter whose allowance a 429 has emptied until 90 s from
// its (frozen) clock.
func spent(t *testing.T) (*WindowLimiter, time.Time) {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := NewWindowLimiter(25, time.Minute)
	l.Now = func() time.Time { return now }
	done, err := l.Reserve(context.Background())
	require.NoError(t, err)
	done(&http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"X-Rate-Limit-Reset": {"90"}}})
	return l, now
}

// A call that would wait past MaxWait is refused at once, naming the
// reset; none waits until its caller's deadline.
func TestWindowLimiterRefusesAWaitBeyondMaxWait(t *testing.T) {
	l, now := spent(t)
	l.MaxWait = time.Minute
	_, err := l.Reserve(context.Background())
	var qe *QueueError
	require.ErrorAs(t, err, &qe)
	assert.ErrorIs(t, err, ErrQueueTooLong)
	assert.WithinDuration(t, now.Add(91*time.Second), qe.Reset, time.Second)
	assert.Contains(t, err.Error(), "03:05:36 UTC")
	assert.Contains(t, err.Error(), "about 91 s")
}

// A call that must wait tells its caller first, with about how long.
func TestWindowLimiterTellsAQueuedCallerHowLong(t *testing.T) {
	l, _ := spent(t)
	ctx, cancel := context.WithCancel(context.Background())
	var told []time.Duration
	ctx = WithQueueNotice(ctx, func(d time.Duration) {
		told = append(told, d)
		cancel() // stop waiting: the test needs only the notice
	})
	_, err := l.Reserve(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, told, 1)
	assert.InDelta(t, 91, told[0].Seconds(), 1)
}

// A caller told it was queued is told when it leaves the queue, before
// its call goes; a caller that gives up is not.
func TestWindowLimiterTellsAQueuedCallerItLeftTheQueue(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := NewWindowLimiter(25, time.Minute)
	l.Now = func() time.Time { return now }
	done, err := l.Reserve(context.Background())
	require.NoError(t, err)
	done(&http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"X-Rate-Limit-Limit": {"25"}, "X-Rate-Limit-Reset": {"90"}}})

	var events []string
	ctx := WithQueueNotice(context.Background(), func(time.Duration) {
		events = append(events, "queued")
		// The window resets: move the clock past it and wake the waiter.
		l.mu.Lock()
		now = now.Add(2 * time.Minute)
		l.broadcast()
		l.mu.Unlock()
	})
	ctx = WithQueueLeft(ctx, func() { events = append(events, "left") })
	done, err = l.Reserve(ctx)
	require.NoError(t, err)
	done(nil)
	assert.Equal(t, []string{"queued", "left"}, events)

	// Given up: no "left".
	l2, _ := spent(t)
	cctx, cancel := context.WithCancel(context.Background())
	events = nil
	cctx = WithQueueNotice(cctx, func(time.Duration) { events = append(events, "queued"); cancel() })
	cctx = WithQueueLeft(cctx, func() { events = append(events, "left") })
	_, err = l2.Reserve(cctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"queued"}, events)
}
