package catalog_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/sdk"
)

func TestCatalogHoldsEveryOperation(t *testing.T) {
	c := catalog.MustLoad()
	require.Len(t, c.Operations, 175)
	methods := map[string]int{}
	groups := map[string]int{}
	async := 0
	for _, o := range c.Operations {
		methods[o.Method]++
		groups[o.Group]++
		if o.Async() {
			async++
		}
		for _, pp := range o.PathParams {
			assert.Contains(t, o.Path, "{"+pp.Name+"}", o.Name)
		}
		assert.NotEmpty(t, o.Responses, o.Name)
	}
	assert.Equal(t, map[string]int{"GET": 87, "POST": 32, "PUT": 26, "DELETE": 30}, methods)
	assert.Equal(t, 70, async, "operations documenting 202 Accepted")
	assert.Len(t, groups, 23)
	assert.Equal(t, 41, groups["servers"])
	assert.Equal(t, 19, groups["monitoring_policies"])
}

func TestNames(t *testing.T) {
	c := catalog.MustLoad()
	for name, want := range map[string]string{
		"list servers":                       "GET /servers",
		"get servers":                        "GET /servers/{server_id}",
		"delete servers":                     "DELETE /servers/{server_id}",
		"put servers status action":          "PUT /servers/{server_id}/status/action",
		"get servers status":                 "GET /servers/{server_id}/status",
		"list servers fixed_instance_sizes":  "GET /servers/fixed_instance_sizes",
		"delete servers ips":                 "DELETE /servers/{server_id}/ips/{ip_id}",
		"get users current_user_permissions": "GET /users/current_user_permissions",
	} {
		o, ok := c.Get(name)
		require.True(t, ok, name)
		assert.Equal(t, want, o.Method+" "+o.Path)
	}
}

func TestMatchPrefersLiteralPaths(t *testing.T) {
	c := catalog.MustLoad()
	o, vars, ok := c.Match("GET", "/servers/fixed_instance_sizes")
	require.True(t, ok)
	assert.Equal(t, "list servers fixed_instance_sizes", o.Name)
	assert.Empty(t, vars)
	o, vars, ok = c.Match("GET", "/servers/ABC")
	require.True(t, ok)
	assert.Equal(t, "get servers", o.Name)
	assert.Equal(t, "ABC", vars["server_id"])
	o, _, ok = c.Match("GET", "/users/current_user_permissions")
	require.True(t, ok)
	assert.Equal(t, "get users current_user_permissions", o.Name)
	_, _, ok = c.Match("PATCH", "/servers")
	assert.False(t, ok)
}

func TestIrregularitiesHandled(t *testing.T) {
	c := catalog.MustLoad()
	o, _ := c.Get("list servers")
	assert.Contains(t, strings.Join(o.Notes, "\n"), "swaps the descriptions of page and per_page")
	o, _ = c.Get("delete servers")
	_, ok := o.QueryParam("keep_ips")
	assert.True(t, ok, "keep_ips is declared though the reference names it in prose only")
	o, _ = c.Get("delete servers ips")
	_, ok = o.QueryParam("keep_ip")
	assert.True(t, ok)
	assert.Empty(t, o.Body, "keep_ip travels in the query, not a DELETE body")
	o, _ = c.Get("post servers ips")
	assert.Contains(t, string(o.Body), `"type"`)
	assert.NotContains(t, string(o.Body), "type_ip")
	o, _ = c.Get("list logs")
	for _, q := range o.Query {
		if q.Name == "start_date" || q.Name == "end_date" {
			assert.False(t, q.Required, "needed only with period=CUSTOM")
		}
		if q.Name == "period" {
			assert.Contains(t, q.Values, "LAST_24H")
		}
	}
	o, _ = c.Get("post servers snapshots")
	assert.True(t, o.EmptyBody)
	o, _ = c.Get("put servers status action")
	assert.Contains(t, string(o.Body), `"boolean"`, "type bool read as boolean")
	o, _ = c.Get("get vpns configuration_file")
	r, _ := o.Success()
	assert.Contains(t, string(c.Example(o.Name, r.Code)), "config_zip_file")
	assert.Empty(t, r.Example, "examples are not kept on the loaded operations")
	assert.Nil(t, c.Example("no such operation", 200))
	// Schemas carry no prose, but keep a property called description.
	for _, op := range c.Operations {
		var sch any
		if len(op.Body) > 0 {
			require.NoError(t, json.Unmarshal(op.Body, &sch))
			assert.False(t, hasProse(sch, false), op.Name)
		}
	}
	o, _ = c.Get("put servers")
	assert.Regexp(t, `"description":\s*\{`, string(o.Body), "the property survives")
	assert.NotEmpty(t, c.Irregular)
}

// Every body schema compiles, and every documented body example passes
// its own schema (after the repairs the notes describe).
func TestBodySchemas(t *testing.T) {
	c := catalog.MustLoad()
	n := 0
	for i := range c.Operations {
		o := &c.Operations[i]
		if len(o.Body) == 0 {
			continue
		}
		n++
		if len(o.BodyExample) == 0 {
			continue
		}
		var ex any
		dec := json.NewDecoder(bytes.NewReader(o.BodyExample))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&ex), o.Name)
		assert.NoError(t, o.ValidateBody(ex), "%s: its own example", o.Name)
	}
	assert.Equal(t, 54, n)
	o, _ := c.Get("put servers status action")
	err := o.ValidateBody(map[string]any{"action": "SHUTDOWN"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "action: value must be one of")
	o, _ = c.Get("put servers hardware")
	err = o.ValidateBody(map[string]any{"vcore": 32, "cores_per_processor": 1, "ram": 4})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vcore")
	assert.NoError(t, o.ValidateBody(map[string]any{"fixed_instance_size_id": "ABC"}))
}

func TestRisk(t *testing.T) {
	c := catalog.MustLoad()
	risk := func(name string) sdk.Risk {
		o, ok := c.Get(name)
		require.True(t, ok, name)
		return catalog.RiskOf(o)
	}
	for _, o := range c.Operations {
		r := catalog.RiskOf(&o)
		switch o.Method {
		case "GET":
			// Read-only, unless its answer is a credential (rule 5).
			if catalog.SensitiveOf(&o) {
				assert.Equal(t, sdk.RiskCritical, r, o.Name)
			} else {
				assert.Equal(t, sdk.RiskReadOnly, r, o.Name)
			}
		case "DELETE":
			assert.Equal(t, sdk.RiskCritical, r, o.Name)
		default:
			assert.Greater(t, r, sdk.RiskReadOnly, o.Name)
		}
	}
	assert.Equal(t, sdk.RiskCritical, risk("put servers image"), "reinstall")
	assert.Equal(t, sdk.RiskCritical, risk("put servers snapshots"), "restore")
	assert.Equal(t, sdk.RiskCritical, risk("put servers hardware"), "resize")
	assert.Equal(t, sdk.RiskHigh, risk("put servers status action"))
	assert.Equal(t, sdk.RiskLow, risk("put public_ips"))
	assert.Equal(t, sdk.RiskHigh, risk("post servers"))
}

func hasProse(v any, inProps bool) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if !inProps && (k == "description" || k == "$schema") {
				return true
			}
			if hasProse(val, k == "properties" && !inProps) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasProse(e, false) {
				return true
			}
		}
	}
	return false
}
