package pluginhost_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/sdk"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	host   *pluginhost.Host
	plugin *pluginhost.Plugin
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

func echo(t *testing.T, p *pluginhost.Plugin, text string) *sdk.Result {
	t.Helper()
	res, err := p.Execute(context.Background(), &sdk.Request{ID: "t-echo", Command: "echo", Args: sdk.Args{"text": text}}, nil)
	require.NoError(t, err)
	require.False(t, res.Failed(), "%v", res.Diagnostics)
	return res
}

func eventually(t *testing.T, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
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
	res, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "progress", Args: sdk.Args{"steps": int64(3), "delay": "10ms"}},
		func(p sdk.Progress) { got = append(got, p) })
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []int{33, 66, 100}, []int{got[0].Percent, got[1].Percent, got[2].Percent})
	assert.Equal(t, "step 3 of 3", got[2].Message)
	assert.Equal(t, "3", res.Parts[0].KeyValues[0].Value)

	assert.NotEmpty(t, f.plugin.Catalog())
	assert.Equal(t, "1.0.0", f.plugin.Metadata().Version)
	assert.Equal(t, "sandbox", f.plugin.DefaultTarget())
}

func TestCancellationReachesThePlugin(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := f.plugin.Execute(ctx, &sdk.Request{ID: "t-slow", Command: "slow", Args: sdk.Args{"seconds": int64(30)}}, nil)
	require.Error(t, err)
	assert.Less(t, time.Since(began), 5*time.Second, "the call must end at its deadline, not after 30 s")
	assert.Equal(t, apperr.Timeout, apperr.CodeOf(err))
	assert.Contains(t, apperr.Message(err), "plugin example did not answer in time")

	// The plugin itself logs that it saw the cancellation; its log line
	// arrives in the host's log tagged with the plugin name.
	eventually(t, 3*time.Second, func() bool {
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

	errc := make(chan error, 1)
	go func() {
		_, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "slow", Args: sdk.Args{"seconds": int64(30)}}, nil)
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))

	select {
	case err := <-errc:
		require.Error(t, err)
		assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
		assert.Contains(t, apperr.Message(err), "plugin example crashed during the call")
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not fail after the plugin was killed")
	}

	// The next call waits for the restarted plugin and succeeds.
	res := echo(t, f.plugin, "back again")
	assert.Equal(t, "back again", res.Parts[0].Text.Body)
	assert.NotEqual(t, pid, f.plugin.PID(), "a new process serves")
	state, _ := f.plugin.Status()
	assert.Equal(t, pluginhost.StateReady, state)
}

func TestCrashOnDemandIsReportedAndRecovered(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	_, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "crash"}, nil)
	require.Error(t, err)
	assert.Contains(t, apperr.Message(err), "plugin example crashed")
	echo(t, f.plugin, "still here")
}

func TestIdleCrashIsNoticedAndRestarted(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	pid := f.plugin.PID()
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	eventually(t, 5*time.Second, func() bool {
		st, _ := f.plugin.Status()
		return st == pluginhost.StateReady && f.plugin.PID() != pid && f.plugin.PID() != 0
	}, "the plugin was not restarted after dying idle")
	echo(t, f.plugin, "ok")
}

func TestHungPluginIsKilledAndRestarted(t *testing.T) {
	// The ping timeout is generous: on a loaded machine (the whole suite
	// under -race on two cores) a tight one can fail a healthy plugin's
	// ping before the SIGSTOP, and the call then goes to its replacement.
	f := start(t, pluginhost.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second}, exampleConfig(t))
	pid := f.plugin.PID()
	testbin.Stop(t, pid)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err := f.plugin.Execute(ctx, &sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}, nil)
	require.Error(t, err, "a stopped plugin cannot answer")
	assert.Contains(t, []apperr.Code{apperr.Timeout, apperr.Unavailable}, apperr.CodeOf(err))

	eventually(t, 10*time.Second, func() bool {
		st, _ := f.plugin.Status()
		return st == pluginhost.StateReady && f.plugin.PID() != pid
	}, "the hung plugin was not replaced")
	echo(t, f.plugin, "unstuck")
}

func TestMarkedDownAfterRepeatedFailures(t *testing.T) {
	f := start(t, pluginhost.Options{MaxFailures: 3, FailureWindow: time.Minute}, exampleConfig(t))
	for i := 0; i < 3; i++ {
		_, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "crash"}, nil)
		require.Error(t, err)
	}
	eventually(t, 5*time.Second, func() bool {
		st, _ := f.plugin.Status()
		return st == pluginhost.StateDown
	}, "plugin not marked down")
	_, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}, nil)
	require.Error(t, err)
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
	assert.Contains(t, apperr.Message(err), "plugin example is down")

	// An operator can bring it back.
	f.plugin.Restart()
	echo(t, f.plugin, "revived")
}

func TestChecksumMismatchIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.SHA256 = strings.Repeat("ab", 32)
	h := pluginhost.New(pluginhost.Options{Dir: testbin.PluginDir(t), Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	err := h.Start(context.Background(), []pluginhost.Config{cfg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "plugin example")
	assert.Contains(t, err.Error(), "refusing to start")
	assert.Contains(t, err.Error(), "configuration expects "+cfg.SHA256)
	_, ok := h.Get("example")
	assert.False(t, ok, "a refused plugin is not registered")
}

func TestTamperedBinaryIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	dir := t.TempDir()
	testbin.Copy(t, testbin.Plugin(t, "example"), filepath.Join(dir, "example"))
	f, err := os.OpenFile(filepath.Join(dir, "example"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.Write([]byte("tampered"))
	require.NoError(t, f.Close())
	h := pluginhost.New(pluginhost.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	err = h.Start(context.Background(), []pluginhost.Config{cfg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing to start")
}

func TestPathOutsidePluginDirIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	dir := t.TempDir()
	for _, path := range []string{"../example", testbin.Plugin(t, "example")} {
		cfg.Path = path
		h := pluginhost.New(pluginhost.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
		err := h.Start(context.Background(), []pluginhost.Config{cfg})
		require.Error(t, err, path)
	}
	// A symlink out of the directory is refused too.
	require.NoError(t, os.Symlink(testbin.Plugin(t, "example"), filepath.Join(dir, "example")))
	cfg.Path = "example"
	h := pluginhost.New(pluginhost.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	err := h.Start(context.Background(), []pluginhost.Config{cfg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside the plugin directory")
}

func TestPluginDoesNotSeeTheBotsEnvironment(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-canary-env-1234")
	cfg := exampleConfig(t)
	cfg.Env = map[string]string{"DESKBOT_EXAMPLE_SETTING": "on"}
	f := start(t, pluginhost.Options{}, cfg)
	env := func(name string) string {
		res, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "env", Args: sdk.Args{"name": name}}, nil)
		require.NoError(t, err)
		return res.Parts[0].KeyValues[0].Value
	}
	assert.Equal(t, "absent", env("SLACK_BOT_TOKEN"))
	assert.Equal(t, "set", env("DESKBOT_EXAMPLE_SETTING"), "the explicit environment is passed")
	assert.Equal(t, "set", env("PATH"))
}

func TestWrongPluginNameIsRefused(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.Name = "whm"
	h := pluginhost.New(pluginhost.Options{Dir: testbin.PluginDir(t), Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	err := h.Start(context.Background(), []pluginhost.Config{cfg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the executable is plugin "example", not "whm"`)
}

func TestBadTargetConfigurationStopsStart(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.Targets = []sdk.Target{{Name: "a"}, {Name: "a"}}
	h := pluginhost.New(pluginhost.Options{Dir: testbin.PluginDir(t), Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	err := h.Start(context.Background(), []pluginhost.Config{cfg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `target "a" configured twice`)
}

func TestCallsInFlightDuringCloseEnd(t *testing.T) {
	f := start(t, pluginhost.Options{}, exampleConfig(t))
	errc := make(chan error, 1)
	go func() {
		_, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "slow", Args: sdk.Args{"seconds": int64(30)}}, nil)
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, f.host.Close())
	select {
	case err := <-errc:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("call still running after Close")
	}
	_, err := f.plugin.Execute(context.Background(), &sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}, nil)
	require.True(t, errors.Is(err, err))
	assert.Contains(t, apperr.Message(err), "stopped")
}
