package sdk_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
)

func TestAddJSON(t *testing.T) {
	var v any
	require.NoError(t, json.Unmarshal([]byte(`{
		"hostname": "web01", "load": 0.5, "up": true,
		"acct": [{"user": "demo1", "disk": 12, "id": 7}, {"user": "shop", "disk": 30, "id": 8, "tags": ["a", "b"]}],
		"names": ["x", "y"],
		"nested": {"deep": {"n": 1}}
	}`), &v))
	r := sdk.NewResult().AddJSON("", v)
	require.Len(t, r.Parts, 4)
	assert.Equal(t, []sdk.KeyValue{{Key: "hostname", Value: "web01"}, {Key: "load", Value: "0.5"}, {Key: "up", Value: "yes"}}, r.Parts[0].KeyValues)
	tbl := r.Parts[1].Table
	require.NotNil(t, tbl)
	assert.Equal(t, "acct", r.Parts[1].Title)
	assert.Equal(t, []string{"user", "id", "disk", "tags"}, tbl.Columns, "identifying columns first")
	assert.Equal(t, []string{"shop", "8", "30", "a, b"}, tbl.Rows[1])
	assert.Equal(t, []sdk.KeyValue{{Key: "names", Value: "x, y"}}, r.Parts[2].KeyValues)
	assert.Equal(t, "nested.deep", r.Parts[3].Title)
	r = sdk.NewResult().AddJSON("things", []any{})
	assert.Equal(t, "things: none.", r.Parts[0].Text.Body)
}

// A table and what follows it are one chain; a short row is padded.
func TestAddRowsChains(t *testing.T) {
	r := sdk.NewResult().AddText("2 records").
		AddRows("Records", []string{"name", "type", "value"}, [][]string{{"www", "A", "203.0.113.9"}, {"mail", "MX"}}).
		AddText("done")
	require.Len(t, r.Parts, 3)
	assert.Equal(t, "Records", r.Parts[1].Title)
	assert.Equal(t, [][]string{{"www", "A", "203.0.113.9"}, {"mail", "MX", ""}}, r.Parts[1].Table.Rows)
	assert.Equal(t, "done", r.Parts[2].Text.Body)
}
