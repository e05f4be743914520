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

// Under a steady stream of commits a passive checkpoint never ends with
// the log fully copied, so the log is never started over: it grew by
// gigabytes a minute under load. Once the checkpoint reports
// RestartFrames frames in the log, the restart runs too, and only then.
// (Here the "checkpoint" reports the rows of w as its frames, and the
// "restart" records that it ran.)
func TestCheckpointRestartsTheLogPastItsThreshold(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "r.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE w (n INTEGER); CREATE TABLE restarts (n INTEGER)`)
	require.NoError(t, err)
	d := sqliteDialect
	d.OneWriter = true
	d.Checkpoint = `SELECT 0, (SELECT COUNT(*) FROM w), 0`
	d.CheckpointEvery = time.Hour // this test runs the checkpoint itself
	d.Restart = `INSERT INTO restarts VALUES (1) RETURNING 0, 0, 0`
	d.RestartFrames = 50
	d.RestartWait = testbin.Patience
	s, err := Open(context.Background(), db, d, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	restarts := func() int {
		var n int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM restarts`).Scan(&n))
		return n
	}
	for i := range 49 {
		require.NoError(t, s.Exec(context.Background(), `INSERT INTO w VALUES ($1)`, i))
	}
	require.NoError(t, s.checkpoint())
	assert.Equal(t, 0, restarts(), "below the threshold")
	require.NoError(t, s.Exec(context.Background(), `INSERT INTO w VALUES (50)`))
	require.NoError(t, s.checkpoint())
	assert.Equal(t, 1, restarts(), "at the threshold")
}
