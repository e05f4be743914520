// Package engine is the pipeline every command travels:
//
//	parse → authorize → plan → approval gate → execute → render
//
// It knows no chat system: adapters hand it a neutral Request and render
// the Reply it returns. Every step is written to the audit log.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Plugin is what the engine needs of a provider plugin. *pluginhost.Plugin
// satisfies it; so does pluginhost.Local for in-process providers.
type Plugin interface {
	command.Provider
	Metadata() sdk.Metadata
	Secrets() []string
	Plan(ctx context.Context, req *sdk.Request) (*sdk.PlanResponse, error)
	Execute(ctx context.Context, req *sdk.Request, progress func(sdk.Progress)) (*sdk.Result, error)
}

// Registry finds plugins by name.
type Registry interface {
	Plugin(name string) (Plugin, bool)
	PluginNames() []string
}

// Request is one line typed by a user.
type Request struct {
	// ID identifies the request everywhere (logs, audit, provider calls).
	// Handle assigns one if empty.
	ID      string
	User    string
	Channel string
	Text    string
	// SensitiveTextOK allows secrets in the typed text. Chat adapters
	// leave it false: a message stays in the user's history.
	SensitiveTextOK bool
	// Timeout bounds execution; the engine's default applies if zero.
	Timeout time.Duration
}

// Status is how a request ended.
type Status int

const (
	StatusOK Status = iota
	StatusInvalid
	StatusDenied
	StatusPending
	StatusFailed
)

func (s Status) String() string {
	return [...]string{"ok", "invalid", "denied", "pending", "failed"}[s]
}

// Reply is the engine's answer to a request, for an adapter to render.
type Reply struct {
	RequestID string
	Status    Status
	// Title is a short headline ("/example echo on sandbox").
	Title string
	// Command is the command line as it may be shown: sensitive values redacted.
	Command  string
	Provider string
	Target   string
	Result   *sdk.Result
	Plan     *sdk.Plan
	Approval *ApprovalView
	// Error is the user-facing message when Status is not OK or pending.
	Error string
	Code  apperr.Code
	// Sensitive replies are for the requester's eyes only.
	Sensitive bool
}

// ApprovalView is what an approver sees of a pending request.
type ApprovalView struct {
	ID          string
	Requester   string
	Command     string
	Provider    string
	Target      string
	Channel     string
	Risk        sdk.Risk
	Plan        *sdk.Plan
	Required    int
	Approvers   []string
	Confirm     bool
	State       string
	ExpiresAt   time.Time
	Reason      string
	RequestID   string
	DecidedRule string
}

// Options configure an engine.
type Options struct {
	Plugins    Registry
	Authorizer authz.Authorizer
	Audit      audit.Sink
	Logger     *slog.Logger
	// ExecTimeout bounds an execution when the request sets none (10 min).
	ExecTimeout time.Duration
	// PlanTimeout bounds a plan (30 s).
	PlanTimeout time.Duration
	// Users maps display names to user ids, for adapters that let people
	// say "alice" (the console, bot exec).
	Now func() time.Time
}

// Engine runs requests.
type Engine struct {
	opts     Options
	log      *slog.Logger
	redactor *redact.Redactor
}

// New returns an engine.
func New(opts Options) *Engine {
	if opts.Authorizer == nil {
		opts.Authorizer = authz.AllowAll{}
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ExecTimeout == 0 {
		opts.ExecTimeout = 10 * time.Minute
	}
	if opts.PlanTimeout == 0 {
		opts.PlanTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{opts: opts, log: opts.Logger, redactor: redact.New()}
	for _, name := range opts.Plugins.PluginNames() {
		if p, ok := opts.Plugins.Plugin(name); ok {
			e.redactor.AddSecret(p.Secrets()...)
		}
	}
	return e
}

// Redactor returns the engine's redactor, which knows every configured
// secret; adapters scrub what they show with it.
func (e *Engine) Redactor() *redact.Redactor { return e.redactor }

// NewRequestID returns a fresh request id.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "r" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Handle runs one request to its end (a result, an error, or a pending
// approval) and returns the reply. progress, if non-nil, gets live updates.
func (e *Engine) Handle(ctx context.Context, req Request, progress func(sdk.Progress)) Reply {
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	log := e.log.With("request_id", req.ID, "user", req.User)
	name, rest, err := command.SplitProvider(req.Text)
	if err != nil {
		return invalid(req.ID, err)
	}
	if name == "ops" {
		return e.ops(ctx, req, rest)
	}
	p, ok := e.opts.Plugins.Plugin(name)
	if !ok {
		names := append(e.opts.Plugins.PluginNames(), "ops")
		return invalid(req.ID, &command.Error{
			Token:       "/" + name,
			Msg:         fmt.Sprintf("there is no /%s command (available: /%s)", name, strings.Join(names, ", /")),
			Suggestions: prefixAll("/", command.Suggest(name, names)),
		})
	}
	parsed, err := command.Parse(p, rest)
	if err != nil {
		return invalid(req.ID, err)
	}
	if parsed.Help != nil {
		return e.help(req, p, parsed.Help)
	}
	inv := parsed.Invocation
	line := e.CommandLine(inv, p.DefaultTarget())
	log = log.With("command", p.Name()+" "+inv.Command.Name, "target", inv.Target)

	if !req.SensitiveTextOK {
		for _, n := range inv.Given {
			if prm, _ := inv.Command.Param(n); prm != nil && prm.Sensitive {
				return Reply{RequestID: req.ID, Status: StatusInvalid, Code: apperr.Invalid, Command: line,
					Error: fmt.Sprintf("%s is secret and must not be typed into chat, where it stays in your history; run the command without it and you will be asked for it privately", n)}
			}
		}
	}

	e.record(ctx, audit.Entry{RequestID: req.ID, Actor: req.User, Action: audit.ActionRequest, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: req.Channel, Args: e.ArgString(inv)})

	// Authorize on the catalog's risk first: a denied request never
	// reaches the plugin, not even for a plan.
	action := authz.Action{Provider: p.Name(), Command: inv.Command.Name, Args: inv.Args, Target: inv.Target, Channel: req.Channel, Risk: inv.Command.Risk}
	subject := authz.Subject{User: req.User}
	dec := e.opts.Authorizer.Authorize(subject, action)
	if dec.Effect == authz.Deny {
		e.record(ctx, audit.Entry{RequestID: req.ID, Actor: req.User, Action: audit.ActionDecision, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: req.Channel, Outcome: "deny", Detail: dec.Rule})
		log.Info("request denied", "rule", dec.Rule)
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: apperr.Denied, Command: line, Provider: p.Name(), Target: inv.Target,
			Error: denial(dec, line)}
	}

	sreq := &sdk.Request{ID: req.ID, Invoker: req.User, Channel: req.Channel, Target: inv.Target, Command: inv.Command.Name, Args: inv.Args}
	pctx, cancel := context.WithTimeout(ctx, e.opts.PlanTimeout)
	pr, err := p.Plan(pctx, sreq)
	cancel()
	if err != nil {
		log.Warn("plan failed", "error", err)
		return e.failure(req.ID, line, p.Name(), inv.Target, err)
	}
	if pr.Diagnostics.HasError() {
		return Reply{RequestID: req.ID, Status: StatusInvalid, Code: apperr.Invalid, Command: line, Provider: p.Name(), Target: inv.Target,
			Error: e.redactor.String(pr.Diagnostics.Err().Error())}
	}
	plan := pr.Plan
	if plan != nil && plan.Risk > action.Risk {
		// The plan found these arguments riskier than the catalog says.
		action.Risk = plan.Risk
		dec = e.opts.Authorizer.Authorize(subject, action)
	}
	e.record(ctx, audit.Entry{RequestID: req.ID, Actor: req.User, Action: audit.ActionDecision, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: req.Channel, Outcome: dec.Effect.String(), Detail: dec.Rule})
	switch dec.Effect {
	case authz.Deny:
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: apperr.Denied, Command: line, Provider: p.Name(), Target: inv.Target, Error: denial(dec, line)}
	case authz.NeedsApproval:
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: apperr.Unavailable, Command: line, Provider: p.Name(), Target: inv.Target,
			Error: fmt.Sprintf("%s needs approval, and approvals are not set up on this bot", line)}
	}
	return e.execute(ctx, execution{
		requestID: req.ID, user: req.User, channel: req.Channel, plugin: p, inv: inv, line: line, timeout: req.Timeout,
	}, progress)
}

type execution struct {
	requestID  string
	user       string
	channel    string
	plugin     Plugin
	inv        *command.Invocation
	line       string
	approvalID string
	timeout    time.Duration
}

func (e *Engine) execute(ctx context.Context, x execution, progress func(sdk.Progress)) Reply {
	timeout := x.timeout
	if timeout == 0 {
		timeout = e.opts.ExecTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p, inv := x.plugin, x.inv
	log := e.log.With("request_id", x.requestID, "user", x.user, "command", p.Name()+" "+inv.Command.Name, "target", inv.Target)
	e.record(ctx, audit.Entry{RequestID: x.requestID, Actor: x.user, Action: audit.ActionExecute, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: x.channel, Args: e.ArgString(inv), ApprovalID: x.approvalID})
	start := e.opts.Now()
	sreq := &sdk.Request{ID: x.requestID, Invoker: x.user, Channel: x.channel, Target: inv.Target, Command: inv.Command.Name, Args: inv.Args, ApprovalID: x.approvalID}
	var scrubbed func(sdk.Progress)
	if progress != nil {
		scrubbed = func(pg sdk.Progress) {
			pg.Message = e.redactor.String(pg.Message)
			progress(pg)
		}
	}
	res, err := p.Execute(ctx, sreq, scrubbed)
	took := e.opts.Now().Sub(start)
	if err != nil {
		log.Warn("execution failed", "error", err, "took", took)
		e.record(context.WithoutCancel(ctx), audit.Entry{RequestID: x.requestID, Actor: x.user, Action: audit.ActionResult, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: x.channel, Outcome: "failed", Detail: e.redactor.String(apperr.Message(err)), ApprovalID: x.approvalID})
		return e.failure(x.requestID, x.line, p.Name(), inv.Target, err)
	}
	res = e.scrubResult(res)
	outcome, detail := "succeeded", ""
	if res.Failed() {
		outcome, detail = "failed", res.Diagnostics.Err().Error()
	}
	log.Info("executed", "outcome", outcome, "took", took)
	e.record(context.WithoutCancel(ctx), audit.Entry{RequestID: x.requestID, Actor: x.user, Action: audit.ActionResult, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: x.channel, Outcome: outcome, Detail: detail, ApprovalID: x.approvalID})
	r := Reply{RequestID: x.requestID, Status: StatusOK, Title: x.line, Command: x.line, Provider: p.Name(), Target: inv.Target, Result: res, Sensitive: res.Sensitive}
	if res.Failed() {
		r.Status, r.Code, r.Error = StatusFailed, apperr.Failed, detail
	}
	return r
}

// scrubResult removes configured secrets and sensitive argument values
// from everything a plugin returned, as a last line of defence.
func (e *Engine) scrubResult(r *sdk.Result) *sdk.Result {
	s := e.redactor.String
	for i := range r.Parts {
		p := &r.Parts[i]
		p.Title = s(p.Title)
		if p.Text != nil {
			p.Text.Body = s(p.Text.Body)
		}
		for j := range p.KeyValues {
			p.KeyValues[j].Value = e.redactor.Value(p.KeyValues[j].Key, p.KeyValues[j].Value)
		}
		if p.Table != nil {
			for _, row := range p.Table.Rows {
				for k := range row {
					row[k] = s(row[k])
				}
			}
		}
	}
	for i := range r.Diagnostics {
		r.Diagnostics[i].Summary = s(r.Diagnostics[i].Summary)
		r.Diagnostics[i].Detail = s(r.Diagnostics[i].Detail)
	}
	return r
}

func (e *Engine) failure(id, line, provider, target string, err error) Reply {
	code := apperr.CodeOf(err)
	msg := apperr.Message(err)
	if code == apperr.Internal {
		e.log.Error("internal error", "request_id", id, "error", e.redactor.String(err.Error()))
	}
	return Reply{RequestID: id, Status: StatusFailed, Code: code, Command: line, Provider: provider, Target: target, Error: e.redactor.String(msg)}
}

func invalid(id string, err error) Reply {
	var ce *command.Error
	msg := "internal error"
	if errors.As(err, &ce) {
		msg = ce.Error()
	}
	return Reply{RequestID: id, Status: StatusInvalid, Code: apperr.Invalid, Error: msg}
}

func denial(d authz.Decision, line string) string {
	msg := "You may not run " + line
	if d.Reason != "" {
		msg += ": " + d.Reason
	}
	return msg
}

func (e *Engine) record(ctx context.Context, en audit.Entry) {
	if en.Time.IsZero() {
		en.Time = e.opts.Now()
	}
	if err := e.opts.Audit.Record(ctx, en); err != nil {
		e.log.Error("audit write failed", "request_id", en.RequestID, "action", en.Action, "error", err)
	}
}

// CommandLine writes an invocation back as a command line, with sensitive
// values replaced. It is what approvers, logs and the audit log see. The
// target is written unless it is the plugin's default.
func (e *Engine) CommandLine(inv *command.Invocation, defaultTarget string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "/%s %s", inv.Provider, inv.Command.Name)
	if s := e.ArgString(inv); s != "" {
		b.WriteString(" ")
		b.WriteString(s)
	}
	if inv.Target != "" && inv.Target != defaultTarget {
		fmt.Fprintf(&b, " --target %s", inv.Target)
	}
	return b.String()
}

// ArgString is the canonical, redacted form of the typed arguments:
// key=value pairs in catalog order, values quoted when needed.
func (e *Engine) ArgString(inv *command.Invocation) string {
	var parts []string
	for _, prm := range inv.Command.Params {
		v, ok := inv.Args[prm.Name]
		if !ok {
			continue
		}
		s := sdk.FormatValue(v)
		if prm.Sensitive {
			s = redact.Mask
		} else {
			s = e.redactor.String(s)
		}
		if s == "" || strings.ContainsAny(s, " \t\"'") {
			s = fmt.Sprintf("%q", s)
		}
		parts = append(parts, prm.Name+"="+s)
	}
	return strings.Join(parts, " ")
}

func (e *Engine) help(req Request, p Plugin, h *command.Help) Reply {
	visible := func(c *sdk.CommandSpec) bool {
		d := e.opts.Authorizer.Authorize(authz.Subject{User: req.User}, authz.Action{Provider: p.Name(), Command: c.Name, Risk: c.Risk, Channel: req.Channel, Target: p.DefaultTarget()})
		return d.Effect != authz.Deny
	}
	pg, err := command.HelpPage(p, p.Metadata().Description, h.Path, visible)
	if err != nil {
		return invalid(req.ID, err)
	}
	return Reply{RequestID: req.ID, Status: StatusOK, Title: pg.Title, Provider: p.Name(),
		Result: &sdk.Result{Parts: []sdk.Part{{Text: &sdk.Text{Body: strings.Join(pg.Lines, "\n"), Format: sdk.FormatMarkdown}}}}}
}

func prefixAll(prefix string, list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = prefix + s
	}
	return out
}

// ops runs the built-in /ops commands.
func (e *Engine) ops(ctx context.Context, req Request, rest string) Reply {
	words := strings.Fields(rest)
	if len(words) == 0 || words[0] == "help" {
		return Reply{RequestID: req.ID, Status: StatusOK, Title: "/ops", Result: sdk.NewResult().AddMarkdown(strings.Join([]string{
			"`/ops whoami` who the bot thinks you are",
			"`/ops plugins` the provider plugins and their state",
		}, "\n"))}
	}
	switch words[0] {
	case "whoami":
		return Reply{RequestID: req.ID, Status: StatusOK, Title: "/ops whoami", Result: sdk.NewResult().AddKeyValues("", "user", req.User, "channel", req.Channel)}
	case "plugins":
		res := sdk.NewResult()
		t := res.AddTable("Plugins", "name", "version", "commands", "targets", "default target")
		names := e.opts.Plugins.PluginNames()
		sort.Strings(names)
		for _, n := range names {
			p, _ := e.opts.Plugins.Plugin(n)
			t.Row(n, p.Metadata().Version, fmt.Sprint(len(p.Catalog())), strings.Join(p.Targets(), ", "), p.DefaultTarget())
		}
		return Reply{RequestID: req.ID, Status: StatusOK, Title: "/ops plugins", Result: res}
	}
	return invalid(req.ID, &command.Error{Token: words[0], Msg: "/ops has no such command", Suggestions: command.Suggest(words[0], []string{"whoami", "plugins", "help"})})
}
