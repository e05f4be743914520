package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	ok, err := s.Claim(ctx, "k", 1<<40, s0)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Close())
	s, err = sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	ok, err = s.Claim(ctx, "k", 1<<40, s0)
	require.NoError(t, err)
	require.False(t, ok, "the key survived a reopen")
}

// The /ops audit searches read the window (or a user's or a target's
// entries in it) by index: a plan that scans the whole log costs a
// second over a million entries.
func TestAuditSearchesUseIndexes(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	require.NoError(t, err)
	defer s.Close()
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for name, f := range map[string]store.AuditFilter{
		"user":           {Actor: "U0ALICE01", Since: since, Limit: 20},
		"target":         {Target: "web01", Since: since, Limit: 20},
		"text":           {Text: "shop0042", Since: since, Limit: 20},
		"user by time":   {Actor: "U0ALICE01", Since: since, Limit: 20, ByTime: true},
		"target by time": {Target: "web01", Since: since, Limit: 20, ByTime: true},
		"text by time":   {Text: "shop0042", Since: since, Limit: 20, ByTime: true},
		"ticket":         {Ticket: "ops-7"},
		"ticket, newest": {Ticket: "ops-7", Newest: true, Limit: 20},
	} {
		plan, err := s.ExplainAudit(context.Background(), f)
		require.NoError(t, err)
		for _, step := range plan {
			assert.False(t, strings.HasPrefix(step, "SCAN audit_log"), "search by %s scans the log: %v", name, plan)
		}
	}
}

// BenchmarkInboxAccept: how long a slash command's acknowledgement waits
// for its inbox row (see storetest.BenchInboxAccept).
func BenchmarkInboxAccept(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bot.db"))
	require.NoError(b, err)
	defer s.Close()
	storetest.BenchInboxAccept(b, s)
}

// No commit checkpoints the write-ahead log (the store does, in the
// background): a checkpoint inside a commit syncs the database file and
// lands on whichever acknowledgement waits for that commit.
func TestCommitsDoNotCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	db, err := sql.Open("sqlite", sqlite.DSN(path))
	require.NoError(t, err)
	defer db.Close()
	var pages int
	require.NoError(t, db.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&pages))
	assert.Equal(t, 0, pages)
	assert.Equal(t, "PRAGMA wal_checkpoint(PASSIVE)", sqlite.Dialect.Checkpoint, "the store checkpoints instead")
}

// The sweeper's and the heartbeat's queries, written as the store writes
// them, read the held commands' partial indexes (migration 012), and a
// ticket search the index of entries with a ticket (011), rather than
// scan tables that hold every command ever answered.
func TestInboxAndTicketQueriesUsePartialIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	plan, err := s.ExplainAudit(context.Background(), store.AuditFilter{Ticket: "abc-123", Limit: 20, ByTime: true})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(plan, "\n"), "audit_ticket_given", "ticket search plan")

	db, err := sql.Open("sqlite", sqlite.DSN(path))
	require.NoError(t, err)
	defer db.Close()
	held := `state IN ('` + string(store.InboxReceived) + `', '` + string(store.InboxStarted) + `')`
	for q, index := range map[string]string{
		`SELECT key FROM inbox WHERE ` + held + ` AND lease_until <= 1 ORDER BY received_at, key LIMIT 10`: "inbox_held_lease",
		`UPDATE inbox SET lease_until = 2 WHERE key IN (SELECT key FROM inbox WHERE owner = 'me' AND ` + held +
			` AND lease_until < 2 ORDER BY key) AND owner = 'me' AND ` + held + ` AND lease_until < 2`: "inbox_held_owner",
	} {
		rows, err := db.Query("EXPLAIN QUERY PLAN " + q)
		require.NoError(t, err)
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			steps = append(steps, detail)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		assert.Contains(t, strings.Join(steps, "\n"), index, "plan of %s", q)
	}
}
