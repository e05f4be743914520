package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/plugins/ionos/sim"
	"github.com/deskbot/deskbot/sdk"
)

func TestServerNamesAndIdsAreSuggestedAlsoForCallsBuiltOnDemand(t *testing.T) {
	h, _ := start(t, sim.Options{})
	values := func(ss []sdk.Suggestion) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Value)
		}
		return out
	}
	assert.Contains(t, values(h.Complete("server reboot", "server", "web", nil)), "web01")
	got := h.Complete("call get servers", "server_id", web01[:4], nil)
	if assert.NotEmpty(t, got) {
		assert.Equal(t, web01, got[0].Value)
		assert.Equal(t, "web01", got[0].Description, "an id is described by its server's name")
	}
	assert.Empty(t, h.Complete("server reboot", "server", "nosuch", nil))
}
