package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store/postgres"
	"github.com/deskbot/deskbot/internal/store/sqldb"
	"github.com/deskbot/deskbot/internal/store/sqldb/sqldbtest"
	"github.com/deskbot/deskbot/internal/testbin"
)

// Each database is a fresh schema of the test server (testbin.PostgresDSN).
var backend = sqldbtest.Backend{
	Dialect: postgres.Dialect,
	Fresh: func(t *testing.T) (*sql.DB, func(...sqldb.Option) (*sqldb.DB, error)) {
		dsn := testbin.PostgresDSN(t)
		raw, err := sql.Open("pgx", dsn)
		require.NoError(t, err)
		t.Cleanup(func() { raw.Close() })
		return raw, func(opts ...sqldb.Option) (*sqldb.DB, error) {
			return postgres.Open(context.Background(), dsn, opts...)
		}
	},
}

func TestUpgradeFromEveryVersion(t *testing.T) { sqldbtest.Upgrades(t, backend) }

func TestOpensDatabaseMigratedByNewerVersion(t *testing.T) { sqldbtest.RollingUpgrade(t, backend) }

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	t.Run("fresh", func(t *testing.T) { sqldbtest.ConcurrentOpen(t, backend, 0, 4) })
	t.Run("from version 3", func(t *testing.T) { sqldbtest.ConcurrentOpen(t, backend, 3, 4) })
}

// A replica starting while another migrates waits for it: the migration
// lock is held to the end of the other's transaction, and only then does
// this one read what is applied.
func TestOpenWaitsForAnotherReplicasMigration(t *testing.T) {
	ctx := context.Background()
	dsn := testbin.PostgresDSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	app := "deskbot-migrate-wait-" + hex.EncodeToString(b[:])

	// The other replica: a transaction holding the migration lock.
	other, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727002)`)
	require.NoError(t, err)

	opened := make(chan error, 1)
	go func() {
		s, err := postgres.Open(ctx, dsn+"&application_name="+app)
		if err == nil {
			s.Close()
		}
		opened <- err
	}()

	// Wait until this replica's connection is blocked on a lock.
	deadline := time.Now().Add(testbin.Patience)
	for {
		var n int
		require.NoError(t, other.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'`, app).Scan(&n))
		if n > 0 {
			break
		}
		select {
		case err := <-opened:
			t.Fatalf("Open returned (%v) while another replica held the migration lock", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "Open never waited for the migration lock")
		time.Sleep(10 * time.Millisecond)
	}
	var exists bool
	require.NoError(t, other.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists))
	assert.False(t, exists, "nothing migrated while the lock was held")

	require.NoError(t, tx.Commit())
	require.NoError(t, <-opened, "Open goes on once the lock is released")
	assert.Len(t, sqldbtest.Recorded(t, other), len(sqldbtest.Versions(t)))
}

// A migration that needs a table another session holds (a replica still
// serving a long query) gives up after the dialect's lock timeout instead
// of stalling every query queued behind it, and changes nothing.
func TestMigrationGivesUpOnABusyTable(t *testing.T) {
	ctx := context.Background()
	dsn := testbin.PostgresDSN(t)
	s, err := postgres.Open(ctx, dsn)
	require.NoError(t, err)
	s.Close()

	busy, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer busy.Close()
	tx, err := busy.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	var n int
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM approvals`).Scan(&n), "holds the table until the transaction ends")

	fsys := fstest.MapFS{}
	entries, err := fs.ReadDir(sqldb.Migrations(), "migrations")
	require.NoError(t, err)
	for _, e := range entries {
		body, err := fs.ReadFile(sqldb.Migrations(), "migrations/"+e.Name())
		require.NoError(t, err)
		fsys["m/"+e.Name()] = &fstest.MapFile{Data: body}
	}
	fsys["m/900_busy.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE busy_marker (x INT);\nALTER TABLE approvals ADD COLUMN busy_test TEXT;\n")}

	d := postgres.Dialect
	d.LockTimeout = 200 * time.Millisecond
	raw, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer raw.Close()
	_, err = sqldb.MigrateStatus(ctx, raw, d, fsys, "m")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "migration 900_busy.sql: waited 200ms for a table that another session holds")
	assert.NotContains(t, err.Error(), dsn)

	var marker bool
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT to_regclass('busy_marker') IS NOT NULL`).Scan(&marker))
	assert.False(t, marker, "the migration's earlier statements were rolled back")
	assert.NotContains(t, sqldbtest.Recorded(t, raw), int64(900))

	// Once the table is free, the next start applies it.
	require.NoError(t, tx.Rollback())
	_, err = sqldb.MigrateStatus(ctx, raw, d, fsys, "m")
	require.NoError(t, err)
	assert.Contains(t, sqldbtest.Recorded(t, raw), int64(900))
}
