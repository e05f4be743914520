package audit

import "time"

// Clock is time as the checkpointer and the SIEM shipper see it; tests
// use a fake one (audittest.Clock) and never wait for the wall clock.
type Clock interface {
	Now() time.Time
	// NewTimer delivers on its channel once d has passed, unless stopped.
	NewTimer(d time.Duration) Timer
}

// Timer is a [Clock]'s timer.
type Timer interface {
	C() <-chan time.Time
	Stop()
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements [Clock].
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer implements [Clock].
func (SystemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop()               { t.t.Stop() }

// sleep waits d on c, or until ctx ends; it reports whether d passed.
func sleep(c Clock, done <-chan struct{}, d time.Duration) bool {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return false
	case <-t.C():
		return true
	}
}
