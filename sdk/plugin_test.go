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
	_, err := p.Execute(context.Background(), &sdk.Request{Command: "remove"}, nil)
	require.NoError(t, err)
	assert.Equal(t, true, got["keepdns"])
	assert.Equal(t, int64(300), got["ttl"])
	assert.Equal(t, []string{"x"}, got["tag"])

	_, err = p.Execute(context.Background(), &sdk.Request{Command: "remove", Args: sdk.Args{"keepdns": false}}, nil)
	require.NoError(t, err)
	assert.Equal(t, false, got["keepdns"], "a given value wins")
}
