package authz

import (
	"os"
	"testing"

	"github.com/deskbot/deskbot/sdk"
)

// FuzzParsePolicy feeds the policy loader arbitrary YAML: it either
// refuses the file with problems or returns a policy that can decide.
func FuzzParsePolicy(f *testing.F) {
	if b, err := os.ReadFile("../../examples/policy.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("version: 1\nroles:\n  r:\n    grants: [{commands: [\"*:*\"], when: 'args.n > 3'}]\nbindings:\n  - subjects: ['*']\n    roles: [r]\n"))
	f.Add([]byte("version: 1\ndeny:\n  - commands: [\"whm:call *\"]\n    when: 'args.ip in cidr(\"10.0.0.0/8\")'\n"))
	f.Add([]byte("version: 2\n"))
	f.Add([]byte("version: 1\nroles:\n  r:\n    grants: [{commands: [\"*:*\"]}]\ntickets:\n  pattern: '^[A-Z]+-[0-9]+$'\n  require:\n    risks: [high]\n    commands: [\"whm:*\"]\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			if p != nil {
				t.Fatal("a refused policy came back with a value")
			}
			return
		}
		s := Subject{User: "U0ALICE01"}
		a := Action{Provider: "whm", Command: "account suspend", Risk: sdk.RiskHigh, Target: "web01", Channel: "C1", Args: sdk.Args{"user": "demo1", "n": int64(4), "ip": "10.1.2.3"}}
		d := p.Authorize(s, a)
		_ = p.Requirement(s, a)
		_ = p.Explain(s, a)
		if tr := p.Ticket(a); tr.Required && tr.Rule == "" {
			t.Fatal("a ticket requirement without the rule that made it")
		}
		if d.Rule == "" {
			t.Fatalf("a decision (%v) without the rule that made it", d.Effect)
		}
	})
}
