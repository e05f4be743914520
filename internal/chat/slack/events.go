package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/deskbot/deskbot/internal/engine"
)

func (a *Adapter) serveEvent(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r, "event")
	if !ok {
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	if ev.Type == slackevents.URLVerification {
		var ch slackevents.ChallengeResponse
		if err := json.Unmarshal(body, &ch); err != nil {
			http.Error(w, "bad challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(ch.Challenge))
		return
	}
	var outer struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(body, &outer)
	a.AcceptEvent(outer.EventID, ev)
	w.WriteHeader(http.StatusOK)
}

// AcceptEvent takes a verified Events API event.
func (a *Adapter) AcceptEvent(eventID string, ev slackevents.EventsAPIEvent) {
	if eventID != "" && !a.claim(a.ctxOr(), "slack:event:"+eventID) {
		a.count("event", "duplicate")
		return
	}
	a.count("event", "accepted")
	if ev.Type != slackevents.CallbackEvent {
		return
	}
	if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && home.Tab == "home" {
		a.enqueue("home", func(ctx context.Context) { a.PublishHome(ctx, home.User) })
	}
}

// PublishHome shows a user their desk: approvals waiting for them, their
// own waiting requests, and their latest results.
func (a *Adapter) PublishHome(ctx context.Context, user string) {
	toApprove, mine, unknown, err := a.engine.ApprovalsFor(ctx, user)
	if err != nil {
		a.log.Warn("home: approvals", "error", err)
	}
	recent, err := a.engine.Recent(ctx, user, 10)
	if err != nil {
		a.log.Warn("home: recent results", "error", err)
	}
	view := slackgo.HomeTabViewRequest{Type: slackgo.VTHomeTab, Blocks: slackgo.Blocks{BlockSet: homeBlocks(toApprove, mine, unknown, recent)}}
	_, err = a.api.PublishViewContext(ctx, slackgo.PublishViewContextRequest{UserID: user, View: view})
	a.apiCall("views.publish", err)
	if err != nil {
		a.log.Warn("could not publish the home tab", "user", user, "error", err)
	}
}

func homeBlocks(toApprove, mine, unknown []engine.ApprovalView, recent []engine.AuditEntry) []slackgo.Block {
	blocks := []slackgo.Block{slackgo.NewHeaderBlock(plain("Your desk"))}
	section := func(title string, vs []engine.ApprovalView, buttons bool) {
		blocks = append(blocks, slackgo.NewDividerBlock(), slackgo.NewSectionBlock(mrkdwn("*"+title+"*"), nil, nil))
		if len(vs) == 0 {
			blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn("Nothing here.")))
			return
		}
		for i, v := range vs {
			if i == 10 {
				blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d more; see `/ops approvals`.", len(vs)-10))))
				break
			}
			text := fmt.Sprintf("`%s`\n%s %s · <@%s> · %s · expires %s", truncate(escape(v.Command), 500), riskEmoji[v.Risk], v.Risk, v.Requester, v.StateText(), slackDate(v.ExpiresAt))
			var acc *slackgo.Accessory
			if buttons && !v.Confirm {
				btn := slackgo.NewButtonBlockElement(actionApprove, v.ID, plain("Approve")).WithStyle(slackgo.StylePrimary)
				btn.Confirm = slackgo.NewConfirmationBlockObject(plain("Approve this request?"), mrkdwn(truncate("Run `"+escape(v.Command)+"`?", 300)), plain("Approve"), plain("Cancel"))
				acc = slackgo.NewAccessory(btn)
			}
			blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, acc))
		}
	}
	section("Waiting for your approval", toApprove, true)
	section("Your requests waiting for approval", mine, false)
	if len(unknown) > 0 {
		section("Outcome unknown (check these; they will not be re-run)", unknown, false)
	}
	blocks = append(blocks, slackgo.NewDividerBlock(), slackgo.NewSectionBlock(mrkdwn("*Your recent results*"), nil, nil))
	if len(recent) == 0 {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn("Nothing yet.")))
	}
	for i := len(recent) - 1; i >= 0; i-- {
		e := recent[i]
		mark := ":white_check_mark:"
		if e.Outcome != "succeeded" {
			mark = ":x:"
		}
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(truncate(fmt.Sprintf("%s `/%s %s` %s · %s", mark, e.Provider, escape(e.Command), escape(e.Target), slackDate(e.Time.In(time.UTC))), maxContextText))))
	}
	return blocks
}
