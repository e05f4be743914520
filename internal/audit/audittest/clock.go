// Package audittest holds test doubles for the audit log's timers.
package audittest

import (
	"context"
	"sync"
	"time"

	"github.com/deskbot/deskbot/internal/audit"
)

// Clock is a fake [audit.Clock]: time moves only when a test calls
// Advance, and a test waits for a timer to be set (WaitForTimers) instead
// of sleeping, so nothing depends on the machine's speed.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  map[*timer]bool
	changed chan struct{}
}

type timer struct {
	c  *Clock
	at time.Time
	ch chan time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.c.timers[t] {
		delete(t.c.timers, t)
		t.c.signal()
	}
}

var _ audit.Clock = (*Clock)(nil)

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, timers: map[*timer]bool{}, changed: make(chan struct{})}
}

// Now implements audit.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer implements audit.Clock.
func (c *Clock) NewTimer(d time.Duration) audit.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers[t] = true
	c.signal()
	return t
}

func (c *Clock) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Advance moves the clock by d and fires the timers that are due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
			delete(c.timers, t)
		}
	}
	c.signal()
}

// Timers is how many timers are set and not yet fired or stopped.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitForTimers blocks until exactly n timers are set (the loops under
// test have gone back to sleep) or ctx ends; it reports whether they are.
func (c *Clock) WaitForTimers(ctx context.Context, n int) bool {
	for {
		c.mu.Lock()
		got, ch := len(c.timers), c.changed
		c.mu.Unlock()
		if got == n {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}
