package engine_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

func values(ss []sdk.Suggestion) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Value
	}
	return out
}

func choiceNames(cs []engine.CommandChoice) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Provider+" "+c.Name)
	}
	return out
}

func TestTheCommandPickerOffersOnlyWhatTheUserMayRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// alice (tier-1) may ask for high-risk work; carol (approver) runs
	// read-only commands only.
	assert.Contains(t, choiceNames(f.e.Commands(ctx, alice, "C0SUPPORT")), "example counter add")
	assert.Contains(t, choiceNames(f.e.Commands(ctx, carol, "C0SUPPORT")), "example greet")
	assert.NotContains(t, choiceNames(f.e.Commands(ctx, carol, "C0SUPPORT")), "example counter add")

	_, err := f.e.CommandSpec(ctx, carol, "C0SUPPORT", "example", "counter add")
	assert.Equal(t, apperr.NotFound, apperr.CodeOf(err))
	spec, err := f.e.CommandSpec(ctx, alice, "C0SUPPORT", "example", "greet")
	require.NoError(t, err)
	require.Len(t, spec.Params, 1)
	assert.True(t, spec.Params[0].Completes, "the catalog marks the parameter the plugin completes")
}

func TestValuesComeFromThePluginOnlyForCommandsTheUserMayRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	got, err := f.e.CompleteValue(ctx, engine.CompleteRequest{User: carol, Channel: "C0SUPPORT", Provider: "example", Command: "greet", Param: "name", Prefix: "c"})
	require.NoError(t, err)
	assert.Equal(t, []string{"carol"}, values(got))

	// counter add's enum-free parameters complete nothing, and carol is
	// not offered anything for a command she may not run.
	_, err = f.e.CompleteValue(ctx, engine.CompleteRequest{User: carol, Channel: "C0SUPPORT", Provider: "example", Command: "counter add", Param: "amount"})
	assert.Equal(t, apperr.NotFound, apperr.CodeOf(err))
	_, err = f.e.CompleteValue(ctx, engine.CompleteRequest{User: carol, Channel: "C0SUPPORT", Provider: "nosuch", Command: "greet", Param: "name"})
	assert.Equal(t, apperr.NotFound, apperr.CodeOf(err), "a missing provider answers as a forbidden command does")
}

func TestALineCompletesAtTheCursor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		line string
		from int
		want []string
	}{
		"provider":       {"/exa", 0, []string{"/example"}},
		"command word":   {"/example gr", 9, []string{"greet"}},
		"group word":     {"/example counter a", 17, []string{"add"}},
		"positional":     {"/example greet c", 15, []string{"carol"}},
		"named value":    {"/example greet name=a", 15, []string{"name=alice"}},
		"parameter name": {"/example greet n", 15, []string{"name="}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := f.e.Complete(ctx, alice, "C0SUPPORT", tc.line, len(tc.line))
			require.NoError(t, err)
			assert.Equal(t, tc.from, c.From)
			assert.Equal(t, len(tc.line), c.To)
			assert.Equal(t, tc.want, values(c.Suggestions))
		})
	}
	c, err := f.e.Complete(ctx, carol, "C0SUPPORT", "/example counter a", 18)
	require.NoError(t, err)
	assert.Empty(t, c.Suggestions, "carol may not run counter add")
}

func TestAFormsValuesAreTakenWholeNotParsedAsWords(t *testing.T) {
	f := newFixture(t)
	text := `customer's request, see "ticket" 12`
	r := f.e.Handle(context.Background(), engine.Request{User: alice, Channel: "C0SUPPORT",
		Command: &engine.Command{Provider: "example", Name: "echo", Args: map[string][]string{"text": {text}}}}, nil)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Equal(t, text, r.Result.Parts[0].Text.Body)
	assert.Equal(t, `/example echo text="customer's request, see \"ticket\" 12"`, r.Command)

	r = f.e.Handle(context.Background(), engine.Request{User: alice, Channel: "C0SUPPORT",
		Command: &engine.Command{Provider: "example", Name: "counter add", Args: map[string][]string{"amount": {"many"}}}}, nil)
	assert.Equal(t, engine.StatusInvalid, r.Status)
	assert.Contains(t, r.Error, "amount")
	assert.Equal(t, int64(0), f.counter(t))
}

func TestTheSecretFormResumesTheCommandAsFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const canary = "canary-s3cret-7781"
	r := f.e.Handle(ctx, engine.Request{User: alice, Channel: "C0SUPPORT", Text: `/example secret set "db password"`, CanPrompt: true}, nil)
	require.Equal(t, engine.StatusNeedsInput, r.Status, r.Error)
	require.Len(t, r.Inputs, 1)
	assert.Equal(t, "value", r.Inputs[0].Name)
	require.NotNil(t, r.Resume)
	assert.Equal(t, engine.Command{Provider: "example", Name: "secret set", Args: map[string][]string{"name": {"db password"}}}, *r.Resume)

	r = f.e.Handle(ctx, engine.Request{User: alice, Channel: "C0SUPPORT", Command: r.Resume, Secrets: map[string]string{"value": canary}, CanPrompt: true}, nil)
	require.Equal(t, engine.StatusPending, r.Status, r.Error)
	assert.Equal(t, `/example secret set name="db password" value=`+redact.Mask, r.Command)
	assert.NotContains(t, r.Command, canary)

	// A form's request still may not carry a secret outside Secrets.
	r = f.e.Handle(ctx, engine.Request{User: alice, Channel: "C0SUPPORT",
		Command: &engine.Command{Provider: "example", Name: "secret check", Args: map[string][]string{"value": {canary}}}}, nil)
	assert.Equal(t, engine.StatusInvalid, r.Status)
	assert.NotContains(t, r.Error, canary)
}

// failingCompleter is the example plugin with a completion that fails
// the way a broken plugin might: quoting a secret in its error.
type failingCompleter struct {
	*pluginhost.Local
	err   error
	block bool
}

func (c failingCompleter) Complete(ctx context.Context, _ *sdk.CompleteRequest) (*sdk.CompleteResponse, error) {
	if c.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, c.err
}

func TestAFailingCompletionSaysSoWithoutItsDetail(t *testing.T) {
	f := newFixture(t)
	const canary = "canary-t0ken-5512"
	local := f.registry["example"].(*pluginhost.Local)
	red := redact.New()
	red.AddSecret(canary)
	logs := &bytes.Buffer{}
	e := engine.New(engine.Options{Redactor: red, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Plugins: engine.StaticRegistry{"example": failingCompleter{Local: local, err: errors.New("dial https://user:" + canary + "@api: refused")}}})
	_, err := e.CompleteValue(context.Background(), engine.CompleteRequest{User: alice, Provider: "example", Command: "greet", Param: "name"})
	require.Error(t, err)
	assert.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
	assert.Equal(t, "example could not suggest values; type the value", apperr.Message(err))
	assert.NotContains(t, err.Error(), canary)
	assert.Contains(t, logs.String(), "completion failed")
	assert.NotContains(t, logs.String(), canary)

	// A plugin that does not answer is cut off by the engine's deadline.
	e = engine.New(engine.Options{CompleteTimeout: 1, Plugins: engine.StaticRegistry{"example": failingCompleter{Local: local, block: true}}})
	_, err = e.CompleteValue(context.Background(), engine.CompleteRequest{User: alice, Provider: "example", Command: "greet", Param: "name"})
	assert.Equal(t, apperr.Timeout, apperr.CodeOf(err))
}

// onDemand is a plugin whose only completions are in a family of
// commands built on demand, as WHM's and IONOS's "call" are.
func onDemand(t *testing.T) *pluginhost.Local {
	p := sdk.New("fam", "1.0.0")
	p.CommandsOnDemand([]string{"call getaccount", "call dropaccount"}, func(s *sdk.Plugin, name string) {
		b := s.Command(name, "A raw call").Hidden().Params(sdk.String("user", "An account").AsRequired())
		if name == "call dropaccount" {
			b.Risk(sdk.RiskCritical)
		}
		b.Complete("user", func(_ context.Context, _ *sdk.Call, prefix string) ([]sdk.Suggestion, error) {
			return sdk.SuggestPrefix(prefix, []sdk.Suggestion{{Value: "demo1"}, {Value: "demo2"}, {Value: "shop"}}), nil
		}).Run(func(context.Context, *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
	})
	l, err := pluginhost.NewLocal(context.Background(), p, pluginhost.Config{Name: "fam"})
	require.NoError(t, err)
	return l
}

func TestCommandsBuiltOnDemandAreFoundBySearchAndComplete(t *testing.T) {
	ctx := context.Background()
	pol, err := authz.Parse("policy.yaml", []byte(`version: 1
users: {alice: U0ALICE01, carol: U0CAROL01, dan: U0DAN0001}
roles:
  desk: {grants: [{commands: ["*:*"], max_risk: high}]}
  lead: {grants: [{commands: ["*:*"], max_risk: read-only}], approve: [{commands: ["*:*"]}]}
bindings: [{subjects: [alice], roles: [desk]}, {subjects: [carol, dan], roles: [lead]}]
`))
	require.NoError(t, err)
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"fam": onDemand(t)}, Policy: fixedPolicy{pol}})

	assert.Empty(t, e.Commands(ctx, alice, "C1"), "hidden commands stay out of the plain list")
	assert.Equal(t, []string{"fam call getaccount"}, choiceNames(e.CommandsMatching(ctx, alice, "C1", "call get", 0)))
	assert.Empty(t, e.CommandsMatching(ctx, alice, "C1", "call drop", 0), "alice may not run a critical command")

	got, err := e.CompleteValue(ctx, engine.CompleteRequest{User: alice, Provider: "fam", Command: "call getaccount", Param: "user", Prefix: "dem"})
	require.NoError(t, err)
	assert.Equal(t, []string{"demo1", "demo2"}, values(got))
	_, err = e.CompleteValue(ctx, engine.CompleteRequest{User: alice, Provider: "fam", Command: "call dropaccount", Param: "user"})
	assert.Equal(t, apperr.NotFound, apperr.CodeOf(err))

	c, err := e.Complete(ctx, alice, "C1", "/fam call getaccount user=s", 27)
	require.NoError(t, err)
	assert.Equal(t, []string{"user=shop"}, values(c.Suggestions))
}

type fixedPolicy struct{ *authz.Policy }

// twoSites is a plugin with a staging and a production target whose
// completion answers with names only the target it is asked about has.
func twoSites(t *testing.T) *pluginhost.Local {
	p := sdk.New("sites", "1.0.0")
	p.Command("site show", "One site").Params(sdk.String("name", "The site").AsRequired().AsPositional()).
		Complete("name", func(_ context.Context, c *sdk.Call, prefix string) ([]sdk.Suggestion, error) {
			return sdk.SuggestPrefix(prefix, []sdk.Suggestion{{Value: c.Target + "-site"}}), nil
		}).Run(func(context.Context, *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
	l, err := pluginhost.NewLocal(context.Background(), p, pluginhost.Config{Name: "sites", DefaultTarget: "staging",
		Targets: []sdk.Target{{Name: "staging", Sandbox: true}, {Name: "prod", Sandbox: true}}})
	require.NoError(t, err)
	return l
}

const stagingOnlyPolicy = `version: 1
users:
  alice: U0ALICE01
  erin: U0ERIN001
roles:
  desk:
    grants: [{commands: ["sites:*"], targets: [staging]}]
  admin:
    grants: [{commands: ["*:*"]}]
    approve: [{commands: ["*:*"]}]
bindings:
  - subjects: [alice]
    roles: [desk]
  - subjects: [erin]
    roles: [admin]
approvals:
  by_risk:
    critical: {approvers: 1}
`

func TestSuggestionsComeOnlyFromTargetsThePolicyAllows(t *testing.T) {
	ctx := context.Background()
	pol, err := authz.Parse("policy.yaml", []byte(stagingOnlyPolicy))
	require.NoError(t, err)
	e := engine.New(engine.Options{Policy: pol, Plugins: engine.StaticRegistry{"sites": twoSites(t)}})
	ask := func(user, target string) ([]sdk.Suggestion, error) {
		return e.CompleteValue(ctx, engine.CompleteRequest{User: user, Channel: "C0SUPPORT", Provider: "sites", Command: "site show", Param: "name", Target: target})
	}

	got, err := ask(alice, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"staging-site"}, values(got))
	got, err = ask(alice, "staging")
	require.NoError(t, err)
	assert.Equal(t, []string{"staging-site"}, values(got))

	for _, target := range []string{"prod", "PROD"} {
		got, err = ask(alice, target)
		assert.Equal(t, apperr.Denied, apperr.CodeOf(err), target)
		assert.Empty(t, got, "prod's names are not for alice")
	}
	_, err = ask(alice, "nosuch")
	assert.Equal(t, apperr.Invalid, apperr.CodeOf(err))

	// Tab in the console goes the same way.
	c, err := e.Complete(ctx, alice, "C0SUPPORT", "/sites site show --target prod ", len("/sites site show --target prod "))
	assert.Equal(t, apperr.Denied, apperr.CodeOf(err))
	assert.NotContains(t, values(c.Suggestions), "prod-site")

	// The form's target field lists only the targets each user may use.
	targets, def := e.TargetsFor(ctx, alice, "C0SUPPORT", "sites", "site show")
	assert.Equal(t, []string{"staging"}, targets)
	assert.Equal(t, "staging", def)
	targets, def = e.TargetsFor(ctx, erin, "C0SUPPORT", "sites", "site show")
	assert.Equal(t, []string{"staging", "prod"}, targets)
	assert.Equal(t, "staging", def)
	got, err = ask(erin, "prod")
	require.NoError(t, err)
	assert.Equal(t, []string{"prod-site"}, values(got))
}

// suspender is a plugin whose free-text reason comes before other
// parameters in its catalog, as WHM's account suspend does.
func suspender(t *testing.T) *pluginhost.Local {
	p := sdk.New("acct", "1.0.0")
	p.Command("account suspend", "Suspend").Risk(sdk.RiskHigh).Params(
		sdk.String("user", "The account").AsRequired().AsPositional(),
		sdk.FreeText("reason", "Why").AsRequired(),
		sdk.Bool("lock", "Lock the login too"),
		sdk.String("note", "A note"),
	).Run(func(context.Context, *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
	l, err := pluginhost.NewLocal(context.Background(), p, pluginhost.Config{Name: "acct"})
	require.NoError(t, err)
	return l
}

// catalogPlugin serves commands by name, doing nothing; those in hidden
// are hidden, as a raw "call" family is.
func catalogPlugin(t *testing.T, name string, commands []string, hidden ...string) *pluginhost.Local {
	p := sdk.New(name, "1.0.0")
	for _, c := range append(slices.Clone(commands), hidden...) {
		b := p.Command(c, "Does "+c).Run(func(context.Context, *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
		if slices.Contains(hidden, c) {
			b.Hidden()
		}
	}
	l, err := pluginhost.NewLocal(context.Background(), p, pluginhost.Config{Name: name})
	require.NoError(t, err)
	return l
}

func TestTheShownCommandLineKeepsProseLastAndNewlinesEscaped(t *testing.T) {
	p := suspender(t)
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"acct": p}})
	for name, tc := range map[string]struct {
		args map[string][]string
		want string
	}{
		"prose after the arguments that decide": {
			map[string][]string{"user": {"shopco"}, "reason": {"abuse of the mail server"}, "lock": {"yes"}},
			`/acct account suspend user=shopco lock=true reason="abuse of the mail server"`},
		"a newline cannot pass for another argument": {
			map[string][]string{"user": {"shopco"}, "reason": {"abuse\nlock=no"}, "lock": {"yes"}},
			`/acct account suspend user=shopco lock=true reason="abuse\nlock=no"`},
		"nor a carriage return or a bidi override in a word": {
			map[string][]string{"user": {"shopco"}, "reason": {"x"}, "note": {"a\rb\u202ec"}},
			`/acct account suspend user=shopco note="a\rb\u202ec" reason=x`},
	} {
		t.Run(name, func(t *testing.T) {
			inv, err := command.Bind(p, "account suspend", "", tc.args)
			require.NoError(t, err)
			got := e.CommandLine(inv, "")
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, got, "\n")
			assert.NotContains(t, e.ArgString(inv), "\n")
		})
	}
}

func TestCommandSearchRanksNamesAndLeavesRawCallsToThoseWhoAsk(t *testing.T) {
	ctx := context.Background()
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{
		"ionos": catalogPlugin(t, "ionos", []string{"image list", "list servers", "server list", "server reboot"},
			"call list servers", "call list images", "call list volumes"),
		"whm": catalogPlugin(t, "whm", []string{"account list", "account suspend", "server status"}, "call listaccts"),
	}})
	search := func(q string) []string { return choiceNames(e.CommandsMatching(ctx, alice, "C1", q, 0)) }

	assert.Equal(t, []string{"ionos server list", "ionos list servers"}, search("server list"),
		"the command named exactly first, then those holding the words; no raw call")
	for _, got := range search("server list") {
		assert.NotContains(t, got, " call ", "raw calls only when searched for")
	}
	assert.NotContains(t, search("list"), "ionos call list servers")
	assert.Equal(t, []string{"ionos list servers", "ionos image list", "ionos server list", "whm account list"}, search("list"),
		"a name beginning with the word before one holding it")
	assert.Equal(t, []string{"ionos call list images", "ionos call list servers", "ionos call list volumes", "whm call listaccts"}, search("call list"))
	assert.Equal(t, []string{"whm account list", "whm account suspend"}, search("/whm account"), "a leading /provider is the provider")
	assert.Equal(t, []string{"whm account suspend"}, search("/whm account susp"))
	assert.Equal(t, []string{"ionos server list", "ionos server reboot", "whm server status", "ionos list servers"}, search("SERVER"))
}
