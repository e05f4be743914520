package authz_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/seed"
	"github.com/deskbot/deskbot/sdk"
)

// seededActions are one action per seeded command, on a target some
// grants are scoped to.
func seededActions() []authz.Action {
	out := make([]authz.Action, len(seed.Commands))
	for i, c := range seed.Commands {
		prov, cmd, _ := strings.Cut(c, ":")
		out[i] = authz.Action{Provider: prov, Command: cmd, Target: seed.Target(i), Channel: "C0DESK", Risk: sdk.RiskLow, Args: sdk.Args{"limit": int64(20)}}
	}
	return out
}

// BenchmarkAuthorizeCurve authorizes a user of a 10,000-user policy
// (two teams, six roles) against every seeded command in turn, at 50, 500
// and 5,000 rules: the cost must grow with the rules that can match a
// command, not with the policy. p50-ns is the median single decision.
func BenchmarkAuthorizeCurve(b *testing.B) {
	for _, rules := range []int{50, 500, 5000} {
		b.Run(fmt.Sprintf("rules=%d", rules), func(b *testing.B) {
			p, err := authz.Parse("seeded.yaml", seed.Policy(rules, 10_000))
			if err != nil {
				b.Fatal(err)
			}
			s := authz.Subject{User: seed.UserID(4217)}
			acts := seededActions()
			for _, a := range acts {
				p.Authorize(s, a) // the first decision for a command builds its index
			}
			lat := make([]time.Duration, 0, 1<<16)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				t := time.Now()
				p.Authorize(s, acts[i%len(acts)])
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t))
				}
				i++
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// The per-command index keeps the policy's order: the first grant that
// covers a command decides, whether it names the command or a wildcard,
// and a command decided before does not change what another gets.
func TestIndexedRulesKeepPolicyOrder(t *testing.T) {
	p, err := authz.Parse("order.yaml", []byte(`version: 1
users: {alice: U0ALICE01}
groups: {ops: [alice]}
roles:
  first:
    grants:
      - commands: ["whm:dns *"]
      - commands: ["whm:*"]
      - commands: ["whm:account list"]
bindings:
  - subjects: [group:ops]
    roles: [first]
deny:
  - commands: ["cln:*"]
    reason: not cln
  - commands: ["whm:account delete"]
    reason: never
approvals:
  by_risk: {high: {approvers: 0}, critical: {approvers: 0}}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := authz.Subject{User: "U0ALICE01"}
	decide := func(cmd string) authz.Decision {
		prov, c, _ := strings.Cut(cmd, ":")
		return p.Authorize(s, authz.Action{Provider: prov, Command: c, Risk: sdk.RiskLow})
	}
	for range 2 {
		if d := decide("whm:account list"); !strings.HasPrefix(d.Rule, "role first grant 2 ") {
			t.Errorf("whm:account list decided by %q, want the wildcard grant 2 that comes first", d.Rule)
		}
		if d := decide("whm:dns add"); !strings.HasPrefix(d.Rule, "role first grant 1 ") {
			t.Errorf("whm:dns add decided by %q, want grant 1", d.Rule)
		}
		if d := decide("whm:account delete"); d.Effect != authz.Deny || !strings.HasPrefix(d.Rule, "deny rule 2 ") {
			t.Errorf("whm:account delete: %v by %q, want deny rule 2", d.Effect, d.Rule)
		}
		if d := decide("cln:ipl check"); d.Effect != authz.Deny || !strings.HasPrefix(d.Rule, "deny rule 1 ") {
			t.Errorf("cln:ipl check: %v by %q, want deny rule 1", d.Effect, d.Rule)
		}
		if d := decide("ionos:server list"); d.Effect != authz.Deny || d.Rule != "default deny" {
			t.Errorf("ionos:server list: %v by %q, want the default deny", d.Effect, d.Rule)
		}
	}
	if got := p.GroupsOf("U0ALICE01"); !slices.Equal(got, []string{"ops"}) {
		t.Errorf("GroupsOf = %v", got)
	}
}

// The seeded policies load: the generator writes what the loader accepts.
func TestSeededPoliciesLoad(t *testing.T) {
	for _, rules := range []int{50, 500} {
		p, err := authz.Parse("seeded.yaml", seed.Policy(rules, 1_000))
		if err != nil {
			t.Fatalf("%d rules: %v", rules, err)
		}
		if got := p.GroupsOf(seed.UserID(217)); len(got) != 2 {
			t.Errorf("user 217 is in %v, want two teams", got)
		}
	}
}
