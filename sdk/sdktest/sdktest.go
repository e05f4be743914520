// Package sdktest is the conformance kit every provider plugin runs from its
// own tests:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, provider.New(), sdktest.Options{Targets: ...})
//	}
//
// It checks that the catalog is valid, that an unknown command or a missing
// argument gets a diagnostic rather than a crash, that Plan changes nothing,
// that a read-only command changes nothing when run, that cancellation is
// honoured, and that sensitive arguments are never echoed back, in results
// or in the plugin's log. Each example must parse as the bot parses what
// users type, each suggestion function name a parameter of its command,
// and each Plan accept the arguments the kit gives it (Options.Args) or be
// skipped by name (Options.SkipPlan): a Plan check that the arguments stop
// fails rather than passes. A check that needs an option the test did not
// give (Snapshot, Slow) is reported as skipped, in a subtest named for the
// check (go test -v shows "--- SKIP"). With Options.ThroughHost the same
// checks run through the bot's plugin host, over gRPC, against a plugin
// process.
package sdktest

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbot/deskbot/sdk"
)

// Options tune the kit to a plugin.
type Options struct {
	// Targets are configured before any check.
	Targets []sdk.Target
	// Target is the target requests name ("" picks the only one).
	Target string
	// Snapshot returns a description of the provider's state (a simulator
	// dump). It must be equal before and after every Plan call, and every
	// run of a read-only command. Without it those checks are skipped.
	Snapshot func() (string, error)
	// Args gives valid arguments for commands whose samples the kit cannot
	// make up (an existing account name, say).
	Args map[string]sdk.Args
	// Slow is a command that runs long enough to be cancelled mid-way. It
	// must report progress once it is under way (Call.Progress): the kit
	// cancels it on that first report, so the check means the same on a
	// busy machine as on an idle one.
	Slow *Call
	// Execute lists commands besides read-only ones that are safe to run
	// with made-up arguments in the sensitive-echo check.
	Execute []string
	// SkipRun lists read-only commands the kit must not run with made-up
	// arguments (to check they change nothing). Say why where you list
	// them. Hidden commands and Slow are never run by that check.
	SkipRun []string
	// SkipPlan lists commands the Plan check must leave alone: those
	// whose Plan cannot succeed on any arguments the test can give.
	SkipPlan []string
	// SkipExamples lists commands whose examples the example check
	// leaves alone: examples copied from a provider's reference that the
	// plugin's author cannot correct. Say why where you list them.
	SkipExamples []string
	// ThroughHost runs the checks as the bot would: through the bot's
	// plugin host, over gRPC, with the plugin served by this test binary
	// started again as a child process (a pinned executable, mutual TLS,
	// Configure with Targets). Snapshot still runs in the test's process,
	// so it must read state both processes share: a simulator's state
	// file in the targets' StateDir. The test that calls Run must be
	// selectable on its own with -run, since the child runs it again; it
	// may run the kit on several plugins, in the same order every time
	// (the child serves the run with the same number, and refuses to
	// serve another plugin).
	ThroughHost bool
}

// Patience bounds how long the kit waits for something that should
// happen at once (a cancelled call to end). It is generous on purpose: a
// loaded CI runner can be slow, and the bound only turns a hang into a
// failure.
const Patience = time.Minute

// Call is a command with arguments.
type Call struct {
	Command string
	Args    sdk.Args
}

// Canary is the value the kit passes for sensitive parameters and then
// looks for in every output.
const Canary = "CANARY-sdktest-7d1e0b9f"

// pluginNameRE is what a plugin's name must be: a slash command.
var pluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*( [a-z_][a-z0-9_-]*)*$`)
var paramRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Run runs every check as a subtest.
func Run(t *testing.T, p sdk.Provider, opts Options) {
	t.Helper()
	run := 0
	if opts.ThroughHost {
		run = nextHostedRun(t)
		serveIfChild(t, run, p)
	}
	ctx := context.Background()
	local := p
	meta, err := p.Metadata(ctx, &sdk.MetadataRequest{})
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	cat, err := p.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	specs := cat.Commands
	if len(opts.Targets) > 0 {
		// Configured here even when the checks go through the host: the
		// Snapshot reads the provider's state through this copy.
		resp, err := p.Configure(ctx, &sdk.ConfigureRequest{Targets: opts.Targets})
		if err != nil {
			t.Fatalf("Configure: %v", err)
		}
		if resp.Diagnostics.HasError() {
			t.Fatalf("Configure: %v", resp.Diagnostics.Err())
		}
	}
	// The plugin's log is kept, for the check that no sensitive argument
	// reaches the bot's log.
	logs := newTestWriter(t)
	logsRead := opts.ThroughHost
	if pl, ok := local.(*sdk.Plugin); ok && !opts.ThroughHost {
		pl.SetLogger(logs.logger())
		logsRead = true
	}
	var stop func()
	if opts.ThroughHost {
		p, stop = startHosted(t, run, meta.Name, opts.Targets, logs)
		if cat, err = p.Describe(ctx, &sdk.DescribeRequest{}); err != nil {
			t.Fatalf("Describe through the host: %v", err)
		}
		specs = cat.Commands
	}

	t.Run("metadata", func(t *testing.T) {
		if !pluginNameRE.MatchString(meta.Name) {
			t.Errorf("plugin name %q must be lower-case letters, digits and dashes (it becomes a slash command)", meta.Name)
		}
		if meta.Version == "" {
			t.Error("plugin version is empty")
		}
		if meta.ProtocolMinor < 1 {
			t.Errorf("protocol minor %d: build with the SDK's ProtocolMinor", meta.ProtocolMinor)
		}
	})

	t.Run("catalog", func(t *testing.T) {
		for _, err := range CheckCatalog(meta.Name, specs) {
			t.Error(err)
		}
	})

	t.Run("examples", func(t *testing.T) {
		var checked []sdk.CommandSpec
		for _, c := range specs {
			if !slices.Contains(opts.SkipExamples, c.Name) {
				checked = append(checked, c)
			}
		}
		for _, err := range checkExamples(meta.Name, specs, checked) {
			t.Error(err)
		}
	})

	t.Run("completions", func(t *testing.T) {
		c, ok := local.(Completer)
		if !ok {
			t.Skip("the provider does not list its suggestion functions (an sdk.Plugin does)")
		}
		for _, err := range CheckCompletions(specs, c.Completions()) {
			t.Error(err)
		}
	})

	t.Run("unknown command", func(t *testing.T) {
		req := &sdk.Request{ID: "sdktest-unknown", Invoker: "UTEST", Command: "no such command zz", Target: opts.Target}
		pr, err := p.Plan(ctx, &sdk.PlanRequest{Request: *req})
		if err != nil {
			t.Fatalf("Plan of an unknown command returned a transport error %v; want a diagnostic", err)
		}
		if !pr.Diagnostics.HasError() {
			t.Error("Plan of an unknown command gave no error diagnostic")
		}
		res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: *req})
		if err != nil {
			t.Fatalf("Execute of an unknown command returned a transport error %v; want a diagnostic", err)
		}
		if !res.Failed() {
			t.Error("Execute of an unknown command gave no error diagnostic")
		}
	})

	t.Run("missing required argument", func(t *testing.T) {
		for _, c := range specs {
			for _, prm := range c.Params {
				if !prm.Required {
					continue
				}
				args := SampleArgs(c, opts.Args[c.Name])
				delete(args, prm.Name)
				pr, err := p.Plan(ctx, &sdk.PlanRequest{Request: sdk.Request{ID: "sdktest-missing", Invoker: "UTEST", Command: c.Name, Args: args, Target: opts.Target}})
				if err != nil {
					t.Errorf("%s without %s: transport error %v", c.Name, prm.Name, err)
					continue
				}
				if !pr.Diagnostics.HasError() {
					t.Errorf("%s without required %s: Plan gave no error diagnostic", c.Name, prm.Name)
				}
			}
		}
	})

	t.Run("plan has no side effects", func(t *testing.T) {
		if opts.Snapshot == nil {
			t.Skip("no Snapshot option: the kit cannot see the provider's state")
		}
		for _, c := range specs {
			if slices.Contains(opts.SkipPlan, c.Name) {
				continue
			}
			before, err := opts.Snapshot()
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			args := SampleArgs(c, opts.Args[c.Name])
			shown := fmt.Sprint(args) // before Plan adds the defaults
			pr, err := p.Plan(ctx, &sdk.PlanRequest{Request: sdk.Request{ID: "sdktest-plan", Invoker: "UTEST", Command: c.Name, Args: args, Target: opts.Target}})
			if err != nil {
				t.Errorf("Plan %s: %v", c.Name, err)
			}
			after, err := opts.Snapshot()
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			if before != after {
				t.Errorf("Plan %s %s changed the provider's state: a Plan only reads; move the write into Run (or an apiop step's Do), which runs once approved (Snapshot before -, after +):\n%s", c.Name, shown, Diff(before, after))
			}
			// A Plan that refuses the arguments never reaches the code
			// that could write: the check above then proves nothing.
			if err == nil && pr.Plan == nil && pr.Diagnostics.HasError() {
				t.Errorf("Plan %s %s answered only with diagnostics (%v), so nothing was checked: give arguments its Plan accepts in Options.Args[%q], or name it in Options.SkipPlan", c.Name, shown, pr.Diagnostics.Err(), c.Name)
			}
		}
	})

	t.Run("read-only commands change nothing", func(t *testing.T) {
		if opts.Snapshot == nil {
			t.Skip("no Snapshot option: the kit cannot see the provider's state")
		}
		for _, c := range specs {
			// Slow runs until cancelled: the cancellation check runs it.
			// Hidden commands are test hooks (a call that waits to be
			// released), not commands users run.
			if c.Risk != sdk.RiskReadOnly || c.Hidden || slices.Contains(opts.SkipRun, c.Name) || (opts.Slow != nil && opts.Slow.Command == c.Name) {
				continue
			}
			before, err := opts.Snapshot()
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			args := SampleArgs(c, opts.Args[c.Name])
			shown := fmt.Sprint(args)
			// Generous: this bounds a hang, it does not time the plugin.
			rctx, cancel := context.WithTimeout(ctx, Patience)
			_, err = p.Execute(rctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "sdktest-readonly", Invoker: "UTEST", Command: c.Name, Args: args, Target: opts.Target}})
			cancel()
			if err != nil {
				t.Errorf("Execute %s: %v", c.Name, err)
			}
			after, err := opts.Snapshot()
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			// A read-only command runs without approval: one that writes
			// changes things nobody agreed to.
			if before != after {
				t.Errorf("read-only command %s %s changed the provider's state; declare its risk (Risk(sdk.RiskLow) or higher) (Snapshot before -, after +):\n%s", c.Name, shown, Diff(before, after))
			}
		}
	})

	t.Run("cancellation", func(t *testing.T) {
		if opts.Slow == nil {
			t.Skip("no Slow option")
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		started := make(chan struct{})
		var once sync.Once
		progress := func(sdk.Progress) { once.Do(func() { close(started) }) }
		done := make(chan error, 1)
		go func() {
			res, err := p.Execute(cctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "sdktest-slow", Invoker: "UTEST", Command: opts.Slow.Command, Args: opts.Slow.Args, Target: opts.Target}, Progress: progress})
			switch {
			case cctx.Err() == nil:
				err = fmt.Errorf("ended before it reported any progress (err %v); Slow must report progress once under way and then run until cancelled", err)
			case err == nil && !res.Failed():
				err = fmt.Errorf("finished normally")
			default:
				err = nil
			}
			done <- err
		}()
		select {
		case <-started:
			cancel()
		case err := <-done:
			t.Fatalf("%s: %v", opts.Slow.Command, err)
		}
		// Generous: this bounds a hang, it does not time the plugin.
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("cancelled %s: %v; want it to stop with an error", opts.Slow.Command, err)
			}
		case <-time.After(Patience):
			t.Errorf("cancelled %s still running after %s", opts.Slow.Command, Patience)
		}
	})

	t.Run("sensitive arguments are not echoed", func(t *testing.T) {
		for _, c := range specs {
			var sensitive bool
			for _, prm := range c.Params {
				sensitive = sensitive || prm.Sensitive
			}
			if !sensitive {
				continue
			}
			args := SampleArgs(c, opts.Args[c.Name])
			for _, prm := range c.Params {
				if prm.Sensitive {
					args[prm.Name] = Canary
				}
			}
			req := &sdk.Request{ID: "sdktest-sensitive", Invoker: "UTEST", Command: c.Name, Args: args, Target: opts.Target}
			pr, err := p.Plan(ctx, &sdk.PlanRequest{Request: *req})
			if err != nil {
				t.Errorf("Plan %s: %v", c.Name, err)
				continue
			}
			if s := fmt.Sprintf("%+v %+v", pr.Plan, pr.Diagnostics); strings.Contains(s, Canary) {
				t.Errorf("Plan %s echoes a sensitive argument: %s", c.Name, s)
			}
			if c.Risk != sdk.RiskReadOnly && !slices.Contains(opts.Execute, c.Name) {
				continue
			}
			res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: *req, Progress: func(pg sdk.Progress) {
				if strings.Contains(pg.Message, Canary) {
					t.Errorf("%s progress echoes a sensitive argument", c.Name)
				}
			}})
			if err != nil {
				t.Errorf("Execute %s: %v", c.Name, err)
				continue
			}
			if s := fmt.Sprintf("%+v", *res); strings.Contains(s, Canary) {
				t.Errorf("Execute %s echoes a sensitive argument", c.Name)
			}
		}
	})

	// The bot's log is read by more people than the approvers: a line the
	// plugin logged must not hold what the user typed. A plugin process's
	// lines reach the host on their own time; stopping it waits for the
	// last of them.
	if stop != nil {
		stop()
	}
	t.Run("sensitive arguments are not logged", func(t *testing.T) {
		if !logsRead {
			t.Skip("the kit cannot read the log of a provider that is not an sdk.Plugin; run it with ThroughHost")
		}
		for _, l := range logs.lines(Canary) {
			t.Errorf("the plugin's log holds a sensitive argument: %s", l)
		}
	})
}

// CheckCatalog returns every problem with a catalog.
func CheckCatalog(plugin string, specs []sdk.CommandSpec) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(specs) == 0 {
		bad("the catalog is empty")
	}
	seen := map[string]string{}
	for _, c := range specs {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if !nameRE.MatchString(n) {
				bad("command %q: names are lower-case words separated by single spaces", n)
			}
			if n == "help" || strings.HasPrefix(n, "help ") || strings.HasSuffix(n, " help") {
				bad("command %q: the word help is reserved", n)
			}
			if prev, dup := seen[n]; dup {
				bad("command %q: name already used by %q", n, prev)
			}
			seen[n] = c.Name
		}
		if strings.TrimSpace(c.Summary) == "" {
			bad("command %q has no summary", c.Name)
		}
		if c.Risk < sdk.RiskReadOnly || c.Risk > sdk.RiskCritical {
			bad("command %q: risk %v is not read-only, low, high or critical", c.Name, c.Risk)
		}
		if err := c.CheckResource(); err != nil {
			bad("%v", err)
		}
		if c.Risk == sdk.RiskCritical && c.ResourceParam() == "" && namesSomething(c) {
			bad("command %q is critical but marks no resource parameter: approvers confirm a critical command by typing the name of what it acts on; mark that parameter with AsResource", c.Name)
		}
		for _, ex := range c.Examples {
			if !strings.HasPrefix(ex, "/"+plugin+" ") {
				bad("command %q: example %q does not start with /%s", c.Name, ex, plugin)
			}
		}
		names := map[string]bool{}
		optionalPositional := ""
		for _, prm := range c.Params {
			for _, n := range append([]string{prm.Name}, prm.Aliases...) {
				if !paramRE.MatchString(n) {
					bad("command %q: parameter name %q is not usable as key=value", c.Name, n)
				}
				if n == "target" {
					bad("command %q: parameter name target is reserved for --target", c.Name)
				}
				if strings.EqualFold(n, "ticket") {
					bad("command %q: parameter name ticket is reserved for the ticket reference (ticket=ABC-123)", c.Name)
				}
				if names[strings.ToLower(n)] {
					bad("command %q: parameter %q declared twice", c.Name, n)
				}
				names[strings.ToLower(n)] = true
			}
			if prm.Type < sdk.TypeString || prm.Type > sdk.TypeText {
				bad("command %q parameter %q: unknown type %v", c.Name, prm.Name, prm.Type)
			}
			if prm.Type == sdk.TypeEnum && len(prm.Enum) == 0 {
				bad("command %q parameter %q: enum without values", c.Name, prm.Name)
			}
			if prm.Default != "" {
				if prm.Required {
					bad("command %q parameter %q: required parameters take no default", c.Name, prm.Name)
				}
				p := prm
				if _, err := p.Parse(prm.Default); err != nil {
					bad("command %q parameter %q: default %v", c.Name, prm.Name, err)
				}
			}
			if prm.Sensitive && prm.Positional {
				bad("command %q parameter %q: a sensitive parameter cannot be positional", c.Name, prm.Name)
			}
			if prm.Positional {
				if prm.Required && optionalPositional != "" {
					bad("command %q: required positional %q follows optional positional %q", c.Name, prm.Name, optionalPositional)
				}
				if !prm.Required {
					optionalPositional = prm.Name
				}
			}
		}
	}
	return errs
}

// namesSomething reports whether a command takes a required parameter
// that could name what it acts on (one that is not secret). A critical
// command without one (run the restore queue, reboot the server) acts on
// the target as a whole, and has no resource to type.
func namesSomething(c sdk.CommandSpec) bool {
	for _, p := range c.Params {
		if p.Required && !p.Sensitive {
			return true
		}
	}
	return false
}

// SampleArgs makes valid arguments for every required parameter of c,
// then applies given on top.
func SampleArgs(c sdk.CommandSpec, given sdk.Args) sdk.Args {
	args := sdk.Args{}
	for _, prm := range c.Params {
		if !prm.Required {
			continue
		}
		p := prm
		v, err := p.Parse(sampleFor(prm))
		if err != nil {
			v = sampleFor(prm)
		}
		if prm.Repeated {
			v = []string{sdk.FormatValue(v)}
		}
		args[prm.Name] = v
	}
	for k, v := range given {
		args[k] = v
	}
	return args
}

func sampleFor(p sdk.Param) string {
	switch p.Type {
	case sdk.TypeInt:
		if p.Min != nil {
			return fmt.Sprint(*p.Min)
		}
		return "1"
	case sdk.TypeBool:
		return "true"
	case sdk.TypeEnum:
		if len(p.Enum) > 0 {
			return p.Enum[0].Value
		}
	case sdk.TypeIP:
		return "192.0.2.10"
	case sdk.TypeCIDR:
		return "192.0.2.0/24"
	case sdk.TypeDomain:
		return "example.com"
	case sdk.TypeEmail:
		return "user@example.com"
	case sdk.TypeDuration:
		return "1m"
	case sdk.TypeSize:
		return "1G"
	}
	return "sample"
}
