package main_test

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/chat/slack/localapi"
)

const testSigningSecret = "e2e-signing-secret-0123456789abcdef"

// slackBot is a running bin/bot serve talking to a slacktest server.
type slackBot struct {
	t    *testing.T
	ws   *localapi.Workspace
	base string
	dir  string
}

func startSlackBot(t *testing.T) *slackBot {
	t.Helper()
	return startSlackBotWith(t, nil)
}

// startSlackBotWith starts bin/bot serve with more keys in its slack
// section (approvals_channel, say).
func startSlackBotWith(t *testing.T, slack map[string]any) *slackBot {
	t.Helper()
	ws := localapi.New()
	srv := slacktest.NewTestServer(func(c slacktest.Customize) { ws.Bind(c) })
	srv.Start()
	t.Cleanup(srv.Stop)
	ws.BaseURL = srv.GetAPIURL()

	dir := workDir(t)
	slackKeys := map[string]any{"signing_secret": env("TEST_SLACK_SIGNING_SECRET"), "bot_token": env("TEST_SLACK_BOT_TOKEN"), "api_url": srv.GetAPIURL()}
	for k, v := range slack {
		slackKeys[k] = v
	}
	cfg := config{Plugins: []installed{{Name: "example", Targets: []target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(dir, "state")}}}},
		Top: map[string]any{"listen": "127.0.0.1:0", "slack": slackKeys}}.write(t, dir)
	c := botIn(t, dir, "serve", "--config", cfg, "--log-level", "info")
	c.Env = append(c.Env, "TEST_SLACK_SIGNING_SECRET="+testSigningSecret, "TEST_SLACK_BOT_TOKEN=xoxb-test-canary-token")
	stdout, err := c.StdoutPipe()
	require.NoError(t, err)
	logs := &syncBuffer{}
	c.Stderr = logs
	require.NoError(t, c.Start())
	t.Cleanup(func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = c.Process.Kill()
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", logs.String())
		}
		assert.NotContains(t, logs.String(), "xoxb-test-canary-token", "the bot token never reaches a log")
	})
	sc := bufio.NewScanner(stdout)
	var base string
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "serving on "); ok {
			base = strings.Fields(rest)[0]
			break
		}
	}
	require.NotEmpty(t, base, "serve never said where it listens; log:\n%s", logs.String())
	go io.Copy(io.Discard, stdout)
	b := &slackBot{t: t, ws: ws, base: base, dir: dir}
	waitFor(t, func() bool {
		r, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	}, "the bot never became ready")
	return b
}

func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// post sends a signed request and returns the status, body and latency.
func (b *slackBot) post(path string, form url.Values, tsOffset time.Duration, badSig bool) (int, string, time.Duration) {
	body := []byte(form.Encode())
	ts := strconv.FormatInt(time.Now().Add(tsOffset).Unix(), 10)
	sig := sign(testSigningSecret, ts, body)
	if badSig {
		sig = sign("not-the-secret", ts, body)
	}
	return b.postRaw(path, body, ts, sig)
}

func (b *slackBot) postRaw(path string, body []byte, ts, sig string) (int, string, time.Duration) {
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(string(body)))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), time.Since(start)
}

func (b *slackBot) command(user, channel, command, text string) url.Values {
	return url.Values{
		"team_id": {"T0LOCAL"}, "channel_id": {channel}, "user_id": {user}, "command": {command}, "text": {text},
		"response_url": {b.ws.ResponseURL(channel, user)}, "trigger_id": {b.ws.Trigger(user)},
	}
}

func (b *slackBot) click(user, channel, actionID, value string) url.Values {
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "team": map[string]string{"id": "T0LOCAL"}, "user": map[string]string{"id": user},
		"channel": map[string]string{"id": channel}, "trigger_id": b.ws.Trigger(user), "response_url": b.ws.ResponseURL(channel, user),
		"actions": []map[string]string{{"type": "button", "action_id": actionID, "block_id": "approval_actions", "value": value}},
	})
	return url.Values{"payload": {string(payload)}}
}

func (b *slackBot) submit(user, callback, metadata string, values map[string]string) url.Values {
	state := map[string]any{}
	for block, v := range values {
		state[block] = map[string]any{"value": map[string]string{"type": "plain_text_input", "value": v}}
	}
	payload, _ := json.Marshal(map[string]any{
		"type": "view_submission", "team": map[string]string{"id": "T0LOCAL"}, "user": map[string]string{"id": user},
		"trigger_id": b.ws.Trigger(user),
		"view":       map[string]any{"id": "V1", "callback_id": callback, "private_metadata": metadata, "state": map[string]any{"values": state}},
	})
	return url.Values{"payload": {string(payload)}}
}

// waitMessage waits for a message matching f.
func (b *slackBot) waitMessage(what string, f func(localapi.Message) bool) localapi.Message {
	b.t.Helper()
	var found localapi.Message
	waitFor(b.t, func() bool {
		for _, m := range b.ws.Messages() {
			if f(m) {
				found = m
				return true
			}
		}
		return false
	}, "no message: "+what)
	return found
}

// contains looks for s in a message's text and blocks (JSON escapes of
// <, > and & undone).
func contains(m localapi.Message, s string) bool {
	blocks := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(m.Blocks))
	return strings.Contains(m.Text, s) || strings.Contains(blocks, s)
}

func approvalID(m localapi.Message) string {
	var blocks []map[string]any
	_ = json.Unmarshal(m.Blocks, &blocks)
	for _, b := range blocks {
		if b["type"] == "actions" {
			for _, e := range b["elements"].([]any) {
				el := e.(map[string]any)
				if el["action_id"] == "approval_approve" {
					return el["value"].(string)
				}
			}
		}
	}
	return ""
}

func TestSlackCommandIsAnsweredInAThread(t *testing.T) {
	b := startSlackBot(t)
	// The answer comes before the work is done (how fast is measured by
	// BenchmarkSlashCommandAck and bot loadtest, not asserted here).
	code, body, _ := b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/example", "progress steps=3 delay=300ms"), 0, false)
	require.Equal(t, 200, code, body)

	root := b.waitMessage("the request's root message", func(m localapi.Message) bool {
		return m.Channel == "C0SUPPORT" && m.ThreadTS == "" && contains(m, "ran `/example progress steps=3 delay=300ms`")
	})
	result := b.waitMessage("the result in the thread", func(m localapi.Message) bool {
		return m.ThreadTS == root.TS && contains(m, "steps") && contains(m, "header")
	})
	assert.Contains(t, string(result.Blocks), `"/example progress steps=3 delay=300ms"`)
	waitFor(t, func() bool {
		for _, m := range b.ws.Thread("C0SUPPORT", root.TS) {
			if strings.Contains(m.Text, "done in") && m.Edits >= 1 {
				return true
			}
		}
		return false
	}, "the status message was not edited to done")
	waitFor(t, func() bool {
		for _, m := range b.ws.Messages() {
			if m.TS == root.TS {
				return strings.Join(m.Reactions, ",") == "eyes,white_check_mark"
			}
		}
		return false
	}, "the root message is not marked seen and succeeded")

	// Help is for the asker only.
	code, _, _ = b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/example", "help"), 0, false)
	require.Equal(t, 200, code)
	help := b.waitMessage("help, privately", func(m localapi.Message) bool {
		return m.Ephemeral && m.To == "U0ALICE01" && contains(m, "/example slow")
	})
	assert.Empty(t, help.ThreadTS)

	// A secret typed into chat is refused; without it, a private form asks.
	b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/example", "secret check value=hunter2-canary"), 0, false)
	b.waitMessage("the refusal", func(m localapi.Message) bool {
		return m.Ephemeral && contains(m, "must not be typed into chat")
	})
	b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/example", "secret check"), 0, false)
	waitFor(t, func() bool { return len(b.ws.Views()) == 1 }, "no form for the secret")
	view := b.ws.Views()[0]
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	require.NoError(t, json.Unmarshal(view.View, &v))
	code, _, _ = b.post("/slack/interactions", b.submit("U0ALICE01", v.CallbackID, v.PrivateMetadata, map[string]string{"secret_value": "hunter2-canary"}), 0, false)
	require.Equal(t, 200, code)
	checked := b.waitMessage("the secret check result", func(m localapi.Message) bool { return contains(m, "sha256 prefix") })
	assert.NotContains(t, string(checked.Blocks)+checked.Text, "hunter2-canary")
	for _, m := range b.ws.Messages() {
		assert.NotContains(t, string(m.Blocks)+m.Text, "hunter2-canary")
	}
}

func TestSlackRejectsForgedStaleAndReplayedRequests(t *testing.T) {
	b := startSlackBot(t)
	before := len(b.ws.Messages())
	code, _, _ := b.post("/slack/commands", b.command("U0ERIN001", "C0SUPPORT", "/example", "counter add 1"), 0, true)
	assert.Equal(t, 401, code, "wrong signature")
	code, _, _ = b.post("/slack/commands", b.command("U0ERIN001", "C0SUPPORT", "/example", "counter add 1"), -6*time.Minute, false)
	assert.Equal(t, 401, code, "timestamp older than 5 minutes")

	form := b.command("U0ALICE01", "C0SUPPORT", "/example", "echo once")
	body := []byte(form.Encode())
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := sign(testSigningSecret, ts, body)
	code, _, _ = b.postRaw("/slack/commands", body, ts, sig)
	assert.Equal(t, 200, code)
	code, _, _ = b.postRaw("/slack/commands", body, ts, sig)
	assert.Equal(t, 401, code, "a replayed request")
	code, _, _ = b.post("/slack/interactions", b.click("U0CAROL01", "C0SUPPORT", "approval_approve", "AXXXXXXX"), 0, true)
	assert.Equal(t, 401, code, "a forged click")

	// Every rejection above was answered 401 before anything was queued,
	// so once the accepted command has run, nothing else can.
	b.waitMessage("the one accepted command", func(m localapi.Message) bool { return contains(m, "ran `/example echo once`") })
	n := 0
	for _, m := range b.ws.Messages()[before:] {
		if contains(m, "counter") {
			t.Errorf("a rejected request ran: %s", m.Text)
		}
		if contains(m, "ran `/example echo once`") {
			n++
		}
	}
	assert.Equal(t, 1, n, "the replay did not run again")
}

func TestSlackApprovalFlow(t *testing.T) {
	b := startSlackBot(t)
	b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/example", "counter add 5"), 0, false)
	card := b.waitMessage("the approval card", func(m localapi.Message) bool { return approvalID(m) != "" })
	id := approvalID(card)
	assert.Contains(t, string(card.Blocks), "Approval needed: /example counter add n=5")
	assert.True(t, contains(card, "<@U0ALICE01>"))
	assert.Contains(t, string(card.Blocks), `"confirm"`, "Approve asks to confirm")
	b.waitMessage("the requester's note in the card's thread", func(m localapi.Message) bool {
		return m.ThreadTS == card.TS && contains(m, "needs approval")
	})

	// The requester, and someone without approve rights, are refused privately.
	b.post("/slack/interactions", b.click("U0ALICE01", "C0SUPPORT", "approval_approve", id), 0, false)
	b.waitMessage("alice's refusal", func(m localapi.Message) bool {
		return m.Ephemeral && m.To == "U0ALICE01" && contains(m, "cannot approve your own request")
	})
	b.post("/slack/interactions", b.click("U0BOB0001", "C0SUPPORT", "approval_approve", id), 0, false)
	b.waitMessage("bob's refusal", func(m localapi.Message) bool {
		return m.Ephemeral && m.To == "U0BOB0001" && contains(m, "You may not approve this request")
	})

	// carol approves: it runs once, the card says so, alice hears in the thread.
	b.post("/slack/interactions", b.click("U0CAROL01", "C0SUPPORT", "approval_approve", id), 0, false)
	result := b.waitMessage("the result in the card's thread", func(m localapi.Message) bool {
		return m.ThreadTS == card.TS && contains(m, "*counter*") && strings.HasPrefix(m.Text, "<@U0ALICE01>")
	})
	assert.Contains(t, string(result.Blocks), `"*counter*\n5"`)
	waitFor(t, func() bool {
		for _, m := range b.ws.Messages() {
			if m.TS == card.TS {
				return m.Edits > 0 && contains(m, "Approved and done") && !contains(m, "approval_approve")
			}
		}
		return false
	}, "the card was not updated in place")
	b.waitMessage("carol's confirmation", func(m localapi.Message) bool { return m.Ephemeral && m.To == "U0CAROL01" && contains(m, "Approved") })

	// dan's late click does nothing.
	b.post("/slack/interactions", b.click("U0DAN0001", "C0SUPPORT", "approval_approve", id), 0, false)
	b.waitMessage("dan's refusal", func(m localapi.Message) bool {
		return m.Ephemeral && m.To == "U0DAN0001" && contains(m, "approved and done")
	})
	b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/example", "counter show"), 0, false)
	shown := b.waitMessage("the counter", func(m localapi.Message) bool { return contains(m, "*counter*") && !strings.HasPrefix(m.Text, "<@") })
	assert.Contains(t, string(shown.Blocks), `"*counter*\n5"`, "executed exactly once")
}

func TestSlackCriticalApprovalNeedsTwoTypedConfirmations(t *testing.T) {
	b := startSlackBot(t)
	b.post("/slack/commands", b.command("U0BOB0001", "C0SUPPORT", "/example", "counter reset"), 0, false)
	card := b.waitMessage("the approval card", func(m localapi.Message) bool { return approvalID(m) != "" })
	id := approvalID(card)
	assert.NotContains(t, string(card.Blocks), `"confirm"`, "critical requests confirm in a modal instead")
	for i, who := range []string{"U0CAROL01", "U0DAN0001"} {
		b.post("/slack/interactions", b.click(who, "C0SUPPORT", "approval_approve", id), 0, false)
		waitFor(t, func() bool { return len(b.ws.Views()) == i+1 }, "no confirmation modal")
		var v struct {
			CallbackID      string `json:"callback_id"`
			PrivateMetadata string `json:"private_metadata"`
		}
		require.NoError(t, json.Unmarshal(b.ws.Views()[i].View, &v))
		assert.Equal(t, id, v.PrivateMetadata)
		// A wrong name keeps the modal open with an error.
		code, body, _ := b.post("/slack/interactions", b.submit(who, v.CallbackID, v.PrivateMetadata, map[string]string{"confirm_target": "sandbx"}), 0, false)
		require.Equal(t, 200, code)
		assert.Contains(t, body, `"response_action":"errors"`)
		assert.Contains(t, body, "Type sandbox exactly")
		code, body, _ = b.post("/slack/interactions", b.submit(who, v.CallbackID, v.PrivateMetadata, map[string]string{"confirm_target": "sandbox"}), 0, false)
		require.Equal(t, 200, code)
		assert.Empty(t, strings.TrimSpace(body))
	}
	b.waitMessage("the reset result", func(m localapi.Message) bool {
		return m.ThreadTS == card.TS && contains(m, "counter reset") && strings.HasPrefix(m.Text, "<@U0BOB0001>")
	})
}
