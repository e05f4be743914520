package sdk

import (
	"context"
	"sync"
	"time"
)

// queueCtx is a command's context while the bot counts its deadline only
// outside queue waits: its Deadline is the request's Deadline moved on by
// the time the command has reported [ProgressQueued], and never later
// than the context's own (the bot's hard cap). Code that budgets by
// ctx.Deadline (apiop's Follow, clients' timeouts) so sees the time the
// bot will really wait. Cancellation is the parent's: the bot cancels the
// call when its own clock runs out.
type queueCtx struct {
	context.Context
	mu    sync.Mutex
	due   time.Time // the deadline, as of the last report that was not queued
	since time.Time // when the current queue wait began; zero if none
}

func newQueueCtx(ctx context.Context, due time.Time) *queueCtx {
	return &queueCtx{Context: ctx, due: due}
}

func (c *queueCtx) Deadline() (time.Time, bool) {
	c.mu.Lock()
	due := c.due
	if !c.since.IsZero() {
		due = due.Add(time.Since(c.since))
	}
	c.mu.Unlock()
	if hard, ok := c.Context.Deadline(); ok && hard.Before(due) {
		due = hard
	}
	return due, true
}

// observe follows the command's progress reports.
func (c *queueCtx) observe(p Progress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	queued := p.State == ProgressQueued
	switch {
	case queued && c.since.IsZero():
		c.since = time.Now()
	case !queued && !c.since.IsZero():
		c.due = c.due.Add(time.Since(c.since))
		c.since = time.Time{}
	}
}
