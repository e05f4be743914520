// Package sqlite opens the store on a SQLite file (pure Go, no cgo): the
// default for a single bot process.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/deskbot/deskbot/internal/store/sqldb"
)

// Dialect is SQLite's for sqldb. It relies on the connection beginning
// transactions IMMEDIATE (as DSN makes it): each write transaction holds
// the database's write lock from its first statement, so migrations and
// audit appends need no lock of their own.
var Dialect = sqldb.Dialect{
	Name: "sqlite",
	// SQLite's LIKE ignores case for ASCII letters (case_sensitive_like
	// is off by default).
	ILike:     "LIKE",
	OneWriter: true,
	// Commits never checkpoint (wal_autocheckpoint(0) in DSN): a
	// background PASSIVE checkpoint, which waits for no reader or writer,
	// keeps the write-ahead log short instead.
	Checkpoint: "PRAGMA wal_checkpoint(PASSIVE)",
	// Once the log holds 4,096 frames (16 MB of 4 kB pages) after a
	// passive checkpoint, a restart starts it over; journal_size_limit
	// (DSN) cuts the file back to 64 MB when it does.
	CheckpointEvery: 250 * time.Millisecond,
	Restart:         "PRAGMA wal_checkpoint(RESTART)",
	RestartFrames:   4096,
	RestartWait:     100 * time.Millisecond,
	Serialize:       func(context.Context, *sql.Tx, int64) error { return nil },
	IsUniqueViolation: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE)
	},
}

// maxConns bounds the pool. Writers take turns on the file's lock
// whatever their number; readers in WAL mode do not wait on them.
const maxConns = 16

// busyTimeout is how long a connection waits for another process holding
// the file before it fails with "database is locked".
const busyTimeout = 10 * time.Second

// DSN is the database/sql data source Open uses for path (driver
// "sqlite"). Every transaction waits up to busyTimeout for another
// process holding the file, and begins IMMEDIATE: it takes the write
// lock at once, so two processes migrating the same file take turns and
// the second sees the first's work. WAL mode is not set here but by Open
// (see useWAL); once set, it stays with the file. No commit checkpoints
// the write-ahead log (Dialect.Checkpoint does, in the background).
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path, in WAL mode with
// writers serialized by immediate transactions, and brings its schema up
// to date.
func Open(ctx context.Context, path string, opts ...sqldb.Option) (*sqldb.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, err
	}
	// Keep the connections open: a new one runs DSN's pragmas and reads
	// the schema before its first statement, and prepares every statement
	// again. With database/sql's default of two idle connections, a busy
	// bot opened and closed one for most queries.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := useWAL(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s, err := sqldb.Open(ctx, db, Dialect, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// useWAL puts the file in WAL mode. Switching a new file to WAL needs its
// exclusive lock; two processes switching it at once (both started on a
// fresh file) each hold a shared lock and want the other's, and SQLite
// fails one of them with "database is locked" at once rather than wait.
// That one tries again, briefly, and finds the file already in WAL mode,
// which needs no lock to confirm.
func useWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	wait := 5 * time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("set WAL mode: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set WAL mode: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}
