package sdktest

import (
	"strings"
	"testing"

	"github.com/deskbot/deskbot/sdk"
)

func TestCriticalCommandsMustNameTheirResource(t *testing.T) {
	cases := map[string]struct {
		spec sdk.CommandSpec
		want string // "" for no problem
	}{
		"critical without a resource": {
			spec: sdk.CommandSpec{Name: "acct remove", Summary: "Remove", Risk: sdk.RiskCritical, Params: []sdk.Param{sdk.String("user", "").AsRequired()}},
			want: `command "acct remove" is critical but marks no resource parameter`,
		},
		"critical and acting on the whole target": {
			spec: sdk.CommandSpec{Name: "restore run", Summary: "Run", Risk: sdk.RiskCritical, Params: []sdk.Param{sdk.Bool("force", ""), sdk.String("password", "").AsRequired().AsSensitive()}},
		},
		"critical with a resource": {
			spec: sdk.CommandSpec{Name: "acct remove", Summary: "Remove", Risk: sdk.RiskCritical, Params: []sdk.Param{sdk.String("user", "").AsResource()}},
		},
		"high without a resource": {
			spec: sdk.CommandSpec{Name: "acct suspend", Summary: "Suspend", Risk: sdk.RiskHigh, Params: []sdk.Param{sdk.String("user", "")}},
		},
		"sensitive resource": {
			spec: sdk.CommandSpec{Name: "pw set", Summary: "Set", Risk: sdk.RiskHigh, Params: []sdk.Param{sdk.String("pw", "").AsSensitive().AsResource()}},
			want: `command "pw set": parameter "pw" is sensitive`,
		},
		"two resources": {
			spec: sdk.CommandSpec{Name: "mv", Summary: "Move", Risk: sdk.RiskHigh, Params: []sdk.Param{sdk.String("a", "").AsResource(), sdk.String("b", "").AsResource()}},
			want: `command "mv" marks 2 resource parameters`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			errs := CheckCatalog("demo", []sdk.CommandSpec{tc.spec})
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected problems: %v", errs)
				}
				return
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got %v", tc.want, errs)
		})
	}
}
