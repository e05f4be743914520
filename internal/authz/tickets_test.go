package authz

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
)

func withTickets(t *testing.T, section string) (*Policy, error) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "policy.yaml"))
	require.NoError(t, err)
	return Parse("policy.yaml", append(src, []byte("\n"+section)...))
}

func TestTicketRequirement(t *testing.T) {
	p, err := withTickets(t, `tickets:
  pattern: '^[A-Z]+-[0-9]+$'
  require:
    risks: [critical]
    commands: ["whm:account suspend", "cln:ipl *"]
`)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		action   Action
		required bool
	}{
		"a critical command":        {act("ionos:server rebuild", sdk.RiskCritical, nil), true},
		"a named command":           {act("whm:account suspend", sdk.RiskHigh, nil), true},
		"a command matching a glob": {act("cln:ipl remove", sdk.RiskHigh, nil), true},
		"a high-risk command":       {act("ionos:server reboot", sdk.RiskHigh, nil), false},
		"a read-only command":       {act("whm:account list", sdk.RiskReadOnly, nil), false},
	} {
		t.Run(name, func(t *testing.T) {
			r := p.Ticket(tc.action)
			assert.Equal(t, tc.required, r.Required)
			require.NotNil(t, r.Pattern, "the pattern applies to every ticket given")
			assert.True(t, r.Pattern.MatchString("ABC-123"))
			assert.False(t, r.Pattern.MatchString("abc 123"))
			if tc.required {
				assert.Contains(t, r.Rule, "line ")
			}
		})
	}

	none := examplePolicy(t).Ticket(act("whm:account suspend", sdk.RiskCritical, nil))
	assert.False(t, none.Required, "without a tickets section nothing needs one")
	assert.Nil(t, none.Pattern)
}

func TestMalformedTicketSections(t *testing.T) {
	for name, tc := range map[string]struct{ section, want string }{
		"a pattern that is not a regular expression": {"tickets:\n  pattern: '^[A-Z+$'\n", "tickets pattern \"^[A-Z+$\" is not a regular expression"},
		"an unknown risk":                      {"tickets:\n  require:\n    risks: [severe]\n", "unknown risk level \"severe\""},
		"a require that requires nothing":      {"tickets:\n  require: {}\n", "tickets require needs risks or commands"},
		"a command pattern without a provider": {"tickets:\n  require:\n    commands: [suspend]\n", "needs the form provider:command"},
		"an unknown key":                       {"tickets:\n  format: x\n", `unknown key "format" in tickets`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := withTickets(t, tc.section)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
