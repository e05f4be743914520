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

// What an example may leave to the user is not a fault: a secret the bot
// asks for privately, a value written as …, a target named with --target.
// Anything else the bot would refuse is.
func TestCheckExamples(t *testing.T) {
	spec := sdk.CommandSpec{Name: "user create", Summary: "Create", Risk: sdk.RiskLow, Params: []sdk.Param{
		sdk.String("user", "").AsRequired().AsPositional(),
		sdk.Int("quota", "").Between(1, 100),
		sdk.String("password", "").AsRequired().AsSensitive(),
		sdk.String("plan", "").AsRequired(),
	}}
	other := sdk.CommandSpec{Name: "user list", Summary: "List", Risk: sdk.RiskReadOnly}
	passwd := sdk.CommandSpec{Name: "user passwd", Summary: "Set the password", Risk: sdk.RiskLow, Params: []sdk.Param{
		sdk.String("user", "").AsRequired().AsPositional(),
		sdk.String("password", "").AsRequired().AsSensitive(),
	}}
	cases := map[string]string{
		"/demo user create bob plan=basic":                        "",
		"/demo user create bob plan=basic password=s3cret-enough": "",
		"/demo user create bob plan=… quota=…":                    "",
		"/demo user create bob plan=basic --target eu":            "",
		"/demo user create bob":                                   "is missing password, plan",
		"/demo user create bob plan=basic quota=0":                "0 is below the minimum of 1",
		"/demo user create bob plan=basic bob2":                   "unexpected word",
		"/demo user list":                                         `runs "user list" instead`,
		"/demo user passwd bob":                                   `runs "user passwd" instead`,
		"/demo user create help":                                  "asks for help",
	}
	for ex, want := range cases {
		t.Run(ex, func(t *testing.T) {
			s := spec
			s.Examples = []string{ex}
			errs := CheckExamples("demo", []sdk.CommandSpec{s, other, passwd})
			if want == "" {
				if len(errs) > 0 {
					t.Fatalf("a good example was refused: %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
				t.Fatalf("want one problem saying %q, got %v", want, errs)
			}
		})
	}
}

func TestCheckCompletions(t *testing.T) {
	specs := []sdk.CommandSpec{{Name: "greet", Params: []sdk.Param{sdk.String("name", "").WithAliases("who")}}}
	if errs := CheckCompletions(specs, map[string][]string{"greet": {"name", "who"}}); len(errs) > 0 {
		t.Errorf("a parameter and its alias: %v", errs)
	}
	errs := CheckCompletions(specs, map[string][]string{"greet": {"nmae"}, "gone": {"x"}})
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), `command "gone" has suggestions (Complete) but is not in the catalog`) ||
		!strings.Contains(errs[1].Error(), `Complete("nmae", ...) names no parameter`) {
		t.Errorf("got %v", errs)
	}
}

func TestDiffShowsWhatChanged(t *testing.T) {
	got := Diff("a\nb\nc\nd\ne\nf\ng\nh\ni\nj", "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk")
	want := "  b\n  c\n- d\n+ D\n  e\n  f\n  ...\n  i\n  j\n+ k\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
