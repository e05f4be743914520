package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/postgres"
	"github.com/deskbot/deskbot/internal/store/sqldb"
	"github.com/deskbot/deskbot/internal/testbin"
)

// twoReplicas opens two stores on one schema, as two replicas of the bot
// share one database.
func twoReplicas(t *testing.T) (*sqldb.DB, *sqldb.DB) {
	dsn := testbin.PostgresDSN(t)
	open := func() *sqldb.DB {
		s, err := postgres.Open(context.Background(), dsn)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open()
}

var r0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// A retried slash command reaches both replicas: each adds it, and one of
// them must be told it is new, the other that it is a duplicate. Adds
// that arrive together share one statement, so the two replicas insert
// the same keys at once in whatever order they came; no add may fail.
func TestReplicasAddTheSameCommands(t *testing.T) {
	a, b := twoReplicas(t)
	for round := 0; round < 10 && !t.Failed(); round++ {
		addTheSame(t, a, b, fmt.Sprintf("k%d-", round))
	}
}

func addTheSame(t *testing.T, a, b *sqldb.DB, prefix string) {
	ctx := context.Background()
	const n = 400
	var wg sync.WaitGroup
	added := make([][2]bool, n)
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		for r, s := range []*sqldb.DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The replicas see the retries in opposite orders.
				k := i
				if r == 1 {
					k = n - 1 - i
				}
				it := store.InboxItem{Key: fmt.Sprintf("%s%03d", prefix, k), State: store.InboxReceived, Owner: fmt.Sprint("replica-", r),
					LeaseUntil: r0.Add(time.Minute), ReceivedAt: r0, UpdatedAt: r0, Payload: `{"text":"x"}`}
				ok, err := s.InboxAdd(ctx, it)
				if err != nil {
					errs <- fmt.Errorf("replica %d adding %s: %w", r, it.Key, err)
					return
				}
				added[k][r] = ok
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for k, got := range added {
		if got[0] == got[1] {
			t.Errorf("%s%03d: added by replica 0: %v, by replica 1: %v; want exactly one", prefix, k, got[0], got[1])
		}
	}
}

// One replica moves its commands and renews its lease while the other
// (and itself) purges the inbox: old rows still held are scrubbed by the
// purge, which locks them in its own order. No renewal may fail (a lease
// that lapses hands running commands to the other replica), and every
// move must report what it did.
func TestReplicasRenewMoveAndPurge(t *testing.T) {
	a, b := twoReplicas(t)
	ctx := context.Background()
	const n = 1000
	for j := 0; j < n; j++ {
		// Stored out of key order: a table scan meets them in another
		// order than a batch of moves sorted by key.
		i := (j * 773) % n
		it := store.InboxItem{Key: fmt.Sprintf("p-%04d", i), State: store.InboxReceived, Owner: "a",
			LeaseUntil: r0.Add(time.Minute), ReceivedAt: r0.Add(time.Duration(n-i) * time.Millisecond), UpdatedAt: r0, Payload: `{"text":"x"}`}
		if i%2 == 0 {
			it.State = store.InboxStarted
		}
		_, err := a.InboxAdd(ctx, it)
		require.NoError(t, err)
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	var mu sync.Mutex
	var bgErrs []error
	loop := func(name string, pause time.Duration, f func(k int) error) {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for k := 1; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := f(k); err != nil {
					mu.Lock()
					bgErrs = append(bgErrs, fmt.Errorf("%s: %w", name, err))
					mu.Unlock()
				}
				time.Sleep(pause)
			}
		}()
	}
	loop("renew", 20*time.Millisecond, func(k int) error { return a.InboxRenew(ctx, "a", r0.Add(time.Duration(60+k)*time.Second)) })
	purge := func(s *sqldb.DB) func(int) error {
		return func(int) error {
			// Put payloads back so that each purge scrubs every held row
			// (one row a statement: these lock nothing else).
			for i := 0; i < n; i += 7 {
				if err := s.Exec(ctx, `UPDATE inbox SET payload = 'x' WHERE key = $1 AND state IN ('received', 'started')`, fmt.Sprintf("p-%04d", i)); err != nil {
					return err
				}
			}
			_, err := s.InboxPurge(ctx, r0.Add(time.Hour))
			return err
		}
	}
	loop("purge on a", 5*time.Millisecond, purge(a))
	loop("purge on b", 5*time.Millisecond, purge(b))
	// Moves go back and forth between received and started for a while,
	// each key by one goroutine: every one must apply.
	var wg sync.WaitGroup
	const movers = 40
	deadline := time.Now().Add(3 * time.Second)
	for g := 0; g < movers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; time.Now().Before(deadline); round++ {
				for i := g; i < n; i += movers {
					key := fmt.Sprintf("p-%04d", i)
					from, to := store.InboxReceived, store.InboxStarted
					if (i%2 == 0) != (round%2 == 1) {
						from, to = to, from
					}
					ok, err := a.InboxMove(ctx, key, "a", from, to, r0, false)
					if err != nil {
						t.Errorf("move %s: %v", key, err)
						return
					}
					if !ok {
						t.Errorf("move %s from %s: not moved", key, from)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	for _, err := range bgErrs {
		t.Error(err)
	}
}

// A move that waits on a row another session holds (another replica's
// long transaction) must not hold up the renewal of this replica's other
// commands: their lease would lapse, and another replica would take
// commands still running here for dead ones.
func TestRenewalDoesNotWaitForAStuckMove(t *testing.T) {
	dsn := testbin.PostgresDSN(t)
	a, err := postgres.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	ctx := context.Background()
	for _, k := range []string{"x-1", "x-2"} {
		_, err := a.InboxAdd(ctx, store.InboxItem{Key: k, State: store.InboxStarted, Owner: "a",
			LeaseUntil: r0.Add(time.Minute), ReceivedAt: r0, UpdatedAt: r0, Payload: "x"})
		require.NoError(t, err)
	}
	other, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil)
	require.NoError(t, err)
	unlock := sync.OnceFunc(func() { _ = tx.Rollback() })
	defer unlock()
	_, err = tx.ExecContext(ctx, `SELECT key FROM inbox WHERE key = 'x-1' FOR UPDATE`)
	require.NoError(t, err)

	moved := make(chan error, 1)
	go func() {
		_, err := a.InboxMove(ctx, "x-1", "a", store.InboxStarted, store.InboxDone, r0, true)
		moved <- err
	}()
	// Wait until the move waits on x-1, as the server reports it.
	deadline := time.Now().Add(testbin.Patience)
	for {
		var waiting int
		require.NoError(t, other.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
		if waiting > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the move never waited on x-1")
		time.Sleep(10 * time.Millisecond)
	}

	// A renewal that waited for x-1 would wait until its context ends
	// (the lock is held until the test releases it) and fail.
	rctx, cancel := context.WithTimeout(ctx, testbin.Patience)
	defer cancel()
	err = a.InboxRenew(rctx, "a", r0.Add(2*time.Minute))
	if err != nil {
		unlock()
	}
	require.NoError(t, err, "the renewal waited for a move stuck on another session's lock")
	got, err := a.InboxGet(ctx, "x-2")
	require.NoError(t, err)
	assert.Equal(t, r0.Add(2*time.Minute), got.LeaseUntil, "x-2's lease is renewed")
	unlock()
	require.NoError(t, <-moved)
}
