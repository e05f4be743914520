package slack

import (
	"context"
	"sync"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/store"
)

// convRegistry holds the conversations of approvals being executed here.
type convRegistry struct {
	mu sync.Mutex
	m  map[string]*conversation
}

func (r *convRegistry) put(id string, c *conversation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*conversation{}
	}
	r.m[id] = c
}

func (r *convRegistry) get(id string) *conversation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

func (r *convRegistry) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}

// ApprovalChanged implements engine.Notifier: a new request gets its card
// (in the approvals channel, or where it was asked); later changes edit
// the card in place.
func (a *Adapter) ApprovalChanged(ctx context.Context, v engine.ApprovalView) {
	card := ApprovalCard(v)
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(card.Text, false), slackgo.MsgOptionBlocks(card.Blocks...)}
	if ts := v.Meta["card_ts"]; ts != "" {
		_, _, _, err := a.api.UpdateMessageContext(ctx, v.Meta["card_channel"], ts, opts...)
		a.apiCall("chat.update", err)
		if err != nil {
			a.log.Warn("could not update an approval card", "approval", v.ID, "error", err)
		}
		if store.State(v.State) == store.StateExpired || store.State(v.State) == store.StateUnknown {
			a.tellThread(ctx, v, engine.Reply{Status: engine.StatusFailed, Approval: &v, Error: "Request " + v.ID + " " + v.StateText()})
		}
		return
	}
	if store.State(v.State) != store.StatePending {
		return
	}
	channel := a.cfg.ApprovalsChannel
	if channel == "" {
		channel = v.Channel
	}
	_, ts, err := a.api.PostMessageContext(ctx, channel, opts...)
	a.apiCall("chat.postMessage", err)
	if err != nil {
		a.log.Error("could not post an approval card", "approval", v.ID, "channel", channel, "error", err)
		return
	}
	if err := a.engine.SetApprovalMeta(ctx, v.ID, map[string]string{"card_channel": channel, "card_ts": ts}); err != nil {
		a.log.Error("could not record where the approval card is", "approval", v.ID, "error", err)
		return
	}
	// A click can be quicker than recording where the card is: a request
	// approved and finished before that could not update a card it could
	// not find. If it has ended, show its end now (every later change
	// finds the card; an end is the last change, so this cannot show a
	// stale state over a newer one).
	if fresh, err := a.engine.Approval(ctx, v.ID); err == nil && store.State(fresh.State).Terminal() {
		end := ApprovalCard(fresh)
		_, _, _, err := a.api.UpdateMessageContext(ctx, channel, ts, slackgo.MsgOptionText(end.Text, false), slackgo.MsgOptionBlocks(end.Blocks...))
		a.apiCall("chat.update", err)
	}
}

// Notify implements engine.Notifier: the requester learns the outcome of
// a request someone else approved or denied, in the request's thread (or
// by direct message when there is none).
func (a *Adapter) Notify(ctx context.Context, user string, r engine.Reply) {
	if r.Approval == nil {
		a.dm(ctx, user, Render(r).Messages)
		return
	}
	if r.Sensitive {
		a.dm(ctx, user, Render(r).Messages)
		if c := a.convs.get(r.Approval.ID); c != nil {
			c.finishStatus(ctx, r.Status == engine.StatusOK)
		}
		return
	}
	a.tellThread(ctx, *r.Approval, r)
}

func (a *Adapter) tellThread(ctx context.Context, v engine.ApprovalView, r engine.Reply) {
	c := a.convs.get(v.ID)
	if c == nil {
		fresh, err := a.engine.Approval(ctx, v.ID)
		if err == nil {
			v = fresh
		}
		if v.Meta["thread_ts"] == "" {
			a.dm(ctx, v.Requester, Render(r).Messages)
			return
		}
		c = a.threadOf(v)
	}
	rendered := Render(r)
	c.post(ctx, rendered.Messages, "<@"+v.Requester+"> ")
	c.upload(ctx, rendered.Files)
	c.finishStatus(ctx, r.Status == engine.StatusOK)
}

// dm sends messages to a user's direct conversation with the app.
func (a *Adapter) dm(ctx context.Context, user string, msgs []Message) {
	for _, m := range msgs {
		_, _, err := a.api.PostMessageContext(ctx, user, slackgo.MsgOptionText(m.Text, false), slackgo.MsgOptionBlocks(m.Blocks...))
		a.apiCall("chat.postMessage", err)
		if err != nil {
			a.log.Warn("could not send a direct message", "user", user, "error", err)
			return
		}
	}
}
