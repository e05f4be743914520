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
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Provider is what the engine needs of a provider plugin:
// *pluginhost.Process (a supervised plugin process) and *pluginhost.Local
// (one in the bot's process) are two.
type Provider interface {
	command.Provider
	Metadata() sdk.Metadata
	Secrets() []string
	Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error)
	Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error)
}

// availability is a provider that can be down: a supervised plugin
// process that failed its pin, could not start or kept crashing.
// Unavailable says what a user is told then, or nil while it serves.
type availability interface{ Unavailable() error }

// unavailable returns why p cannot be asked anything, when it is down and
// has no catalog to parse a command with (it never started): the user is
// told the provider is unavailable, not that the command is unknown. A
// provider down with a catalog from an earlier start parses as usual, and
// its call says it is unavailable.
func unavailable(p Provider) error {
	a, ok := p.(availability)
	if !ok || len(p.Catalog()) > 0 {
		return nil
	}
	return a.Unavailable()
}

// Registry finds providers by name.
type Registry interface {
	Provider(name string) (Provider, bool)
	ProviderNames() []string
}

// Policy is what the engine asks of the RBAC policy. *authz.Holder and
// authz.AllowAll satisfy it.
type Policy interface {
	authz.Authorizer
	CanApprove(s authz.Subject, a authz.Action, r authz.Requirement) authz.Decision
	Roles(s authz.Subject, channel string) []string
	DisplayName(id string) string
}

// Notifier tells people about things that happen outside their own
// request: an approval waiting for them, the outcome of a request they
// made that someone else approved.
type Notifier interface {
	ApprovalChanged(ctx context.Context, v ApprovalView)
	Notify(ctx context.Context, user string, r Reply)
}

// Observer is told what happens, for metrics. Every method must be cheap.
type Observer interface {
	Request(provider, status string)
	Decision(effect string)
	Approval(outcome string)
	PluginCall(plugin, method string, d time.Duration, err error)
	Error(kind string)
}

type nopObserver struct{}

func (nopObserver) Request(string, string)                          {}
func (nopObserver) Decision(string)                                 {}
func (nopObserver) Approval(string)                                 {}
func (nopObserver) PluginCall(string, string, time.Duration, error) {}
func (nopObserver) Error(string)                                    {}

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
	// Meta is stored with an approval request (a Slack thread, say).
	Meta map[string]string
	// Secrets are sensitive arguments collected privately (a modal), by
	// parameter name; they are never part of Text.
	Secrets map[string]string
	// CanPrompt says the adapter can ask for missing secrets privately:
	// a command missing only sensitive arguments then gets
	// StatusNeedsInput instead of an error.
	CanPrompt bool
	// Command, if set, is the command as fields (a form's): Text is then
	// ignored, and its values are bound as they are, never parsed as words.
	Command *Command
}

// Status is how a request ended.
type Status int

const (
	StatusOK Status = iota
	StatusInvalid
	StatusDenied
	StatusPending
	StatusFailed
	// StatusNeedsInput asks the adapter to collect Inputs privately and
	// send the request again with them as Secrets.
	StatusNeedsInput
)

func (s Status) String() string {
	return [...]string{"ok", "invalid", "denied", "pending", "failed", "needs-input"}[s]
}

// Reply is the engine's answer to a request, for an adapter to render.
type Reply struct {
	RequestID string
	Status    Status
	// Title is a short headline ("/example echo").
	Title string
	// Command is the command line as it may be shown: sensitive values redacted.
	Command  string
	Provider string
	Target   string
	Result   *sdk.Result
	Plan     *sdk.Plan
	Approval *ApprovalView
	// Ticket is the ticket reference the request was made for, and
	// TicketURL its address in the desk's ticket system (when configured).
	Ticket    string
	TicketURL string
	// DryRun marks a plan shown on request (--plan): nothing was
	// approved or run.
	DryRun bool
	// Error is the user-facing message when Status is not OK or pending.
	Error string
	// Diagnostics are the plugin's reasons for an invalid request, each
	// with the argument it is about (Attribute), so that a reply can point
	// at it. A result's own diagnostics are in Result.
	Diagnostics sdk.Diagnostics
	Code        apperr.Code
	// Sensitive replies are for the requester's eyes only.
	Sensitive bool
	// Inputs are the secrets to collect when Status is StatusNeedsInput.
	Inputs []sdk.Param
	// Resume, with StatusNeedsInput, is the command to send again (as
	// Request.Command) with the collected secrets: the values already
	// given, as fields, so that nothing is typed or parsed twice.
	Resume *Command

	// planChanged marks an approved request refused because its work
	// changed since approval.
	planChanged bool
	diff        string
	// lostClaim marks a request this process stopped running because
	// another replica took over its lapsed claim.
	lostClaim bool
}

// Options configure an engine.
type Options struct {
	Plugins Registry
	// Policy decides; without one everything is allowed (development).
	Policy Policy
	// Approvals, if nil, makes commands that need approval fail clearly.
	Approvals *approval.Service
	Audit     audit.Sink
	Notifier  Notifier
	Observer  Observer
	// Groups resolves a user's chat groups (Slack user groups) for the policy.
	Groups func(ctx context.Context, user string) []string
	// PolicyStatus reports the policy file's state for /ops policy status.
	PolicyStatus func() authz.Status
	// Redactor scrubs what the engine shows and stores; New makes one
	// from the plugins' secrets if nil.
	Redactor *redact.Redactor
	Logger   *slog.Logger
	// ExecTimeout bounds an execution when the request sets none (10 min).
	ExecTimeout time.Duration
	// PlanTimeout bounds a plan (30 s).
	PlanTimeout time.Duration
	// CompleteTimeout bounds a plugin's suggestions for one value (1.5 s):
	// a form waiting on them must still answer Slack within 3 s.
	CompleteTimeout time.Duration
	Now             func() time.Time
	// TicketURL is the desk's ticket address with {ticket} where the
	// reference goes (https://desk.example/browse/{ticket}); replies and
	// cards then link each ticket. Empty: tickets are shown as text.
	TicketURL string
	// Step, if set, is called at each step of an approved request's
	// execution ("voted", "told", "dispatched", "executed", "recorded",
	// "finished"): the chaos tests stop the process at each one.
	Step func(name, approvalID string)
}

// Engine runs requests.
type Engine struct {
	opts     Options
	log      *slog.Logger
	redactor *redact.Redactor
	ops      *opsProvider
}

type nopNotifier struct{}

func (nopNotifier) ApprovalChanged(context.Context, ApprovalView) {}
func (nopNotifier) Notify(context.Context, string, Reply)         {}

// New returns an engine.
func New(opts Options) *Engine {
	if opts.Policy == nil {
		opts.Policy = authz.AllowAll{}
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard{}
	}
	if opts.Notifier == nil {
		opts.Notifier = nopNotifier{}
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
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
	if opts.CompleteTimeout == 0 {
		opts.CompleteTimeout = completeTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Step == nil {
		opts.Step = func(string, string) {}
	}
	e := &Engine{opts: opts, log: opts.Logger, redactor: opts.Redactor, ops: newOpsProvider()}
	if e.redactor == nil {
		e.redactor = redact.New()
		for _, name := range opts.Plugins.ProviderNames() {
			if p, ok := opts.Plugins.Provider(name); ok {
				e.redactor.AddSecret(p.Secrets()...)
			}
		}
	}
	return e
}

// TicketURL is the address of a ticket in the desk's ticket system, or
// "" when none is configured (or ticket is "").
func (e *Engine) TicketURL(ticket string) string {
	if ticket == "" || e.opts.TicketURL == "" {
		return ""
	}
	return strings.ReplaceAll(e.opts.TicketURL, "{ticket}", url.PathEscape(ticket))
}

// SetNotifier replaces the notifier (adapters are built after the engine).
// Call it before serving.
func (e *Engine) SetNotifier(n Notifier) { e.opts.Notifier = n }

// SetGroups sets the chat group resolver. Call it before serving.
func (e *Engine) SetGroups(f func(ctx context.Context, user string) []string) { e.opts.Groups = f }

// Redactor returns the engine's redactor, which knows every configured
// secret; adapters scrub what they show with it.
func (e *Engine) Redactor() *redact.Redactor { return e.redactor }

// NewRequestID returns a fresh request id.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "r" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (e *Engine) subject(ctx context.Context, user string) authz.Subject {
	s := authz.Subject{User: user}
	if e.opts.Groups != nil {
		s.Groups = e.opts.Groups(ctx, user)
	}
	return s
}

// Handle runs one request to its end (a result, an error, or a pending
// approval) and returns the reply. progress, if non-nil, gets live updates.
func (e *Engine) Handle(ctx context.Context, req Request, progress func(sdk.Progress)) Reply {
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	r := e.handle(ctx, req, progress)
	provider := r.Provider
	if provider == "" {
		provider = "none"
	}
	e.opts.Observer.Request(provider, r.Status.String())
	return r
}

func (e *Engine) handle(ctx context.Context, req Request, progress func(sdk.Progress)) Reply {
	log := e.log.With("request_id", req.ID, "user", req.User)
	if req.Command != nil {
		return e.handleCommand(ctx, req, log, progress)
	}
	name, rest, err := command.SplitProvider(req.Text)
	if err != nil {
		return invalid(req.ID, err)
	}
	if name == OpsName {
		return e.handleOps(ctx, req, rest, progress)
	}
	p, ok := e.opts.Plugins.Provider(name)
	if !ok {
		names := append(e.opts.Plugins.ProviderNames(), OpsName)
		sort.Strings(names)
		return invalid(req.ID, &command.Error{
			Token:       "/" + name,
			Msg:         fmt.Sprintf("there is no /%s command (available: /%s)", name, strings.Join(names, ", /")),
			Suggestions: prefixAll("/", command.Suggest(name, names)),
		})
	}
	if err := unavailable(p); err != nil {
		return e.failure(req.ID, "", p.Name(), "", err)
	}
	parsed, err := command.Parse(p, rest+secretTokens(req.Secrets))
	if err != nil {
		reparse := func(extra string) (*command.Invocation, error) {
			parsed, err := command.Parse(p, rest+secretTokens(req.Secrets)+extra)
			if err != nil {
				return nil, err
			}
			if parsed.Invocation == nil {
				return nil, errors.New("a request for help takes no secrets")
			}
			return parsed.Invocation, nil
		}
		if r, ok := e.promptable(p, req, err, reparse); ok {
			r.Title = "/" + p.Name() + " " + rest
			return r
		}
		return invalid(req.ID, err)
	}
	if parsed.Help != nil {
		return e.help(req, e.subject(ctx, req.User), p, parsed.Help)
	}
	return e.run(ctx, req, p, parsed.Invocation, log, progress)
}

// handleCommand runs a command given as fields (Request.Command).
func (e *Engine) handleCommand(ctx context.Context, req Request, log *slog.Logger, progress func(sdk.Progress)) Reply {
	c := req.Command
	p, ok := e.opts.Plugins.Provider(c.Provider)
	if !ok {
		return invalid(req.ID, &command.Error{Token: "/" + c.Provider, Msg: fmt.Sprintf("there is no /%s command", c.Provider)})
	}
	if err := unavailable(p); err != nil {
		return e.failure(req.ID, "", p.Name(), "", err)
	}
	bind := func(extra map[string]string) (*command.Invocation, error) {
		values := make(map[string][]string, len(c.Args)+len(req.Secrets)+len(extra))
		for k, v := range c.Args {
			values[k] = v
		}
		for _, m := range []map[string]string{req.Secrets, extra} {
			for k, v := range m {
				values[k] = []string{v}
			}
		}
		inv, err := command.Bind(p, c.Name, c.Target, values)
		if err != nil {
			return nil, err
		}
		if c.Ticket != "" {
			if err := command.CheckTicket(c.Ticket); err != nil {
				return nil, err
			}
			inv.Ticket = c.Ticket
		}
		return inv, nil
	}
	inv, err := bind(nil)
	if err != nil {
		reparse := func(string) (*command.Invocation, error) {
			// Stand-ins a form's missing secrets would be accepted as.
			var ce *command.Error
			spec, ok := command.Find(p, c.Name)
			if !errors.As(err, &ce) || !ok {
				return nil, err
			}
			extra := map[string]string{}
			for _, n := range ce.Missing {
				if prm, ok := spec.Param(n); ok {
					extra[n] = placeholderFor(*prm)
				}
			}
			return bind(extra)
		}
		if r, ok := e.promptable(p, req, err, reparse); ok {
			r.Title = c.Line()
			return r
		}
		return invalid(req.ID, err)
	}
	return e.run(ctx, req, p, inv, log, progress)
}

// run takes a parsed command through authorization, plan, approval and
// execution.
func (e *Engine) run(ctx context.Context, req Request, p Provider, inv *command.Invocation, log *slog.Logger, progress func(sdk.Progress)) Reply {
	subject := e.subject(ctx, req.User)
	line := e.CommandLine(inv, p.DefaultTarget())
	log = log.With("command", p.Name()+" "+inv.Command.Name, "target", inv.Target)

	if !req.SensitiveTextOK {
		for _, n := range inv.Given {
			if _, private := req.Secrets[n]; private {
				continue
			}
			if prm, _ := inv.Command.Param(n); prm != nil && prm.Sensitive {
				return Reply{RequestID: req.ID, Status: StatusInvalid, Code: apperr.Invalid, Command: line,
					Error: fmt.Sprintf("%s is secret and must not be typed into chat, where it stays in your history; run the command without it and you will be asked for it privately", n)}
			}
		}
	}

	base := audit.Entry{RequestID: req.ID, Actor: req.User, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: req.Channel, Ticket: inv.Ticket}
	e.record(ctx, auditEntry(base, audit.ActionRequest, "", e.ArgString(inv)))

	// Authorize on the catalog's risk first: a denied request never
	// reaches the plugin, not even for a plan.
	action := authz.Action{Provider: p.Name(), Command: inv.Command.Name, Args: inv.Args, Target: inv.Target, Channel: req.Channel, Risk: inv.Command.Risk}
	dec := e.opts.Policy.Authorize(subject, action)
	if dec.Effect == authz.Deny {
		e.record(ctx, auditEntry(base, audit.ActionDecision, "deny", dec.Rule+": "+dec.Reason))
		e.opts.Observer.Decision("deny")
		log.Info("request denied", "rule", dec.Rule, "reason", dec.Reason)
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: apperr.Denied, Command: line, Provider: p.Name(), Target: inv.Target, Error: denial(dec, line)}
	}

	// A ticket the policy asks for is checked before anything is planned
	// or put to approvers: a change without one is refused outright. A
	// plan only (--plan) changes nothing and needs none, but a ticket
	// given with it must still look like one.
	if msg := e.checkTicket(action, inv); msg != "" {
		e.record(ctx, auditEntry(base, audit.ActionDecision, "deny", "ticket: "+msg))
		e.opts.Observer.Decision("deny")
		return Reply{RequestID: req.ID, Status: StatusInvalid, Code: apperr.Invalid, Command: line, Provider: p.Name(), Target: inv.Target, Error: msg, Ticket: inv.Ticket}
	}

	if inv.Plan {
		return e.dryRun(ctx, req, p, inv, line, base, dec, log)
	}

	// A read-only command the policy lets run needs no plan: nothing will
	// change, so there is nothing to preview, approve or raise. It goes
	// straight to Execute, which checks its arguments the same way.
	if inv.Command.Risk == sdk.RiskReadOnly && dec.Effect == authz.Allow {
		e.record(ctx, auditEntry(base, audit.ActionDecision, dec.Effect.String(), dec.Rule+reasonSuffix(dec)))
		e.opts.Observer.Decision(dec.Effect.String())
		return e.execute(ctx, execution{
			requestID: req.ID, user: req.User, channel: req.Channel, plugin: p, inv: inv, line: line, timeout: req.Timeout,
		}, progress)
	}

	sreq := &sdk.PlanRequest{Request: sdk.Request{ID: req.ID, Invoker: req.User, Channel: req.Channel, Target: inv.Target, Command: inv.Command.Name, Args: inv.Args}}
	pctx, cancel := context.WithTimeout(ctx, e.opts.PlanTimeout)
	began := e.opts.Now()
	pr, err := p.Plan(pctx, sreq)
	e.opts.Observer.PluginCall(p.Name(), "plan", e.opts.Now().Sub(began), err)
	cancel()
	if err != nil {
		log.Warn("plan failed", "error", e.requestRedactor(inv).String(err.Error()))
		return e.failureWith(e.requestRedactor(inv), req.ID, line, p.Name(), inv.Target, err)
	}
	if pr.Diagnostics.HasError() {
		diags := pr.Diagnostics.Scrub(e.requestRedactor(inv))
		msg := diags.Err().Error()
		e.record(ctx, auditEntry(base, audit.ActionPlan, "invalid", msg))
		return Reply{RequestID: req.ID, Status: StatusInvalid, Code: apperr.Invalid, Command: line, Provider: p.Name(), Target: inv.Target, Error: msg, Diagnostics: diags}
	}
	plan := e.scrubPlan(pr.Plan, inv)
	if plan != nil && plan.Risk > action.Risk {
		// The plan found these arguments riskier than the catalog says.
		action.Risk = plan.Risk
		dec = e.opts.Policy.Authorize(subject, action)
		if msg := e.checkTicket(action, inv); msg != "" && dec.Effect != authz.Deny {
			e.record(ctx, auditEntry(base, audit.ActionDecision, "deny", "ticket: "+msg))
			e.opts.Observer.Decision("deny")
			return Reply{RequestID: req.ID, Status: StatusInvalid, Code: apperr.Invalid, Command: line, Provider: p.Name(), Target: inv.Target, Error: msg, Ticket: inv.Ticket}
		}
	}
	e.record(ctx, auditEntry(base, audit.ActionDecision, dec.Effect.String(), dec.Rule+reasonSuffix(dec)))
	e.opts.Observer.Decision(dec.Effect.String())
	switch dec.Effect {
	case authz.Deny:
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: apperr.Denied, Command: line, Provider: p.Name(), Target: inv.Target, Error: denial(dec, line)}
	case authz.NeedsApproval:
		return e.requestApproval(ctx, req, p, inv, line, action.Risk, plan, dec)
	}
	return e.execute(ctx, execution{
		requestID: req.ID, user: req.User, channel: req.Channel, plugin: p, inv: inv, line: line, timeout: req.Timeout,
	}, progress)
}

// secretTokens writes privately collected secrets as key=value words.
func secretTokens(secrets map[string]string) string {
	var b strings.Builder
	keys := make([]string, 0, len(secrets))
	for k := range secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + command.QuoteWord(secrets[k]))
	}
	return b.String()
}

// promptable answers StatusNeedsInput when the only problem with a
// command is that sensitive parameters are missing: reparse, given
// placeholders for them (as words, for a typed line), must then succeed.
// The reply's Resume is the command with what was given, as fields.
func (e *Engine) promptable(p Provider, req Request, err error, reparse func(placeholders string) (*command.Invocation, error)) (Reply, bool) {
	var ce *command.Error
	if !req.CanPrompt || !errors.As(err, &ce) || len(ce.Missing) == 0 {
		return Reply{}, false
	}
	inv, perr := reparse(placeholders(ce.Missing))
	if perr != nil {
		return Reply{}, false
	}
	var inputs []sdk.Param
	for _, name := range ce.Missing {
		prm, _ := inv.Command.Param(name)
		if prm == nil || !prm.Sensitive {
			return Reply{}, false
		}
		inputs = append(inputs, *prm)
	}
	resume := &Command{Provider: p.Name(), Name: inv.Command.Name, Args: map[string][]string{}, Ticket: inv.Ticket}
	if inv.Target != p.DefaultTarget() {
		resume.Target = inv.Target
	}
	for _, name := range inv.Given {
		prm, _ := inv.Command.Param(name)
		if slices.Contains(ce.Missing, name) || prm != nil && prm.Sensitive {
			// Secrets travel in Request.Secrets, never in the command.
			continue
		}
		switch v := inv.Args[name].(type) {
		case []string:
			resume.Args[name] = v
		default:
			resume.Args[name] = []string{sdk.FormatValue(v)}
		}
	}
	return Reply{RequestID: req.ID, Status: StatusNeedsInput, Provider: p.Name(), Inputs: inputs, Resume: resume}, true
}

func placeholders(names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(" " + n + "=x")
	}
	return b.String()
}

func reasonSuffix(d authz.Decision) string {
	if d.Reason == "" {
		return ""
	}
	return ": " + d.Reason
}

// auditEntry is base as the audit entry of one step of a request: its
// action and outcome, and the detail (the arguments, for the request
// itself).
func auditEntry(e audit.Entry, action audit.Action, outcome, detail string) audit.Entry {
	e.Action, e.Outcome = action, outcome
	if action == audit.ActionRequest {
		e.Args = detail
	} else {
		e.Detail = detail
	}
	return e
}

type execution struct {
	requestID  string
	user       string
	channel    string
	plugin     Provider
	inv        *command.Invocation
	line       string
	approvalID string
	timeout    time.Duration
	// planDigest, for an approved request, is the approved plan's: the
	// provider refuses to run work that no longer matches it.
	planDigest string
	// dispatch, if set, is called just before the provider is called; if
	// it refuses, nothing is sent.
	dispatch func() error
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
	base := audit.Entry{RequestID: x.requestID, Actor: x.user, Provider: p.Name(), Command: inv.Command.Name, Target: inv.Target, Channel: x.channel, ApprovalID: x.approvalID, Ticket: inv.Ticket}
	if x.dispatch != nil {
		// Claimed before anything is recorded as started: "execute
		// started" in the audit log means it was handed over.
		if err := x.dispatch(); err != nil {
			return e.failure(x.requestID, x.line, p.Name(), inv.Target, err)
		}
	}
	ex := auditEntry(base, audit.ActionExecute, "started", "")
	ex.Args = e.ArgString(inv)
	e.record(ctx, ex)
	start := e.opts.Now()
	sreq := &sdk.ExecuteRequest{Request: sdk.Request{ID: x.requestID, Invoker: x.user, Channel: x.channel, Target: inv.Target, Command: inv.Command.Name, Args: inv.Args, ApprovalID: x.approvalID, PlanDigest: x.planDigest}}
	var scrubbed func(sdk.Progress)
	if progress != nil {
		red := e.requestRedactor(inv)
		scrubbed = func(pg sdk.Progress) { progress(pg.Scrub(red)) }
	}
	sreq.Progress = scrubbed
	res, err := p.Execute(ctx, sreq)
	took := e.opts.Now().Sub(start)
	e.opts.Observer.PluginCall(p.Name(), "execute", took, err)
	if err != nil {
		red := e.requestRedactor(inv)
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			// The requester cancelled it (Ctrl-C in the console): an
			// outcome, not a fault.
			log.Info("execution cancelled", "error", red.String(err.Error()), "took", took)
		} else {
			log.Warn("execution failed", "error", red.String(err.Error()), "took", took)
		}
		e.record(context.WithoutCancel(ctx), auditEntry(base, audit.ActionResult, "failed", red.String(apperr.Message(err))))
		return e.failureWith(red, x.requestID, x.line, p.Name(), inv.Target, err)
	}
	res = e.scrubResult(res, inv)
	e.opts.Step("executed", x.approvalID)
	if changed := res.Diagnostics.Code(sdk.CodeWorkChanged); changed != nil && x.approvalID != "" {
		// The provider found its state changed at the last moment and
		// sent nothing: that is a plan change, not a failure of the work.
		return Reply{RequestID: x.requestID, Status: StatusFailed, Code: apperr.Conflict, Command: x.line, Provider: p.Name(), Target: inv.Target,
			Error: changed.String(), Diagnostics: res.Diagnostics, planChanged: true}
	}
	outcome, detail := "succeeded", summarize(res)
	invalid := false
	if res.Failed() {
		outcome, detail = "failed", res.Diagnostics.Err().Error()
		// A read-only command has no plan step, so the provider's word
		// that an argument is wrong (a misspelt account or server: the
		// plugin's sdk.BadArg) comes here. It is invalid input, as it
		// is from the plan of a command that changes things; a changing
		// command's failure at this point stays a failure, since part
		// of its work may have been done.
		if inv.Command.Risk == sdk.RiskReadOnly && argumentsOnly(res.Diagnostics, inv.Command) {
			outcome, invalid = "invalid", true
		}
	}
	log.Info("executed", "outcome", outcome, "took", took)
	e.record(context.WithoutCancel(ctx), auditEntry(base, audit.ActionResult, outcome, detail))
	r := Reply{RequestID: x.requestID, Status: StatusOK, Title: x.line, Command: x.line, Provider: p.Name(), Target: inv.Target, Result: res, Sensitive: res.Sensitive, Ticket: inv.Ticket, TicketURL: e.TicketURL(inv.Ticket)}
	switch {
	case invalid:
		r.Status, r.Code, r.Error = StatusInvalid, apperr.Invalid, detail
	case res.Failed():
		r.Status, r.Code, r.Error = StatusFailed, apperr.Failed, detail
	}
	return r
}

// argumentsOnly reports whether every error among ds is about one of
// cmd's parameters (its Attribute names it): the input was wrong, not
// the provider or the call.
func argumentsOnly(ds sdk.Diagnostics, cmd *sdk.CommandSpec) bool {
	n := 0
	for _, d := range ds {
		if d.Severity == sdk.SeverityWarning {
			continue
		}
		if d.Attribute == "" {
			return false
		}
		if prm, _ := cmd.Param(d.Attribute); prm == nil {
			return false
		}
		n++
	}
	return n > 0
}

// summarize describes a result in a line for the audit log, without the
// result's content (which may be sensitive).
func summarize(r *sdk.Result) string {
	var parts []string
	for _, p := range r.Parts {
		switch {
		case p.Table != nil:
			parts = append(parts, fmt.Sprintf("table of %d rows", len(p.Table.Rows)))
		case p.File != nil:
			parts = append(parts, fmt.Sprintf("file %s (%d bytes)", p.File.Name, len(p.File.Content)))
		case p.Text != nil:
			parts = append(parts, "text")
		default:
			parts = append(parts, fmt.Sprintf("%d values", len(p.KeyValues)))
		}
	}
	return strings.Join(parts, ", ")
}

// scrubResult removes configured secrets and this request's sensitive
// argument values from everything a plugin returned, as a last line of
// defence: a plugin built without the SDK scrubs nothing.
func (e *Engine) scrubResult(r *sdk.Result, inv *command.Invocation) *sdk.Result {
	return r.Scrub(e.requestRedactor(inv))
}

// requestRedactor is the engine's redactor plus the request's sensitive
// argument values.
func (e *Engine) requestRedactor(inv *command.Invocation) *redact.Redactor {
	if vs := sdk.SensitiveValues(inv.Command.Params, inv.Args); len(vs) > 0 {
		return e.redactor.With(vs...)
	}
	return e.redactor
}

func (e *Engine) scrubPlan(p *sdk.Plan, inv *command.Invocation) *sdk.Plan {
	p = p.Scrub(e.requestRedactor(inv))
	if p != nil {
		for i := range p.Steps {
			if p.Steps[i].Body == "null" {
				p.Steps[i].Body = ""
			}
		}
	}
	return p
}

func (e *Engine) failure(id, line, provider, target string, err error) Reply {
	return e.failureWith(e.redactor, id, line, provider, target, err)
}

// failureWith is failure scrubbing with red (one that knows the request's
// sensitive values).
func (e *Engine) failureWith(red *redact.Redactor, id, line, provider, target string, err error) Reply {
	code := apperr.CodeOf(err)
	msg := apperr.Message(err)
	if code == apperr.Internal {
		e.opts.Observer.Error("internal")
		e.log.Error("internal error", "request_id", id, "error", red.String(err.Error()))
	}
	return Reply{RequestID: id, Status: StatusFailed, Code: code, Command: line, Provider: provider, Target: target, Error: red.String(msg)}
}

func invalid(id string, err error) Reply {
	var ce *command.Error
	msg := "internal error"
	switch {
	case errors.As(err, &ce):
		msg = ce.Error()
	case apperr.CodeOf(err) != apperr.Internal:
		msg = apperr.Message(err)
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
	en.Args = e.redactor.String(en.Args)
	en.Detail = e.redactor.String(en.Detail)
	if en.Action == audit.ActionApproval {
		e.opts.Observer.Approval(en.Outcome)
	}
	if err := e.opts.Audit.Record(ctx, en); err != nil {
		e.opts.Observer.Error("audit")
		e.log.Error("audit write failed", "request_id", en.RequestID, "action", en.Action, "error", err)
	}
}

// CommandLine writes an invocation back as a command line, with sensitive
// values replaced: what people see. It shows the arguments the user gave
// (defaults add nothing a reader needs); the audit log records them all.
// The target is written unless it is the plugin's default.
func (e *Engine) CommandLine(inv *command.Invocation, defaultTarget string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "/%s %s", inv.Provider, inv.Command.Name)
	given := inv.Given
	if given == nil {
		given = []string{}
	}
	if s := e.argString(inv, given); s != "" {
		b.WriteString(" ")
		b.WriteString(s)
	}
	if inv.Target != "" && inv.Target != defaultTarget {
		fmt.Fprintf(&b, " --target %s", inv.Target)
	}
	return b.String()
}

// ArgString is the canonical, redacted form of all the typed arguments,
// defaults included: key=value pairs in catalog order, free-text ones
// last, values quoted when needed.
func (e *Engine) ArgString(inv *command.Invocation) string { return e.argString(inv, nil) }

// argString writes the arguments named in only (all if nil). Free-text
// values (reasons, notes) come after the others: a display that cuts a
// long line then cuts prose, not the arguments that decide what runs.
func (e *Engine) argString(inv *command.Invocation, only []string) string {
	red := e.requestRedactor(inv)
	var parts, prose []string
	for _, prm := range inv.Command.Params {
		v, ok := inv.Args[prm.Name]
		if !ok || only != nil && !slices.Contains(only, prm.Name) {
			continue
		}
		s := sdk.FormatValue(v)
		if prm.Sensitive {
			s = redact.Mask
		} else {
			s = red.Value(prm.Name, s)
		}
		if prm.Type == sdk.TypeText {
			prose = append(prose, prm.Name+"="+quoteValue(s))
			continue
		}
		parts = append(parts, prm.Name+"="+quoteValue(s))
	}
	if inv.Command.ExtraArguments {
		var extra []string
		for k := range inv.Args {
			if _, declared := inv.Command.Param(k); !declared && (only == nil || slices.Contains(only, k)) {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			parts = append(parts, k+"="+quoteValue(red.Value(k, sdk.FormatValue(inv.Args[k]))))
		}
	}
	return strings.Join(append(parts, prose...), " ")
}

// quoteValue writes a value for a command line people read: as it is
// when it is one plain word, else Go-quoted, so that a space, a quote, a
// newline or any other unprintable character is visible and escaped. A
// newline shown raw would let a value pass for further arguments
// (reason="x\nlock=no" read as reason=x and lock=no).
func quoteValue(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"'") || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

func (e *Engine) help(req Request, s authz.Subject, p Provider, h *command.Help) Reply {
	visible := func(c *sdk.CommandSpec) bool {
		d := e.opts.Policy.Authorize(s, authz.Action{Provider: p.Name(), Command: c.Name, Risk: c.Risk, Channel: req.Channel, Target: p.DefaultTarget()})
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

// Arguments returns the arguments a reply's error diagnostics are about,
// in order, each once: what a chat message points at.
func (r Reply) Arguments() []string {
	var out []string
	add := func(ds sdk.Diagnostics) {
		for _, d := range ds {
			if d.Severity != sdk.SeverityWarning && d.Attribute != "" && !slices.Contains(out, d.Attribute) {
				out = append(out, d.Attribute)
			}
		}
	}
	add(r.Diagnostics)
	if r.Result != nil {
		add(r.Result.Diagnostics)
	}
	return out
}
