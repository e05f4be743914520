package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/sqldb"
	"github.com/deskbot/deskbot/internal/store/sqlite"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

const secret = "audit-key-canary-0123456789abcdef"

func openStore(t *testing.T) *sqldb.DB {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func mustKey(t *testing.T, s string) *audit.Key {
	t.Helper()
	k, err := audit.NewKey([]byte(s))
	require.NoError(t, err)
	return k
}

func record(t *testing.T, l *audit.Log, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		require.NoError(t, l.Record(context.Background(), audit.Entry{Time: t0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("r%d", i),
			Actor: "U0ALICE", Action: audit.ActionRequest, Provider: "whm", Command: "account suspend", Detail: fmt.Sprint("entry ", i)}))
	}
}

func records(t *testing.T, s store.Audit) []store.AuditRecord {
	t.Helper()
	var out []store.AuditRecord
	require.NoError(t, s.ScanAudit(context.Background(), store.AuditFilter{}, func(r store.AuditRecord) error { out = append(out, r); return nil }))
	return out
}

// rechain rewrites every record from seq from on with seal, as someone
// with write access to the database would after an edit.
func rechain(t *testing.T, s *sqldb.DB, from int64, seal func(*store.AuditRecord)) {
	t.Helper()
	ctx := context.Background()
	prev := ""
	for _, r := range records(t, s) {
		if r.Seq >= from {
			r.PrevHash = prev
			seal(&r)
			require.NoError(t, s.Exec(ctx, `UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, r.PrevHash, r.Hash, r.Seq))
		}
		prev = r.Hash
	}
}

func TestKeyNeverShowsItsSecret(t *testing.T) {
	k := mustKey(t, secret)
	same := mustKey(t, secret)
	assert.Equal(t, k.ID(), same.ID(), "the id is a fingerprint: the same key has the same id")
	assert.Len(t, k.ID(), 12)
	assert.NotEqual(t, k.ID(), mustKey(t, secret+"x").ID())
	for _, s := range []string{k.String(), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), k.Public().String()} {
		assert.NotContains(t, s, secret)
	}
	pub, err := audit.ParsePublicKey(k.Public().String())
	require.NoError(t, err)
	assert.Equal(t, k.ID(), pub.ID())
	_, err = audit.NewKey([]byte("short"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "short")
	_, err = audit.ParsePublicKey("ed25519:nope")
	assert.Error(t, err)
}

func TestKeyedEntriesFollowUnkeyedOnes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	record(t, audit.NewLog(s, nil), 1, 3) // written before the key existed
	k := mustKey(t, secret)
	l := audit.NewLog(s, nil, audit.WithKey(k))
	record(t, l, 4, 6)
	recs := records(t, s)
	assert.NotContains(t, recs[2].Hash, ":", "old entries keep their v1 hash")
	assert.True(t, strings.HasPrefix(recs[3].Hash, "v2:"+k.ID()+":"), recs[3].Hash)

	res, err := l.Verify(ctx)
	require.NoError(t, err)
	require.True(t, res.OK(), res.Problem)
	assert.Equal(t, int64(4), res.KeyedFrom)
	assert.Equal(t, k.ID(), res.KeyID)
	assert.Equal(t, int64(6), res.HeadSeq)
	assert.Equal(t, recs[5].Hash, res.Head)

	// Another key: the log says whose key sealed it, not "altered".
	other := audit.NewLog(s, nil, audit.WithKey(mustKey(t, "another-key-0123456789")))
	res, err = other.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(4), res.FirstBad)
	assert.Equal(t, fmt.Sprintf("entry 4 was sealed with audit key %s, not with the configured one (%s)", k.ID(), other.Key().ID()), res.Problem)

	// Without a key the keyed part cannot be checked.
	res, err = audit.NewLog(s, nil).Verify(ctx)
	require.NoError(t, err)
	assert.Contains(t, res.Problem, "no audit key is configured")
}

func TestTamperingIsFound(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, secret)
	for name, tc := range map[string]struct {
		tamper func(t *testing.T, s *sqldb.DB)
		bad    int64
		want   string
	}{
		"an edited entry": {
			tamper: func(t *testing.T, s *sqldb.DB) {
				require.NoError(t, s.Exec(ctx, `UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 3`))
			},
			bad: 3, want: "entry 3 was altered: its content does not match its keyed hash",
		},
		"an edit with the chain recomputed without the key": {
			tamper: func(t *testing.T, s *sqldb.DB) {
				require.NoError(t, s.Exec(ctx, `UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 3`))
				rechain(t, s, 3, audit.Seal)
			},
			bad: 3, want: "entry 3 is unkeyed but follows keyed entries (keyed from entry 1)",
		},
		"a deleted entry": {
			tamper: func(t *testing.T, s *sqldb.DB) {
				require.NoError(t, s.Exec(ctx, `DELETE FROM audit_log WHERE seq = 3`))
			},
			bad: 4, want: "entry 4 follows entry 2: entries are missing (entry 3)",
		},
		"an entry sealed with another key": {
			tamper: func(t *testing.T, s *sqldb.DB) { rechain(t, s, 3, mustKey(t, "forger-key-0123456789").Seal) },
			bad:    3, want: "entry 3 was sealed with audit key",
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			l := audit.NewLog(s, nil, audit.WithKey(k))
			record(t, l, 1, 5)
			tc.tamper(t, s)
			res, err := l.Verify(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.bad, res.FirstBad)
			assert.Contains(t, res.Problem, tc.want)
		})
	}
}

// The changes a chain alone cannot see (the tail deleted, everything
// recomputed by someone with the key) are found by anchors.
func TestAnchorsFindWhatTheChainCannot(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, secret)
	setup := func(t *testing.T) (*sqldb.DB, *audit.Log, []audit.Anchor) {
		s := openStore(t)
		l := audit.NewLog(s, nil, audit.WithKey(k))
		var anchors []audit.Anchor
		for i, upto := range []int{3, 6, 9} {
			record(t, l, upto-2, upto)
			res, err := l.Verify(ctx)
			require.NoError(t, err)
			anchors = append(anchors, audit.Anchor{Seq: res.HeadSeq, Hash: res.Head, Source: fmt.Sprintf("anchor %d", i+1)})
		}
		res, err := l.Verify(ctx, anchors...)
		require.NoError(t, err)
		require.True(t, res.OK(), res.Problem)
		assert.Equal(t, 3, res.Anchors)
		return s, l, anchors
	}

	t.Run("tail deleted", func(t *testing.T) {
		s, l, anchors := setup(t)
		require.NoError(t, s.Exec(ctx, `DELETE FROM audit_log WHERE seq > 7`))
		res, err := l.Verify(ctx)
		require.NoError(t, err)
		assert.True(t, res.OK(), "the chain alone cannot tell")
		res, err = l.Verify(ctx, anchors...)
		require.NoError(t, err)
		assert.Equal(t, int64(8), res.FirstBad)
		assert.Equal(t, "the log ends at entry 7, but anchor 3 vouches for 9 entries: entries 8 to 9 were deleted (the log was cut short)", res.Problem)
		assert.Equal(t, "the change lies between entry 7 (after anchor 2, which still matches) and entry 9 (anchor 3)", res.Where)
	})

	t.Run("middle entry deleted and the rest renumbered and resealed", func(t *testing.T) {
		s, l, anchors := setup(t)
		require.NoError(t, s.Exec(ctx, `DELETE FROM audit_log WHERE seq = 5`))
		require.NoError(t, s.Exec(ctx, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 5`))
		rechain(t, s, 5, k.Seal) // an insider with the key
		res, err := l.Verify(ctx)
		require.NoError(t, err)
		assert.True(t, res.OK(), "the chain alone cannot tell")
		res, err = l.Verify(ctx, anchors...)
		require.NoError(t, err)
		assert.Equal(t, int64(6), res.FirstBad)
		assert.Contains(t, res.Problem, "entry 6 no longer has the hash recorded by anchor 2")
		assert.Equal(t, "the change lies between entry 4 (after anchor 1, which still matches) and entry 6 (anchor 2)", res.Where)
	})

	t.Run("entry rewritten with the chain recomputed without the key", func(t *testing.T) {
		s, l, anchors := setup(t)
		require.NoError(t, s.Exec(ctx, `UPDATE audit_log SET detail = 'nothing' WHERE seq = 8`))
		rechain(t, s, 1, audit.Seal) // the whole log as unkeyed entries
		res, err := l.Verify(ctx)
		require.NoError(t, err)
		assert.True(t, res.OK(), "an all-v1 chain verifies on its own")
		assert.Equal(t, int64(0), res.KeyedFrom)
		res, err = l.Verify(ctx, anchors...)
		require.NoError(t, err)
		assert.Equal(t, int64(3), res.FirstBad, "the first anchor no longer matches")
		assert.Equal(t, "the change lies between entry 1 and entry 3 (anchor 1)", res.Where)
	})

	t.Run("a broken chain is placed between anchors", func(t *testing.T) {
		s, l, anchors := setup(t)
		require.NoError(t, s.Exec(ctx, `UPDATE audit_log SET detail = 'nothing' WHERE seq = 5`))
		res, err := l.Verify(ctx, anchors...)
		require.NoError(t, err)
		assert.Equal(t, int64(5), res.FirstBad)
		assert.Equal(t, "the change lies between entry 4 (after anchor 1, which still matches) and entry 6 (anchor 2)", res.Where)
	})
}

// Rotation: the old key's entries verify with it listed as previous;
// once the log moved on, an entry sealed with the old key is tampering;
// CheckKey refuses a key nobody listed.
func TestRotatedKeys(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	old, next := mustKey(t, secret), mustKey(t, "the-next-audit-key-0123456789")
	record(t, audit.NewLog(s, nil, audit.WithKey(old)), 1, 3)

	changed := audit.NewLog(s, nil, audit.WithKey(next))
	_, err := changed.CheckKey(ctx)
	var mismatch *audit.KeyMismatchError
	require.ErrorAs(t, err, &mismatch)
	assert.Equal(t, fmt.Sprintf("the audit log's newest entry (3) was sealed with audit key %s; the configured audit_key is %s: "+
		"restore the key that sealed it, or, to rotate the key on purpose, keep the old one under audit.previous_keys "+
		`(see "Rotating the audit key" in docs/policy.md)`, old.ID(), next.ID()), err.Error())

	l := audit.NewLog(s, nil, audit.WithKey(next), audit.WithPreviousKeys(old))
	rotated, err := l.CheckKey(ctx)
	require.NoError(t, err)
	assert.Equal(t, old.ID(), rotated)
	record(t, l, 4, 5)
	rotated, err = l.CheckKey(ctx)
	require.NoError(t, err)
	assert.Empty(t, rotated, "the newest entry is the new key's")
	res, err := l.Verify(ctx)
	require.NoError(t, err)
	require.True(t, res.OK(), res.Problem)
	assert.Equal(t, []audit.KeyRange{{From: 1, To: 3, KeyID: old.ID()}, {From: 4, To: 5, KeyID: next.ID()}}, res.Keys)

	// Someone with the old key appends after the rotation.
	record(t, audit.NewLog(s, nil, audit.WithKey(old)), 6, 6)
	res, err = l.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(6), res.FirstBad)
	assert.Contains(t, res.Problem, "entry 6 was sealed with audit key "+old.ID()+", which the log had already moved on from (to key "+next.ID()+" at entry 4)")
}

// A ticket is part of what an entry's hash covers: rewriting it, or
// giving one afterwards to an entry made without, is tampering. Entries
// without a ticket hash as they always did, so older logs still verify.
func TestTicketsAreChained(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		tamper string
		bad    int64
	}{
		"untouched":                 {},
		"a ticket rewritten":        {tamper: `UPDATE audit_log SET ticket = 'OPS-999' WHERE seq = 2`, bad: 2},
		"a ticket removed":          {tamper: `UPDATE audit_log SET ticket = '' WHERE seq = 2`, bad: 2},
		"a ticket given afterwards": {tamper: `UPDATE audit_log SET ticket = 'OPS-1' WHERE seq = 1`, bad: 1},
	} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			l := audit.NewLog(s, nil, audit.WithKey(mustKey(t, secret)))
			record(t, l, 1, 1)
			require.NoError(t, l.Record(ctx, audit.Entry{Time: t0.Add(time.Minute), RequestID: "r2", Actor: "U0ALICE", Action: audit.ActionRequest,
				Provider: "whm", Command: "account suspend", Ticket: "OPS-42"}))
			record(t, l, 3, 3)
			found, err := l.Search(ctx, audit.Filter{Ticket: "OPS-42"})
			require.NoError(t, err)
			require.Len(t, found, 1)
			assert.Equal(t, "r2", found[0].RequestID)
			if tc.tamper != "" {
				require.NoError(t, s.Exec(ctx, tc.tamper))
			}
			res, err := l.Verify(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.bad, res.FirstBad, res.Problem)
		})
	}
}

// An entry without a ticket hashes exactly as before tickets existed.
func TestEntriesWithoutTicketHashAsBefore(t *testing.T) {
	r := store.AuditRecord{Seq: 1, At: t0, RequestID: "r1", Actor: "U0ALICE", Action: "request"}
	before := audit.Hash(r)
	r.Ticket = "OPS-1"
	assert.NotEqual(t, before, audit.Hash(r))
	// The hash the release before tickets computed for this record.
	assert.Equal(t, "f0f787e477ba90726eb10235b6bb99b39e2b3f67a78f1f15b58552c545ba3744", before)
}
