package slack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/store"
)

// Defaults of the inbox's timing: a killed process's commands are taken
// over within about DefaultInboxLease + DefaultInboxSweep.
const (
	DefaultInboxLease = 5 * time.Second
	DefaultInboxSweep = time.Second
)

// responseURLLife is how long Slack accepts answers on a command's
// response_url; a command found later cannot be answered.
const responseURLLife = 30 * time.Minute

// inboxed is what the inbox keeps of a command: enough to run it and to
// answer its user. It holds what the user typed and the response_url (a
// capability), so it is never logged.
type inboxed struct {
	// RequestID is the engine's request id, chosen at acceptance, so
	// the audit entries of a run and of its interruption match.
	RequestID string               `json:"request_id"`
	Command   slackgo.SlashCommand `json:"command"`
}

type cmdJob struct {
	key string
	cmd inboxed
}

func newInstanceID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Instance is this adapter's id in the inbox.
func (a *Adapter) Instance() string { return a.cfg.Instance }

func inboxKey(cmd slackgo.SlashCommand) string {
	if cmd.TriggerID == "" {
		// Slack always sends one; without it, nothing tells a retry from
		// a new command, so each delivery is its own.
		return "slack:cmd:" + cmd.TeamID + ":none:" + newInstanceID()
	}
	return "slack:cmd:" + cmd.TeamID + ":" + cmd.TriggerID
}

const (
	busyText    = ":hourglass: The bot is busy right now; nothing was run. Try again in a minute."
	noStoreText = ":warning: The bot could not take this command (its database did not answer); nothing was run. Try again in a minute."
)

// AcceptCommand takes a verified slash command and returns what to
// answer Slack at once (nil for an empty 200). The command is in the
// inbox, committed, before that answer: a process killed after it loses
// nothing, since another takes the command over. Its key (team and
// trigger id) makes a retry that reaches any replica a duplicate, which
// runs nothing.
//
// A full queue answers "busy": the command is stored as already done, so
// a retry of it is a duplicate too, and nothing of it runs anywhere.
func (a *Adapter) AcceptCommand(ctx context.Context, cmd slackgo.SlashCommand) any {
	if st, ok := wantsBuilder(cmd); ok {
		// Opening a form runs nothing, and its trigger lasts 3 s: no
		// replica could open it after a restart, so it is not stored.
		return a.acceptBuilder(cmd, st)
	}
	cmd.Token = "" // the legacy verification token is not ours to keep
	room := false
	select {
	case a.room <- struct{}{}:
		room = true
	default:
	}
	release := func() {
		if room {
			<-a.room
		}
	}
	now := a.cfg.Now()
	job := cmdJob{key: inboxKey(cmd), cmd: inboxed{RequestID: engine.NewRequestID(), Command: cmd}}
	it := store.InboxItem{Key: job.key, State: store.InboxReceived, Owner: a.cfg.Instance, LeaseUntil: now.Add(a.cfg.InboxLease),
		ReceivedAt: now, UpdatedAt: now}
	if room {
		b, _ := json.Marshal(job.cmd)
		it.Payload = string(b)
	} else {
		it.State = store.InboxDone
	}
	// Once handed to the store the row is written whatever the caller
	// does; the answer must say what happened to it.
	added, err := a.inbox.InboxAdd(context.WithoutCancel(ctx), it)
	switch {
	case err != nil:
		release()
		a.count("command", "store_error")
		a.log.Error("could not store a slash command; answered that nothing was run", "error", err)
		return &slackgo.Msg{ResponseType: slackgo.ResponseTypeEphemeral, Text: noStoreText}
	case !added:
		release()
		a.count("command", "duplicate")
		return nil
	case !room:
		a.count("command", "busy")
		return &slackgo.Msg{ResponseType: slackgo.ResponseTypeEphemeral, Text: busyText}
	}
	a.cmds <- job // never blocks: room was taken
	a.count("command", "accepted")
	return nil
}

// runInboxed runs a command this process holds in the inbox: it marks it
// started first (from then on it is never run again, whatever happens to
// this process), runs it, and marks it done, forgetting its text.
func (a *Adapter) runInboxed(ctx context.Context, j cmdJob) {
	started, err := a.inbox.InboxMove(ctx, j.key, a.cfg.Instance, store.InboxReceived, store.InboxStarted, a.cfg.Now(), false)
	if err != nil {
		// Running it unmarked could run it twice (another process would
		// take it over as never started); not running it is safe.
		a.count("command", "store_error")
		a.log.Error("could not mark a slash command started; it was not run", "request_id", j.cmd.RequestID, "error", err)
		// Settle it as done if the store answers again, so that no
		// process takes it over later and runs what its user was told
		// did not run.
		a.finish(j.key, store.InboxReceived, j.cmd.RequestID)
		c := j.cmd.Command
		a.ephemeralTo(ctx, c.ChannelID, c.UserID, c.ResponseURL, Render(engine.Reply{Status: engine.StatusFailed,
			Error: "the bot could not record that it was starting " + a.engine.Redactor().String(commandLine(c)) + " (its database did not answer), so it did not run it; try again"}).Messages)
		return
	}
	if !started {
		// This process stalled past its lease and another took the
		// command over; it is theirs.
		a.count("command", "taken_over")
		a.log.Warn("a slash command was taken over by another process; not running it here", "request_id", j.cmd.RequestID)
		return
	}
	a.runCommand(ctx, j.cmd.RequestID, j.cmd.Command, nil)
	a.finish(j.key, store.InboxStarted, j.cmd.RequestID)
}

// finish marks a command done, and forgets its text and response_url.
func (a *Adapter) finish(key string, from store.InboxState, requestID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := a.inbox.InboxMove(ctx, key, a.cfg.Instance, from, store.InboxDone, a.cfg.Now(), true)
	if err != nil {
		a.log.Error("could not mark a slash command done; its text goes with the inbox's purge", "request_id", requestID, "error", err)
	} else if !ok {
		a.log.Warn("a slash command answered here had been settled by another process meanwhile (this one stalled past its lease)", "request_id", requestID)
	}
}

// heartbeat renews this process's lease on its commands until ctx ends.
// It runs apart from the sweep: a long sweep (many commands of a dead
// process to report) must not let this process's own lease lapse, or
// another would take its commands over while it runs them.
func (a *Adapter) heartbeat(ctx context.Context) {
	renew := time.NewTicker(a.cfg.InboxLease / 3)
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
			a.RenewInbox(ctx)
		}
	}
}

// tendInbox takes over the commands of processes whose lease lapsed, and
// purges old rows, until ctx ends.
func (a *Adapter) tendInbox(ctx context.Context) {
	sweep := time.NewTicker(a.cfg.InboxSweep)
	defer sweep.Stop()
	purge := time.NewTicker(time.Minute)
	defer purge.Stop()
	a.SweepInbox(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			a.SweepInbox(ctx)
		case <-purge.C:
			a.PurgeInbox(ctx)
		}
	}
}

// RenewInbox extends this process's lease on the commands it holds.
func (a *Adapter) RenewInbox(ctx context.Context) {
	if err := a.inbox.InboxRenew(ctx, a.cfg.Instance, a.cfg.Now().Add(a.cfg.InboxLease)); err != nil {
		a.log.Error("could not renew the lease on this process's slash commands", "error", err)
	}
}

// PurgeInbox forgets answered commands older than the dedup window.
func (a *Adapter) PurgeInbox(ctx context.Context) {
	if _, err := a.inbox.InboxPurge(ctx, a.cfg.Now().Add(-a.cfg.DedupTTL)); err != nil {
		a.log.Error("could not purge the inbox", "error", err)
	}
}

// SweepInbox settles the commands of processes whose lease lapsed (they
// were killed, or stalled): one never started is run here, as if it had
// come here; one started is never run again: its user is told its
// outcome is unknown, and the audit log records it. One too old to
// answer (its response_url lapsed) is logged and audited only.
func (a *Adapter) SweepInbox(ctx context.Context) {
	now := a.cfg.Now()
	lapsed, err := a.inbox.InboxLapsed(ctx, now, 256)
	if err != nil {
		a.log.Error("inbox sweep failed", "error", err)
		return
	}
	for _, it := range lapsed {
		if it.Owner == a.cfg.Instance {
			// Ours: queued or running here (the heartbeat lagged).
			continue
		}
		var c inboxed
		_ = json.Unmarshal([]byte(it.Payload), &c)
		answerable := it.Payload != "" && now.Sub(it.ReceivedAt) < responseURLLife
		switch {
		case it.State == store.InboxReceived && answerable:
			// A place in the queue first: a command taken over must run.
			select {
			case a.room <- struct{}{}:
			default:
				return // busy: the next sweep, or another replica
			}
			ok, err := a.inbox.InboxTakeOver(ctx, it, a.cfg.Instance, store.InboxReceived, now, now.Add(a.cfg.InboxLease), false)
			if err != nil || !ok {
				<-a.room
				if err != nil {
					a.log.Error("inbox take-over failed", "error", err)
				}
				continue
			}
			a.count("command", "recovered")
			a.log.Warn("a slash command acknowledged by a process that stopped before running it is run here",
				"request_id", c.RequestID, "user", c.Command.UserID, "previous_owner", it.Owner, "instance", a.cfg.Instance)
			a.cmds <- cmdJob{key: it.Key, cmd: c}
		case it.State == store.InboxReceived:
			ok, err := a.inbox.InboxTakeOver(ctx, it, a.cfg.Instance, store.InboxDropped, now, now, true)
			if err != nil || !ok {
				continue
			}
			a.count("command", "dropped")
			a.log.Error("a slash command acknowledged by a process that stopped before running it was found too late to answer; it was not run",
				"request_id", c.RequestID, "user", c.Command.UserID, "previous_owner", it.Owner, "received_at", it.ReceivedAt)
			a.engine.Interrupted(ctx, a.request(c), "not run",
				"acknowledged, but its process stopped before running it, and it was found too late to answer; it was not run")
		default: // started
			ok, err := a.inbox.InboxTakeOver(ctx, it, a.cfg.Instance, store.InboxUnknown, now, now, true)
			if err != nil || !ok {
				continue
			}
			a.count("command", "unknown")
			line := a.engine.Interrupted(ctx, a.request(c), "unknown",
				"it was running when its process stopped; its outcome is unknown; check before running it again")
			a.log.Warn("a slash command was running when its process stopped; its outcome is unknown",
				"request_id", c.RequestID, "user", c.Command.UserID, "previous_owner", it.Owner, "instance", a.cfg.Instance, "answerable", answerable)
			if answerable {
				cmd := c.Command
				a.ephemeralTo(ctx, cmd.ChannelID, cmd.UserID, cmd.ResponseURL, []Message{{
					Text: ":warning: The bot restarted while running `" + line + "`; its outcome is unknown — check before running it again.",
				}})
			}
		}
	}
}

// request is the engine's view of an inboxed command.
func (a *Adapter) request(c inboxed) engine.Request {
	return engine.Request{ID: c.RequestID, User: c.Command.UserID, Channel: c.Command.ChannelID, Text: commandLine(c.Command)}
}
