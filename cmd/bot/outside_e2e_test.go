package main_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/chat/slack/localapi"
)

// Approval requests made outside Slack (bot exec, bot console) reach
// Slack as those made in it do, and the requester's "waiting for
// approval" message follows every change, whichever process makes it.

const outsideToken = "xoxb-outside-canary-token"

// execSlack runs bot exec --json with the configuration cfg and the bot
// token in the environment.
func execSlack(t *testing.T, dir, cfg, as, line string) (execAnswer, result) {
	t.Helper()
	cmd := botIn(t, dir, "exec", "--config", cfg, "--json", "--as", as, line)
	cmd.Env = append(cmd.Env, "TEST_SLACK_BOT_TOKEN="+outsideToken)
	r := runBot(t, cmd)
	assert.NotContains(t, r.stdout+r.stderr, outsideToken, "the bot token never shows")
	var a execAnswer
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &a), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return a, r
}

// message returns the workspace's current copy of the message at ts.
func message(ws *localapi.Workspace, ts string) localapi.Message {
	for _, m := range ws.Messages() {
		if m.TS == ts {
			return m
		}
	}
	return localapi.Message{}
}

func TestExecApprovalIsSentToEachApproverAndTheWaitingMessageFollowsIt(t *testing.T) {
	ws := localapi.New()
	srv := slacktest.NewTestServer(func(c slacktest.Customize) { ws.Bind(c) })
	srv.Start()
	t.Cleanup(srv.Stop)
	ws.BaseURL = srv.GetAPIURL()
	dir := workDir(t)
	// No approvals channel, and no signing secret: bot exec needs only
	// the bot token to post.
	cfg := config{Plugins: []installed{exampleSandbox("")},
		Top: map[string]any{"slack": map[string]any{"bot_token": env("TEST_SLACK_BOT_TOKEN"), "api_url": srv.GetAPIURL()}}}.write(t, dir)

	a, r := execSlack(t, dir, cfg, "alice", "/example counter add 3")
	require.Equal(t, 4, r.code, r.stderr)
	id := a.Approval.ID

	// The example policy's approvers are the leads (carol, dan) and the
	// administrator (erin): each gets the card by direct message; the
	// requester and the tiers do not.
	cards := map[string]localapi.Message{}
	var waiting localapi.Message
	for _, m := range ws.Messages() {
		switch {
		case approvalID(m) == id:
			cards[m.Channel] = m
		case m.Channel == "U0ALICE01" && contains(m, "needs approval ("+id+")"):
			waiting = m
		}
	}
	assert.ElementsMatch(t, []string{"U0CAROL01", "U0DAN0001", "U0ERIN001"}, keys(cards))
	require.NotEmpty(t, waiting.TS, "the requester is told by direct message: %v", ws.Messages())
	assert.True(t, contains(waiting, "waiting for 1 more approval(s)"))

	// carol approves from her own bot exec: every card and the waiting
	// message are edited, and the result comes under the waiting message.
	a, r = execSlack(t, dir, cfg, "carol", "/ops approve "+id)
	require.Equal(t, 0, r.code, "%s %s", a.Error, r.stderr)
	now := message(ws, waiting.TS)
	assert.True(t, contains(now, "Approved and done"), now.Text+string(now.Blocks))
	assert.False(t, contains(now, "needs approval"))
	assert.Equal(t, 2, now.Edits, "edited at the approval (running) and at the end")
	for ch, c := range cards {
		c = message(ws, c.TS)
		assert.True(t, contains(c, "Approved and done"), "the card sent to %s", ch)
		assert.Empty(t, approvalID(c), "the card sent to %s has no buttons left", ch)
	}
	var result bool
	for _, m := range ws.Thread("U0ALICE01", waiting.TS) {
		result = result || (contains(m, "*counter*") && m.TS != waiting.TS)
	}
	assert.True(t, result, "the result is in the waiting message's thread")

	// A request withdrawn by its requester says so too.
	a, r = execSlack(t, dir, cfg, "alice", "/example counter add 4")
	require.Equal(t, 4, r.code, r.stderr)
	second := a.Approval.ID
	_, r = execSlack(t, dir, cfg, "alice", "/ops cancel "+second)
	require.Equal(t, 0, r.code, r.stderr)
	cancelled := false
	for _, m := range ws.Messages() {
		if m.Channel == "U0ALICE01" && contains(m, "(approval "+second+")") {
			cancelled = contains(m, "Cancelled by the requester")
		}
		if approvalID(m) == second {
			t.Errorf("a card of the cancelled request still has its buttons: %s", m.Channel)
		}
	}
	assert.True(t, cancelled, "the waiting message of the cancelled request was not edited")
}

func TestExecApprovalGoesToTheApprovalsChannelAndAClickInSlackUpdatesIt(t *testing.T) {
	b := startSlackBotWith(t, map[string]any{"approvals_channel": "C0APPROVALS"})
	cfg := filepath.Join(b.dir, "bot.yaml")
	a, r := execSlack(t, b.dir, cfg, "alice", "/example counter add 2")
	require.Equal(t, 4, r.code, r.stderr)
	id := a.Approval.ID

	card := b.waitMessage("the card in the approvals channel", func(m localapi.Message) bool { return approvalID(m) == id })
	assert.Equal(t, "C0APPROVALS", card.Channel)
	waiting := b.waitMessage("the requester's waiting message", func(m localapi.Message) bool {
		return m.Channel == "U0ALICE01" && contains(m, "needs approval ("+id+")")
	})
	for _, m := range b.ws.Messages() {
		if approvalID(m) == id && m.Channel != "C0APPROVALS" {
			t.Errorf("with an approvals channel, no card goes to %s", m.Channel)
		}
	}

	// carol clicks Approve in Slack: the serving bot runs it and edits
	// the card and the waiting message it did not post.
	code, body, _ := b.post("/slack/interactions", b.click("U0CAROL01", "C0APPROVALS", "approval_approve", id), 0, false)
	require.Equal(t, 200, code, body)
	waitFor(t, func() bool { return contains(message(b.ws, waiting.TS), "Approved and done") }, "the waiting message was not edited")
	waitFor(t, func() bool { return contains(message(b.ws, card.TS), "Approved and done") }, "the card was not edited")
	b.waitMessage("the result under the waiting message", func(m localapi.Message) bool {
		return m.ThreadTS == waiting.TS && contains(m, "*counter*")
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestConsoleApprovalReachesSlackAndItsApprovalThereEditsIt(t *testing.T) {
	ws := localapi.New()
	srv := slacktest.NewTestServer(func(c slacktest.Customize) { ws.Bind(c) })
	srv.Start()
	t.Cleanup(srv.Stop)
	ws.BaseURL = srv.GetAPIURL()
	dir := workDir(t)
	cfg := config{Plugins: []installed{exampleSandbox("")},
		Top: map[string]any{"slack": map[string]any{"bot_token": env("TEST_SLACK_BOT_TOKEN"), "api_url": srv.GetAPIURL(), "approvals_channel": "C0APPROVALS"}}}.write(t, dir)
	c := startConsole(t, dir, []string{"TEST_SLACK_BOT_TOKEN=" + outsideToken}, "--config", cfg, "--as", "alice")
	c.send("/example counter add 6")
	// The console still shows the card's news itself.
	id := c.expect(`\[approvals\] (A[A-Z0-9]+) /example counter add n=6`)[1]
	var card, waiting localapi.Message
	waitFor(t, func() bool {
		for _, m := range ws.Messages() {
			if approvalID(m) == id {
				card = m
			}
			if m.Channel == "U0ALICE01" && contains(m, "needs approval ("+id+")") {
				waiting = m
			}
		}
		return card.TS != "" && waiting.TS != ""
	}, "no card or no waiting message in Slack")
	assert.Equal(t, "C0APPROVALS", card.Channel)

	c.send(":as carol", "/ops approve "+id)
	waitFor(t, func() bool { return contains(message(ws, waiting.TS), "Approved and done") }, "the waiting message was not edited")
	assert.True(t, contains(message(ws, card.TS), "Approved and done"))
	assert.NotContains(t, c.out.String(), outsideToken)
}
