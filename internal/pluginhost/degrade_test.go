package pluginhost_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/sdk"
)

// logLines returns the JSON log lines whose message is msg.
func logLines(t *testing.T, logs *syncBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

const downMsg = "plugin down: its provider is unavailable until a retry succeeds"

// states records the last state OnStateChange told of each plugin, as the
// metrics gauge does.
type states struct {
	mu   sync.Mutex
	last map[string]pluginhost.State
}

func (s *states) record(name string, st pluginhost.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]pluginhost.State{}
	}
	s.last[name] = st
}

func (s *states) of(name string) (pluginhost.State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.last[name]
	return st, ok
}

// One plugin whose pin is wrong leaves only its own provider unavailable:
// the host starts, the other plugin serves, and the broken one is down
// with its reason, told as down to the metrics though it never started.
func TestABadPinLeavesTheOtherPluginsServing(t *testing.T) {
	good := exampleConfig(t)
	// The plugin the pin refuses never runs, so it may be any name.
	bad := pluginhost.Config{Name: "whm", DisplayName: "WHM", Path: "example", SHA256: strings.Repeat("0f", 32),
		Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}}}
	logs := &syncBuffer{}
	seen := &states{}
	h := pluginhost.New(pluginhost.Options{Dir: testbin.PluginDir(t), RetryMin: time.Hour, OnStateChange: seen.record,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, h.Start(context.Background(), []pluginhost.Config{bad, good}))
	t.Cleanup(func() { h.Close() })

	ex, ok := h.Get("example")
	require.True(t, ok)
	assert.Equal(t, "still here", echo(t, ex, "still here").Parts[0].Text.Body)

	whm, ok := h.Get("whm")
	require.True(t, ok, "the broken plugin is registered, down")
	st, err := whm.Status()
	assert.Equal(t, pluginhost.StateDown, st)
	assert.ErrorContains(t, err, "configuration expects "+bad.SHA256)
	_, err = whm.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "account list"}})
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
	assert.Contains(t, apperr.Message(err), "the WHM provider is unavailable right now")
	assert.NotContains(t, apperr.Message(err), bad.SHA256)

	down := logLines(t, logs, downMsg)
	require.Len(t, down, 1, logs.String())
	assert.Equal(t, "whm", down[0]["plugin"])
	assert.Equal(t, "WARN", down[0]["level"])
	assert.Contains(t, down[0]["error"], "refusing to start")

	eventually(t, func() bool {
		w, okW := seen.of("whm")
		e, okE := seen.of("example")
		return okW && okE && w == pluginhost.StateDown && e == pluginhost.StateReady
	}, "the state changes were not told: a plugin that never started must be reported down")
}

// A plugin whose binary fails its pin is tried again with a wait that
// doubles up to RetryMax, each try logged; once the right binary is in
// place, the next try brings it back, and that is logged too.
func TestADownPluginIsRetriedWithBackoffAndComesBackWhenFixed(t *testing.T) {
	cfg := exampleConfig(t) // pinned to the real binary
	dir := t.TempDir()
	bin := filepath.Join(dir, "example")
	real, err := os.ReadFile(testbin.Plugin(t, "example"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, append(append([]byte(nil), real...), "tampered"...), 0o755))

	logs := &syncBuffer{}
	const first, most = 2 * time.Millisecond, 8 * time.Millisecond
	h := pluginhost.New(pluginhost.Options{Dir: dir, RetryMin: first, RetryMax: most,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, h.Start(context.Background(), []pluginhost.Config{cfg}))
	t.Cleanup(func() { h.Close() })
	p, _ := h.Get("example")

	// Wait for five failed tries, whatever time they take.
	eventually(t, func() bool { return len(logLines(t, logs, downMsg)) >= 5 }, "the plugin was not tried again:\n"+logs.String())
	_, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "echo", Args: sdk.Args{"text": "x"}}})
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err), "calls fail at once while it is down")

	down := logLines(t, logs, downMsg)[:5]
	want := []time.Duration{first, 2 * first, most, most, most}
	for i, line := range down {
		assert.Equal(t, float64(i+1), line["attempt"], "attempts are numbered")
		assert.Equal(t, float64(want[i]), line["next_retry_in"], "attempt %d", i+1)
		assert.Contains(t, line["error"], "refusing to start")
	}
	assert.Empty(t, logLines(t, logs, "plugin is back"))

	// The right binary is put in place (a rename, as a package manager does).
	require.NoError(t, os.WriteFile(bin+".new", real, 0o755))
	require.NoError(t, os.Rename(bin+".new", bin))
	eventually(t, func() bool { st, _ := p.Status(); return st == pluginhost.StateReady }, "the fixed plugin did not come back:\n"+logs.String())
	assert.Equal(t, "back", echo(t, p, "back").Parts[0].Text.Body)
	back := logLines(t, logs, "plugin is back: its provider serves again")
	require.Len(t, back, 1, logs.String())
	assert.Equal(t, "INFO", back[0]["level"])
	assert.GreaterOrEqual(t, back[0]["failed_tries"], float64(5))
	in := p.Info()
	assert.True(t, in.RetryAt.IsZero(), "a plugin that serves has no retry due")
	assert.NotEmpty(t, p.Catalog(), "its catalog is known once it has started")
}
