package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

const (
	alice = "U0ALICE01"
	bob   = "U0BOB0001"
	carol = "U0CAROL01"
	dan   = "U0DAN0001"
	erin  = "U0ERIN001"
)

type notice struct {
	to    string
	reply engine.Reply
}

// recorder is a Notifier that remembers what it was told.
type recorder struct {
	mu      sync.Mutex
	changes []engine.ApprovalView
	notices []notice
}

func (r *recorder) ApprovalChanged(_ context.Context, v engine.ApprovalView) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, v)
}

func (r *recorder) Notify(_ context.Context, to string, rep engine.Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, notice{to, rep})
}

type fixture struct {
	e          *engine.Engine
	store      store.Store
	audit      *audit.Log
	holder     *authz.Holder
	notes      *recorder
	prov       *sdk.Plugin
	logs       *bytes.Buffer
	policyPath string
	clock      *atomic.Int64 // offset added to time.Now, in ns
	registry   engine.StaticRegistry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "policy.yaml"))
	require.NoError(t, err)
	policyPath := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyPath, src, 0o600))
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	holder, err := authz.NewHolder(policyPath, log)
	require.NoError(t, err)
	prov := provider.New()
	local, err := pluginhost.NewLocal(ctx, prov, pluginhost.Config{Name: "example", Targets: []sdk.Target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(dir, "state")}}})
	require.NoError(t, err)
	clock := &atomic.Int64{}
	now := func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }
	lg := audit.NewLog(st, nil)
	notes := &recorder{}
	e := engine.New(engine.Options{
		Plugins:      engine.StaticRegistry{"example": local},
		Policy:       holder,
		Approvals:    approval.New(st, []byte("test-key-0123456789"), now),
		Audit:        lg,
		Notifier:     notes,
		PolicyStatus: holder.Status,
		Logger:       log,
		Now:          now,
	})
	return &fixture{e: e, store: st, audit: lg, holder: holder, notes: notes, prov: prov, logs: logs, policyPath: policyPath, clock: clock,
		registry: engine.StaticRegistry{"example": local}}
}

func (f *fixture) run(user, line string) engine.Reply {
	return f.e.Handle(context.Background(), engine.Request{User: user, Channel: "C0SUPPORT", Text: line, SensitiveTextOK: true}, nil)
}

func (f *fixture) counter(t *testing.T) int64 {
	n, err := provider.Count(f.prov, "sandbox")
	require.NoError(t, err)
	return n
}

func (f *fixture) auditLines(t *testing.T) []string {
	var out []string
	entries, err := f.audit.Search(context.Background(), audit.Filter{Limit: 1000})
	require.NoError(t, err)
	for _, en := range entries {
		out = append(out, fmt.Sprintf("%s %s %s %s", en.Actor, en.Action, en.Outcome, en.Command))
	}
	return out
}

func TestHighRiskRequestIsApprovedByAnotherAndRunsOnce(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter add 5")
	require.Equal(t, engine.StatusPending, r.Status, r.Error)
	require.NotNil(t, r.Approval)
	id := r.Approval.ID
	assert.Equal(t, "Add 5 to the counter", r.Plan.Summary)
	assert.Equal(t, 1, r.Approval.Required)
	assert.Equal(t, int64(0), f.counter(t), "nothing runs before approval")

	// alice cannot approve her own request.
	r = f.run(alice, "/ops approve "+id)
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Contains(t, r.Error, "you cannot approve your own request")
	// bob has no approver role.
	r = f.run(bob, "/ops approve "+id)
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Contains(t, r.Error, "You may not approve this request")

	r = f.run(carol, "/ops approve "+strings.ToLower(id))
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Equal(t, "5", r.Result.Parts[0].KeyValues[0].Value)
	assert.Equal(t, "succeeded", r.Approval.State)
	assert.Equal(t, []string{"carol"}, r.Approval.Approvers)
	assert.Equal(t, int64(5), f.counter(t))

	// A second approval does not run it again.
	r = f.run(dan, "/ops approve "+id)
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Contains(t, r.Error, "is approved and done")
	assert.Equal(t, int64(5), f.counter(t))

	// alice was told the outcome.
	require.Len(t, f.notes.notices, 1)
	assert.Equal(t, alice, f.notes.notices[0].to)
	assert.Equal(t, engine.StatusOK, f.notes.notices[0].reply.Status)

	assert.Equal(t, []string{
		alice + " request  counter add",
		alice + " decision needs-approval counter add",
		alice + " approval requested counter add",
		alice + " approval refused counter add",
		bob + " approval refused counter add",
		carol + " approval approved counter add",
		alice + " execute started counter add",
		alice + " result succeeded counter add",
		dan + " approval refused counter add",
	}, f.auditLines(t))
	v, err := f.audit.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, v.OK())
}

func TestFiftyConcurrentApprovalsExecuteOnce(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter add 1")
	require.Equal(t, engine.StatusPending, r.Status)
	id := r.Approval.ID
	var wg sync.WaitGroup
	var ran atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := []string{carol, dan, erin}[i%3]
			if rep := f.run(who, "/ops approve "+id); rep.Status == engine.StatusOK && rep.Result != nil && len(rep.Result.Parts) > 0 && rep.Result.Parts[0].KeyValues != nil {
				ran.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), f.counter(t), "the command ran exactly once")
	assert.Equal(t, int32(1), ran.Load(), "exactly one approver saw it run")
}

func TestExpiredApprovalCannotBeApproved(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter add 1")
	require.Equal(t, engine.StatusPending, r.Status)
	f.clock.Store(int64(61 * time.Minute))
	r = f.run(carol, "/ops approve "+r.Approval.ID)
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Contains(t, r.Error, "has expired; ask alice to make the request again")
	assert.Equal(t, "expired", r.Approval.State)
	assert.Equal(t, int64(0), f.counter(t))
}

func TestPolicyChangeTakesEffectAtTheNextClick(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter add 1")
	require.Equal(t, engine.StatusPending, r.Status)
	src, err := os.ReadFile(f.policyPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f.policyPath, bytes.Replace(src, []byte("leads: [carol, dan]"), []byte("leads: [dan]"), 1), 0o600))
	require.NoError(t, f.holder.Reload())
	r = f.run(carol, "/ops approve "+r.Approval.ID)
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Contains(t, r.Error, "You may not approve this request")
	assert.Equal(t, int64(0), f.counter(t))
}

func TestCriticalNeedsTwoApproversWhoTypeTheTarget(t *testing.T) {
	f := newFixture(t)
	f.run(bob, "/example counter add 7") // needs one approval
	r := f.run(bob, "/example counter reset")
	require.Equal(t, engine.StatusPending, r.Status)
	require.True(t, r.Approval.Confirm)
	require.Equal(t, 2, r.Approval.Required)
	id := r.Approval.ID
	r = f.run(carol, "/ops approve "+id)
	assert.Equal(t, engine.StatusInvalid, r.Status)
	assert.Contains(t, r.Error, `confirm by typing the name of what it acts on, "sandbox"`)
	r = f.run(carol, "/ops approve "+id+" confirm=sandbx")
	assert.Equal(t, engine.StatusInvalid, r.Status)
	r = f.run(carol, "/ops approve "+id+" confirm=sandbox")
	require.Equal(t, engine.StatusPending, r.Status, r.Error)
	assert.Equal(t, "waiting for 1 more approval(s)", r.Approval.StateText())
	r = f.run(carol, "/ops approve "+id+" confirm=sandbox")
	assert.Contains(t, r.Error, "you have already approved")
	r = f.run(dan, "/ops approve "+id+" confirm=SANDBOX")
	assert.Equal(t, engine.StatusInvalid, r.Status, "typed exactly, as shown")
	assert.Contains(t, r.Error, `you typed "SANDBOX", which is not "sandbox"`)
	r = f.run(dan, "/ops approve "+id+" confirm=sandbox")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Equal(t, []string{"carol", "dan"}, r.Approval.Approvers)
}

func TestDenyAndCancel(t *testing.T) {
	f := newFixture(t)
	id := f.run(alice, "/example counter add 1").Approval.ID
	r := f.run(carol, "/ops deny "+id)
	assert.Equal(t, engine.StatusInvalid, r.Status, "a reason is required")
	assert.Contains(t, r.Error, "is missing reason")
	r = f.run(alice, "/ops deny "+id+" reason=oops")
	assert.Contains(t, r.Error, "use /ops cancel")
	r = f.run(carol, `/ops deny `+id+` reason="not during the freeze"`)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Equal(t, "denied", r.Approval.State)
	require.NotEmpty(t, f.notes.notices)
	assert.Contains(t, f.notes.notices[len(f.notes.notices)-1].reply.Error, "carol denied your request")
	assert.Contains(t, f.notes.notices[len(f.notes.notices)-1].reply.Error, "not during the freeze")
	r = f.run(dan, "/ops approve "+id)
	assert.Contains(t, r.Error, "is denied")

	id2 := f.run(alice, "/example counter add 2").Approval.ID
	r = f.run(carol, "/ops cancel "+id2)
	assert.Contains(t, r.Error, "only the requester can cancel")
	r = f.run(alice, "/ops cancel "+id2)
	require.Equal(t, engine.StatusOK, r.Status)
	assert.Equal(t, "cancelled", r.Approval.State)
	assert.Equal(t, int64(0), f.counter(t))
}

func TestMayApproveNamesWhoCanStillApprove(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	everyone := []string{alice, bob, carol, dan, erin, "U0STRANGER"}
	// A critical request of bob's needs two leads or an administrator.
	id := f.run(bob, "/example counter reset").Approval.ID
	who, err := f.e.MayApprove(ctx, id, everyone)
	require.NoError(t, err)
	assert.Equal(t, []string{carol, dan, erin}, who, "not the requester, not the tiers, not a stranger")

	require.Equal(t, engine.StatusPending, f.run(carol, "/ops approve "+id+" confirm=sandbox").Status)
	who, err = f.e.MayApprove(ctx, id, append(everyone, dan))
	require.NoError(t, err)
	assert.Equal(t, []string{dan, erin}, who, "carol has approved; dan is named once")

	_, err = f.e.MayApprove(ctx, "ANOSUCH", everyone)
	assert.Error(t, err)
}

func TestCanarySecretNeverLeaks(t *testing.T) {
	const canary = "CANARY-s3cr3t-b1c2d3"
	f := newFixture(t)
	// Typed into chat, a secret is refused.
	r := f.e.Handle(context.Background(), engine.Request{User: alice, Channel: "C1", Text: "/example secret check value=" + canary}, nil)
	assert.Equal(t, engine.StatusInvalid, r.Status)
	assert.Contains(t, r.Error, "value is secret and must not be typed into chat")
	assert.NotContains(t, r.Error, canary)

	// Read-only, run at once.
	r = f.run(alice, "/example secret check value="+canary)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Equal(t, "/example secret check value=[REDACTED]", r.Command)

	// High risk, through an approval: the secret waits in memory only.
	r = f.run(alice, "/example secret set db value="+canary)
	require.Equal(t, engine.StatusPending, r.Status)
	id := r.Approval.ID
	a, err := f.store.GetApproval(context.Background(), id)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%+v", *a), canary, "the approval row holds no secret")
	r = f.run(carol, "/ops approve "+id)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)

	var exported bytes.Buffer
	_, err = f.audit.Export(context.Background(), audit.Filter{}, "jsonl", &exported)
	require.NoError(t, err)
	assert.Contains(t, exported.String(), "value=[REDACTED]")
	assert.NotContains(t, exported.String(), canary, "audit")
	assert.NotContains(t, f.logs.String(), canary, "logs")
	for _, n := range f.notes.notices {
		assert.NotContains(t, fmt.Sprintf("%+v", n.reply), canary, "notifications")
	}
	for _, c := range f.notes.changes {
		assert.NotContains(t, fmt.Sprintf("%+v", c), canary, "approval messages")
	}
}

// A replica that dies holding an execution claim: before it dispatched
// anything, another replica runs the request once its lease lapses; after
// it dispatched, the outcome is unknown and it is never re-run.
func TestExecutionOfADeadReplica(t *testing.T) {
	ctx := context.Background()
	t.Run("killed before dispatch: run elsewhere after the lease", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 1").Approval.ID
		dead := f.replica()
		a, err := dead.Vote(ctx, id, carol)
		require.NoError(t, err)
		require.True(t, dead.Claimed(a), "the last vote claims the execution")
		f.e.Sweep(ctx)
		a, _ = f.store.GetApproval(ctx, id)
		assert.Equal(t, store.StateExecuting, a.State, "a live lease is left alone")
		assert.Equal(t, int64(0), f.counter(t))

		f.clock.Add(int64(approval.DefaultLease + time.Second))
		f.e.Sweep(ctx)
		a, _ = f.store.GetApproval(ctx, id)
		assert.Equal(t, store.StateSucceeded, a.State, a.Result)
		assert.Equal(t, int64(1), f.counter(t), "run once, by the survivor")
		f.clock.Add(int64(approval.DefaultLease + time.Second))
		f.e.Sweep(ctx)
		assert.Equal(t, int64(1), f.counter(t), "and never again")
		require.NotEmpty(t, f.notes.notices)
		assert.Equal(t, alice, f.notes.notices[len(f.notes.notices)-1].to, "the requester hears the outcome")
	})
	t.Run("a live claim is never judged by host and pid", func(t *testing.T) {
		// A replica in another pid namespace on a host of the same name:
		// its pid means nothing here. Only its lease counts.
		f := newFixture(t)
		id := f.run(alice, "/example counter add 1").Approval.ID
		other := f.replica()
		_, err := other.Vote(ctx, id, carol)
		require.NoError(t, err)
		host, _ := os.Hostname()
		lookalike := host + "/999999999/1"
		_, err = f.store.Transition(ctx, id, []store.State{store.StateExecuting}, store.StateExecuting, time.Now(),
			store.Update{Executor: &lookalike, If: &store.Guard{Executor: other.Instance()}})
		require.NoError(t, err)
		f.e.Sweep(ctx)
		a, _ := f.store.GetApproval(ctx, id)
		assert.Equal(t, store.StateExecuting, a.State, "left alone while its lease is live")
		assert.Equal(t, int64(0), f.counter(t))
	})
	t.Run("stopped long past its expiry: not run", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 1").Approval.ID
		dead := f.replica()
		_, err := dead.Vote(ctx, id, carol)
		require.NoError(t, err)
		f.clock.Add(int64(2 * time.Hour))
		f.e.Sweep(ctx)
		a, _ := f.store.GetApproval(ctx, id)
		assert.Equal(t, store.StateExpired, a.State, a.Result)
		assert.Equal(t, int64(0), f.counter(t), "an approval from hours ago does not run when a replica next starts")
	})
	t.Run("a stalled replica that finishes after being marked unknown settles it", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 1").Approval.ID
		stalled := f.replica()
		_, err := stalled.Vote(ctx, id, carol)
		require.NoError(t, err)
		_, err = stalled.Dispatch(ctx, id)
		require.NoError(t, err)
		f.clock.Add(int64(approval.DefaultLease + time.Second))
		f.e.Sweep(ctx)
		a, _ := f.store.GetApproval(ctx, id)
		require.Equal(t, store.StateUnknown, a.State)
		require.NoError(t, stalled.Finish(ctx, id, true, "succeeded"))
		a, _ = f.store.GetApproval(ctx, id)
		assert.Equal(t, store.StateSucceeded, a.State, "the holder knew the outcome")
	})
	t.Run("killed after dispatch: unknown, never re-run", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 1").Approval.ID
		dead := f.replica()
		_, err := dead.Vote(ctx, id, carol)
		require.NoError(t, err)
		ok, err := dead.Dispatch(ctx, id)
		require.NoError(t, err)
		require.True(t, ok)
		f.clock.Add(int64(approval.DefaultLease + time.Second))
		f.e.Sweep(ctx)
		_, _, unknown, err := f.e.ApprovalsFor(ctx, carol)
		require.NoError(t, err)
		require.Len(t, unknown, 1)
		assert.Equal(t, id, unknown[0].ID)
		assert.Contains(t, unknown[0].StateText(), "outcome unknown")
		r := f.run(dan, "/ops approve "+id)
		assert.Contains(t, r.Error, "outcome unknown")
		assert.Equal(t, int64(0), f.counter(t), "never re-run automatically")
		r = f.run(carol, "/ops approvals")
		require.Equal(t, engine.StatusOK, r.Status)
		assert.Contains(t, r.Result.Parts[0].Title, "Outcome unknown")
	})
	t.Run("killed after the result was recorded: settled from the audit log", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 1").Approval.ID
		dead := f.replica()
		a, err := dead.Vote(ctx, id, carol)
		require.NoError(t, err)
		_, err = dead.Dispatch(ctx, id)
		require.NoError(t, err)
		require.NoError(t, f.audit.Record(ctx, audit.Entry{Time: time.Now(), RequestID: a.RequestID, Actor: alice, Action: audit.ActionResult,
			Provider: "example", Command: "counter add", Outcome: "succeeded", ApprovalID: id}))
		f.clock.Add(int64(approval.DefaultLease + time.Second))
		f.e.Sweep(ctx)
		a, _ = f.store.GetApproval(ctx, id)
		assert.Equal(t, store.StateSucceeded, a.State)
		assert.Contains(t, a.Result, "recorded before its process stopped")
	})
	t.Run("another replica never takes over a live claim, even a stalled one that wakes up", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 1").Approval.ID
		stalled := f.replica()
		_, err := stalled.Vote(ctx, id, carol)
		require.NoError(t, err)
		f.clock.Add(int64(approval.DefaultLease + time.Second))
		f.e.Sweep(ctx) // takes over and runs
		ok, err := stalled.Dispatch(ctx, id)
		require.NoError(t, err)
		assert.False(t, ok, "the stalled replica wakes up and must not dispatch")
		assert.Equal(t, int64(1), f.counter(t))
	})
}

// The request's state, votes and claim are not under its integrity code,
// so they are checked where it matters: a request moved to approved by
// hand, given a forged vote, or moved back after it ran, never runs.
func TestStateEditedInTheDatabaseRunsNothing(t *testing.T) {
	ctx := context.Background()
	exec := func(f *fixture, q string, args ...any) {
		t.Helper()
		db := f.store.(interface {
			Exec(ctx context.Context, q string, args ...any) error
		})
		require.NoError(t, db.Exec(ctx, q, args...))
	}
	t.Run("approved with no votes", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 5").Approval.ID
		exec(f, `UPDATE approvals SET state = 'approved' WHERE id = $1`, id)
		f.e.Sweep(ctx)
		assert.Equal(t, int64(0), f.counter(t))
		a, _ := f.store.GetApproval(ctx, id)
		assert.NotEqual(t, store.StateSucceeded, a.State)
		assert.Contains(t, f.logs.String(), "valid approval(s) of the 1 it needs")
	})
	t.Run("a lapsed claim with a forged vote", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 5").Approval.ID
		exec(f, `INSERT INTO approval_votes (approval_id, user_id, at, code) VALUES ($1, 'U0CAROL01', 1, 'v1:00')`, id)
		exec(f, `UPDATE approvals SET state = 'executing', executor = 'deadbeef', lease_until = 1 WHERE id = $1`, id)
		f.e.Sweep(ctx)
		assert.Equal(t, int64(0), f.counter(t))
		assert.Contains(t, f.auditLines(t), "U0ALICE01 approval tampered counter add")
	})
	t.Run("a finished request moved back", func(t *testing.T) {
		f := newFixture(t)
		id := f.run(alice, "/example counter add 5").Approval.ID
		require.Equal(t, engine.StatusOK, f.run(carol, "/ops approve "+id).Status)
		require.Equal(t, int64(5), f.counter(t))
		exec(f, `UPDATE approvals SET state = 'approved', executor = '', dispatched_at = 0 WHERE id = $1`, id)
		f.e.Sweep(ctx)
		assert.Equal(t, int64(5), f.counter(t), "it ran once")
		assert.Contains(t, f.logs.String(), "has already run once")
	})
}

// replica is another bot process on the same store and key, sharing the
// fixture's clock.
func (f *fixture) replica() *approval.Service {
	return approval.New(f.store, []byte("test-key-0123456789"), func() time.Time { return time.Now().Add(time.Duration(f.clock.Load())) })
}

// Secrets typed into the private form are sealed in the store: a replica
// sharing the approval key can run the request; the row holds no plain
// text; a replica with another key cannot open them; they go when the
// request ends.
func TestSecretsAreSealedForEveryReplica(t *testing.T) {
	const canary = "hunter2-canary-7f3e"
	ctx := context.Background()
	f := newFixture(t)
	id := f.run(alice, "/example secret set db value="+canary).Approval.ID
	sealed, err := f.store.Secrets(ctx, id)
	require.NoError(t, err)
	require.NotEmpty(t, sealed)
	assert.NotContains(t, sealed, canary)
	wrongKey := engine.New(engine.Options{
		Plugins: f.registry, Policy: f.holder,
		Approvals: approval.New(f.store, []byte("another-key-9876543210"), nil),
		Logger:    slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
	})
	r := wrongKey.Handle(ctx, engine.Request{User: carol, Text: "/ops approve " + id}, nil)
	assert.Equal(t, engine.StatusDenied, r.Status, "another key does not verify the request at all")
	assert.NotContains(t, r.Error, canary)

	other := engine.New(engine.Options{
		Plugins: f.registry, Policy: f.holder,
		Approvals: approval.New(f.store, []byte("test-key-0123456789"), nil),
		Logger:    slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
	})
	r = other.Handle(ctx, engine.Request{User: carol, Text: "/ops approve " + id}, nil)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	sum := sha256.Sum256([]byte(canary))
	assert.Contains(t, fmt.Sprint(r.Result.Parts[0].KeyValues), hex.EncodeToString(sum[:4]), "the plugin got the secret as typed")
	left, err := f.store.Secrets(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, left, "deleted when the request ended")
}

// Every field that decides or limits execution is under the integrity
// code: altering any of them in the database stops the request, and the
// audit log records the tampering.
func TestTamperedApprovalDoesNotRun(t *testing.T) {
	for _, tc := range []struct{ name, line, set string }{
		{"arguments", "/example counter add 1", `args = '{"n":{"i":999999}}'`},
		{"required approvals", "/example counter reset", `required = 1`},
		{"confirm flag", "/example counter reset", `confirm_target = 0`},
		{"approver roles", "/example counter add 1", `approver_roles = '["tier1"]'`},
		{"plan digest", "/example counter reset", `plan_digest = 'v1:0000'`},
		{"expiry", "/example counter add 1", `expires_at = expires_at + 86400000000`},
		{"requester", "/example counter add 1", `requester = 'U0EVE'`},
		{"integrity code of an older version", "/example counter add 1", `args_hash = substr(args_hash, 4)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.run(bob, "/example counter add 7")
			before := f.counter(t)
			id := f.run(bob, tc.line).Approval.ID
			db := f.store.(interface {
				Exec(ctx context.Context, q string, args ...any) error
			})
			require.NoError(t, db.Exec(context.Background(), `UPDATE approvals SET `+tc.set+` WHERE id = $1`, id))
			r := f.run(carol, "/ops approve "+id+" confirm=sandbox")
			assert.Equal(t, engine.StatusDenied, r.Status)
			assert.Contains(t, r.Error, "does not match what was approved")
			assert.Equal(t, before, f.counter(t))
			words := strings.Fields(tc.line)
			assert.Contains(t, f.auditLines(t), carol+" approval tampered "+words[1]+" "+words[2])
			assert.Contains(t, f.logs.String(), "does not match its integrity code")
		})
	}
}

// A reset approved while the counter was at 7 does not run once the
// counter has moved: nothing is sent, the requester and the approvers are
// told what changed, the audit says "plan changed", and asking again works.
func TestPlanChangedBetweenApprovalAndRunIsRefused(t *testing.T) {
	f := newFixture(t)
	add := f.run(bob, "/example counter add 7").Approval.ID
	require.Equal(t, engine.StatusOK, f.run(carol, "/ops approve "+add).Status)
	require.Equal(t, int64(7), f.counter(t))
	r := f.run(bob, "/example counter reset")
	require.Equal(t, engine.StatusPending, r.Status)
	reset := r.Approval.ID
	require.Equal(t, engine.StatusPending, f.run(carol, "/ops approve "+reset+" confirm=sandbox").Status)

	more := f.run(alice, "/example counter add 1").Approval.ID
	require.Equal(t, engine.StatusOK, f.run(carol, "/ops approve "+more).Status)
	require.Equal(t, int64(8), f.counter(t))

	r = f.run(dan, "/ops approve "+reset+" confirm=sandbox")
	assert.Equal(t, engine.StatusFailed, r.Status)
	assert.Contains(t, r.Error, "was not run: what it would do now differs from the plan that was approved")
	assert.Contains(t, r.Error, "- fact: value=7")
	assert.Contains(t, r.Error, "+ fact: value=8")
	assert.Equal(t, int64(8), f.counter(t), "nothing was reset")
	assert.Equal(t, "plan_changed", r.Approval.State)
	assert.Contains(t, f.auditLines(t), bob+" result plan changed counter reset")
	var told []string
	for _, n := range f.notes.notices {
		if strings.Contains(n.reply.Error, "differs from the plan that was approved") {
			told = append(told, n.to)
		}
	}
	assert.ElementsMatch(t, []string{bob, carol}, told, "the requester and the other approver are told")

	again := f.run(bob, "/example counter reset").Approval.ID
	require.Equal(t, engine.StatusPending, f.run(carol, "/ops approve "+again+" confirm=sandbox").Status)
	require.Equal(t, engine.StatusOK, f.run(dan, "/ops approve "+again+" confirm=sandbox").Status)
	assert.Equal(t, int64(0), f.counter(t))
}

func TestDeniedRequestsNeverReachThePlugin(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter reset")
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Equal(t, apperr.Denied, r.Code)
	assert.Contains(t, r.Error, "You may not run /example counter reset: role tier1 grant 1 (line 23) covers commands up to high risk, and this one is critical")
	r = f.run("U0STRANGER", "/example echo hi")
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Contains(t, r.Error, "you have no role")
}

func TestHelpWhoamiCanIAndPolicyStatus(t *testing.T) {
	f := newFixture(t)
	help := f.run(carol, "/example help").Result.Parts[0].Text.Body
	assert.Contains(t, help, "/example counter show")
	assert.NotContains(t, help, "/example counter add", "help lists only what carol may run")
	assert.Contains(t, f.run(alice, "/example help").Result.Parts[0].Text.Body, "/example counter add")

	who := f.run(alice, "/ops whoami").Result.Parts[0].KeyValues
	assert.Equal(t, engine.StatusOK, f.run(alice, "/ops whoami").Status)
	assert.Contains(t, fmt.Sprint(who), "{roles tier1}")

	can := fmt.Sprint(f.run(alice, `/ops can-i "/example counter add 3"`).Result.Parts[0].KeyValues)
	assert.Contains(t, can, "{answer yes, with approval}")
	assert.Contains(t, can, "{approval 1 approver(s) within 1h0m0s}")
	can = fmt.Sprint(f.run(alice, `/ops can-i "/example counter reset"`).Result.Parts[0].KeyValues)
	assert.Contains(t, can, "{answer no}")

	for _, admin := range []string{"/ops policy status", "/ops audit", "/ops plugins"} {
		assert.Equal(t, engine.StatusDenied, f.run(alice, admin).Status, "%s is for leads and administrators under the example policy", admin)
	}
	st := fmt.Sprint(f.run(carol, "/ops policy status").Result.Parts[0].KeyValues)
	assert.Contains(t, st, "{last reload ok}")
	require.NoError(t, os.WriteFile(f.policyPath, []byte("version: 1\nroles: {}\n"), 0o600))
	require.Error(t, f.holder.Reload())
	st = fmt.Sprint(f.run(carol, "/ops policy status").Result.Parts[0].KeyValues)
	assert.Contains(t, st, "REJECTED")
	assert.Equal(t, engine.StatusOK, f.run(alice, "/example echo still-works").Status, "the last good policy stays")

	r := f.run(alice, "/ops aprove X")
	assert.Contains(t, r.Error, "did you mean `approve`")
}

func TestOpsAuditSearch(t *testing.T) {
	f := newFixture(t)
	f.run(alice, "/example echo one")
	f.run(bob, "/example echo two")
	r := f.run(carol, "/ops audit user=bob")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	rows := r.Result.Parts[0].Table.Rows
	require.NotEmpty(t, rows)
	for _, row := range rows {
		assert.Equal(t, "bob", row[2])
	}
	r = f.run(carol, "/ops audit text=TWO")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	rows = r.Result.Parts[0].Table.Rows
	require.NotEmpty(t, rows, "text matches the arguments in any case")
	for _, row := range rows {
		assert.Equal(t, "bob", row[2], "only bob's command says two")
	}
	r = f.run(carol, "/ops audit target=nowhere")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Empty(t, r.Result.Parts[0].Table.Rows)
	r = f.run(carol, "/ops audit since=yesterday")
	assert.Equal(t, engine.StatusInvalid, r.Status)
	assert.Contains(t, r.Error, "is neither a duration")
}

// A read-only command the provider refuses for one of its arguments (a
// misspelt account: sdk.BadArg) is invalid input, as a misspelt command
// is; a refusal that names no argument is a failure.
func TestAReadOnlyRefusalOfAnArgumentIsInvalidInput(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example fail about=reason reason=there is no account nosuch")
	assert.Equal(t, engine.StatusInvalid, r.Status, r.Error)
	assert.Equal(t, apperr.Invalid, r.Code)
	assert.Contains(t, r.Error, "there is no account nosuch")
	assert.Equal(t, []string{"reason"}, r.Arguments())

	r = f.run(alice, "/example fail reason=the provider is down")
	assert.Equal(t, engine.StatusFailed, r.Status)
	assert.Equal(t, apperr.Failed, r.Code)
}
