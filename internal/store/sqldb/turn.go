package sqldb

import (
	"context"
	"sync"
	"time"
)

// turnstile gives this process's writers turns on a database that takes
// one writer at a time (Dialect.OneWriter). Waiters are handed the turn
// in order, the urgent ones first: an acknowledgement Slack is waiting
// on goes ahead of audit entries and state changes, which wait at most
// one transaction longer.
type turnstile struct {
	mu     sync.Mutex
	held   bool
	urgent []chan struct{}
	normal []chan struct{}
}

// acquire waits for the turn. It fails, holding nothing, if ctx ends
// first.
func (t *turnstile) acquire(ctx context.Context, urgent bool) error {
	t.mu.Lock()
	if !t.held {
		t.held = true
		t.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if urgent {
		t.urgent = append(t.urgent, ch)
	} else {
		t.normal = append(t.normal, ch)
	}
	t.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	if t.remove(ch) {
		t.mu.Unlock()
		return ctx.Err()
	}
	t.mu.Unlock()
	// The turn was handed over as ctx ended: pass it on.
	<-ch
	t.release()
	return ctx.Err()
}

// remove takes ch out of the queues, reporting whether it was there.
func (t *turnstile) remove(ch chan struct{}) bool {
	for _, q := range []*[]chan struct{}{&t.urgent, &t.normal} {
		for i, c := range *q {
			if c == ch {
				*q = append((*q)[:i], (*q)[i+1:]...)
				return true
			}
		}
	}
	return false
}

// release ends the turn, handing it to the next waiter if there is one.
func (t *turnstile) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, q := range []*[]chan struct{}{&t.urgent, &t.normal} {
		if len(*q) > 0 {
			next := (*q)[0]
			*q = (*q)[1:]
			close(next)
			return
		}
	}
	t.held = false
}

// waiting reports how many wait for the turn (for tests).
func (t *turnstile) waiting() (urgent, normal int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.urgent), len(t.normal)
}

// turn waits for this process's turn to write, when the dialect takes
// one writer at a time (Dialect.OneWriter), and returns the function
// that ends it; elsewhere it returns at once. A writer holds its turn
// from before its transaction begins until after it commits or rolls
// back, and never asks for a second one while holding it.
func (s *DB) turn(ctx context.Context) (func(), error) {
	return s.takeTurn(ctx, false)
}

// urgentTurn is turn for a write someone is waiting on right now (the
// inbox's adds, which Slack's acknowledgement waits for).
func (s *DB) urgentTurn(ctx context.Context) (func(), error) {
	return s.takeTurn(ctx, true)
}

func (s *DB) takeTurn(ctx context.Context, urgent bool) (func(), error) {
	if s.writeTurn == nil {
		return func() {}, nil
	}
	if err := s.writeTurn.acquire(ctx, urgent); err != nil {
		return nil, err
	}
	return s.writeTurn.release, nil
}

// committer is the loop of a goroutine that writes what callers queue
// on ch in batches (see submit): what arrives together is written
// together, one transaction for many requests. With linger, under load
// it waits a moment for more before writing; without, a batch is what
// queued while the one before was written. On Close it writes what is
// still queued, one at a time, and calls closing.
func committer[T any](s *DB, ch chan T, linger bool, write func([]T), closing func()) {
	defer s.committer.Done()
	last := 0
	for {
		var first T
		select {
		case first = <-ch:
		case <-s.closed:
			if closing != nil {
				defer closing()
			}
			for {
				select {
				case req := <-ch:
					write([]T{req})
				default:
					return
				}
			}
		}
		batch := []T{first}
		// Under load (the last batch held several requests) wait a
		// moment for more: a transaction costs far more than a row.
		// Alone, a request is written at once.
		gather(&batch, ch, linger && last > 1)
		last = len(batch)
		write(batch)
	}
}

// gather adds what else is queued to batch (up to 256); under load it
// waits a millisecond for more.
func gather[T any](batch *[]T, ch chan T, wait bool) {
	var timer *time.Timer
	var tc <-chan time.Time
	if wait {
		timer = time.NewTimer(time.Millisecond)
		defer timer.Stop()
		tc = timer.C
	}
	for len(*batch) < 256 {
		select {
		case req := <-ch:
			*batch = append(*batch, req)
			continue
		default:
		}
		if tc == nil {
			return
		}
		select {
		case req := <-ch:
			*batch = append(*batch, req)
		case <-tc:
			return
		}
	}
}
