// Package console is the local chat adapter: a read-eval-print loop in the
// terminal that runs the same pipeline as Slack, for development, demos
// and operators on the bot's own machine.
package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"unicode"

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
	// Completer, if set, completes the line on Tab at a terminal.
	Completer Completer
	// HistoryFile, if set, keeps the lines typed at a terminal across
	// runs (mode 0600, at most HistoryLimit lines, DefaultHistoryLimit
	// when zero). Lines read from a pipe are never kept.
	HistoryFile  string
	HistoryLimit int
	// Secret reports lines holding a secret, which the history never
	// keeps, not even for Up in the same session. See [SecretLines].
	Secret func(line string) bool
	mu     sync.Mutex
}

// leaveHint is what Ctrl-C at the prompt says.
const leaveHint = "(press Ctrl-C again, Ctrl-D or type :quit to leave)"

// Run reads commands until EOF or ":quit". At a terminal the line can be
// edited, Up recalls earlier lines (this run's and, with HistoryFile,
// earlier runs'), Tab completes, Ctrl-C clears the line and a second
// Ctrl-C in a row leaves; from a pipe lines are read as they come.
func (c *Console) Run(ctx context.Context) error {
	if c.Channel == "" {
		c.Channel = "console"
	}
	var r lineReader
	var hist *history
	if isTerminal(c.In, c.Out) {
		tr := newTerminalReader(c.wordCompleter(ctx))
		r = tr
		if c.HistoryFile != "" {
			h, err := openHistory(c.HistoryFile, c.HistoryLimit)
			if err != nil {
				fmt.Fprintf(c.Out, "warning: %v\n", err)
			}
			hist = h
			for _, l := range h.lines {
				tr.Remember(l)
			}
		}
	} else {
		r = newPlainReader(c.In, c.Out)
	}
	defer r.Close()
	fmt.Fprintf(c.Out, "deskbot console. Type /<provider> help, /ops help, :as NAME to switch user, :quit to leave.\n")
	if _, ok := r.(*terminalReader); ok {
		fmt.Fprintf(c.Out, "Tab completes commands, parameters and values; Up recalls earlier lines.\n")
	}
	if c.Users != nil && len(c.Users.Names()) > 0 {
		fmt.Fprintf(c.Out, "Users: %s\n", strings.Join(c.Users.Names(), ", "))
	}
	interrupted := false
	for {
		line, err := r.ReadLine(c.Name + "> ")
		if errors.Is(err, errInterrupt) {
			// The line editor has cleared the line and printed ^C.
			if interrupted {
				return nil
			}
			interrupted = true
			fmt.Fprintln(c.Out, leaveHint)
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		interrupted = false
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		c.remember(r, hist, line)
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

// remember keeps line for Up and in the history file, unless it holds a
// secret.
func (c *Console) remember(r lineReader, hist *history, line string) {
	if c.Secret != nil && c.Secret(line) {
		return
	}
	if strings.ContainsFunc(line, unicode.IsControl) {
		// Escape sequences typed where no line editor reads them (^[[A
		// for Up): not a line anyone means to recall.
		return
	}
	if hist == nil {
		r.Remember(line)
		return
	}
	kept, err := hist.add(line)
	if kept {
		r.Remember(line)
	}
	if err != nil {
		fmt.Fprintf(c.Out, "warning: %v\n", err)
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
		// A Ctrl-C that came while no command ran (at a prompt read
		// from a pipe) must not cancel this one.
		for drained := false; !drained; {
			select {
			case <-c.Interrupts:
			default:
				drained = true
			}
		}
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
