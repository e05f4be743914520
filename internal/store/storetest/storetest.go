// Package storetest is the contract every store implementation passes.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func approval(id string, required int) *store.Approval {
	return &store.Approval{
		ID: id, RequestID: "r-" + id, Requester: "U0BOB", Channel: "C1", Provider: "whm", Command: "account suspend",
		Target: "web01", Args: `{"user":"demo1"}`, ArgsHash: "h-" + id, CommandLine: "/whm account suspend demo1",
		Risk: 3, Plan: `{"summary":"Suspend demo1"}`, Required: required, ApproverRoles: []string{"approver"},
		ConfirmTarget: required > 1, Rule: "default high", State: store.StatePending,
		Meta: map[string]string{"ts": "1.2"}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), UpdatedAt: t0,
	}
}

// Run runs the contract against stores made by open; each call must
// return an empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("approval round trip", func(t *testing.T) {
		s := open(t)
		a := approval("a1", 1)
		require.NoError(t, s.CreateApproval(ctx, a))
		got, err := s.GetApproval(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, a, got)
		assert.ErrorIs(t, s.CreateApproval(ctx, a), store.ErrConflict)
		_, err = s.GetApproval(ctx, "nope")
		assert.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("list filters and order", func(t *testing.T) {
		s := open(t)
		for i, id := range []string{"l1", "l2", "l3"} {
			a := approval(id, 1)
			a.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
			if id == "l2" {
				a.Requester = "U0ALICE"
			}
			require.NoError(t, s.CreateApproval(ctx, a))
		}
		_, err := s.Transition(ctx, "l3", []store.State{store.StatePending}, store.StateCancelled, t0, store.Update{})
		require.NoError(t, err)
		all, err := s.ListApprovals(ctx, store.ApprovalFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"l3", "l2", "l1"}, ids(all), "newest first")
		pending, err := s.ListApprovals(ctx, store.ApprovalFilter{States: []store.State{store.StatePending}})
		require.NoError(t, err)
		assert.Equal(t, []string{"l2", "l1"}, ids(pending))
		mine, err := s.ListApprovals(ctx, store.ApprovalFilter{Requester: "U0ALICE"})
		require.NoError(t, err)
		assert.Equal(t, []string{"l2"}, ids(mine))
		one, err := s.ListApprovals(ctx, store.ApprovalFilter{Limit: 1})
		require.NoError(t, err)
		assert.Len(t, one, 1)

		// A listed request is the whole request, votes included, as
		// GetApproval reads it.
		require.NoError(t, s.CreateApproval(ctx, approval("l4", 3)))
		for i, u := range []string{"U0DAN", "U0CAROL"} {
			_, err := s.Vote(ctx, "l4", store.Vote{User: u, At: t0.Add(time.Duration(i+1) * time.Second), Code: "c-" + u}, nil)
			require.NoError(t, err)
		}
		listed, err := s.ListApprovals(ctx, store.ApprovalFilter{States: []store.State{store.StatePending}})
		require.NoError(t, err)
		for _, a := range listed {
			got, err := s.GetApproval(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, got, a, "listed %s", a.ID)
		}
		require.Len(t, listed, 3)
		assert.Equal(t, "l4", listed[2].ID, "created first, at the same time as l1: by id")
		assert.Len(t, listed[2].Votes, 2)
		none, err := s.ListApprovals(ctx, store.ApprovalFilter{Requester: "U0NOBODY"})
		require.NoError(t, err)
		assert.Empty(t, none)
	})

	t.Run("votes reach the quorum", func(t *testing.T) {
		s := open(t)
		require.NoError(t, s.CreateApproval(ctx, approval("v2", 2)))
		a, err := s.Vote(ctx, "v2", store.Vote{User: "U0CAROL", At: t0.Add(time.Minute)}, nil)
		require.NoError(t, err)
		assert.Equal(t, store.StatePending, a.State)
		_, err = s.Vote(ctx, "v2", store.Vote{User: "U0CAROL", At: t0.Add(2 * time.Minute)}, nil)
		assert.ErrorIs(t, err, store.ErrDuplicateVote, "one user counts once")
		a, err = s.Vote(ctx, "v2", store.Vote{User: "U0DAN", At: t0.Add(3 * time.Minute)}, nil)
		require.NoError(t, err)
		assert.Equal(t, store.StateApproved, a.State)
		got, _ := s.GetApproval(ctx, "v2")
		assert.Equal(t, []store.Vote{{User: "U0CAROL", At: t0.Add(time.Minute)}, {User: "U0DAN", At: t0.Add(3 * time.Minute)}}, got.Votes)
		_, err = s.Vote(ctx, "v2", store.Vote{User: "U0ERIN", At: t0.Add(4 * time.Minute)}, nil)
		assert.ErrorIs(t, err, store.ErrConflict, "no votes after approval")
	})

	t.Run("no vote after expiry", func(t *testing.T) {
		s := open(t)
		require.NoError(t, s.CreateApproval(ctx, approval("e1", 1)))
		_, err := s.Vote(ctx, "e1", store.Vote{User: "U0CAROL", At: t0.Add(time.Hour)}, nil)
		assert.ErrorIs(t, err, store.ErrConflict)
		expired, err := s.ExpirePending(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, []string{"e1"}, expired)
		got, _ := s.GetApproval(ctx, "e1")
		assert.Equal(t, store.StateExpired, got.State)
		again, err := s.ExpirePending(ctx, t0.Add(2*time.Hour))
		require.NoError(t, err)
		assert.Empty(t, again)
	})

	t.Run("transitions are conditional", func(t *testing.T) {
		s := open(t)
		require.NoError(t, s.CreateApproval(ctx, approval("c1", 1)))
		ok, err := s.Transition(ctx, "c1", []store.State{store.StateApproved}, store.StateExecuting, t0, store.Update{})
		require.NoError(t, err)
		assert.False(t, ok, "pending is not approved")
		_, err = s.Vote(ctx, "c1", store.Vote{User: "U0CAROL", At: t0}, nil)
		require.NoError(t, err)
		lease := t0.Add(30 * time.Second)
		ok, err = s.Transition(ctx, "c1", []store.State{store.StateApproved}, store.StateExecuting, t0, store.Update{LeaseUntil: &lease})
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = s.Transition(ctx, "c1", []store.State{store.StateApproved}, store.StateExecuting, t0, store.Update{})
		require.NoError(t, err)
		assert.False(t, ok, "a second claim fails")
		result, by := "done", "U0CAROL"
		ok, err = s.Transition(ctx, "c1", []store.State{store.StateExecuting}, store.StateSucceeded, t0.Add(time.Second), store.Update{Result: &result, DecidedBy: &by, Meta: map[string]string{"ts": "9"}})
		require.NoError(t, err)
		assert.True(t, ok)
		got, _ := s.GetApproval(ctx, "c1")
		assert.Equal(t, store.StateSucceeded, got.State)
		assert.Equal(t, "done", got.Result)
		assert.Equal(t, map[string]string{"ts": "9"}, got.Meta)
		_, err = s.Transition(ctx, "missing", []store.State{store.StatePending}, store.StateDenied, t0, store.Update{})
		assert.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("meta merges", func(t *testing.T) {
		s := open(t)
		require.NoError(t, s.CreateApproval(ctx, approval("m1", 1)))
		require.NoError(t, s.SetMeta(ctx, "m1", map[string]string{"card_ts": "3.4"}))
		got, _ := s.GetApproval(ctx, "m1")
		assert.Equal(t, map[string]string{"ts": "1.2", "card_ts": "3.4"}, got.Meta)
		assert.ErrorIs(t, s.SetMeta(ctx, "nope", map[string]string{"a": "b"}), store.ErrNotFound)
	})

	t.Run("the last vote claims the execution in the same transaction", func(t *testing.T) {
		s := open(t)
		require.NoError(t, s.CreateApproval(ctx, approval("k1", 2)))
		claim := &store.Claim{Executor: "inst-a", LeaseUntil: t0.Add(30 * time.Second)}
		a, err := s.Vote(ctx, "k1", store.Vote{User: "U0CAROL", At: t0}, claim)
		require.NoError(t, err)
		assert.Equal(t, store.StatePending, a.State, "one vote of two claims nothing")
		assert.Empty(t, a.Executor)
		a, err = s.Vote(ctx, "k1", store.Vote{User: "U0DAN", At: t0.Add(time.Second)}, claim)
		require.NoError(t, err)
		assert.Equal(t, store.StateExecuting, a.State)
		got, _ := s.GetApproval(ctx, "k1")
		assert.Equal(t, store.StateExecuting, got.State)
		assert.Equal(t, "inst-a", got.Executor)
		assert.Equal(t, t0.Add(30*time.Second), got.LeaseUntil)
	})

	t.Run("guards: only the holder renews, a lapsed undispatched claim can be taken over once", func(t *testing.T) {
		s := open(t)
		require.NoError(t, s.CreateApproval(ctx, approval("g1", 1)))
		_, err := s.Vote(ctx, "g1", store.Vote{User: "U0CAROL", At: t0}, &store.Claim{Executor: "inst-a", LeaseUntil: t0.Add(30 * time.Second)})
		require.NoError(t, err)
		exec := []store.State{store.StateExecuting}
		renew := t0.Add(40 * time.Second)
		ok, err := s.Transition(ctx, "g1", exec, store.StateExecuting, t0, store.Update{LeaseUntil: &renew, If: &store.Guard{Executor: "inst-b"}})
		require.NoError(t, err)
		assert.False(t, ok, "another instance cannot renew the claim")
		other := "inst-b"
		ok, err = s.Transition(ctx, "g1", exec, store.StateExecuting, t0.Add(10*time.Second), store.Update{Executor: &other, If: &store.Guard{Executor: "inst-a", LapsedBy: t0.Add(10 * time.Second), NotDispatched: true}})
		require.NoError(t, err)
		assert.False(t, ok, "a live lease is not taken over")
		ok, err = s.Transition(ctx, "g1", exec, store.StateExecuting, t0.Add(5*time.Second), store.Update{Dispatched: true, If: &store.Guard{Executor: "inst-a"}})
		require.NoError(t, err)
		assert.True(t, ok, "the holder marks the command dispatched")
		got, _ := s.GetApproval(ctx, "g1")
		assert.Equal(t, t0.Add(5*time.Second), got.DispatchedAt)
		ok, err = s.Transition(ctx, "g1", exec, store.StateExecuting, t0.Add(time.Minute), store.Update{Executor: &other, If: &store.Guard{Executor: "inst-a", LapsedBy: t0.Add(time.Minute), NotDispatched: true}})
		require.NoError(t, err)
		assert.False(t, ok, "a dispatched command is never taken over")
		ok, err = s.Transition(ctx, "g1", exec, store.StateUnknown, t0.Add(time.Minute), store.Update{If: &store.Guard{Executor: "inst-a", LapsedBy: t0.Add(time.Minute)}})
		require.NoError(t, err)
		assert.True(t, ok, "a lapsed dispatched claim becomes unknown")

		require.NoError(t, s.CreateApproval(ctx, approval("g2", 1)))
		_, err = s.Vote(ctx, "g2", store.Vote{User: "U0CAROL", At: t0}, &store.Claim{Executor: "inst-a", LeaseUntil: t0.Add(30 * time.Second)})
		require.NoError(t, err)
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				me := fmt.Sprintf("inst-%d", i)
				ok, err := s.Transition(ctx, "g2", exec, store.StateExecuting, t0.Add(time.Minute), store.Update{Executor: &me, If: &store.Guard{Executor: "inst-a", LapsedBy: t0.Add(time.Minute), NotDispatched: true}})
				if err != nil {
					t.Errorf("take over: %v", err)
				}
				if ok {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), won.Load(), "one instance takes over a lapsed claim")
	})

	t.Run("sealed secrets live with the request and go when it ends", func(t *testing.T) {
		s := open(t)
		a := approval("s1", 1)
		a.Sealed = "sealed-bytes"
		require.NoError(t, s.CreateApproval(ctx, a))
		require.NoError(t, s.CreateApproval(ctx, approval("s2", 1)))
		got, err := s.Secrets(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, "sealed-bytes", got)
		none, err := s.Secrets(ctx, "s2")
		require.NoError(t, err)
		assert.Empty(t, none)
		require.NoError(t, s.PurgeSecrets(ctx, t0))
		got, _ = s.Secrets(ctx, "s1")
		assert.Equal(t, "sealed-bytes", got, "a pending request keeps its secrets")
		_, err = s.Transition(ctx, "s1", []store.State{store.StatePending}, store.StateCancelled, t0, store.Update{})
		require.NoError(t, err)
		require.NoError(t, s.PurgeSecrets(ctx, t0))
		got, _ = s.Secrets(ctx, "s1")
		assert.Empty(t, got, "an ended request's secrets are purged")
		a3 := approval("s3", 1)
		a3.Sealed = "x"
		require.NoError(t, s.CreateApproval(ctx, a3))
		require.NoError(t, s.DeleteSecrets(ctx, "s3"))
		got, _ = s.Secrets(ctx, "s3")
		assert.Empty(t, got)
	})

	t.Run("binding fields round-trip", func(t *testing.T) {
		s := open(t)
		a := approval("b1", 1)
		a.PlanDigest, a.ConfirmValue = "v1:abc", "web01"
		require.NoError(t, s.CreateApproval(ctx, a))
		got, _ := s.GetApproval(ctx, "b1")
		assert.Equal(t, "v1:abc", got.PlanDigest)
		assert.Equal(t, "web01", got.ConfirmValue)
		assert.True(t, got.DispatchedAt.IsZero())
	})

	t.Run("fifty concurrent approvals execute once", func(t *testing.T) {
		s := open(t)
		require.NoError(t, s.CreateApproval(ctx, approval("x1", 1)))
		var claimed atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Vote(ctx, "x1", store.Vote{User: fmt.Sprintf("U%02d", i), At: t0}, nil)
				if err != nil && !errors.Is(err, store.ErrConflict) {
					t.Errorf("vote: %v", err)
				}
				ok, err := s.Transition(ctx, "x1", []store.State{store.StateApproved}, store.StateExecuting, t0, store.Update{})
				if err != nil {
					t.Errorf("claim: %v", err)
				}
				if ok {
					claimed.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), claimed.Load())
		got, _ := s.GetApproval(ctx, "x1")
		assert.Len(t, got.Votes, 1, "votes after the quorum are refused")
	})

	t.Run("audit chain", func(t *testing.T) {
		s := open(t)
		seal := func(r *store.AuditRecord) {
			h := sha256.Sum256([]byte(r.PrevHash + "|" + fmt.Sprint(r.Seq) + "|" + r.Detail))
			r.Hash = hex.EncodeToString(h[:])
		}
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.AppendAudit(ctx, store.AuditRecord{At: t0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("r%d", i%4), Actor: fmt.Sprintf("U%d", i%2),
					Action: "request", Provider: []string{"whm", "cln"}[i%2], Command: "account suspend", Target: fmt.Sprintf("web%02d", i%5),
					Args: fmt.Sprintf(`{"user":"Shop_%d"}`, i), Detail: fmt.Sprint(i, "% done")}, seal)
				if err != nil {
					t.Errorf("append: %v", err)
				}
			}()
		}
		wg.Wait()
		var recs []store.AuditRecord
		require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{}, func(r store.AuditRecord) error { recs = append(recs, r); return nil }))
		require.Len(t, recs, 20)
		prev := ""
		for i, r := range recs {
			assert.Equal(t, int64(i+1), r.Seq, "no gaps")
			assert.Equal(t, prev, r.PrevHash, "each entry links to the one before")
			c := r
			seal(&c)
			assert.Equal(t, c.Hash, r.Hash)
			prev = r.Hash
		}
		count := func(f store.AuditFilter) int {
			n := 0
			require.NoError(t, s.ScanAudit(ctx, f, func(store.AuditRecord) error { n++; return nil }))
			return n
		}
		assert.Equal(t, 10, count(store.AuditFilter{Actor: "U1"}))
		assert.Equal(t, 10, count(store.AuditFilter{Command: "whm"}))
		assert.Equal(t, 10, count(store.AuditFilter{Command: "whm:account"}))
		assert.Equal(t, 0, count(store.AuditFilter{Command: "whm:dns"}))
		assert.Equal(t, 5, count(store.AuditFilter{RequestID: "r1"}))
		assert.Equal(t, 15, count(store.AuditFilter{Since: t0.Add(5 * time.Second)}))
		assert.Equal(t, 5, count(store.AuditFilter{Until: t0.Add(5 * time.Second)}))
		assert.Equal(t, 3, count(store.AuditFilter{Limit: 3}))
		assert.Equal(t, 2, count(store.AuditFilter{AfterSeq: 18}))
		assert.Equal(t, 20, count(store.AuditFilter{Action: "request"}))
		assert.Equal(t, 0, count(store.AuditFilter{Action: "result"}))
		assert.Equal(t, 4, count(store.AuditFilter{Target: "web03"}))
		assert.Equal(t, 0, count(store.AuditFilter{Target: "web0"}), "a target matches exactly")
		assert.Equal(t, 1, count(store.AuditFilter{Text: "shop_7\""}), "text ignores case and matches the arguments")
		assert.Equal(t, 11, count(store.AuditFilter{Text: "SHOP_1"}), "Shop_1 and Shop_10 to Shop_19")
		assert.Equal(t, 0, count(store.AuditFilter{Text: "shop%7"}), "% is a character, not a wildcard")
		assert.Equal(t, 0, count(store.AuditFilter{Text: "shop_" + "x"}))
		assert.Equal(t, 20, count(store.AuditFilter{Text: "% done"}), "the detail")
		assert.Equal(t, 20, count(store.AuditFilter{Text: "SUSPEND"}), "the command")
		assert.Equal(t, 4, count(store.AuditFilter{Text: "WEB03"}), "the target")
		assert.Equal(t, 2, count(store.AuditFilter{Text: "shop_1", Actor: "U1", Target: "web01"}), "with other filters: Shop_1 and Shop_11")
		var newest []int64
		require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{Limit: 3, Newest: true}, func(r store.AuditRecord) error { newest = append(newest, r.Seq); return nil }))
		assert.Equal(t, []int64{18, 19, 20}, newest)
		// The twenty were appended concurrently: their sequence is not
		// their time order, which ByTime gives.
		var byTime []time.Time
		require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{ByTime: true, Since: t0.Add(2 * time.Second), Limit: 5}, func(r store.AuditRecord) error {
			byTime = append(byTime, r.At)
			return nil
		}))
		assert.Equal(t, []time.Time{t0.Add(2 * time.Second), t0.Add(3 * time.Second), t0.Add(4 * time.Second), t0.Add(5 * time.Second), t0.Add(6 * time.Second)}, byTime)
		stop := errors.New("stop")
		assert.ErrorIs(t, s.ScanAudit(ctx, store.AuditFilter{}, func(store.AuditRecord) error { return stop }), stop)
	})

	t.Run("audit batch chains as single appends do", func(t *testing.T) {
		one, batch := open(t), open(t)
		seal := func(r *store.AuditRecord) {
			h := sha256.Sum256([]byte(r.PrevHash + "|" + fmt.Sprint(r.Seq) + "|" + r.Actor + "|" + r.Detail))
			r.Hash = hex.EncodeToString(h[:])
		}
		// More than one INSERT's worth, between single appends, so the
		// batch must pick up the head and the next append must follow it.
		recs := make([]store.AuditRecord, 250)
		for i := range recs {
			recs[i] = store.AuditRecord{At: t0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("r%d", i), Actor: fmt.Sprintf("U%d", i%7),
				Action: "result", Provider: "whm", Command: "account suspend", Target: "web01", Args: `{"user":"demo"}`, Outcome: "succeeded", Detail: fmt.Sprint(i)}
		}
		for _, r := range recs {
			_, err := one.AppendAudit(ctx, r, seal)
			require.NoError(t, err)
		}
		_, err := batch.AppendAudit(ctx, recs[0], seal)
		require.NoError(t, err)
		got, err := batch.AppendAuditBatch(ctx, recs[1:249], seal)
		require.NoError(t, err)
		require.Len(t, got, 248)
		assert.Equal(t, int64(2), got[0].Seq)
		assert.Equal(t, int64(249), got[247].Seq)
		_, err = batch.AppendAudit(ctx, recs[249], seal)
		require.NoError(t, err)
		empty, err := batch.AppendAuditBatch(ctx, nil, seal)
		require.NoError(t, err)
		assert.Empty(t, empty)

		all := func(s store.Store) []store.AuditRecord {
			var out []store.AuditRecord
			require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{}, func(r store.AuditRecord) error { out = append(out, r); return nil }))
			return out
		}
		want, have := all(one), all(batch)
		require.Len(t, have, 250)
		assert.Equal(t, want, have, "the same records, sequence numbers, links and hashes")
	})

	t.Run("audit batch that fails stores nothing", func(t *testing.T) {
		s := open(t)
		seal := func(r *store.AuditRecord) { r.Hash = fmt.Sprint("h", r.Seq) }
		_, err := s.AppendAudit(ctx, store.AuditRecord{At: t0, Actor: "U1", Action: "request"}, seal)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.AppendAuditBatch(ctx, []store.AuditRecord{{At: t0, Actor: "U1", Action: "request"}}, seal)
		require.Error(t, err)
		n := 0
		require.NoError(t, s.ScanAudit(context.Background(), store.AuditFilter{}, func(store.AuditRecord) error { n++; return nil }))
		assert.Equal(t, 1, n)
	})

	t.Run("audit entries are found by their ticket as it was given, and ASCII case does not matter", func(t *testing.T) {
		s := open(t)
		seal := func(r *store.AuditRecord) { r.Hash = fmt.Sprint("h", r.Seq) }
		for _, ticket := range []string{"", "OPS-7", "ärende-7", "Ärende-8"} {
			_, err := s.AppendAudit(ctx, store.AuditRecord{At: t0, Actor: "U1", Action: "request", Ticket: ticket}, seal)
			require.NoError(t, err)
		}
		found := func(ticket string) []string {
			var out []string
			require.NoError(t, s.ScanAudit(ctx, store.AuditFilter{Ticket: ticket}, func(r store.AuditRecord) error {
				out = append(out, r.Ticket)
				return nil
			}))
			return out
		}
		assert.Equal(t, []string{"OPS-7"}, found("ops-7"))
		assert.Equal(t, []string{"OPS-7"}, found("OPS-7"))
		// SQLite's UPPER leaves letters beyond ASCII as they are: a search
		// finds these as they were given (PostgreSQL also in other cases).
		assert.Equal(t, []string{"ärende-7"}, found("ärende-7"))
		assert.Equal(t, []string{"Ärende-8"}, found("Ärende-8"))
		assert.Equal(t, []string{"Ärende-8"}, found("ÄRENDE-8"))
		assert.Empty(t, found("OPS"), "a ticket is matched whole")
		assert.Empty(t, found(" "), "a blank search is not an entry without a ticket")
	})

	t.Run("audit cursors only move forward", func(t *testing.T) {
		s := open(t)
		pos := func(seq int64) store.AuditPosition {
			return store.AuditPosition{Seq: seq, Hash: fmt.Sprintf("v2:k:%d", seq), At: t0.Add(time.Duration(seq) * time.Second)}
		}
		cur, err := s.AuditCursor(ctx, "syslog")
		require.NoError(t, err)
		assert.Equal(t, store.AuditPosition{}, cur, "a new destination starts before the first entry")
		require.NoError(t, s.AdvanceAuditCursor(ctx, "syslog", pos(5), t0))
		require.NoError(t, s.AdvanceAuditCursor(ctx, "syslog", pos(3), t0), "an older batch finishing late is not an error")
		cur, err = s.AuditCursor(ctx, "syslog")
		require.NoError(t, err)
		assert.Equal(t, pos(5), cur, "the cursor never moves backwards; it keeps the entry's hash and time")
		other, err := s.AuditCursor(ctx, "webhook")
		require.NoError(t, err)
		assert.Equal(t, int64(0), other.Seq, "each destination has its own cursor")
		var wg sync.WaitGroup
		for i := 1; i <= 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.AdvanceAuditCursor(ctx, "webhook", pos(int64(i)), t0); err != nil {
					t.Errorf("advance: %v", err)
				}
			}()
		}
		wg.Wait()
		other, err = s.AuditCursor(ctx, "webhook")
		require.NoError(t, err)
		assert.Equal(t, pos(20), other, "concurrent advances keep the highest")
		assert.Error(t, s.AdvanceAuditCursor(ctx, "", pos(1), t0))

		// A reset moves it back, but only from where it still is.
		moved, err := s.ResetAuditCursor(ctx, "webhook", pos(19), pos(2), t0)
		require.NoError(t, err)
		assert.False(t, moved, "the cursor is not at 19")
		moved, err = s.ResetAuditCursor(ctx, "webhook", pos(20), pos(2), t0)
		require.NoError(t, err)
		assert.True(t, moved)
		other, err = s.AuditCursor(ctx, "webhook")
		require.NoError(t, err)
		assert.Equal(t, pos(2), other)
		moved, err = s.ResetAuditCursor(ctx, "fresh", store.AuditPosition{}, pos(4), t0)
		require.NoError(t, err)
		assert.True(t, moved, "a destination without a cursor gets one")
		other, err = s.AuditCursor(ctx, "fresh")
		require.NoError(t, err)
		assert.Equal(t, pos(4), other)
	})

	t.Run("writes after Close fail rather than wait forever", func(t *testing.T) {
		// A request queued as the store closes must not wait on a
		// committer that has stopped: a shutting-down bot would hang.
		for i := 0; i < 20; i++ {
			s := open(t)
			require.NoError(t, s.Close())
			_, err := s.AppendAudit(ctx, store.AuditRecord{At: t0, Actor: "U0ALICE", Action: "request"}, func(r *store.AuditRecord) { r.Hash = "h" })
			assert.Error(t, err, "append after close")
			_, err = s.Claim(ctx, "after-close", time.Minute, t0)
			assert.Error(t, err, "claim after close")
			_, err = s.InboxAdd(ctx, store.InboxItem{Key: "after-close"})
			assert.Error(t, err, "inbox add after close")
		}
	})

	t.Run("dedup", func(t *testing.T) {
		s := open(t)
		first, err := s.Claim(ctx, "slack:retry:1", time.Minute, t0)
		require.NoError(t, err)
		assert.True(t, first)
		again, err := s.Claim(ctx, "slack:retry:1", time.Minute, t0.Add(30*time.Second))
		require.NoError(t, err)
		assert.False(t, again)
		later, err := s.Claim(ctx, "slack:retry:1", time.Minute, t0.Add(2*time.Minute))
		require.NoError(t, err)
		assert.True(t, later, "a key is forgotten after its ttl")
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.Claim(ctx, "concurrent", time.Minute, t0)
				if err != nil {
					t.Errorf("claim: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load())
	})

	t.Run("inbox: a key is added once, even by deliveries arriving together", func(t *testing.T) {
		s := open(t)
		it := inboxItem("T1:trig-1", "me", `{"text":"echo hi"}`)
		added, err := s.InboxAdd(ctx, it)
		require.NoError(t, err)
		assert.True(t, added)
		again := it
		again.Owner, again.Payload = "other", `{"text":"something else"}`
		added, err = s.InboxAdd(ctx, again)
		require.NoError(t, err)
		assert.False(t, added, "a retry with the same key is a duplicate")
		lapsed, err := s.InboxLapsed(ctx, t0.Add(time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, lapsed, 1)
		assert.Equal(t, it, lapsed[0], "the first delivery's row, as written")

		// Many keys at once (they share batches), each delivered three
		// times: every key is added once.
		var wins sync.Map
		var wg sync.WaitGroup
		for i := 0; i < 60; i++ {
			for d := 0; d < 3; d++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := fmt.Sprintf("T1:c-%d", i)
					ok, err := s.InboxAdd(ctx, inboxItem(key, fmt.Sprintf("r%d", d), "{}"))
					if err != nil {
						t.Errorf("add: %v", err)
					}
					if ok {
						n, _ := wins.LoadOrStore(key, new(atomic.Int32))
						n.(*atomic.Int32).Add(1)
					}
				}()
			}
		}
		wg.Wait()
		for i := 0; i < 60; i++ {
			n, ok := wins.Load(fmt.Sprintf("T1:c-%d", i))
			require.True(t, ok, "key %d was added", i)
			assert.Equal(t, int32(1), n.(*atomic.Int32).Load(), "key %d added once", i)
		}
	})

	t.Run("inbox: moves are conditional on owner and state, and scrub the payload", func(t *testing.T) {
		s := open(t)
		_, err := s.InboxAdd(ctx, inboxItem("k", "me", `{"response_url":"https://hooks.example/secret"}`))
		require.NoError(t, err)
		moved, err := s.InboxMove(ctx, "k", "someone-else", store.InboxReceived, store.InboxStarted, t0, false)
		require.NoError(t, err)
		assert.False(t, moved, "not the owner")
		moved, err = s.InboxMove(ctx, "k", "me", store.InboxStarted, store.InboxDone, t0, true)
		require.NoError(t, err)
		assert.False(t, moved, "not in that state")
		moved, err = s.InboxMove(ctx, "k", "me", store.InboxReceived, store.InboxStarted, t0.Add(time.Second), false)
		require.NoError(t, err)
		assert.True(t, moved)
		moved, err = s.InboxMove(ctx, "k", "me", store.InboxReceived, store.InboxStarted, t0.Add(time.Second), false)
		require.NoError(t, err)
		assert.False(t, moved, "a command starts once")
		lapsed, err := s.InboxLapsed(ctx, t0.Add(time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, lapsed, 1)
		assert.Equal(t, store.InboxStarted, lapsed[0].State)
		assert.Equal(t, t0.Add(time.Second), lapsed[0].UpdatedAt)
		moved, err = s.InboxMove(ctx, "k", "me", store.InboxStarted, store.InboxDone, t0.Add(2*time.Second), true)
		require.NoError(t, err)
		assert.True(t, moved)
		lapsed, err = s.InboxLapsed(ctx, t0.Add(time.Hour), 10)
		require.NoError(t, err)
		assert.Empty(t, lapsed, "a done command is no one's to take over")
		added, err := s.InboxAdd(ctx, inboxItem("k", "other", "{}"))
		require.NoError(t, err)
		assert.False(t, added, "a done command's key still catches a retry")
		got, err := s.InboxGet(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, store.InboxDone, got.State)
		assert.Empty(t, got.Payload, "the answered command's text and response_url are gone")
		_, err = s.InboxGet(ctx, "nope")
		assert.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("inbox: a key no database can store fails its own add and move, not the others arriving with it", func(t *testing.T) {
		s := open(t)
		const n = 64
		bad := []string{"nul\x00key", "bad-utf8-\xff"}
		var wg sync.WaitGroup
		for round, mv := range []bool{false, true} {
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := fmt.Sprintf("g-%03d", i)
					if i < len(bad) {
						key = bad[i]
					}
					var ok bool
					var err error
					if mv {
						ok, err = s.InboxMove(ctx, key, "me", store.InboxReceived, store.InboxStarted, t0, false)
					} else {
						ok, err = s.InboxAdd(ctx, inboxItem(key, "me", `{"text":"x"}`))
					}
					if i < len(bad) {
						assert.Error(t, err, "round %d: %q", round, key)
						assert.False(t, ok, "round %d: %q", round, key)
						return
					}
					assert.NoError(t, err, "round %d: %s", round, key)
					assert.True(t, ok, "round %d: %s", round, key)
				}()
			}
			wg.Wait()
		}
	})

	t.Run("inbox: moves arriving together each report their own outcome, while the lease is renewed", func(t *testing.T) {
		s := open(t)
		const n = 120
		for i := 0; i < n; i++ {
			_, err := s.InboxAdd(ctx, inboxItem(fmt.Sprintf("m-%03d", i), "me", `{"text":"x"}`))
			require.NoError(t, err)
		}
		stop := make(chan struct{})
		renewed := make(chan error, 1)
		go func() {
			// The heartbeat renews every held row of this owner while the
			// moves below change them, as a busy replica's does.
			var err error
			for k := 1; err == nil; k++ {
				select {
				case <-stop:
					renewed <- nil
					return
				default:
				}
				err = s.InboxRenew(ctx, "me", t0.Add(time.Duration(10+k)*time.Second))
			}
			renewed <- err
		}()
		var wg sync.WaitGroup
		results := make([][2]bool, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("m-%03d", i)
				// Every third move names the wrong state and must change
				// nothing, though it shares a batch with moves that do.
				from := store.InboxReceived
				if i%3 == 0 {
					from = store.InboxStarted
				}
				ok1, err := s.InboxMove(ctx, key, "me", from, store.InboxStarted, t0, false)
				if err != nil {
					t.Errorf("move %s: %v", key, err)
				}
				ok2, err := s.InboxMove(ctx, key, "me", store.InboxStarted, store.InboxDone, t0, true)
				if err != nil {
					t.Errorf("move %s: %v", key, err)
				}
				results[i] = [2]bool{ok1, ok2}
			}()
		}
		wg.Wait()
		close(stop)
		require.NoError(t, <-renewed, "renewing the lease while the moves ran")
		for i, r := range results {
			key := fmt.Sprintf("m-%03d", i)
			got, err := s.InboxGet(ctx, key)
			require.NoError(t, err)
			if i%3 == 0 {
				assert.Equal(t, [2]bool{false, false}, r, "%s: from the wrong state, neither move applies", key)
				assert.Equal(t, store.InboxReceived, got.State, key)
				assert.NotEmpty(t, got.Payload, key)
			} else {
				assert.Equal(t, [2]bool{true, true}, r, key)
				assert.Equal(t, store.InboxDone, got.State, key)
				assert.Empty(t, got.Payload, key)
			}
		}
	})

	t.Run("inbox: leases, heartbeats and one take-over", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"a", "b"} {
			_, err := s.InboxAdd(ctx, inboxItem(k, "dead", "{}"))
			require.NoError(t, err)
		}
		_, err := s.InboxAdd(ctx, inboxItem("c", "alive", "{}"))
		require.NoError(t, err)
		lease := t0.Add(10 * time.Second) // inboxItem's lease
		lapsed, err := s.InboxLapsed(ctx, lease.Add(-time.Microsecond), 10)
		require.NoError(t, err)
		assert.Empty(t, lapsed, "live leases")
		require.NoError(t, s.InboxRenew(ctx, "alive", lease.Add(10*time.Second)))
		lapsed, err = s.InboxLapsed(ctx, lease, 10)
		require.NoError(t, err)
		require.Len(t, lapsed, 2, "the heartbeat kept c")
		assert.Equal(t, []string{"a", "b"}, []string{lapsed[0].Key, lapsed[1].Key})
		one, err := s.InboxLapsed(ctx, lease, 1)
		require.NoError(t, err)
		assert.Len(t, one, 1, "limit")

		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.InboxTakeOver(ctx, lapsed[0], fmt.Sprintf("sweeper-%d", i), store.InboxReceived, lease, lease.Add(10*time.Second), false)
				if err != nil {
					t.Errorf("take over: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load(), "one sweeper takes it")
		ok, err := s.InboxTakeOver(ctx, lapsed[1], "x", store.InboxReceived, lease.Add(-time.Second), lease.Add(10*time.Second), false)
		require.NoError(t, err)
		assert.False(t, ok, "not before its lease lapsed")
		ok, err = s.InboxTakeOver(ctx, lapsed[1], "x", store.InboxUnknown, lease, lease, true)
		require.NoError(t, err)
		assert.True(t, ok)
		lapsed, err = s.InboxLapsed(ctx, lease.Add(time.Second), 10)
		require.NoError(t, err)
		assert.Empty(t, lapsed, "a taken-over item has a new lease; an unknown one is settled")
	})

	t.Run("inbox: purge forgets what is settled and old", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"old-done", "old-held", "new-done"} {
			it := inboxItem(k, "me", `{"text":"x"}`)
			if strings.HasPrefix(k, "new") {
				it.ReceivedAt = t0.Add(2 * time.Hour)
			}
			_, err := s.InboxAdd(ctx, it)
			require.NoError(t, err)
		}
		for _, k := range []string{"old-done", "new-done"} {
			_, err := s.InboxMove(ctx, k, "me", store.InboxReceived, store.InboxDone, t0, true)
			require.NoError(t, err)
		}
		n, err := s.InboxPurge(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		added, err := s.InboxAdd(ctx, inboxItem("old-done", "me", "{}"))
		require.NoError(t, err)
		assert.True(t, added, "purged")
		added, err = s.InboxAdd(ctx, inboxItem("new-done", "me", "{}"))
		require.NoError(t, err)
		assert.False(t, added, "kept until its time")
		held, err := s.InboxGet(ctx, "old-held")
		require.NoError(t, err)
		assert.Equal(t, store.InboxReceived, held.State, "a held item is the sweeper's to settle")
		assert.Empty(t, held.Payload, "a held item past the cutoff keeps no text")
	})

	t.Run("ping", func(t *testing.T) {
		require.NoError(t, open(t).Ping(ctx))
	})
}

func inboxItem(key, owner, payload string) store.InboxItem {
	return store.InboxItem{Key: key, State: store.InboxReceived, Owner: owner, LeaseUntil: t0.Add(10 * time.Second),
		ReceivedAt: t0, UpdatedAt: t0, Payload: payload}
}

func ids(as []*store.Approval) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// BenchInboxAccept measures InboxAdd as slash commands meet it: "1000/s"
// adds one every millisecond, each from its own goroutine as HTTP
// handlers do, and reports the latency a command's acknowledgement
// waits (p50, p99); "parallel" adds as fast as 64 goroutines can, for the
// throughput group commit reaches.
func BenchInboxAccept(b *testing.B, s store.Store) {
	ctx := context.Background()
	var seq atomic.Int64
	add := func() time.Duration {
		n := seq.Add(1)
		start := time.Now()
		_, err := s.InboxAdd(ctx, store.InboxItem{Key: fmt.Sprintf("bench:%d:%d", t0.UnixNano(), n), State: store.InboxReceived, Owner: "bench",
			LeaseUntil: start.Add(5 * time.Second), ReceivedAt: start,
			Payload: `{"request_id":"0123456789abcdef","command":{"team_id":"T1","channel_id":"C1","user_id":"U0ALICE01","command":"/whm","text":"account list","response_url":"https://hooks.slack.com/commands/T1/1/abc","trigger_id":"1.2.abc"}}`})
		if err != nil {
			b.Error(err)
		}
		return time.Since(start)
	}
	report := func(b *testing.B, lat []time.Duration) {
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		}
	}
	b.Run("1000/s", func(b *testing.B) {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		for b.Loop() {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := add()
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		report(b, lat)
	})
	b.Run("parallel", func(b *testing.B) {
		var mu sync.Mutex
		var lat []time.Duration
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				mine = append(mine, add())
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		report(b, lat)
	})
}
