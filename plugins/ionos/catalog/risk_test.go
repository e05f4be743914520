package catalog_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/sdk"
)

// The whole catalog against the written rules: every operation is rated
// by at least its method's rule, and each rule's promise holds for every
// operation it applies to.
func TestEveryOperationIsRatedByTheRules(t *testing.T) {
	c := catalog.MustLoad()
	count := map[string]int{}
	for _, o := range c.Operations {
		r := catalog.Rate(&o)
		assert.NotEmpty(t, r.Rules, o.Name)
		for _, n := range r.Rules {
			count[n]++
		}
		has := func(rule string) bool { return strings.Contains(" "+strings.Join(r.Rules, " ")+" ", " "+rule+" ") }
		switch {
		case o.Method == "DELETE":
			assert.Equal(t, sdk.RiskCritical, r.Risk, "%s deletes", o.Name)
		case o.Method != "GET":
			assert.GreaterOrEqual(t, r.Risk, sdk.RiskLow, "%s changes", o.Name)
		}
		if has("secrets") {
			assert.Equal(t, sdk.RiskCritical, r.Risk, "%s returns a credential", o.Name)
			assert.True(t, r.Sensitive, "%s returns a credential: for the requester only", o.Name)
		}
		if has("access") || has("destroys") {
			assert.Equal(t, sdk.RiskCritical, r.Risk, o.Name)
		}
		if has("outbound") {
			assert.GreaterOrEqual(t, r.Risk, sdk.RiskHigh, "%s sends to or fetches from a given address", o.Name)
		}
		if r.Risk == sdk.RiskReadOnly {
			assert.Equal(t, "GET", o.Method, o.Name)
			assert.False(t, r.Sensitive, o.Name)
		}
		if r.Risk == sdk.RiskLow {
			assert.Equal(t, []string{"changes", "relabels"}, r.Rules, "%s is low only as a relabel", o.Name)
		}
		assert.Equal(t, r.Risk, catalog.RiskOf(&o), o.Name)
	}
	t.Logf("rules applied: %v", count)
	for _, rule := range catalog.Rules {
		assert.NotZero(t, count[rule.Name], "rule %s applies to no operation", rule.Name)
	}
}

// The operations the rules exist for, by name: the answers that are
// credentials, the changes to who can reach the account, and the ones
// that make IONOS fetch or send to a given address.
func TestNamedOperationsByRule(t *testing.T) {
	c := catalog.MustLoad()
	for name, want := range map[string]string{
		"get users api key":           "critical sensitive", // the user's API key
		"put users api key":           "critical sensitive", // a new API key
		"get vpns configuration_file": "critical sensitive", // the VPN's keys, zipped
		"get shared_storages access":  "critical sensitive", // a Kerberos keytab
		"list users":                  "critical sensitive", // each user's API key
		"post users api ips":          "critical sensitive", // lets an address use the API; answers the key
		"put roles permissions":       "critical",
		"post images":                 "high", // IONOS fetches the image from a given URL
		"put monitoring_policies":     "high", // alerts mailed to a given address
		"put servers":                 "low",
		"get servers":                 "read-only", // first_password is masked by name
		"delete servers":              "critical",
	} {
		o, ok := c.Get(name)
		if !assert.True(t, ok, name) {
			continue
		}
		r := catalog.Rate(o)
		got := r.Risk.String()
		if r.Sensitive {
			got += " sensitive"
		}
		assert.Equal(t, want, got, fmt.Sprintf("%s (rules %v)", name, r.Rules))
	}
}
