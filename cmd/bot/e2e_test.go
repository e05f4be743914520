package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// botCmd prepares bin/bot with the development defaults: the plugins
// next to it, data in a temporary working directory.
func botCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return botIn(t, workDir(t), args...)
}

// workDir is a working directory like a fresh clone's: the example policy
// in examples/, data/ made on first use.
func workDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "examples"), 0o755))
	testbin.Copy(t, filepath.Join(testbin.Root(), "examples", "policy.yaml"), filepath.Join(dir, "examples", "policy.yaml"))
	return dir
}

// botIn runs the bot in dir, so several runs share one data folder.
func botIn(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	bot := testbin.Bot(t)
	testbin.Plugin(t, "example")
	cmd := exec.Command(bot, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	return cmd
}

type result struct {
	code           int
	stdout, stderr string
}

func runBot(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

func TestExecRunsACommandThroughAPluginProcess(t *testing.T) {
	r := runBot(t, botCmd(t, "exec", "--as", "alice", `/example echo "hello from exec"`))
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "hello from exec")
}

func TestExecJSON(t *testing.T) {
	r := runBot(t, botCmd(t, "exec", "--as", "alice", "--json", "/example progress steps=2 delay=10ms"))
	require.Equal(t, 0, r.code, r.stderr)
	var out struct {
		Status   string                  `json:"status"`
		Progress []struct{ Percent int } `json:"progress"`
		Result   struct {
			Parts []struct{ KeyValues []struct{ Key, Value string } } `json:"Parts"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	assert.Equal(t, "ok", out.Status)
	assert.Len(t, out.Progress, 2)
	assert.Equal(t, "2", out.Result.Parts[0].KeyValues[0].Value)
}

func TestExecExitStatuses(t *testing.T) {
	cases := map[string]struct {
		cmd  string
		code int
		say  string
	}{
		"invalid":         {"/example ech hi", 2, "did you mean `echo`"},
		"unknown plugin":  {"/exampel help", 2, "did you mean `/example`"},
		"provider failed": {"/example fail reason=nope", 1, "nope"},
		"no such thing":   {"/example fail about=reason reason=there is no account nosuch", 2, "there is no account nosuch"},
		"no slash":        {"example help", 2, "commands start with a slash"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := runBot(t, botCmd(t, "exec", "--as", "alice", tc.cmd))
			assert.Equal(t, tc.code, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout, tc.say)
		})
	}
}

func TestExecDeadlineCancelsThePluginCall(t *testing.T) {
	// The deadline is real time, so it is generous: the call must reach
	// the plugin within it even on a loaded machine. Had the deadline not
	// held, the wait would have finished and exec would exit 0.
	r := runBot(t, botCmd(t, "exec", "--log-level", "info", "--as", "alice", "--timeout", "10s", "/example slow seconds=60"))
	assert.Equal(t, 5, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "did not answer in time")
	require.Contains(t, r.stderr, "slow call started", "the call reached the plugin before its deadline")
	// The plugin's own log line, forwarded into the bot's log, proves the
	// cancellation reached the plugin.
	assert.Contains(t, r.stderr, "slow call cancelled")
	assert.Contains(t, r.stderr, "plugin=example")
}

func TestExecCtrlCCancelsThePluginCall(t *testing.T) {
	cmd := botCmd(t, "exec", "--log-level", "info", "--as", "alice", "/example slow seconds=30")
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	// Wait until the plugin is running the call (it says so in the
	// bot's log), then interrupt.
	waitFor(t, func() bool { return strings.Contains(errb.String(), "slow call started") }, "the plugin never began the call")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "exec should exit non-zero: %v", err)
	assert.Equal(t, 5, ee.ExitCode(), "stdout: %s\nstderr: %s", out.String(), errb.String())
	assert.Contains(t, out.String(), "cancelled")
	assert.Contains(t, errb.String(), "the call to the Example provider was cancelled")
	// That the plugin itself saw the cancellation is asserted where it can
	// be waited for (pluginhost's TestCancellationReachesThePlugin): here
	// the bot exits at once, and a log line the plugin writes a moment
	// later may be cut off with it.
}

func TestConsoleHelpAndProgress(t *testing.T) {
	cmd := botCmd(t, "console", "--as", "alice")
	cmd.Stdin = strings.NewReader("/example help\n/example progress steps=3 delay=10ms\n:as bob\n/ops whoami\n:quit\n")
	r := runBot(t, cmd)
	require.Equal(t, 0, r.code, r.stderr)
	// Help lists the commands from Describe.
	assert.Contains(t, r.stdout, "`/example slow` Wait, honouring cancellation")
	assert.Contains(t, r.stdout, "`/example counter add` Add to the counter _(high risk)_")
	// Progress is printed live, before the result.
	i1 := strings.Index(r.stdout, "WORKING 33% step 1 of 3")
	i3 := strings.Index(r.stdout, "WORKING 100% step 3 of 3")
	iRes := strings.Index(r.stdout, "== /example progress")
	require.True(t, i1 >= 0 && i3 > i1 && iRes > i3, r.stdout)
	assert.Contains(t, r.stdout, "now acting as bob (U0BOB0001)")
	assert.Contains(t, r.stdout, "user id      U0BOB0001")
}

func TestPluginsExitWhenTheBotIsKilled(t *testing.T) {
	cmd := botCmd(t, "console", "--as", "alice")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	var kids []int
	waitFor(t, func() bool { kids = childPIDs(cmd.Process.Pid); return len(kids) > 0 }, "no plugin process started")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	waitFor(t, func() bool {
		for _, pid := range kids {
			if alive(pid) {
				return false
			}
		}
		return true
	}, "plugin processes outlived the bot")
}

func TestConfigRefusesInlineSecretsAndUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	inline := write("inline.yaml", `data_dir: data
plugins:
  dir: plugins
  list:
    - name: example
      sha256: "00"
      targets:
        - name: a
          secrets:
            token: xoxb-do-not-write-me
`)
	r := runBot(t, botCmd(t, "exec", "--config", inline, "--as", "alice", "/example help"))
	assert.Equal(t, 78, r.code, "a configuration error (EX_CONFIG)")
	assert.Contains(t, r.stderr, "secrets are not written in the configuration")
	assert.NotContains(t, r.stderr, "xoxb-do-not-write-me")

	typo := write("typo.yaml", "data_dir: data\nplugin_dir: x\n")
	r = runBot(t, botCmd(t, "exec", "--config", typo, "--as", "alice", "/example help"))
	assert.Equal(t, 78, r.code, "a configuration error (EX_CONFIG)")
	assert.Contains(t, r.stderr, typo+`:2: unknown key "plugin_dir" at the top level`)
}

func TestConfiguredSecretsReachThePluginOnlyThroughConfigure(t *testing.T) {
	dir := t.TempDir()
	cfg := config{Top: map[string]any{"policy": nil},
		Plugins: []installed{{Name: "example", Targets: []target{{Name: "main", Sandbox: true, Secrets: map[string]string{"api_key": "EXAMPLE_CRED"}}}}}}.write(t, dir)
	cmd := botCmd(t, "exec", "--config", cfg, "--as", "alice", "/example env name=EXAMPLE_CRED")
	cmd.Env = append(cmd.Env, "EXAMPLE_CRED=canary-key-9f8e7d")
	r := runBot(t, cmd)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `variable +EXAMPLE_CRED\s+state +absent`, r.stdout)

	// A secret echoed by a plugin is scrubbed before anyone sees it.
	cmd = botCmd(t, "exec", "--config", cfg, "--as", "alice", "/example echo canary-key-9f8e7d")
	cmd.Env = append(cmd.Env, "EXAMPLE_CRED=canary-key-9f8e7d")
	r = runBot(t, cmd)
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, "canary-key-9f8e7d")
	assert.Contains(t, r.stdout, "[REDACTED]")

	// A missing secret stops the bot at start, naming what is missing.
	r = runBot(t, botCmd(t, "exec", "--config", cfg, "--as", "alice", "/example help"))
	assert.Equal(t, 78, r.code, "a configuration error (EX_CONFIG)")
	assert.Contains(t, r.stderr, "environment variable EXAMPLE_CRED is not set")
}

func sha256Of(t *testing.T, path string) string {
	r := runBot(t, botCmd(t, "plugin", "sum", path))
	require.Equal(t, 0, r.code, r.stderr)
	return strings.Fields(r.stdout)[0]
}

// childPIDs lists the direct children of pid (Linux /proc).
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// A zombie is dead for our purposes: it only awaits reaping.
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

// waitFor waits for cond, bounded by testbin.Patience: the bound only
// turns a hang into a failure, and a loaded machine must not trip it.
func waitFor(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testbin.Patience)
	defer cancel()
	for ctx.Err() == nil {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal(msg)
}

// syncBuffer collects output several goroutines write while the test reads it.
type syncBuffer = testbin.Buffer

// Every plugin checks its targets' settings when the bot starts it: a
// misspelt or missing one leaves the plugin down, logged in the plugin's
// own words, before any command runs; its commands say the provider is
// unavailable (exit 5).
func TestEveryPluginRefusesAMisspeltOrMissingSetting(t *testing.T) {
	cases := []struct {
		plugin   string
		settings map[string]string
		secrets  map[string]string
		want     string
	}{
		{"example", map[string]string{"base_ur": "x"}, map[string]string{"api_key": "SECRET"}, "unknown setting base_ur (did you mean base_url?)"},
		{"example", map[string]string{}, map[string]string{"api_key": "SECRET"}, "setting base_url is required"},
		{"cln", map[string]string{"baseurl": "https://cln.example", "login": "r"}, map[string]string{"secret_key": "SECRET"}, "unknown setting baseurl (did you mean base_url?)"},
		{"cln", map[string]string{}, map[string]string{"secret_key": "SECRET"}, "setting login is required"},
		{"cloudflow", map[string]string{"base_url": "https://cloud.example", "usr": "desk"}, map[string]string{"api_key": "SECRET"}, "unknown setting usr (did you mean user?)"},
		{"ionos", map[string]string{"pol": "5s"}, map[string]string{"api_key": "SECRET"}, "unknown setting pol (did you mean poll?)"},
		{"ionos", map[string]string{}, nil, "secret api_key is required"},
		{"whm", map[string]string{"hots": "web01.example"}, map[string]string{"token": "SECRET"}, "unknown setting hots (did you mean host?)"},
		{"whm", map[string]string{"host": "web01.example", "port": "208700"}, map[string]string{"token": "SECRET"}, "setting port: "},
	}
	for _, tc := range cases {
		t.Run(tc.plugin+" "+tc.want, func(t *testing.T) {
			dir := workDir(t)
			cfg := config{Plugins: []installed{{Name: tc.plugin, Targets: []target{{Name: "main", Settings: tc.settings, Secrets: tc.secrets}}}}}.write(t, dir)
			cmd := botIn(t, dir, "exec", "--config", cfg, "--as", "alice", "/"+tc.plugin+" help")
			cmd.Env = append(cmd.Env, "SECRET=a-secret-value-123")
			r := runBot(t, cmd)
			assert.Equal(t, 5, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout, "provider is unavailable right now")
			assert.Contains(t, r.stderr, `plugin=`+tc.plugin)
			assert.Contains(t, r.stderr, `target \"main\": `+tc.want)
			assert.NotContains(t, r.stdout+r.stderr, "a-secret-value-123")
		})
	}
}

// A configuration the bot cannot start with exits 78 (EX_CONFIG), not
// as a failed command or an unavailable provider, whatever the command.
func TestABadConfigurationHasItsOwnExitStatus(t *testing.T) {
	dir := workDir(t)
	bad := filepath.Join(dir, "bot.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("data_dri: ./data\n"), 0o600))
	for name, args := range map[string][]string{
		"exec":    {"exec", "--config", bad, "--as", "alice", "/example echo hi"},
		"console": {"console", "--config", bad},
		"serve":   {"serve", "--config", bad},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := botIn(t, dir, args...)
			cmd.Stdin = strings.NewReader("")
			r := runBot(t, cmd)
			assert.Equal(t, 78, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, "bot: configuration:")
			assert.Contains(t, r.stderr, "data_dri")
		})
	}
}
