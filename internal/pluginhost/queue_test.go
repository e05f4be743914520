package pluginhost_test

import (
	"context"
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

type callOutcome struct {
	res *sdk.Result
	err error
}

// queuedCall starts the example's queued command and returns once the
// plugin has reported being queued.
func queuedCall(t *testing.T, p *pluginhost.Process) (<-chan callOutcome, *[]sdk.Progress, *sync.Mutex) {
	t.Helper()
	var mu sync.Mutex
	var seen []sdk.Progress
	queued := make(chan struct{})
	var once sync.Once
	out := make(chan callOutcome, 1)
	go func() {
		res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{ID: "t-queued", Command: "queued"},
			Progress: func(pg sdk.Progress) {
				mu.Lock()
				seen = append(seen, pg)
				mu.Unlock()
				if pg.State == sdk.ProgressQueued {
					once.Do(func() { close(queued) })
				}
			}})
		out <- callOutcome{res, err}
	}()
	select {
	case <-queued:
	case o := <-out:
		t.Fatalf("the queued call ended before it reported being queued: %v", o.err)
	case <-time.After(testbin.Patience):
		t.Fatal("the queued call never reported being queued")
	}
	return out, &seen, &mu
}

// Time a call reports as queued behind the provider's limit does not count
// against CallTimeout: a call queued for longer than CallTimeout that then
// answers at once is not cut off, and the plugin's ctx deadline moves on
// by the wait too.
func TestQueuedTimeDoesNotCountAgainstTheCallTimeout(t *testing.T) {
	cfg := exampleConfig(t)
	// Room for a busy machine: after its release the call has the whole
	// CallTimeout to answer.
	cfg.CallTimeout = 5 * time.Second
	release := filepath.Join(t.TempDir(), "release")
	cfg.Env = map[string]string{"EXAMPLE_QUEUE_RELEASE": release}
	f := start(t, pluginhost.Options{}, cfg)
	echo(t, f.plugin, "warm") // the plugin is up: the call's own time is spent only answering

	begin := time.Now()
	out, seen, mu := queuedCall(t, f.plugin)
	// The wait is a lower bound only: a slower machine waits longer, which
	// the test means anyway.
	wait := cfg.CallTimeout + time.Second
	select {
	case o := <-out:
		t.Fatalf("the call ended while it was queued: %v", o.err)
	case <-time.After(wait):
	}
	require.NoError(t, os.WriteFile(release, nil, 0o600))
	var o callOutcome
	select {
	case o = <-out:
	case <-time.After(testbin.Patience):
		t.Fatal("the released call never answered")
	}
	require.NoError(t, o.err)
	require.False(t, o.res.Failed(), "%v", o.res.Diagnostics)
	dl, err := time.Parse(time.RFC3339Nano, o.res.Parts[0].KeyValues[0].Value)
	require.NoError(t, err)
	assert.True(t, dl.After(begin.Add(cfg.CallTimeout+wait)), "the plugin's deadline %s did not move on by the queue wait", dl)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, *seen, 2)
	assert.Equal(t, sdk.ProgressQueued, (*seen)[0].State)
	assert.Equal(t, "out of the queue", (*seen)[1].Message)
}

// A plugin that reports being queued for ever is cut off all the same,
// after CallTimeout + MaxQueueWait, and the user is told why.
func TestAQueueWaitBeyondTheCapEndsTheCall(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.CallTimeout = time.Second
	cfg.MaxQueueWait = time.Second
	f := start(t, pluginhost.Options{}, cfg)
	out, _, _ := queuedCall(t, f.plugin)
	var o callOutcome
	select {
	case o = <-out:
	case <-time.After(testbin.Patience):
		t.Fatal("a call queued for ever was never cut off")
	}
	require.Error(t, o.err)
	assert.Equal(t, apperr.Timeout, apperr.CodeOf(o.err))
	assert.Contains(t, apperr.Message(o.err), "the Example provider did not answer in time: the call was queued behind its request limit for longer than the bot waits")
}

// A call that is not queued still has CallTimeout alone.
func TestAnUnqueuedCallHasCallTimeoutAlone(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.CallTimeout = time.Second
	f := start(t, pluginhost.Options{}, cfg)
	errc := slowCall(t, context.Background(), f.plugin, "t-slow-timeout")
	err := ended(t, errc, "the slow call outlived its CallTimeout")
	assert.Equal(t, apperr.Timeout, apperr.CodeOf(err))
	assert.Contains(t, apperr.Message(err), "the Example provider did not answer in time")
	assert.NotContains(t, apperr.Message(err), "queued")
	eventually(t, func() bool { return strings.Contains(f.logs.String(), `"slow call cancelled"`) }, "the plugin never saw its call cut off:\n"+f.logs.String())
}
