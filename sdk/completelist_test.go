package sdk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
)

// Suggestions are asked at every keystroke; the provider is asked for
// the list once while it may be offered again, per target.
func TestCompleteFromListReadsTheProviderOncePerTarget(t *testing.T) {
	ctx := context.Background()
	reads := map[string]int{}
	fail := false
	list := func(_ context.Context, c *sdk.Call) ([]sdk.Suggestion, error) {
		if fail {
			return nil, errors.New("provider down")
		}
		reads[c.TargetConfig.Name]++
		return []sdk.Suggestion{{Value: "demo1"}, {Value: "demo2"}, {Value: "shop"}}, nil
	}
	p := sdk.New("t", "1")
	for _, name := range []string{"account info", "account suspend"} {
		p.Command(name, "x").Params(sdk.String("user", "An account")).
			Complete("user", sdk.CompleteFromList("accounts", time.Hour, list)).
			Run(func(context.Context, *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
	}
	configure := func() {
		resp, err := p.Configure(ctx, &sdk.ConfigureRequest{Targets: []sdk.Target{{Name: "a"}, {Name: "b"}}})
		require.NoError(t, err)
		require.False(t, resp.Diagnostics.HasError())
	}
	complete := func(command, target, prefix string) ([]string, error) {
		resp, err := p.Complete(ctx, &sdk.CompleteRequest{Request: sdk.Request{Command: command, Target: target}, Param: "user", Prefix: prefix})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, s := range resp.Suggestions {
			out = append(out, s.Value)
		}
		return out, nil
	}
	configure()
	for _, prefix := range []string{"", "d", "de", "dem", "s"} {
		_, err := complete("account info", "a", prefix)
		require.NoError(t, err)
	}
	got, err := complete("account suspend", "a", "demo")
	require.NoError(t, err)
	assert.Equal(t, []string{"demo1", "demo2"}, got)
	assert.Equal(t, map[string]int{"a": 1}, reads, "one read for six keystrokes over two commands")

	_, err = complete("account info", "b", "")
	require.NoError(t, err)
	assert.Equal(t, 1, reads["b"], "each target has its own list")

	configure()
	fail = true
	_, err = complete("account info", "a", "")
	require.Error(t, err, "a target configured anew reads again")
	fail = false
	_, err = complete("account info", "a", "")
	require.NoError(t, err)
	assert.Equal(t, 2, reads["a"], "a failed read is not kept")
}
