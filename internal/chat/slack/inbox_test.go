package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	slackgo "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/sqldb"
)

// clock is a settable clock for the inbox's leases.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// replica builds another adapter on the fixture's store and engine, as a
// second process would be, on clk. It is started (workers, heartbeat and
// sweeper) only if start is set: an adapter never started acknowledges
// commands and runs none, as a process killed right after would.
func (f *fixture) replica(t *testing.T, clk *clock, start bool, tweak func(*slackchat.Config)) *slackchat.Adapter {
	t.Helper()
	cfg := f.config("")
	cfg.Now = clk.Now
	if tweak != nil {
		tweak(&cfg)
	}
	a := slackchat.New(cfg, f.engine, f.store, f.log, f.metrics)
	if start {
		a.Start(context.Background())
		t.Cleanup(a.Close)
	}
	return a
}

func (f *fixture) slash(user, text, trigger string) slackgo.SlashCommand {
	return slackgo.SlashCommand{TeamID: "T1", ChannelID: "C1", UserID: user, Command: "/example", Text: text,
		ResponseURL: f.ws.ResponseURL("C1", user), TriggerID: trigger}
}

func (f *fixture) audited(t *testing.T, outcome string) []store.AuditRecord {
	t.Helper()
	var out []store.AuditRecord
	require.NoError(t, f.store.ScanAudit(context.Background(), store.AuditFilter{Action: "result"}, func(r store.AuditRecord) error {
		if r.Outcome == outcome {
			out = append(out, r)
		}
		return nil
	}))
	return out
}

// A retry of a slash command that reaches another replica is a duplicate
// there: it runs once in all.
func TestARetryReachingAnotherReplicaRunsOnce(t *testing.T) {
	f := newFixture(t, "")
	clk := &clock{now: time.Now()}
	a := f.replica(t, clk, true, nil)
	b := f.replica(t, clk, true, nil)
	cmd := f.slash("U0ALICE01", "echo across", "retry.1")
	assert.Nil(t, a.AcceptCommand(context.Background(), cmd))
	assert.Nil(t, b.AcceptCommand(context.Background(), cmd), "the duplicate is acknowledged, and nothing more")
	wait(t, "the answer", func() bool { return count(f.ws, "ran `/example echo across`") == 1 })
	assert.Nil(t, a.AcceptCommand(context.Background(), cmd))
	a.Close()
	b.Close()
	assert.Equal(t, 1, count(f.ws, "ran `/example echo across`"), "it ran once")
}

// A process killed with commands acknowledged and queued, and one
// running: another runs the queued ones, once, after the lease lapses,
// and reports the running one as of unknown outcome, never running it.
func TestAKilledReplicasCommandsAreRunOrReported(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	clk := &clock{now: time.Now()}
	dead := f.replica(t, clk, false, nil)
	for _, c := range []slackgo.SlashCommand{
		f.slash("U0ALICE01", "echo queued-one", "kill.1"),
		f.slash("U0ALICE01", "echo queued-two", "kill.2"),
		f.slash("U0ALICE01", "counter add 5", "kill.3"),
	} {
		require.Nil(t, dead.AcceptCommand(ctx, c))
	}
	// The third had begun when the process died.
	moved, err := f.store.InboxMove(ctx, "slack:cmd:T1:kill.3", dead.Instance(), store.InboxReceived, store.InboxStarted, clk.Now(), false)
	require.NoError(t, err)
	require.True(t, moved)

	heir := f.replica(t, clk, true, nil)
	heir.SweepInbox(ctx)
	assert.Zero(t, count(f.ws, "queued-one"), "nothing is taken over while the lease holds")

	clk.Add(slackchat.DefaultInboxLease + time.Second)
	heir.SweepInbox(ctx)
	heir.SweepInbox(ctx) // a second sweep finds nothing more to do
	wait(t, "the queued commands to run", func() bool {
		return count(f.ws, "ran `/example echo queued-one`") == 1 && count(f.ws, "ran `/example echo queued-two`") == 1
	})
	wait(t, "the running one to be reported", func() bool { return count(f.ws, "restarted while running") == 1 })
	var told string
	for _, m := range f.ws.Messages() {
		if strings.Contains(m.Text, "restarted while running") {
			told = m.Text
			assert.Equal(t, "U0ALICE01", m.To, "told to its user only")
		}
	}
	assert.Contains(t, told, "`/example counter add n=5`; its outcome is unknown — check before running it again")
	heir.Close()
	assert.Equal(t, 1, count(f.ws, "ran `/example echo queued-one`"), "run once")
	assert.Equal(t, 1, count(f.ws, "ran `/example echo queued-two`"), "run once")
	assert.Zero(t, count(f.ws, "ran `/example counter"), "a command that had begun is never run again")

	unknown := f.audited(t, "unknown")
	require.Len(t, unknown, 1)
	assert.Equal(t, "U0ALICE01", unknown[0].Actor)
	assert.Equal(t, "counter add", unknown[0].Command)
	for _, k := range []string{"slack:cmd:T1:kill.1", "slack:cmd:T1:kill.3"} {
		it, err := f.store.InboxGet(ctx, k)
		require.NoError(t, err)
		assert.Empty(t, it.Payload, "%s: settled, its text and response_url forgotten", k)
	}
}

// A command found after its response_url lapsed cannot be answered: one
// not begun is not run, one begun is not announced; both are audited.
func TestCommandsFoundTooLateAreAuditedNotRun(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	clk := &clock{now: time.Now()}
	dead := f.replica(t, clk, false, nil)
	require.Nil(t, dead.AcceptCommand(ctx, f.slash("U0ALICE01", "echo stale", "late.1")))
	require.Nil(t, dead.AcceptCommand(ctx, f.slash("U0ALICE01", "counter add 2", "late.2")))
	_, err := f.store.InboxMove(ctx, "slack:cmd:T1:late.2", dead.Instance(), store.InboxReceived, store.InboxStarted, clk.Now(), false)
	require.NoError(t, err)

	clk.Add(31 * time.Minute)
	heir := f.replica(t, clk, false, nil)
	heir.SweepInbox(ctx)
	heir.Start(ctx)
	heir.Close()
	assert.Empty(t, f.ws.Messages(), "nothing to answer, nothing run")
	assert.Len(t, f.audited(t, "not run"), 1)
	assert.Len(t, f.audited(t, "unknown"), 1)
	assert.Contains(t, f.logs.String(), "found too late to answer")
}

// A full queue answers busy; the command is stored as done, so neither
// it nor a retry of it runs anywhere.
func TestBusyCommandsAreNeverRun(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	clk := &clock{now: time.Now()}
	a := f.replica(t, clk, false, func(c *slackchat.Config) { c.Queue = 1 })
	require.Nil(t, a.AcceptCommand(ctx, f.slash("U0ALICE01", "echo first", "busy.1")))
	ack := a.AcceptCommand(ctx, f.slash("U0ALICE01", "echo second", "busy.2"))
	require.NotNil(t, ack)
	assert.Contains(t, ack.(*slackgo.Msg).Text, "busy right now; nothing was run")
	assert.Nil(t, a.AcceptCommand(ctx, f.slash("U0ALICE01", "echo second", "busy.2")), "a retry is a duplicate")
	it, err := f.store.InboxGet(ctx, "slack:cmd:T1:busy.2")
	require.NoError(t, err)
	assert.Equal(t, store.InboxDone, it.State)
	assert.Empty(t, it.Payload)

	other := f.replica(t, clk, true, nil)
	a.Start(ctx)
	wait(t, "the first to run", func() bool { return count(f.ws, "ran `/example echo first`") == 1 })
	clk.Add(time.Hour)
	other.SweepInbox(ctx)
	a.Close()
	other.Close()
	assert.Zero(t, count(f.ws, "echo second"), "the busy command never ran")
}

// A database that does not answer: the command is refused at once, and
// the user told nothing ran.
func TestAStoreFailureRefusesTheCommand(t *testing.T) {
	f := newFixture(t, "")
	a := f.replica(t, &clock{now: time.Now()}, false, nil)
	require.NoError(t, f.store.Close())
	ack := a.AcceptCommand(context.Background(), f.slash("U0ALICE01", "echo lost?", "down.1"))
	require.NotNil(t, ack)
	assert.Contains(t, ack.(*slackgo.Msg).Text, "could not take this command")
	assert.Contains(t, ack.(*slackgo.Msg).Text, "nothing was run")
}

// What users typed and their response_urls never reach the log, even
// when their commands are taken over.
func TestInboxLogsNoTextNorResponseURL(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	clk := &clock{now: time.Now()}
	dead := f.replica(t, clk, false, nil)
	c := f.slash("U0ALICE01", "echo canary-7f3a", "log.1")
	c.ResponseURL += "?canary-url-91bd"
	require.Nil(t, dead.AcceptCommand(ctx, c))
	c2 := f.slash("U0ALICE01", "echo canary-7f3a", "log.2")
	c2.ResponseURL += "?canary-url-91bd"
	require.Nil(t, dead.AcceptCommand(ctx, c2))
	_, err := f.store.InboxMove(ctx, "slack:cmd:T1:log.2", dead.Instance(), store.InboxReceived, store.InboxStarted, clk.Now(), false)
	require.NoError(t, err)
	clk.Add(time.Minute)
	heir := f.replica(t, clk, true, nil)
	heir.SweepInbox(ctx)
	wait(t, "the command to run", func() bool { return count(f.ws, "ran `/example echo canary-7f3a`") == 1 })
	heir.Close()
	assert.Contains(t, f.logs.String(), "is run here")
	assert.Contains(t, f.logs.String(), "outcome is unknown")
	assert.NotContains(t, f.logs.String(), "canary-7f3a")
	assert.NotContains(t, f.logs.String(), "canary-url-91bd")
}

// startFails is the store with the mark that a command starts failing
// (the database stopped answering for a moment).
type startFails struct {
	*sqldb.DB
	failed atomic.Int32
}

func (s *startFails) InboxMove(ctx context.Context, key, owner string, from, to store.InboxState, at time.Time, scrub bool) (bool, error) {
	if to == store.InboxStarted {
		s.failed.Add(1)
		return false, errors.New("connection reset by peer")
	}
	return s.DB.InboxMove(ctx, key, owner, from, to, at, scrub)
}

// A command whose start cannot be recorded is not run (unrecorded, it
// could run twice), its user is told so, and it is settled so that no
// process runs it later.
func TestACommandWhoseStartCannotBeRecordedIsNotRun(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	clk := &clock{now: time.Now()}
	st := &startFails{DB: f.store}
	a := slackchat.New(func() slackchat.Config { c := f.config(""); c.Now = clk.Now; return c }(), f.engine, st, f.log, f.metrics)
	a.Start(ctx)
	require.Nil(t, a.AcceptCommand(ctx, f.slash("U0ALICE01", "counter add 3", "nostart.1")))
	wait(t, "the user to be told", func() bool { return count(f.ws, "so it did not run it") == 1 })
	a.Close()
	it, err := f.store.InboxGet(ctx, "slack:cmd:T1:nostart.1")
	require.NoError(t, err)
	assert.Equal(t, store.InboxDone, it.State)
	assert.Empty(t, it.Payload)
	clk.Add(time.Hour)
	heir := f.replica(t, clk, true, nil)
	heir.SweepInbox(ctx)
	heir.Close()
	assert.Zero(t, count(f.ws, "ran `/example counter"), "never run")
}

// Socket Mode: the command is in the inbox before the envelope's ack, and
// a redelivery of it (a new envelope, the same trigger id) runs nothing.
func TestSocketModeRedeliveryRunsOnce(t *testing.T) {
	f := newFixture(t, "xapp-1-test")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = f.adapter.RunSocketMode(ctx) }()
	wait(t, "the socket to connect", func() bool { return strings.Contains(f.logs.String(), "slack socket mode connected") })
	for _, env := range []string{"env-a", "env-b"} {
		b, _ := json.Marshal(map[string]any{
			"envelope_id": env, "type": "slash_commands", "accepts_response_payload": true,
			"payload": map[string]string{"team_id": "T1", "channel_id": "C1", "user_id": "U0ALICE01", "command": "/example", "text": `echo "socket once"`,
				"response_url": f.ws.ResponseURL("C1", "U0ALICE01"), "trigger_id": "t-sock-once"},
		})
		f.srv.SendToWebsocket(string(b))
	}
	wait(t, "the command", func() bool { return count(f.ws, "ran `/example echo \"socket once\"`") == 1 })
	wait(t, "the redelivery to be refused", func() bool {
		var m dto.Metric
		require.NoError(t, f.metrics.Inbound.WithLabelValues("command", "duplicate").Write(&m))
		return m.GetCounter().GetValue() == 1
	})
	it, err := f.store.InboxGet(context.Background(), "slack:cmd:T1:t-sock-once")
	require.NoError(t, err)
	assert.Equal(t, f.adapter.Instance(), it.Owner)
	assert.Equal(t, 1, count(f.ws, "ran `/example echo \"socket once\"`"))
}
