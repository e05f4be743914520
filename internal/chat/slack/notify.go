package slack

import (
	"context"
	"strings"
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

// What the adapter records with an approval (engine.ApprovalView.Meta),
// so that any process (the replica that serves Slack, bot exec, bot
// console) can find its messages again and edit them.
const (
	// metaCardChannel and metaCardTS: the card in a channel.
	metaCardChannel = "card_channel"
	metaCardTS      = "card_ts"
	// metaCardDMs: the cards sent to approvers by direct message, as
	// CHANNEL/TS pairs separated by commas.
	metaCardDMs = "card_dms"
	// metaThreadChannel and metaThreadTS: the thread the request's
	// outcome goes to.
	metaThreadChannel = "thread_channel"
	metaThreadTS      = "thread_ts"
	// metaWaitingChannel and metaWaitingTS: the requester's "waiting for
	// approval" message.
	metaWaitingChannel = "waiting_channel"
	metaWaitingTS      = "waiting_ts"
)

// place is a message the adapter posted: its channel and timestamp.
type place struct{ channel, ts string }

// cardPlaces lists where a request's cards are.
func cardPlaces(meta map[string]string) []place {
	var out []place
	if ts := meta[metaCardTS]; ts != "" {
		out = append(out, place{meta[metaCardChannel], ts})
	}
	for _, pair := range strings.Split(meta[metaCardDMs], ",") {
		ch, ts, ok := strings.Cut(pair, "/")
		if ok && ch != "" && ts != "" {
			out = append(out, place{ch, ts})
		}
	}
	return out
}

// ApprovalChanged implements engine.Notifier: a new request gets its
// card (see announce); later changes edit its cards and its requester's
// "waiting for approval" message in place, whichever process makes them.
func (a *Adapter) ApprovalChanged(ctx context.Context, v engine.ApprovalView) {
	cards := cardPlaces(v.Meta)
	if len(cards) == 0 && store.State(v.State) == store.StatePending {
		a.announce(ctx, v)
		return
	}
	a.showState(ctx, v, cards)
	if store.State(v.State) == store.StateExpired || store.State(v.State) == store.StateUnknown {
		a.tellThread(ctx, v, engine.Reply{Status: engine.StatusFailed, Approval: &v, Error: "Request " + v.ID + " " + v.StateText()})
	}
}

// showState edits a request's cards and its waiting message to v's state.
func (a *Adapter) showState(ctx context.Context, v engine.ApprovalView, cards []place) {
	card := ApprovalCard(v)
	for _, p := range cards {
		if err := a.edit(ctx, p, card); err != nil {
			a.log.Warn("could not update an approval card", "approval", v.ID, "channel", p.channel, "error", err)
		}
	}
	if ts := v.Meta[metaWaitingTS]; ts != "" {
		if err := a.edit(ctx, place{v.Meta[metaWaitingChannel], ts}, waitingNote(v)); err != nil {
			a.log.Warn("could not update the requester's waiting message", "approval", v.ID, "error", err)
		}
	}
}

// announce posts a new request's card: to the approvals channel if there
// is one; else, for a request made outside Slack, to each approver by
// direct message; else to the channel the request was made in. The
// requester of a request made outside Slack is told by direct message,
// and that message is the request's thread: its progress and outcome
// come under it.
func (a *Adapter) announce(ctx context.Context, v engine.ApprovalView) {
	card := ApprovalCard(v)
	meta := map[string]string{}
	if a.cfg.ApprovalsChannel != "" || !a.cfg.OutsideSlack {
		channel := a.cfg.ApprovalsChannel
		if channel == "" {
			channel = v.Channel
		}
		p, err := a.postMessage(ctx, channel, card)
		if err != nil {
			a.log.Error("could not post an approval card", "approval", v.ID, "channel", channel, "error", err)
		} else {
			meta[metaCardChannel], meta[metaCardTS] = p.channel, p.ts
		}
	} else {
		var dms []string
		for _, u := range a.approvers(ctx, v) {
			p, err := a.postMessage(ctx, u, card)
			if err != nil {
				a.log.Warn("could not send an approval card to an approver", "approval", v.ID, "approver", u, "error", err)
				continue
			}
			dms = append(dms, p.channel+"/"+p.ts)
		}
		if len(dms) == 0 {
			a.log.Error("no approver could be sent the approval card: set slack.approvals_channel, or name the approvers in the policy",
				"approval", v.ID)
		} else {
			meta[metaCardDMs] = strings.Join(dms, ",")
		}
	}
	if a.cfg.OutsideSlack && v.Meta[metaWaitingTS] == "" {
		p, err := a.postMessage(ctx, v.Requester, waitingNote(v))
		if err != nil {
			a.log.Warn("could not tell the requester their request waits for approval", "approval", v.ID, "requester", v.Requester, "error", err)
		} else {
			meta[metaWaitingChannel], meta[metaWaitingTS] = p.channel, p.ts
			meta[metaThreadChannel], meta[metaThreadTS] = p.channel, p.ts
		}
	}
	if len(meta) == 0 {
		return
	}
	if err := a.engine.SetApprovalMeta(ctx, v.ID, meta); err != nil {
		a.log.Error("could not record where the approval card is", "approval", v.ID, "error", err)
		return
	}
	// A click can be quicker than recording where the card is: a request
	// approved and finished before that could not update a card it could
	// not find. If it has ended, show its end now (every later change
	// finds the card; an end is the last change, so this cannot show a
	// stale state over a newer one).
	if fresh, err := a.engine.Approval(ctx, v.ID); err == nil && store.State(fresh.State).Terminal() {
		a.showState(ctx, fresh, cardPlaces(fresh.Meta))
	}
}

// approvers lists who may approve a request, among the users the policy
// names and the members of the Slack user groups it names.
func (a *Adapter) approvers(ctx context.Context, v engine.ApprovalView) []string {
	var named []string
	if a.cfg.PolicyUsers != nil {
		named = a.cfg.PolicyUsers()
	}
	who, err := a.engine.MayApprove(ctx, v.ID, a.groups.people(ctx, named))
	if err != nil {
		a.log.Error("could not find the approvers of a request", "approval", v.ID, "error", err)
		return nil
	}
	return who
}

// postMessage posts m to a channel, or to a user's direct conversation
// with the app when channel is a user id, and says where it landed.
func (a *Adapter) postMessage(ctx context.Context, channel string, m Message) (place, error) {
	ch, ts, err := a.api.PostMessageContext(ctx, channel, slackgo.MsgOptionText(m.Text, false), slackgo.MsgOptionBlocks(m.Blocks...))
	a.apiCall("chat.postMessage", err)
	if ch == "" {
		ch = channel
	}
	return place{ch, ts}, err
}

// edit replaces the message at p with m.
func (a *Adapter) edit(ctx context.Context, p place, m Message) error {
	_, _, _, err := a.api.UpdateMessageContext(ctx, p.channel, p.ts, slackgo.MsgOptionText(m.Text, false), slackgo.MsgOptionBlocks(m.Blocks...))
	a.apiCall("chat.update", err)
	return err
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
		if v.Meta[metaThreadTS] == "" {
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
