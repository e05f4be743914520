// Package console is the local chat adapter: a read-eval-print loop in the
// terminal that runs the same pipeline as Slack, for development, demos
// and operators on the bot's own machine.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

// Directory maps the names people type (":as alice") to user ids.
type Directory interface {
	// Lookup returns the user id for a name or id.
	Lookup(name string) (id string, ok bool)
	// Names lists the known names.
	Names() []string
}

// Console is a REPL over an engine.
type Console struct {
	Engine *engine.Engine
	In     io.Reader
	Out    io.Writer
	// User is the current user id; Name is what the prompt shows.
	User, Name string
	Channel    string
	Users      Directory
	// Interrupts, if set, delivers Ctrl-C: it cancels the running command.
	Interrupts <-chan os.Signal
	mu         sync.Mutex
}

// Run reads commands until EOF or ":quit".
func (c *Console) Run(ctx context.Context) error {
	if c.Channel == "" {
		c.Channel = "console"
	}
	fmt.Fprintf(c.Out, "deskbot console. Type /<provider> help, /ops help, :as NAME to switch user, :quit to leave.\n")
	if c.Users != nil && len(c.Users.Names()) > 0 {
		fmt.Fprintf(c.Out, "Users: %s\n", strings.Join(c.Users.Names(), ", "))
	}
	sc := bufio.NewScanner(c.In)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		fmt.Fprintf(c.Out, "%s> ", c.Name)
		if !sc.Scan() {
			fmt.Fprintln(c.Out)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, ":") {
			if quit := c.meta(line); quit {
				return nil
			}
			continue
		}
		c.Exec(ctx, line)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (c *Console) meta(line string) (quit bool) {
	f := strings.Fields(line)
	switch f[0] {
	case ":quit", ":q", ":exit":
		return true
	case ":as":
		if len(f) != 2 {
			fmt.Fprintln(c.Out, "usage: :as NAME")
			return false
		}
		if c.Users == nil {
			c.User, c.Name = f[1], f[1]
		} else if id, ok := c.Users.Lookup(f[1]); ok {
			c.User, c.Name = id, f[1]
		} else {
			names := c.Users.Names()
			sort.Strings(names)
			fmt.Fprintf(c.Out, "unknown user %q (known: %s)\n", f[1], strings.Join(names, ", "))
			return false
		}
		fmt.Fprintf(c.Out, "now acting as %s (%s)\n", c.Name, c.User)
	case ":channel":
		if len(f) == 2 {
			c.Channel = f[1]
		}
		fmt.Fprintf(c.Out, "channel %s\n", c.Channel)
	case ":help":
		fmt.Fprintln(c.Out, ":as NAME  act as another user\n:channel NAME  speak in another channel\n:quit  leave")
	default:
		fmt.Fprintf(c.Out, "unknown console command %s (try :help)\n", f[0])
	}
	return false
}

// Exec runs one line and prints the outcome. Ctrl-C cancels it.
func (c *Console) Exec(ctx context.Context, line string) engine.Reply {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.Interrupts != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-c.Interrupts:
				fmt.Fprintln(c.Out, "  ... cancelling")
				cancel()
			case <-done:
			}
		}()
	}
	r := c.Engine.Handle(ctx, engine.Request{User: c.User, Channel: c.Channel, Text: line, SensitiveTextOK: true}, func(p sdk.Progress) {
		c.mu.Lock()
		defer c.mu.Unlock()
		RenderProgress(c.Out, p)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	Render(c.Out, r)
	return r
}

var _ engine.Notifier = (*Console)(nil)

// ApprovalChanged prints what approvers would see in the channel.
func (c *Console) ApprovalChanged(_ context.Context, v engine.ApprovalView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.Out, "  [approvals] %s %s: %s\n", v.ID, v.Command, v.StateText())
}

// Notify prints a message meant for another user (the outcome of their
// request that someone else approved).
func (c *Console) Notify(_ context.Context, to string, r engine.Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := to
	if c.Users != nil {
		for _, n := range c.Users.Names() {
			if id, _ := c.Users.Lookup(n); id == to {
				name = n
			}
		}
	}
	fmt.Fprintf(c.Out, "  [to %s]\n", name)
	Render(c.Out, r)
}

// InterruptChannel returns a channel of SIGINTs for Console.Interrupts.
func InterruptChannel() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	return ch
}
