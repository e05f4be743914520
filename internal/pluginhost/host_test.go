package pluginhost_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/testbin"
	exampleprovider "github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// syncBuffer collects output several goroutines write while the test reads it.
type syncBuffer = testbin.Buffer

type fixture struct {
	host   *pluginhost.Host
	plugin *pluginhost.Process
	logs   *syncBuffer
}

func exampleConfig(t *testing.T) pluginhost.Config {
	bin := testbin.Plugin(t, "example")
	sum, err := pluginhost.FileSHA256(bin)
	require.NoError(t, err)
	return pluginhost.Config{
		Name:    "example",
		Path:    "example",
		SHA256:  sum,
		Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}},
	}
}

func start(t *testing.T, opts pluginhost.Options, cfg pluginhost.Config) *fixture {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Dir == "" {
		opts.Dir = testbin.PluginDir(t)
	}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := pluginhost.New(opts)
	require.NoError(t, h.Start(context.Background(), []pluginhost.Config{cfg}))
	t.Cleanup(func() { h.Close() })
	p, ok := h.Get("example")
	require.True(t, ok)
	return &fixture{host: h, plugin: p, logs: logs}
}

func echo(t *testing.T, p *pluginhost.Process, text string) *sdk.Result {
	t.Helper()
	res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{ID: "t-echo", Command: "echo", Args: sdk.Args{"text": text}}})
	require.NoError(t, err)
	require.False(t, res.Failed(), "%v", res.Diagnostics)
	return res
}

// eventually waits for cond, bounded by testbin.Patience: the bound only
// turns a hang into a failure.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(testbin.Patience)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(msg)
}

func TestExecuteAndProgressThroughProcess(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	res := echo(t, f.plugin, "hello over gRPC")
	assert.Equal(t, "hello over gRPC", res.Parts[0].Text.Body)

	var got []sdk.Progress
	res, err := f.plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "progress", Args: sdk.Args{"steps": int64(3), "delay": "10ms"}}, Progress: func(p sdk.Progress) { got = append(got, p) }})
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []int{33, 66, 100}, []int{got[0].Percent, got[1].Percent, got[2].Percent})
	assert.Equal(t, "step 3 of 3", got[2].Message)
	assert.Equal(t, "3", res.Parts[0].KeyValues[0].Value)

	assert.NotEmpty(t, f.plugin.Catalog())
	assert.Equal(t, "1.0.0", f.plugin.Metadata().Version)
	assert.Equal(t, "sandbox", f.plugin.DefaultTarget())
}

// A command the catalog marks NoProgress (the example's echo) runs as one
// call; the caller's progress function is never called, and the command
// still gets the request as sent.
func TestACommandThatReportsNoProgressRunsWithoutAStream(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	var told []sdk.Progress
	for _, text := range []string{"one", "two"} {
		res, err := f.plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{ID: "t-" + text, Command: "echo", Args: sdk.Args{"text": text}},
			Progress: func(p sdk.Progress) { told = append(told, p) }})
		require.NoError(t, err)
		require.False(t, res.Failed(), "%v", res.Diagnostics)
		assert.Equal(t, text, res.Parts[0].Text.Body)
	}
	assert.Empty(t, told)
	assert.Equal(t, sdk.ProtocolMinor, f.plugin.Metadata().ProtocolMinor)
}

// slowCall starts the example's slow command in the background and
// returns once the plugin says the wait has begun; the channel yields the
// call's error.
func slowCall(t *testing.T, ctx context.Context, p *pluginhost.Process, id string) <-chan error {
	t.Helper()
	started := make(chan struct{})
	var once sync.Once
	errc := make(chan error, 1)
	go func() {
		_, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: id, Command: "slow", Args: sdk.Args{"seconds": int64(3600)}}, Progress: func(sdk.Progress) { once.Do(func() { close(started) }) }})
		errc <- err
	}()
	select {
	case <-started:
	case err := <-errc:
		t.Fatalf("the slow call ended before it began waiting: %v", err)
	case <-time.After(testbin.Patience):
		t.Fatal("the slow call never began")
	}
	return errc
}

// ended waits for a call's error; the call must end well before its hour.
func ended(t *testing.T, errc <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(testbin.Patience):
		t.Fatal(what)
		return nil
	}
}

func TestCancellationReachesThePlugin(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	// The deadline passes once the plugin is waiting, never before.
	ctx, deadline := testbin.CueDeadline(context.Background())
	errc := slowCall(t, ctx, f.plugin, "t-slow")
	deadline()
	err := ended(t, errc, "the call did not end at its deadline")
	require.Error(t, err)
	assert.Equal(t, apperr.Timeout, apperr.CodeOf(err))
	assert.Contains(t, apperr.Message(err), "the Example provider did not answer in time")

	// The plugin itself logs that it saw the cancellation; its log line
	// arrives in the host's log tagged with the plugin name.
	eventually(t, func() bool {
		for _, line := range strings.Split(f.logs.String(), "\n") {
			if strings.Contains(line, `"slow call cancelled"`) && strings.Contains(line, `"plugin":"example"`) && strings.Contains(line, `"request_id":"t-slow"`) {
				return true
			}
		}
		return false
	}, "the plugin's 'slow call cancelled' log line never reached the host log:\n"+f.logs.String())
}

func TestSIGKILLDuringACallFailsItAndTheNextCallSucceeds(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	pid := f.plugin.PID()
	require.NotZero(t, pid)

	errc := slowCall(t, context.Background(), f.plugin, "t-killed")
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	err := ended(t, errc, "the call did not fail after the plugin was killed")
	require.Error(t, err)
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
	assert.Contains(t, apperr.Message(err), "the Example provider crashed during the call")

	// The next call waits for the restarted plugin and succeeds.
	res := echo(t, f.plugin, "back again")
	assert.Equal(t, "back again", res.Parts[0].Text.Body)
	assert.NotEqual(t, pid, f.plugin.PID(), "a new process serves")
	state, _ := f.plugin.Status()
	assert.Equal(t, pluginhost.StateReady, state)
}

func TestCrashOnDemandIsReportedAndRecovered(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	_, err := f.plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "crash"}})
	require.Error(t, err)
	assert.Contains(t, apperr.Message(err), "the Example provider crashed")
	echo(t, f.plugin, "still here")
}

func TestIdleCrashIsNoticedAndRestarted(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	pid := f.plugin.PID()
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	eventually(t, func() bool {
		st, _ := f.plugin.Status()
		return st == pluginhost.StateReady && f.plugin.PID() != pid && f.plugin.PID() != 0
	}, "the plugin was not restarted after dying idle")
	echo(t, f.plugin, "ok")
}

func TestHungPluginIsKilledAndRestarted(t *testing.T) {
	// Only a ping that goes unanswered can tell a hung plugin, so this
	// test keeps wall-clock supervision. The ping timeout is generous: a
	// healthy plugin on a loaded machine (the whole suite under -race
	// with every core busy) must not fail it before the SIGSTOP, or the
	// call would go to its replacement.
	f := start(t, pluginhost.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 5 * time.Second}, exampleConfig(t))
	pid := f.plugin.PID()
	testbin.Stop(t, pid)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	// The call cannot be answered; its deadline passes while it waits.
	ctx, deadline := testbin.CueDeadline(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := f.plugin.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}})
		errc <- err
	}()
	deadline()
	err := ended(t, errc, "a call to the stopped plugin did not end at its deadline")
	require.Error(t, err, "a stopped plugin cannot answer")
	assert.Contains(t, []apperr.Code{apperr.Timeout, apperr.Unavailable}, apperr.CodeOf(err))

	eventually(t, func() bool {
		st, _ := f.plugin.Status()
		return st == pluginhost.StateReady && f.plugin.PID() != pid
	}, "the hung plugin was not replaced")
	echo(t, f.plugin, "unstuck")
}

func TestMarkedDownAfterRepeatedFailures(t *testing.T) {
	// The first crash is restarted at once; the second in the window
	// marks the plugin down, to be tried again after RetryMin (an hour
	// here, so that only the operator's restart brings it back).
	f := start(t, pluginhost.Options{MaxFailures: 2, FailureWindow: time.Hour, RetryMin: time.Hour}, exampleConfig(t))
	for i := 0; i < 2; i++ {
		_, err := f.plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "crash"}})
		require.Error(t, err)
	}
	eventually(t, func() bool {
		st, _ := f.plugin.Status()
		return st == pluginhost.StateDown
	}, "plugin not marked down")
	_, err := f.plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}})
	require.Error(t, err)
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
	assert.Contains(t, apperr.Message(err), "the Example provider is unavailable right now")
	_, last := f.plugin.Status()
	assert.ErrorContains(t, last, "it failed 2 times within 1h0m0s")
	in := f.plugin.Info()
	assert.Equal(t, 1, in.Attempt)
	assert.False(t, in.RetryAt.IsZero(), "a plugin that is down says when it is tried next")
	down := logLines(t, f.logs, "plugin down: its provider is unavailable until a retry succeeds")
	require.Len(t, down, 1, f.logs.String())
	assert.Equal(t, float64(1), down[0]["attempt"])
	assert.Equal(t, float64(time.Hour), down[0]["next_retry_in"])

	// An operator can bring it back.
	f.plugin.Restart()
	echo(t, f.plugin, "revived")
}

// startDown starts a host whose one plugin is expected to fail: Start
// still succeeds, and the plugin is down with the reason. RetryMin is an
// hour, so that it stays down for the test.
func startDown(t *testing.T, dir string, cfg pluginhost.Config) (*pluginhost.Process, error) {
	t.Helper()
	h := pluginhost.New(pluginhost.Options{Dir: dir, RetryMin: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, h.Start(context.Background(), []pluginhost.Config{cfg}), "a plugin that fails does not fail the host")
	t.Cleanup(func() { h.Close() })
	p, ok := h.Get(cfg.Name)
	require.True(t, ok, "a plugin that failed is still registered, down")
	st, err := p.Status()
	require.Equal(t, pluginhost.StateDown, st)
	require.Error(t, err)
	return p, err
}

func TestChecksumMismatchIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.SHA256 = strings.Repeat("ab", 32)
	p, err := startDown(t, testbin.PluginDir(t), cfg)
	assert.Contains(t, err.Error(), "refusing to start")
	assert.Contains(t, err.Error(), "configuration expects "+cfg.SHA256)
	assert.Zero(t, p.PID(), "no process runs")
	assert.Empty(t, p.Catalog())
	_, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}})
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
	assert.Equal(t, "the example provider is unavailable right now; the bot keeps trying to bring it back and its operators can see why", apperr.Message(err))
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(p.Unavailable()))
}

func TestTamperedBinaryIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	dir := t.TempDir()
	testbin.Copy(t, testbin.Plugin(t, "example"), filepath.Join(dir, "example"))
	f, err := os.OpenFile(filepath.Join(dir, "example"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.Write([]byte("tampered"))
	require.NoError(t, f.Close())
	_, err = startDown(t, dir, cfg)
	assert.Contains(t, err.Error(), "refusing to start")
}

func TestPathOutsidePluginDirIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	dir := t.TempDir()
	for _, path := range []string{"../example", testbin.Plugin(t, "example")} {
		cfg.Path = path
		_, err := startDown(t, dir, cfg)
		assert.Error(t, err, path)
	}
	// A symlink out of the directory is refused too.
	require.NoError(t, os.Symlink(testbin.Plugin(t, "example"), filepath.Join(dir, "example")))
	cfg.Path = "example"
	_, err := startDown(t, dir, cfg)
	assert.Contains(t, err.Error(), "outside the plugin directory")
}

func TestPluginDoesNotSeeTheBotsEnvironment(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-canary-env-1234")
	cfg := exampleConfig(t)
	cfg.Env = map[string]string{"DESKBOT_EXAMPLE_SETTING": "on"}
	f := start(t, pluginhost.Options{}, cfg)
	env := func(name string) string {
		res, err := f.plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "env", Args: sdk.Args{"name": name}}})
		require.NoError(t, err)
		return res.Parts[0].KeyValues[1].Value
	}
	assert.Equal(t, "absent", env("SLACK_BOT_TOKEN"))
	assert.Equal(t, "set", env("DESKBOT_EXAMPLE_SETTING"), "the explicit environment is passed")
	assert.Equal(t, "set", env("PATH"))
}

func TestWrongPluginNameIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.Name = "whm"
	p, err := startDown(t, testbin.PluginDir(t), cfg)
	assert.Contains(t, err.Error(), `the executable is plugin "example", not "whm"`)
	assert.Zero(t, p.PID(), "the wrong plugin's process does not stay")
}

func TestBadTargetConfigurationLeavesThePluginDown(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.Targets = []sdk.Target{{Name: "a"}, {Name: "a"}}
	_, err := startDown(t, testbin.PluginDir(t), cfg)
	assert.Contains(t, err.Error(), `target "a" configured twice`)
}

func TestAPluginConfiguredTwiceIsAnError(t *testing.T) {
	cfg := exampleConfig(t)
	h := pluginhost.New(pluginhost.Options{Dir: testbin.PluginDir(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	err := h.Start(context.Background(), []pluginhost.Config{cfg, cfg})
	assert.EqualError(t, err, `plugin "example" configured twice`)
	assert.Empty(t, h.Processes(), "nothing is started")
}

func TestCallsInFlightDuringCloseEnd(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	errc := slowCall(t, context.Background(), f.plugin, "t-close")
	require.NoError(t, f.host.Close())
	require.Error(t, ended(t, errc, "call still running after Close"))
	_, err := f.plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}})
	require.True(t, errors.Is(err, err))
	assert.Contains(t, apperr.Message(err), "stopped")
}

// A plugin served by hand (under a debugger) is attached to, not started.
func TestAttachesToAPluginServedByHand(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- sdk.Serve(exampleprovider.New(), sdk.WithDebug(ctx, w)) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	require.NoError(t, err)
	name, value, ok := strings.Cut(strings.TrimSpace(line), "=")
	require.True(t, ok, line)
	assert.Equal(t, sdk.ReattachEnv("example"), name)
	rc, err := sdk.ParseReattach(strings.Trim(value, "'"))
	require.NoError(t, err)

	h := pluginhost.New(pluginhost.Options{Dir: t.TempDir(), Reattach: map[string]*plugin.ReattachConfig{"example": rc},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, h.Start(context.Background(), []pluginhost.Config{{Name: "example", Path: "example", Targets: []sdk.Target{{Name: "main", Sandbox: true}}}}))
	p, ok := h.Get("example")
	require.True(t, ok)
	assert.Equal(t, "attached", echo(t, p, "attached").Parts[0].Text.Body)
	require.NoError(t, h.Close())
	cancel()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(testbin.Patience):
		t.Fatal("the plugin served by hand did not stop when its context ended")
	}

	_, err = sdk.ParseReattach(`{"pid": 1}`)
	assert.ErrorContains(t, err, "network, addr and pid are required")
}

// A plugin that crashes and whose executable no longer matches its
// digest is marked down. Users are told the provider is unavailable, and
// nothing of where it runs from: the path and the digests go to the log
// and to Info, for /ops plugins.
func TestADownPluginsUsersSeeNoPathOrDigest(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.DisplayName = "Example"
	dir := t.TempDir()
	bin := filepath.Join(dir, "example")
	testbin.Copy(t, testbin.Plugin(t, "example"), bin)
	logs := &syncBuffer{}
	h := pluginhost.New(pluginhost.Options{Dir: dir, MaxFailures: 2, FailureWindow: time.Hour,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, h.Start(context.Background(), []pluginhost.Config{cfg}))
	t.Cleanup(func() { h.Close() })
	p, _ := h.Get("example")

	// The executable is replaced under the running plugin (a rename: the
	// running file cannot be written); then the plugin crashes, and its
	// restart is refused.
	b, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin+".new", append(b, "tampered"...), 0o755))
	require.NoError(t, os.Rename(bin+".new", bin))
	tampered, err := pluginhost.FileSHA256(bin)
	require.NoError(t, err)
	_, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "crash"}})
	require.Error(t, err)
	eventually(t, func() bool { st, _ := p.Status(); return st == pluginhost.StateDown }, "plugin not marked down")

	_, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}})
	require.Error(t, err)
	msg := apperr.Message(err)
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
	assert.Contains(t, msg, "the Example provider is unavailable right now")
	for _, internal := range []string{dir, "/example", cfg.SHA256, tampered, "sha256", "refusing"} {
		assert.NotContains(t, msg, internal, "users are not shown %q", internal)
	}

	in := p.Info()
	assert.Equal(t, pluginhost.StateDown, in.State)
	assert.Contains(t, in.Path, "example")
	assert.Equal(t, cfg.SHA256, in.SHA256)
	assert.Contains(t, in.LastFailure, "refusing to start")
	assert.Contains(t, in.LastFailure, tampered)
	assert.False(t, in.LastFailureAt.IsZero())
	assert.Contains(t, logs.String(), tampered, "the log has the whole failure")
}
