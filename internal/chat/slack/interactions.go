package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/store"
)

func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, ok := a.verified(w, r, "interaction")
	if !ok {
		return
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cb, err := slackgo.InteractionCallbackParse(r2)
	if err != nil {
		http.Error(w, "bad interaction payload", http.StatusBadRequest)
		return
	}
	writeAck(w, a.AcceptInteraction(cb))
	if a.metrics != nil {
		a.metrics.AckLatency.Observe(time.Since(start).Seconds())
	}
}

// viewErrors keeps a modal open with an error under one of its inputs.
func viewErrors(block, msg string) any {
	return slackgo.NewErrorsViewSubmissionResponse(map[string]string{block: msg})
}

// AcceptInteraction takes a verified interaction (a button click, a modal
// submission) and returns what to answer at once (nil for an empty 200).
func (a *Adapter) AcceptInteraction(cb slackgo.InteractionCallback) any {
	if cb.Type == slackgo.InteractionTypeBlockSuggestion {
		// Socket Mode delivers options requests as interactions; they
		// are answered at once and never deduplicated (each keystroke
		// asks again).
		return a.AcceptOptions(a.ctxOr(), cb)
	}
	key := "slack:int:" + cb.Team.ID + ":" + cb.TriggerID
	if cb.TriggerID == "" {
		key = "slack:int:" + cb.Team.ID + ":" + cb.User.ID + ":" + cb.ActionTs + ":" + cb.View.ID
	}
	if !a.claim(a.ctxOr(), key) {
		a.count("interaction", "duplicate")
		return nil
	}
	a.count("interaction", "accepted")
	user := cb.User.ID
	switch cb.Type {
	case slackgo.InteractionTypeShortcut:
		if cb.CallbackID == callbackBuilder {
			a.enqueueOrTell(cb, func(ctx context.Context) { a.openBuilder(ctx, user, cb.TriggerID, builderState{}) })
		}
	case slackgo.InteractionTypeBlockActions:
		for _, act := range cb.ActionCallback.BlockActions {
			id := act.Value
			switch act.ActionID {
			case actionApprove:
				a.enqueueOrTell(cb, func(ctx context.Context) { a.clickApprove(ctx, cb, id) })
			case actionBuilderCommand:
				choice := act.SelectedOption.Value
				a.enqueueOrTell(cb, func(ctx context.Context) { a.builderChose(ctx, cb, choice) })
			case actionDeny:
				a.enqueueOrTell(cb, func(ctx context.Context) {
					v, err := a.engine.Approval(ctx, id)
					if err != nil {
						a.ephemeralTo(ctx, cb.Channel.ID, user, cb.ResponseURL, simple(":warning: "+err.Error()))
						return
					}
					_, err = a.api.OpenViewContext(ctx, cb.TriggerID, denyModal(v))
					a.apiCall("views.open", err)
				})
			}
		}
	case slackgo.InteractionTypeViewSubmission:
		meta := cb.View.PrivateMetadata
		switch cb.View.CallbackID {
		case callbackConfirm:
			v, err := a.engine.Approval(a.ctxOr(), meta)
			if err != nil {
				return viewErrors(blockConfirm, "This request no longer exists.")
			}
			typed := strings.TrimSpace(stateValue(cb.View, blockConfirm))
			if typed != v.ConfirmWord() {
				return viewErrors(blockConfirm, fmt.Sprintf("Type %s exactly to approve.", v.ConfirmWord()))
			}
			channel := v.Meta[metaCardChannel]
			a.enqueueOrTell(cb, func(ctx context.Context) { a.approve(ctx, user, channel, "", meta, typed) })
		case callbackBuilder:
			return a.submitBuilder(cb)
		case callbackDeny:
			reason := strings.TrimSpace(stateValue(cb.View, blockReason))
			if reason == "" {
				return viewErrors(blockReason, "Say why: the requester will read it.")
			}
			a.enqueueOrTell(cb, func(ctx context.Context) { a.deny(ctx, user, meta, reason) })
		case callbackSecrets:
			var st secretsState
			if err := json.Unmarshal([]byte(meta), &st); err != nil {
				return nil
			}
			secrets := map[string]string{}
			if cb.View.State != nil {
				for block, inputs := range cb.View.State.Values {
					if name, ok := strings.CutPrefix(block, "secret_"); ok && inputs[inputValue].Value != "" {
						secrets[name] = inputs[inputValue].Value
					}
				}
			}
			if c := st.Command; c != nil {
				a.enqueueOrTell(cb, func(ctx context.Context) { a.runForm(ctx, user, st.Channel, st.ResponseURL, *c, secrets) })
				return nil
			}
			cmd := slackgo.SlashCommand{UserID: user, ChannelID: st.Channel, ResponseURL: st.ResponseURL, TriggerID: cb.TriggerID}
			name, rest, _ := strings.Cut(strings.TrimPrefix(st.Text, "/"), " ")
			cmd.Command, cmd.Text = "/"+name, rest
			a.enqueueOrTell(cb, func(ctx context.Context) { a.runCommand(ctx, "", cmd, secrets) })
		}
	}
	return nil
}

func simple(text string) []Message {
	return []Message{{Text: text, Blocks: []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(escape(text)), nil, nil)}}}
}

func (a *Adapter) enqueueOrTell(cb slackgo.InteractionCallback, run func(ctx context.Context)) {
	if !a.enqueue("interaction", run) {
		a.count("interaction", "busy")
		go a.ephemeralTo(a.ctxOr(), cb.Channel.ID, cb.User.ID, cb.ResponseURL, simple(":hourglass: The bot is busy right now; nothing was done. Try again in a minute."))
	}
}

// clickApprove handles the Approve button: critical requests open the
// modal where the target is typed; others are approved at once (the
// button's confirm dialog has already asked).
func (a *Adapter) clickApprove(ctx context.Context, cb slackgo.InteractionCallback, id string) {
	v, err := a.engine.Approval(ctx, id)
	if err != nil {
		a.ephemeralTo(ctx, cb.Channel.ID, cb.User.ID, cb.ResponseURL, simple(":warning: "+err.Error()))
		return
	}
	if v.Confirm && store.State(v.State) == store.StatePending {
		_, err := a.api.OpenViewContext(ctx, cb.TriggerID, confirmModal(v))
		a.apiCall("views.open", err)
		if err != nil {
			a.ephemeralTo(ctx, cb.Channel.ID, cb.User.ID, cb.ResponseURL, simple(":warning: could not open the confirmation form; try again"))
		}
		return
	}
	a.approve(ctx, cb.User.ID, cb.Channel.ID, cb.ResponseURL, id, "")
}

// threadOf returns the conversation of an approval's request.
func (a *Adapter) threadOf(v engine.ApprovalView) *conversation {
	ch := v.Meta[metaThreadChannel]
	if ch == "" {
		ch = v.Channel
	}
	c := a.conversation(ch, v.Requester, "", v.Command)
	if ts := v.Meta[metaThreadTS]; ts != "" {
		c.adopt(ts)
		c.begun = time.Now()
	}
	return c
}

func (a *Adapter) approve(ctx context.Context, user, channel, responseURL, id, confirm string) {
	v, err := a.engine.Approval(ctx, id)
	if err != nil {
		a.ephemeralTo(ctx, channel, user, responseURL, simple(":warning: "+err.Error()))
		return
	}
	conv := a.threadOf(v)
	// The engine tells the requester the outcome (Notify) before Approve
	// returns; it finds this conversation to finish its status message.
	a.convs.put(v.ID, conv)
	defer a.convs.drop(v.ID)
	reply := a.engine.Approve(ctx, engine.Request{User: user, Channel: channel}, id, confirm, conv.progress)
	switch reply.Status {
	case engine.StatusPending:
		a.ephemeralTo(ctx, channel, user, responseURL, simple(fmt.Sprintf(":ballot_box_with_check: Your approval is recorded; %s.", reply.Approval.StateText())))
	case engine.StatusOK:
		a.ephemeralTo(ctx, channel, user, responseURL, simple(":white_check_mark: Approved. The result is in the request's thread."))
	case engine.StatusFailed:
		if reply.Approval != nil && reply.Approval.State == string(store.StateFailed) {
			a.ephemeralTo(ctx, channel, user, responseURL, simple(":x: Approved, but it failed; details are in the request's thread."))
			return
		}
		a.ephemeralTo(ctx, channel, user, responseURL, Render(reply).Messages)
	default:
		// Refused: the requester, someone without rights, expired...
		a.ephemeralTo(ctx, channel, user, responseURL, Render(reply).Messages)
	}
}

func (a *Adapter) deny(ctx context.Context, user, id, reason string) {
	v, err := a.engine.Approval(ctx, id)
	if err != nil {
		return
	}
	reply := a.engine.Deny(ctx, engine.Request{User: user, Channel: v.Meta[metaCardChannel]}, id, reason)
	if reply.Status != engine.StatusOK {
		a.ephemeralTo(ctx, v.Meta[metaCardChannel], user, "", Render(reply).Messages)
	}
}
