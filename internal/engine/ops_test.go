package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

// downPlugin is a supervised plugin that has been marked down: its
// calls fail as pluginhost's do, and Info tells an operator why.
type downPlugin struct {
	*pluginhost.Local
	info pluginhost.Info
}

func (d downPlugin) Info() pluginhost.Info { return d.info }

func (d downPlugin) Execute(context.Context, *sdk.ExecuteRequest) (*sdk.Result, error) {
	return nil, apperr.Wrap(errors.New(d.info.LastFailure), apperr.Unavailable, "the Example provider is unavailable right now; it failed repeatedly and an operator has been told")
}

const opsPolicy = `version: 1
users:
  alice: U0ALICE01
  erin: U0ERIN001
roles:
  desk:
    grants: [{commands: ["example:*"], max_risk: high}]
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
    high: {approvers: 1}
    critical: {approvers: 1}
`

func TestADownPluginsPathAndDigestAreForAdminsOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyPath, []byte(opsPolicy), 0o600))
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	holder, err := authz.NewHolder(policyPath, log)
	require.NoError(t, err)
	local, err := pluginhost.NewLocal(ctx, provider.New(), pluginhost.Config{Name: "example", Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}}})
	require.NoError(t, err)
	const path, want, got = "/opt/deskbot/plugins/example", "ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34", "ffee0011ffee0011ffee0011ffee0011ffee0011ffee0011ffee0011ffee0011"
	p := downPlugin{Local: local, info: pluginhost.Info{State: pluginhost.StateDown, Path: path, SHA256: want,
		LastFailure:   fmt.Sprintf("refusing to start %s: its sha256 is %s but the configuration expects %s", path, got, want),
		LastFailureAt: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}}
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"example": p}, Policy: holder, Logger: log})
	run := func(user, line string) engine.Reply {
		return e.Handle(ctx, engine.Request{User: user, Channel: "C0SUPPORT", Text: line}, nil)
	}

	// The user is told the provider is unavailable, and nothing more.
	r := run(alice, "/example echo hi")
	assert.Equal(t, engine.StatusFailed, r.Status)
	assert.Contains(t, r.Error, "the Example provider is unavailable right now")
	for _, internal := range []string{path, want, got, "sha256"} {
		assert.NotContains(t, fmt.Sprintf("%+v", r), internal)
	}

	// Nor may the user look it up.
	r = run(alice, "/ops plugins")
	assert.Equal(t, engine.StatusDenied, r.Status)
	assert.NotContains(t, fmt.Sprintf("%+v", r), path)

	// An admin sees each plugin's state, path, digest and last failure.
	r = run(erin, "/ops plugins")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	require.Len(t, r.Result.Parts, 2)
	procs := r.Result.Parts[1].Table
	assert.Equal(t, []string{"name", "state", "pid", "path", "sha256", "last failure", "next try"}, procs.Columns)
	require.Len(t, procs.Rows, 1)
	row := procs.Rows[0]
	assert.Equal(t, []string{"example", "down", "-", path, want}, row[:5])
	assert.Contains(t, row[5], "refusing to start")
	assert.Contains(t, row[5], got)
}

// /ops policy status, the admins' view of the bot's state, names the
// plugins that are not serving, with their path, digest and failure.
func TestPolicyStatusNamesPluginsNotServing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyPath, []byte(opsPolicy), 0o600))
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	holder, err := authz.NewHolder(policyPath, log)
	require.NoError(t, err)
	local, err := pluginhost.NewLocal(ctx, provider.New(), pluginhost.Config{Name: "example", Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}}})
	require.NoError(t, err)
	const path, want = "/opt/deskbot/plugins/example", "ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34"
	down := downPlugin{Local: local, info: pluginhost.Info{State: pluginhost.StateDown, Path: path, SHA256: want, LastFailure: "exited: signal: killed"}}
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"example": down}, Policy: holder, Logger: log, PolicyStatus: holder.Status})
	r := e.Handle(ctx, engine.Request{User: erin, Channel: "C0SUPPORT", Text: "/ops policy status"}, nil)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	require.Len(t, r.Result.Parts, 2)
	tbl := r.Result.Parts[1].Table
	require.Len(t, tbl.Rows, 1)
	assert.Equal(t, []string{"example", "down", "-", path, want}, tbl.Rows[0][:5])
	assert.Contains(t, tbl.Rows[0][5], "signal: killed")
	r = e.Handle(ctx, engine.Request{User: alice, Channel: "C0SUPPORT", Text: "/ops policy status"}, nil)
	assert.Equal(t, engine.StatusDenied, r.Status)

	up := downPlugin{Local: local, info: pluginhost.Info{State: pluginhost.StateReady, Path: path, SHA256: want}}
	e = engine.New(engine.Options{Plugins: engine.StaticRegistry{"example": up}, Policy: holder, Logger: log, PolicyStatus: holder.Status})
	r = e.Handle(ctx, engine.Request{User: erin, Channel: "C0SUPPORT", Text: "/ops policy status"}, nil)
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.Len(t, r.Result.Parts, 1, "nothing to report when every plugin serves")
}

// neverStarted is a supervised plugin that failed at its first start (its
// pin, say): it has no catalog, and says it is unavailable.
type neverStarted struct{ info pluginhost.Info }

func (n neverStarted) Name() string               { return "whm" }
func (n neverStarted) Catalog() []sdk.CommandSpec { return nil }
func (n neverStarted) Targets() []string          { return []string{"main"} }
func (n neverStarted) DefaultTarget() string      { return "main" }
func (n neverStarted) Metadata() sdk.Metadata     { return sdk.Metadata{} }
func (n neverStarted) Secrets() []string          { return []string{"whm-token-canary-0042"} }
func (n neverStarted) Info() pluginhost.Info      { return n.info }
func (n neverStarted) Unavailable() error {
	return apperr.Wrap(errors.New(n.info.LastFailure), apperr.Unavailable, "the WHM provider is unavailable right now; the bot keeps trying to bring it back and its operators can see why")
}
func (n neverStarted) Plan(context.Context, *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	return nil, n.Unavailable()
}
func (n neverStarted) Execute(context.Context, *sdk.ExecuteRequest) (*sdk.Result, error) {
	return nil, n.Unavailable()
}

// A provider whose plugin never started has no catalog: its commands are
// answered "unavailable", not "unknown command", while the other
// providers serve; admins see it down, why (secrets scrubbed), and when
// it is tried next.
func TestAProviderThatNeverStartedIsUnavailableNotUnknown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyPath, []byte(opsPolicy), 0o600))
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	holder, err := authz.NewHolder(policyPath, log)
	require.NoError(t, err)
	local, err := pluginhost.NewLocal(ctx, provider.New(), pluginhost.Config{Name: "example", Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}}})
	require.NoError(t, err)
	const path, want = "/opt/deskbot/plugins/whm", "ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34"
	retry := time.Date(2026, 12, 1, 9, 31, 0, 0, time.UTC)
	whm := neverStarted{info: pluginhost.Info{State: pluginhost.StateDown, Path: path, SHA256: want, Attempt: 3, RetryAt: retry,
		LastFailure: "configure: token whm-token-canary-0042 refused", LastFailureAt: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}}
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"example": local, "whm": whm}, Policy: holder, Logger: log, PolicyStatus: holder.Status})
	run := func(user, line string) engine.Reply {
		return e.Handle(ctx, engine.Request{User: user, Channel: "C0SUPPORT", Text: line}, nil)
	}

	for _, line := range []string{"/whm account list", "/whm help", "/whm"} {
		r := run(erin, line)
		assert.Equal(t, engine.StatusFailed, r.Status, line)
		assert.Equal(t, apperr.Unavailable, r.Code, line)
		assert.Equal(t, "whm", r.Provider, line)
		assert.Equal(t, "the WHM provider is unavailable right now; the bot keeps trying to bring it back and its operators can see why", r.Error, line)
	}
	r := run(erin, `/ops can-i "/whm account list"`)
	assert.Equal(t, apperr.Unavailable, r.Code)
	assert.Contains(t, r.Error, "the WHM provider is unavailable right now")

	// The other provider serves.
	r = run(alice, "/example echo hi")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)

	r = run(erin, "/ops policy status")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	require.Len(t, r.Result.Parts, 2)
	tbl := r.Result.Parts[1].Table
	assert.Contains(t, r.Result.Parts[1].Title, "unavailable")
	require.Len(t, tbl.Rows, 1, "only the plugin that is down is listed")
	row := tbl.Rows[0]
	assert.Equal(t, []string{"whm", "down", "-", path, want}, row[:5])
	assert.Contains(t, row[5], "configure: token")
	assert.NotContains(t, row[5], "whm-token-canary-0042", "a secret in the failure is scrubbed")
	assert.Equal(t, retry.Local().Format(time.RFC1123)+" (failed tries in a row: 3)", row[6])

	r = run(erin, "/ops plugins")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	require.Len(t, r.Result.Parts, 2)
	procs := r.Result.Parts[1].Table
	require.Len(t, procs.Rows, 1, "a Local is not a supervised process")
	assert.Equal(t, []string{"whm", "down"}, procs.Rows[0][:2])
	assert.NotContains(t, fmt.Sprintf("%+v", r), "whm-token-canary-0042")
}

func TestPlanOnAnOpsCommandIsRefusedAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	id := f.run(alice, "/example counter add 5").Approval.ID
	for _, line := range []string{
		"/ops approve " + id + " --plan",
		"/ops plan /ops approve " + id,
		"/ops plan /OPS approve " + id,
		`/ops plan "/ops approve ` + id + `"`,
		"/ops plan /ops plan /ops approve " + id,
		"/ops deny " + id + " reason=x --plan",
		"/ops plan /ops deny " + id + " reason=x",
		"/ops cancel " + id + " --plan",
	} {
		for _, who := range []string{carol, alice} {
			r := f.run(who, line)
			assert.Equal(t, engine.StatusInvalid, r.Status, "%s: %s", line, r.Error)
			assert.Contains(t, r.Error, "--plan shows what a provider command would do; /ops commands have no plan", line)
		}
	}
	v, err := f.e.Approval(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, "pending", v.State, "nothing was approved, denied or cancelled")
	assert.Empty(t, v.Approvers)
	assert.Equal(t, int64(0), f.counter(t), "nothing ran")

	// A provider command's plan still works.
	r := f.run(alice, "/ops plan /example counter add 5")
	require.Equal(t, engine.StatusOK, r.Status, r.Error)
	assert.True(t, r.DryRun)
}
