package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/sdk"
)

// rawProvider is a plugin built without the SDK's Plugin: it scrubs
// nothing, and puts the value of its "echo" argument in every field of a
// plan, a progress report and a result. The engine is the last line of
// defence.
type rawProvider struct{}

func (rawProvider) Metadata(context.Context, *sdk.MetadataRequest) (*sdk.Metadata, error) {
	return &sdk.Metadata{Name: "raw", Version: "1", ProtocolMinor: sdk.ProtocolMinor}, nil
}

func (rawProvider) Describe(context.Context, *sdk.DescribeRequest) (*sdk.Catalog, error) {
	params := []sdk.Param{sdk.String("echo", "what to spill").AsRequired(), sdk.String("password", "a secret").AsSensitive()}
	return &sdk.Catalog{Commands: []sdk.CommandSpec{
		{Name: "spill", Summary: "Spill the value", Risk: sdk.RiskLow, Params: params, SupportsPlan: true},
		{Name: "fail", Summary: "Fail quoting the value", Risk: sdk.RiskReadOnly, Params: params},
	}}, nil
}

func (rawProvider) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}

func (rawProvider) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	v := req.Args.String("echo")
	if strings.HasPrefix(v, "refuse") {
		return &sdk.PlanResponse{Diagnostics: sdk.Diagnostics{{Severity: sdk.SeverityError, Summary: "cannot spill " + v, Attribute: "echo"}}}, nil
	}
	return &sdk.PlanResponse{Plan: &sdk.Plan{Summary: v, Steps: []sdk.PlanStep{{Description: v, Method: "GET", Endpoint: "/x?q=" + v, Body: `{"note":"` + v + `"}`}}}}, nil
}

func (rawProvider) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error) {
	v := req.Args.String("echo")
	if req.Command == "fail" {
		return nil, errors.New("the API said: " + v)
	}
	if req.Progress != nil {
		req.Progress(sdk.Progress{Message: v, State: v, Percent: 50})
	}
	r := &sdk.Result{Parts: []sdk.Part{
		{Title: v, Text: &sdk.Text{Body: v}},
		{Title: v, KeyValues: []sdk.KeyValue{{Key: v, Value: v}, {Key: "password", Value: "under a secret name"}}},
		{Title: v, Table: &sdk.Table{Columns: []string{v, "token"}, Rows: [][]string{{v, "under a secret column"}}}},
		{Title: v, File: &sdk.File{Name: v, MediaType: "text/csv", Content: []byte("a\n" + v)}},
	}}
	r.Diagnostics = sdk.Diagnostics{{Severity: sdk.SeverityWarning, Summary: v, Detail: v, Attribute: v}}
	return r, nil
}

func (rawProvider) CheckHealth(context.Context, *sdk.HealthRequest) (*sdk.Health, error) {
	return &sdk.Health{Status: sdk.HealthOK}, nil
}

func TestTheEngineScrubsEveryFieldOfWhatAPluginReturns(t *testing.T) {
	const targetSecret = "CANARY-raw-target-key-4d2b"
	const argSecret = "CANARY-raw-typed-password-8e7f"
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	local, err := pluginhost.NewLocal(ctx, rawProvider{}, pluginhost.Config{Name: "raw", Targets: []sdk.Target{{Name: "main", Secrets: map[string]string{"api_key": targetSecret}}}})
	require.NoError(t, err)
	logs := &bytes.Buffer{}
	lg := audit.NewLog(st, nil)
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"raw": local}, Audit: lg, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	for _, canary := range []string{targetSecret, argSecret} {
		var seen string
		for _, cmd := range []string{"spill", "fail"} {
			line := fmt.Sprintf("/raw %s echo=%s password=%s", cmd, canary, argSecret)
			r := e.Handle(ctx, engine.Request{User: "U1", Channel: "C1", Text: line, SensitiveTextOK: true}, func(p sdk.Progress) { seen += fmt.Sprintf("%+v", p) })
			seen += fmt.Sprintf("%+v %+v %+v", r, r.Plan, r.Result)
			if r.Result != nil {
				for _, p := range r.Result.Parts {
					seen += fmt.Sprintf("%+v %+v %+v", p.Text, p.Table, p.File)
					if p.File != nil {
						seen += string(p.File.Content)
					}
				}
			}
		}
		entries, err := lg.Search(ctx, audit.Filter{Limit: 100})
		require.NoError(t, err)
		seen += fmt.Sprintf("%+v", entries) + logs.String()
		assert.NotContains(t, seen, canary)
		assert.Contains(t, seen, "[REDACTED]")
		assert.NotContains(t, seen, "under a secret name", "a value under a sensitive key is masked whole")
		assert.NotContains(t, seen, "under a secret column")
	}
}

// A plugin's reason for refusing arguments keeps the argument it is
// about, so that the reply can point at it.
func TestRefusalsPointAtTheArgument(t *testing.T) {
	ctx := context.Background()
	local, err := pluginhost.NewLocal(ctx, rawProvider{}, pluginhost.Config{Name: "raw", Targets: []sdk.Target{{Name: "main"}}})
	require.NoError(t, err)
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"raw": local}})
	r := e.Handle(ctx, engine.Request{User: "U1", Channel: "C1", Text: "/raw spill echo=refuse-CANARY-attr-7a1d password=refuse-CANARY-attr-7a1d", SensitiveTextOK: true}, nil)
	require.Equal(t, engine.StatusInvalid, r.Status, "%+v", r)
	assert.Equal(t, []string{"echo"}, r.Arguments())
	require.Len(t, r.Diagnostics, 1)
	assert.Equal(t, "cannot spill [REDACTED]", r.Diagnostics[0].Summary, "scrubbed like everything else")
	assert.Equal(t, "cannot spill [REDACTED]", r.Error)
}
