package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clnprovider "github.com/deskbot/deskbot/plugins/cln/provider"
	cloudflowprovider "github.com/deskbot/deskbot/plugins/cloudflow/provider"
	exampleprovider "github.com/deskbot/deskbot/plugins/example/provider"
	ionosprovider "github.com/deskbot/deskbot/plugins/ionos/provider"
	whmprovider "github.com/deskbot/deskbot/plugins/whm/provider"
	"github.com/deskbot/deskbot/sdk"
)

// The names the bot gives the bundled providers before their plugins
// start are the names the plugins give themselves.
func TestBundledDisplayNamesAreThePluginsOwn(t *testing.T) {
	plugins := map[string]*sdk.Plugin{"cln": clnprovider.New(), "cloudflow": cloudflowprovider.New(), "example": exampleprovider.New(),
		"ionos": ionosprovider.New(), "whm": whmprovider.New()}
	require.Len(t, bundledDisplayNames, len(plugins))
	for name, p := range plugins {
		m, err := p.Metadata(context.Background(), &sdk.MetadataRequest{})
		require.NoError(t, err)
		assert.Equal(t, name, m.Name)
		assert.Equal(t, m.DisplayName, bundledDisplayNames[name], name)
	}
}
