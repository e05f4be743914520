package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// maxDiffLines bounds a plan diff in a chat message.
const maxDiffLines = 12

// planDiff says in a few lines how the plan that would run now differs
// from the approved one: lines only in the approved plan start with "-",
// lines only in the new one with "+". now is nil when there is no new plan
// (planning failed, or the provider refused at the last moment); diags
// then say why.
func planDiff(approved, now *sdk.Plan, diags sdk.Diagnostics) string {
	var out []string
	if now == nil {
		out = append(out, "approved:")
		for _, l := range planLines(approved) {
			out = append(out, "- "+l)
		}
		if err := diags.Err(); err != nil {
			out = append(out, "now: "+err.Error())
		} else {
			out = append(out, "now: the provider found its state changed since the approval and sent nothing")
		}
		return clip(out)
	}
	before, after := planLines(approved), planLines(now)
	for _, l := range before {
		if !slices.Contains(after, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range after {
		if !slices.Contains(before, l) {
			out = append(out, "+ "+l)
		}
	}
	if len(out) == 0 {
		// Same steps and facts shown, other digest: something the digest
		// covers and the plan does not show changed.
		out = append(out, "the provider's state changed in a way the plan does not show (its fingerprint differs)")
	}
	return clip(out)
}

func planLines(p *sdk.Plan) []string {
	if p == nil {
		return nil
	}
	var out []string
	if p.Summary != "" {
		out = append(out, "summary: "+strings.ReplaceAll(strings.TrimSpace(p.Summary), "\n", "; "))
	}
	for _, f := range p.Facts {
		out = append(out, "fact: "+f)
	}
	for _, st := range p.Steps {
		// The address (a sandbox's port) is not part of the work.
		l := strings.TrimSpace(st.Method + " " + sdk.EndpointPath(st.Endpoint))
		if st.Body != "" {
			l += " " + st.Body
		}
		if st.Description != "" {
			l = st.Description + ": " + l
		}
		out = append(out, "step: "+l)
	}
	if p.Risk != 0 {
		out = append(out, fmt.Sprintf("risk: %s", p.Risk))
	}
	return out
}

func clip(lines []string) string {
	if len(lines) > maxDiffLines {
		n := len(lines) - maxDiffLines
		lines = append(lines[:maxDiffLines], fmt.Sprintf("… and %d more line(s)", n))
	}
	return strings.Join(lines, "\n")
}
