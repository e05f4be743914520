// Package sandbox holds what every provider's simulator needs the same
// way: for now, its clock.
package sandbox

import (
	"fmt"
	"sync"
	"time"
)

// Clock is a simulator's sense of time: how far along a power action, a
// transaction or a restore is.
//
// A wall clock (Wall, or a nil *Clock) follows time.Now, as the provider
// does. A stepped clock (Stepped) moves only when the simulator answers an
// API call, by the same step each time. Work that takes a minute at the
// provider then takes a known number of calls, so a user following it sees
// the same states in the same order on a busy machine as on an idle one:
// what tests and recorded demos need.
type Clock struct {
	mu   sync.Mutex
	step time.Duration // 0: the wall clock
	now  time.Time
}

// Wall returns a clock that follows time.Now.
func Wall() *Clock { return nil }

// Stepped returns a clock that starts at the wall clock's now and moves by
// step each time Tick is called.
func Stepped(step time.Duration) *Clock {
	return &Clock{step: step, now: time.Now()}
}

// ParseStep reads a sandbox setting that asks for a stepped clock: a
// positive duration ("500ms") for Stepped, or "" for the wall clock.
func ParseStep(setting, value string) (*Clock, error) {
	if value == "" {
		return Wall(), nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("setting %s %q is not a positive duration like 500ms", setting, value)
	}
	return Stepped(d), nil
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Tick moves a stepped clock on by its step; a simulator calls it once
// for every API call it answers. A wall clock ignores it.
func (c *Clock) Tick() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
}

// Resume moves a stepped clock to t if t is later: a simulator that loads
// state saved by an earlier run resumes from that run's time, which a
// stepped clock may have taken past the wall clock's. A wall clock
// ignores it.
func (c *Clock) Resume(t time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}
