package command

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A provider may hand out the same slice with other contents (it refilled
// its buffer with a restarted plugin's catalog): same address, same
// length. Commands must parse by what the catalog says now.
func TestParseFollowsACatalogChangedInPlace(t *testing.T) {
	p := provider()
	index := func(name string) int {
		for i := range p.catalog {
			if p.catalog[i].Name == name {
				return i
			}
		}
		t.Fatalf("no %s in the catalog", name)
		return -1
	}
	parsed, err := Parse(p, "status")
	require.NoError(t, err)
	require.Equal(t, "status", parsed.Invocation.Command.Name)
	parsed, err = Parse(p, "hulk flush 192.0.2.1")
	require.NoError(t, err)
	require.Equal(t, "hulk unblock", parsed.Invocation.Command.Name)

	// The commands trade places, and an alias is renamed.
	s, r := index("status"), index("ipl remove")
	p.catalog[s], p.catalog[r] = p.catalog[r], p.catalog[s]
	p.catalog[index("hulk unblock")].Aliases = []string{"hulk purge"}

	parsed, err = Parse(p, "status")
	require.NoError(t, err)
	assert.Equal(t, "status", parsed.Invocation.Command.Name, "status parses as status")
	parsed, err = Parse(p, "ipl remove 203.0.113.7 type=1")
	require.NoError(t, err)
	assert.Equal(t, "ipl remove", parsed.Invocation.Command.Name)
	parsed, err = Parse(p, "hulk purge 192.0.2.1")
	if assert.NoError(t, err, "the new alias") {
		assert.Equal(t, "hulk unblock", parsed.Invocation.Command.Name)
	}
	_, err = Parse(p, "hulk flush 192.0.2.1")
	assert.Error(t, err, "the old alias is gone")
}
