package main

import (
	"context"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/engine"
)

// outsideSlack returns the Slack adapter through which bot exec and bot
// console tell Slack about the approval requests they make and change:
// the card goes to slack.approvals_channel (or to each approver by direct
// message), the requester follows it by direct message, and an approver's
// click is handled by the replica serving Slack. It returns nil when the
// configuration has no Slack app, or its bot token cannot be read (said
// in the log: the request is still stored and can be approved with
// /ops approve).
func outsideSlack(m *Main) *slackchat.Adapter {
	sc := m.Config.Slack
	if sc == nil || sc.BotToken == nil {
		return nil
	}
	token, err := sc.BotToken.Resolve(m.Config.dir)
	if err != nil {
		m.Logger.Warn("approval cards will not reach Slack: slack.bot_token cannot be read", "error", m.Engine.Redactor().String(err.Error()))
		return nil
	}
	m.Engine.Redactor().AddSecret(token)
	cfg := slackchat.Config{BotToken: token, APIURL: sc.APIURL, ApprovalsChannel: sc.ApprovalsChannel, OutsideSlack: true}
	if m.Policy != nil {
		cfg.PolicyGroups = func() []string { return m.Policy.Policy().SlackGroups() }
		cfg.PolicyUsers = func() []string { return m.Policy.Policy().UserIDs() }
	}
	a := slackchat.New(cfg, m.Engine, m.Store, m.Logger, m.Metrics)
	// Decide as the serving replica does: Slack user groups count.
	m.Engine.SetGroups(a.Groups)
	return a
}

// notifiers tells each of its notifiers in turn (the console, and Slack).
type notifiers []engine.Notifier

func (ns notifiers) ApprovalChanged(ctx context.Context, v engine.ApprovalView) {
	for _, n := range ns {
		n.ApprovalChanged(ctx, v)
	}
}

func (ns notifiers) Notify(ctx context.Context, user string, r engine.Reply) {
	for _, n := range ns {
		n.Notify(ctx, user, r)
	}
}
