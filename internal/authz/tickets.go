package authz

import (
	"fmt"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/sdk"
)

// TicketRule is what the policy asks of a command's ticket reference.
type TicketRule struct {
	// Required says the command may not run (nor be put to approvers)
	// without one.
	Required bool
	// Pattern, if set, is what every ticket reference must match.
	Pattern *regexp.Regexp
	// Rule names what decided, for messages and explain.
	Rule string
}

type ticketConfig struct {
	pattern  *regexp.Regexp
	risks    []sdk.Risk
	commands patterns
	line     int
}

// Ticket returns what the policy asks of a's ticket reference: required
// when the command matches tickets.require.commands or its risk is one of
// tickets.require.risks; checked against tickets.pattern whenever given.
func (p *Policy) Ticket(a Action) TicketRule {
	t := p.tickets
	r := TicketRule{Pattern: t.pattern}
	switch {
	case slices.Contains(t.risks, a.Risk):
		r.Required, r.Rule = true, fmt.Sprintf("the policy asks for one on every %s-risk command (line %d)", a.Risk, t.line)
	case len(t.commands) > 0 && t.commands.matchAll(commandKey(a)):
		r.Required, r.Rule = true, fmt.Sprintf("the policy asks for one on %s (line %d)", commandKey(a), t.line)
	}
	return r
}

// Ticket implements the ticket check for the policy in force.
func (h *Holder) Ticket(a Action) TicketRule { return h.Policy().Ticket(a) }

func (l *loader) tickets(n *yaml.Node) {
	if n == nil {
		return
	}
	t := ticketConfig{line: n.Line}
	f := l.fields(n, "tickets", "pattern", "require")
	if pn := f["pattern"]; pn != nil {
		src := l.str(pn, "tickets pattern")
		re, err := regexp.Compile(src)
		switch {
		case err != nil:
			l.errf(pn, "tickets pattern %q is not a regular expression: %v", src, err)
		case src == "":
			l.errf(pn, "tickets pattern is empty; leave it out to accept any reference")
		default:
			t.pattern = re
		}
	}
	if rn := f["require"]; rn != nil {
		rf := l.fields(rn, "tickets require", "risks", "commands")
		for _, v := range l.list(rf["risks"], "tickets require risks") {
			r, err := riskOf(v.Value)
			if err != nil {
				l.errf(v, "tickets require risks: %v", err)
				continue
			}
			t.risks = append(t.risks, r)
		}
		t.commands = l.patterns(rf["commands"], "tickets require commands", true)
		if rf["risks"] == nil && rf["commands"] == nil {
			l.errf(rn, "tickets require needs risks or commands (or leave require out)")
		}
	}
	l.p.tickets = t
}
