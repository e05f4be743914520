package sdk

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TargetProblems is what `bot config check` shows an operator before a
// deploy; it must say what configuring the plugin would refuse.
func TestTargetProblems(t *testing.T) {
	cat := Catalog{
		Settings:        []Param{{Name: "base_url", Type: TypeString, Required: true, Description: "API address"}, {Name: "timeout", Type: TypeInt}},
		Secrets:         []Param{{Name: "token", Required: true, Description: "API token"}},
		SandboxSettings: []Param{{Name: "accounts", Type: TypeInt}, SimTimePerCall},
	}
	tests := map[string]struct {
		target Target
		want   []string
	}{
		"a complete real target": {
			target: Target{Name: "prod", Settings: map[string]string{"base_url": "https://api.example"}, Secrets: map[string]string{"token": "x"}},
		},
		"a sandbox setting the SDK also adds is listed once": {
			target: Target{Name: "sim", Sandbox: true, Settings: map[string]string{"sim_time_per_cal": "1s"}},
			want:   []string{"unknown setting sim_time_per_cal (did you mean sim_time_per_call?); settings: accounts, base_url, sim_time_per_call, timeout"},
		},
		"a sandbox target needs nothing": {
			target: Target{Name: "sim", Sandbox: true, Settings: map[string]string{"accounts": "3"}},
		},
		"misspelt, sandbox-only, malformed and missing": {
			target: Target{Name: "prod", Settings: map[string]string{"baseurl": "x", "accounts": "3", "timeout": "soon"}, Secrets: map[string]string{"tokn": "x"}},
			want: []string{
				"setting accounts applies to a sandbox target only",
				"unknown setting baseurl (did you mean base_url?); settings: base_url, timeout",
				"setting timeout: ",
				"unknown secret tokn (did you mean token?); secrets: token",
				"setting base_url is required (API address)",
				"secret token is required (API token)",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := TargetProblems(cat, tc.target)
			if assert.Len(t, got, len(tc.want), "%q", got) {
				for i, w := range tc.want {
					assert.Contains(t, got[i], w)
				}
			}
		})
	}
}
