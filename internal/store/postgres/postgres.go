// Package postgres opens the store on PostgreSQL: for several bot
// replicas sharing approvals and the audit log.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/deskbot/deskbot/internal/store/sqldb"
)

// Dialect is PostgreSQL's for sqldb. Serialize takes a transaction-level
// advisory lock: it is held until the transaction commits or rolls back,
// so a migration run (one transaction) keeps it from its first statement
// to its commit, and a replica starting at the same time waits for it.
var Dialect = sqldb.Dialect{
	Name:       "postgres",
	ForUpdate:  " FOR UPDATE",
	SkipLocked: " SKIP LOCKED",
	// 15 parameters a row: 1,500 a statement, far below the protocol's
	// 65,535.
	BatchRows: 100,
	// No ILike: ILIKE, which folds case character by character under
	// the database's locale, read a month of a million-entry log several
	// times slower than LIKE on LOWER of both sides.
	// See sqldb.Dialect.ProcessDurable.
	ProcessDurable: "SET synchronous_commit TO OFF",
	Serialize: func(ctx context.Context, tx *sql.Tx, key int64) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
		return err
	},
	IsUniqueViolation: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	LockTimeout: 10 * time.Second,
	SetLockTimeout: func(ctx context.Context, tx *sql.Tx, d time.Duration) error {
		// SET takes no parameters; the value is a number of milliseconds.
		_, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", d.Milliseconds()))
		return err
	},
	IsLockTimeout: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "55P03" // lock_not_available
	},
	IsDeadlock: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "40P01" // deadlock_detected
	},
}

// Open connects with a libpq-style URL or DSN and migrates the schema.
// A search_path parameter in the DSN selects the schema.
func Open(ctx context.Context, dsn string, opts ...sqldb.Option) (*sqldb.DB, error) {
	// pgx's parse errors quote the string, and a DSN holds a password (or
	// is one, when a secret names the wrong key): say only what is wrong.
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return nil, errors.New("the DSN is not a PostgreSQL connection string (want postgres://USER:PASSWORD@HOST/DB or host=... user=... key=value pairs)")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	// Keep every connection the pool may open: a new PostgreSQL session
	// is a new server process and a TCP (often TLS) handshake, and
	// database/sql's default of two idle connections closed most of them
	// after one query under load. Idle ones go after five minutes.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	s, err := sqldb.Open(ctx, db, Dialect, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
