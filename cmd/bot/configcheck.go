package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/sdk"
	"github.com/jackc/pgx/v5"
)

const configUsage = `usage: bot config check FILE

Checks a configuration file without running the bot, one line per check:
  - every key is one the bot knows (an unknown key is named with its line);
  - every secret reference resolves (present or missing; never its value);
  - each plugin's executable is inside plugins.dir and matches its pin
    (its sha256, or its line in plugins.sums);
  - the policy file, as bot policy check does;
  - each target's settings and secrets against what its plugin declares
    (each plugin is started briefly, with no targets and no secrets).
Nothing is written and no provider is called.

exit status: 0 everything passed, 1 a problem was found, 2 usage
`

func runConfig(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") ||
		len(args) == 2 && args[0] == "check" && (args[1] == "-h" || args[1] == "--help") {
		fmt.Fprint(stdout, configUsage)
		return nil
	}
	if len(args) != 2 || args[0] != "check" {
		return &exitError{code: exitInvalid, msg: strings.TrimSuffix(configUsage, "\n")}
	}
	return configCheck(ctx, args[1], stdout)
}

// checker prints one line per check and counts the problems.
type checker struct {
	out                        io.Writer
	checks, problems, warnings int
}

func (c *checker) ok(format string, args ...any) {
	c.checks++
	c.print("ok", format, args...)
}

func (c *checker) fail(format string, args ...any) {
	c.checks++
	c.problems++
	c.print("FAIL", format, args...)
}

func (c *checker) warn(format string, args ...any) {
	c.warnings++
	c.print("warn", format, args...)
}

// print writes a check's line; the further lines of a long message (a
// plugin's start-up error) follow it indented.
func (c *checker) print(mark, format string, args ...any) {
	first := true
	for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if first {
			fmt.Fprintf(c.out, "%-6s%s\n", mark, line)
			first = false
			continue
		}
		fmt.Fprintf(c.out, "      %s\n", strings.TrimRight(line, " "))
	}
}

func (c *checker) done() error {
	msg := fmt.Sprintf("%s, %s", plural(c.checks, "check", "checks"), plural(c.problems, "problem", "problems"))
	if c.warnings > 0 {
		msg += ", " + plural(c.warnings, "warning", "warnings")
	}
	fmt.Fprintln(c.out, msg)
	if c.problems > 0 {
		return &exitError{code: exitFailed}
	}
	return nil
}

func configCheck(ctx context.Context, path string, stdout io.Writer) error {
	c := &checker{out: stdout}
	cfg, err := parseConfig(path)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			c.fail("%s", line)
		}
		fmt.Fprintln(stdout, "nothing else was checked: the file must load first")
		return c.done()
	}
	targets := 0
	for _, p := range cfg.Plugin.List {
		targets += len(p.Targets)
	}
	c.ok("%s: loads (%s, %s)", path, plural(len(cfg.Plugin.List), "plugin", "plugins"), plural(targets, "target", "targets"))
	c.checkSecrets(cfg)
	pinned := c.checkPins(cfg, path)
	c.checkPolicy(cfg)
	c.checkTargets(ctx, cfg, pinned)
	return c.done()
}

// namedSecret is a secret reference and where the configuration has it.
type namedSecret struct {
	name string
	ref  *SecretRef
	// check looks at the value (its length, its form) without showing it.
	check func(string) error
}

func (c *checker) checkSecrets(cfg *Config) {
	var refs []namedSecret
	if s := cfg.Slack; s != nil {
		refs = append(refs, namedSecret{name: "slack.signing_secret", ref: s.SigningSecret}, namedSecret{name: "slack.bot_token", ref: s.BotToken}, namedSecret{name: "slack.app_token", ref: s.AppToken})
		if s.BotToken == nil {
			c.fail("slack.bot_token: missing: bot serve needs it")
		}
		if s.SigningSecret == nil && s.AppToken == nil {
			c.fail("slack.signing_secret: missing: bot serve needs it, or slack.app_token for Socket Mode")
		}
	} else {
		c.warn("slack: no section: bot serve needs one (bot serve --playground, exec and console do not)")
	}
	atLeast := func(n int) func(string) error {
		return func(v string) error {
			if len(v) < n {
				return fmt.Errorf("too short: use at least %d characters", n)
			}
			return nil
		}
	}
	refs = append(refs,
		namedSecret{name: "approval_key", ref: cfg.ApprovalKey, check: atLeast(16)},
		namedSecret{name: "audit_key", ref: cfg.AuditKey, check: atLeast(audit.MinKeyLength)},
		namedSecret{name: "store.dsn", ref: cfg.Store.DSN, check: func(v string) error {
			// pgx's own error quotes the string: only say that it fails.
			if _, err := pgx.ParseConfig(v); err != nil {
				return errors.New("not a PostgreSQL connection string (want postgres://USER:PASSWORD@HOST/DB or key=value pairs)")
			}
			return nil
		}})
	for i := range cfg.Audit.PreviousKeys {
		refs = append(refs, namedSecret{name: fmt.Sprintf("audit.previous_keys[%d]", i), ref: &cfg.Audit.PreviousKeys[i], check: func(v string) error {
			if err := atLeast(audit.MinKeyLength)(v); err != nil {
				return err
			}
			if cfg.AuditKey != nil {
				if cur, err := cfg.AuditKey.Resolve(cfg.dir); err == nil && cur == v {
					return errors.New("it is the audit_key itself: list only the keys audit_key replaced (bot serve refuses this)")
				}
			}
			return nil
		}})
	}
	if w := cfg.Audit.Checkpoints.Webhook; w != nil {
		refs = append(refs, namedSecret{name: "audit.checkpoints.webhook.token", ref: w.Token})
	}
	if w := cfg.Audit.Ship.Webhook; w != nil {
		refs = append(refs, namedSecret{name: "audit.ship.webhook.token", ref: w.Token})
	}
	for _, p := range cfg.Plugin.List {
		for _, t := range p.Targets {
			for _, k := range sortedSecretKeys(t.Secrets) {
				ref := t.Secrets[k]
				refs = append(refs, namedSecret{name: fmt.Sprintf("plugin %s target %s secret %s", p.Name, t.Name, k), ref: &ref})
			}
		}
	}
	if cfg.Store.Driver == "postgres" {
		if cfg.AuditKey == nil {
			c.fail("audit_key: missing: required with the postgres driver (every replica seals the one audit chain with it)")
		}
		if cfg.ApprovalKey == nil {
			c.fail("approval_key: missing: required with the postgres driver (every replica checks approvals with it)")
		}
	}
	for _, s := range refs {
		if s.ref == nil {
			continue
		}
		v, err := s.ref.Resolve(cfg.dir)
		if err != nil {
			c.fail("%s: missing: %v", s.name, err)
			continue
		}
		if v == "" {
			c.fail("%s: present (%s) but empty", s.name, s.ref.where())
			continue
		}
		if s.check != nil {
			if err := s.check(v); err != nil {
				c.fail("%s: present (%s) but %v", s.name, s.ref.where(), err)
				continue
			}
		}
		c.ok("%s: present (%s)", s.name, s.ref.where())
	}
}

// where says where a secret is read from, never what it is.
func (s SecretRef) where() string {
	if s.Env != "" {
		return "env " + s.Env
	}
	return "file " + s.File
}

func sortedSecretKeys(m map[string]SecretRef) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkPins checks each plugin's executable against its pin and returns
// the plugins that passed, pinned.
func (c *checker) checkPins(cfg *Config, cfgPath string) []PluginConfig {
	if len(cfg.Plugin.List) == 0 {
		return nil
	}
	sums, err := cfg.readSums()
	if err != nil {
		c.fail("%v", err)
	} else if cfg.Plugin.Sums != "" {
		c.ok("plugins.sums: %s lists %s", cfg.Plugin.Sums, plural(len(sums), "digest", "digests"))
	}
	var pinned []PluginConfig
	for _, p := range cfg.Plugin.List {
		want, from, err := cfg.pinOf(p, sums)
		if err != nil {
			c.fail("plugin %s: %v", p.Name, err)
			continue
		}
		want = strings.ToLower(strings.TrimSpace(want))
		if b, err := hex.DecodeString(want); err != nil || len(b) != 32 {
			c.fail("plugin %s: its sha256 %q is not 64 hex digits", p.Name, want)
			continue
		}
		exe, err := pluginExecutable(cfg.Plugin.Dir, p)
		if err != nil {
			c.fail("plugin %s: %v", p.Name, err)
			continue
		}
		got, err := pluginhost.FileSHA256(exe)
		if err != nil {
			c.fail("plugin %s: %v", p.Name, err)
			continue
		}
		if got != want {
			// --update takes the configuration and rewrites its pins or
			// the plugins.sums file it names.
			c.fail("plugin %s: %s has sha256 %s, but %s pins %s: the bot will refuse to start it; if this build is the one to trust, run: bot plugin sum --update %s", p.Name, exe, got[:12], from, want[:12], cfgPath)
			continue
		}
		c.ok("plugin %s: %s matches %s (%s)", p.Name, exe, from, want[:12])
		p.SHA256 = want
		pinned = append(pinned, p)
	}
	return pinned
}

// pluginExecutable finds a plugin's executable inside the plugin
// directory, as the bot does when it starts it.
func pluginExecutable(dir string, p PluginConfig) (string, error) {
	dirAbs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(dirAbs); err == nil {
		dirAbs = real
	}
	path := p.Path
	if path == "" {
		path = p.Name
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dirAbs, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("no executable at %s (plugins.dir is %s)", path, dirAbs)
	}
	rel, err := filepath.Rel(dirAbs, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside plugins.dir %s: the bot refuses to start it", real, dirAbs)
	}
	return real, nil
}

func (c *checker) checkPolicy(cfg *Config) {
	if cfg.Policy == "" {
		c.warn("policy: none configured: every command is allowed (development only)")
		return
	}
	p, err := authz.LoadFile(cfg.Policy)
	if err != nil {
		c.fail("policy: %v", err)
		return
	}
	c.ok("policy %s: ok (%s; sha256 %s)", cfg.Policy, plural(len(p.Users), "user", "users"), p.Hash[:12])
}

// checkTargets starts each pinned plugin with no targets, asks what a
// target of it takes, and holds the configured targets to that.
func (c *checker) checkTargets(ctx context.Context, cfg *Config, pinned []PluginConfig) {
	ok := map[string]bool{}
	for _, p := range pinned {
		ok[p.Name] = true
	}
	for _, p := range cfg.Plugin.List {
		c.checkTargetNames(p)
		if !ok[p.Name] {
			if len(p.Targets) > 0 {
				c.warn("plugin %s: its targets were not checked (see the plugin's problem above)", p.Name)
			}
		}
	}
	host := pluginhost.New(pluginhost.Options{Dir: cfg.Plugin.Dir, Logger: slog.New(slog.DiscardHandler), LogLevel: slog.LevelError})
	defer host.Close()
	for _, p := range pinned {
		// No targets: nothing of the configuration's secrets reaches the
		// plugin, and no simulator is started.
		hc := pluginhost.Config{Name: p.Name, Path: p.Path, SHA256: p.SHA256, Env: p.Env}
		if err := host.Start(ctx, []pluginhost.Config{hc}); err != nil {
			c.fail("plugin %s: does not start, so its targets were not checked: %v", p.Name, strings.TrimPrefix(err.Error(), "plugin "+p.Name+": "))
			continue
		}
		proc, found := host.Get(p.Name)
		if !found {
			c.fail("plugin %s: does not start, so its targets were not checked", p.Name)
			continue
		}
		if state, err := proc.Status(); state != pluginhost.StateReady {
			// The host marks a plugin that fails to start down and would
			// retry it; a check reports the failure once.
			if err == nil {
				err = fmt.Errorf("it is %s", state)
			}
			c.fail("plugin %s: does not start, so its targets were not checked: %v", p.Name, strings.TrimPrefix(err.Error(), "plugin "+p.Name+": "))
			continue
		}
		decl := proc.Declarations()
		if decl.Settings == nil && decl.Secrets == nil && decl.SandboxSettings == nil {
			c.warn("plugin %s declares no settings or secrets: its targets were not checked", p.Name)
			continue
		}
		for _, t := range p.Targets {
			problems := targetProblems(decl, t)
			if len(problems) == 0 {
				c.ok("plugin %s target %s: its settings and secrets are ones %s takes", p.Name, t.Name, p.Name)
			}
			for _, pr := range problems {
				c.fail("plugin %s target %s: %s", p.Name, t.Name, pr)
			}
		}
	}
}

// checkTargetNames checks what needs no plugin: names and default_target.
func (c *checker) checkTargetNames(p PluginConfig) {
	seen := map[string]bool{}
	for i, t := range p.Targets {
		switch {
		case t.Name == "":
			c.fail("plugin %s: targets[%d] has no name", p.Name, i)
		case seen[t.Name]:
			c.fail("plugin %s: target %q is listed twice", p.Name, t.Name)
		}
		seen[t.Name] = true
	}
	if p.DefaultTarget != "" && !seen[p.DefaultTarget] {
		names := make([]string, 0, len(seen))
		for n := range seen {
			names = append(names, n)
		}
		sort.Strings(names)
		msg := fmt.Sprintf("plugin %s: default_target %q is not one of its targets (%s)", p.Name, p.DefaultTarget, strings.Join(names, ", "))
		if s := sdk.Suggest(p.DefaultTarget, names); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
		}
		c.fail("%s", msg)
	}
}

// targetProblems holds a target to what its plugin declares, with the
// plugin's own check (sdk.TargetProblems), so config check and the plugin
// can never disagree. Secret values are not read here: a reference
// stands for its secret, and whether that resolves is checked apart.
func targetProblems(decl sdk.Catalog, t TargetConfig) []string {
	secrets := make(map[string]string, len(t.Secrets))
	for k := range t.Secrets {
		secrets[k] = "(reference)"
	}
	return sdk.TargetProblems(decl, sdk.Target{Name: t.Name, Settings: t.Settings, Secrets: secrets, Sandbox: t.Sandbox, StateDir: t.StateDir})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
