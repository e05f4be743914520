package sqldb

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/testbin"
)

// Close while a batch of moves waits for its turn behind another writer:
// the batch is written once the writer is done, its callers hear what
// happened to their moves, and Close returns; nothing waits for ever.
// A renewal queued behind the batch with a context that ends gives up.
func TestCloseDuringABatchWaitingForItsTurn(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	d := sqliteDialect
	d.OneWriter = true
	s, err := Open(context.Background(), db, d, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, k := range []string{"a", "b"} {
		_, err := s.InboxAdd(ctx, store.InboxItem{Key: k, State: store.InboxReceived, Owner: "me", LeaseUntil: t0.Add(time.Minute), ReceivedAt: t0, UpdatedAt: t0, Payload: "x"})
		require.NoError(t, err)
	}

	// Another writer holds the turn.
	require.NoError(t, s.writeTurn.acquire(ctx, false))
	moved := make(chan bool, 2)
	for _, k := range []string{"a", "b"} {
		go func() {
			ok, err := s.InboxMove(ctx, k, "me", store.InboxReceived, store.InboxStarted, t0, false)
			assert.NoError(t, err, k)
			moved <- ok
		}()
	}
	waitQueued(t, s.writeTurn, 0, 1) // the batch waits for the turn
	rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	renewed := make(chan error, 1)
	go func() { renewed <- s.InboxRenew(rctx, "me", t0.Add(2*time.Minute)) }()
	select {
	case err := <-renewed:
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the renewal gives up when its context ends")
	case <-time.After(testbin.Patience):
		t.Fatal("a renewal waiting for its turn ignored its context")
	}

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-s.closed: // Close has begun, with the batch still waiting
	case <-time.After(testbin.Patience):
		t.Fatal("Close never began")
	}
	s.writeTurn.release()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(testbin.Patience):
		t.Fatal("Close hung while a batch waited for its turn")
	}
	n := 0
	for range 2 {
		select {
		case ok := <-moved:
			if ok {
				n++
			}
		case <-time.After(testbin.Patience):
			t.Fatal("a move's caller never heard back")
		}
	}
	assert.Equal(t, 2, n, "both moves were written before Close returned")
	_, err = s.InboxMove(ctx, "a", "me", store.InboxStarted, store.InboxDone, t0, true)
	assert.ErrorIs(t, err, errStoreClosed)
}
