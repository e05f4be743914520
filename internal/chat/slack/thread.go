package slack

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

// Reactions marking a request's root message.
const (
	reactSeen   = "eyes"
	reactDone   = "white_check_mark"
	reactFailed = "x"
)

// conversation is one request's place in a channel: a root message that
// says who asked for what, a status message in its thread that progress
// edits (no more than once per ProgressEvery), and the result below it.
// The root is posted only when there is something to show in the channel.
type conversation struct {
	a           *Adapter
	channel     string
	user        string
	responseURL string
	line        string

	mu       sync.Mutex
	rootTS   string
	statusTS string
	lastEdit time.Time
	queued   *sdk.Progress
	timer    *time.Timer
	begun    time.Time
}

func (a *Adapter) conversation(channel, user, responseURL, line string) *conversation {
	return &conversation{a: a, channel: channel, user: user, responseURL: responseURL, line: line}
}

func (c *conversation) root() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rootTS
}

func (c *conversation) started() bool { return c.root() != "" }

// adopt makes an existing message the root (an approval card).
func (c *conversation) adopt(ts string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rootTS = ts
}

// ensureRoot posts the root message if there is none yet, marked as
// seen: the work goes on.
func (c *conversation) ensureRoot(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ensureRootLocked(ctx)
}

func (c *conversation) ensureRootLocked(ctx context.Context) error {
	return c.postRootLocked(ctx, true)
}

// postRootLocked posts the root message; seen adds the 👀 reaction, which
// a root posted together with the result does without.
func (c *conversation) postRootLocked(ctx context.Context, seen bool) error {
	if c.rootTS != "" {
		return nil
	}
	text := fmt.Sprintf("<@%s> ran `%s`", c.user, truncate(escape(c.line), 2500))
	_, ts, err := c.a.api.PostMessageContext(ctx, c.channel, slackgo.MsgOptionText(text, false),
		slackgo.MsgOptionBlocks(slackgo.NewSectionBlock(mrkdwn(text), nil, nil)))
	c.a.apiCall("chat.postMessage", err)
	if err != nil {
		return err
	}
	c.rootTS, c.begun = ts, time.Now()
	if seen {
		err = c.a.api.AddReactionContext(ctx, reactSeen, slackgo.NewRefToMessage(c.channel, ts))
		c.a.apiCall("reactions.add", err)
	}
	return nil
}

func statusText(p sdk.Progress) string {
	var parts []string
	state, msg := p.Shown()
	if state != "" {
		parts = append(parts, "*"+escape(state)+"*")
	}
	if p.Percent >= 0 {
		parts = append(parts, bar(p.Percent)+fmt.Sprintf(" %d%%", p.Percent))
	}
	if msg != "" {
		parts = append(parts, escape(msg))
	}
	return ":gear: " + strings.Join(parts, "  ")
}

func bar(pct int) string {
	n := min(max(pct, 0), 100) / 10
	return strings.Repeat("▰", n) + strings.Repeat("▱", 10-n)
}

// progress shows a progress event, editing one status message at most
// once per interval; the latest event in an interval wins.
func (c *conversation) progress(p sdk.Progress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := c.a.ctxOr()
	if err := c.ensureRootLocked(ctx); err != nil {
		c.a.log.Warn("could not post the request message", "error", err)
		return
	}
	if c.statusTS == "" {
		text := statusText(p)
		_, ts, err := c.a.api.PostMessageContext(ctx, c.channel, slackgo.MsgOptionTS(c.rootTS), slackgo.MsgOptionText(text, false))
		c.a.apiCall("chat.postMessage", err)
		if err == nil {
			c.statusTS, c.lastEdit = ts, time.Now()
		}
		return
	}
	c.queued = &p
	wait := c.a.cfg.ProgressEvery - time.Since(c.lastEdit)
	if wait <= 0 {
		c.flushLocked(ctx)
		return
	}
	if c.timer == nil {
		c.timer = time.AfterFunc(wait, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.timer = nil
			c.flushLocked(c.a.ctxOr())
		})
	}
}

func (c *conversation) flushLocked(ctx context.Context) {
	if c.queued == nil || c.statusTS == "" {
		return
	}
	text := statusText(*c.queued)
	c.queued = nil
	_, _, _, err := c.a.api.UpdateMessageContext(ctx, c.channel, c.statusTS, slackgo.MsgOptionText(text, false))
	c.a.apiCall("chat.update", err)
	c.lastEdit = time.Now()
}

// finishStatus replaces the status message with the outcome.
func (c *conversation) finishStatus(ctx context.Context, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.queued = nil
	if c.statusTS != "" {
		text := fmt.Sprintf(":white_check_mark: done in %s", time.Since(c.begun).Round(100*time.Millisecond))
		if !ok {
			text = fmt.Sprintf(":x: failed after %s", time.Since(c.begun).Round(100*time.Millisecond))
		}
		_, _, _, err := c.a.api.UpdateMessageContext(ctx, c.channel, c.statusTS, slackgo.MsgOptionText(text, false))
		c.a.apiCall("chat.update", err)
	}
	if c.rootTS != "" {
		react := reactDone
		if !ok {
			react = reactFailed
		}
		err := c.a.api.AddReactionContext(ctx, react, slackgo.NewRefToMessage(c.channel, c.rootTS))
		c.a.apiCall("reactions.add", err)
	}
}

// post sends messages into the thread; prefix goes before the first one's
// fallback text (a mention, so the requester is notified). It returns the
// first message's timestamp ("" if it could not be posted).
func (c *conversation) post(ctx context.Context, msgs []Message, prefix string) (first string) {
	root := c.root()
	for i, m := range msgs {
		text := m.Text
		if i == 0 {
			text = prefix + text
		}
		opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(m.Blocks...)}
		if root != "" {
			opts = append(opts, slackgo.MsgOptionTS(root))
		}
		_, ts, err := c.a.api.PostMessageContext(ctx, c.channel, opts...)
		c.a.apiCall("chat.postMessage", err)
		if err != nil {
			c.a.log.Warn("could not post a result", "channel", c.channel, "error", err)
			return first
		}
		if i == 0 {
			first = ts
		}
	}
	return first
}

func (c *conversation) upload(ctx context.Context, files []File) {
	root := c.root()
	for _, f := range files {
		_, err := c.a.api.UploadFileContext(ctx, slackgo.UploadFileParameters{
			Reader: bytes.NewReader(f.Content), FileSize: len(f.Content), Filename: f.Name, Title: f.Title,
			Channel: c.channel, ThreadTimestamp: root,
		})
		c.a.apiCall("files.upload", err)
		if err != nil {
			c.a.log.Warn("could not attach a file", "file", f.Name, "error", err)
		}
	}
}

// result posts a command's outcome in the thread.
func (c *conversation) result(ctx context.Context, r engine.Reply) {
	c.mu.Lock()
	err := c.postRootLocked(ctx, false)
	c.mu.Unlock()
	if err != nil {
		c.a.log.Warn("could not post the request message", "error", err)
		c.ephemeral(ctx, r)
		return
	}
	rendered := Render(r)
	c.post(ctx, rendered.Messages, "")
	c.upload(ctx, rendered.Files)
	c.finishStatus(ctx, r.Status == engine.StatusOK)
}

// ephemeral shows a reply to the requester only. Attachments of a
// sensitive reply are not uploaded: files would be visible to the channel.
func (c *conversation) ephemeral(ctx context.Context, r engine.Reply) {
	rendered := Render(r)
	c.a.ephemeralTo(ctx, c.channel, c.user, c.responseURL, rendered.Messages)
	if c.started() {
		c.finishStatus(ctx, r.Status == engine.StatusOK)
		if r.Sensitive {
			c.post(ctx, []Message{{Text: "The result was sent privately to the requester.", Blocks: []slackgo.Block{
				slackgo.NewContextBlock("", mrkdwn(":lock: The result was sent privately to <@"+c.user+">.")),
			}}}, "")
		}
	}
}
