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

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/deskbot/deskbot/internal/store/sqldb"
)

// Dialect is SQLite's for sqldb. It relies on the connection beginning
// transactions IMMEDIATE (as DSN makes it): each write transaction holds
// the database's write lock from its first statement, so migrations and
// audit appends need no lock of their own.
var Dialect = sqldb.Dialect{
	Name:      "sqlite",
	Serialize: func(context.Context, *sql.Tx, int64) error { return nil },
	IsUniqueViolation: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE)
	},
}

// DSN is the database/sql data source Open uses for path (driver
// "sqlite"). The busy timeout comes first: the pragmas after it (turning
// on WAL takes a lock) and every transaction then wait for another
// process holding the file, instead of failing with "database is
// locked". Transactions begin IMMEDIATE, so two processes migrating the
// same file at once take turns and the second sees the first's work.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
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
	if err := db.PingContext(ctx); err != nil {
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
