package pluginhost

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/sdk"
)

// fakeClock is a clock whose time moves only when the test says.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c      *fakeClock
	at     time.Time
	f      func()
	active bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f, active: true}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.at, t.active = t.c.now.Add(d), true
	return was
}

// advance moves the time on by d, firing the timers that fall due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if t.active && !t.at.After(c.now) {
			t.active = false
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

var (
	queuedReport = sdk.Progress{State: sdk.ProgressQueued, Percent: -1, Message: "queued behind IONOS's request limit, about 40 s"}
	leftReport   = sdk.Progress{Percent: -1, Message: "out of the queue behind IONOS's request limit"}
)

// Thirty calls in a row behind IONOS's request limit, each queued for
// about 40 s, add up to far more than the call's own time; since the
// queue does not count, the call is not ended as "did not answer in time".
func TestThirtyQueuedCallsDoNotSpendTheCallTimeout(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	expired := false
	c := newCallClock(clk, 30*time.Second, func() { expired = true })
	for i := 0; i < 30; i++ {
		c.observe(queuedReport)
		clk.advance(40 * time.Second)
		c.observe(leftReport)
		clk.advance(500 * time.Millisecond) // the call itself
	}
	assert.False(t, expired, "20 minutes of queue and 15 s of work must not end a 30 s call")

	// The call's own time is still counted: 15 s spent, 15 s left.
	clk.advance(14 * time.Second)
	assert.False(t, expired)
	clk.advance(2 * time.Second)
	assert.True(t, expired, "work beyond the call's own time still ends it")
}

// Reports while queued (the estimate updated) keep the clock paused, and
// a call that is never queued has its call time alone.
func TestRepeatedQueueReportsKeepTheClockPaused(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	expired := false
	c := newCallClock(clk, 10*time.Second, func() { expired = true })
	clk.advance(4 * time.Second)
	c.observe(queuedReport)
	for i := 0; i < 10; i++ {
		clk.advance(30 * time.Second)
		c.observe(queuedReport)
	}
	assert.False(t, expired)
	c.observe(leftReport)
	clk.advance(5 * time.Second)
	assert.False(t, expired, "6 s of the 10 were left when the queue began")
	clk.advance(2 * time.Second)
	assert.True(t, expired)

	plain := false
	c2 := newCallClock(clk, 10*time.Second, func() { plain = true })
	c2.observe(sdk.Progress{Percent: 50, Message: "half way"})
	clk.advance(10 * time.Second)
	assert.True(t, plain, "ordinary progress does not stop the clock")
}
