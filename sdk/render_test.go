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

// Progress is shown without saying anything twice.
func TestProgressShownSaysNothingTwice(t *testing.T) {
	cases := map[string]struct {
		p            sdk.Progress
		state, shown string
	}{
		"state and percent repeated": {sdk.Progress{State: "POWERING_OFF", Percent: 16, Message: "POWERING_OFF 16%"}, "POWERING_OFF", ""},
		"state repeated":             {sdk.Progress{State: "POWERING_OFF", Percent: -1, Message: "POWERING_OFF"}, "POWERING_OFF", ""},
		"message begins with state":  {sdk.Progress{State: sdk.ProgressQueued, Percent: -1, Message: "queued behind IONOS's request limit, about 40 s"}, "", "queued behind IONOS's request limit, about 40 s"},
		"message of its own":         {sdk.Progress{State: "BUILDING", Percent: 40, Message: "copying the template"}, "BUILDING", "copying the template"},
		"message only":               {sdk.Progress{Percent: -1, Message: "checking"}, "", "checking"},
		"state only":                 {sdk.Progress{State: "ACTIVE", Percent: -1}, "ACTIVE", ""},
		"other percent kept":         {sdk.Progress{State: "X", Percent: 16, Message: "X 17%"}, "", "X 17%"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			state, msg := tc.p.Shown()
			assert.Equal(t, tc.state, state)
			assert.Equal(t, tc.shown, msg)
		})
	}
}
