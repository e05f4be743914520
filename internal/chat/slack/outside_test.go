package slack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/audit"
	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/chat/slack/localapi"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

// otherProcess is another process on the fixture's store (bot exec, or a
// replica whose clock is later): its own engine, told through its own
// adapter configured by cfg.
func otherProcess(t *testing.T, f *fixture, cfg slackchat.Config, now func() time.Time) *engine.Engine {
	t.Helper()
	local, err := pluginhost.NewLocal(context.Background(), provider.New(), pluginhost.Config{Name: "example", Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}}})
	require.NoError(t, err)
	eng := engine.New(engine.Options{
		Plugins: engine.StaticRegistry{"example": local}, Policy: policyOf{f.pol}, Logger: f.log,
		Approvals: approval.New(f.store, []byte("adapter-test-key-000"), now), Audit: audit.NewLog(f.store, nil), Now: now,
	})
	a := slackchat.New(cfg, eng, f.store, f.log, nil)
	eng.SetNotifier(a)
	eng.SetGroups(a.Groups)
	return eng
}

// outside is the configuration of bot exec's adapter.
func (f *fixture) outside(approvals string) slackchat.Config {
	return slackchat.Config{BotToken: "xoxb-test", APIURL: f.srv.GetAPIURL(), ApprovalsChannel: approvals, OutsideSlack: true,
		PolicyUsers: f.pol.UserIDs, PolicyGroups: f.pol.SlackGroups}
}

// at returns the workspace's current copy of the message at ts.
func at(ws *localapi.Workspace, ts string) localapi.Message {
	for _, m := range ws.Messages() {
		if m.TS == ts {
			return m
		}
	}
	return localapi.Message{}
}

func text(m localapi.Message) string { return m.Text + string(m.Blocks) }

func TestARequestMadeOutsideSlackIsSentToItsApproversAndFollowedToItsEnd(t *testing.T) {
	f := newFixture(t, "")
	f.ws.SetGroup("S0LEADS01", "U0CAROL01", "U0DAN0001", "U0ALICE01")
	exec := otherProcess(t, f, f.outside(""), nil)
	ctx := context.Background()

	r := exec.Handle(ctx, engine.Request{User: "U0ALICE01", Channel: "cli", Text: "/example counter add 2"}, nil)
	require.Equal(t, engine.StatusPending, r.Status, r.Error)
	id := r.Approval.ID
	cards := map[string]string{} // approver → the card's ts
	var waiting localapi.Message
	for _, m := range f.ws.Messages() {
		switch {
		case strings.Contains(string(m.Blocks), `"approval_approve"`) && strings.Contains(string(m.Blocks), id):
			cards[m.Channel] = m.TS
		case m.Channel == "U0ALICE01" && strings.Contains(text(m), "needs approval ("+id+")"):
			waiting = m
		}
	}
	// alice is in the leads' Slack group, but never approves her own.
	assert.Len(t, cards, 2)
	assert.Contains(t, cards, "U0CAROL01")
	assert.Contains(t, cards, "U0DAN0001")
	require.NotEmpty(t, waiting.TS, "the requester's direct message")

	// A replica whose clock is past the expiry sweeps: every card and the
	// requester's message say it expired, and she is told in its thread.
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	replica := otherProcess(t, f, f.config(""), later)
	replica.Sweep(ctx)
	assert.Contains(t, text(at(f.ws, waiting.TS)), "Expired without enough approvals")
	assert.NotContains(t, text(at(f.ws, waiting.TS)), "needs approval")
	for who, ts := range cards {
		assert.Contains(t, text(at(f.ws, ts)), "Expired without enough approvals", "the card sent to %s", who)
		assert.NotContains(t, text(at(f.ws, ts)), "approval_approve", "the card sent to %s", who)
	}
	told := false
	for _, m := range f.ws.Thread("U0ALICE01", waiting.TS) {
		told = told || (m.TS != waiting.TS && strings.Contains(text(m), "expired"))
	}
	assert.True(t, told, "the requester is told in the thread of her message")
}

func TestADenialInSlackEditsTheWaitingMessageOfARequestMadeOutside(t *testing.T) {
	f := newFixture(t, "")
	f.ws.SetGroup("S0LEADS01", "U0CAROL01")
	exec := otherProcess(t, f, f.outside("C0APPROVALS"), nil)
	ctx := context.Background()

	r := exec.Handle(ctx, engine.Request{User: "U0ALICE01", Channel: "cli", Text: "/example counter add 5"}, nil)
	require.Equal(t, engine.StatusPending, r.Status, r.Error)
	id := r.Approval.ID
	var card, waiting localapi.Message
	for _, m := range f.ws.Messages() {
		switch {
		case strings.Contains(string(m.Blocks), `"approval_approve"`):
			card = m
		case m.Channel == "U0ALICE01":
			waiting = m
		}
	}
	assert.Equal(t, "C0APPROVALS", card.Channel, "with an approvals channel, the card goes there only")
	require.Contains(t, text(waiting), "needs approval ("+id+")")

	// The serving replica handles carol's denial.
	d := f.engine.Deny(ctx, engine.Request{User: "U0CAROL01", Channel: "C0APPROVALS"}, id, "not during the freeze")
	require.Equal(t, engine.StatusOK, d.Status, d.Error)
	assert.Contains(t, text(at(f.ws, waiting.TS)), "Denied by carol: not during the freeze")
	assert.Contains(t, text(at(f.ws, card.TS)), "Denied by carol")
}
