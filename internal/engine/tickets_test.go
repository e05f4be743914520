package engine_test

import (
	"context"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk"
)

// withTickets adds a tickets section to the fixture's policy and reloads it.
func (f *fixture) withTickets(t *testing.T, section string) {
	t.Helper()
	src, err := os.ReadFile(f.policyPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f.policyPath, append(src, []byte("\n"+section)...), 0o600))
	require.NoError(t, f.holder.Reload())
}

const ticketPolicy = `tickets:
  pattern: '^[A-Z]+-[0-9]+$'
  require:
    risks: [high, critical]
`

func TestAHighRiskChangeNeedsATicketOfTheDesksForm(t *testing.T) {
	f := newFixture(t)
	f.withTickets(t, ticketPolicy)

	missing := f.run(alice, "/example counter add 5")
	assert.Equal(t, engine.StatusInvalid, missing.Status)
	assert.Contains(t, missing.Error, "needs a ticket reference")
	assert.Contains(t, missing.Error, "ticket=")

	malformed := f.run(alice, "/example counter add 5 ticket=abc-1")
	assert.Equal(t, engine.StatusInvalid, malformed.Status)
	assert.Contains(t, malformed.Error, "ticket abc-1 is not a ticket reference this desk uses")

	pending, err := f.store.ListApprovals(context.Background(), store.ApprovalFilter{})
	require.NoError(t, err)
	assert.Empty(t, pending, "a refused ticket is refused before any approval is asked for")

	ok := f.run(alice, "/example counter add 5 ticket=OPS-42")
	require.Equal(t, engine.StatusPending, ok.Status, ok.Error)
	assert.Equal(t, "OPS-42", ok.Ticket)
	assert.Equal(t, "OPS-42", ok.Approval.Ticket, "the approval request carries the ticket")

	done := f.e.Approve(context.Background(), engine.Request{User: carol, Channel: "C0SUPPORT"}, ok.Approval.ID, "", nil)
	require.Equal(t, engine.StatusOK, done.Status, done.Error)
	assert.Equal(t, "OPS-42", done.Ticket, "the result shows the ticket")
	assert.Equal(t, int64(5), f.counter(t))

	// Every entry of the request carries the ticket, and the ticket finds them.
	entries, err := f.audit.Search(context.Background(), audit.Filter{Ticket: "OPS-42"})
	require.NoError(t, err)
	var actions []string
	for _, en := range entries {
		assert.Equal(t, ok.RequestID, en.RequestID)
		actions = append(actions, string(en.Action)+" "+en.Outcome)
	}
	assert.Subset(t, actions, []string{"request ", "approval requested", "approval approved", "execute started", "result succeeded"})
	all, err := f.audit.Search(context.Background(), audit.Filter{RequestID: ok.RequestID})
	require.NoError(t, err)
	assert.Len(t, entries, len(all), "no entry of the request is without its ticket")

	// A read-only command needs none, and /ops audit finds a ticket's entries.
	ro := f.run(erin, "/ops audit ticket=OPS-42")
	require.Equal(t, engine.StatusOK, ro.Status, ro.Error)
	tbl := ro.Result.Parts[0].Table
	require.NotNil(t, tbl)
	assert.Len(t, tbl.Rows, len(all))
	assert.Contains(t, ro.Result.Parts[0].Title, "for ticket OPS-42")
}

func TestATicketIsLinkedWhenTheDeskHasAnAddress(t *testing.T) {
	f := newFixture(t)
	e := engine.New(engine.Options{Plugins: f.registry, TicketURL: "https://desk.example/browse/{ticket}"})
	r := e.Handle(context.Background(), engine.Request{User: alice, Text: "/example counter add 1 ticket=OPS-7"}, nil)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Equal(t, "https://desk.example/browse/OPS-7", r.TicketURL)
}

func TestWithoutATicketRuleTicketsAreOptional(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter add 5")
	assert.Equal(t, engine.StatusPending, r.Status, r.Error)
	r = f.run(alice, "/example counter add 5 ticket=anything-goes")
	assert.Equal(t, engine.StatusPending, r.Status, r.Error)
	assert.Equal(t, "anything-goes", r.Ticket)
}

// countingProvider counts the calls that could change something.
type countingProvider struct {
	engine.Provider
	executes atomic.Int32
	plans    atomic.Int32
}

func (c *countingProvider) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error) {
	c.executes.Add(1)
	return c.Provider.Execute(ctx, req)
}

func (c *countingProvider) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	c.plans.Add(1)
	return c.Provider.Plan(ctx, req)
}

func TestPlanShowsAHighRiskCommandsPlanWithoutApprovalOrRunningIt(t *testing.T) {
	f := newFixture(t)
	f.withTickets(t, ticketPolicy)
	base, _ := f.registry.Provider("example")
	counting := &countingProvider{Provider: base}
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"example": counting}, Policy: f.holder, Audit: f.audit, Approvals: nil})

	for name, line := range map[string]string{
		"--plan":    "/example counter add 5 --plan",
		"/ops plan": "/ops plan /example counter add 5",
	} {
		t.Run(name, func(t *testing.T) {
			r := e.Handle(context.Background(), engine.Request{User: alice, Channel: "C0SUPPORT", Text: line}, nil)
			require.Equal(t, engine.StatusOK, r.Status, r.Error)
			assert.True(t, r.DryRun)
			require.NotNil(t, r.Plan)
			assert.Equal(t, "Add 5 to the counter", r.Plan.Summary)
			assert.Nil(t, r.Approval)
			assert.Contains(t, r.Result.Parts[0].Text.Body, "nothing was approved or run")
			// Running it would be refused without a ticket: the footer
			// says so rather than "go ahead".
			assert.Contains(t, r.Result.Parts[0].Text.Body, "running it needs a ticket (ticket=ABC-123) and 1 approval")
			assert.NotContains(t, r.Result.Parts[0].Text.Body, "Run it without --plan to go ahead")
		})
	}
	withTicket := e.Handle(context.Background(), engine.Request{User: alice, Channel: "C0SUPPORT", Text: "/example counter add 5 --plan ticket=OPS-9"}, nil)
	require.Equal(t, engine.StatusOK, withTicket.Status, withTicket.Error)
	assert.Contains(t, withTicket.Result.Parts[0].Text.Body, "running it needs 1 approval")
	assert.Contains(t, withTicket.Result.Parts[0].Text.Body, "Run it without --plan to go ahead")
	assert.Zero(t, counting.executes.Load(), "nothing reaches the provider's write path")
	assert.Equal(t, int32(3), counting.plans.Load())
	assert.Zero(t, f.counter(t))

	entries, err := f.audit.Search(context.Background(), audit.Filter{Action: string(audit.ActionDryRun)})
	require.NoError(t, err)
	require.Len(t, entries, 3, "each plan shown is in the audit log as a dry run")
	assert.Equal(t, "shown", entries[0].Outcome)

	// A user the policy denies gets no plan either.
	r := e.Handle(context.Background(), engine.Request{User: "U0NOBODY1", Channel: "C0SUPPORT", Text: "/example counter add 5 --plan"}, nil)
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.Equal(t, int32(3), counting.plans.Load(), "a denied user's plan never reaches the plugin")
}

func TestOpsAuditFindsATicketWhateverItsCase(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter add 5 ticket=OPS-42")
	require.Equal(t, engine.StatusPending, r.Status, r.Error)

	found := f.run(erin, "/ops audit ticket=ops-42")
	require.Equal(t, engine.StatusOK, found.Status, found.Error)
	tbl := found.Result.Parts[0].Table
	require.NotNil(t, tbl)
	require.NotEmpty(t, tbl.Rows, "ops-42 finds the entries of OPS-42")
	ticketCol := slices.Index(tbl.Columns, "ticket")
	for _, row := range tbl.Rows {
		assert.Equal(t, "OPS-42", row[ticketCol], "each entry shows the ticket as it was given")
	}

	help := f.run(erin, "/ops audit --help")
	require.Equal(t, engine.StatusOK, help.Status, help.Error)
	assert.Contains(t, help.Result.Parts[0].Text.Body, "[ticket=STRING]", "the usage line lists ticket=")
}

func TestApprovalListingsShowTheTicketAndItsLink(t *testing.T) {
	f := newFixture(t)
	e := engine.New(engine.Options{Plugins: f.registry, Policy: f.holder, Approvals: approval.New(f.store, []byte("test-key-0123456789"), time.Now), Audit: f.audit,
		TicketURL: "https://desk.example/browse/{ticket}"})
	run := func(user, line string) engine.Reply {
		return e.Handle(context.Background(), engine.Request{User: user, Channel: "C0SUPPORT", Text: line}, nil)
	}
	r := run(alice, "/example counter add 5 ticket=OPS-42")
	require.Equal(t, engine.StatusPending, r.Status, r.Error)

	one := run(carol, "/ops approval "+r.Approval.ID)
	require.Equal(t, engine.StatusOK, one.Status, one.Error)
	kv := map[string]string{}
	for _, p := range one.Result.Parts {
		for _, f := range p.KeyValues {
			kv[f.Key] = f.Value
		}
	}
	assert.Equal(t, "OPS-42 (https://desk.example/browse/OPS-42)", kv["ticket"])

	list := run(carol, "/ops approvals")
	require.Equal(t, engine.StatusOK, list.Status, list.Error)
	tbl := list.Result.Parts[0].Table
	require.NotNil(t, tbl)
	col := slices.Index(tbl.Columns, "ticket")
	require.GreaterOrEqual(t, col, 0, "the listing has a ticket column")
	require.Len(t, tbl.Rows, 1)
	assert.Equal(t, "OPS-42 (https://desk.example/browse/OPS-42)", tbl.Rows[0][col])
}

func TestADenialsReasonNeedsNoQuotes(t *testing.T) {
	f := newFixture(t)
	r := f.run(alice, "/example counter add 5")
	require.Equal(t, engine.StatusPending, r.Status, r.Error)
	d := f.run(carol, "/ops deny "+r.Approval.ID+" reason=wrong server, it's db01")
	require.Equal(t, engine.StatusOK, d.Status, d.Error)
	v, err := f.e.Approval(context.Background(), r.Approval.ID)
	require.NoError(t, err)
	assert.Equal(t, "wrong server, it's db01", v.Reason)
}
