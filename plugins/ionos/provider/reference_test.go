package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/ionos/provider"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

type exchangeStep struct {
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Request json.RawMessage `json:"request"`
	Status  int             `json:"status"`
	Body    json.RawMessage `json:"body"`
}

// replay serves a reference exchange in order, the last step again once
// it has run out (a state that stays), and fails the test on any request
// the exchange does not list next.
func replay(t *testing.T, steps []exchangeStep) (url string, seen func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	i := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Method+" "+r.URL.Path)
		step := steps[min(i, len(steps)-1)]
		if r.Method != step.Method || r.URL.Path != "/v1"+step.Path || i >= len(steps) && step.Method != http.MethodGet {
			t.Errorf("request %d: %s %s, the exchange has %s %s", i+1, r.Method, r.URL.Path, step.Method, step.Path)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if len(step.Request) > 0 {
			var want, sent any
			require.NoError(t, json.Unmarshal(step.Request, &want))
			assert.NoError(t, json.NewDecoder(r.Body).Decode(&sent))
			assert.Equal(t, want, sent, "the body sent is the reference's example")
		}
		i++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(step.Status)
		_, _ = w.Write(step.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func target(base, key string) sdk.Target {
	return sdk.Target{Name: "main", Settings: map[string]string{"base_url": base, "poll": "1ms"}, Secrets: map[string]string{"api_key": key}}
}

// After a 202 to POWER_OFF, the first poll still shows POWERED_ON, the
// state from before (the reference's own /status example). That is not
// the end of the work: the follow waits for POWERED_OFF, as the 1&1 SDK
// does (testdata/power-off-exchange.json names the sources).
func TestPowerOffWaitsForPoweredOffNotTheFirstSteadyState(t *testing.T) {
	var ref struct {
		ServerID string         `json:"server_id"`
		Exchange []exchangeStep `json:"exchange"`
	}
	b, err := os.ReadFile("testdata/power-off-exchange.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &ref))
	base, seen := replay(t, ref.Exchange)
	h := sdktest.Start(t, provider.New(), target(base, "CANARY-ionos-ref-power-off"))

	out := h.Execute("server off", sdk.Args{"server": ref.ServerID, "method": "software"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "is POWERED_OFF.")
	assert.NotContains(t, out.Text, "is POWERED_ON.")
	var states []string
	for _, p := range out.Progress {
		if p.State != "" {
			states = append(states, p.State)
		}
	}
	assert.Equal(t, []string{"POWERED_ON", "POWERING_OFF", "POWERED_OFF"}, states)
	assert.Len(t, seen(), len(ref.Exchange), "every step of the exchange, and no more")
}

type rateRef struct {
	Limited struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"limited"`
	Short  string `json:"short_reset"`
	Hourly string `json:"hourly_reset"`
}

// limitedServer answers every request with the reference's 429 and the
// given reset: "short", "hourly", or seconds.
func limitedServer(t *testing.T, reset string) string {
	t.Helper()
	var ref rateRef
	b, err := os.ReadFile("testdata/rate-limit-exchange.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &ref))
	switch reset {
	case "hourly":
		reset = ref.Hourly
	case "short":
		reset = ref.Short
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range ref.Limited.Headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("X-Rate-Limit-Reset", reset)
		w.WriteHeader(ref.Limited.Status)
		_, _ = w.Write(ref.Limited.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// A command queued behind the key's limit says so, with about how long,
// instead of going quiet until the bot gives up on it.
func TestAQueuedCommandSaysHowLong(t *testing.T) {
	h := sdktest.Start(t, provider.New(), target(limitedServer(t, "short"), "CANARY-ionos-ref-queued"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var told, states []string
	_, err := h.Plugin.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "queued", Command: "status"},
		Progress: func(p sdk.Progress) {
			told = append(told, p.Message)
			states = append(states, p.State)
			if strings.Contains(p.Message, "queued") {
				cancel() // enough: the user has been told
			}
		}})
	require.ErrorIs(t, err, context.Canceled)
	require.NotEmpty(t, told)
	assert.Regexp(t, `^queued behind IONOS's request limit, about 2\d s$`, told[len(told)-1])
	// The state tells the bot not to count the wait against the call.
	assert.Equal(t, sdk.ProgressQueued, states[len(states)-1])
}

// A wait longer than the bot waits (an hourly limit) fails at once and
// clearly, with the time the limit resets.
func TestAnHourlyLimitFailsWithTheResetTime(t *testing.T) {
	h := sdktest.Start(t, provider.New(), target(limitedServer(t, "hourly"), "CANARY-ionos-ref-hourly"))
	out := h.Execute("status", nil)
	require.True(t, out.Failed(), out.Text)
	assert.Regexp(t, `request limit is spent until \d\d:\d\d:\d\d UTC \(about 36\d\d s from now\)`, out.Text)
	assert.NotContains(t, out.Text, "did not answer in time")
}

// A quick burst spends the per-minute allowance; the next call must wait
// up to a whole window (61 s: the server rounds its reset up). It queues
// and says so, instead of failing as longer than the bot waits.
func TestAWholeMinuteWindowIsWaitedFor(t *testing.T) {
	h := sdktest.Start(t, provider.New(), target(limitedServer(t, "61"), "CANARY-ionos-ref-minute"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var told []string
	_, err := h.Plugin.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "minute", Command: "status"},
		Progress: func(p sdk.Progress) {
			told = append(told, p.Message)
			if strings.Contains(p.Message, "queued") {
				cancel() // the user has been told; no need to wait the minute
			}
		}})
	require.ErrorIs(t, err, context.Canceled, "queued, not refused")
	require.NotEmpty(t, told)
	assert.Regexp(t, `^queued behind IONOS's request limit, about 6\d s$`, told[len(told)-1])
}

// max_queue_wait lowers the wait: past it, the call fails at once with
// the reset time.
func TestMaxQueueWaitIsASetting(t *testing.T) {
	tg := target(limitedServer(t, "61"), "CANARY-ionos-ref-setting")
	tg.Settings["max_queue_wait"] = "30s"
	h := sdktest.Start(t, provider.New(), tg)
	out := h.Execute("status", nil)
	require.True(t, out.Failed(), out.Text)
	assert.Regexp(t, `request limit is spent until \d\d:\d\d:\d\d UTC \(about 6\d s from now\), longer than the 30s the bot waits`, out.Text)
}
