package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WindowLimiter paces calls to an API that allows a number of calls per
// window and reports its count in response headers (X-Rate-Limit-Limit,
// -Remaining, -Reset in seconds). Share one per API key: every caller of
// the key waits its turn instead of failing.
//
// Until the first answer tells it the allowance, it lets one call through
// at a time. It then spends exactly what the server reports is left, never
// more, and waits for the reset when nothing is. A 429 empties the
// allowance until the reset the answer gives (or DefaultReset).
type WindowLimiter struct {
	// Header names; the X-Rate-Limit-* family by default.
	LimitHeader, RemainingHeader, ResetHeader string
	// MaxInFlight caps calls at once (APIs often protect themselves
	// against bursts too); 0 means no cap.
	MaxInFlight int
	// Fallback applies when answers carry no rate headers: this many calls
	// per FallbackWindow.
	Fallback       int
	FallbackWindow time.Duration
	// DefaultReset is how long a 429 without a reset header blocks.
	DefaultReset time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time

	mu        sync.Mutex
	limit     int
	remaining int // -1: not known yet
	resetAt   time.Time
	inflight  int
	changed   chan struct{}
	throttled int
	waits     int
}

// NewWindowLimiter returns a limiter that assumes fallback calls per
// window until the API says otherwise.
func NewWindowLimiter(fallback int, window time.Duration) *WindowLimiter {
	return &WindowLimiter{
		LimitHeader: "X-Rate-Limit-Limit", RemainingHeader: "X-Rate-Limit-Remaining", ResetHeader: "X-Rate-Limit-Reset",
		Fallback: fallback, FallbackWindow: window, DefaultReset: 60 * time.Second,
		remaining: -1, changed: make(chan struct{}),
	}
}

func (l *WindowLimiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Wait blocks until a call may go, or ctx ends.
func (l *WindowLimiter) Wait(ctx context.Context) error {
	waited := false
	for {
		l.mu.Lock()
		now := l.now()
		if !l.resetAt.IsZero() && !now.Before(l.resetAt) && l.limit > 0 {
			// The window is over: the allowance refills, less what is
			// still in flight (the server may count those in the new one).
			l.remaining = max(0, l.limit-l.inflight)
			l.resetAt = time.Time{}
		}
		room := l.MaxInFlight == 0 || l.inflight < l.MaxInFlight
		if room && (l.remaining > 0 || l.remaining < 0 && l.inflight == 0) {
			if l.remaining > 0 {
				l.remaining--
			}
			l.inflight++
			if waited {
				l.waits++
			}
			l.mu.Unlock()
			return nil
		}
		wake := l.changed
		var timer *time.Timer
		if l.remaining == 0 && !l.resetAt.IsZero() {
			timer = time.NewTimer(l.resetAt.Sub(now))
		}
		l.mu.Unlock()
		waited = true
		var tc <-chan time.Time
		if timer != nil {
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return ctx.Err()
		case <-wake:
		case <-tc:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// Observe learns from an answer (nil when the call got none).
func (l *WindowLimiter) Observe(resp *http.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.broadcast()
	if l.inflight > 0 {
		l.inflight--
	}
	if resp == nil {
		return
	}
	now := l.now()
	h := resp.Header
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get(l.LimitHeader))); err == nil && n > 0 {
		l.limit = n
	}
	var reset time.Time
	if s, err := strconv.ParseFloat(strings.TrimSpace(h.Get(l.ResetHeader)), 64); err == nil && s >= 0 {
		reset = now.Add(time.Duration(s * float64(time.Second)))
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		l.throttled++
		l.remaining = 0
		if reset.IsZero() {
			reset = now.Add(l.DefaultReset)
		}
		l.resetAt = reset
		return
	}
	rem, err := strconv.Atoi(strings.TrimSpace(h.Get(l.RemainingHeader)))
	if err != nil {
		if l.remaining < 0 && l.Fallback > 0 {
			// The API does not say: assume the fallback allowance.
			l.limit, l.remaining, l.resetAt = l.Fallback, l.Fallback-1-l.inflight, now.Add(l.FallbackWindow)
		}
		return
	}
	avail := max(0, rem-l.inflight)
	newWindow := !reset.IsZero() && (l.resetAt.IsZero() || reset.After(l.resetAt.Add(10*time.Millisecond)))
	switch {
	case l.remaining < 0 || newWindow:
		// First news, or the server started a window we did not know of.
		l.remaining = avail
	default:
		l.remaining = min(l.remaining, avail)
	}
	if !reset.IsZero() {
		l.resetAt = reset
	}
}

func (l *WindowLimiter) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Stats reports how many calls waited for their turn and how many 429s
// the limiter saw.
func (l *WindowLimiter) Stats() (waited, throttled int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits, l.throttled
}
