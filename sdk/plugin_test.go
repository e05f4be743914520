package sdk_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
)

// A host that leaves out a defaulted argument gets the declared default,
// never the zero value (keepdns=yes must not become no).
func TestDefaultsApplyWhoeverCalls(t *testing.T) {
	p := sdk.New("t", "1")
	var got sdk.Args
	p.Command("remove", "Remove").Params(
		sdk.Bool("keepdns", "Keep DNS").WithDefault("yes"),
		sdk.Int("ttl", "TTL").WithDefault("300"),
		sdk.String("tag", "Tags").AsRepeated().WithDefault("x"),
	).Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
		got = c.Args
		return sdk.NewResult(), nil
	})
	_, err := p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "remove"}})
	require.NoError(t, err)
	assert.Equal(t, true, got["keepdns"])
	assert.Equal(t, int64(300), got["ttl"])
	assert.Equal(t, []string{"x"}, got["tag"])

	_, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "remove", Args: sdk.Args{"keepdns": false}}})
	require.NoError(t, err)
	assert.Equal(t, false, got["keepdns"], "a given value wins")
}

// Commands declared on demand are described like any other, validated and
// run by name, and built only when a call or Describe asks for them.
func TestCommandsOnDemand(t *testing.T) {
	p := sdk.New("t", "1")
	p.Command("status", "Status").Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
		return sdk.NewResult(), nil
	})
	built := map[string]int{}
	p.CommandsOnDemand([]string{"call  alpha", "call beta"}, func(s *sdk.Plugin, name string) {
		built[name]++
		fn := name[len("call "):]
		s.Command(name, "Call "+fn).Hidden().Risk(sdk.RiskHigh).
			Params(sdk.Int("limit", "How many").AsRequired()).
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
				r := sdk.NewResult()
				r.AddText("%s limit=%d", fn, c.Args.Int("limit"))
				return r, nil
			})
	})
	assert.Empty(t, built, "nothing is built before it is wanted")

	cat, err := p.Describe(context.Background(), &sdk.DescribeRequest{})
	require.NoError(t, err)
	specs := cat.Commands
	require.Len(t, specs, 3)
	assert.Equal(t, []string{"status", "call alpha", "call beta"}, []string{specs[0].Name, specs[1].Name, specs[2].Name})
	assert.Equal(t, sdk.RiskHigh, specs[2].Risk)
	assert.True(t, specs[1].Hidden)
	require.Len(t, specs[1].Params, 1)

	res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "call beta", Args: sdk.Args{"limit": int64(3)}}})
	require.NoError(t, err)
	require.Empty(t, res.Diagnostics)
	assert.Equal(t, "beta limit=3", res.Parts[0].Text.Body)

	res, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "call alpha"}})
	require.NoError(t, err)
	require.True(t, res.Diagnostics.HasError(), "a declared required parameter is enforced")
	assert.Contains(t, res.Diagnostics[0].Summary, "missing required argument limit")

	plan, err := p.Plan(context.Background(), &sdk.PlanRequest{Request: sdk.Request{Command: "call beta", Args: sdk.Args{"limit": int64(1)}}})
	require.NoError(t, err)
	assert.Equal(t, sdk.RiskHigh, plan.Plan.Risk, "the declared risk floors the plan")

	res, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "call gamma"}})
	require.NoError(t, err)
	assert.Contains(t, res.Diagnostics[0].Summary, `no command "call gamma"`)

	assert.Panics(t, func() { p.Command("call alpha", "again") }, "a name is declared once, on demand or not")
	assert.Panics(t, func() { p.CommandsOnDemand([]string{"status"}, nil) })
}

// A broken on-demand declaration is an error, never a crashed plugin.
func TestCommandsOnDemandBrokenDeclare(t *testing.T) {
	p := sdk.New("t", "1")
	p.CommandsOnDemand([]string{"call missing", "call panics"}, func(s *sdk.Plugin, name string) {
		if name == "call panics" {
			var m map[string]int
			m["x"] = 1
		}
	})
	res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "call panics"}})
	require.NoError(t, err)
	assert.Contains(t, res.Diagnostics[0].Summary, "internal error in t call panics")
	res, err = p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "call missing"}})
	require.NoError(t, err)
	assert.Contains(t, res.Diagnostics[0].Summary, "internal error in t call missing")
	_, err = p.Describe(context.Background(), &sdk.DescribeRequest{})
	assert.ErrorContains(t, err, `"call missing" is declared on demand, but its declare function did not declare it`)
}

// A request carrying an approved plan's digest runs only if the command
// would still do that work.
func TestApprovedWorkThatChangedIsRefused(t *testing.T) {
	line := "MX 10 mx.example."
	ran := 0
	p := sdk.New("t", "1")
	p.Command("record remove", "Remove a DNS record by line").
		Params(sdk.Int("line", "the line").AsRequired()).
		Risk(sdk.RiskHigh).
		Plan(func(ctx context.Context, c *sdk.Call) (*sdk.Plan, error) {
			return &sdk.Plan{Summary: "remove " + line, Steps: []sdk.PlanStep{{Method: "POST", Endpoint: "/removezonerecord", Body: "line=6 " + line}}}, nil
		}).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			ran++
			return sdk.NewResult().AddText("removed"), nil
		})
	ctx := context.Background()
	req := sdk.Request{Command: "record remove", Args: sdk.Args{"line": int64(6)}}
	pr, err := p.Plan(ctx, &sdk.PlanRequest{Request: req})
	require.NoError(t, err)
	require.NotEmpty(t, pr.Plan.Digest)

	req.PlanDigest = pr.Plan.Digest
	res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: req})
	require.NoError(t, err)
	require.False(t, res.Failed(), "%v", res.Diagnostics)
	assert.Equal(t, 1, ran)

	line = "TXT v=spf1 -all" // another request changed the zone since
	res, err = p.Execute(ctx, &sdk.ExecuteRequest{Request: req})
	require.NoError(t, err)
	require.True(t, res.Failed())
	assert.Contains(t, res.Diagnostics[0].Summary, "differs from the plan that was approved; nothing was run")
	assert.Equal(t, 1, ran, "nothing ran")
}

// A plan written by hand binds the facts it declares: if one changes
// between the approval and the run, the run is refused and nothing runs.
func TestHandWrittenPlanBindsItsFacts(t *testing.T) {
	p := sdk.New("t", "1")
	state, ran := "MX", 0
	p.Command("remove", "Remove").Risk(sdk.RiskHigh).
		Plan(func(ctx context.Context, c *sdk.Call) (*sdk.Plan, error) {
			return &sdk.Plan{Summary: "Remove line 6", Steps: []sdk.PlanStep{{Method: "POST", Endpoint: "/remove?line=6"}},
				Facts: []string{"line 6 is " + state}}, nil
		}).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { ran++; return sdk.NewResult(), nil })
	ctx := context.Background()
	pr, err := p.Plan(ctx, &sdk.PlanRequest{Request: sdk.Request{Command: "remove"}})
	require.NoError(t, err)
	state = "TXT"
	res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{Command: "remove", PlanDigest: pr.Plan.Digest}})
	require.NoError(t, err)
	require.NotNil(t, res.Diagnostics.Code(sdk.CodeWorkChanged), "refused: the fact changed")
	assert.Equal(t, 0, ran)
	pr, err = p.Plan(ctx, &sdk.PlanRequest{Request: sdk.Request{Command: "remove"}})
	require.NoError(t, err)
	res, err = p.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{Command: "remove", PlanDigest: pr.Plan.Digest}})
	require.NoError(t, err)
	assert.False(t, res.Failed())
	assert.Equal(t, 1, ran)
}

// A suggestion function registered under an alias, or in another case,
// answers for the parameter however it is asked for: the kit accepts
// those names, so they must work.
func TestCompleteResolvesAliasesAndCase(t *testing.T) {
	fn := func(ctx context.Context, c *sdk.Call, prefix string) ([]sdk.Suggestion, error) {
		return []sdk.Suggestion{{Value: prefix + "-x"}}, nil
	}
	p := sdk.New("demo", "1")
	p.Command("greet", "Greet").
		Params(sdk.String("name", "").WithAliases("who"), sdk.String("Mood", "")).
		Complete("who", fn).
		Complete("mood", fn).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
	for _, param := range []string{"name", "who", "NAME", "Mood", "mood"} {
		resp, err := p.Complete(context.Background(), &sdk.CompleteRequest{Request: sdk.Request{Command: "greet"}, Param: param, Prefix: "a"})
		require.NoError(t, err, param)
		assert.Equal(t, []sdk.Suggestion{{Value: "a-x"}}, resp.Suggestions, param)
	}
}
