package audit

import "time"

// Clock is time as the checkpointer and the SIEM shipper see it; tests
// use a fake one (audittest.Clock) and never wait for the wall clock.
type Clock interface {
	Now() time.Time
	// After delivers once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements [Clock].
func (SystemClock) Now() time.Time { return time.Now() }

// After implements [Clock].
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
