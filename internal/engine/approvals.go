package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk"
)

// ApprovalView is what people see of an approval request.
type ApprovalView struct {
	ID            string    `json:"id"`
	RequestID     string    `json:"request_id"`
	Requester     string    `json:"requester"`
	RequesterName string    `json:"requester_name"`
	Command       string    `json:"command"`
	Provider      string    `json:"provider"`
	Target        string    `json:"target"`
	Channel       string    `json:"channel"`
	Risk          sdk.Risk  `json:"risk"`
	Plan          *sdk.Plan `json:"plan,omitempty"`
	Required      int       `json:"required"`
	Approvers     []string  `json:"approvers,omitempty"` // names
	ApproverIDs   []string  `json:"approver_ids,omitempty"`
	ApproverRoles []string  `json:"approver_roles,omitempty"`
	Confirm       bool      `json:"confirm_target"`
	// ConfirmValue is what approvers type when Confirm is set: the name
	// of the resource the command acts on.
	ConfirmValue string `json:"confirm_value,omitempty"`
	// Dispatched says an executing request was handed to its provider.
	Dispatched bool              `json:"dispatched,omitempty"`
	State      string            `json:"state"`
	CreatedAt  time.Time         `json:"created_at"`
	ExpiresAt  time.Time         `json:"expires_at"`
	DecidedBy  string            `json:"decided_by,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Result     string            `json:"result,omitempty"`
	Rule       string            `json:"rule"`
	Meta       map[string]string `json:"meta,omitempty"`
	// Ticket is the ticket reference the request was made for, and
	// TicketURL its address in the desk's ticket system (when configured).
	Ticket    string `json:"ticket,omitempty"`
	TicketURL string `json:"ticket_url,omitempty"`
}

// ConfirmWord is what approvers type to confirm a critical request: the
// name of the resource it acts on, or the target's.
func (v ApprovalView) ConfirmWord() string {
	if v.ConfirmValue != "" {
		return v.ConfirmValue
	}
	return v.Target
}

// StateText says the state in words.
func (v ApprovalView) StateText() string {
	switch store.State(v.State) {
	case store.StatePending:
		return fmt.Sprintf("waiting for %d more approval(s)", v.Required-len(v.Approvers))
	case store.StateApproved:
		return "approved"
	case store.StateExecuting:
		return "approved, running"
	case store.StateSucceeded:
		return "approved and done"
	case store.StateFailed:
		return "approved, but it failed"
	case store.StateDenied:
		return "denied"
	case store.StateExpired:
		return "expired"
	case store.StateCancelled:
		return "cancelled"
	case store.StateUnknown:
		return "outcome unknown: it was running when the bot stopped; check before trying again"
	case store.StatePlanChanged:
		return "approved, but not run: what it would do changed after the approval"
	}
	return v.State
}

func (e *Engine) view(a *store.Approval) ApprovalView {
	v := ApprovalView{
		ID: a.ID, RequestID: a.RequestID, Requester: a.Requester, RequesterName: e.opts.Policy.DisplayName(a.Requester),
		Command: a.CommandLine, Provider: a.Provider, Target: a.Target, Channel: a.Channel, Risk: sdk.Risk(a.Risk),
		Plan: approval.Plan(a), Required: a.Required, ApproverRoles: a.ApproverRoles, Confirm: a.ConfirmTarget,
		ConfirmValue: a.ConfirmValue, Dispatched: !a.DispatchedAt.IsZero(), State: string(a.State), CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, Reason: a.Reason, Result: a.Result,
		Rule: a.Rule, Meta: a.Meta, Ticket: a.Ticket, TicketURL: e.TicketURL(a.Ticket),
	}
	if a.DecidedBy != "" {
		v.DecidedBy = e.opts.Policy.DisplayName(a.DecidedBy)
	}
	for _, vt := range a.Votes {
		v.Approvers = append(v.Approvers, e.opts.Policy.DisplayName(vt.User))
		v.ApproverIDs = append(v.ApproverIDs, vt.User)
	}
	return v
}

func (e *Engine) requestApproval(ctx context.Context, req Request, p Provider, inv *command.Invocation, line string, risk sdk.Risk, plan *sdk.Plan, dec authz.Decision) Reply {
	fail := func(err error) Reply { return e.failure(req.ID, line, p.Name(), inv.Target, err) }
	if e.opts.Approvals == nil {
		return fail(apperr.New(apperr.Unavailable, "%s needs approval, and approvals are not set up on this bot", line))
	}
	var sensitive []string
	for _, prm := range inv.Command.Params {
		if prm.Sensitive {
			sensitive = append(sensitive, prm.Name)
		}
	}
	r := dec.Requirement
	a, err := e.opts.Approvals.Create(ctx, approval.Request{
		RequestID: req.ID, Requester: req.User, Channel: req.Channel, Provider: p.Name(), Command: inv.Command.Name,
		Target: inv.Target, Args: inv.Args, Sensitive: sensitive, CommandLine: line, Risk: risk, Plan: plan, PlanDigest: digestOf(plan),
		Approvers: r.Approvers, Roles: r.ApproverRoles, Confirm: r.ConfirmTarget, ConfirmValue: confirmValue(inv, plan), TTL: r.TTL, Rule: r.Rule, Meta: req.Meta,
		Ticket: inv.Ticket,
	})
	if err != nil {
		e.log.Error("cannot record approval request", "request_id", req.ID, "error", err)
		return fail(apperr.Wrap(err, apperr.Unavailable, "could not record the approval request; nothing was done"))
	}
	v := e.view(a)
	e.record(ctx, audit.Entry{RequestID: req.ID, Actor: req.User, Action: audit.ActionApproval, Provider: p.Name(), Command: inv.Command.Name,
		Target: inv.Target, Channel: req.Channel, Outcome: "requested", ApprovalID: a.ID, Ticket: inv.Ticket,
		Detail: fmt.Sprintf("needs %d approver(s) by %s; expires %s", a.Required, r.Rule, a.ExpiresAt.Format(time.RFC3339))})
	e.opts.Notifier.ApprovalChanged(ctx, v)
	return Reply{RequestID: req.ID, Status: StatusPending, Title: "Approval needed", Command: line, Provider: p.Name(), Target: inv.Target, Plan: plan, Approval: &v, Ticket: inv.Ticket, TicketURL: v.TicketURL}
}

func (e *Engine) actionOf(a *store.Approval, args sdk.Args) authz.Action {
	return authz.Action{Provider: a.Provider, Command: a.Command, Target: a.Target, Channel: a.Channel, Risk: sdk.Risk(a.Risk), Args: args}
}

// publicArgs returns the stored arguments without secrets, for policy
// checks at click time (conditions do not see secrets).
func (e *Engine) publicArgs(a *store.Approval) sdk.Args {
	return e.opts.Approvals.PublicArgs(a)
}

// confirmValue is what approvers of a request type to confirm it: the
// value of the parameter naming the resource the command acts on (the
// account, the record, the machine), or the target's name if it names
// none.
func confirmValue(inv *command.Invocation, plan *sdk.Plan) string {
	if plan != nil && plan.Resource != "" {
		return plan.Resource
	}
	if name := inv.Command.ResourceParam(); name != "" {
		if v, ok := inv.Args[name]; ok {
			if s := sdk.FormatValue(v); s != "" {
				return s
			}
		}
	}
	return inv.Target
}

// digestOf is a plan's fingerprint: the provider's digest (which covers
// the facts it planned from), or, for a provider that computes none, one
// made from what the plan shows.
func digestOf(p *sdk.Plan) string {
	if p == nil {
		return ""
	}
	if p.Digest != "" {
		return p.Digest
	}
	return sdk.PlanDigest(p.Risk, p.Steps, p.Facts)
}

// tampered reports a stored request whose integrity code does not verify:
// it is never run, and the audit log and the operators' log say so.
func (e *Engine) tampered(ctx context.Context, actor, channel string, a *store.Approval, err error) {
	e.opts.Observer.Error("tampered")
	e.log.Error("a stored approval request does not match its integrity code; it will not run", "approval", a.ID, "request_id", a.RequestID, "error", err)
	e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: actor, Action: audit.ActionApproval, Provider: a.Provider, Command: a.Command,
		Target: a.Target, Channel: channel, Outcome: "tampered", ApprovalID: a.ID,
		Detail: "the stored request does not match its integrity code; refused"})
}

// Approve records user's approval of request id; when it completes the
// quorum the command runs now, in this call, and the requester is told.
// confirm is the resource's name, for requests that need it typed.
func (e *Engine) Approve(ctx context.Context, req Request, id, confirm string, progress func(sdk.Progress)) Reply {
	if e.opts.Approvals == nil {
		return e.failure(req.ID, "", "", "", apperr.New(apperr.Unavailable, "approvals are not set up on this bot"))
	}
	a, err := e.opts.Approvals.Get(ctx, id)
	if err != nil {
		return e.failure(req.ID, "", "", "", err)
	}
	refuse := func(code apperr.Code, outcome, msg string) Reply {
		e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: req.User, Action: audit.ActionApproval, Provider: a.Provider, Command: a.Command,
			Target: a.Target, Channel: req.Channel, Outcome: outcome, Detail: msg, ApprovalID: a.ID})
		v := e.view(a)
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: code, Command: a.CommandLine, Provider: a.Provider, Target: a.Target, Approval: &v, Error: msg}
	}
	if err := e.opts.Approvals.Verify(a); err != nil {
		e.tampered(ctx, req.User, req.Channel, a, err)
		v := e.view(a)
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: apperr.Conflict, Command: a.CommandLine, Provider: a.Provider, Target: a.Target, Approval: &v, Error: apperr.Message(err)}
	}
	if e.opts.Approvals.Expired(a) {
		// Expire it now (and whatever else is due), leaving lapsed
		// executions to the sweeper: a click never runs someone else's
		// request.
		if st, err := e.opts.Approvals.Sweep(ctx, e.opts.Now()); err == nil {
			e.expired(ctx, st.Expired)
		}
		a, _ = e.opts.Approvals.Get(ctx, id)
		e.opts.Notifier.ApprovalChanged(ctx, e.view(a))
		return refuse(apperr.Conflict, "refused", fmt.Sprintf("approval %s has expired; ask %s to make the request again", a.ID, e.opts.Policy.DisplayName(a.Requester)))
	}
	if a.State != store.StatePending {
		return refuse(apperr.Conflict, "refused", fmt.Sprintf("approval %s is %s", a.ID, e.view(a).StateText()))
	}
	if req.User == a.Requester {
		return refuse(apperr.Denied, "refused", "you cannot approve your own request; another approver must")
	}
	action := e.actionOf(a, e.publicArgs(a))
	d := e.opts.Policy.CanApprove(e.subject(ctx, req.User), action, authz.Requirement{Approvers: a.Required, ApproverRoles: a.ApproverRoles})
	if d.Effect != authz.Allow {
		return refuse(apperr.Denied, "refused", "You may not approve this request: "+d.Reason)
	}
	if a.ConfirmTarget {
		want := e.view(a).ConfirmWord()
		if typed := strings.TrimSpace(confirm); typed != want {
			msg := fmt.Sprintf("this request is critical: confirm by typing the name of what it acts on, %q (on %s), exactly: /ops approve %s confirm=%s",
				want, a.Target, a.ID, command.QuoteWord(want))
			if typed != "" {
				msg = fmt.Sprintf("you typed %q, which is not %q: ", typed, want) + msg
			}
			r := refuse(apperr.Invalid, "refused", msg)
			r.Status = StatusInvalid
			return r
		}
	}
	a, err = e.opts.Approvals.Vote(ctx, a.ID, req.User)
	if err != nil {
		if a != nil {
			return refuse(apperr.CodeOf(err), "refused", apperr.Message(err))
		}
		return e.failure(req.ID, "", "", "", err)
	}
	e.opts.Step("voted", a.ID)
	e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: req.User, Action: audit.ActionApproval, Provider: a.Provider, Command: a.Command,
		Target: a.Target, Channel: req.Channel, Outcome: "approved", ApprovalID: a.ID,
		Detail: fmt.Sprintf("approval %d of %d (%s)", len(a.Votes), a.Required, d.Rule)})
	v := e.view(a)
	e.opts.Notifier.ApprovalChanged(ctx, v)
	e.opts.Step("told", a.ID)
	if !e.opts.Approvals.Claimed(a) {
		return Reply{RequestID: req.ID, Status: StatusPending, Title: "Approval recorded", Command: a.CommandLine, Provider: a.Provider, Target: a.Target, Approval: &v}
	}
	return e.runClaimed(ctx, req, a, progress)
}

// runClaimed executes a request this process holds the claim on, renewing
// the claim while it runs, and records and announces the outcome.
func (e *Engine) runClaimed(ctx context.Context, req Request, a *store.Approval, progress func(sdk.Progress)) Reply {
	keep, stop := context.WithCancel(context.WithoutCancel(ctx))
	go e.opts.Approvals.KeepAlive(keep, a.ID)
	reply, dispatched := e.executeApproved(ctx, a, progress)
	stop()
	if reply.lostClaim && !dispatched {
		// Another replica took the claim over; it reports the outcome.
		return reply
	}
	ok := reply.Status == StatusOK
	outcome := "succeeded"
	if !ok {
		outcome = "failed: " + reply.Error
	}
	e.opts.Step("recorded", a.ID)
	var err error
	if reply.planChanged {
		err = e.opts.Approvals.NotRun(context.WithoutCancel(ctx), a.ID, "its plan changed after the approval:\n"+reply.diff)
	} else {
		err = e.opts.Approvals.Finish(context.WithoutCancel(ctx), a.ID, ok, outcome)
	}
	if err != nil {
		e.log.Error("cannot record the outcome of an approved request", "approval", a.ID, "error", err)
	}
	e.opts.Step("finished", a.ID)
	if fresh, err := e.opts.Approvals.Get(context.WithoutCancel(ctx), a.ID); err == nil {
		a = fresh
	}
	v := e.view(a)
	reply.Approval = &v
	e.opts.Notifier.ApprovalChanged(ctx, v)
	if req.User != a.Requester {
		e.opts.Notifier.Notify(ctx, a.Requester, reply)
	}
	if reply.planChanged {
		// Everyone who approved the old plan hears that it did not run.
		for _, vt := range a.Votes {
			if vt.User != req.User && vt.User != a.Requester {
				e.opts.Notifier.Notify(ctx, vt.User, reply)
			}
		}
	}
	return reply
}

// executeApproved runs an approved request if, and only if, it is still
// what was approved: the stored request verifies, the requester may still
// run it, and planning it again gives the approved plan's digest. It
// reports whether the command was handed to the provider.
func (e *Engine) executeApproved(ctx context.Context, a *store.Approval, progress func(sdk.Progress)) (Reply, bool) {
	fail := func(err error) (Reply, bool) { return e.notRunApproved(ctx, a, err), false }
	err := e.opts.Approvals.VerifyQuorum(a)
	if err == nil {
		var args sdk.Args
		args, err = e.opts.Approvals.Args(ctx, a)
		if err == nil {
			return e.runVerified(ctx, a, args, progress)
		}
	}
	if errors.Is(err, approval.ErrTampered) {
		e.tampered(ctx, a.Requester, a.Channel, a, err)
		return e.failure(a.RequestID, a.CommandLine, a.Provider, a.Target, err), false
	}
	return fail(err)
}

// runVerified is executeApproved once the request and its votes verify.
func (e *Engine) runVerified(ctx context.Context, a *store.Approval, args sdk.Args, progress func(sdk.Progress)) (Reply, bool) {
	fail := func(err error) (Reply, bool) { return e.notRunApproved(ctx, a, err), false }
	p, ok := e.opts.Plugins.Provider(a.Provider)
	if !ok {
		return fail(apperr.New(apperr.Unavailable, "plugin %s is no longer configured", a.Provider))
	}
	if err := unavailable(p); err != nil {
		return fail(err)
	}
	var spec *sdk.CommandSpec
	for _, c := range p.Catalog() {
		if c.Name == a.Command {
			c := c
			spec = &c
		}
	}
	if spec == nil {
		return fail(apperr.New(apperr.Unavailable, "plugin %s no longer has the command %q", a.Provider, a.Command))
	}
	// The requester's rights are checked again: the policy may have
	// changed since the request.
	if d := e.opts.Policy.Authorize(e.subject(ctx, a.Requester), e.actionOf(a, args)); d.Effect == authz.Deny {
		return fail(apperr.New(apperr.Denied, "%s may no longer run this: %s", e.opts.Policy.DisplayName(a.Requester), d.Reason))
	}
	inv := &command.Invocation{Provider: a.Provider, Command: spec, Args: args, Target: a.Target}
	if a.PlanDigest != "" {
		// Plan again: what would run now must be exactly what was approved.
		sreq := &sdk.PlanRequest{Request: sdk.Request{ID: a.RequestID, Invoker: a.Requester, Channel: a.Channel, Target: a.Target, Command: a.Command, Args: args, ApprovalID: a.ID}}
		pctx, cancel := context.WithTimeout(ctx, e.opts.PlanTimeout)
		began := e.opts.Now()
		pr, err := p.Plan(pctx, sreq)
		e.opts.Observer.PluginCall(p.Name(), "plan", e.opts.Now().Sub(began), err)
		cancel()
		if err != nil {
			return fail(apperr.Wrap(err, apperr.CodeOf(err), "could not check the plan again before running it (%s); nothing was run", apperr.Message(err)))
		}
		var now *sdk.Plan
		if !pr.Diagnostics.HasError() {
			now = e.scrubPlan(pr.Plan, inv)
		}
		if now == nil || digestOf(now) != a.PlanDigest {
			return e.planChanged(ctx, a, now, pr.Diagnostics.Scrub(e.requestRedactor(inv))), false
		}
	}
	dispatched := false
	inv.Ticket = a.Ticket
	x := execution{requestID: a.RequestID, user: a.Requester, channel: a.Channel, plugin: p, inv: inv, line: a.CommandLine, approvalID: a.ID,
		planDigest: a.PlanDigest, dispatch: func() error {
			if e.ranBefore(ctx, a) {
				// The audit log, which a database edit cannot rewrite
				// unnoticed, says it was run already: a finished request
				// was moved back by hand.
				err := apperr.Wrap(approval.ErrTampered, apperr.Conflict, "approval %s has already run once (the audit log says so); its stored state was altered, and it will not run again", a.ID)
				e.tampered(ctx, a.Requester, a.Channel, a, err)
				return err
			}
			ok, err := e.opts.Approvals.Dispatch(context.WithoutCancel(ctx), a.ID)
			if err != nil {
				return apperr.Wrap(err, apperr.Unavailable, "could not record the start of the execution; nothing was run")
			}
			if !ok {
				return errLostClaim
			}
			dispatched = true
			e.opts.Step("dispatched", a.ID)
			return nil
		}}
	reply := e.execute(ctx, x, progress)
	if !dispatched && reply.Error == apperr.Message(errLostClaim) {
		reply.lostClaim = true
	}
	if reply.planChanged {
		return e.planChanged(ctx, a, nil, reply.Diagnostics), dispatched
	}
	return reply, dispatched
}

// ranBefore reports whether the audit log records an execution of a.
func (e *Engine) ranBefore(ctx context.Context, a *store.Approval) bool {
	return len(e.entriesOf(ctx, a, audit.ActionExecute)) > 0
}

// notRunApproved records and reports an approved request that failed
// before anything was sent.
func (e *Engine) notRunApproved(ctx context.Context, a *store.Approval, err error) Reply {
	e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: a.Requester, Action: audit.ActionResult, Provider: a.Provider, Command: a.Command,
		Target: a.Target, Channel: a.Channel, Outcome: "failed", Detail: apperr.Message(err), ApprovalID: a.ID})
	return e.failure(a.RequestID, a.CommandLine, a.Provider, a.Target, err)
}

// entriesOf returns what the audit log holds of one action on approved
// request a (none if the log cannot be searched).
func (e *Engine) entriesOf(ctx context.Context, a *store.Approval, action audit.Action) []audit.Entry {
	s, ok := e.opts.Audit.(auditSearcher)
	if !ok {
		return nil
	}
	found, err := s.Search(ctx, audit.Filter{RequestID: a.RequestID, Action: string(action)})
	if err != nil {
		e.log.Warn("could not search the audit log", "approval", a.ID, "error", err)
		return nil
	}
	var out []audit.Entry
	for _, en := range found {
		if en.ApprovalID == a.ID {
			out = append(out, en)
		}
	}
	return out
}

var errLostClaim = apperr.New(apperr.Conflict, "this request is being run by another replica (this one stalled past its lease); nothing was run here")

// planChanged refuses an approved request whose work changed since it was
// approved: nothing was sent. The reply says what changed; the requester
// and the approvers are told, and the requester can ask again.
func (e *Engine) planChanged(ctx context.Context, a *store.Approval, now *sdk.Plan, diags sdk.Diagnostics) Reply {
	diff := planDiff(approval.Plan(a), now, diags)
	msg := fmt.Sprintf("%s was not run: what it would do now differs from the plan that was approved.\n%s\nTo go ahead, look at the current state and make a new request: its plan will be shown for approval.",
		a.CommandLine, diff)
	e.opts.Observer.Error("plan_changed")
	e.log.Warn("an approved request's plan changed before it ran; nothing was run", "approval", a.ID, "request_id", a.RequestID)
	e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: a.Requester, Action: audit.ActionResult, Provider: a.Provider, Command: a.Command,
		Target: a.Target, Channel: a.Channel, Outcome: "plan changed", Detail: diff, ApprovalID: a.ID})
	return Reply{RequestID: a.RequestID, Status: StatusFailed, Code: apperr.Conflict, Title: "Plan changed: nothing was run", Command: a.CommandLine,
		Provider: a.Provider, Target: a.Target, Plan: now, Error: msg, planChanged: true, diff: diff}
}

// Deny refuses a pending request; reason is required.
func (e *Engine) Deny(ctx context.Context, req Request, id, reason string) Reply {
	return e.endApproval(ctx, req, id, reason, true)
}

// Cancel withdraws the caller's own pending request.
func (e *Engine) Cancel(ctx context.Context, req Request, id string) Reply {
	return e.endApproval(ctx, req, id, "cancelled by the requester", false)
}

func (e *Engine) endApproval(ctx context.Context, req Request, id, reason string, deny bool) Reply {
	if e.opts.Approvals == nil {
		return e.failure(req.ID, "", "", "", apperr.New(apperr.Unavailable, "approvals are not set up on this bot"))
	}
	a, err := e.opts.Approvals.Get(ctx, id)
	if err != nil {
		return e.failure(req.ID, "", "", "", err)
	}
	refuse := func(code apperr.Code, msg string) Reply {
		v := e.view(a)
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: code, Command: a.CommandLine, Approval: &v, Error: msg}
	}
	var outcome string
	if deny {
		if strings.TrimSpace(reason) == "" {
			return refuse(apperr.Invalid, fmt.Sprintf("say why: /ops deny %s reason=...", a.ID))
		}
		if req.User == a.Requester {
			return refuse(apperr.Invalid, fmt.Sprintf("to withdraw your own request, use /ops cancel %s", a.ID))
		}
		d := e.opts.Policy.CanApprove(e.subject(ctx, req.User), e.actionOf(a, e.publicArgs(a)), authz.Requirement{Approvers: a.Required, ApproverRoles: a.ApproverRoles})
		if d.Effect != authz.Allow {
			return refuse(apperr.Denied, "You may not deny this request: "+d.Reason)
		}
		a, err = e.opts.Approvals.Deny(ctx, a.ID, req.User, reason)
		outcome = "denied"
	} else {
		if req.User != a.Requester {
			return refuse(apperr.Denied, "only the requester can cancel a request; approvers deny it instead")
		}
		a, err = e.opts.Approvals.Cancel(ctx, a.ID, req.User, reason)
		outcome = "cancelled"
	}
	if err != nil {
		if a != nil {
			return refuse(apperr.CodeOf(err), apperr.Message(err))
		}
		return e.failure(req.ID, "", "", "", err)
	}
	e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: req.User, Action: audit.ActionApproval, Provider: a.Provider, Command: a.Command,
		Target: a.Target, Channel: req.Channel, Outcome: outcome, Detail: reason, ApprovalID: a.ID})
	v := e.view(a)
	e.opts.Notifier.ApprovalChanged(ctx, v)
	reply := Reply{RequestID: req.ID, Status: StatusOK, Title: "Approval " + outcome, Command: a.CommandLine, Approval: &v}
	if deny {
		e.opts.Notifier.Notify(ctx, a.Requester, Reply{RequestID: a.RequestID, Status: StatusDenied, Code: apperr.Denied, Command: a.CommandLine, Approval: &v,
			Error: fmt.Sprintf("%s denied your request %s: %s", v.DecidedBy, a.CommandLine, reason)})
	}
	return reply
}

// Sweep expires overdue requests and resolves what a dead replica left
// behind; call it at start-up and periodically. An execution whose lease
// lapsed before it was handed to the provider runs here (it never ran); one
// handed over is settled from the audit log's result, or marked unknown
// (never re-run automatically).
func (e *Engine) Sweep(ctx context.Context) {
	if e.opts.Approvals == nil {
		return
	}
	st, err := e.opts.Approvals.Sweep(ctx, e.opts.Now())
	if err != nil {
		e.log.Error("approval sweep failed", "error", err)
		return
	}
	e.expired(ctx, st.Expired)
	for _, a := range st.Lapsed {
		if a.DispatchedAt.IsZero() && e.opts.Approvals.Runnable(a) {
			ok, err := e.opts.Approvals.TakeOver(ctx, a)
			if err != nil || !ok {
				continue
			}
			e.log.Warn("an approved request's process stopped before running it; running it here", "approval", a.ID, "command", a.CommandLine)
			e.resume(ctx, a)
			continue
		}
		to, result := e.outcomeOf(ctx, a)
		if a.DispatchedAt.IsZero() {
			to, result = store.StateExpired, "approved, but its process stopped before running it, and it expired before another could; make the request again"
		}
		ok, err := e.opts.Approvals.Abandon(ctx, a, to, result)
		if err != nil || !ok {
			continue
		}
		if to == store.StateUnknown {
			e.log.Warn("an approved request was running when its process stopped; its outcome is unknown", "approval", a.ID, "command", a.CommandLine)
		}
		e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: a.Requester, Action: audit.ActionApproval, Provider: a.Provider, Command: a.Command,
			Target: a.Target, Channel: a.Channel, Outcome: string(to), Detail: result, ApprovalID: a.ID})
		if fresh, err := e.opts.Approvals.Get(ctx, a.ID); err == nil {
			e.opts.Notifier.ApprovalChanged(ctx, e.view(fresh))
		}
	}
	for _, a := range st.Approved {
		if !e.opts.Approvals.Runnable(a) {
			continue
		}
		if ok, err := e.opts.Approvals.Claim(ctx, a.ID); err == nil && ok {
			e.log.Warn("an approved request was never run; running it here", "approval", a.ID, "command", a.CommandLine)
			if fresh, err := e.opts.Approvals.Get(ctx, a.ID); err == nil {
				e.resume(ctx, fresh)
			}
		}
	}
}

// Interrupted records in the audit log a command a chat adapter accepted
// and whose process stopped before answering it: outcome is "unknown" (it
// had begun, so it may have run) or "not run". It returns the command
// line to show its user, sensitive values masked ("/whm …" when the
// command no longer parses).
func (e *Engine) Interrupted(ctx context.Context, req Request, outcome, detail string) string {
	en := audit.Entry{RequestID: req.ID, Actor: req.User, Action: audit.ActionResult, Channel: req.Channel, Outcome: outcome, Detail: detail}
	line := "/…"
	if name, rest, err := command.SplitProvider(req.Text); err == nil {
		en.Provider, line = name, "/"+name+" …"
		if p, ok := e.opts.Plugins.Provider(name); ok {
			if parsed, err := command.Parse(p, rest); err == nil && parsed.Invocation != nil {
				inv := parsed.Invocation
				en.Command, en.Target = inv.Command.Name, inv.Target
				en.Args = e.ArgString(inv)
				line = e.CommandLine(inv, p.DefaultTarget())
			}
		}
	}
	e.record(ctx, en)
	return e.redactor.String(line)
}

// expired records and announces requests a sweep expired.
func (e *Engine) expired(ctx context.Context, ids []string) {
	for _, id := range ids {
		if a, err := e.opts.Approvals.Get(ctx, id); err == nil {
			e.record(ctx, audit.Entry{RequestID: a.RequestID, Ticket: a.Ticket, Actor: a.Requester, Action: audit.ActionApproval, Provider: a.Provider, Command: a.Command,
				Target: a.Target, Channel: a.Channel, Outcome: "expired", ApprovalID: a.ID})
			e.opts.Notifier.ApprovalChanged(ctx, e.view(a))
		}
	}
}

// resume runs a request this process took over, on behalf of its
// requester, who is told the outcome.
func (e *Engine) resume(ctx context.Context, a *store.Approval) {
	fresh, err := e.opts.Approvals.Get(ctx, a.ID)
	if err != nil {
		return
	}
	e.recordVotes(ctx, fresh)
	e.runClaimed(ctx, Request{ID: a.RequestID, User: "", Channel: a.Channel}, fresh, nil)
}

// recordVotes writes the approvals of a request the audit log lacks: a
// process killed right after the last vote committed never recorded it.
func (e *Engine) recordVotes(ctx context.Context, a *store.Approval) {
	recorded := map[string]bool{}
	for _, en := range e.entriesOf(ctx, a, audit.ActionApproval) {
		if en.Outcome == "approved" {
			recorded[en.Actor] = true
		}
	}
	for i, v := range a.Votes {
		if recorded[v.User] {
			continue
		}
		e.record(ctx, audit.Entry{Time: v.At, RequestID: a.RequestID, Ticket: a.Ticket, Actor: v.User, Action: audit.ActionApproval, Provider: a.Provider, Command: a.Command,
			Target: a.Target, Channel: a.Channel, Outcome: "approved", ApprovalID: a.ID,
			Detail: fmt.Sprintf("approval %d of %d (recorded by the replica that took the request over)", i+1, a.Required)})
	}
}

// outcomeOf settles a dispatched execution whose process died: by the
// result the audit log recorded for it, if any.
func (e *Engine) outcomeOf(ctx context.Context, a *store.Approval) (store.State, string) {
	unknown := "outcome unknown: it was running when its process stopped; check before trying again"
	for _, en := range e.entriesOf(ctx, a, audit.ActionResult) {
		switch en.Outcome {
		case "succeeded":
			return store.StateSucceeded, "succeeded (recorded before its process stopped)"
		case "failed":
			return store.StateFailed, "failed (recorded before its process stopped): " + en.Detail
		}
	}
	return store.StateUnknown, unknown
}

// RunSweeper sweeps every interval until ctx ends.
func (e *Engine) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.Sweep(ctx)
		}
	}
}

// SetApprovalMeta records where an adapter showed a request (a Slack
// channel and message), so any replica can update it later.
func (e *Engine) SetApprovalMeta(ctx context.Context, id string, meta map[string]string) error {
	if e.opts.Approvals == nil {
		return errors.New("approvals are not set up")
	}
	return e.opts.Approvals.SetMeta(ctx, id, meta)
}

// Approval returns the view of one request, for adapters.
func (e *Engine) Approval(ctx context.Context, id string) (ApprovalView, error) {
	if e.opts.Approvals == nil {
		return ApprovalView{}, errors.New("approvals are not set up")
	}
	a, err := e.opts.Approvals.Get(ctx, id)
	if err != nil {
		return ApprovalView{}, err
	}
	return e.view(a), nil
}

// MayApprove lists, in the order given, those of users who may approve
// request id now: not its requester, not one who has approved it
// already, and allowed by the policy as it stands. Adapters use it to
// find whom to ask; the click is checked again when it comes.
func (e *Engine) MayApprove(ctx context.Context, id string, users []string) ([]string, error) {
	if e.opts.Approvals == nil {
		return nil, errors.New("approvals are not set up")
	}
	a, err := e.opts.Approvals.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	voted := map[string]bool{a.Requester: true}
	for _, vt := range a.Votes {
		voted[vt.User] = true
	}
	action := e.actionOf(a, e.publicArgs(a))
	req := authz.Requirement{Approvers: a.Required, ApproverRoles: a.ApproverRoles}
	var out []string
	for _, u := range users {
		if voted[u] {
			continue
		}
		voted[u] = true // each once
		if e.opts.Policy.CanApprove(e.subject(ctx, u), action, req).Effect == authz.Allow {
			out = append(out, u)
		}
	}
	return out, nil
}

// ApprovalsFor lists what user may act on: pending requests they may
// approve (and have not), their own pending requests, and requests whose
// outcome is unknown.
func (e *Engine) ApprovalsFor(ctx context.Context, user string) (toApprove, mine, unknown []ApprovalView, err error) {
	if e.opts.Approvals == nil {
		return nil, nil, nil, nil
	}
	list, err := e.opts.Approvals.List(ctx, store.ApprovalFilter{States: []store.State{store.StatePending, store.StateUnknown}, Limit: 200})
	if err != nil {
		return nil, nil, nil, err
	}
	s := e.subject(ctx, user)
	for _, a := range list {
		v := e.view(a)
		switch {
		case a.State == store.StateUnknown:
			unknown = append(unknown, v)
		case e.opts.Approvals.Expired(a):
			continue
		case a.Requester == user:
			mine = append(mine, v)
		case !slices.Contains(v.ApproverIDs, user) && e.opts.Policy.CanApprove(s, e.actionOf(a, e.publicArgs(a)), authz.Requirement{ApproverRoles: a.ApproverRoles}).Effect == authz.Allow:
			toApprove = append(toApprove, v)
		}
	}
	return toApprove, mine, unknown, nil
}
