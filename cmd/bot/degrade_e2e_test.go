package main_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/chat/slack/localapi"
)

// tamper appends to an installed plugin, so that it no longer matches the
// pin the configuration holds.
func tamper(t *testing.T, dir, plugin string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "plugins", plugin), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("tampered")
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// servePlugins runs bot serve with the plugins given, talking to a
// slacktest server, after broken (if set) has tampered with what is
// installed; it returns once the bot says where it listens, ready or not.
func servePlugins(t *testing.T, plugins []installed, broken func(dir string)) (*slackBot, *syncBuffer) {
	t.Helper()
	ws := localapi.New()
	srv := slacktest.NewTestServer(func(c slacktest.Customize) { ws.Bind(c) })
	srv.Start()
	t.Cleanup(srv.Stop)
	ws.BaseURL = srv.GetAPIURL()

	dir := workDir(t)
	cfg := config{Plugins: plugins, Top: map[string]any{"listen": "127.0.0.1:0", "slack": map[string]any{
		"signing_secret": env("TEST_SLACK_SIGNING_SECRET"), "bot_token": env("TEST_SLACK_BOT_TOKEN"), "api_url": srv.GetAPIURL()}}}.write(t, dir)
	if broken != nil {
		broken(dir)
	}
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
	return &slackBot{t: t, ws: ws, base: base, dir: dir}, logs
}

// get returns a GET's status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	r, err := http.Get(url)
	require.NoError(t, err)
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return r.StatusCode, string(b)
}

func sandboxPlugin(dir, name string) installed {
	return installed{Name: name, Targets: []target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(dir, "state", name)}}}
}

// One plugin whose pin is wrong leaves only its own provider unavailable:
// bot serve starts, the other provider answers, /readyz answers 200 and
// names the broken plugin, and an admin's /ops policy status says which
// plugin is down and why.
func TestServeDegradesWhenOnePluginFailsItsPin(t *testing.T) {
	state := t.TempDir()
	b, logs := servePlugins(t, []installed{sandboxPlugin(state, "example"), sandboxPlugin(state, "whm")},
		func(dir string) { tamper(t, dir, "whm") })

	var code int
	var body string
	waitFor(t, func() bool {
		code, body = get(t, b.base+"/readyz")
		return code == http.StatusOK
	}, "the bot never became ready with one plugin down")
	assert.True(t, strings.HasPrefix(body, "degraded: plugin whm down: refusing to start "), body)
	assert.Contains(t, body, "but the configuration expects")
	assert.NotContains(t, body, "plugin example", "the plugin that serves is not listed")
	code, _ = get(t, b.base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	_, metrics := get(t, b.base+"/metrics")
	assert.Contains(t, metrics, `deskbot_plugin_up{plugin="whm"} 0`)
	assert.Contains(t, metrics, `deskbot_plugin_up{plugin="example"} 1`)

	// The other provider answers.
	code, body, _ = b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/example", "echo degraded-but-serving"), 0, false)
	require.Equal(t, 200, code, body)
	root := b.waitMessage("the example provider's answer", func(m localapi.Message) bool {
		return contains(m, "ran `/example echo degraded-but-serving`")
	})
	b.waitMessage("the echo in the thread", func(m localapi.Message) bool {
		return m.ThreadTS == root.TS && contains(m, "degraded-but-serving")
	})

	// The broken one is unavailable, not unknown, and says nothing of why.
	code, body, _ = b.post("/slack/commands", b.command("U0ALICE01", "C0SUPPORT", "/whm", "account list"), 0, false)
	require.Equal(t, 200, code, body)
	unavailable := b.waitMessage("the WHM provider's refusal", func(m localapi.Message) bool {
		return contains(m, "the WHM provider is unavailable right now")
	})
	for _, internal := range []string{"sha256", "refusing", "plugins/whm", "no /whm command"} {
		assert.False(t, contains(unavailable, internal), "a user is not shown %q", internal)
	}

	// An admin sees which plugin is down, and why.
	code, body, _ = b.post("/slack/commands", b.command("U0ERIN001", "C0SUPPORT", "/ops", "policy status"), 0, false)
	require.Equal(t, 200, code, body)
	status := b.waitMessage("/ops policy status", func(m localapi.Message) bool { return contains(m, "Plugins not serving") })
	assert.True(t, contains(status, "whm"), "%s\n%s", status.Text, status.Blocks)
	assert.True(t, contains(status, "down"), "%s\n%s", status.Text, status.Blocks)
	assert.True(t, contains(status, "refusing to start"), "%s\n%s", status.Text, status.Blocks)
	assert.NotContains(t, string(status.Blocks), `"text":"example"`, "only the plugin that is down is listed")

	// The log says it is down, on which try, and when it is tried next.
	assert.Contains(t, logs.String(), `msg="plugin down: its provider is unavailable until a retry succeeds" plugin=whm attempt=1 next_retry_in=1s`)
	assert.NotContains(t, logs.String(), "xoxb-test-canary-token")
}

// With every plugin down the bot still serves, so that its probes say
// what is wrong: /readyz answers 503 naming the plugin; bot exec with the
// provider that is down fails with the reason users are given and exit 5.
func TestServeWithEveryPluginDownIsNotReady(t *testing.T) {
	state := t.TempDir()
	b, _ := servePlugins(t, []installed{sandboxPlugin(state, "example")}, func(dir string) { tamper(t, dir, "example") })

	code, body := get(t, b.base+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	assert.Contains(t, body, "no plugin is ready\n")
	assert.Contains(t, body, "plugin example down: refusing to start ")
	code, _ = get(t, b.base+"/healthz")
	assert.Equal(t, http.StatusOK, code, "the process serves")

	r := runBot(t, botIn(t, b.dir, "exec", "--config", filepath.Join(b.dir, "bot.yaml"), "--as", "alice", "/example echo hi"))
	assert.Equal(t, 5, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "the Example provider is unavailable right now")
	assert.NotContains(t, r.stdout, "no /example command")
}
