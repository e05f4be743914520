package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/deskbot/deskbot/internal/chat/console"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/sdk"
)

// Exit statuses of bot exec.
const (
	exitOK          = 0
	exitFailed      = 1
	exitInvalid     = 2
	exitDenied      = 3
	exitPending     = 4
	exitUnavailable = 5
)

func commonFlags(fs *flag.FlagSet, m *Main) {
	fs.StringVar(&m.ConfigPath, "config", "", "configuration file (development defaults if empty)")
	fs.StringVar(&m.LogLevel, "log-level", m.LogLevel, "log level: debug, info, warn, error")
}

func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := &Main{Stderr: stderr}
	commonFlags(fs, m)
	as := fs.String("as", "", "act as this user (a name from the policy, or a user id)")
	if err := fs.Parse(args); err != nil {
		return &exitError{code: exitInvalid}
	}
	if m.LogLevel == "" {
		m.LogLevel = "warn"
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	m.Background(ctx)
	var plugins engine.Registry = engine.StaticRegistry{}
	if m.Host != nil {
		plugins = hostRegistry{m.Host}
	}
	c := &console.Console{Engine: m.Engine, In: stdin, Out: stdout, Interrupts: console.InterruptChannel(),
		// Tab offers what the policy lets the current user run.
		Completer:   m.Engine,
		HistoryFile: filepath.Join(m.Config.DataDir, "console_history"),
		Secret:      console.SecretLines{Providers: plugins, Redactor: m.Engine.Redactor()}.Holds,
	}
	if m.Policy != nil {
		c.Users = directory{m.Policy}
	}
	if s := outsideSlack(m); s != nil {
		m.Engine.SetNotifier(notifiers{c, s})
	} else {
		m.Engine.SetNotifier(c)
	}
	name := *as
	if name == "" {
		name = "console"
		if m.Policy != nil {
			if names := m.Policy.Policy().UserNames(); len(names) > 0 {
				name = names[0]
			}
		}
	}
	id, err := m.ResolveUser(name)
	if err != nil {
		return &exitError{code: exitInvalid, msg: err.Error()}
	}
	c.User, c.Name = id, name
	return c.Run(ctx)
}

// execOutput is bot exec's --json document.
type execOutput struct {
	RequestID string               `json:"request_id"`
	Status    string               `json:"status"`
	Command   string               `json:"command,omitempty"`
	Target    string               `json:"target,omitempty"`
	Error     string               `json:"error,omitempty"`
	Code      string               `json:"code,omitempty"`
	Progress  []sdk.Progress       `json:"progress,omitempty"`
	Result    *sdk.Result          `json:"result,omitempty"`
	Plan      *sdk.Plan            `json:"plan,omitempty"`
	Approval  *engine.ApprovalView `json:"approval,omitempty"`
	Ticket    string               `json:"ticket,omitempty"`
	TicketURL string               `json:"ticket_url,omitempty"`
	// DryRun marks a plan shown on request (--plan): nothing ran.
	DryRun bool `json:"dry_run,omitempty"`
}

func runExec(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := &Main{Stderr: stderr}
	commonFlags(fs, m)
	as := fs.String("as", "", "run as this user (required): a name from the policy, or a user id")
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	timeout := fs.Duration("timeout", 0, "give up after this long (default: the engine's)")
	channel := fs.String("channel", "cli", "the channel the command is said to come from")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: bot exec --as USER [--json] [--timeout D] "/provider command ..."

exit status: 0 done, 1 failed, 2 invalid, 3 denied, 4 waiting for approval, 5 unavailable or timed out,
78 configuration error (the bot could not start)`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return &exitError{code: exitInvalid}
	}
	if *as == "" || fs.NArg() != 1 {
		fs.Usage()
		return &exitError{code: exitInvalid}
	}
	if m.LogLevel == "" {
		m.LogLevel = "warn"
	}
	// Ctrl-C cancels the command, which cancels the provider call.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	if s := outsideSlack(m); s != nil {
		m.Engine.SetNotifier(s)
	}

	out := execOutput{}
	progress := func(p sdk.Progress) {
		if *asJSON {
			out.Progress = append(out.Progress, p)
			return
		}
		console.RenderProgress(stdout, p)
	}
	user, err := m.ResolveUser(*as)
	if err != nil {
		return &exitError{code: exitInvalid, msg: err.Error()}
	}
	r := m.Engine.Handle(ctx, engine.Request{User: user, Channel: *channel, Text: fs.Arg(0), SensitiveTextOK: true, Timeout: *timeout}, progress)
	if *asJSON {
		out.RequestID, out.Status, out.Command, out.Target = r.RequestID, r.Status.String(), r.Command, r.Target
		out.Error, out.Code, out.Result, out.Plan, out.Approval = r.Error, string(r.Code), r.Result, r.Plan, r.Approval
		out.Ticket, out.TicketURL, out.DryRun = r.Ticket, r.TicketURL, r.DryRun
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		console.Render(stdout, r)
	}
	switch r.Status {
	case engine.StatusOK:
		return nil
	case engine.StatusInvalid:
		return &exitError{code: exitInvalid}
	case engine.StatusDenied:
		return &exitError{code: exitDenied}
	case engine.StatusPending:
		return &exitError{code: exitPending}
	}
	switch r.Code {
	case "unavailable", "timeout", "canceled":
		return &exitError{code: exitUnavailable}
	}
	return &exitError{code: exitFailed}
}

func runPlugin(args []string, stdout io.Writer) error {
	const usage = "usage: bot plugin sum PATH... | bot plugin sum --update CONFIG | bot plugin sum --sums FILE NAME... | bot plugin new NAME"
	if len(args) > 0 && args[0] == "new" {
		return runPluginNew(args[1:], stdout)
	}
	if len(args) < 2 || args[0] != "sum" {
		return &exitError{code: exitInvalid, msg: usage}
	}
	if args[1] == "--update" || args[1] == "-update" {
		if len(args) != 3 {
			return &exitError{code: exitInvalid, msg: usage}
		}
		return updatePins(args[2], stdout)
	}
	if args[1] == "--sums" || args[1] == "-sums" {
		if len(args) < 4 {
			return &exitError{code: exitInvalid, msg: usage}
		}
		return updateSumsFile(args[2], args[3:], stdout)
	}
	for _, p := range args[1:] {
		sum, err := pluginhost.FileSHA256(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %s\n", sum, p)
	}
	return nil
}
