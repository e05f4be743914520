package engine_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/apperr"
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
