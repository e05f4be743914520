package provider_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/plugins/example/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	p := provider.New()
	sdktest.Run(t, p, sdktest.Options{
		Targets: []sdk.Target{{Name: "main", Sandbox: true, StateDir: t.TempDir()}},
		Snapshot: func() (string, error) {
			return strconv.FormatInt(p.Simulator("main").(*sim.Server).Value(), 10), nil
		},
		Slow:    &sdktest.Call{Command: "slow", Args: sdk.Args{"seconds": int64(30)}},
		Execute: []string{"secret check"},
	})
}

// The same checks as the bot makes them: through its plugin host, over
// gRPC, with the plugin in a process of its own. The Snapshot reads the
// counter from the state folder both processes share.
func TestConformanceThroughTheHost(t *testing.T) {
	p := provider.New()
	sdktest.Run(t, p, sdktest.Options{
		Targets: []sdk.Target{{Name: "main", Sandbox: true, StateDir: t.TempDir()}},
		Snapshot: func() (string, error) {
			return strconv.FormatInt(p.Simulator("main").(*sim.Server).Value(), 10), nil
		},
		Slow:        &sdktest.Call{Command: "slow", Args: sdk.Args{"seconds": int64(30)}},
		Execute:     []string{"secret check"},
		ThroughHost: true,
	})
}

// The counter lives in the sandbox's state folder: a second process
// serving the same folder (a restarted plugin, another bot replica) sees
// what the first did.
func TestCounterSurvivesInTheSandboxStateFolder(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		h := sdktest.Start(t, provider.New(), sdk.Target{Name: "sandbox", Sandbox: true, StateDir: dir})
		out := h.Execute("counter add", sdk.Args{"n": int64(5)})
		require.False(t, out.Failed(), out.Text)
	}
	h := sdktest.Start(t, provider.New(), sdk.Target{Name: "sandbox", Sandbox: true, StateDir: dir})
	n, err := provider.Count(h.Plugin, "sandbox")
	require.NoError(t, err)
	assert.Equal(t, int64(10), n)
}

// The counter's client against its simulator, through the layer: the plan
// shows the exact call, Run makes it, and nothing else is sent.
func TestCounterCommandsMakeTheCallsTheirPlansShow(t *testing.T) {
	h := sdktest.Sandbox(t, provider.New(), nil)
	s := sdktest.Simulator[*sim.Server](h)
	pr := h.Plan("counter add", sdk.Args{"n": int64(3)})
	require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
	assert.Equal(t, "Add 3 to the counter", pr.Plan.Summary)
	require.Len(t, pr.Plan.Steps, 1)
	assert.Equal(t, "POST", pr.Plan.Steps[0].Method)
	assert.True(t, strings.HasSuffix(pr.Plan.Steps[0].Endpoint, "/counter/add"), pr.Plan.Steps[0].Endpoint)
	assert.Equal(t, `{"n":3}`, pr.Plan.Steps[0].Body)
	assert.Empty(t, s.Calls(), "planning sends nothing")

	out := h.Execute("counter add", sdk.Args{"n": int64(3)})
	require.False(t, out.Failed(), out.Text)
	assert.Equal(t, "\ncounter=3\n", out.Text)
	assert.Equal(t, []string{"POST /counter/add"}, s.Calls())
}

// A reset is planned from the counter's value: approved at 3, it is
// refused once the counter has moved on, and nothing is sent.
func TestAnApprovedResetIsRefusedOnceTheCounterMoved(t *testing.T) {
	h := sdktest.Sandbox(t, provider.New(), nil)
	s := sdktest.Simulator[*sim.Server](h)
	h.Execute("counter add", sdk.Args{"n": int64(3)})
	pr := h.Plan("counter reset", nil)
	require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
	assert.Equal(t, "Reset the counter to 0\nIt is at 3 now.", pr.Plan.Summary)

	h.Execute("counter add", sdk.Args{"n": int64(1)})
	before := len(s.Calls())
	out := h.ExecuteRequest(context.Background(), sdk.Request{Command: "counter reset", PlanDigest: pr.Plan.Digest})
	require.True(t, out.Failed())
	assert.Contains(t, out.Text, "differs from the plan that was approved; nothing was run")
	assert.Equal(t, []string{"GET /counter"}, s.Calls()[before:], "it read the counter again and sent no reset")
	assert.Equal(t, int64(4), s.Value())

	pr = h.Plan("counter reset", nil)
	out = h.ExecuteRequest(context.Background(), sdk.Request{Command: "counter reset", PlanDigest: pr.Plan.Digest})
	require.False(t, out.Failed(), out.Text)
	assert.Equal(t, int64(0), s.Value())
}

func TestCatalogCheckCatchesMistakes(t *testing.T) {
	bad := []sdk.CommandSpec{
		{Name: "Bad Name", Summary: "x", Risk: sdk.RiskLow},
		{Name: "ok", Risk: sdk.RiskLow},
		{Name: "dup", Summary: "x", Risk: sdk.RiskLow, Params: []sdk.Param{sdk.String("a", ""), sdk.String("a", "")}},
		{Name: "e", Summary: "x", Risk: sdk.RiskLow, Params: []sdk.Param{{Name: "k", Type: sdk.TypeEnum}}},
		{Name: "p", Summary: "x", Risk: sdk.RiskLow, Params: []sdk.Param{sdk.String("s", "").AsSensitive().AsPositional()}},
		{Name: "q", Summary: "x", Risk: sdk.RiskLow, Params: []sdk.Param{sdk.Int("n", "").WithDefault("x")}},
		{Name: "r", Summary: "x", Params: nil},
		{Name: "ok", Summary: "again", Risk: sdk.RiskLow},
		{Name: "t", Summary: "x", Risk: sdk.RiskLow, Params: []sdk.Param{sdk.String("target", "")}},
		{Name: "u", Summary: "x", Risk: sdk.RiskLow, Examples: []string{"/other u"}},
		{Name: "v", Summary: "x", Risk: sdk.RiskLow, Params: []sdk.Param{sdk.String("a", "").AsPositional(), sdk.String("b", "").AsPositional().AsRequired()}},
	}
	errs := sdktest.CheckCatalog("demo", bad)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	for _, want := range []string{
		`command "Bad Name": names are lower-case words`,
		`command "ok" has no summary`,
		`command "dup": parameter "a" declared twice`,
		`command "e" parameter "k": enum without values`,
		`command "p" parameter "s": a sensitive parameter cannot be positional`,
		`command "q" parameter "n": default "x" is not a whole number`,
		`command "r": risk unspecified`,
		`command "ok": name already used by "ok"`,
		`command "t": parameter name target is reserved`,
		`command "u": example "/other u" does not start with /demo`,
		`command "v": required positional "b" follows optional positional "a"`,
	} {
		assert.Contains(t, strings.Join(msgs, "\n"), want)
	}
}
