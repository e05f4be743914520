// Package sqldbtest checks what the SQL stores promise about their schema
// across versions: a database any earlier version left is upgraded with
// its rows intact, the earlier version's writes still succeed on the new
// schema (rolling upgrades), a database a newer version migrated still
// opens, and replicas starting at once apply each migration once.
package sqldbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/sqldb"
	"github.com/deskbot/deskbot/internal/testbin"
)

// Backend is a database kind under test.
type Backend struct {
	Dialect sqldb.Dialect
	// Fresh makes a new, empty database for t and returns a raw handle on
	// it (the test builds old schemas through it) and a function that
	// opens the store on it, as the bot does. Each call to open is a new
	// connection pool, as another replica would have.
	Fresh func(t *testing.T) (raw *sql.DB, open func(opts ...sqldb.Option) (*sqldb.DB, error))
}

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// Versions returns the numbers of the embedded migrations, in order.
func Versions(t testing.TB) []int64 {
	t.Helper()
	entries, err := fs.ReadDir(sqldb.Migrations(), "migrations")
	require.NoError(t, err)
	var out []int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		require.NoError(t, err, e.Name())
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// upTo is the embedded migrations numbered k or less: what the binary
// of schema version k carried.
func upTo(t testing.TB, k int64) fs.FS {
	t.Helper()
	out := fstest.MapFS{"migrations": {Mode: fs.ModeDir | 0o755}}
	entries, err := fs.ReadDir(sqldb.Migrations(), "migrations")
	require.NoError(t, err)
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v > k {
			continue
		}
		b, err := fs.ReadFile(sqldb.Migrations(), "migrations/"+e.Name())
		require.NoError(t, err)
		out["migrations/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	return out
}

// Recorded returns the versions in schema_migrations with how often each
// is recorded.
func Recorded(t testing.TB, db *sql.DB) map[int64]int {
	t.Helper()
	rows, err := db.Query(`SELECT version, COUNT(*) FROM schema_migrations GROUP BY version`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var v int64
		var n int
		require.NoError(t, rows.Scan(&v, &n))
		out[v] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func once(vs []int64) map[int64]int {
	out := map[int64]int{}
	for _, v := range vs {
		out[v] = 1
	}
	return out
}

// seal chains audit records the way the audit package does in spirit:
// each hash covers the record and the previous hash.
func seal(r *store.AuditRecord) {
	h := sha256.Sum256([]byte(fmt.Sprint(r.Seq, r.At.UnixMicro(), r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target,
		r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID, r.PrevHash)))
	r.Hash = hex.EncodeToString(h[:])
}

// column is an approvals column, the version that added it, its value
// in a and how a reads when the column did not exist (its default).
type column struct {
	name  string
	since int64
	val   func(a *store.Approval) any
	unset func(a *store.Approval)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

var approvalColumns = []column{
	{"id", 1, func(a *store.Approval) any { return a.ID }, nil},
	{"request_id", 1, func(a *store.Approval) any { return a.RequestID }, nil},
	{"requester", 1, func(a *store.Approval) any { return a.Requester }, nil},
	{"channel", 1, func(a *store.Approval) any { return a.Channel }, nil},
	{"provider", 1, func(a *store.Approval) any { return a.Provider }, nil},
	{"command", 1, func(a *store.Approval) any { return a.Command }, nil},
	{"target", 1, func(a *store.Approval) any { return a.Target }, nil},
	{"args", 1, func(a *store.Approval) any { return a.Args }, nil},
	{"args_hash", 1, func(a *store.Approval) any { return a.ArgsHash }, nil},
	{"command_line", 1, func(a *store.Approval) any { return a.CommandLine }, nil},
	{"risk", 1, func(a *store.Approval) any { return a.Risk }, nil},
	{"plan", 1, func(a *store.Approval) any { return a.Plan }, nil},
	{"required", 1, func(a *store.Approval) any { return a.Required }, nil},
	{"approver_roles", 1, func(a *store.Approval) any { return `["` + strings.Join(a.ApproverRoles, `","`) + `"]` }, nil},
	{"confirm_target", 1, func(a *store.Approval) any {
		if a.ConfirmTarget {
			return 1
		}
		return 0
	}, nil},
	{"rule", 1, func(a *store.Approval) any { return a.Rule }, nil},
	{"state", 1, func(a *store.Approval) any { return string(a.State) }, nil},
	{"decided_by", 1, func(a *store.Approval) any { return a.DecidedBy }, nil},
	{"reason", 1, func(a *store.Approval) any { return a.Reason }, nil},
	{"result", 1, func(a *store.Approval) any { return a.Result }, nil},
	{"meta", 1, func(a *store.Approval) any { return `{"ts":"` + a.Meta["ts"] + `"}` }, nil},
	{"created_at", 1, func(a *store.Approval) any { return micros(a.CreatedAt) }, nil},
	{"expires_at", 1, func(a *store.Approval) any { return micros(a.ExpiresAt) }, nil},
	{"updated_at", 1, func(a *store.Approval) any { return micros(a.UpdatedAt) }, nil},
	{"lease_until", 1, func(a *store.Approval) any { return micros(a.LeaseUntil) }, nil},
	{"executor", 2, func(a *store.Approval) any { return a.Executor }, func(a *store.Approval) { a.Executor = "" }},
	{"plan_digest", 3, func(a *store.Approval) any { return a.PlanDigest }, func(a *store.Approval) { a.PlanDigest = "" }},
	{"confirm_value", 3, func(a *store.Approval) any { return a.ConfirmValue }, func(a *store.Approval) { a.ConfirmValue = "" }},
	{"dispatched_at", 3, func(a *store.Approval) any { return micros(a.DispatchedAt) }, func(a *store.Approval) { a.DispatchedAt = time.Time{} }},
	{"ticket", 8, func(a *store.Approval) any { return a.Ticket }, func(a *store.Approval) { a.Ticket = "" }},
}

// seeded is what an older version wrote, as the current store must read
// it back.
type seeded struct {
	approval *store.Approval
	secrets  string // "" when the version had no approval_secrets
	audit    []store.AuditRecord
	cursor   *store.AuditPosition // nil when the version had no cursors
	dest     string
	dedupKey string
	inbox    *store.InboxItem // nil when the version had no inbox
}

// seed writes, through SQL of schema version k, what that version's bot
// wrote: an executing approval with a vote (and its sealed secrets), two
// chained audit entries, a SIEM cursor, a dedup key. tag keeps a second
// seeding's rows apart from the first's.
func seed(t *testing.T, db *sql.DB, k int64, tag string) seeded {
	t.Helper()
	ctx := context.Background()
	var out seeded
	if k < 1 {
		return out
	}
	at := t0.Add(time.Duration(len(tag)) * time.Hour)
	a := &store.Approval{
		ID: "a-" + tag, RequestID: "r-" + tag, Requester: "U0BOB", Channel: "C0OPS", Provider: "whm", Command: "account suspend",
		Target: "web01", Args: `{"user":"demo1"}`, ArgsHash: "ah-" + tag, CommandLine: "/whm account suspend demo1 on web01",
		Risk: 3, Plan: `{"summary":"Suspend demo1"}`, PlanDigest: "pd-" + tag, Required: 1, ApproverRoles: []string{"approver", "lead"},
		ConfirmTarget: true, ConfirmValue: "demo1", Rule: "suspend needs a lead", State: store.StateExecuting,
		Meta: map[string]string{"ts": "1700000000.0001"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour), UpdatedAt: at.Add(time.Minute),
		LeaseUntil: at.Add(2 * time.Minute), Executor: "host-7/4242/" + tag, DispatchedAt: at.Add(90 * time.Second),
		Votes: []store.Vote{{User: "U0CAROL", At: at.Add(time.Minute), Code: "vc-" + tag}}, Ticket: "OPS-" + tag,
	}
	var names, ph []string
	var args []any
	for _, c := range approvalColumns {
		if c.since > k {
			c.unset(a)
			continue
		}
		names = append(names, c.name)
		args = append(args, c.val(a))
		ph = append(ph, "$"+strconv.Itoa(len(args)))
	}
	_, err := db.ExecContext(ctx, `INSERT INTO approvals (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(ph, ", ")+`)`, args...)
	require.NoError(t, err, "version %d writes an approval", k)
	v := a.Votes[0]
	if k >= 6 {
		_, err = db.ExecContext(ctx, `INSERT INTO approval_votes (approval_id, user_id, at, code) VALUES ($1, $2, $3, $4)`, a.ID, v.User, micros(v.At), v.Code)
	} else {
		a.Votes[0].Code = ""
		_, err = db.ExecContext(ctx, `INSERT INTO approval_votes (approval_id, user_id, at) VALUES ($1, $2, $3)`, a.ID, v.User, micros(v.At))
	}
	require.NoError(t, err, "version %d records a vote", k)
	out.approval = a
	if k >= 3 {
		out.secrets = "sealed-" + tag
		_, err = db.ExecContext(ctx, `INSERT INTO approval_secrets (approval_id, sealed, expires_at) VALUES ($1, $2, $3)`, a.ID, out.secrets, micros(a.ExpiresAt))
		require.NoError(t, err, "version %d seals secrets", k)
	}

	// The audit chain continues from whatever is there.
	var seq int64
	var prev string
	err = db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && err != sql.ErrNoRows {
		require.NoError(t, err)
	}
	for i, action := range []string{"request", "execute"} {
		r := store.AuditRecord{Seq: seq + 1, At: at.Add(time.Duration(i) * time.Second), RequestID: a.RequestID, Actor: "U0BOB", Action: action,
			Provider: "whm", Command: "account suspend", Target: "web01", Channel: "C0OPS", Args: a.Args, Outcome: "ok",
			Detail: "seeded by version " + strconv.FormatInt(k, 10), ApprovalID: a.ID, PrevHash: prev}
		cols, vals := "", ""
		args := []any{r.Seq, micros(r.At), r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID, r.PrevHash}
		if k >= 8 {
			// Tickets came with version 8.
			r.Ticket = a.Ticket
			cols, vals = ", ticket", ",$16"
		}
		seal(&r)
		args = append(args, r.Hash)
		if k >= 8 {
			args = append(args, r.Ticket)
		}
		_, err := db.ExecContext(ctx, `INSERT INTO audit_log (seq, at, request_id, actor, action, provider, command, target, channel, args, outcome, detail, approval_id, prev_hash, hash`+cols+`)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15`+vals+`)`, args...)
		require.NoError(t, err, "version %d appends to the audit log", k)
		out.audit = append(out.audit, r)
		seq, prev = r.Seq, r.Hash
	}

	last := out.audit[len(out.audit)-1]
	out.dest = "siem-" + tag
	err = nil
	switch {
	case k >= 5:
		_, err = db.ExecContext(ctx, `INSERT INTO audit_cursors (dest, seq, hash, entry_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
			out.dest, last.Seq, last.Hash, micros(last.At), micros(at))
		out.cursor = &store.AuditPosition{Seq: last.Seq, Hash: last.Hash, At: last.At}
	case k == 4:
		_, err = db.ExecContext(ctx, `INSERT INTO audit_cursors (dest, seq, updated_at) VALUES ($1, $2, $3)`, out.dest, last.Seq, micros(at))
		out.cursor = &store.AuditPosition{Seq: last.Seq}
	}
	require.NoError(t, err, "version %d moves a cursor", k)

	out.dedupKey = "slack-retry-" + tag
	_, err = db.ExecContext(ctx, `INSERT INTO dedup (key, expires_at) VALUES ($1, $2)`, out.dedupKey, micros(t0.Add(24*time.Hour)))
	require.NoError(t, err, "version %d remembers a delivery", k)

	if k >= 7 {
		it := store.InboxItem{Key: "T0:trigger-" + tag, State: store.InboxStarted, Owner: "host-7/4242/" + tag, LeaseUntil: at.Add(time.Minute),
			ReceivedAt: at, UpdatedAt: at.Add(time.Second), Payload: `{"text":"account list"}`}
		_, err = db.ExecContext(ctx, `INSERT INTO inbox (key, state, owner, lease_until, received_at, updated_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			it.Key, string(it.State), it.Owner, micros(it.LeaseUntil), micros(it.ReceivedAt), micros(it.UpdatedAt), it.Payload)
		require.NoError(t, err, "version %d keeps a command in its inbox", k)
		out.inbox = &it
	}
	return out
}

// check reads what seed wrote through the current store.
func check(t *testing.T, s *sqldb.DB, want seeded) {
	t.Helper()
	ctx := context.Background()
	if want.approval == nil {
		return
	}
	got, err := s.GetApproval(ctx, want.approval.ID)
	require.NoError(t, err)
	assert.Equal(t, want.approval, got, "the approval reads as written")
	sealed, err := s.Secrets(ctx, want.approval.ID)
	require.NoError(t, err)
	assert.Equal(t, want.secrets, sealed)

	var audit []store.AuditRecord
	require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{RequestID: want.approval.RequestID}, func(r store.AuditRecord) error {
		audit = append(audit, r)
		return nil
	}))
	assert.Equal(t, want.audit, audit, "the audit entries read as written")

	cur, err := s.AuditCursor(ctx, want.dest)
	require.NoError(t, err)
	if want.cursor == nil {
		assert.Equal(t, store.AuditPosition{}, cur)
	} else {
		assert.Equal(t, *want.cursor, cur, "the SIEM cursor reads as written")
	}

	fresh, err := s.Claim(ctx, want.dedupKey, time.Hour, t0)
	require.NoError(t, err)
	assert.False(t, fresh, "a delivery seen before the upgrade is still a duplicate")

	if want.inbox != nil {
		got, err := s.InboxGet(ctx, want.inbox.Key)
		require.NoError(t, err)
		assert.Equal(t, *want.inbox, got, "the inbox item reads as written")
		added, err := s.InboxAdd(ctx, store.InboxItem{Key: want.inbox.Key, State: store.InboxReceived, Owner: "new", ReceivedAt: t0})
		require.NoError(t, err)
		assert.False(t, added, "a command in the inbox before the upgrade is still a duplicate")
	}
}

// work runs the store's everyday operations on an upgraded database.
func work(t *testing.T, s *sqldb.DB, tag string) {
	t.Helper()
	ctx := context.Background()
	a := &store.Approval{
		ID: "new-" + tag, RequestID: "rn-" + tag, Requester: "U0ALICE", Channel: "C0OPS", Provider: "cln", Command: "dns set",
		Target: "example.org", Args: `{"name":"www"}`, ArgsHash: "h", CommandLine: "/cln dns set www", Risk: 2, Plan: "{}",
		Required: 2, ApproverRoles: []string{"approver"}, Rule: "default", State: store.StatePending, Meta: map[string]string{},
		CreatedAt: t0.Add(100 * time.Hour), ExpiresAt: t0.Add(101 * time.Hour), UpdatedAt: t0.Add(100 * time.Hour), Sealed: "s",
		Ticket: "DESK-" + tag,
	}
	require.NoError(t, s.CreateApproval(ctx, a))
	list, err := s.ListApprovals(ctx, store.ApprovalFilter{Requester: "U0ALICE", Limit: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, a.ID, list[0].ID, "the new request is listed first")
	assert.Equal(t, "DESK-"+tag, list[0].Ticket, "the request keeps its ticket")
	voted, err := s.Vote(ctx, a.ID, store.Vote{User: "U0DAVE", At: t0.Add(100*time.Hour + time.Minute), Code: "c"}, nil)
	require.NoError(t, err)
	assert.Len(t, voted.Votes, 1)
	assert.Equal(t, store.StatePending, voted.State, "one of two votes")

	var last store.AuditRecord
	require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{Newest: true, Limit: 1}, func(r store.AuditRecord) error { last = r; return nil }))
	r, err := s.AppendAudit(ctx, store.AuditRecord{At: t0.Add(100 * time.Hour), RequestID: a.RequestID, Actor: "U0ALICE", Action: "request",
		Provider: "cln", Command: "dns set", Target: "example.org", ApprovalID: a.ID, Ticket: "DESK-" + tag}, seal)
	require.NoError(t, err)
	assert.Equal(t, last.Seq+1, r.Seq, "the chain continues")
	assert.Equal(t, last.Hash, r.PrevHash, "the chain continues")
	var scanned []store.AuditRecord
	require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{RequestID: a.RequestID}, func(r store.AuditRecord) error { scanned = append(scanned, r); return nil }))
	assert.Equal(t, []store.AuditRecord{r}, scanned)
	var byTicket []store.AuditRecord
	require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{Ticket: "DESK-" + tag}, func(r store.AuditRecord) error { byTicket = append(byTicket, r); return nil }))
	assert.Equal(t, []store.AuditRecord{r}, byTicket, "entries are found by their ticket")
	byTicket = nil
	require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{Ticket: "desk-" + strings.ToLower(tag)}, func(r store.AuditRecord) error { byTicket = append(byTicket, r); return nil }))
	assert.Equal(t, []store.AuditRecord{r}, byTicket, "a ticket is found whatever the case it is typed in")
	// The searches /ops audit runs (009 indexes them), over a window.
	for _, f := range []store.AuditFilter{{Target: "example.org"}, {Actor: "U0ALICE"}, {Text: "DNS SET"}} {
		f.Since, f.Limit, f.RequestID = t0.Add(99*time.Hour), 20, a.RequestID
		var found []store.AuditRecord
		require.NoError(t, s.ScanAudit(ctx, f, func(r store.AuditRecord) error { found = append(found, r); return nil }))
		assert.Equal(t, []store.AuditRecord{r}, found, "search %+v", f)
	}
	batch, err := s.AppendAuditBatch(ctx, []store.AuditRecord{{At: t0.Add(100 * time.Hour), RequestID: a.RequestID, Actor: "U0ALICE", Action: "decision"}}, seal)
	require.NoError(t, err)
	assert.Equal(t, r.Hash, batch[0].PrevHash, "a batch continues the chain")
	require.NoError(t, s.AdvanceAuditCursor(ctx, "new-"+tag, store.PositionOf(r), t0))
	cur, err := s.AuditCursor(ctx, "new-"+tag)
	require.NoError(t, err)
	assert.Equal(t, store.PositionOf(r), cur)

	// The inbox: a command accepted, started and answered.
	it := store.InboxItem{Key: "T0:new-" + tag, State: store.InboxReceived, Owner: "me", LeaseUntil: t0.Add(100*time.Hour + 10*time.Second),
		ReceivedAt: t0.Add(100 * time.Hour), UpdatedAt: t0.Add(100 * time.Hour), Payload: "{}"}
	added, err := s.InboxAdd(ctx, it)
	require.NoError(t, err)
	assert.True(t, added)
	for _, mv := range [][2]store.InboxState{{store.InboxReceived, store.InboxStarted}, {store.InboxStarted, store.InboxDone}} {
		moved, err := s.InboxMove(ctx, it.Key, "me", mv[0], mv[1], t0.Add(100*time.Hour), mv[1] == store.InboxDone)
		require.NoError(t, err)
		assert.True(t, moved, "%s → %s", mv[0], mv[1])
	}
}

// Upgrades builds, for every schema version k from 0 (empty) to the
// latest, a database as the binary of version k left it, with rows it
// wrote; opens it with the current store; and checks that every
// migration is recorded once, the rows read as written, the store works,
// and version k's writes still succeed on the upgraded schema (the old
// replica during a rolling upgrade).
func Upgrades(t *testing.T, b Backend) {
	all := Versions(t)
	require.NotEmpty(t, all)
	for k := int64(0); k <= all[len(all)-1]; k++ {
		t.Run(fmt.Sprintf("from version %d", k), func(t *testing.T) {
			raw, open := b.Fresh(t)
			st, err := sqldb.MigrateStatus(context.Background(), raw, b.Dialect, upTo(t, k), "migrations")
			require.NoError(t, err)
			var before []int64
			for _, v := range all {
				if v <= k {
					before = append(before, v)
				}
			}
			assert.Equal(t, before, st.Applied, "version %d's binary applied its migrations", k)
			old := seed(t, raw, k, "old")

			var logs testbin.Buffer
			s, err := open(sqldb.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			require.NoError(t, err, "the current store opens version %d's database", k)
			defer s.Close()
			var after []int64
			for _, v := range all {
				if v > k {
					after = append(after, v)
				}
			}
			assert.Equal(t, after, s.Schema().Applied, "the migrations after version %d are applied", k)
			assert.Empty(t, s.Schema().Unknown)
			assert.Equal(t, once(all), Recorded(t, raw), "every migration recorded exactly once")
			assert.NotContains(t, logs.String(), "does not know")

			check(t, s, old)
			work(t, s, "k"+strconv.FormatInt(k, 10))

			// The old replica keeps writing with its own SQL; the new store
			// reads it.
			oldAgain := seed(t, raw, k, "old-again")
			check(t, s, oldAgain)
		})
	}
}

// RollingUpgrade checks that a database a newer version migrated
// further than this binary knows still opens: the store warns, naming
// the versions, and works; the newer version's tables and columns are
// left alone.
func RollingUpgrade(t *testing.T, b Backend) {
	ctx := context.Background()
	raw, open := b.Fresh(t)
	s, err := open()
	require.NoError(t, err)
	before := seed(t, raw, Versions(t)[len(Versions(t))-1], "before")
	require.NoError(t, s.Close())

	// What a newer version's migrations 998 and 999 did: additions.
	for _, q := range []string{
		`CREATE TABLE future_widgets (id TEXT PRIMARY KEY, size BIGINT NOT NULL DEFAULT 0)`,
		`INSERT INTO future_widgets (id, size) VALUES ('w1', 42)`,
		`ALTER TABLE approvals ADD COLUMN future_flag INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE audit_log ADD COLUMN future_note TEXT NOT NULL DEFAULT ''`,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (998, 1), (999, 2)`,
	} {
		_, err := raw.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}

	var logs testbin.Buffer
	s, err = open(sqldb.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err, "an older binary opens a database a newer one migrated")
	defer s.Close()
	assert.Equal(t, []int64{998, 999}, s.Schema().Unknown)
	assert.Empty(t, s.Schema().Applied)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "schema migrations this version does not know")
	assert.Contains(t, logs.String(), "unknown_versions=998,999")

	check(t, s, before)
	work(t, s, "rolling")

	want := once(Versions(t))
	want[998], want[999] = 1, 1
	assert.Equal(t, want, Recorded(t, raw), "the newer versions stay recorded")
	var size int64
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT size FROM future_widgets WHERE id = 'w1'`).Scan(&size))
	assert.Equal(t, int64(42), size, "the newer version's data is left alone")
	var flag int
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT future_flag FROM approvals WHERE id = 'new-rolling'`).Scan(&flag))
	assert.Equal(t, 0, flag, "rows the older binary writes take the newer column's default")
}

// ConcurrentOpen opens the store n times at once on one database at
// schema version from (0: a fresh one), as replicas starting together:
// every open succeeds, and each migration is applied by exactly one of
// them and recorded once.
func ConcurrentOpen(t *testing.T, b Backend, from int64, n int) {
	raw, open := b.Fresh(t)
	var want []int64
	if from > 0 {
		_, err := sqldb.MigrateStatus(context.Background(), raw, b.Dialect, upTo(t, from), "migrations")
		require.NoError(t, err)
	}
	for _, v := range Versions(t) {
		if v > from {
			want = append(want, v)
		}
	}
	type result struct {
		applied []int64
		err     error
	}
	start := make(chan struct{})
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		go func() {
			<-start
			s, err := open()
			if err != nil {
				results <- result{err: err}
				return
			}
			results <- result{applied: s.Schema().Applied}
			s.Close()
		}()
	}
	close(start)
	var applied []int64
	for i := 0; i < n; i++ {
		r := <-results
		require.NoError(t, r.err, "a replica starting alongside others opens the store")
		applied = append(applied, r.applied...)
	}
	sort.Slice(applied, func(i, j int) bool { return applied[i] < applied[j] })
	assert.Equal(t, want, applied, "each migration applied by exactly one replica")
	assert.Equal(t, once(Versions(t)), Recorded(t, raw), "each migration recorded once")
}
