package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk"
)

// Action and callback ids. Button values carry the approval id only,
// never a command: a click can only act on what the store holds.
const (
	actionApprove   = "approval_approve"
	actionDeny      = "approval_deny"
	callbackConfirm = "approval_confirm"
	callbackDeny    = "approval_deny_reason"
	callbackSecrets = "command_secrets"
	blockConfirm    = "confirm_target"
	blockReason     = "deny_reason"
	inputValue      = "value"
)

var riskEmoji = map[sdk.Risk]string{sdk.RiskReadOnly: ":large_green_circle:", sdk.RiskLow: ":large_blue_circle:", sdk.RiskHigh: ":large_orange_circle:", sdk.RiskCritical: ":red_circle:"}

func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// cardTitle heads a card by its request's state. Once decided it names
// the request, not the approval: "Request approved", never "Approval
// approved".
func cardTitle(s store.State) string {
	switch s {
	case store.StatePending:
		return "Approval needed"
	case store.StateExecuting:
		return "Request approved, running"
	case store.StateUnknown:
		return "Request approved, outcome unknown"
	case "":
		return "Request"
	}
	return "Request " + string(s)
}

// ApprovalCard is the message approvers act on: who asks for what, where,
// the plan, the risk and the deadline, and (while pending) the buttons.
func ApprovalCard(v engine.ApprovalView) Message {
	var blocks []slackgo.Block
	title := cardTitle(store.State(v.State))
	blocks = append(blocks, slackgo.NewHeaderBlock(plain(truncate(title+": "+v.Command, maxHeader))))
	approvals := fmt.Sprintf("%d of %d", len(v.Approvers), v.Required)
	if len(v.Approvers) > 0 {
		var who []string
		for _, id := range v.ApproverIDs {
			who = append(who, "<@"+id+">")
		}
		approvals += " (" + strings.Join(who, ", ") + ")"
	}
	// The command is cut only when it is long; what is cut is said, so
	// that an approver knows there is more than the card shows. Free-text
	// values come last in it, so they are what is cut first.
	command := escape(v.Command)
	shown := truncate(command, maxCardCommand)
	blocks = append(blocks, slackgo.NewSectionBlock(nil, []*slackgo.TextBlockObject{
		mrkdwn("*Requested by*\n<@" + v.Requester + ">"),
		mrkdwn("*Target*\n" + escape(orDash(v.Target))),
		mrkdwn("*Risk*\n" + riskEmoji[v.Risk] + " " + v.Risk.String()),
		mrkdwn("*Expires*\n" + slackDate(v.ExpiresAt)),
		mrkdwn("*Approvals*\n" + approvals),
		mrkdwn("*Command*\n`" + shown + "`"),
	}, nil))
	if shown != command {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(fmt.Sprintf(":scissors: The command is cut to fit the card: it has %d characters. Free-text values (reasons, notes) come last in it.",
			len([]rune(v.Command))))))
	}
	if v.Ticket != "" {
		// The section's fields keep their place; the ticket comes under.
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn("*Ticket* "+ticketText(v.Ticket, v.TicketURL)), nil, nil))
	}
	if p := v.Plan; p != nil {
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(planText(p)), nil, nil))
	}
	switch store.State(v.State) {
	case store.StatePending:
		approve := slackgo.NewButtonBlockElement(actionApprove, v.ID, plain("Approve")).WithStyle(slackgo.StylePrimary)
		if !v.Confirm {
			// Critical requests open a modal instead, where the approver
			// types the name of what it acts on.
			approve.Confirm = slackgo.NewConfirmationBlockObject(plain("Approve this request?"),
				mrkdwn(truncate(fmt.Sprintf("Run `%s` on *%s* for <@%s>. This cannot be undone from chat.", escape(v.Command), escape(orDash(v.Target)), v.Requester), 300)),
				plain("Approve"), plain("Cancel"))
		}
		deny := slackgo.NewButtonBlockElement(actionDeny, v.ID, plain("Deny")).WithStyle(slackgo.StyleDanger)
		if v.Confirm {
			blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(truncate(fmt.Sprintf(":keyboard: Critical: each approver types *%s* (on %s) to approve.",
				escape(v.ConfirmWord()), escape(orDash(v.Target))), maxContextText))))
		}
		blocks = append(blocks, slackgo.NewActionBlock("approval_actions", approve, deny))
	default:
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(outcomeLine(v)), nil, nil))
	}
	blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(escape(fmt.Sprintf("approval %s · request %s · %s", v.ID, v.RequestID, v.Rule)))))
	return Message{Text: title + ": " + truncate(v.Command, 200), Blocks: blocks}
}

// waitingNote is the requester's message about a request waiting for
// approval, as it reads in v's state: it is edited in place at every
// change, so it never says "waiting" about a request that has ended.
func waitingNote(v engine.ApprovalView) Message {
	cmd := truncate(escape(v.Command), 1500)
	text := fmt.Sprintf(":hourglass_flowing_sand: `%s` needs approval (%s): %s.", cmd, v.ID, v.StateText())
	if store.State(v.State) != store.StatePending {
		text = fmt.Sprintf("`%s` (approval %s): %s", cmd, v.ID, outcomeLine(v))
	}
	blocks := []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, nil)}
	if line := footer(v.Target, v.RequestID, v.Ticket, v.TicketURL); line != "" {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(line)))
	}
	return Message{Text: truncate(v.Command, 200) + ": " + v.StateText(), Blocks: blocks}
}

// planText is a plan as mrkdwn: its summary, its steps (the provider
// calls) and the facts it was made from.
func planText(p *sdk.Plan) string {
	var plan strings.Builder
	plan.WriteString("*Plan:* " + escape(p.Summary))
	var steps []string
	for _, s := range p.Steps {
		line := s.Description
		if s.Method != "" {
			line = s.Method + " " + s.Endpoint
			if s.Description != "" {
				line += "   # " + s.Description
			}
		}
		if s.Body != "" {
			line += "\n    " + s.Body
		}
		steps = append(steps, line)
	}
	if len(steps) > 0 {
		plan.WriteString("\n```" + escape(strings.Join(steps, "\n")) + "```")
	}
	if len(p.Facts) > 0 {
		plan.WriteString("\n*Planned from:* " + escape(strings.Join(p.Facts, "; ")) + " _(if any of this changes before the run, nothing runs)_")
	}
	if text := plan.String(); len([]rune(text)) > maxSectionText {
		const cut = "… _(the plan is cut to fit the card)_"
		return truncate(text, maxSectionText-len([]rune(cut))+1) + cut[len("…"):]
	}
	return plan.String()
}

// maxCardCommand is the most of a command line an approval card shows
// in its Command field (a field holds 2,000 characters).
const maxCardCommand = 1800

// ticketText is a ticket reference as mrkdwn, a link when the
// configuration gives the desk's ticket address.
func ticketText(ticket, url string) string {
	if url == "" {
		return "`" + escape(ticket) + "`"
	}
	return "<" + url + "|" + escape(ticket) + ">"
}

func outcomeLine(v engine.ApprovalView) string {
	switch store.State(v.State) {
	case store.StateApproved, store.StateExecuting:
		return ":gear: Approved; running…"
	case store.StateSucceeded:
		return ":white_check_mark: Approved and done."
	case store.StateFailed:
		return ":x: Approved, but it failed: " + escape(truncate(strings.TrimPrefix(v.Result, "failed: "), 1000))
	case store.StateDenied:
		return fmt.Sprintf(":no_entry: Denied by %s: %s", escape(v.DecidedBy), escape(v.Reason))
	case store.StateCancelled:
		return ":heavy_minus_sign: Cancelled by the requester."
	case store.StateExpired:
		return ":hourglass: Expired without enough approvals."
	case store.StateUnknown:
		return ":grey_question: Outcome unknown: it was running when the bot stopped. Check before trying again."
	case store.StatePlanChanged:
		return ":leftwards_arrow_with_hook: Approved, but not run: what it would do changed after the approval. " + escape(truncate(v.Result, 1000))
	}
	return escape(v.State)
}

// confirmModal asks an approver of a critical request to type the name of
// what it acts on (the account, the record, the machine), with the target
// beside it.
func confirmModal(v engine.ApprovalView) slackgo.ModalViewRequest {
	input := slackgo.NewPlainTextInputBlockElement(plain(v.ConfirmWord()), inputValue)
	block := slackgo.NewInputBlock(blockConfirm, plain(truncate("Type "+v.ConfirmWord()+" (on "+orDash(v.Target)+") to approve", 2000)), nil, input)
	return slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		Title:           plain("Confirm approval"),
		Submit:          plain("Approve"),
		Close:           plain("Cancel"),
		CallbackID:      callbackConfirm,
		PrivateMetadata: v.ID,
		Blocks: slackgo.Blocks{BlockSet: []slackgo.Block{
			slackgo.NewSectionBlock(mrkdwn(truncate(fmt.Sprintf(":red_circle: *Critical:* `%s` for <@%s>", escape(v.Command), v.Requester), maxSectionText)), nil, nil),
			block,
		}},
	}
}

// denyModal asks for the reason of a denial.
func denyModal(v engine.ApprovalView) slackgo.ModalViewRequest {
	input := slackgo.NewPlainTextInputBlockElement(plain("Why?"), inputValue)
	input.Multiline = true
	return slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		Title:           plain("Deny request"),
		Submit:          plain("Deny"),
		Close:           plain("Cancel"),
		CallbackID:      callbackDeny,
		PrivateMetadata: v.ID,
		Blocks: slackgo.Blocks{BlockSet: []slackgo.Block{
			slackgo.NewSectionBlock(mrkdwn(truncate(fmt.Sprintf("Deny `%s` for <@%s>?", escape(v.Command), v.Requester), maxSectionText)), nil, nil),
			slackgo.NewInputBlock(blockReason, plain("Reason (the requester sees it)"), nil, input),
		}},
	}
}

// secretsState travels in a secrets modal's private metadata.
type secretsState struct {
	Text        string `json:"text"`
	Channel     string `json:"channel"`
	ResponseURL string `json:"response_url"`
	// Command is what to run with the secrets, as fields (the engine's
	// Reply.Resume, or the builder's command).
	Command *engine.Command `json:"command,omitempty"`
}

// secretsModal collects sensitive arguments privately: typed here they
// never enter the channel's history.
func secretsModal(title string, inputs []sdk.Param, st secretsState) slackgo.ModalViewRequest {
	meta, _ := json.Marshal(st)
	blocks := []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(truncate(":lock: `"+escape(st.Text)+"` needs secret values. They are sent to the provider and never shown or stored.", maxSectionText)), nil, nil)}
	for _, p := range inputs {
		in := slackgo.NewPlainTextInputBlockElement(nil, inputValue)
		label := p.Name
		if p.Description != "" {
			label += ": " + p.Description
		}
		b := slackgo.NewInputBlock("secret_"+p.Name, plain(truncate(label, 2000)), nil, in)
		b.Optional = !p.Required
		blocks = append(blocks, b)
	}
	return slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		Title:           plain(truncate("Secret input", 24)),
		Submit:          plain("Run"),
		Close:           plain("Cancel"),
		CallbackID:      callbackSecrets,
		PrivateMetadata: string(meta),
		Blocks:          slackgo.Blocks{BlockSet: blocks},
	}
}

// stateValue reads a plain text input's value from a view submission.
func stateValue(v slackgo.View, block string) string {
	if v.State == nil {
		return ""
	}
	if a, ok := v.State.Values[block][inputValue]; ok {
		return a.Value
	}
	return ""
}
