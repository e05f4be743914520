package sdktest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/deskbot/deskbot/sdk"
)

// Harness is a plugin configured for a test: every provider's tests start
// one and run their commands through it.
type Harness struct {
	t testing.TB
	// Plugin is the plugin under test.
	Plugin *sdk.Plugin
	// Target is the target commands run against ("" when there is one).
	Target string
}

// Start configures p with targets, failing the test if any is refused,
// and closes p (stopping any simulator) when the test ends.
func Start(t testing.TB, p *sdk.Plugin, targets ...sdk.Target) *Harness {
	t.Helper()
	t.Cleanup(func() { _ = p.Close() })
	resp, err := p.Configure(context.Background(), &sdk.ConfigureRequest{Targets: targets})
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if resp.Diagnostics.HasError() {
		t.Fatalf("Configure: %v", resp.Diagnostics.Err())
	}
	return &Harness{t: t, Plugin: p}
}

// Sandbox starts p with one sandbox target called "sandbox", serving the
// plugin's own simulator, its state in a temporary folder and settings
// (sandbox settings such as sim_time_per_call included) as given.
func Sandbox(t testing.TB, p *sdk.Plugin, settings map[string]string) *Harness {
	t.Helper()
	return Start(t, p, sdk.Target{Name: "sandbox", Sandbox: true, StateDir: t.TempDir(), Settings: settings})
}

// Simulator returns the simulator the harness's sandbox target serves,
// as T (the simulator's own type), for a test to look at its state.
func Simulator[T any](h *Harness) T {
	h.t.Helper()
	target := h.Target
	if target == "" {
		target = "sandbox"
	}
	s, ok := h.Plugin.Simulator(target).(T)
	if !ok {
		var zero T
		h.t.Fatalf("target %q serves no simulator of type %T", target, zero)
	}
	return s
}

// Outcome is a command's result, with the progress it reported and its
// text as [Text] renders it.
type Outcome struct {
	*sdk.Result
	Text     string
	Progress []sdk.Progress
}

// Execute runs a command, failing the test on a transport error (a
// domain failure is in the outcome's diagnostics).
func (h *Harness) Execute(command string, args sdk.Args) *Outcome {
	h.t.Helper()
	return h.ExecuteRequest(context.Background(), sdk.Request{Command: command, Args: args})
}

// ExecuteRequest runs a request as given (a deadline in ctx, a digest).
func (h *Harness) ExecuteRequest(ctx context.Context, req sdk.Request) *Outcome {
	h.t.Helper()
	if req.ID == "" {
		req.ID = "sdktest"
	}
	if req.Target == "" {
		req.Target = h.Target
	}
	var mu sync.Mutex
	out := &Outcome{}
	res, err := h.Plugin.Execute(ctx, &sdk.ExecuteRequest{Request: req, Progress: func(p sdk.Progress) {
		mu.Lock()
		out.Progress = append(out.Progress, p)
		mu.Unlock()
	}})
	if err != nil {
		h.t.Fatalf("Execute %s: %v", req.Command, err)
	}
	out.Result, out.Text = res, Text(res)
	return out
}

// Plan asks for a command's plan, failing the test on a transport error.
func (h *Harness) Plan(command string, args sdk.Args) *sdk.PlanResponse {
	h.t.Helper()
	pr, err := h.Plugin.Plan(context.Background(), &sdk.PlanRequest{Request: sdk.Request{ID: "sdktest", Command: command, Args: args, Target: h.Target}})
	if err != nil {
		h.t.Fatalf("Plan %s: %v", command, err)
	}
	return pr
}

// Commands returns the plugin's catalog.
func (h *Harness) Commands() []sdk.CommandSpec {
	h.t.Helper()
	cat, err := h.Plugin.Describe(context.Background(), &sdk.DescribeRequest{})
	if err != nil {
		h.t.Fatalf("Describe: %v", err)
	}
	return cat.Commands
}

// Text renders a result for assertions, one line each: part titles, text,
// key=value pairs, table columns and rows joined by "|", and diagnostics
// as "error: ..." or "warning: ...".
func Text(r *sdk.Result) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range r.Parts {
		b.WriteString(p.Title + "\n")
		if p.Text != nil {
			b.WriteString(p.Text.Body + "\n")
		}
		for _, kv := range p.KeyValues {
			fmt.Fprintf(&b, "%s=%s\n", kv.Key, kv.Value)
		}
		if p.Table != nil {
			b.WriteString(strings.Join(p.Table.Columns, "|") + "\n")
			for _, row := range p.Table.Rows {
				b.WriteString(strings.Join(row, "|") + "\n")
			}
		}
		if p.File != nil {
			fmt.Fprintf(&b, "file %s (%s)\n%s\n", p.File.Name, p.File.MediaType, p.File.Content)
		}
	}
	for _, d := range r.Diagnostics {
		b.WriteString(d.Severity.String() + ": " + d.String() + "\n")
	}
	return b.String()
}

// Case is one command run against a simulator and what its answer must
// hold.
type Case struct {
	Command string
	Args    sdk.Args
	// Want are texts the answer (as Text renders it) must contain.
	Want []string
	// Fails says the command must fail (an error diagnostic).
	Fails bool
}

// Cases runs the cases in order, each as a subtest: each outcome must fail
// or succeed as its case says, and its text hold every Want and none of
// never (secrets, canaries). Then every command of the catalog, hidden
// ones aside, must have been run by some case: a command with no test
// against the simulator fails the test.
func (h *Harness) Cases(t *testing.T, cases []Case, never ...string) {
	t.Helper()
	covered := map[string]bool{}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%02d %s", i, tc.Command), func(t *testing.T) {
			covered[tc.Command] = true
			out := h.Execute(tc.Command, tc.Args)
			if out.Failed() != tc.Fails {
				t.Errorf("%s %v: failed=%v, want %v:\n%s", tc.Command, tc.Args, out.Failed(), tc.Fails, out.Text)
			}
			for _, w := range tc.Want {
				if !strings.Contains(out.Text, w) {
					t.Errorf("%s %v: the answer does not say %q:\n%s", tc.Command, tc.Args, w, out.Text)
				}
			}
			for _, n := range never {
				if n != "" && strings.Contains(out.Text, n) {
					t.Errorf("%s %v: the answer shows %q", tc.Command, tc.Args, n)
				}
			}
		})
	}
	for _, c := range h.Commands() {
		if !c.Hidden && !covered[c.Name] {
			t.Errorf("command %q has no test against the simulator", c.Name)
		}
	}
}

// Complete asks for suggestions for a parameter of a command, failing the
// test on a transport error.
func (h *Harness) Complete(command, param, prefix string, args sdk.Args) []sdk.Suggestion {
	h.t.Helper()
	resp, err := h.Plugin.Complete(context.Background(), &sdk.CompleteRequest{Request: sdk.Request{ID: "sdktest", Command: command, Args: args, Target: h.Target}, Param: param, Prefix: prefix})
	if err != nil {
		h.t.Fatalf("Complete %s %s: %v", command, param, err)
	}
	return resp.Suggestions
}
