package sqldb

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

// The dialect's checkpoint runs in the background while the store is
// open, and never after Close.
func TestCheckpointsRunInTheBackgroundUntilClose(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE ticks (n INTEGER)`)
	require.NoError(t, err)
	d := sqliteDialect
	d.Checkpoint = `INSERT INTO ticks VALUES (1)`
	d.CheckpointEvery = time.Millisecond
	s, err := Open(context.Background(), db, d, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)

	count := func() int {
		var n int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ticks`).Scan(&n))
		return n
	}
	deadline := time.Now().Add(testbin.Patience)
	for count() < 3 {
		require.True(t, time.Now().Before(deadline), "the checkpoint never ran")
		time.Sleep(5 * time.Millisecond)
	}
	// The loop ends when the store closes (Close waits for it; a loop
	// that did not stop would hang this test).
	require.NoError(t, s.Close())
}
