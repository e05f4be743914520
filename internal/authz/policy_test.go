package authz

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
)

func examplePolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := LoadFile(filepath.Join("..", "..", "examples", "policy.yaml"))
	require.NoError(t, err)
	return p
}

func act(cmd string, risk sdk.Risk, args sdk.Args) Action {
	prov, c, _ := strings.Cut(cmd, ":")
	return Action{Provider: prov, Command: c, Risk: risk, Args: args, Target: "sandbox", Channel: "C0SUPPORT"}
}

func TestExamplePolicyDecisions(t *testing.T) {
	p := examplePolicy(t)
	user := func(n string) Subject { id, _ := p.UserID(n); return Subject{User: id} }
	cases := map[string]struct {
		who      string
		action   Action
		want     Effect
		approver int
		confirm  bool
		reason   string
	}{
		"alice reads":                 {"alice", act("whm:account list", sdk.RiskReadOnly, nil), Allow, 0, false, ""},
		"alice low":                   {"alice", act("whm:hulk unblock", sdk.RiskLow, nil), Allow, 0, false, ""},
		"alice high needs one":        {"alice", act("example:counter add", sdk.RiskHigh, nil), NeedsApproval, 1, false, ""},
		"alice suspend needs one":     {"alice", act("whm:account suspend", sdk.RiskHigh, nil), NeedsApproval, 1, false, ""},
		"alice critical denied":       {"alice", act("cloudflow:vm rebuild", sdk.RiskCritical, nil), Deny, 0, false, "covers commands up to high risk, and this one is critical"},
		"bob suspends alone":          {"bob", act("whm:account suspend", sdk.RiskHigh, nil), Allow, 0, false, ""},
		"bob reboot needs one":        {"bob", act("ionos:server reboot", sdk.RiskHigh, nil), NeedsApproval, 1, false, ""},
		"bob rebuild needs two":       {"bob", act("cloudflow:vm rebuild", sdk.RiskCritical, nil), NeedsApproval, 2, true, ""},
		"carol reads":                 {"carol", act("cln:ipl check", sdk.RiskReadOnly, nil), Allow, 0, false, ""},
		"carol may not act":           {"carol", act("whm:hulk unblock", sdk.RiskLow, nil), Deny, 0, false, "up to read-only risk"},
		"erin high still approved":    {"erin", act("ionos:server reboot", sdk.RiskHigh, nil), NeedsApproval, 1, false, ""},
		"erin suspends alone":         {"erin", act("whm:account suspend", sdk.RiskHigh, nil), Allow, 0, false, ""},
		"stranger":                    {"U0NOBODY1", act("whm:account list", sdk.RiskReadOnly, nil), Deny, 0, false, "you have no role"},
		"deny rule beats admin":       {"erin", act("whm:call reboot", sdk.RiskCritical, nil), Deny, 0, false, "done outside chat"},
		"kcare small key":             {"alice", act("cln:kcare key create", sdk.RiskHigh, sdk.Args{"limit": int64(5)}), NeedsApproval, 1, false, ""},
		"kcare big key for tier1":     {"alice", act("cln:kcare key create", sdk.RiskHigh, sdk.Args{"limit": int64(50)}), Deny, 0, false, "at most 10 servers"},
		"kcare unlimited for tier1":   {"alice", act("cln:kcare key create", sdk.RiskHigh, sdk.Args{"limit": int64(0)}), Deny, 0, false, "at most 10"},
		"kcare big key for tier2":     {"bob", act("cln:kcare key create", sdk.RiskHigh, sdk.Args{"limit": int64(50)}), NeedsApproval, 1, false, ""},
		"kcare key without limit arg": {"alice", act("cln:kcare key create", sdk.RiskHigh, nil), NeedsApproval, 1, false, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := p.Authorize(user(tc.who), tc.action)
			assert.Equal(t, tc.want, d.Effect, "rule %s; reason %s", d.Rule, d.Reason)
			assert.NotEmpty(t, d.Rule)
			if tc.reason != "" {
				assert.Contains(t, d.Reason, tc.reason)
			}
			if tc.want == NeedsApproval {
				require.NotNil(t, d.Requirement)
				assert.Equal(t, tc.approver, d.Requirement.Approvers)
				assert.Equal(t, tc.confirm, d.Requirement.ConfirmTarget)
				assert.Equal(t, time.Hour, d.Requirement.TTL)
			}
		})
	}
}

func TestExamplePolicyApprovers(t *testing.T) {
	p := examplePolicy(t)
	user := func(n string) Subject { id, _ := p.UserID(n); return Subject{User: id} }
	high := act("ionos:server reboot", sdk.RiskHigh, nil)
	req := p.Requirement(user("bob"), high)
	for who, want := range map[string]Effect{"carol": Allow, "dan": Allow, "erin": Allow, "alice": Deny, "bob": Deny} {
		d := p.CanApprove(user(who), high, req)
		assert.Equal(t, want, d.Effect, "%s: %s %s", who, d.Rule, d.Reason)
	}
	assert.Contains(t, p.CanApprove(user("alice"), high, req).Reason, "you may not approve ionos:server reboot")
}

const base = `version: 1
users:
  alice: U0ALICE01
  bob: U0BOB0001
  carol: U0CAROL01
roles:
  ops:
    grants:
      - commands: ["whm:*"]
        max_risk: high
      - commands: ["cln:ipl register"]
        max_risk: critical
        when: 'args.ip in cidr("203.0.113.0/24") && args.type != "1"'
  lead:
    approve:
      - commands: ["*:*"]
bindings:
  - subjects: [alice]
    roles: [ops]
  - subjects: [slack:S0LEADS01]
    roles: [lead]
  - subjects: [bob]
    roles: [ops]
    channels: [C0OPS*]
`

func TestConditionsGroupsAndChannels(t *testing.T) {
	p, err := Parse("test.yaml", []byte(base))
	require.NoError(t, err)
	alice := Subject{User: "U0ALICE01"}
	reg := func(ip, typ string) Action {
		return Action{Provider: "cln", Command: "ipl register", Risk: sdk.RiskHigh, Args: sdk.Args{"ip": ip, "type": typ}}
	}
	assert.Equal(t, NeedsApproval, p.Authorize(alice, reg("203.0.113.7", "16")).Effect)
	d := p.Authorize(alice, reg("198.51.100.7", "16"))
	assert.Equal(t, Deny, d.Effect)
	assert.Contains(t, d.Reason, `allows it only when args.ip in cidr("203.0.113.0/24")`)
	assert.Equal(t, Deny, p.Authorize(alice, reg("203.0.113.7", "1")).Effect)
	d = p.Authorize(alice, Action{Provider: "cln", Command: "ipl register", Risk: sdk.RiskHigh, Args: sdk.Args{"type": "16"}})
	assert.Equal(t, Deny, d.Effect, "a condition that cannot be checked does not grant")
	assert.Contains(t, d.Reason, "cannot be checked")

	// Slack user groups come from the caller.
	lead := Subject{User: "U0CAROL01", Groups: []string{"S0LEADS01"}}
	req := Requirement{Approvers: 1}
	assert.Equal(t, Allow, p.CanApprove(lead, reg("203.0.113.7", "16"), req).Effect)
	assert.Equal(t, Deny, p.CanApprove(Subject{User: "U0CAROL01"}, reg("203.0.113.7", "16"), req).Effect)

	// Channel-scoped bindings.
	list := Action{Provider: "whm", Command: "account list", Risk: sdk.RiskReadOnly, Channel: "C0OPS1"}
	assert.Equal(t, Allow, p.Authorize(Subject{User: "U0BOB0001"}, list).Effect)
	list.Channel = "C0RANDOM"
	assert.Equal(t, Deny, p.Authorize(Subject{User: "U0BOB0001"}, list).Effect)

	// Explain names the roles and the rule.
	ex := p.Explain(alice, reg("203.0.113.7", "16")).String()
	assert.Contains(t, ex, "decision: needs-approval")
	assert.Contains(t, ex, "subject:  alice (U0ALICE01)")
	assert.Contains(t, ex, "role ops grant 2 (line 11)")
	assert.Contains(t, ex, "approval: 1 approver(s)")
}

func TestUserIDsNamesEveryoneThePolicyKnows(t *testing.T) {
	p, err := Parse("test.yaml", []byte(`version: 1
users:
  alice: U0ALICE01
groups:
  leads: [U0CAROL01, alice]
roles:
  lead:
    approve:
      - commands: ["*:*"]
bindings:
  - subjects: [group:leads, U0DIRECT1, slack:S0LEADS01, "*"]
    roles: [lead]
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"U0ALICE01", "U0CAROL01", "U0DIRECT1"}, p.UserIDs(), "named, in a group, bound by id; not a Slack group or *")
}

func TestMalformedPolicies(t *testing.T) {
	cases := map[string]struct {
		doc  string
		line int
		msg  string
	}{
		"bad yaml":                 {"version: 1\nroles: [\n", 2, "not valid YAML"},
		"tabs":                     {"version: 1\nroles:\n\tops: {}\n", 3, "not valid YAML"},
		"empty":                    {"", 0, "the file is empty"},
		"no version":               {strings.Replace(base, "version: 1\n", "", 1), 1, "version is missing"},
		"wrong version":            {strings.Replace(base, "version: 1", "version: 2", 1), 1, `unsupported version "2"`},
		"unknown top key":          {base + "approvers: [carol]\n", 25, `unknown key "approvers" in the policy`},
		"unknown grant key":        {strings.Replace(base, "max_risk: high", "max_rsk: high", 1), 10, `unknown key "max_rsk"`},
		"unknown role":             {strings.Replace(base, "roles: [lead]", "roles: [leads]", 1), 21, `unknown role "leads" (roles: lead, ops)`},
		"unknown user":             {strings.Replace(base, "subjects: [alice]", "subjects: [alicia]", 1), 18, `unknown subject "alicia"`},
		"bad user id":              {strings.Replace(base, "bob: U0BOB0001", "bob: bob@example.com", 1), 4, `"bob@example.com" is not a Slack user id`},
		"duplicate user id":        {strings.Replace(base, "bob: U0BOB0001", "bob: U0ALICE01", 1), 4, "is given to both"},
		"duplicate key":            {strings.Replace(base, "  bob: U0BOB0001", "  bob: U0BOB0001\n  bob: U0BOB0002", 1), 5, `"bob" appears twice in users`},
		"bad cel":                  {strings.Replace(base, `args.type != "1"`, `args.type !=`, 1), 13, "condition"},
		"cel not boolean":          {strings.Replace(base, `'args.ip in cidr("203.0.113.0/24") && args.type != "1"'`, `'"yes"'`, 1), 13, "gives string, not a boolean"},
		"cel unknown var":          {strings.Replace(base, `args.type != "1"`, `tpye != "1"`, 1), 13, "undeclared reference to 'tpye'"},
		"pattern without colon":    {strings.Replace(base, `"whm:*"`, `"whm"`, 1), 9, `command pattern "whm" needs the form provider:command`},
		"pattern bad chars":        {strings.Replace(base, `"whm:*"`, `"whm:acc[ount"`, 1), 9, "may use only lower-case letters"},
		"bad risk":                 {strings.Replace(base, "max_risk: high", "max_risk: severe", 1), 10, `unknown risk level "severe"`},
		"bad ttl":                  {base + "approvals:\n  ttl: forever\n", 26, `"forever" is not a positive duration`},
		"bad approvers":            {base + "approvals:\n  by_risk:\n    high: {approvers: -1}\n", 27, `"-1" is not a whole number from 0 to 10`},
		"unknown risk key":         {base + "approvals:\n  by_risk:\n    severe: {approvers: 1}\n", 27, `unknown key "severe" in by_risk`},
		"unsatisfiable":            {strings.Replace(base, "[slack:S0LEADS01]", "[carol]", 1) + "approvals:\n  by_risk:\n    critical: {approvers: 2}\n", 27, "the default approval for critical risk needs 2 approver(s), but only carol may approve it"},
		"nobody approves":          {strings.Replace(base, "[slack:S0LEADS01]", "[carol]", 1) + "approvals:\n  rules:\n    - commands: [\"whm:account remove\"]\n      approvers: 1\n      approver_roles: [ops]\n", 29, "role ops approves nothing"},
		"no approver at all":       {strings.Replace(strings.Replace(base, "[slack:S0LEADS01]", "[carol]", 1), "roles: [lead]", "roles: [ops]", 1), 0, "needs 1 approver(s), but nobody may approve it"},
		"empty role":               {strings.Replace(base, "  lead:\n    approve:\n      - commands: [\"*:*\"]\n", "  lead: {}\n", 1), 14, "role lead grants nothing and approves nothing"},
		"binding missing roles":    {base + "  - subjects: [carol]\n", 25, "a binding needs subjects and roles"},
		"unknown group":            {strings.Replace(base, "[slack:S0LEADS01]", "[group:leads]", 1), 20, `unknown group "leads"`},
		"bad slack group":          {strings.Replace(base, "slack:S0LEADS01", "slack:leads", 1), 20, `"slack:leads" is not a Slack user group id`},
		"confirm without approver": {base + "approvals:\n  by_risk:\n    high: {approvers: 0, confirm_target: true}\n", 27, "confirm_target needs at least one approver"},
		"no roles":                 {"version: 1\n", 1, "roles is missing"},
		"grant without commands":   {strings.Replace(base, `      - commands: ["whm:*"]`+"\n        max_risk: high", "      - max_risk: high", 1), 9, "needs commands"},
		"rule without approvers":   {base + "approvals:\n  rules:\n    - commands: [\"whm:*\"]\n", 27, "needs approvers (0 to run without approval)"},
	}
	if len(cases) < 15 {
		t.Fatal("too few cases")
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("policy.yaml", []byte(tc.doc))
			require.Error(t, err)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			found := false
			for _, pr := range ve.Problems {
				if strings.Contains(pr.Msg, tc.msg) && (tc.line == 0 || pr.Line == tc.line) {
					found = true
				}
			}
			assert.True(t, found, "want line %d %q in:\n%s", tc.line, tc.msg, err)
			if tc.line > 0 {
				assert.Contains(t, err.Error(), fmt.Sprintf("policy.yaml:%d: ", tc.line))
			}
		})
	}
}

func TestHolderKeepsTheLastGoodPolicy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte(base), 0o600))
	var logs bytes.Buffer
	h, err := NewHolder(path, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	alice := Subject{User: "U0ALICE01"}
	list := Action{Provider: "whm", Command: "account list", Risk: sdk.RiskReadOnly}
	assert.Equal(t, Allow, h.Authorize(alice, list).Effect)

	// A bad file is rejected; the old policy stays in force.
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(base, "roles: [ops]", "roles: [opz]", 1)), 0o600))
	require.Error(t, h.Reload())
	assert.Equal(t, Allow, h.Authorize(alice, list).Effect)
	st := h.Status()
	assert.Contains(t, st.LastError, `unknown role "opz"`)
	assert.Contains(t, logs.String(), "policy reload rejected")

	// A good change takes effect.
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(base, `"whm:*"`, `"cln:*"`, 1)), 0o600))
	require.NoError(t, h.Reload())
	assert.Equal(t, Deny, h.Authorize(alice, list).Effect)
	st = h.Status()
	assert.Empty(t, st.LastError)
	assert.Equal(t, 1, st.Reloads)
}

// bigPolicy has 200 grants spread over 20 roles, the matching one last.
func bigPolicy(t testing.TB) *Policy {
	var b strings.Builder
	b.WriteString("version: 1\nusers:\n  alice: U0ALICE01\nroles:\n")
	for r := 0; r < 20; r++ {
		fmt.Fprintf(&b, "  r%d:\n    grants:\n", r)
		for g := 0; g < 10; g++ {
			fmt.Fprintf(&b, "      - commands: [\"p%d:cmd%d *\"]\n        targets: [\"web%02d*\"]\n        when: 'args.limit <= %d'\n", r, g, g, g+10)
		}
	}
	b.WriteString("      - commands: [\"whm:account *\"]\n        when: 'args.user.startsWith(\"demo\")'\nbindings:\n  - subjects: [alice]\n    roles: [")
	for r := 0; r < 20; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "r%d", r)
	}
	b.WriteString("]\napprovals:\n  by_risk:\n    high: {approvers: 0}\n    critical: {approvers: 0}\n")
	p, err := Parse("big.yaml", []byte(b.String()))
	require.NoError(t, err)
	return p
}

func BenchmarkAuthorize200Rules(b *testing.B) {
	p := bigPolicy(b)
	s := Subject{User: "U0ALICE01"}
	a := Action{Provider: "whm", Command: "account suspend", Risk: sdk.RiskHigh, Target: "web01", Args: sdk.Args{"user": "demo1", "limit": int64(5)}}
	if d := p.Authorize(s, a); d.Effect == Deny {
		b.Fatal(d.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Authorize(s, a)
	}
}

func TestBigPolicyDecides(t *testing.T) {
	p := bigPolicy(t)
	s := Subject{User: "U0ALICE01"}
	assert.NotEqual(t, Deny, p.Authorize(s, Action{Provider: "whm", Command: "account suspend", Risk: sdk.RiskHigh, Args: sdk.Args{"user": "demo1"}}).Effect)
	assert.Equal(t, Deny, p.Authorize(s, Action{Provider: "whm", Command: "account suspend", Risk: sdk.RiskHigh, Args: sdk.Args{"user": "prod1"}}).Effect)
	assert.NotEqual(t, Deny, p.Authorize(s, Action{Provider: "p3", Command: "cmd4 x", Risk: sdk.RiskHigh, Target: "web04a", Args: sdk.Args{"limit": int64(14)}}).Effect)
	assert.Equal(t, Deny, p.Authorize(s, Action{Provider: "p3", Command: "cmd4 x", Risk: sdk.RiskHigh, Target: "web04a", Args: sdk.Args{"limit": int64(15)}}).Effect)
}
