package engine

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/sdk"
)

// ticketPolicy is a policy that may ask for ticket references
// (*authz.Holder, *authz.Policy).
type ticketPolicy interface {
	Ticket(a authz.Action) authz.TicketRule
}

// checkTicket returns why the policy refuses inv's ticket reference (or
// its absence), or "".
func (e *Engine) checkTicket(a authz.Action, inv *command.Invocation) string {
	tp, ok := e.opts.Policy.(ticketPolicy)
	if !ok {
		return ""
	}
	r := tp.Ticket(a)
	if inv.Ticket == "" {
		if r.Required && !inv.Plan {
			return fmt.Sprintf("/%s %s needs a ticket reference: %s. Add ticket=REF to the command (like ticket=ABC-123); nothing was done", a.Provider, a.Command, r.Rule)
		}
		return ""
	}
	if r.Pattern != nil && !r.Pattern.MatchString(inv.Ticket) {
		return fmt.Sprintf("ticket %s is not a ticket reference this desk uses (the policy wants one matching %s); nothing was done", inv.Ticket, r.Pattern)
	}
	return ""
}

// ticketRequired reports whether the policy asks for a ticket reference
// on a.
func (e *Engine) ticketRequired(a authz.Action) bool {
	r, ok := e.ticketRule(a)
	return ok && r.Required
}

// ticketRule is what the policy asks of a's ticket reference; ok false
// when the policy has no ticket rules at all.
func (e *Engine) ticketRule(a authz.Action) (authz.TicketRule, bool) {
	tp, ok := e.opts.Policy.(ticketPolicy)
	if !ok {
		return authz.TicketRule{}, false
	}
	return tp.Ticket(a), true
}

// TicketRequired reports whether the policy asks for a ticket reference
// on the command provider/name run from channel, before its arguments
// are known (by its catalog risk): for a form to mark its ticket field
// required. Running it checks again with the arguments given.
func (e *Engine) TicketRequired(ctx context.Context, user, channel, provider, name string) bool {
	p, spec, err := e.offered(ctx, user, channel, provider, name)
	if err != nil {
		return false
	}
	return e.ticketRequired(authz.Action{Provider: p.Name(), Command: spec.Name, Target: p.DefaultTarget(), Channel: channel, Risk: spec.Risk})
}

// dryRun answers a command given with --plan: the plan the provider
// would follow, redacted, for anyone the policy lets run (or ask to
// run) the command. Nothing is approved and nothing reaches the
// provider's write path: only Plan is called, which has no side effect.
// A read-only command has no plan to show; it is described instead.
func (e *Engine) dryRun(ctx context.Context, req Request, p Provider, inv *command.Invocation, line string, base audit.Entry, dec authz.Decision, log *slog.Logger) Reply {
	reply := Reply{RequestID: req.ID, Status: StatusOK, Title: "Plan of " + line, Command: line, Provider: p.Name(), Target: inv.Target, Ticket: inv.Ticket, TicketURL: e.TicketURL(inv.Ticket), DryRun: true}
	if inv.Command.Risk == sdk.RiskReadOnly || !inv.Command.SupportsPlan {
		what := "it only reads, and changes nothing"
		if inv.Command.Risk != sdk.RiskReadOnly {
			what = "its plugin gives no plan for it"
		}
		e.record(ctx, auditEntry(base, audit.ActionDryRun, "no plan", what))
		reply.Result = sdk.NewResult().AddText("%s has no plan to show: %s. Nothing was run.", line, what)
		return reply
	}
	sreq := &sdk.PlanRequest{Request: sdk.Request{ID: req.ID, Invoker: req.User, Channel: req.Channel, Target: inv.Target, Command: inv.Command.Name, Args: inv.Args}}
	pctx, cancel := context.WithTimeout(ctx, e.opts.PlanTimeout)
	began := e.opts.Now()
	pr, err := p.Plan(pctx, sreq)
	e.opts.Observer.PluginCall(p.Name(), "plan", e.opts.Now().Sub(began), err)
	cancel()
	red := e.requestRedactor(inv)
	if err != nil {
		log.Warn("plan failed", "error", red.String(err.Error()))
		return e.failureWith(red, req.ID, line, p.Name(), inv.Target, err)
	}
	if pr.Diagnostics.HasError() {
		diags := pr.Diagnostics.Scrub(red)
		msg := diags.Err().Error()
		e.record(ctx, auditEntry(base, audit.ActionDryRun, "invalid", msg))
		return Reply{RequestID: req.ID, Status: StatusInvalid, Code: apperr.Invalid, Command: line, Provider: p.Name(), Target: inv.Target, Error: msg, Diagnostics: diags, Ticket: inv.Ticket}
	}
	plan := e.scrubPlan(pr.Plan, inv)
	reply.Plan = plan
	next := "running it would need approval"
	switch dec.Effect {
	case authz.Allow:
		next = "you may run it without approval"
	case authz.NeedsApproval:
		next = fmt.Sprintf("running it needs %d approval(s) (%s)", dec.Requirement.Approvers, dec.Requirement.Rule)
	}
	risk := inv.Command.Risk
	if plan != nil && plan.Risk > risk {
		risk = plan.Risk
	}
	ahead := "Run it without --plan to go ahead."
	if inv.Ticket == "" && e.ticketRequired(authz.Action{Provider: p.Name(), Command: inv.Command.Name, Args: inv.Args, Target: inv.Target, Channel: req.Channel, Risk: risk}) {
		// A plan needs no ticket, but running it does: saying "go
		// ahead" would only lead to a refusal.
		switch dec.Effect {
		case authz.Allow:
			next = "running it needs a ticket (ticket=ABC-123)"
		case authz.NeedsApproval:
			next = fmt.Sprintf("running it needs a ticket (ticket=ABC-123) and %d approval(s) (%s)", dec.Requirement.Approvers, dec.Requirement.Rule)
		default:
			next = "running it needs a ticket (ticket=ABC-123) and approval"
		}
		ahead = "Run it without --plan, with its ticket, to go ahead."
	}
	if plan != nil && plan.Risk > inv.Command.Risk {
		next += fmt.Sprintf("; the plan found these arguments %s risk, which the policy checks again when it runs", plan.Risk)
	}
	steps := 0
	if plan != nil {
		steps = len(plan.Steps)
	}
	e.record(ctx, auditEntry(base, audit.ActionDryRun, "shown", fmt.Sprintf("%d step(s); %s", steps, next)))
	reply.Result = sdk.NewResult().AddText("Plan only: nothing was approved or run; %s. %s", next, ahead)
	return reply
}
