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
	// RewriteSlack is how far before the time of the last entry shipped
	// the shipper looks for entries to ship again when the log was cut
	// or rewritten under its cursor (clock skew between replicas;
	// default 1m).
	RewriteSlack time.Duration
	// Delivered, if set, is called after each batch is delivered and its
	// cursor stored (tests wait on it).
	Delivered func(dest string, seq int64)
	// Progress, if set, is told after each attempt how far behind the
	// log's head the destination is (entries not yet delivered), and
	// whether the attempt failed: the metrics behind the shipping alerts.
	// behind is -1 when it could not be read.
	Progress func(dest string, behind int64, err error)
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
	// reported is the cursor each destination last reported a cut
	// under, so a retried batch does not say it again.
	reported []store.AuditPosition
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
	if o.RewriteSlack <= 0 {
		o.RewriteSlack = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Shipper{st: st, dests: dests, o: o, mu: make([]sync.Mutex, len(dests)), reported: make([]store.AuditPosition, len(dests))}
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
		s.progress(ctx, i, err)
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
// moves the cursor past them. It returns how many it sent. If the log no
// longer holds the entry at the cursor (cut short, or rewritten: new
// entries then reuse the old sequence numbers), it says so and ships the
// entries written since again; the receiver sees the repeated sequence
// numbers, and their prev and hash, for itself.
func (s *Shipper) batch(ctx context.Context, i int) (int, error) {
	s.mu[i].Lock()
	defer s.mu[i].Unlock()
	d := s.dests[i]
	cursor, err := s.st.AuditCursor(ctx, d.Name())
	if err != nil {
		return 0, fmt.Errorf("read the cursor: %w", err)
	}
	after, reset := cursor.Seq, false
	if cursor.Seq > 0 {
		problem, err := s.holds(ctx, cursor)
		if err != nil {
			return 0, fmt.Errorf("read the log: %w", err)
		}
		if problem != "" {
			from, err := s.resumeFrom(ctx, cursor)
			if err != nil {
				return 0, fmt.Errorf("read the log: %w", err)
			}
			if s.reported[i] != cursor {
				s.reported[i] = cursor
				again := "no entry was written since"
				if from > 0 {
					again = fmt.Sprintf("shipping the entries written since again, from entry %d (the receiver sees the repeated sequence numbers)", from)
				}
				s.o.Logger.Error(fmt.Sprintf("the audit log was cut or rewritten after entries up to %d were shipped to %s: %s; %s", cursor.Seq, d.Name(), problem, again),
					"destination", d.Name(), "cursor", cursor.Seq)
			}
			if from == 0 {
				// Nothing new: the cursor goes back to the head, so the
				// next entries ship as usual.
				head, err := s.head(ctx)
				if err != nil {
					return 0, fmt.Errorf("read the log: %w", err)
				}
				if _, err := s.st.ResetAuditCursor(ctx, d.Name(), cursor, head, s.o.Clock.Now()); err != nil {
					return 0, fmt.Errorf("store the cursor: %w", err)
				}
				return 0, nil
			}
			after, reset = from-1, true
		}
	}
	var recs []store.AuditRecord
	err = s.st.ScanAudit(ctx, store.AuditFilter{AfterSeq: after, Limit: s.o.Batch}, func(r store.AuditRecord) error {
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
	last := store.PositionOf(recs[len(recs)-1])
	if reset {
		// Another replica may have moved it meanwhile: then it stays.
		_, err = s.st.ResetAuditCursor(ctx, d.Name(), cursor, last, s.o.Clock.Now())
	} else {
		err = s.st.AdvanceAuditCursor(ctx, d.Name(), last, s.o.Clock.Now())
	}
	if err != nil {
		return 0, fmt.Errorf("store the cursor: %w", err)
	}
	if s.o.Delivered != nil {
		s.o.Delivered(d.Name(), last.Seq)
	}
	return len(recs), nil
}

// holds says what is wrong if the log no longer holds the entry at the
// cursor, "" if it does.
func (s *Shipper) holds(ctx context.Context, cursor store.AuditPosition) (string, error) {
	var found *store.AuditRecord
	err := s.st.ScanAudit(ctx, store.AuditFilter{AfterSeq: cursor.Seq - 1, Limit: 1}, func(r store.AuditRecord) error {
		found = &r
		return nil
	})
	if err != nil {
		return "", err
	}
	switch {
	case found != nil && found.Seq == cursor.Seq && (cursor.Hash == "" || found.Hash == cursor.Hash):
		return "", nil
	case found != nil && found.Seq == cursor.Seq:
		return fmt.Sprintf("entry %d no longer has the hash that was shipped", cursor.Seq), nil
	}
	head, err := s.head(ctx)
	if err != nil {
		return "", err
	}
	if head.Seq < cursor.Seq {
		return fmt.Sprintf("the log now ends at entry %d", head.Seq), nil
	}
	return fmt.Sprintf("entry %d is gone", cursor.Seq), nil
}

// resumeFrom is the first entry to ship again after a cut or rewrite
// under the cursor (0 if none): the first written since the entry at the
// cursor was, less the slack; with no time kept, the whole log.
func (s *Shipper) resumeFrom(ctx context.Context, cursor store.AuditPosition) (int64, error) {
	f := store.AuditFilter{Limit: 1}
	if !cursor.At.IsZero() {
		f.Since = cursor.At.Add(-s.o.RewriteSlack)
	}
	var from int64
	err := s.st.ScanAudit(ctx, f, func(r store.AuditRecord) error {
		from = r.Seq
		return nil
	})
	return from, err
}

// progress reports how far behind the head a destination is after an
// attempt (see Options.Progress).
func (s *Shipper) progress(ctx context.Context, i int, err error) {
	if s.o.Progress == nil || ctx.Err() != nil {
		return
	}
	name := s.dests[i].Name()
	behind := int64(-1)
	cursor, cerr := s.st.AuditCursor(ctx, name)
	head, herr := s.head(ctx)
	if ctx.Err() != nil {
		return // stopping: what it read is not the destination's state
	}
	if cerr == nil && herr == nil {
		behind = max(head.Seq-cursor.Seq, 0)
	}
	s.o.Progress(name, behind, err)
}

// head is the log's last entry's position (zero if the log is empty).
func (s *Shipper) head(ctx context.Context) (store.AuditPosition, error) {
	var head store.AuditPosition
	err := s.st.ScanAudit(ctx, store.AuditFilter{Newest: true, Limit: 1}, func(r store.AuditRecord) error {
		head = store.PositionOf(r)
		return nil
	})
	return head, err
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
