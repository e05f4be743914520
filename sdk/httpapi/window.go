package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WindowLimiter paces calls to an API that allows a number of calls per
// fixed window and reports its count in response headers
// (X-Rate-Limit-Limit, -Remaining, and -Reset in seconds). Share one per
// API key: every caller of the key waits its turn instead of failing.
//
// Its promise is that no window the server counts ever sees more calls
// from it than the allowance, however late answers arrive and in
// whatever order: on a busy machine an answer can sit unread for long
// enough to look as if it came from the next window, and a limiter that
// believed it would spend an allowance twice.
//
// How it keeps that promise: the server tells how long its window still
// runs at the moment it answers, and that moment lies between when the
// call was sent and when its answer was read. So each answer bounds the
// end of the server's window from both sides: no earlier than sent+reset
// and no later than read+reset (widened by the header's precision). The
// limiter refills only once the latest bound it holds for the current
// window has passed; an answer whose earliest bound lies past that is
// from a newer window, and one whose earliest bound lies before the last
// refill is from a window already over, so it teaches nothing.
//
// Until the first answer tells it the allowance, it lets one call through
// at a time. A 429 empties the allowance until the reset the answer gives
// (or DefaultReset).
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
	// MaxWait, if set, bounds how long Reserve waits for the window to
	// reset: a longer wait fails at once with a [*QueueError] naming the
	// reset, instead of holding the caller until its deadline.
	MaxWait time.Duration

	mu        sync.Mutex
	limit     int
	remaining int       // calls that may still go in the current window; -1: not known yet
	windowEnd time.Time // no earlier than the end of the server's current window; zero: not known
	lastEnd   time.Time // the window end of the last refill: answers that start before it are stale
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

// Wait takes a turn whose answer the limiter never learns. The Client
// uses Reserve instead; Wait exists so that a WindowLimiter is a Limiter.
func (l *WindowLimiter) Wait(ctx context.Context) error {
	done, err := l.Reserve(ctx)
	if err != nil {
		return err
	}
	done(nil)
	return nil
}

// Reserve blocks until a call may go, or ctx ends. The caller sends the
// call at once and then calls done exactly once with the answer, or with
// nil when none came.
func (l *WindowLimiter) Reserve(ctx context.Context) (done func(*http.Response), err error) {
	waited := false
	var noticed time.Time
	defer func() {
		// A caller told it was queued is told it no longer is, unless it
		// gave up (then the call is over anyway).
		if !noticed.IsZero() && ctx.Err() == nil {
			if fn, ok := ctx.Value(queueLeftKey{}).(func()); ok {
				fn()
			}
		}
	}()
	for {
		l.mu.Lock()
		now := l.now()
		if !l.windowEnd.IsZero() && !now.Before(l.windowEnd) && l.limit > 0 {
			// The server's window is surely over: the allowance refills,
			// less what is still in flight (the server may count those in
			// the new one).
			l.remaining = max(0, l.limit-l.inflight)
			l.lastEnd, l.windowEnd = l.windowEnd, time.Time{}
		}
		room := l.MaxInFlight == 0 || l.inflight < l.MaxInFlight
		// With nothing known (no answer yet, or every answer since the
		// last refill lost), one call at a time probes.
		probe := l.inflight == 0 && (l.remaining < 0 || l.remaining == 0 && l.windowEnd.IsZero())
		if room && (l.remaining > 0 || probe) {
			probed := l.remaining <= 0
			if l.remaining > 0 {
				l.remaining--
			}
			l.inflight++
			if waited {
				l.waits++
			}
			l.mu.Unlock()
			var once sync.Once
			return func(resp *http.Response) { once.Do(func() { l.observe(now, probed, resp) }) }, nil
		}
		wake := l.changed
		var timer *time.Timer
		var tc <-chan time.Time
		var reset time.Time
		if l.remaining == 0 && !l.windowEnd.IsZero() {
			reset = l.windowEnd
			if l.MaxWait > 0 && reset.Sub(now) > l.MaxWait {
				l.mu.Unlock()
				return nil, &QueueError{Reset: reset, Wait: reset.Sub(now), MaxWait: l.MaxWait}
			}
			timer = time.NewTimer(reset.Sub(now))
			tc = timer.C
		}
		l.mu.Unlock()
		if !reset.IsZero() && !reset.Equal(noticed) {
			if fn, ok := ctx.Value(queueNoticeKey{}).(func(time.Duration)); ok {
				fn(reset.Sub(now))
			}
			noticed = reset
		}
		waited = true
		select {
		case <-ctx.Done():
		case <-wake:
		case <-tc:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// ErrQueueTooLong is wrapped by the error of a call that would have had
// to wait longer than [WindowLimiter.MaxWait] for the provider's window.
var ErrQueueTooLong = errors.New("the provider's request limit is spent for longer than the bot waits")

// QueueError is a call refused before it was sent: the key's allowance is
// spent until Reset, which is further away than MaxWait.
type QueueError struct {
	Reset         time.Time
	Wait, MaxWait time.Duration
}

func (e *QueueError) Error() string {
	return fmt.Sprintf("the request limit is spent until %s (about %d s from now), longer than the %s the bot waits; nothing was sent, try again after that",
		e.Reset.UTC().Format("15:04:05 MST"), int(e.Wait.Round(time.Second)/time.Second), e.MaxWait)
}

func (e *QueueError) Unwrap() error { return ErrQueueTooLong }

type queueNoticeKey struct{}

// WithQueueNotice returns ctx carrying notice: when a call made with it
// must wait for a [WindowLimiter]'s window to reset, Reserve calls notice
// once per reset with about how long the wait is, before it waits. A
// command uses it to tell its user that it is queued.
func WithQueueNotice(ctx context.Context, notice func(wait time.Duration)) context.Context {
	return context.WithValue(ctx, queueNoticeKey{}, notice)
}

type queueLeftKey struct{}

// WithQueueLeft returns ctx carrying left: when a call made with it was
// queued (its queue notice was given), Reserve calls left once the call
// stops waiting, because its turn came or because the wait became too
// long (a [*QueueError]); not when ctx ended. A command that reports
// queue waits as [sdk.ProgressQueued] uses it to report that the wait is
// over, so that the bot's clock runs again.
func WithQueueLeft(ctx context.Context, left func()) context.Context {
	return context.WithValue(ctx, queueLeftKey{}, left)
}

// observe learns from the answer to a call sent at sent; probed tells
// that the call went while the limiter knew nothing of the window.
func (l *WindowLimiter) observe(sent time.Time, probed bool, resp *http.Response) {
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
	// lo and hi bound the end of the window the answer was counted in.
	var lo, hi time.Time
	if reset, prec, ok := parseReset(h.Get(l.ResetHeader)); ok {
		lo, hi = sent.Add(reset-prec), now.Add(reset+prec)
	}
	known := !lo.IsZero()
	if known && !l.lastEnd.IsZero() && !lo.After(l.lastEnd) {
		// From a window that was over when the allowance last refilled.
		return
	}
	newer := known && !l.windowEnd.IsZero() && lo.After(l.windowEnd)
	if newer {
		l.lastEnd = l.windowEnd
	}

	if resp.StatusCode == http.StatusTooManyRequests {
		l.throttled++
		l.remaining = 0
		if !known {
			hi = now.Add(l.DefaultReset)
		}
		l.extend(hi, newer)
		return
	}
	rem, err := strconv.Atoi(strings.TrimSpace(h.Get(l.RemainingHeader)))
	if err != nil {
		if l.remaining < 0 && l.Fallback > 0 {
			// The API does not say: assume the fallback allowance.
			l.limit, l.remaining, l.windowEnd = l.Fallback, max(0, l.Fallback-1-l.inflight), now.Add(l.FallbackWindow)
		}
		return
	}
	// Calls still in flight may already be counted in rem, or may yet be.
	avail := max(0, rem-l.inflight)
	switch {
	case l.remaining < 0 || probed || newer:
		// First news, or news of a window the server began without us
		// refilling: what it has left is what we may spend.
		l.remaining = avail
	default:
		l.remaining = min(l.remaining, avail)
	}
	if !known && l.windowEnd.IsZero() && l.FallbackWindow > 0 {
		hi = now.Add(l.FallbackWindow)
	}
	l.extend(hi, newer)
}

// extend moves the window end to hi: replacing it when the answer is from
// a newer window, otherwise only ever later.
func (l *WindowLimiter) extend(hi time.Time, newer bool) {
	if hi.IsZero() {
		return
	}
	if newer || hi.After(l.windowEnd) {
		l.windowEnd = hi
	}
}

// parseReset reads a reset header: seconds, possibly fractional. prec is
// the header's precision (1 s for "42", 1 ms for "0.250"), by which the
// server's rounding may be off in either direction.
func parseReset(v string) (reset, prec time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || s < 0 || s > 1e6 {
		return 0, 0, false
	}
	prec = time.Second
	if _, frac, found := strings.Cut(v, "."); found {
		for range min(len(frac), 9) {
			prec /= 10
		}
	}
	return time.Duration(s * float64(time.Second)), prec, true
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
