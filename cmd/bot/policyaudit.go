package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/engine"
)

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := &exitError{code: exitInvalid, msg: `usage:
  bot policy check FILE
  bot policy explain [--config F] [--policy FILE] --as USER [--channel C] "/cmd ..."
  bot policy test [--config F] FILE CASES.yaml`}
	if len(args) == 0 {
		return usage
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			return usage
		}
		p, err := authz.LoadFile(args[1])
		if err != nil {
			fmt.Fprintln(stdout, err)
			return &exitError{code: exitFailed}
		}
		fmt.Fprintf(stdout, "%s: ok (%d users; sha256 %s)\n", args[1], len(p.Users), p.Hash[:12])
		return nil
	case "explain":
		return policyExplain(ctx, args[1:], stdout, stderr)
	case "test":
		return policyTest(ctx, args[1:], stdout, stderr)
	}
	return usage
}

// resolveInvocation parses a command line against the plugins' catalogs.
func resolveInvocation(m *Main, line string) (*command.Invocation, error) {
	name, rest, err := command.SplitProvider(line)
	if err != nil {
		return nil, err
	}
	reg := hostRegistry{m.Host}
	p, ok := reg.Provider(name)
	if !ok {
		return nil, fmt.Errorf("there is no /%s command (plugins: %s)", name, strings.Join(reg.ProviderNames(), ", "))
	}
	parsed, err := command.Parse(p, rest)
	if err != nil {
		return nil, err
	}
	if parsed.Invocation == nil {
		return nil, errors.New("give a whole command, not a help request")
	}
	return parsed.Invocation, nil
}

func openForPolicy(ctx context.Context, m *Main, policyPath string) (*authz.Policy, error) {
	if err := m.Open(ctx); err != nil {
		return nil, err
	}
	if policyPath != "" {
		return authz.LoadFile(policyPath)
	}
	if m.Policy == nil {
		return nil, errors.New("no policy: give --policy FILE or a configuration with one")
	}
	return m.Policy.Policy(), nil
}

func policyExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := &Main{Stderr: stderr, LogLevel: "warn"}
	commonFlags(fs, m)
	policyPath := fs.String("policy", "", "the policy file (default: the configuration's)")
	as := fs.String("as", "", "the user asking: a name from the policy or a user id")
	channel := fs.String("channel", "", "the channel asked in")
	if err := fs.Parse(args); err != nil || *as == "" || fs.NArg() != 1 {
		return &exitError{code: exitInvalid, msg: `usage: bot policy explain [--policy FILE] --as USER [--channel C] "/cmd ..."`}
	}
	p, err := openForPolicy(ctx, m, *policyPath)
	if err != nil {
		return err
	}
	defer m.Close()
	user, ok := p.UserID(*as)
	if !ok {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("unknown user %q (known: %s)", *as, strings.Join(p.UserNames(), ", "))}
	}
	inv, err := resolveInvocation(m, fs.Arg(0))
	if err != nil {
		return &exitError{code: exitInvalid, msg: err.Error()}
	}
	ex := p.Explain(authz.Subject{User: user}, authz.Action{Provider: inv.Provider, Command: inv.Command.Name, Args: inv.Args, Target: inv.Target, Channel: *channel, Risk: inv.Command.Risk})
	fmt.Fprintf(stdout, "command:  /%s %s (risk %s, target %s)\n", inv.Provider, inv.Command.Name, inv.Command.Risk, inv.Target)
	fmt.Fprint(stdout, ex.String())
	return nil
}

// policyCase is one row of a policy test table.
type policyCase struct {
	Name      string `yaml:"name"`
	As        string `yaml:"as"`
	Command   string `yaml:"command"`
	Channel   string `yaml:"channel"`
	Expect    string `yaml:"expect"`
	Approvers *int   `yaml:"approvers"`
}

func policyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := &Main{Stderr: stderr, LogLevel: "warn"}
	commonFlags(fs, m)
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		return &exitError{code: exitInvalid, msg: "usage: bot policy test [--config F] POLICY.yaml CASES.yaml"}
	}
	raw, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return err
	}
	var doc struct {
		Cases []policyCase `yaml:"cases"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("%s: %v", fs.Arg(1), err)}
	}
	if len(doc.Cases) == 0 {
		return &exitError{code: exitInvalid, msg: fs.Arg(1) + ": no cases"}
	}
	p, err := openForPolicy(ctx, m, fs.Arg(0))
	if err != nil {
		return err
	}
	defer m.Close()
	failed := 0
	for i, c := range doc.Cases {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("case %d", i+1)
		}
		fail := func(format string, a ...any) {
			failed++
			fmt.Fprintf(stdout, "FAIL %s: %s\n", name, fmt.Sprintf(format, a...))
		}
		want := strings.ToLower(c.Expect)
		if want != "allow" && want != "deny" && want != "needs-approval" {
			fail("expect must be allow, deny or needs-approval, not %q", c.Expect)
			continue
		}
		user, ok := p.UserID(c.As)
		if !ok {
			fail("unknown user %q", c.As)
			continue
		}
		inv, err := resolveInvocation(m, c.Command)
		if err != nil {
			fail("%v", err)
			continue
		}
		d := p.Authorize(authz.Subject{User: user}, authz.Action{Provider: inv.Provider, Command: inv.Command.Name, Args: inv.Args, Target: inv.Target, Channel: c.Channel, Risk: inv.Command.Risk})
		if d.Effect.String() != want {
			fail("got %s (%s%s), want %s", d.Effect, d.Rule, reasonOf(d), want)
			continue
		}
		if c.Approvers != nil && (d.Requirement == nil && *c.Approvers != 0 || d.Requirement != nil && d.Requirement.Approvers != *c.Approvers) {
			got := 0
			if d.Requirement != nil {
				got = d.Requirement.Approvers
			}
			fail("needs %d approver(s), want %d", got, *c.Approvers)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s\n", name)
	}
	fmt.Fprintf(stdout, "%d of %d cases passed\n", len(doc.Cases)-failed, len(doc.Cases))
	if failed > 0 {
		return &exitError{code: exitFailed}
	}
	return nil
}

func reasonOf(d authz.Decision) string {
	if d.Reason == "" {
		return ""
	}
	return ": " + d.Reason
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := &exitError{code: exitInvalid, msg: `usage:
  bot audit verify [--config F]
  bot audit export [--config F] [--since 7d|DATE] [--until DATE] [--user ID] [--command whm:account] [--format jsonl|csv]`}
	if len(args) == 0 {
		return usage
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := &Main{Stderr: stderr, LogLevel: "warn", NoPlugins: true}
	commonFlags(fs, m)
	since := fs.String("since", "", "from this long ago (24h, 7d) or this date")
	until := fs.String("until", "", "up to this date")
	user := fs.String("user", "", "only this user's entries (id or policy name)")
	cmd := fs.String("command", "", "only this provider or provider:command prefix")
	format := fs.String("format", "jsonl", "jsonl or csv")
	if err := fs.Parse(args[1:]); err != nil {
		return usage
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	switch args[0] {
	case "verify":
		res, err := m.Audit.Verify(ctx)
		if err != nil {
			return err
		}
		if !res.OK() {
			fmt.Fprintf(stdout, "TAMPERED: %s\n", res.Problem)
			fmt.Fprintf(stdout, "first bad entry: %d (checked %d entries)\n", res.FirstBad, res.Entries)
			return &exitError{code: exitFailed}
		}
		fmt.Fprintf(stdout, "ok: %d entries, chain intact; head %s\n", res.Entries, res.Head)
		return nil
	case "export":
		f := audit.Filter{Command: *cmd}
		now := time.Now()
		var err error
		if *since != "" {
			if f.Since, err = engine.ParseSince(*since, now); err != nil {
				return &exitError{code: exitInvalid, msg: err.Error()}
			}
		}
		if *until != "" {
			if f.Until, err = engine.ParseSince(*until, now); err != nil {
				return &exitError{code: exitInvalid, msg: err.Error()}
			}
		}
		if *user != "" {
			if f.Actor, err = m.ResolveUser(*user); err != nil {
				return &exitError{code: exitInvalid, msg: err.Error()}
			}
		}
		n, err := m.Audit.Export(ctx, f, *format, stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d entries\n", n)
		return nil
	}
	return usage
}
