package slack

import (
	"context"
	"fmt"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode receives commands, interactions and events over a Socket
// Mode connection (no public URL needed) until ctx ends. It needs
// Config.AppToken. The handlers are the HTTP mode's: only the transport
// differs, and Slack authenticates the connection instead of each request.
func (a *Adapter) RunSocketMode(ctx context.Context) error {
	if a.cfg.AppToken == "" {
		return fmt.Errorf("socket mode needs an app-level token (xapp-...)")
	}
	client := socketmode.New(a.api)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt, ok := <-client.Events:
				if !ok {
					return
				}
				a.socketEvent(client, evt)
			}
		}
	}()
	return client.RunContext(ctx)
}

func (a *Adapter) socketEvent(client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		a.log.Error("slack socket mode connection problem", "event", string(evt.Type))
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackgo.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		// The command is stored before the ack, which takes a commit: in
		// its own goroutine, so commands arriving together share one
		// instead of queueing behind each other on this connection.
		req := *evt.Request
		go func() {
			if ack := a.AcceptCommand(a.ctxOr(), cmd); ack != nil {
				_ = client.Ack(req, ack)
			} else {
				_ = client.Ack(req)
			}
		}()
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackgo.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		if ack := a.AcceptInteraction(cb); ack != nil {
			_ = client.Ack(*evt.Request, ack)
		} else {
			_ = client.Ack(*evt.Request)
		}
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if evt.Request != nil {
			_ = client.Ack(*evt.Request)
		}
		if ok {
			id := ""
			if evt.Request != nil {
				id = evt.Request.EnvelopeID
			}
			a.AcceptEvent(id, ev)
		}
	}
}
