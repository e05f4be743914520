package provider_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/sdk"
)

func suggested(ss []sdk.Suggestion) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Value)
	}
	return out
}

func TestAccountNamesAreSuggestedAlsoForCallsBuiltOnDemand(t *testing.T) {
	h, _ := start(t)
	assert.Equal(t, []string{"demo1"}, suggested(h.Complete("account suspend", "user", "de", nil)))
	assert.Equal(t, []string{"shopco", "shop.example"}, suggested(h.Complete("account info", "account", "sho", nil)), "a domain names an account too")
	assert.Equal(t, []string{"blogger"}, suggested(h.Complete("call suspendacct", "user", "b", nil)))
	assert.Empty(t, h.Complete("call suspendacct", "user", "nosuch", nil))

	// The catalog says which parameters suggest values, for a form to
	// offer them, on the "call" family too.
	cat := h.Commands()
	i := slices.IndexFunc(cat, func(c sdk.CommandSpec) bool { return c.Name == "call suspendacct" })
	if assert.GreaterOrEqual(t, i, 0) {
		p, _ := cat[i].Param("user")
		assert.True(t, p.Completes)
	}
}
