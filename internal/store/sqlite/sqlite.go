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

// Open opens (creating if needed) the database at path, in WAL mode with
// writers serialized by immediate transactions.
func Open(ctx context.Context, path string) (*sqldb.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s, err := sqldb.Open(ctx, db, sqldb.Dialect{
		Name:      "sqlite",
		Serialize: func(context.Context, *sql.Tx, int64) error { return nil },
		IsUniqueViolation: func(err error) bool {
			var se *sqlite.Error
			return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE)
		},
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
