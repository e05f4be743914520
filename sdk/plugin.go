package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/deskbot/deskbot/sdk/redact"
)

// Call is what a command handler gets: the request, the target it runs
// against, and a way to report progress.
type Call struct {
	*Request
	// TargetConfig is the configured target the request names.
	TargetConfig *TargetConfig
	// Env is what the plugin's configure function built for the target
	// (an API client, typically); read it with [EnvOf].
	Env any
	// Log writes to the bot's log, tagged with the plugin and request id.
	Log      *slog.Logger
	progress func(Progress)
	plugin   string
	scrub    *redact.Redactor
	lists    *listCache
}

// Redactor returns what masks this call's secrets: the target's secrets,
// the values of the request's sensitive arguments, and values under
// sensitive key names. The SDK scrubs every plan, progress report, result
// and error with it; a handler uses it for text it builds itself (an
// error quoting a provider's answer).
func (c *Call) Redactor() *redact.Redactor { return c.scrub }

// Progress reports how far the work is. percent is 0..100, or -1 if unknown.
func (c *Call) Progress(percent int, format string, args ...any) {
	if c.progress != nil {
		c.progress(Progress{Message: fmt.Sprintf(format, args...), Percent: percent}.Scrub(c.scrub))
	}
}

// ProgressState reports the provider's state word along with the progress.
func (c *Call) ProgressState(state string, percent int, message string) {
	if c.progress != nil {
		c.progress(Progress{Message: message, Percent: percent, State: state}.Scrub(c.scrub))
	}
}

// PlanFunc previews a command. It must not change anything.
type PlanFunc func(ctx context.Context, c *Call) (*Plan, error)

// RunFunc executes a command. A returned error becomes an error diagnostic;
// use [BadArg] to point at a parameter.
type RunFunc func(ctx context.Context, c *Call) (*Result, error)

// CompleteFunc suggests values for a parameter.
type CompleteFunc func(ctx context.Context, c *Call, prefix string) ([]Suggestion, error)

// ConfigureFunc builds what a target needs (an API client) from its
// settings and secrets, already checked against the plugin's declarations.
// It is called once per target when the bot starts the plugin; for a
// sandbox target it serves the simulator too (TargetConfig.Serve).
type ConfigureFunc func(ctx context.Context, t *TargetConfig) (any, error)

// HealthFunc checks one target, given what ConfigureFunc built for it.
type HealthFunc func(ctx context.Context, t *TargetConfig, env any) error

type command struct {
	spec     CommandSpec
	plan     PlanFunc
	run      RunFunc
	complete map[string]CompleteFunc
	// ownDigest: the run function compares the approved plan's digest
	// with the work it is about to do itself.
	ownDigest bool
}

// Plugin is a [Provider] built from registered commands.
type Plugin struct {
	meta      Metadata
	mu        sync.RWMutex
	commands  map[string]*command
	onDemand  map[string]func(*Plugin, string)
	order     []string
	configure ConfigureFunc
	health    HealthFunc
	decl      declarations
	targets   map[string]*target
	log       *slog.Logger
}

var _ Provider = (*Plugin)(nil)
var _ Completer = (*Plugin)(nil)

// New starts a plugin called name (the slash command users type, without
// the slash) at version.
func New(name, version string) *Plugin {
	return &Plugin{
		meta:     Metadata{Name: name, Version: version, ProtocolMinor: ProtocolMinor},
		commands: map[string]*command{},
		targets:  map[string]*target{},
		log:      slog.Default(),
	}
}

// Name returns the plugin's name (its slash command without the slash).
func (p *Plugin) Name() string { return p.meta.Name }

// SetDescription sets the one-line description shown in help.
func (p *Plugin) SetDescription(d string) *Plugin { p.meta.Description = d; return p }

// SetDisplayName sets the provider's name as users know it ("WHM",
// "CloudLinux Network"), used in messages; the plugin's name otherwise.
func (p *Plugin) SetDisplayName(d string) *Plugin { p.meta.DisplayName = d; return p }

// SetLogger replaces the logger handlers receive (slog.Default otherwise).
func (p *Plugin) SetLogger(l *slog.Logger) *Plugin { p.log = l; return p }

// OnConfigure sets the function that builds per-target state.
func (p *Plugin) OnConfigure(fn ConfigureFunc) *Plugin { p.configure = fn; return p }

// Settings declares the settings a target takes, in the same vocabulary
// as command parameters (type, required, default, description). The SDK
// checks every target against them before the configure function runs: a
// misspelt, missing or malformed setting is refused in the plugin's own
// words, and the bot reads them from Describe to check its configuration.
// A plugin that declares nothing (not even an empty list) takes any
// setting unchecked.
func (p *Plugin) Settings(ps ...Param) *Plugin {
	p.decl.declared = true
	p.decl.settings = append(p.decl.settings, ps...)
	return p
}

// Secrets declares the secrets a target takes (API keys, passwords).
func (p *Plugin) Secrets(ps ...Param) *Plugin {
	p.decl.declared = true
	for _, s := range ps {
		s.Sensitive = true
		p.decl.secrets = append(p.decl.secrets, s)
	}
	return p
}

// SandboxSettings declares settings only a sandbox target takes (how long
// the simulator's work takes). Every plugin also takes
// [SimTimePerCall].
func (p *Plugin) SandboxSettings(ps ...Param) *Plugin {
	p.decl.declared = true
	p.decl.sandbox = append(p.decl.sandbox, ps...)
	return p
}

// Simulator returns the handler a sandbox target serves (the first, if it
// serves several), for tests to reach the simulator started inside the
// configure function; nil if there is none.
func (p *Plugin) Simulator(target string) http.Handler {
	p.mu.RLock()
	t, ok := p.targets[target]
	p.mu.RUnlock()
	if !ok {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sims) == 0 {
		return nil
	}
	return t.sims[0]
}

// OnHealth sets the per-target health check.
func (p *Plugin) OnHealth(fn HealthFunc) *Plugin { p.health = fn; return p }

// CommandBuilder declares one command; see [Plugin.Command].
type CommandBuilder struct{ c *command }

// Command declares a command. name is one or more lower-case words; the
// returned builder sets the rest. Declaring a name twice panics: it is a
// programming error caught by the first test.
func (p *Plugin) Command(name, summary string) *CommandBuilder {
	name = strings.Join(strings.Fields(name), " ")
	p.claim(name)
	c := &command{spec: CommandSpec{Name: name, Summary: summary, Risk: RiskReadOnly}}
	p.commands[name] = c
	p.order = append(p.order, name)
	return &CommandBuilder{c: c}
}

func (p *Plugin) claim(name string) {
	_, dup := p.commands[name]
	if _, lazy := p.onDemand[name]; dup || lazy {
		panic(fmt.Sprintf("sdk: command %q declared twice", name))
	}
}

// CommandsOnDemand declares a family of commands that are built when
// wanted instead of held for the plugin's life: names lists them, and
// declare declares the one it is asked for, with [Plugin.Command] as
// usual, on the plugin it is given. It suits hundreds of commands
// generated from a catalog (WHM's "call FUNCTION"): the bot reads every
// spec once, from Describe, and the plugin rebuilds the one a call names,
// so an idle plugin does not keep a second copy of its catalog as specs.
// Metadata does not build the family to look for completions: a plugin
// whose only completions are in such a family announces none.
func (p *Plugin) CommandsOnDemand(names []string, declare func(p *Plugin, name string)) {
	if p.onDemand == nil {
		p.onDemand = map[string]func(*Plugin, string){}
	}
	for _, name := range names {
		name = strings.Join(strings.Fields(name), " ")
		p.claim(name)
		p.onDemand[name] = declare
		p.order = append(p.order, name)
	}
}

// command returns the command called name, building it if it is declared
// on demand. A declare function that fails to declare it, or panics, is a
// programming error: it is reported, never allowed to take the plugin down.
func (p *Plugin) command(name string) (c *command, ok bool, err error) {
	if c, ok := p.commands[name]; ok {
		return c, true, nil
	}
	declare, ok := p.onDemand[name]
	if !ok {
		return nil, false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("declaring %s %q on demand panicked: %v", p.meta.Name, name, r)
		}
	}()
	scratch := New(p.meta.Name, p.meta.Version)
	declare(scratch, name)
	c, ok = scratch.commands[name]
	if !ok {
		return nil, true, fmt.Errorf("%s %q is declared on demand, but its declare function did not declare it", p.meta.Name, name)
	}
	return c, true, nil
}

// Help sets the markdown help text.
func (b *CommandBuilder) Help(md string) *CommandBuilder { b.c.spec.Help = md; return b }

// Params appends parameters, in the order positional ones are given. A
// command that marks more than one resource parameter, or a sensitive one
// ([Param.AsResource]), panics: it is a programming error caught by the
// first test.
func (b *CommandBuilder) Params(ps ...Param) *CommandBuilder {
	b.c.spec.Params = append(b.c.spec.Params, ps...)
	if err := b.c.spec.CheckResource(); err != nil {
		panic("sdk: " + err.Error())
	}
	return b
}

// Risk sets the risk level (read-only unless set).
func (b *CommandBuilder) Risk(r Risk) *CommandBuilder { b.c.spec.Risk = r; return b }

// Examples adds usage examples, written as typed in chat.
func (b *CommandBuilder) Examples(ex ...string) *CommandBuilder {
	b.c.spec.Examples = append(b.c.spec.Examples, ex...)
	return b
}

// SensitiveOutput marks results for the requester's eyes only.
func (b *CommandBuilder) SensitiveOutput() *CommandBuilder { b.c.spec.SensitiveOutput = true; return b }

// ExtraArguments accepts undeclared key=value arguments (as strings);
// the handler must check them.
func (b *CommandBuilder) ExtraArguments() *CommandBuilder { b.c.spec.ExtraArguments = true; return b }

// NoProgress says the command never reports progress. The bot then runs
// it with one unary call rather than a stream, which costs both processes
// less; [Call.Progress] and [Call.ProgressState] report nothing, and time
// spent queued behind the provider's request limit counts against the
// call's deadline like any other (the bot cannot be told to stop its
// clock). Meant for quick commands: a command that calls a rate-limited
// API should report its queue waits instead.
func (b *CommandBuilder) NoProgress() *CommandBuilder { b.c.spec.NoProgress = true; return b }

// Hidden leaves the command out of help listings.
func (b *CommandBuilder) Hidden() *CommandBuilder { b.c.spec.Hidden = true; return b }

// Aliases adds other names for the command.
func (b *CommandBuilder) Aliases(names ...string) *CommandBuilder {
	b.c.spec.Aliases = append(b.c.spec.Aliases, names...)
	return b
}

// Plan sets the preview function. Without one, the plan only names the command.
func (b *CommandBuilder) Plan(fn PlanFunc) *CommandBuilder {
	b.c.plan = fn
	b.c.spec.SupportsPlan = fn != nil
	return b
}

// Run sets the handler.
//
// When a request carries the digest of an approved plan
// (Request.PlanDigest) and the command has a plan function, the SDK plans
// again before Run and refuses, running nothing, if the work differs from
// what was approved; see RunChecksDigest for a run function that does
// that itself.
func (b *CommandBuilder) Run(fn RunFunc) *CommandBuilder { b.c.run = fn; return b }

// RunChecksDigest says the run function compares Request.PlanDigest with
// the work it is about to do itself (the apiop layer does, with the work
// it builds anyway), so the SDK need not plan again first.
func (b *CommandBuilder) RunChecksDigest() *CommandBuilder { b.c.ownDigest = true; return b }

// Complete sets the suggestion function for one parameter.
func (b *CommandBuilder) Complete(param string, fn CompleteFunc) *CommandBuilder {
	if b.c.complete == nil {
		b.c.complete = map[string]CompleteFunc{}
	}
	b.c.complete[param] = fn
	return b
}

// completeFor returns the suggestion function for param, matched as
// arguments are (by name or alias, ignoring case), whichever of its names
// the function was registered under.
func (c *command) completeFor(param string) (CompleteFunc, bool) {
	if fn, ok := c.complete[param]; ok {
		return fn, true
	}
	want, ok := c.spec.Param(param)
	if !ok {
		return nil, false
	}
	for name, fn := range c.complete {
		if got, ok := c.spec.Param(name); ok && got == want {
			return fn, true
		}
	}
	return nil, false
}

// Completions returns, by command name, the parameters each command
// suggests values for ([CommandBuilder.Complete]), sorted; commands
// declared on demand are left out. The catalog does not carry them, so
// the conformance kit reads them here to check each names a parameter.
func (p *Plugin) Completions() map[string][]string {
	out := map[string][]string{}
	for name, c := range p.commands {
		for param := range c.complete {
			out[name] = append(out[name], param)
		}
		sort.Strings(out[name])
	}
	return out
}

// completing is the command's spec with Completes set on each parameter
// that has a completion function.
func (c *command) completing() CommandSpec {
	if len(c.complete) == 0 {
		return c.spec
	}
	spec := c.spec
	spec.Params = slices.Clone(spec.Params)
	for i := range spec.Params {
		if _, ok := c.complete[spec.Params[i].Name]; ok {
			spec.Params[i].Completes = true
		}
	}
	return spec
}

// Metadata implements [Provider].
func (p *Plugin) Metadata(context.Context, *MetadataRequest) (*Metadata, error) {
	m := p.meta
	m.Capabilities = nil
	for _, c := range p.commands {
		if len(c.complete) > 0 {
			m.Capabilities = []string{CapabilityComplete}
			break
		}
	}
	return &m, nil
}

// Describe implements [Provider].
func (p *Plugin) Describe(context.Context, *DescribeRequest) (*Catalog, error) {
	cat := &Catalog{Commands: make([]CommandSpec, 0, len(p.order))}
	for _, name := range p.order {
		c, _, err := p.command(name)
		if err != nil {
			return nil, err
		}
		cat.Commands = append(cat.Commands, c.completing())
	}
	if p.decl.declared {
		cat.Settings = slices.Clone(p.decl.settings)
		cat.Secrets = slices.Clone(p.decl.secrets)
		cat.SandboxSettings = append(slices.Clone(p.decl.sandbox), SimTimePerCall)
	}
	return cat, nil
}

// Configure implements [Provider]. Each target is checked against the
// declared settings and secrets, then built; all are built before any
// replaces the old set, so a bad one leaves the plugin as it was.
func (p *Plugin) Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error) {
	next := make(map[string]*target, len(req.Targets))
	var diags Diagnostics
	seen := map[string]bool{}
	for _, t := range req.Targets {
		if seen[t.Name] {
			diags = append(diags, Diagnostic{Severity: SeverityError, Summary: fmt.Sprintf("target %q configured twice", t.Name), Attribute: t.Name})
		}
		seen[t.Name] = true
	}
	if diags.HasError() {
		return &ConfigureResponse{Diagnostics: diags}, nil
	}
	for _, t := range req.Targets {
		cfg, err := p.decl.check(p.meta.Name, t)
		if err != nil {
			diags = append(diags, Diagnostic{Severity: SeverityError, Summary: fmt.Sprintf("target %q: %v", t.Name, err), Attribute: t.Name})
			continue
		}
		rec := &target{red: redact.New()}
		for _, v := range cfg.Secrets {
			rec.red.AddSecret(v)
		}
		cfg.rec = rec
		rec.cfg = *cfg
		if p.configure != nil {
			env, err := p.configure(ctx, cfg)
			if err != nil {
				rec.close()
				diags = append(diags, Diagnostic{Severity: SeverityError, Summary: fmt.Sprintf("target %q: %v", t.Name, err), Attribute: t.Name})
				continue
			}
			rec.env = env
		}
		rec.cfg.rec = nil
		next[t.Name] = rec
	}
	if diags.HasError() {
		for _, t := range next {
			t.close()
		}
		return &ConfigureResponse{Diagnostics: diags}, nil
	}
	p.mu.Lock()
	old := p.targets
	p.targets = next
	p.mu.Unlock()
	for _, t := range old {
		t.close()
	}
	return &ConfigureResponse{}, nil
}

// Close releases every target's state and stops its simulator.
func (p *Plugin) Close() error {
	p.mu.Lock()
	old := p.targets
	p.targets = map[string]*target{}
	p.mu.Unlock()
	for _, t := range old {
		t.close()
	}
	return nil
}

func (p *Plugin) call(req *Request, progress func(Progress)) (*command, *Call, Diagnostics) {
	c, call, diags := p.lookup(req, progress)
	if diags != nil {
		return nil, nil, diags
	}
	for _, prm := range c.spec.Params {
		if prm.Required && !req.Args.Has(prm.Name) {
			diags = append(diags, Diagnostic{Severity: SeverityError, Summary: fmt.Sprintf("missing required argument %s", prm.Name), Attribute: prm.Name})
		}
	}
	for name := range req.Args {
		if _, ok := c.spec.Param(name); !ok && !c.spec.ExtraArguments {
			diags = append(diags, Diagnostic{Severity: SeverityError, Summary: fmt.Sprintf("%s takes no argument %q", c.spec.Name, name), Attribute: name})
		}
	}
	if diags.HasError() {
		return nil, nil, diags
	}
	if vs := SensitiveValues(c.spec.Params, req.Args); len(vs) > 0 {
		call.scrub = call.scrub.With(vs...)
		// The log masks what the call's results mask: a handler logging a
		// provider's answer that echoes a typed password must not leak it.
		call.Log = slog.New(call.Log.Handler().(*callHandler).masking(call.scrub))
	}
	// Defaults apply whoever calls: a host that leaves out keepdns gets
	// the declared default, never the zero value.
	for _, prm := range c.spec.Params {
		if req.Args.Has(prm.Name) {
			continue
		}
		if v, ok, err := prm.DefaultValue(); ok && err == nil {
			req.Args[prm.Name] = v
		}
	}
	return c, call, nil
}

// lookup finds the command and target a request names.
func (p *Plugin) lookup(req *Request, progress func(Progress)) (*command, *Call, Diagnostics) {
	c, ok, err := p.command(req.Command)
	if err != nil {
		p.log.Error("command declared on demand is broken", "command", req.Command, "error", err)
		return nil, nil, Errorf("internal error in %s %s", p.meta.Name, req.Command)
	}
	if !ok {
		return nil, nil, Errorf("%s has no command %q", p.meta.Name, req.Command)
	}
	p.mu.RLock()
	t, ok := p.targets[req.Target]
	if !ok && req.Target == "" && len(p.targets) == 1 {
		for _, only := range p.targets {
			t, ok = only, true
		}
	}
	var names []string
	if !ok {
		for n := range p.targets {
			names = append(names, n)
		}
	}
	p.mu.RUnlock()
	if !ok {
		if len(names) > 0 || req.Target != "" {
			sort.Strings(names)
			return nil, nil, Errorf("%s has no target %q (configured: %s)", p.meta.Name, req.Target, strings.Join(names, ", "))
		}
		t = &target{cfg: TargetConfig{Settings: Args{}, Secrets: map[string]string{}}, red: redact.New()}
	}
	if req.Args == nil {
		req.Args = Args{}
	}
	if c.spec.NoProgress {
		// Whichever way it is called, so that what the user sees does not
		// depend on the bot's version.
		progress = nil
	}
	// One allocation for what a call holds, rather than one for each
	// part: at thousands of calls a second the garbage is what costs.
	st := &callState{cfg: t.cfg, handler: callHandler{base: p.log.Handler(), id: req.ID, command: req.Command, target: t.cfg.Name, scrub: t.red}}
	st.log = *slog.New(&st.handler)
	st.call = Call{
		Request:      req,
		TargetConfig: &st.cfg,
		Env:          t.env,
		Log:          &st.log,
		progress:     progress,
		plugin:       p.meta.Name,
		scrub:        t.red,
		lists:        &t.lists,
	}
	return c, &st.call, nil
}

// callState is a call and what it points to, allocated together.
type callState struct {
	call    Call
	cfg     TargetConfig
	handler callHandler
	log     slog.Logger
}

// Plan implements [Provider].
func (p *Plugin) Plan(ctx context.Context, preq *PlanRequest) (resp *PlanResponse, err error) {
	req := &preq.Request
	c, call, diags := p.call(req, nil)
	if diags != nil {
		return &PlanResponse{Diagnostics: diags}, nil
	}
	if c.plan == nil {
		return &PlanResponse{Plan: &Plan{Summary: defaultSummary(c, call), Risk: c.spec.Risk}}, nil
	}
	defer p.recoverInto(call, func(d Diagnostics) { resp = &PlanResponse{Diagnostics: d} })
	plan, err := c.plan(ctx, call)
	if err != nil {
		return &PlanResponse{Diagnostics: DiagnosticsFromError(err).Scrub(call.scrub)}, nil
	}
	return &PlanResponse{Plan: p.finishPlan(c, call, plan)}, nil
}

// finishPlan floors the plan's risk at the catalog's, masks its secrets
// and gives it a digest if its maker did not.
func (p *Plugin) finishPlan(c *command, call *Call, plan *Plan) *Plan {
	if plan.Risk < c.spec.Risk {
		plan.Risk = c.spec.Risk
	}
	plan.Scrub(call.scrub)
	if plan.Digest == "" {
		plan.Digest = PlanDigest(plan.Risk, plan.Steps, plan.Facts)
	}
	return plan
}

// unchanged plans a command again and reports whether its work is still
// what was approved.
func (p *Plugin) unchanged(ctx context.Context, c *command, call *Call) (ok bool, diags Diagnostics) {
	plan, err := c.plan(ctx, call)
	if err != nil {
		return false, DiagnosticsFromError(err).Scrub(call.scrub)
	}
	if p.finishPlan(c, call, plan).Digest != call.PlanDigest {
		return false, WorkChanged(p.meta.Name + " " + c.spec.Name)
	}
	return true, nil
}

func defaultSummary(c *command, call *Call) string {
	s := "Run " + c.spec.Name
	if call.TargetConfig.Name != "" {
		s += " on " + call.TargetConfig.Name
	}
	return s
}

// Execute implements [Provider].
func (p *Plugin) Execute(ctx context.Context, ereq *ExecuteRequest) (res *Result, err error) {
	req := &ereq.Request
	progress := ereq.Progress
	if !req.Deadline.IsZero() && progress != nil {
		// The deadline stands still while the command reports that it is
		// queued behind the provider's limit, as the bot's clock does. A
		// caller that takes no progress is never told of a queue wait, so
		// its clock does not stop: neither does this one.
		qc := newQueueCtx(ctx, req.Deadline)
		ctx = qc
		progress = func(pg Progress) {
			qc.observe(pg)
			if ereq.Progress != nil {
				ereq.Progress(pg)
			}
		}
	}
	c, call, diags := p.call(req, progress)
	if diags != nil {
		return &Result{Diagnostics: diags}, nil
	}
	if c.run == nil {
		return &Result{Diagnostics: Errorf("%s %s is declared but not implemented", p.meta.Name, c.spec.Name)}, nil
	}
	defer p.recoverInto(call, func(d Diagnostics) { res = &Result{Diagnostics: d} })
	if call.PlanDigest != "" && c.plan != nil && !c.ownDigest {
		if ok, diags := p.unchanged(ctx, c, call); !ok {
			return &Result{Diagnostics: diags}, nil
		}
	}
	res, err = c.run(ctx, call)
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up; say so as a transport-level error.
			return nil, ctx.Err()
		}
		if res == nil {
			res = &Result{}
		}
		res.Diagnostics = append(res.Diagnostics, DiagnosticsFromError(err)...)
	}
	if res == nil {
		res = &Result{}
	}
	if c.spec.SensitiveOutput {
		res.Sensitive = true
	}
	return res.Scrub(call.scrub), nil
}

// recoverInto turns a handler panic into an error diagnostic, so one bad
// command does not take down every call in flight.
func (p *Plugin) recoverInto(call *Call, set func(Diagnostics)) {
	if r := recover(); r != nil {
		call.Log.Error("handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		set(Errorf("internal error in %s %s", p.meta.Name, call.Command))
	}
}

// CheckHealth implements [Provider].
func (p *Plugin) CheckHealth(ctx context.Context, req *HealthRequest) (*Health, error) {
	name := req.Target
	p.mu.RLock()
	var ts []*target
	for n, t := range p.targets {
		if name == "" || n == name {
			ts = append(ts, t)
		}
	}
	p.mu.RUnlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].cfg.Name < ts[j].cfg.Name })
	h := &Health{Status: HealthOK}
	if name != "" && len(ts) == 0 {
		return &Health{Status: HealthDown, Targets: []TargetHealth{{Target: name, Status: HealthDown, Message: "no such target"}}}, nil
	}
	for _, t := range ts {
		th := TargetHealth{Target: t.cfg.Name, Status: HealthOK}
		if p.health != nil {
			cfg := t.cfg
			if err := p.health(ctx, &cfg, t.env); err != nil {
				th.Status, th.Message = HealthDown, err.Error()
				h.Status = HealthDegraded
			}
		}
		h.Targets = append(h.Targets, th)
	}
	if len(ts) > 0 && h.Status == HealthDegraded {
		down := 0
		for _, th := range h.Targets {
			if th.Status == HealthDown {
				down++
			}
		}
		if down == len(ts) {
			h.Status = HealthDown
		}
	}
	return h, nil
}

// Complete implements [Completer].
func (p *Plugin) Complete(ctx context.Context, req *CompleteRequest) (*CompleteResponse, error) {
	r := req.Request
	c, call, diags := p.lookup(&r, nil)
	if diags != nil || c.complete == nil {
		return &CompleteResponse{}, nil
	}
	fn, ok := c.completeFor(req.Param)
	if !ok {
		return &CompleteResponse{}, nil
	}
	sugg, err := fn(ctx, call, req.Prefix)
	if err != nil {
		return nil, err
	}
	return &CompleteResponse{Suggestions: sugg}, nil
}

// callHandler tags a call's log records with its request, command and
// target, and masks secrets in them (the target's, the call's sensitive
// arguments, values under sensitive keys) as the call's results are. It
// adds the tags when a record is written, not when the call starts: most
// calls log nothing, and a call should not pay for it.
type callHandler struct {
	base                slog.Handler
	id, command, target string
	scrub               *redact.Redactor
}

// masking returns a copy of h that masks with red.
func (h *callHandler) masking(red *redact.Redactor) *callHandler {
	c := *h
	c.scrub = red
	return &c
}

func (h *callHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.base.Enabled(ctx, l) }

func (h *callHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.scrub.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(h.scrub, a))
		return true
	})
	out.AddAttrs(slog.String("request_id", h.id), slog.String("command", h.command), slog.String("target", h.target))
	return h.base.Handle(ctx, out)
}

func (h *callHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = scrubAttr(h.scrub, a)
	}
	c := *h
	c.base = h.base.WithAttrs(clean)
	return &c
}

func (h *callHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.base = h.base.WithGroup(name)
	return &c
}

// scrubAttr masks a log attribute: whole under a sensitive key (a flag
// aside: password=true says nothing), else its text scrubbed. Values
// that are not text (an error, a struct) are written as their text when
// that text held a secret.
func scrubAttr(red *redact.Redactor, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = scrubAttr(red, ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindBool:
		return slog.Attr{Key: a.Key, Value: v}
	}
	if red.IsSensitiveKey(a.Key) {
		return slog.String(a.Key, redact.Mask)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, red.String(v.String()))
	case slog.KindAny:
		text := fmt.Sprint(v.Any())
		if clean := red.String(text); clean != text {
			return slog.String(a.Key, clean)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
