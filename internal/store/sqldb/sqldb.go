// Package sqldb implements the store over database/sql. The sqlite and
// postgres packages open it with their driver and dialect; the SQL is the
// same for both.
package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is what differs between databases.
type Dialect struct {
	Name string
	// ForUpdate is appended to a SELECT that must lock its row.
	ForUpdate string
	// SkipLocked is appended to a SELECT that locks rows (after
	// ForUpdate) when rows another transaction holds may be left out
	// rather than waited for (PostgreSQL's SKIP LOCKED; "" where rows are
	// not locked one by one).
	SkipLocked string
	// Serialize runs at the start of a transaction that must not run
	// concurrently with another of the same key (audit appends,
	// migrations) and holds until it ends: PostgreSQL takes a
	// transaction-level advisory lock. SQLite needs nothing here as long
	// as its transactions begin IMMEDIATE (the sqlite package opens the
	// file with _txlock=immediate): the first statement then already
	// holds the database's one write lock.
	Serialize func(ctx context.Context, tx *sql.Tx, key int64) error
	// IsUniqueViolation recognises a duplicate-key error.
	IsUniqueViolation func(error) bool
	// LockTimeout, when set, bounds how long a migration's statements
	// wait for a table lock (PostgreSQL's lock_timeout), set once the
	// migration lock is held. Without it, an ALTER TABLE queued behind a
	// long query of a replica still serving would stall every query on
	// that table behind it; with it, the migration fails, changes nothing,
	// and the next start tries again.
	LockTimeout time.Duration
	// SetLockTimeout applies LockTimeout to a transaction.
	SetLockTimeout func(ctx context.Context, tx *sql.Tx, d time.Duration) error
	// IsLockTimeout recognises a statement cancelled by LockTimeout.
	IsLockTimeout func(error) bool
	// IsDeadlock recognises a transaction the database rolled back to
	// break a deadlock (nil: it never does); it may be run again.
	IsDeadlock func(error) bool
	// OneWriter says the database takes one writer at a time (SQLite):
	// the store then gives its own writers turns, so that they wait on
	// each other in this process, woken as soon as the writer before them
	// commits, instead of in the database's busy handler, which sleeps
	// 1, 2, 5, 10 ms and longer between tries and put tens of
	// milliseconds on an acknowledgement under load.
	OneWriter bool
	// ILike is an operator that matches a LIKE pattern ignoring case
	// and costs less than LIKE on LOWER of both sides (""): SQLite's own
	// LIKE ignores ASCII case.
	ILike string
	// BatchRows is how many rows one INSERT of a batch append carries
	// (0: one). Many rows a statement saves PostgreSQL its round trips;
	// SQLite has none to save, and its driver looks numbered parameters
	// up by name, a cost that grows with the square of their number.
	BatchRows int
	// Checkpoint, when set, is a statement run every CheckpointEvery
	// (default 1 s) in the background while the store is open. SQLite
	// otherwise checkpoints its write-ahead log inside whichever commit
	// crosses the threshold, syncing the database file there: several
	// milliseconds added to that commit, which may be a slash command's
	// acknowledgement waiting on its inbox row.
	Checkpoint      string
	CheckpointEvery time.Duration
	// Restart, when set, is a checkpoint that also has the next writer
	// start the write-ahead log over from its beginning (SQLite's
	// wal_checkpoint(RESTART)). It runs, holding this process's write
	// turn for at most RestartWait, once Checkpoint reports at least
	// RestartFrames frames in the log (Checkpoint must then return
	// SQLite's three counts). A passive checkpoint alone never ends with
	// the log fully copied while commits keep coming, so under sustained
	// load the log was never started over and grew without bound:
	// gigabytes a minute at 1,000 commands a second.
	Restart       string
	RestartFrames int
	RestartWait   time.Duration
	// ProcessDurable, when set, is run once on the connection that adds
	// inbox rows (a slash command's ack waits on their commit), and only
	// there: its commits must survive the bot's process dying but need not
	// wait for the database's disk. PostgreSQL turns synchronous_commit
	// off: a row is committed and seen by every replica at once, and only
	// a crash of the database server itself within its WAL writer's delay
	// could lose it, the promise SQLite's WAL with synchronous=NORMAL
	// makes for every commit.
	ProcessDurable string
}

// Lock keys for Serialize.
const (
	lockAudit     = 727001
	lockMigration = 727002
)

// DB is a store on a SQL database.
type DB struct {
	db *sql.DB
	d  Dialect

	stmts sync.Map // query → *sql.Stmt

	// writeTurn, with Dialect.OneWriter, orders this process's writers
	// (see turn).
	writeTurn *turnstile

	// Audit appends are committed in groups: under load, one transaction
	// seals and writes every record waiting, instead of one each.
	appends   chan *appendReq
	claims    chan *claimReq
	inboxAdds chan *inboxReq
	// inboxMoves are committed in groups too: each command moves twice.
	inboxMoves chan *moveReq
	// inboxConn is the inbox committer's own connection when the
	// dialect sets ProcessDurable (only that goroutine touches it).
	inboxConn *sql.Conn
	closeOnce sync.Once
	closed    chan struct{}
	stopped   chan struct{} // closed once the committers have stopped
	committer sync.WaitGroup

	schema MigrationStatus
}

// Option changes how Open sets up the store.
type Option func(*options)

type options struct {
	log *slog.Logger
}

// WithLogger sets where Open reports migrations it applied and versions
// the database has that this binary does not know. The default is
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

type appendReq struct {
	ctx  context.Context
	r    store.AuditRecord
	seal func(*store.AuditRecord)
	done chan appendResult
}

type claimReq struct {
	key  string
	ttl  time.Duration
	now  time.Time
	done chan claimResult
}

type claimResult struct {
	ok  bool
	err error
}

type appendResult struct {
	r   store.AuditRecord
	err error
}

var _ store.Store = (*DB)(nil)

// Open wraps db and brings its schema up to date. A database that has
// migrations this binary does not know (a newer replica applied them
// during a rolling upgrade) is opened all the same, with a warning:
// migrations only add, so what this binary reads and writes is still
// there.
func Open(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*DB, error) {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	s := &DB{db: db, d: d, appends: make(chan *appendReq, 1024), claims: make(chan *claimReq, 1024), inboxAdds: make(chan *inboxReq, 1024), inboxMoves: make(chan *moveReq, 1024), closed: make(chan struct{}), stopped: make(chan struct{})}
	if d.OneWriter {
		s.writeTurn = &turnstile{}
	}
	st, err := MigrateStatus(ctx, db, d, migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("%s: migrate: %w", d.Name, err)
	}
	s.schema = st
	if len(st.Applied) > 0 {
		o.log.Info("schema migrations applied", "store", d.Name, "versions", versionList(st.Applied))
	}
	if len(st.Unknown) > 0 {
		o.log.Warn("the database has schema migrations this version does not know; a newer version applied them (rolling upgrade?); carrying on, since migrations only add",
			"store", d.Name, "unknown_versions", versionList(st.Unknown), "known_up_to", st.Known)
	}
	s.committer.Add(4)
	go committer(s, s.appends, true, s.writeAppends, nil)
	go committer(s, s.claims, true, s.claimTx, nil)
	// Slack's acknowledgement waits on the inbox's adds: they linger for
	// nothing, and group only what queued behind the last commit.
	go committer(s, s.inboxAdds, false, s.inboxTx, s.dropDurableConn)
	go committer(s, s.inboxMoves, true, s.moveTx, nil)
	if d.Checkpoint != "" {
		s.committer.Add(1)
		go s.checkpoints(o.log)
	}
	return s, nil
}

// checkpoints runs the dialect's checkpoint every CheckpointEvery until
// the store closes (see Dialect.Checkpoint).
func (s *DB) checkpoints(log *slog.Logger) {
	defer s.committer.Done()
	every := s.d.CheckpointEvery
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
		err := s.checkpoint()
		switch {
		case err != nil && !failing:
			// Once per run of failures: the next tick tries again.
			log.Warn("checkpointing the write-ahead log failed; it grows until a checkpoint succeeds", "store", s.d.Name, "error", err)
		case err == nil && failing:
			log.Info("checkpointing the write-ahead log works again", "store", s.d.Name)
		}
		failing = err != nil
	}
}

// checkpoint runs the dialect's checkpoint, and its restart when the
// write-ahead log has grown past RestartFrames (see Dialect.Restart).
func (s *DB) checkpoint() error {
	if s.d.Restart == "" {
		_, err := s.db.Exec(s.d.Checkpoint)
		return err
	}
	var busy, frames, copied int
	if err := s.db.QueryRow(s.d.Checkpoint).Scan(&busy, &frames, &copied); err != nil {
		return err
	}
	if frames < s.d.RestartFrames {
		return nil
	}
	// The passive checkpoint above copied nearly everything without
	// holding up any writer; with this process's writers held back, the
	// restart has only what came meanwhile to copy. It waits for other
	// processes' readers and writers at most RestartWait, and if it
	// cannot finish by then the next tick tries again.
	ctx, cancel := context.WithTimeout(context.Background(), s.d.RestartWait)
	defer cancel()
	release, err := s.turn(ctx)
	if err != nil {
		return nil
	}
	defer release()
	err = s.db.QueryRowContext(ctx, s.d.Restart).Scan(&busy, &frames, &copied)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// stmt returns the prepared statement for q, preparing it once: parsing
// SQL on every call is a cost the hot paths should not pay.
func (s *DB) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// Schema reports what Open found and did to the database's schema.
func (s *DB) Schema() MigrationStatus { return s.schema }

// Migrations is the embedded migration set Open applies, in dir
// "migrations": for tests that build a database as an older version left
// it.
func Migrations() fs.FS { return migrations }

// MigrationStatus is the outcome of a migration run.
type MigrationStatus struct {
	// Applied lists the versions this run applied, in order.
	Applied []int64
	// Unknown lists versions the database records that are not among
	// the migrations given: a newer binary applied them.
	Unknown []int64
	// Known is the highest version among the migrations given.
	Known int64
}

func versionList(vs []int64) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%03d", v)
	}
	return strings.Join(out, ",")
}

// Migrate applies, in order of their numbers, every migration in dir of
// fsys that the database has not recorded yet. Not only those above the
// highest applied: migrations written on two branches at once (003 on one,
// 004 on the other) both reach a database that got 004 first.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS, dir string) error {
	_, err := MigrateStatus(ctx, db, d, fsys, dir)
	return err
}

// MigrateStatus is Migrate, reporting what it applied and which recorded
// versions it does not know.
//
// The whole run is one transaction, serialized against other runs (two
// replicas starting at once): the applied versions are read after the
// lock is held, so the second run waits, then finds the first one's
// migrations recorded and applies nothing. A migration that fails rolls
// back with everything before it in the run; the database stays as it
// was.
func MigrateStatus(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS, dir string) (MigrationStatus, error) {
	var st MigrationStatus
	type migration struct {
		version int64
		name    string
	}
	// Read the files first: a bad set changes nothing and takes no lock.
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return st, err
	}
	var all []migration
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue // a README beside them
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return st, fmt.Errorf("migration %s: bad name (want NNN_what.sql)", e.Name())
		}
		if other, dup := seen[v]; dup {
			return st, fmt.Errorf("migrations %s and %s have the same number", other, e.Name())
		}
		seen[v] = e.Name()
		all = append(all, migration{v, e.Name()})
		st.Known = max(st.Known, v)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version < all[j].version })

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	if err := d.Serialize(ctx, tx, lockMigration); err != nil {
		return st, err
	}
	// After the migration lock: a replica waiting for another's run must
	// not give up, however long that run takes.
	if d.LockTimeout > 0 && d.SetLockTimeout != nil {
		if err := d.SetLockTimeout(ctx, tx, d.LockTimeout); err != nil {
			return st, err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return st, err
	}
	applied := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return st, err
		}
		applied[v] = true
		if _, ok := seen[v]; !ok {
			st.Unknown = append(st.Unknown, v)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		body, err := fs.ReadFile(fsys, dir+"/"+m.name)
		if err != nil {
			return MigrationStatus{}, err
		}
		for _, stmt := range splitStatements(string(body)) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				if d.IsLockTimeout != nil && d.IsLockTimeout(err) {
					return MigrationStatus{}, fmt.Errorf("migration %s: waited %s for a table that another session holds (a long query or an open transaction); nothing was changed, and the next start tries again: %w", m.name, d.LockTimeout, err)
				}
				return MigrationStatus{}, fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, time.Now().UnixMicro()); err != nil {
			return MigrationStatus{}, fmt.Errorf("migration %s: record: %w", m.name, err)
		}
		st.Applied = append(st.Applied, m.version)
	}
	if err := tx.Commit(); err != nil {
		return MigrationStatus{}, err
	}
	return st, nil
}

// splitStatements cuts a migration into statements at each semicolon
// that ends one: not one inside a quoted string or identifier, a comment,
// or a dollar-quoted body (a PostgreSQL function). Comments are kept
// inside statements; a statement that is only a comment is dropped.
func splitStatements(body string) []string {
	var out []string
	flush := func(stmt string) {
		if s := strings.TrimSpace(stmt); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	start := 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\'' || c == '"':
			// '' and "" inside are the quote itself: skipping to the next
			// quote and going on reads them as two strings, which is the
			// same for finding where the statement ends.
			if j := strings.IndexByte(body[i+1:], c); j >= 0 {
				i += j + 1
			} else {
				i = len(body)
			}
		case c == '-' && strings.HasPrefix(body[i:], "--"):
			if j := strings.IndexByte(body[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(body)
			}
		case c == '/' && strings.HasPrefix(body[i:], "/*"):
			if j := strings.Index(body[i+2:], "*/"); j >= 0 {
				i += j + 3
			} else {
				i = len(body)
			}
		case c == '$':
			if tag, ok := dollarTag(body[i:]); ok {
				if j := strings.Index(body[i+len(tag):], tag); j >= 0 {
					i += len(tag) + j + len(tag) - 1
				} else {
					i = len(body)
				}
			}
		case c == ';':
			flush(body[start:i])
			start = i + 1
		}
	}
	flush(body[start:])
	return out
}

// dollarTag returns the $tag$ (or $$) that opens a dollar-quoted string
// at the start of s.
func dollarTag(s string) (string, bool) {
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '$':
			return s[:i+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 1 && c >= '0' && c <= '9':
		default:
			return "", false
		}
	}
	return "", false
}

// onlyComments reports whether a statement holds nothing but comments.
func onlyComments(s string) bool {
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		switch {
		case strings.HasPrefix(s, "--"):
			j := strings.IndexByte(s, '\n')
			if j < 0 {
				return true
			}
			s = s[j:]
		case strings.HasPrefix(s, "/*"):
			j := strings.Index(s, "*/")
			if j < 0 {
				return true
			}
			s = s[j+2:]
		default:
			return false
		}
	}
	return true
}

// Ping implements store.Store.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *DB) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.committer.Wait()
		close(s.stopped)
	})
	s.committer.Wait()
	s.stmts.Range(func(_, v any) bool { _ = v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateApproval implements store.Approvals. The request and its sealed
// secrets are written in one transaction.
func (s *DB) CreateApproval(ctx context.Context, a *store.Approval) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	roles, _ := json.Marshal(nonNil(a.ApproverRoles))
	meta, _ := json.Marshal(nonNilMap(a.Meta))
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO approvals (id, request_id, requester, channel, provider, command, target, args, args_hash,
		command_line, risk, plan, required, approver_roles, confirm_target, rule, state, decided_by, reason, result, meta,
		created_at, expires_at, updated_at, lease_until, executor, plan_digest, confirm_value, dispatched_at, ticket)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30)`,
		a.ID, a.RequestID, a.Requester, a.Channel, a.Provider, a.Command, a.Target, a.Args, a.ArgsHash,
		a.CommandLine, a.Risk, a.Plan, a.Required, string(roles), boolInt(a.ConfirmTarget), a.Rule, string(a.State),
		a.DecidedBy, a.Reason, a.Result, string(meta), micros(a.CreatedAt), micros(a.ExpiresAt), micros(a.UpdatedAt), micros(a.LeaseUntil), a.Executor,
		a.PlanDigest, a.ConfirmValue, micros(a.DispatchedAt), a.Ticket)
	if err != nil && s.d.IsUniqueViolation(err) {
		return fmt.Errorf("approval %s: %w", a.ID, store.ErrConflict)
	}
	if err != nil {
		return err
	}
	if a.Sealed != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO approval_secrets (approval_id, sealed, expires_at) VALUES ($1, $2, $3)`,
			a.ID, a.Sealed, micros(a.ExpiresAt)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Secrets implements store.Approvals.
func (s *DB) Secrets(ctx context.Context, id string) (string, error) {
	var sealed string
	err := s.db.QueryRowContext(ctx, `SELECT sealed FROM approval_secrets WHERE approval_id = $1`, id).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return sealed, err
}

// DeleteSecrets implements store.Approvals.
func (s *DB) DeleteSecrets(ctx context.Context, id string) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.db.ExecContext(ctx, `DELETE FROM approval_secrets WHERE approval_id = $1`, id)
	return err
}

// PurgeSecrets implements store.Approvals.
func (s *DB) PurgeSecrets(ctx context.Context, now time.Time) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.db.ExecContext(ctx, `DELETE FROM approval_secrets WHERE expires_at <= $1 AND approval_id IN
		(SELECT id FROM approvals WHERE state NOT IN ($2, $3))`, micros(now), string(store.StateApproved), string(store.StateExecuting))
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM approval_secrets WHERE approval_id IN
		(SELECT id FROM approvals WHERE state IN ($1, $2, $3, $4, $5, $6, $7))`, string(store.StateSucceeded), string(store.StateFailed),
		string(store.StateDenied), string(store.StateExpired), string(store.StateCancelled), string(store.StateUnknown), string(store.StatePlanChanged))
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

const approvalColumns = `id, request_id, requester, channel, provider, command, target, args, args_hash, command_line, risk, plan,
	required, approver_roles, confirm_target, rule, state, decided_by, reason, result, meta, created_at, expires_at, updated_at, lease_until, executor,
	plan_digest, confirm_value, dispatched_at, ticket`

type scanner interface{ Scan(...any) error }

func scanApproval(r scanner) (*store.Approval, error) {
	var a store.Approval
	var roles, meta, state string
	var confirm int
	var created, expires, updated, lease, dispatched int64
	if err := r.Scan(&a.ID, &a.RequestID, &a.Requester, &a.Channel, &a.Provider, &a.Command, &a.Target, &a.Args, &a.ArgsHash,
		&a.CommandLine, &a.Risk, &a.Plan, &a.Required, &roles, &confirm, &a.Rule, &state, &a.DecidedBy, &a.Reason, &a.Result,
		&meta, &created, &expires, &updated, &lease, &a.Executor, &a.PlanDigest, &a.ConfirmValue, &dispatched, &a.Ticket); err != nil {
		return nil, err
	}
	a.State = store.State(state)
	a.ConfirmTarget = confirm != 0
	_ = json.Unmarshal([]byte(roles), &a.ApproverRoles)
	_ = json.Unmarshal([]byte(meta), &a.Meta)
	a.CreatedAt, a.ExpiresAt, a.UpdatedAt, a.LeaseUntil = fromMicros(created), fromMicros(expires), fromMicros(updated), fromMicros(lease)
	a.DispatchedAt = fromMicros(dispatched)
	return &a, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *DB) get(ctx context.Context, q querier, id string, lock bool) (*store.Approval, error) {
	query := `SELECT ` + approvalColumns + ` FROM approvals WHERE id = $1`
	if lock {
		query += s.d.ForUpdate
	}
	a, err := scanApproval(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("approval %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT user_id, at, code FROM approval_votes WHERE approval_id = $1 ORDER BY at, user_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v store.Vote
		var at int64
		if err := rows.Scan(&v.User, &at, &v.Code); err != nil {
			return nil, err
		}
		v.At = fromMicros(at)
		a.Votes = append(a.Votes, v)
	}
	return a, rows.Err()
}

// GetApproval implements store.Approvals.
func (s *DB) GetApproval(ctx context.Context, id string) (*store.Approval, error) {
	return s.get(ctx, s.db, id, false)
}

// ListApprovals implements store.Approvals. Newest first.
func (s *DB) ListApprovals(ctx context.Context, f store.ApprovalFilter) ([]*store.Approval, error) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		var ph []string
		for _, st := range f.States {
			args = append(args, string(st))
			ph = append(ph, "$"+strconv.Itoa(len(args)))
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.Requester != "" {
		args = append(args, f.Requester)
		where = append(where, "requester = $"+strconv.Itoa(len(args)))
	}
	// The newest are picked from the index (state, created_at, id) alone,
	// then read whole: sorting thousands of pending requests with their
	// plans and arguments to keep 200 was the listing's cost.
	q := `SELECT id FROM approvals`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id"
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	q = `SELECT ` + approvalColumns + ` FROM approvals WHERE id IN (` + q + `) ORDER BY created_at DESC, id`
	// The requests in one query and their votes in another: a query per
	// request made listing 200 of them 400 round trips.
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []*store.Approval
	byID := map[string]*store.Approval{}
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
		byID[a.ID] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for start := 0; start < len(out); start += listVoteChunk {
		chunk := out[start:min(start+listVoteChunk, len(out))]
		ph := make([]string, len(chunk))
		ids := make([]any, len(chunk))
		for i, a := range chunk {
			ph[i], ids[i] = "$"+strconv.Itoa(i+1), a.ID
		}
		vrows, err := s.db.QueryContext(ctx, `SELECT approval_id, user_id, at, code FROM approval_votes WHERE approval_id IN (`+
			strings.Join(ph, ",")+`) ORDER BY approval_id, at, user_id`, ids...)
		if err != nil {
			return nil, err
		}
		for vrows.Next() {
			var id string
			var v store.Vote
			var at int64
			if err := vrows.Scan(&id, &v.User, &at, &v.Code); err != nil {
				vrows.Close()
				return nil, err
			}
			v.At = fromMicros(at)
			if a := byID[id]; a != nil {
				a.Votes = append(a.Votes, v)
			}
		}
		vrows.Close()
		if err := vrows.Err(); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []*store.Approval{}
	}
	return out, nil
}

// listVoteChunk is how many requests' votes ListApprovals asks for in
// one query: well within both databases' parameter limits.
const listVoteChunk = 500

// Vote implements store.Approvals.
func (s *DB) Vote(ctx context.Context, id string, v store.Vote, claim *store.Claim) (*store.Approval, error) {
	release, err := s.turn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	user, at := v.User, v.At
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := s.get(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	if a.State != store.StatePending {
		return a, fmt.Errorf("approval %s is %s: %w", id, a.State, store.ErrConflict)
	}
	if !a.ExpiresAt.IsZero() && !at.Before(a.ExpiresAt) {
		return a, fmt.Errorf("approval %s expired: %w", id, store.ErrConflict)
	}
	for _, v := range a.Votes {
		if v.User == user {
			return a, store.ErrDuplicateVote
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO approval_votes (approval_id, user_id, at, code) VALUES ($1, $2, $3, $4)`, id, user, micros(at), v.Code); err != nil {
		if s.d.IsUniqueViolation(err) {
			return a, store.ErrDuplicateVote
		}
		return nil, err
	}
	a.Votes = append(a.Votes, v)
	if len(a.Votes) >= a.Required {
		to, executor, lease := store.StateApproved, "", time.Time{}
		if claim != nil {
			to, executor, lease = store.StateExecuting, claim.Executor, claim.LeaseUntil
		}
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET state = $1, updated_at = $2, executor = $3, lease_until = $4 WHERE id = $5 AND state = $6`,
			string(to), micros(at), executor, micros(lease), id, string(store.StatePending))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return a, fmt.Errorf("approval %s changed concurrently: %w", id, store.ErrConflict)
		}
		a.State, a.Executor, a.LeaseUntil = to, executor, lease
	}
	a.UpdatedAt = at
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return a, nil
}

// Transition implements store.Approvals.
func (s *DB) Transition(ctx context.Context, id string, from []store.State, to store.State, at time.Time, u store.Update) (bool, error) {
	sets := []string{"state = $1", "updated_at = $2"}
	args := []any{string(to), micros(at)}
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, col+" = $"+strconv.Itoa(len(args)))
	}
	if u.DecidedBy != nil {
		add("decided_by", *u.DecidedBy)
	}
	if u.Reason != nil {
		add("reason", *u.Reason)
	}
	if u.Result != nil {
		add("result", *u.Result)
	}
	if u.LeaseUntil != nil {
		add("lease_until", micros(*u.LeaseUntil))
	}
	if u.Executor != nil {
		add("executor", *u.Executor)
	}
	if u.Dispatched {
		add("dispatched_at", micros(at))
	}
	if u.Meta != nil {
		m, _ := json.Marshal(u.Meta)
		add("meta", string(m))
	}
	args = append(args, id)
	q := "UPDATE approvals SET " + strings.Join(sets, ", ") + " WHERE id = $" + strconv.Itoa(len(args))
	var ph []string
	for _, st := range from {
		args = append(args, string(st))
		ph = append(ph, "$"+strconv.Itoa(len(args)))
	}
	q += " AND state IN (" + strings.Join(ph, ",") + ")"
	if g := u.If; g != nil {
		args = append(args, g.Executor)
		q += " AND executor = $" + strconv.Itoa(len(args))
		if !g.LapsedBy.IsZero() {
			args = append(args, micros(g.LapsedBy))
			q += " AND lease_until <= $" + strconv.Itoa(len(args))
		}
		if g.NotDispatched {
			q += " AND dispatched_at = 0"
		}
	}
	release, err := s.turn(ctx)
	if err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	release()
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 0 {
		// Tell a missing row from a wrong state.
		if _, err := s.GetApproval(ctx, id); err != nil {
			return false, err
		}
	}
	return n == 1, nil
}

// SetMeta implements store.Approvals. Keys are merged in one transaction,
// so writers of different keys do not undo each other.
func (s *DB) SetMeta(ctx context.Context, id string, meta map[string]string) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var raw string
	err = tx.QueryRowContext(ctx, `SELECT meta FROM approvals WHERE id = $1`+s.d.ForUpdate, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("approval %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	cur := map[string]string{}
	_ = json.Unmarshal([]byte(raw), &cur)
	for k, v := range meta {
		cur[k] = v
	}
	b, _ := json.Marshal(cur)
	if _, err := tx.ExecContext(ctx, `UPDATE approvals SET meta = $1 WHERE id = $2`, string(b), id); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *DB) sweep(ctx context.Context, from, to store.State, col string, now time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM approvals WHERE state = $1 AND `+col+` > 0 AND `+col+` <= $2`, string(from), micros(now))
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var done []string
	for _, id := range ids {
		// Conditional, so a request that moved on meanwhile is left alone.
		release, err := s.turn(ctx)
		if err != nil {
			return done, err
		}
		res, err := s.db.ExecContext(ctx, `UPDATE approvals SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 AND `+col+` <= $2`,
			string(to), micros(now), id, string(from))
		release()
		if err != nil {
			return done, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			done = append(done, id)
		}
	}
	return done, nil
}

// ExpirePending implements store.Approvals.
func (s *DB) ExpirePending(ctx context.Context, now time.Time) ([]string, error) {
	return s.sweep(ctx, store.StatePending, store.StateExpired, "expires_at", now)
}

// AppendAudit implements store.Audit. It returns once the record is
// committed; records that arrive together are committed together, in
// order, each sealed with the hash of the one before.
func (s *DB) AppendAudit(ctx context.Context, r store.AuditRecord, seal func(*store.AuditRecord)) (store.AuditRecord, error) {
	// Once queued the record is written even if the caller stops waiting:
	// an audit entry is not taken back.
	req := &appendReq{ctx: ctx, r: r, seal: seal, done: make(chan appendResult, 1)}
	res, err := submit(s, ctx, s.appends, req, req.done)
	if err != nil {
		return r, err
	}
	return res.r, res.err
}

// submit queues req for a committer and waits for its result. It fails
// rather than queue after Close (the queue may still have room, and no
// one would read it), and rather than wait on a committer that has
// stopped: a request queued as the store closed, after the committer's
// last look, would wait forever.
func submit[Q any, R any](s *DB, ctx context.Context, queue chan<- Q, req Q, done <-chan R) (R, error) {
	var zero R
	if s.isClosed() {
		return zero, errStoreClosed
	}
	select {
	case queue <- req:
	case <-s.closed:
		return zero, errStoreClosed
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	select {
	case res := <-done:
		return res, nil
	case <-s.stopped:
		select {
		case res := <-done:
			return res, nil
		default:
			return zero, errStoreClosed
		}
	}
}

// errStoreClosed answers calls made after Close.
var errStoreClosed = errors.New("the store is closed")

// isClosed reports whether Close has begun. Calls check it before
// queueing: a queue may still have room after Close, and its committer
// may already have taken its last look.
func (s *DB) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// writeAppends writes a batch of queued audit records in one
// transaction, and answers each.
func (s *DB) writeAppends(batch []*appendReq) {
	out, err := s.appendTx(batch)
	answerAppends(batch, out, err)
}

func answerAppends(batch []*appendReq, out []store.AuditRecord, err error) {
	for i, req := range batch {
		if err != nil {
			req.done <- appendResult{r: req.r, err: err}
		} else {
			req.done <- appendResult{r: out[i]}
		}
	}
}

func (s *DB) appendTx(batch []*appendReq) ([]store.AuditRecord, error) {
	return batchTx(s, batch, s.appendIn)
}

// batchTx runs one committer's batch in a transaction of its own, with
// this process's write turn, and returns what in made of it.
func batchTx[Q, R any](s *DB, batch []Q, in func(context.Context, *sql.Tx, []Q) ([]R, error)) ([]R, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	release, err := s.turn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out, err := in(ctx, tx, batch)
	if err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// appendIn seals and writes a batch of audit records in tx, after the
// log's head.
func (s *DB) appendIn(ctx context.Context, tx *sql.Tx, batch []*appendReq) ([]store.AuditRecord, error) {
	if err := s.d.Serialize(ctx, tx, lockAudit); err != nil {
		return nil, err
	}
	var seq int64
	var prev string
	head, err := s.stmt(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return nil, err
	}
	err = tx.StmtContext(ctx, head).QueryRowContext(ctx).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	ins, err := s.stmt(ctx, `INSERT INTO audit_log (seq, at, request_id, actor, action, provider, command, target, channel, args, outcome, detail, approval_id, prev_hash, hash, ticket)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`)
	if err != nil {
		return nil, err
	}
	txIns := tx.StmtContext(ctx, ins)
	out := make([]store.AuditRecord, len(batch))
	for i, req := range batch {
		r := req.r
		r.Seq, r.PrevHash = seq+1, prev
		req.seal(&r)
		if _, err := txIns.ExecContext(ctx, r.Seq, micros(r.At), r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID, r.PrevHash, r.Hash, r.Ticket); err != nil {
			return nil, err
		}
		seq, prev = r.Seq, r.Hash
		out[i] = r
	}
	return out, nil
}

// AppendAuditBatch implements store.Audit. It takes the same lock as the
// committed groups of AppendAudit and reads the head inside it, so
// batches and single appends interleave without forking the chain.
func (s *DB) AppendAuditBatch(ctx context.Context, rs []store.AuditRecord, seal func(*store.AuditRecord)) ([]store.AuditRecord, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	release, err := s.turn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := s.d.Serialize(ctx, tx, lockAudit); err != nil {
		return nil, err
	}
	var seq int64
	var prev string
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	out := make([]store.AuditRecord, len(rs))
	for i, r := range rs {
		r.Seq, r.PrevHash = seq+1, prev
		seal(&r)
		seq, prev = r.Seq, r.Hash
		out[i] = r
	}
	const cols = 16
	rows := max(s.d.BatchRows, 1)
	args := make([]any, 0, rows*cols)
	var q strings.Builder
	for start := 0; start < len(out); start += rows {
		chunk := out[start:min(start+rows, len(out))]
		q.Reset()
		args = args[:0]
		q.WriteString(`INSERT INTO audit_log (seq, at, request_id, actor, action, provider, command, target, channel, args, outcome, detail, approval_id, prev_hash, hash, ticket) VALUES `)
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString("(")
			for c := 1; c <= cols; c++ {
				if c > 1 {
					q.WriteString(",")
				}
				q.WriteString("$" + strconv.Itoa(i*cols+c))
			}
			q.WriteString(")")
			args = append(args, r.Seq, micros(r.At), r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID, r.PrevHash, r.Hash, r.Ticket)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// ScanAudit implements store.Audit.
func (s *DB) ScanAudit(ctx context.Context, f store.AuditFilter, fn func(store.AuditRecord) error) error {
	q, args := auditQuery(f, s.d)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r store.AuditRecord
		var at int64
		if err := rows.Scan(&r.Seq, &at, &r.RequestID, &r.Actor, &r.Action, &r.Provider, &r.Command, &r.Target, &r.Channel, &r.Args, &r.Outcome, &r.Detail, &r.ApprovalID, &r.PrevHash, &r.Hash, &r.Ticket); err != nil {
			return err
		}
		r.At = fromMicros(at)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// auditQuery is ScanAudit's query for f on d.
func auditQuery(f store.AuditFilter, d Dialect) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if !f.Since.IsZero() {
		add("at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", micros(f.Until))
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.RequestID != "" {
		add("request_id = ?", f.RequestID)
	}
	if f.AfterSeq > 0 {
		add("seq > ?", f.AfterSeq)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Ticket != "" {
		// In any case: desks write ABC-123, people type abc-123. The
		// database upper-cases both sides: its UPPER and Go's differ
		// beyond ASCII (SQLite's leaves "ä" as it is), and a reference
		// upper-cased by one never equals one upper-cased by the other,
		// even as typed. "ticket <> ''" lets the planner use the index
		// of entries that have one (migration 011).
		add("UPPER(ticket) = UPPER(?) AND ticket <> ''", f.Ticket)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.Text != "" {
		// No index serves a substring: this reads the window (Since),
		// testing four columns an entry, so it is written as cheaply as
		// each database allows.
		cond := `(detail LIKE ? ESCAPE '\' OR args LIKE ? ESCAPE '\' OR target LIKE ? ESCAPE '\' OR command LIKE ? ESCAPE '\')`
		if d.ILike != "" {
			cond = strings.ReplaceAll(cond, " LIKE ", " "+d.ILike+" ")
		} else {
			cond = `(LOWER(detail) LIKE ? ESCAPE '\' OR LOWER(args) LIKE ? ESCAPE '\' OR LOWER(target) LIKE ? ESCAPE '\' OR LOWER(command) LIKE ? ESCAPE '\')`
		}
		add(cond, "%"+escapeLike(strings.ToLower(f.Text))+"%")
	}
	if f.Command != "" {
		prov, cmd, hasCmd := strings.Cut(f.Command, ":")
		add("provider = ?", prov)
		if hasCmd && cmd != "" {
			add(`command LIKE ? ESCAPE '\'`, escapeLike(cmd)+"%")
		}
	}
	q := `SELECT seq, at, request_id, actor, action, provider, command, target, channel, args, outcome, detail, approval_id, prev_hash, hash, ticket FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Newest && f.Limit > 0 {
		q = "SELECT * FROM (" + q + " ORDER BY seq DESC LIMIT " + strconv.Itoa(f.Limit) + ") AS newest ORDER BY seq"
	} else if f.ByTime {
		q += " ORDER BY at, seq"
		if f.Limit > 0 {
			q += " LIMIT " + strconv.Itoa(f.Limit)
		}
	} else if !f.Since.IsZero() && f.AfterSeq == 0 {
		// "seq + 0" orders the same but matches no index: without it
		// SQLite walks the whole log in sequence order to skip a sort,
		// testing every entry against the window; with it, it reads the
		// window (or a user's or target's entries in it) by index and
		// sorts what it found.
		q += " ORDER BY seq + 0"
		if f.Limit > 0 {
			q += " LIMIT " + strconv.Itoa(f.Limit)
		}
	} else {
		q += " ORDER BY seq"
		if f.Limit > 0 {
			q += " LIMIT " + strconv.Itoa(f.Limit)
		}
	}
	return q, args
}

// ExplainAudit returns the database's plan for ScanAudit's query for f,
// one line per step: to show which searches use an index.
func (s *DB) ExplainAudit(ctx context.Context, f store.AuditFilter) ([]string, error) {
	q, args := auditQuery(f, s.d)
	explain := "EXPLAIN "
	if s.d.Name == "sqlite" {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := s.db.QueryContext(ctx, explain+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		// SQLite gives (id, parent, notused, detail), PostgreSQL one line
		// of text: the step is the last column either way.
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(vals[len(vals)-1]))
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	return likeEscaper.Replace(s)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// AuditCursor implements store.AuditCursors.
func (s *DB) AuditCursor(ctx context.Context, dest string) (store.AuditPosition, error) {
	var p store.AuditPosition
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash, entry_at FROM audit_cursors WHERE dest = $1`, dest).Scan(&p.Seq, &p.Hash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuditPosition{}, nil
	}
	if at != 0 {
		p.At = fromMicros(at)
	}
	return p, err
}

// AdvanceAuditCursor implements store.AuditCursors: one conditional
// statement, so concurrent advances (two replicas) keep the highest.
func (s *DB) AdvanceAuditCursor(ctx context.Context, dest string, p store.AuditPosition, at time.Time) error {
	if dest == "" {
		return errors.New("audit cursor: no destination name")
	}
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.db.ExecContext(ctx, `INSERT INTO audit_cursors (dest, seq, hash, entry_at, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (dest) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, entry_at = excluded.entry_at, updated_at = excluded.updated_at
		WHERE audit_cursors.seq < excluded.seq`,
		dest, p.Seq, p.Hash, positionMicros(p), micros(at))
	return err
}

// ResetAuditCursor implements store.AuditCursors: a compare-and-set on
// the stored position.
func (s *DB) ResetAuditCursor(ctx context.Context, dest string, from, to store.AuditPosition, at time.Time) (bool, error) {
	if dest == "" {
		return false, errors.New("audit cursor: no destination name")
	}
	release, err := s.turn(ctx)
	if err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE audit_cursors SET seq = $1, hash = $2, entry_at = $3, updated_at = $4
		WHERE dest = $5 AND seq = $6 AND hash = $7`,
		to.Seq, to.Hash, positionMicros(to), micros(at), dest, from.Seq, from.Hash)
	release()
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 0 && from.Seq == 0 {
		// No cursor yet: start one.
		return true, s.AdvanceAuditCursor(ctx, dest, to, at)
	}
	return n == 1, nil
}

func positionMicros(p store.AuditPosition) int64 {
	if p.At.IsZero() {
		return 0
	}
	return micros(p.At)
}

// Claim implements store.Dedup: one statement inserts the key, or takes
// it over if the previous holder's expired; a live key is refused. Claims
// that arrive together share a transaction.
func (s *DB) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	req := &claimReq{key: key, ttl: ttl, now: now, done: make(chan claimResult, 1)}
	res, err := submit(s, ctx, s.claims, req, req.done)
	if err != nil {
		return false, err
	}
	return res.ok, res.err
}

func (s *DB) claimTx(batch []*claimReq) {
	out, err := batchTx(s, batch, s.claimIn)
	answerClaims(batch, out, err)
}

// claimIn claims a batch of keys in tx.
func (s *DB) claimIn(ctx context.Context, tx *sql.Tx, batch []*claimReq) ([]claimResult, error) {
	st, err := s.stmt(ctx, `INSERT INTO dedup (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedup.expires_at <= $3`)
	if err != nil {
		return nil, err
	}
	txSt := tx.StmtContext(ctx, st)
	out := make([]claimResult, len(batch))
	for i, r := range batch {
		res, err := txSt.ExecContext(ctx, r.key, micros(r.now.Add(r.ttl)), micros(r.now))
		if err != nil {
			if s.d.IsUniqueViolation(err) {
				continue // out[i] is a refusal
			}
			return nil, err
		}
		n, err := res.RowsAffected()
		out[i] = claimResult{ok: n == 1, err: err}
	}
	return out, nil
}

func answerClaims(batch []*claimReq, out []claimResult, err error) {
	for i, r := range batch {
		if err != nil {
			r.done <- claimResult{err: err}
		} else {
			r.done <- out[i]
		}
	}
}

// PurgeDedup removes expired keys.
func (s *DB) PurgeDedup(ctx context.Context, now time.Time) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.db.ExecContext(ctx, `DELETE FROM dedup WHERE expires_at <= $1`, micros(now))
	return err
}

// Exec runs a statement directly: for tests that tamper with rows.
func (s *DB) Exec(ctx context.Context, q string, args ...any) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.db.ExecContext(ctx, q, args...)
	return err
}
