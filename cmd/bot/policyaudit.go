package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
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
	if proc, isProc := p.(*pluginhost.Process); isProc && len(proc.Catalog()) == 0 {
		// A plugin that never started has no catalog to check against.
		if st, err := proc.Status(); st != pluginhost.StateReady {
			return nil, fmt.Errorf("plugin %s is %s, so its commands cannot be checked: %v", name, st, err)
		}
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

// exitCheckpoints is audit verify's status when the checkpoint file
// cannot be used (missing, empty, or lines that do not verify).
const exitCheckpoints = 3

const (
	auditVerifyUsage = "bot audit verify [--config F] [--checkpoints FILE | --no-checkpoints] [--expect-head SEQ:HASH]"
	auditExportUsage = "bot audit export [--config F] [--since 7d|DATE] [--until DATE] [--user ID] [--command whm:account] [--ticket ABC-123] [--format jsonl|csv]"
	auditKeyUsage    = "bot audit key [--config F]"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	all := "usage:\n  " + auditVerifyUsage + "\n  " + auditExportUsage + "\n  " + auditKeyUsage + "\n\nRun \"bot audit verify -h\" (export, key) for a command's flags.\n"
	if len(args) == 0 {
		return &exitError{code: exitInvalid, msg: strings.TrimSuffix(all, "\n")}
	}
	switch args[0] {
	case "verify":
		return auditVerifyCmd(ctx, args[1:], stdout, stderr)
	case "export":
		return auditExportCmd(ctx, args[1:], stdout, stderr)
	case "key":
		fs, m := auditFlags("key", stderr)
		if help, err := parseFlags(fs, args[1:], auditKeyUsage, stdout); help || err != nil {
			return err
		}
		return auditKey(m, stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, all)
		return nil
	}
	return &exitError{code: exitInvalid, msg: fmt.Sprintf("unknown audit command %q\n%s", args[0], strings.TrimSuffix(all, "\n"))}
}

// auditFlags is a flag set with the flags every audit command has; the
// audit commands only read the log (no shipping, no checkpoints).
func auditFlags(name string, stderr io.Writer) (*flag.FlagSet, *Main) {
	fs := flag.NewFlagSet("audit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := &Main{Stderr: stderr, LogLevel: "warn", NoPlugins: true, AuditReadOnly: true}
	commonFlags(fs, m)
	return fs, m
}

// parseFlags parses a command's flags, none of them positional. With -h
// it prints the command's usage to stdout and reports help; a bad flag is
// a usage error (the flag package has said which, with the usage).
func parseFlags(fs *flag.FlagSet, args []string, synopsis string, stdout io.Writer) (help bool, err error) {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: %s\n\nflags:\n", synopsis)
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	// The flag package would print the usage itself, to stderr, before
	// reporting -h: it is printed once, here, where it belongs.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return true, nil
		}
		usage(fs.Output())
		return false, &exitError{code: exitInvalid}
	}
	if fs.NArg() > 0 {
		return false, &exitError{code: exitInvalid, msg: fmt.Sprintf("unexpected argument %q\nusage: %s", fs.Arg(0), synopsis)}
	}
	return false, nil
}

func auditVerifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, m := auditFlags("verify", stderr)
	checkpoints := fs.String("checkpoints", "", "a file of signed checkpoints (JSON lines) the log must still match\n(default: the file the bot writes its checkpoints to, when there is one)")
	none := fs.Bool("no-checkpoints", false, "check the chain only, not against any checkpoint file")
	expectHead := fs.String("expect-head", "", "SEQ:HASH, a head noted earlier (as verify prints it) that the log must still have")
	if help, err := parseFlags(fs, args, auditVerifyUsage, stdout); help || err != nil {
		return err
	}
	if *none && *checkpoints != "" {
		return &exitError{code: exitInvalid, msg: "--checkpoints and --no-checkpoints exclude each other\nusage: " + auditVerifyUsage}
	}
	var anchors []audit.Anchor
	if *expectHead != "" {
		a, err := parseExpectHead(*expectHead)
		if err != nil {
			return &exitError{code: exitInvalid, msg: err.Error()}
		}
		anchors = append(anchors, a)
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	src := checkpointSource{path: *checkpoints, explicit: *checkpoints != ""}
	switch {
	case *none:
		src.why = "--no-checkpoints"
	case !src.explicit:
		src.path = m.Config.checkpointFile()
		if src.path == "" {
			src.why = "checkpoints go to syslog or a webhook only; give --checkpoints FILE with a copy of them"
		} else if _, err := os.Stat(src.path); errors.Is(err, os.ErrNotExist) {
			src.why = src.path + " does not exist yet (the bot writes it as the log grows)"
			src.path = ""
		}
	}
	return auditVerify(ctx, m, src, anchors, stdout)
}

func auditExportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, m := auditFlags("export", stderr)
	since := fs.String("since", "", "from this long ago (24h, 7d) or this date")
	until := fs.String("until", "", "up to this date")
	user := fs.String("user", "", "only this user's entries (id or policy name)")
	cmd := fs.String("command", "", "only this provider or provider:command prefix")
	ticket := fs.String("ticket", "", "only the entries of requests made for this ticket reference")
	format := fs.String("format", "jsonl", "jsonl or csv")
	if help, err := parseFlags(fs, args, auditExportUsage, stdout); help || err != nil {
		return err
	}
	if *format != "jsonl" && *format != "csv" {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("--format %q: want jsonl or csv", *format)}
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	f := audit.Filter{Command: *cmd, Ticket: *ticket}
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
	fmt.Fprintf(stderr, "%s\n", plural(n, "entry", "entries"))
	return nil
}

// plural is "1 entry", "2 entries".
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

var headHash = regexp.MustCompile(`^([0-9a-f]{64}|v2:[0-9a-f]{12}:[0-9a-f]{64})$`)

func parseExpectHead(s string) (audit.Anchor, error) {
	seqText, hash, ok := strings.Cut(s, ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq <= 0 || !headHash.MatchString(hash) {
		return audit.Anchor{}, fmt.Errorf("--expect-head %q: want SEQ:HASH, as audit verify prints the head (HASH is v2:KEYID:HEX, or 64 hex digits for an unkeyed entry)", s)
	}
	return audit.Anchor{Seq: seq, Hash: hash, Source: "the expected head (--expect-head)"}, nil
}

// checkpointSource is the checkpoint file verify uses: given, found where
// the bot writes it, or none, and why.
type checkpointSource struct {
	path     string
	explicit bool
	why      string
}

// groupBadLines joins runs of consecutive lines with the same problem:
// "lines 3–20: signed with audit key X, not with the configured one (Y)".
func groupBadLines(bad []audit.BadLine) []string {
	var out []string
	for i := 0; i < len(bad); {
		j := i
		for j+1 < len(bad) && bad[j+1].Problem == bad[i].Problem && bad[j+1].Line == bad[j].Line+1 {
			j++
		}
		if j == i {
			out = append(out, bad[i].String())
		} else {
			out = append(out, fmt.Sprintf("lines %d–%d: %s", bad[i].Line, bad[j].Line, bad[i].Problem))
		}
		i = j + 1
	}
	return out
}

// auditVerify checks the chain, and the log against the checkpoints: 0
// intact, 1 tampered, 3 the checkpoint file cannot be used.
func auditVerify(ctx context.Context, m *Main, src checkpointSource, anchors []audit.Anchor, stdout io.Writer) error {
	pubs := m.Audit.PublicKeys()
	var bad []audit.BadLine
	used := 0
	path := src.path
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return &exitError{code: exitCheckpoints, msg: fmt.Sprintf("checkpoint file: %v", err)}
		}
		good, badLines, err := audit.ReadCheckpoints(f, pubs[0], pubs[1:]...)
		f.Close()
		if err != nil {
			return &exitError{code: exitCheckpoints, msg: fmt.Sprintf("checkpoint file %s: %v", path, err)}
		}
		bad = badLines
		for _, b := range groupBadLines(bad) {
			fmt.Fprintf(stdout, "checkpoint file %s: %s\n", path, b)
		}
		switch {
		case len(good) == 0 && len(bad) == 0 && !src.explicit:
			src.why = path + " holds no checkpoint yet"
			path = ""
		case len(good) == 0:
			return &exitError{code: exitCheckpoints, msg: fmt.Sprintf("checkpoint file %s holds no checkpoint signed with the configured audit key (%s)%s", path, pubs[0].ID(), previousNote(pubs))}
		}
		for _, g := range good {
			anchors = append(anchors, g.Anchor())
		}
		used = len(good)
	}
	res, err := m.Audit.Verify(ctx, anchors...)
	if err != nil {
		return err
	}
	checked := "checkpoints not checked: " + src.why
	if path != "" {
		checked = fmt.Sprintf("checkpoints: checked against %s from %s", plural(used, "signed checkpoint", "signed checkpoints"), path)
	}
	if !res.OK() {
		fmt.Fprintf(stdout, "TAMPERED: %s\n", res.Problem)
		if res.Where != "" {
			fmt.Fprintf(stdout, "where: %s\n", res.Where)
		}
		fmt.Fprintf(stdout, "first bad entry: %d (checked %s)\n", res.FirstBad, plural(res.Entries, "entry", "entries"))
		fmt.Fprintln(stdout, checked)
		return &exitError{code: exitFailed}
	}
	fmt.Fprintf(stdout, "ok: %s, chain intact; head %d:%s\n", plural(res.Entries, "entry", "entries"), res.HeadSeq, res.Head)
	if line := keyedLine(res, m.Audit.Key()); line != "" {
		fmt.Fprintln(stdout, line)
	}
	if path != "" {
		checked += fmt.Sprintf("; the log matches all %d", used)
	}
	fmt.Fprintln(stdout, checked)
	if len(bad) > 0 {
		return &exitError{code: exitCheckpoints, msg: fmt.Sprintf("checkpoint file %s: %d line(s) cannot be trusted (see above); the log matches the others", path, len(bad))}
	}
	return nil
}

func previousNote(pubs []audit.PublicKey) string {
	if len(pubs) < 2 {
		return ""
	}
	return " or a previous one"
}

// keyedLine says which entries are sealed with which key.
func keyedLine(res audit.VerifyResult, key *audit.Key) string {
	switch {
	case res.Entries == 0:
		return ""
	case len(res.Keys) == 0:
		return "keyed: none (every entry was written before the audit key)"
	case len(res.Keys) == 1 && res.KeyedFrom == 1:
		return fmt.Sprintf("keyed: every entry is sealed with audit key %s", res.KeyID)
	case len(res.Keys) == 1:
		return fmt.Sprintf("keyed: entries %d to %d are sealed with audit key %s; entries 1 to %d are unkeyed (written before the key)", res.KeyedFrom, res.HeadSeq, res.KeyID, res.KeyedFrom-1)
	}
	var parts []string
	if res.KeyedFrom > 1 {
		parts = append(parts, fmt.Sprintf("entries 1 to %d are unkeyed (written before the key)", res.KeyedFrom-1))
	}
	for _, r := range res.Keys {
		which := "previous audit key"
		if key != nil && r.KeyID == key.ID() {
			which = "audit key"
		}
		parts = append(parts, fmt.Sprintf("entries %d to %d are sealed with %s %s", r.From, r.To, which, r.KeyID))
	}
	return "keyed: " + strings.Join(parts, "; ")
}

// auditKey prints the audit key's id and public key, never the key.
func auditKey(m *Main, stdout io.Writer) error {
	var err error
	if m.ConfigPath != "" {
		m.Config, err = LoadConfig(m.ConfigPath)
	} else {
		m.Config, err = DevConfig()
	}
	if err != nil {
		return err
	}
	secret, err := m.Config.auditSecret()
	if err != nil {
		return err
	}
	key, err := audit.NewKey(secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key id:     %s\npublic key: %s\n", key.ID(), key.Public())
	previous, err := m.Config.auditPreviousKeys(key)
	if err != nil {
		return err
	}
	for _, p := range previous {
		fmt.Fprintf(stdout, "previous:   %s (%s)\n", p.key.ID(), p.key.Public())
	}
	return nil
}
