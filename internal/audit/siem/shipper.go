package siem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/store"
)

// Destination receives batches of entries, oldest first. Deliver returns
// nil only once the receiver has them all.
type Destination interface {
	// Name identifies the destination: it keys its cursor and names it
	// in logs, so it never holds a secret.
	Name() string
	Deliver(ctx context.Context, recs []store.AuditRecord) error
}

// Store is what the shipper reads and where it keeps its cursors.
type Store interface {
	store.Audit
	store.AuditCursors
}

// Options configures a [Shipper].
type Options struct {
	// Batch is the most entries sent at once (default 100).
	Batch int
	// Poll is how often it looks for entries written by other replicas
	// when nothing wakes it (default 5s).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts while a
	// receiver is down (default 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
	Clock                  audit.Clock
	Logger                 *slog.Logger
	// Delivered, if set, is called after each batch is delivered and its
	// cursor stored (tests wait on it).
	Delivered func(dest string, seq int64)
}

// Shipper sends every audit entry to each destination at least once: it
// reads from the destination's cursor, delivers a batch, and only then
// moves the cursor. A crash between the two sends the batch again.
type Shipper struct {
	st    Store
	dests []Destination
	o     Options
	wake  []chan struct{}
	// mu serializes a destination's batches (Run and Flush).
	mu []sync.Mutex
}

// New returns a shipper; Run starts it.
func New(st Store, dests []Destination, o Options) (*Shipper, error) {
	seen := map[string]bool{}
	for _, d := range dests {
		if seen[d.Name()] {
			return nil, fmt.Errorf("audit shipping: %s is configured twice", d.Name())
		}
		seen[d.Name()] = true
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	if o.Clock == nil {
		o.Clock = audit.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Shipper{st: st, dests: dests, o: o, mu: make([]sync.Mutex, len(dests))}
	for range dests {
		s.wake = append(s.wake, make(chan struct{}, 1))
	}
	return s, nil
}

// Notify tells the shipper new entries are stored; it never blocks.
func (s *Shipper) Notify() {
	for _, w := range s.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Run ships until ctx ends, one loop per destination.
func (s *Shipper) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range s.dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, i)
		}()
	}
	wg.Wait()
}

func (s *Shipper) loop(ctx context.Context, i int) {
	d := s.dests[i]
	failures := 0
	var outage time.Time
	for ctx.Err() == nil {
		n, err := s.batch(ctx, i)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			if failures == 1 {
				// One warning per outage, not one per attempt.
				outage = s.o.Clock.Now()
				s.o.Logger.Warn("audit shipping failed; entries wait in the log and are retried with backoff", "destination", d.Name(), "err", err)
			}
			t := s.o.Clock.NewTimer(s.backoff(failures))
			select {
			case <-ctx.Done():
			case <-t.C():
			}
			t.Stop()
			continue
		}
		if failures > 0 {
			s.o.Logger.Info("audit shipping recovered", "destination", d.Name(), "attempts", failures, "down_for", s.o.Clock.Now().Sub(outage).String())
			failures = 0
		}
		if n == s.o.Batch {
			continue // more are waiting
		}
		t := s.o.Clock.NewTimer(s.o.Poll)
		select {
		case <-ctx.Done():
		case <-s.wake[i]:
		case <-t.C():
		}
		t.Stop()
	}
}

func (s *Shipper) backoff(failures int) time.Duration {
	d := s.o.MinBackoff
	for i := 1; i < failures && d < s.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.o.MaxBackoff)
}

// batch delivers the next entries after the destination's cursor and
// moves the cursor past them. It returns how many it sent.
func (s *Shipper) batch(ctx context.Context, i int) (int, error) {
	s.mu[i].Lock()
	defer s.mu[i].Unlock()
	d := s.dests[i]
	cursor, err := s.st.AuditCursor(ctx, d.Name())
	if err != nil {
		return 0, fmt.Errorf("read the cursor: %w", err)
	}
	var recs []store.AuditRecord
	err = s.st.ScanAudit(ctx, store.AuditFilter{AfterSeq: cursor, Limit: s.o.Batch}, func(r store.AuditRecord) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the log: %w", err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	if err := d.Deliver(ctx, recs); err != nil {
		return 0, err
	}
	last := recs[len(recs)-1].Seq
	if err := s.st.AdvanceAuditCursor(ctx, d.Name(), last, s.o.Clock.Now()); err != nil {
		return 0, fmt.Errorf("store the cursor: %w", err)
	}
	if s.o.Delivered != nil {
		s.o.Delivered(d.Name(), last)
	}
	return len(recs), nil
}

// Flush ships what is waiting, to every destination, until each has
// caught up or fails; at shutdown, so a clean stop leaves nothing behind
// that a receiver that is up could have had.
func (s *Shipper) Flush(ctx context.Context) error {
	var errs []error
	for i, d := range s.dests {
		for {
			n, err := s.batch(ctx, i)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", d.Name(), err))
				break
			}
			if n < s.o.Batch {
				break
			}
		}
	}
	return errors.Join(errs...)
}
