package provider_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	p := provider.New()
	state := filepath.Join(t.TempDir(), "counter")
	sdktest.Run(t, p, sdktest.Options{
		Targets: []sdk.Target{{Name: "main", Settings: map[string]string{"state_file": state}}},
		Snapshot: func() (string, error) {
			n, err := provider.Count(p, "main")
			return strconv.FormatInt(n, 10), err
		},
		Slow:     &sdktest.Call{Command: "slow", Args: sdk.Args{"seconds": int64(30)}},
		Execute:  []string{"secret check"},
		SkipPlan: nil,
	})
}

func TestCounterPersistsAcrossProcessesThroughItsStateFile(t *testing.T) {
	state := filepath.Join(t.TempDir(), "counter")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		p := provider.New()
		_, err := p.Configure(ctx, &sdk.ConfigureRequest{Targets: []sdk.Target{{Name: "main", Settings: map[string]string{"state_file": state}}}})
		require.NoError(t, err)
		res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{Command: "counter add", Target: "main", Args: sdk.Args{"n": int64(5)}}})
		require.NoError(t, err)
		require.False(t, res.Failed())
	}
	p := provider.New()
	_, _ = p.Configure(ctx, &sdk.ConfigureRequest{Targets: []sdk.Target{{Name: "main", Settings: map[string]string{"state_file": state}}}})
	n, err := provider.Count(p, "main")
	require.NoError(t, err)
	assert.Equal(t, int64(10), n)
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
