package console

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

// Render writes a reply as readable text.
func Render(w io.Writer, r engine.Reply) {
	switch r.Status {
	case engine.StatusInvalid, engine.StatusDenied, engine.StatusFailed:
		label := map[engine.Status]string{engine.StatusInvalid: "error", engine.StatusDenied: "denied", engine.StatusFailed: "failed"}[r.Status]
		fmt.Fprintf(w, "%s: %s\n", label, r.Error)
		if args := r.Arguments(); len(args) > 0 {
			fmt.Fprintf(w, "  (about the argument%s %s)\n", plural(len(args)), strings.Join(args, ", "))
		}
		if r.Result != nil {
			renderParts(w, r.Result.Parts)
		}
		if r.RequestID != "" {
			fmt.Fprintf(w, "(request %s)\n", r.RequestID)
		}
		return
	case engine.StatusPending:
		renderApproval(w, r.Approval)
		return
	}
	if r.Title != "" {
		fmt.Fprintf(w, "== %s ==\n", r.Title)
	}
	if r.DryRun && r.Plan != nil {
		RenderPlan(w, r.Plan)
	}
	if r.Result != nil {
		renderParts(w, r.Result.Parts)
		for _, d := range r.Result.Diagnostics {
			fmt.Fprintf(w, "%s: %s\n", d.Severity, d)
		}
	}
	var ctx []string
	if r.Target != "" {
		ctx = append(ctx, "target "+r.Target)
	}
	if r.RequestID != "" {
		ctx = append(ctx, "request "+r.RequestID)
	}
	if r.Ticket != "" {
		ctx = append(ctx, "ticket "+ticketText(r.Ticket, r.TicketURL))
	}
	if len(ctx) > 0 {
		fmt.Fprintf(w, "(%s)\n", strings.Join(ctx, ", "))
	}
}

func renderApproval(w io.Writer, a *engine.ApprovalView) {
	if a == nil {
		return
	}
	fmt.Fprintf(w, "Approval %s is %s: %s\n", a.ID, a.State, a.Command)
	if a.Ticket != "" {
		fmt.Fprintf(w, "Ticket %s\n", ticketText(a.Ticket, a.TicketURL))
	}
	if a.Plan != nil {
		RenderPlan(w, a.Plan)
	}
	fmt.Fprintf(w, "Risk %s; needs %d approver(s)", a.Risk, a.Required)
	if a.Confirm {
		fmt.Fprintf(w, " who type %q (on %s) to confirm", a.ConfirmWord(), a.Target)
	}
	if len(a.Approvers) > 0 {
		fmt.Fprintf(w, "; approved by %s", strings.Join(a.Approvers, ", "))
	}
	if !a.ExpiresAt.IsZero() {
		fmt.Fprintf(w, "; expires %s", a.ExpiresAt.Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintln(w)
	if a.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", a.Reason)
	}
}

func ticketText(ticket, url string) string {
	if url == "" {
		return ticket
	}
	return ticket + " <" + url + ">"
}

// RenderPlan writes a plan.
func RenderPlan(w io.Writer, p *sdk.Plan) {
	fmt.Fprintf(w, "Plan: %s\n", p.Summary)
	for _, s := range p.Steps {
		line := "  - "
		if s.Method != "" {
			line += s.Method + " " + s.Endpoint
			if s.Description != "" {
				line += "  (" + s.Description + ")"
			}
		} else {
			line += s.Description
		}
		fmt.Fprintln(w, line)
		if s.Body != "" {
			fmt.Fprintf(w, "    body: %s\n", s.Body)
		}
	}
	if len(p.Facts) > 0 {
		fmt.Fprintf(w, "  planned from: %s (if any of this changes before the run, nothing runs)\n", strings.Join(p.Facts, "; "))
	}
}

func renderParts(w io.Writer, parts []sdk.Part) {
	for _, p := range parts {
		if p.Title != "" {
			fmt.Fprintf(w, "%s\n", p.Title)
		}
		switch {
		case p.Text != nil:
			body := p.Text.Body
			if p.Text.Format == sdk.FormatCode {
				body = indent(body, "    ")
			}
			fmt.Fprintln(w, body)
		case p.Table != nil:
			renderTable(w, p.Table)
		case p.File != nil:
			fmt.Fprintf(w, "[file %s, %s, %d bytes]\n", p.File.Name, p.File.MediaType, len(p.File.Content))
		default:
			width := 0
			for _, kv := range p.KeyValues {
				width = max(width, utf8.RuneCountInString(kv.Key))
			}
			for _, kv := range p.KeyValues {
				fmt.Fprintf(w, "  %s%s  %s\n", kv.Key, strings.Repeat(" ", width-utf8.RuneCountInString(kv.Key)), kv.Value)
			}
		}
	}
}

func renderTable(w io.Writer, t *sdk.Table) {
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for _, row := range t.Rows {
		for i, c := range row {
			if i < len(widths) {
				widths[i] = min(max(widths[i], utf8.RuneCountInString(c)), 60)
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i := range t.Columns {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if n := utf8.RuneCountInString(c); n > widths[i] {
				c = string([]rune(c)[:widths[i]-1]) + "…"
			}
			b.WriteString(c)
			if i < len(t.Columns)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.Columns)
	seps := make([]string, len(widths))
	for i, n := range widths {
		seps[i] = strings.Repeat("-", n)
	}
	line(seps)
	for _, row := range t.Rows {
		line(row)
	}
	fmt.Fprintf(w, "(%d rows)\n", len(t.Rows))
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// RenderProgress writes one progress update on a line.
func RenderProgress(w io.Writer, p sdk.Progress) {
	var parts []string
	state, msg := p.Shown()
	if state != "" {
		parts = append(parts, state)
	}
	if p.Percent >= 0 {
		parts = append(parts, fmt.Sprintf("%d%%", p.Percent))
	}
	if msg != "" {
		parts = append(parts, msg)
	}
	fmt.Fprintf(w, "  ... %s\n", strings.Join(parts, " "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
