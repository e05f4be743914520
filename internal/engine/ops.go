package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk"
)

// opsProvider is the catalog of the bot's own /ops commands, so they
// parse, validate and explain themselves like any plugin's.
type opsProvider struct{ catalog []sdk.CommandSpec }

// OpsName is the bot's own slash command (/ops): it is answered before
// any plugin, so no plugin can take the name.
const OpsName = "ops"

// BuiltinNames are the provider names the bot answers itself.
func BuiltinNames() []string { return []string{OpsName} }

func (o *opsProvider) Name() string               { return OpsName }
func (o *opsProvider) Catalog() []sdk.CommandSpec { return o.catalog }
func (o *opsProvider) Targets() []string          { return nil }
func (o *opsProvider) DefaultTarget() string      { return "" }

// Commands under policy grants (ops:NAME); the others police themselves.
var opsGated = map[string]bool{"audit": true, "policy status": true, "plugins": true}

func newOpsProvider() *opsProvider {
	id := sdk.String("id", "The approval request's id (A…)").AsRequired().AsPositional()
	return &opsProvider{catalog: []sdk.CommandSpec{
		{Name: "whoami", Summary: "Who the bot thinks you are: your id, roles and groups", Risk: sdk.RiskReadOnly},
		{Name: "can-i", Summary: "Whether you may run a command, and the rule that decides", Risk: sdk.RiskReadOnly,
			Params:   []sdk.Param{sdk.String("command", "The command, quoted").AsRequired().AsPositional()},
			Examples: []string{`/ops can-i "/whm account suspend bob reason=abuse"`}},
		{Name: "approvals", Summary: "Requests waiting for your approval, and your own waiting requests", Risk: sdk.RiskReadOnly},
		{Name: "approval", Summary: "One approval request in full", Risk: sdk.RiskReadOnly, Params: []sdk.Param{id}},
		{Name: "approve", Summary: "Approve a request; the last needed approval runs it", Risk: sdk.RiskLow,
			Params: []sdk.Param{id, sdk.String("confirm", "The name of what a critical request acts on, as its card shows")}},
		{Name: "deny", Summary: "Deny a request, saying why", Risk: sdk.RiskLow,
			// The reason is the rest of the line, quotes and all:
			// reason=wrong server, it's db01 needs none.
			Params: []sdk.Param{id, sdk.FreeText("reason", "Why").AsRequired()}},
		{Name: "cancel", Summary: "Withdraw your own pending request", Risk: sdk.RiskLow, Params: []sdk.Param{id}},
		{Name: "audit", Summary: "Search the audit log", Risk: sdk.RiskReadOnly,
			Params: []sdk.Param{
				sdk.String("user", "A user's name or id"),
				sdk.String("command", "provider or provider:command prefix (whm:account)"),
				sdk.String("since", "How far back (24h, 7d) or a date (2026-11-01)").WithDefault("24h"),
				sdk.String("request", "A request id"),
				sdk.String("target", "A target (server, account) by its exact name"),
				sdk.String("text", "Text in the entry's detail, arguments, target or command, in any case"),
				// Read as the reserved ticket= every command takes (it
				// never binds here); declared so usage and help list it.
				sdk.String("ticket", "The entries of the requests made for this ticket reference, in any case (ABC-123)"),
				sdk.Int("limit", "At most this many entries").WithDefault("20").Between(1, 500),
			},
			Examples: []string{"/ops audit user=alice since=7d", "/ops audit command=whm:account", "/ops audit ticket=ABC-123", "/ops audit target=web01 text=shop42 since=30d"}},
		{Name: "plan", Summary: "Show what a command would do, without approval and without running it (the same as adding --plan)", Risk: sdk.RiskReadOnly,
			Params:   []sdk.Param{sdk.String("command", "The command").AsRequired().AsPositional()},
			Examples: []string{"/ops plan /whm account suspend demo1 reason=abuse"}},
		{Name: "policy status", Summary: "The policy in force and the last reload", Risk: sdk.RiskReadOnly},
		{Name: "plugins", Summary: "The provider plugins, their targets, and where each runs from and why it last failed", Risk: sdk.RiskReadOnly},
	}}
}

func ok(req Request, title string, res *sdk.Result) Reply {
	return Reply{RequestID: req.ID, Status: StatusOK, Title: title, Result: res}
}

// opsNoPlan refuses --plan on the bot's own commands. They act
// directly (an approval runs what it approves), so a "dry run" of one
// would not be dry: it is refused before the command runs.
func opsNoPlan() error {
	return &command.Error{Msg: "--plan shows what a provider command would do; /ops commands have no plan. Nothing was done"}
}

// isOpsLine reports whether line is one of the bot's own commands.
func isOpsLine(line string) bool {
	name, _, err := command.SplitProvider(line)
	return err == nil && name == "ops"
}

func (e *Engine) handleOps(ctx context.Context, req Request, rest string, progress func(sdk.Progress)) Reply {
	if word, line, _ := strings.Cut(rest, " "); strings.EqualFold(word, "plan") && strings.HasPrefix(strings.TrimSpace(line), "/") {
		// /ops plan /whm ...: the command as typed, unquoted.
		if isOpsLine(line) {
			return invalid(req.ID, opsNoPlan())
		}
		req.Text = strings.TrimSpace(line) + " " + command.PlanFlag
		return e.handle(ctx, req, progress)
	}
	parsed, err := command.Parse(e.ops, rest)
	if err != nil {
		return invalid(req.ID, err)
	}
	if parsed.Invocation != nil && parsed.Invocation.Plan {
		return invalid(req.ID, opsNoPlan())
	}
	s := e.subject(ctx, req.User)
	gate := func(c *sdk.CommandSpec) bool {
		if !opsGated[c.Name] {
			return true
		}
		return e.opts.Policy.Authorize(s, authz.Action{Provider: OpsName, Command: c.Name, Risk: c.Risk, Channel: req.Channel}).Effect != authz.Deny
	}
	if parsed.Help != nil {
		pg, err := command.HelpPage(e.ops, "The bot's own commands.", parsed.Help.Path, gate)
		if err != nil {
			return invalid(req.ID, err)
		}
		return ok(req, pg.Title, sdk.NewResult().AddMarkdown(strings.Join(pg.Lines, "\n")))
	}
	inv := parsed.Invocation
	if !gate(inv.Command) {
		d := e.opts.Policy.Authorize(s, authz.Action{Provider: OpsName, Command: inv.Command.Name, Risk: inv.Command.Risk, Channel: req.Channel})
		return Reply{RequestID: req.ID, Status: StatusDenied, Code: apperr.Denied, Error: denial(d, "/ops "+inv.Command.Name)}
	}
	a := inv.Args
	switch inv.Command.Name {
	case "whoami":
		return e.whoami(req, s)
	case "can-i":
		return e.canI(ctx, req, s, a.String("command"))
	case "approvals":
		return e.listApprovals(ctx, req)
	case "approval":
		v, err := e.Approval(ctx, a.String("id"))
		if err != nil {
			return e.failure(req.ID, "", "", "", err)
		}
		return Reply{RequestID: req.ID, Status: StatusOK, Title: "Approval " + v.ID, Approval: &v, Result: approvalDetail(v)}
	case "approve":
		return e.Approve(ctx, req, a.String("id"), a.String("confirm"), progress)
	case "deny":
		return e.Deny(ctx, req, a.String("id"), a.String("reason"))
	case "cancel":
		return e.Cancel(ctx, req, a.String("id"))
	case "audit":
		return e.searchAudit(ctx, req, a, inv.Ticket, slices.Contains(inv.Given, "since"))
	case "plan":
		req.Text = strings.TrimSpace(a.String("command")) + " " + command.PlanFlag
		if !strings.HasPrefix(req.Text, "/") {
			return invalid(req.ID, &command.Error{Token: a.String("command"), Msg: "give the command to plan, like /ops plan /whm account suspend demo1 reason=abuse"})
		}
		if isOpsLine(req.Text) {
			return invalid(req.ID, opsNoPlan())
		}
		return e.handle(ctx, req, progress)
	case "policy status":
		return e.policyStatus(req)
	case "plugins":
		return e.pluginsTable(req)
	}
	return invalid(req.ID, &command.Error{Msg: "unknown /ops command"})
}

func (e *Engine) whoami(req Request, s authz.Subject) Reply {
	res := sdk.NewResult()
	roles := e.opts.Policy.Roles(s, req.Channel)
	rolesText := "none: you may not run anything here"
	if len(roles) > 0 {
		rolesText = strings.Join(roles, ", ")
	}
	groups := "none"
	if len(s.Groups) > 0 {
		groups = strings.Join(s.Groups, ", ")
	}
	res.AddKeyValues("", "name", e.opts.Policy.DisplayName(req.User), "user id", req.User, "channel", req.Channel, "roles", rolesText, "chat groups", groups)
	return ok(req, "/ops whoami", res)
}

func (e *Engine) canI(ctx context.Context, req Request, s authz.Subject, line string) Reply {
	name, rest, err := command.SplitProvider(line)
	if err != nil {
		return invalid(req.ID, err)
	}
	p, found := e.opts.Plugins.Provider(name)
	if !found {
		return invalid(req.ID, &command.Error{Token: "/" + name, Msg: "no such command"})
	}
	if err := unavailable(p); err != nil {
		return e.failure(req.ID, "", p.Name(), "", err)
	}
	parsed, err := command.Parse(p, rest)
	if err != nil {
		return invalid(req.ID, err)
	}
	if parsed.Invocation == nil {
		return invalid(req.ID, &command.Error{Msg: "give a whole command, like /ops can-i \"/whm account suspend bob reason=abuse\""})
	}
	inv := parsed.Invocation
	d := e.opts.Policy.Authorize(s, authz.Action{Provider: p.Name(), Command: inv.Command.Name, Args: inv.Args, Target: inv.Target, Channel: req.Channel, Risk: inv.Command.Risk})
	answer := map[authz.Effect]string{authz.Allow: "yes", authz.Deny: "no", authz.NeedsApproval: "yes, with approval"}[d.Effect]
	kv := []string{"answer", answer, "command", e.CommandLine(inv, p.DefaultTarget()), "risk", inv.Command.Risk.String(), "rule", d.Rule}
	if d.Reason != "" {
		kv = append(kv, "reason", d.Reason)
	}
	if r := d.Requirement; r != nil {
		need := fmt.Sprintf("%d approver(s) within %s", r.Approvers, r.TTL)
		if r.ConfirmTarget {
			need += ", each typing the name of what it acts on"
		}
		kv = append(kv, "approval", need)
	}
	kv = append(kv, "note", "a plan may raise the risk for some arguments")
	return ok(req, "/ops can-i", sdk.NewResult().AddKeyValues("", kv...))
}

func (e *Engine) listApprovals(ctx context.Context, req Request) Reply {
	toApprove, mine, unknown, err := e.ApprovalsFor(ctx, req.User)
	if err != nil {
		return e.failure(req.ID, "", "", "", err)
	}
	res := sdk.NewResult()
	table := func(title string, vs []ApprovalView) {
		t := res.AddTable(title, "id", "requester", "command", "risk", "ticket", "approvals", "expires")
		for _, v := range vs {
			t.Row(v.ID, v.RequesterName, v.Command, v.Risk.String(), ticketText(v.Ticket, v.TicketURL), fmt.Sprintf("%d of %d", len(v.Approvers), v.Required), v.ExpiresAt.Local().Format("15:04 Jan 2"))
		}
	}
	if len(toApprove) > 0 {
		table("Waiting for your approval", toApprove)
	}
	if len(mine) > 0 {
		table("Your requests waiting for approval", mine)
	}
	if len(unknown) > 0 {
		t := res.AddTable("Outcome unknown: these were running when the bot stopped; check them, they will not be re-run", "id", "requester", "command", "approved by")
		for _, v := range unknown {
			t.Row(v.ID, v.RequesterName, v.Command, strings.Join(v.Approvers, ", "))
		}
	}
	if len(res.Parts) == 0 {
		res.AddText("Nothing is waiting for you.")
	}
	return ok(req, "/ops approvals", res)
}

// ticketText shows a ticket reference with its address, when the desk
// has one: results are plain text, which Slack and terminals link.
func ticketText(ticket, url string) string {
	if ticket == "" || url == "" {
		return ticket
	}
	return ticket + " (" + url + ")"
}

func approvalDetail(v ApprovalView) *sdk.Result {
	kv := []string{"state", v.StateText(), "requester", v.RequesterName, "command", v.Command, "risk", v.Risk.String(),
		"approvals", fmt.Sprintf("%d of %d", len(v.Approvers), v.Required), "rule", v.Rule,
		"requested", v.CreatedAt.Local().Format(time.RFC1123), "expires", v.ExpiresAt.Local().Format(time.RFC1123)}
	if v.Ticket != "" {
		kv = append(kv, "ticket", ticketText(v.Ticket, v.TicketURL))
	}
	if len(v.Approvers) > 0 {
		kv = append(kv, "approved by", strings.Join(v.Approvers, ", "))
	}
	if v.Confirm {
		kv = append(kv, "confirm", "each approver types "+v.ConfirmWord()+" (on "+v.Target+")")
	}
	if v.DecidedBy != "" {
		kv = append(kv, "decided by", v.DecidedBy)
	}
	if v.Reason != "" {
		kv = append(kv, "reason", v.Reason)
	}
	if v.Result != "" {
		kv = append(kv, "result", v.Result)
	}
	if p := v.Plan; p != nil {
		kv = append(kv, "plan", p.Summary)
		for i, st := range p.Steps {
			line := strings.TrimSpace(st.Method + " " + st.Endpoint)
			if st.Body != "" {
				line += " " + st.Body
			}
			if st.Description != "" {
				line += " (" + st.Description + ")"
			}
			kv = append(kv, fmt.Sprintf("step %d", i+1), line)
		}
		if len(p.Facts) > 0 {
			kv = append(kv, "planned from", strings.Join(p.Facts, "; ")+" (if any of this changes before the run, nothing runs)")
		}
	}
	if store.State(v.State) == store.StatePending {
		how := "/ops approve " + v.ID
		if v.Confirm {
			how += " confirm=" + command.QuoteWord(v.ConfirmWord())
		}
		kv = append(kv, "to approve", how, "to deny", "/ops deny "+v.ID+" reason=...")
	}
	return sdk.NewResult().AddKeyValues("", kv...)
}

type auditSearcher interface {
	Search(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// ParseSince reads "24h", "7d" or a date ("2026-11-01", RFC 3339).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := sdk.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (24h, 7d) nor a date (2026-11-01)", s)
}

func (e *Engine) searchAudit(ctx context.Context, req Request, a sdk.Args, ticket string, sinceGiven bool) Reply {
	s, found := e.opts.Audit.(auditSearcher)
	if !found {
		return e.failure(req.ID, "", "", "", apperr.New(apperr.Unavailable, "the audit log is not searchable on this bot"))
	}
	since, err := ParseSince(a.String("since"), e.opts.Now())
	if err != nil {
		return invalid(req.ID, &command.Error{Token: "since=" + a.String("since"), Msg: err.Error()})
	}
	if ticket != "" && !sinceGiven {
		// A ticket's changes are looked up whenever they were made.
		since = time.Time{}
	}
	f := audit.Filter{Since: since, Command: a.String("command"), RequestID: a.String("request"), Ticket: ticket, Target: a.String("target"),
		Text: a.String("text"), Limit: int(a.Int("limit")), ByTime: true}
	if u := a.String("user"); u != "" {
		f.Actor = u
		if r, isResolver := e.opts.Policy.(interface{ Policy() *authz.Policy }); isResolver {
			if id, ok := r.Policy().UserID(u); ok {
				f.Actor = id
			}
		}
	}
	entries, err := s.Search(ctx, f)
	if err != nil {
		return e.failure(req.ID, "", "", "", err)
	}
	res := sdk.NewResult()
	title := fmt.Sprintf("Audit entries since %s", since.Local().Format("2006-01-02 15:04"))
	if since.IsZero() {
		title = "Audit entries"
	}
	if ticket != "" {
		title += " for ticket " + ticket
	}
	t := res.AddTable(title, "seq", "time", "who", "what", "command", "target", "ticket", "outcome", "detail")
	for _, en := range entries {
		cmd := en.Provider
		if en.Command != "" {
			cmd += " " + en.Command
		}
		t.Row(fmt.Sprint(en.Seq), en.Time.Local().Format("01-02 15:04:05"), e.opts.Policy.DisplayName(en.Actor), string(en.Action), cmd, en.Target, en.Ticket, en.Outcome, en.Detail)
	}
	return ok(req, "/ops audit", res)
}

// AuditEntry is an audit log entry, for adapters.
type AuditEntry = audit.Entry

// Recent returns a user's latest results, newest last (App Home).
func (e *Engine) Recent(ctx context.Context, user string, limit int) ([]audit.Entry, error) {
	s, ok := e.opts.Audit.(auditSearcher)
	if !ok {
		return nil, nil
	}
	return s.Search(ctx, audit.Filter{Actor: user, Action: string(audit.ActionResult), Limit: limit, Newest: true})
}

// DisplayName returns the policy's name for a user id.
func (e *Engine) DisplayName(id string) string { return e.opts.Policy.DisplayName(id) }

func (e *Engine) policyStatus(req Request) Reply {
	res := sdk.NewResult()
	if e.opts.PolicyStatus == nil {
		res.AddText("No policy file: every command is allowed (development mode).")
	} else {
		st := e.opts.PolicyStatus()
		kv := []string{"file", st.Path, "sha256", st.Hash, "loaded", st.LoadedAt.Local().Format(time.RFC1123), "reloads", fmt.Sprint(st.Reloads)}
		if st.LastError != "" {
			kv = append(kv, "last reload", "REJECTED at "+st.LastErrorAt.Local().Format(time.RFC1123)+"; the policy above stays in force", "error", st.LastError)
		} else {
			kv = append(kv, "last reload", "ok")
		}
		res.AddKeyValues("", kv...)
	}
	// The plugins that are not serving, with what users are not told:
	// where they run from and why they failed.
	if rows := e.processRows(true); len(rows) > 0 {
		t := res.AddTable("Plugins not serving: their providers are unavailable until a retry succeeds", processColumns...)
		for _, row := range rows {
			t.Row(row...)
		}
	}
	return ok(req, "/ops policy status", res)
}

// processColumns head processRows.
var processColumns = []string{"name", "state", "pid", "path", "sha256", "last failure", "next try"}

// processRows describes the supervised plugin processes (only those not
// ready, if troubled): name, state, pid, path, sha256, last failure, and
// when a plugin that is down is tried next.
func (e *Engine) processRows(troubled bool) [][]string {
	names := e.opts.Plugins.ProviderNames()
	sort.Strings(names)
	var rows [][]string
	for _, n := range names {
		p, _ := e.opts.Plugins.Provider(n)
		s, isProc := p.(supervised)
		if !isProc {
			continue
		}
		in := s.Info()
		if troubled && in.State == pluginhost.StateReady {
			continue
		}
		pid, failure := "-", "none"
		if in.PID > 0 {
			pid = fmt.Sprint(in.PID)
		}
		if in.LastFailure != "" {
			failure = in.LastFailureAt.Local().Format(time.RFC1123) + ": " + e.redactor.String(in.LastFailure)
		}
		next := "-"
		if !in.RetryAt.IsZero() {
			next = fmt.Sprintf("%s (failed tries in a row: %d)", in.RetryAt.Local().Format(time.RFC1123), in.Attempt)
		}
		rows = append(rows, []string{n, in.State.String(), pid, in.Path, in.SHA256, failure, next})
	}
	return rows
}

// supervised is a provider run as a supervised process
// (*pluginhost.Process). Where it runs from and why it last failed are for
// /ops plugins, which the policy gates: a user of the provider is told
// only that it is unavailable.
type supervised interface{ Info() pluginhost.Info }

func (e *Engine) pluginsTable(req Request) Reply {
	res := sdk.NewResult()
	t := res.AddTable("Plugins", "name", "version", "commands", "targets", "default target")
	names := e.opts.Plugins.ProviderNames()
	sort.Strings(names)
	for _, n := range names {
		p, _ := e.opts.Plugins.Provider(n)
		t.Row(n, p.Metadata().Version, fmt.Sprint(len(p.Catalog())), strings.Join(p.Targets(), ", "), p.DefaultTarget())
	}
	if rows := e.processRows(false); len(rows) > 0 {
		pt := res.AddTable("Processes", processColumns...)
		for _, row := range rows {
			pt.Row(row...)
		}
	}
	return ok(req, "/ops plugins", res)
}
