package slack_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/chat/slack/localapi"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/metrics"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/store/sqldb"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

const secret = "adapter-test-secret"

type fixture struct {
	ws      *localapi.Workspace
	srv     *slacktest.Server
	adapter *slackchat.Adapter
	http    *httptest.Server
	flaky   *atomic.Int32 // chat.postMessage calls to answer 429 first
	metrics *metrics.Metrics
	logs    *syncBuffer // the adapter's log, at info level
	store   *sqldb.DB
	engine  *engine.Engine
	log     *slog.Logger
	pol     *authz.Policy
}

// syncBuffer collects output several goroutines write while the test reads it.
type syncBuffer = testbin.Buffer

const groupPolicy = `version: 1
users:
  alice: U0ALICE01
  carol: U0CAROL01
roles:
  desk:
    grants: [{commands: ["*:*"], max_risk: high}]
  lead:
    grants: [{commands: ["*:*"], max_risk: read-only}]
    approve: [{commands: ["*:*"]}]
bindings:
  - subjects: [alice]
    roles: [desk]
  - subjects: [slack:S0LEADS01]
    roles: [lead]
deny:
  - commands: ["sites:*"]
    targets: [prod]
    reason: production sites are changed from the console
`

// fixtureOption changes a fixture's providers before the engine is built.
type fixtureOption func(t testing.TB, plugins engine.StaticRegistry)

func newFixture(t testing.TB, appToken string, opts ...fixtureOption) *fixture {
	t.Helper()
	return newFixtureWith(t, groupPolicy, appToken, opts...)
}

// newFixtureWith is newFixture under the policy policySrc.
func newFixtureWith(t testing.TB, policySrc, appToken string, opts ...fixtureOption) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{ws: localapi.New(), flaky: &atomic.Int32{}, metrics: metrics.New(), logs: &syncBuffer{}}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		// A Web API that says 429 first, to prove Retry-After is honoured.
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			if f.flaky.Add(-1) >= 0 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			f.ws.Handler().ServeHTTP(w, withPrefix(r))
		})
		f.ws.Bind(c)
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	f.ws.BaseURL = f.srv.GetAPIURL()

	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	pol, err := authz.Parse("policy.yaml", []byte(policySrc))
	require.NoError(t, err)
	local, err := pluginhost.NewLocal(ctx, provider.New(), pluginhost.Config{Name: "example", Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}}})
	require.NoError(t, err)
	var w io.Writer = testWriter{t}
	if _, fuzzing := t.(*testing.F); fuzzing {
		w = io.Discard // a fuzz target may not log through f
	}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(w, f.logs), &slog.HandlerOptions{Level: slog.LevelInfo}))
	plugins := engine.StaticRegistry{"example": local}
	for _, o := range opts {
		o(t, plugins)
	}
	eng := engine.New(engine.Options{
		Plugins: plugins, Policy: policyOf{pol}, Logger: log,
		Approvals: approval.New(st, []byte("adapter-test-key-000"), nil), Audit: audit.NewLog(st, nil),
	})
	f.store, f.engine, f.log, f.pol = st, eng, log, pol
	f.adapter = slackchat.New(f.config(appToken), eng, st, log, f.metrics)
	eng.SetNotifier(f.adapter)
	eng.SetGroups(f.adapter.Groups)
	f.adapter.Start(ctx)
	t.Cleanup(f.adapter.Close)
	f.http = httptest.NewServer(f.adapter.Handler())
	t.Cleanup(f.http.Close)
	return f
}

// config is the adapter configuration of the fixture's adapters.
func (f *fixture) config(appToken string) slackchat.Config {
	return slackchat.Config{
		SigningSecret: secret, BotToken: "xoxb-test", AppToken: appToken, APIURL: f.srv.GetAPIURL(),
		PolicyGroups: f.pol.SlackGroups, ProgressEvery: 50 * time.Millisecond,
	}
}

// policyOf adapts a fixed policy to the engine.
type policyOf struct{ *authz.Policy }

// withPrefix maps /chat.postMessage to the workspace's /api/ handler.
func withPrefix(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/api" + r.URL.Path
	return r2
}

func (f *fixture) post(t *testing.T, path string, form url.Values) int {
	return f.postAt(t, path, form, time.Now())
}

// postAt signs the request as sent at the given time (within Slack's
// five minutes: a retry is signed anew, with a new timestamp).
func (f *fixture) postAt(t *testing.T, path string, form url.Values, at time.Time) int {
	body := []byte(form.Encode())
	ts := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest(http.MethodPost, f.http.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (f *fixture) command(user, text, trigger string) url.Values {
	return url.Values{"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {user}, "command": {"/example"}, "text": {text},
		"response_url": {f.ws.ResponseURL("C1", user)}, "trigger_id": {trigger}}
}

// wait waits for cond. The bound is generous: it only turns a hang into a
// failure, and a loaded machine must not trip it.
func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("timed out waiting for " + what)
}

func count(ws *localapi.Workspace, substr string) int {
	n := 0
	for _, m := range ws.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), substr) {
			n++
		}
	}
	return n
}

func TestRetriedDeliveryRunsOnce(t *testing.T) {
	f := newFixture(t, "")
	// Slack retries with the same trigger id but a new signature (its
	// timestamp a second later).
	now := time.Now()
	require.Equal(t, 200, f.postAt(t, "/slack/commands", f.command("U0ALICE01", "echo twice?", "111.222.abc"), now))
	require.Equal(t, 200, f.postAt(t, "/slack/commands", f.command("U0ALICE01", "echo twice?", "111.222.abc"), now.Add(time.Second)))
	wait(t, "the answer", func() bool { return count(f.ws, "ran `/example echo twice?`") == 1 })
	// Both deliveries were accepted; one of them lost the claim on the
	// trigger id. Once that is counted, nothing more can run.
	wait(t, "the duplicate to be refused", func() bool {
		var m dto.Metric
		require.NoError(t, f.metrics.Inbound.WithLabelValues("command", "duplicate").Write(&m))
		return m.GetCounter().GetValue() == 1
	})
	assert.Equal(t, 1, count(f.ws, "ran `/example echo twice?`"))
}

// A request replayed with its signature's hex in upper case verifies
// (hex is hex) and must still be known as the same request.
func TestAReplayWithTheSignatureUpperCasedIsRefused(t *testing.T) {
	f := newFixture(t, "")
	body := []byte(f.command("U0ALICE01", "echo once", "333.444.abc").Encode())
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	mac := hex.EncodeToString(m.Sum(nil))
	send := func(signature string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/slack/commands", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", signature)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, _ := send("v0=" + mac)
	require.Equal(t, 200, code)
	code, text := send("v0=" + strings.ToUpper(mac))
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, text, "replayed request")
	code, text = send("v0=" + mac[:len(mac)-1] + "g")
	assert.Equal(t, http.StatusUnauthorized, code, "not hex")
	assert.Contains(t, text, "invalid signature")
	wait(t, "the answer", func() bool { return count(f.ws, "ran `/example echo once`") == 1 })
	assert.Equal(t, 1, count(f.ws, "ran `/example echo once`"), "it ran once")
}

func TestRateLimitedWebAPICallIsRetried(t *testing.T) {
	f := newFixture(t, "")
	f.flaky.Store(1)
	require.Equal(t, 200, f.post(t, "/slack/commands", f.command("U0ALICE01", `echo "after a 429"`, "t-429")))
	wait(t, "the root message despite a 429", func() bool { return count(f.ws, "ran `/example echo \"after a 429\"`") == 1 })
	assert.Less(t, f.flaky.Load(), int32(0), "the first call was refused, the retry went through")
}

func TestUserGroupsAreResolvedForThePolicy(t *testing.T) {
	f := newFixture(t, "")
	f.ws.SetGroup("S0LEADS01", "U0CAROL01")
	require.Equal(t, 200, f.post(t, "/slack/commands", f.command("U0ALICE01", "counter add 2", "t-g1")))
	var id string
	wait(t, "the approval card", func() bool {
		for _, m := range f.ws.Messages() {
			if i := strings.Index(string(m.Blocks), `"value":"A`); i >= 0 && strings.Contains(string(m.Blocks), "approval_approve") {
				id = string(m.Blocks)[i+9 : i+17]
				return true
			}
		}
		return false
	})
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]string{"id": "T1"}, "user": map[string]string{"id": "U0CAROL01"},
		"channel": map[string]string{"id": "C1"}, "trigger_id": "t-g2", "response_url": f.ws.ResponseURL("C1", "U0CAROL01"),
		"actions": []map[string]string{{"type": "button", "action_id": "approval_approve", "block_id": "approval_actions", "value": id}}})
	require.Equal(t, 200, f.post(t, "/slack/interactions", url.Values{"payload": {string(payload)}}))
	// The card and the requester's waiting message both say so.
	wait(t, "carol's approval through her Slack user group", func() bool { return count(f.ws, "Approved and done") == 2 })
	assert.NotEmpty(t, f.ws.Calls("usergroups.users.list"))
}

func TestAppHome(t *testing.T) {
	f := newFixture(t, "")
	require.Equal(t, 200, f.post(t, "/slack/commands", f.command("U0ALICE01", `echo "for the record"`, "t-h1")))
	wait(t, "the echo", func() bool { return count(f.ws, "ran `/example echo \"for the record\"`") == 1 })
	require.Equal(t, 200, f.post(t, "/slack/commands", f.command("U0ALICE01", "counter add 1", "t-h2")))
	wait(t, "the card", func() bool { return count(f.ws, "approval_approve") == 1 })

	ev := `{"type":"event_callback","event_id":"Ev1","team_id":"T1","event":{"type":"app_home_opened","user":"U0ALICE01","channel":"D1","tab":"home"}}`
	body := []byte(ev)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/slack/events", bytes.NewReader(body))
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var home localapi.View
	wait(t, "the home tab", func() bool { var ok bool; home, ok = f.ws.Home("U0ALICE01"); return ok })
	s := string(home.View)
	assert.Contains(t, s, "Your desk")
	assert.Contains(t, s, "Your requests waiting for approval")
	assert.Contains(t, s, "/example counter add n=1")
	assert.Contains(t, s, "/example echo")
}

func TestURLVerificationChallenge(t *testing.T) {
	f := newFixture(t, "")
	body := []byte(`{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/slack/events", bytes.NewReader(body))
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", string(got))
}

func TestSocketModeRunsTheSameHandlers(t *testing.T) {
	f := newFixture(t, "xapp-1-test")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = f.adapter.RunSocketMode(ctx) }()
	wait(t, "the socket to connect", func() bool { return strings.Contains(f.logs.String(), "slack socket mode connected") })
	env, _ := json.Marshal(map[string]any{
		"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": true,
		"payload": map[string]string{"team_id": "T1", "channel_id": "C1", "user_id": "U0ALICE01", "command": "/example", "text": `echo "over a socket"`,
			"response_url": f.ws.ResponseURL("C1", "U0ALICE01"), "trigger_id": "t-s1"},
	})
	f.srv.SendToWebsocket(string(env))
	wait(t, "the command sent over Socket Mode", func() bool { return count(f.ws, "ran `/example echo \"over a socket\"`") == 1 })
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// BenchmarkSlashCommandAck measures the time from sending a signed slash
// command to its HTTP 200, at 200 commands a second, with the commands
// running behind it. Reported as p50 and p99 in milliseconds.
func BenchmarkSlashCommandAck(b *testing.B) {
	f := newFixture(b, "")
	tick := time.NewTicker(5 * time.Millisecond) // 200 per second
	defer tick.Stop()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		<-tick.C
		i++
		form := f.command("U0ALICE01", "echo bench", fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
		body := []byte(form.Encode())
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		m := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(m, "v0:%s:%s", ts, body)
		req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/slack/commands", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func TestAFailedPrivateAnswerLogsNoResponseURL(t *testing.T) {
	f := newFixture(t, "")
	// A response_url whose server is gone: the post fails with an error
	// that, as Go writes it, holds the whole address.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	const canary = "CANARYhook7731"
	hook := gone.URL + "/commands/T1/42/" + canary
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]string{"id": "T1"}, "user": map[string]string{"id": "U0CAROL01"},
		"channel": map[string]string{"id": "C1"}, "trigger_id": "t-u1", "response_url": hook,
		"actions": []map[string]string{{"type": "button", "action_id": "approval_approve", "block_id": "approval_actions", "value": "ANOSUCH1"}}})
	require.Equal(t, 200, f.post(t, "/slack/interactions", url.Values{"payload": {string(payload)}}))
	wait(t, "the failed private answer", func() bool { return strings.Contains(f.logs.String(), "could not answer privately") })
	assert.NotContains(t, f.logs.String(), canary)
	assert.Contains(t, f.logs.String(), "connection refused", "the cause is still logged")
}
