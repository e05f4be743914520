package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
