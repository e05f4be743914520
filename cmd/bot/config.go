package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/sdk"
)

// Config is the bot's configuration file.
type Config struct {
	// DataDir holds the SQLite database and other local state.
	DataDir string `yaml:"data_dir"`
	// Policy is the RBAC policy file.
	Policy string     `yaml:"policy"`
	Log    LogConfig  `yaml:"log"`
	Plugin PluginsCfg `yaml:"plugins"`
	Store  StoreCfg   `yaml:"store"`
	// Listen is the HTTP address of bot serve.
	Listen string    `yaml:"listen"`
	Slack  *SlackCfg `yaml:"slack"`
	// ApprovalKey authenticates stored approval requests; replicas share
	// it. Without one, a key is generated in the data directory.
	ApprovalKey *SecretRef `yaml:"approval_key"`
	// ApprovalLease is how long a replica's claim on a running approved
	// request holds without renewal (it renews every third of it). When
	// it lapses, the request is run by another replica if nothing was
	// sent to the provider yet, else marked unknown. Default 30s.
	ApprovalLease time.Duration `yaml:"approval_lease"`
	// AuditKey seals the audit chain and signs its checkpoints; it lives
	// outside the database and replicas share it. Without one, a key is
	// generated in the data directory (SQLite only).
	AuditKey *SecretRef `yaml:"audit_key"`
	Audit    AuditCfg   `yaml:"audit"`
	Tickets  TicketsCfg `yaml:"tickets"`

	// dev is set for the built-in development defaults.
	dev bool
	// dir is the config file's directory; relative paths start there.
	dir string
}

// TicketsCfg is the desk's ticket system, for the ticket references
// commands carry (ticket=ABC-123; the policy says which need one).
type TicketsCfg struct {
	// URL is a ticket's address with {ticket} where the reference goes:
	// Slack messages and cards link each ticket to it.
	URL string `yaml:"url"`
}

// checkTicketURL refuses a ticket address that would not make a link.
func checkTicketURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(strings.ReplaceAll(s, "{ticket}", "ABC-123"))
	switch {
	case !strings.Contains(s, "{ticket}"):
		return fmt.Errorf("tickets.url %q: write {ticket} where the reference goes (https://desk.example/browse/{ticket})", s)
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("tickets.url %q: want an http or https address", s)
	case strings.ContainsAny(s, " <>|\t\n"):
		return fmt.Errorf("tickets.url %q: spaces and < > | have no place in a link", s)
	}
	return nil
}

// StoreCfg chooses the database.
type StoreCfg struct {
	// Driver is sqlite (default, one process) or postgres (replicas).
	Driver string `yaml:"driver"`
	// Path is the SQLite file (default DATA_DIR/deskbot.db).
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string; it may hold a password,
	// so it is a secret reference.
	DSN *SecretRef `yaml:"dsn"`
}

// SlackCfg connects the bot to a Slack app.
type SlackCfg struct {
	SigningSecret *SecretRef `yaml:"signing_secret"`
	BotToken      *SecretRef `yaml:"bot_token"`
	// AppToken turns on Socket Mode.
	AppToken         *SecretRef `yaml:"app_token"`
	ApprovalsChannel string     `yaml:"approvals_channel"`
	// APIURL points the Web API elsewhere (a test server).
	APIURL string `yaml:"api_url"`
	// InboxLease is how long a replica's hold on the slash commands it
	// acknowledged lasts without renewal (renewed every third of it);
	// once it lapses another replica takes them over. Default 5s.
	InboxLease time.Duration `yaml:"inbox_lease"`
	// InboxSweep is how often each replica looks for commands whose
	// holder's lease lapsed. Default 1s.
	InboxSweep time.Duration `yaml:"inbox_sweep"`
}

// AuditCfg anchors the audit log outside the database and ships it.
type AuditCfg struct {
	Checkpoints CheckpointsCfg `yaml:"checkpoints"`
	Ship        ShipCfg        `yaml:"ship"`
	// PreviousKeys are audit keys the log was sealed with before the
	// audit_key was rotated: their entries and checkpoints still verify.
	PreviousKeys []SecretRef `yaml:"previous_keys"`
}

// CheckpointsCfg says how often the log's head is signed and where the
// checkpoints go (several sinks at once; with none,
// DATA_DIR/audit-checkpoints.jsonl).
type CheckpointsCfg struct {
	// Interval between checkpoints (default 5m).
	Interval time.Duration `yaml:"interval"`
	// File appends checkpoints as JSON lines.
	File    string      `yaml:"file"`
	Syslog  *SyslogCfg  `yaml:"syslog"`
	Webhook *WebhookCfg `yaml:"webhook"`
}

// ShipCfg streams every audit entry to the SIEM.
type ShipCfg struct {
	Syslog  *SyslogCfg  `yaml:"syslog"`
	Webhook *WebhookCfg `yaml:"webhook"`
	// Batch is the most entries sent at once (default 100).
	Batch int `yaml:"batch"`
}

// SyslogCfg is an RFC 5424 receiver over TCP, or TLS with tls set.
type SyslogCfg struct {
	Address  string        `yaml:"address"`
	TLS      *SyslogTLSCfg `yaml:"tls"`
	Facility string        `yaml:"facility"` // a name (local0, auth, audit...) or 0-23; default audit (13)
	Hostname string        `yaml:"hostname"`
	AppName  string        `yaml:"app_name"`
	Timeout  time.Duration `yaml:"timeout"`
}

// SyslogTLSCfg is the TLS of a syslog connection; an empty one uses the
// system's roots.
type SyslogTLSCfg struct {
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
}

// WebhookCfg is an HTTPS endpoint taking JSON lines.
type WebhookCfg struct {
	URL     string        `yaml:"url"`
	Token   *SecretRef    `yaml:"token"`
	Timeout time.Duration `yaml:"timeout"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// PluginsCfg lists the plugins.
type PluginsCfg struct {
	// Dir is the plugin directory; executables outside it are refused.
	Dir string `yaml:"dir"`
	// Sums is a file in sha256sum format ("HEX  NAME", NAME relative to
	// Dir) pinning the plugins that carry no sha256 of their own: make
	// build and the container image write one next to the plugins.
	Sums string         `yaml:"sums"`
	List []PluginConfig `yaml:"list"`
}

// PluginConfig is one plugin.
type PluginConfig struct {
	Name string `yaml:"name"`
	// DisplayName is the provider as users know it ("WHM"), for messages
	// such as "the WHM provider is unavailable right now"; Name if empty.
	DisplayName   string        `yaml:"display_name"`
	Path          string        `yaml:"path"`
	SHA256        string        `yaml:"sha256"`
	DefaultTarget string        `yaml:"default_target"`
	CallTimeout   time.Duration `yaml:"call_timeout"`
	// MaxQueueWait bounds the time a call may spend queued behind the
	// provider's request limit on top of call_timeout (5m if zero).
	MaxQueueWait time.Duration     `yaml:"max_queue_wait"`
	Env          map[string]string `yaml:"env"`
	Targets      []TargetConfig    `yaml:"targets"`
}

// TargetConfig is one provider target.
type TargetConfig struct {
	Name    string `yaml:"name"`
	Sandbox bool   `yaml:"sandbox"`
	// StateDir is where a sandbox target keeps its simulator's state
	// (relative to the configuration file); the provider's own settings
	// never include it.
	StateDir string               `yaml:"state_dir"`
	Settings map[string]string    `yaml:"settings"`
	Secrets  map[string]SecretRef `yaml:"secrets"`
}

// SecretRef says where a secret is read from. Secret values are never
// written in the configuration itself.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// UnmarshalYAML refuses a plain value where a reference is expected.
func (s *SecretRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return fmt.Errorf("line %d: secrets are not written in the configuration; use {env: VARIABLE} or {file: PATH}", n.Line)
	}
	if n.Kind == yaml.MappingNode {
		// A reference has two keys; anything else (a misspelt "fiel", a
		// "value" holding the secret itself) is refused, never shown.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value != "env" && k.Value != "file" {
				return fmt.Errorf("line %d: unknown key %q in a secret reference: use {env: VARIABLE} or {file: PATH}", k.Line, k.Value)
			}
		}
	}
	type plain SecretRef
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	if (p.Env == "") == (p.File == "") {
		return fmt.Errorf("line %d: a secret needs exactly one of env or file", n.Line)
	}
	if p.Env != "" && !envName.MatchString(p.Env) {
		// The "name" may be a pasted token: not echoed.
		return fmt.Errorf("line %d: env must name an environment variable (letters, digits and _, not starting with a digit), not hold a value", n.Line)
	}
	*s = SecretRef(p)
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Resolve reads the secret.
func (s SecretRef) Resolve(base string) (string, error) {
	if s.Env != "" {
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	}
	path := s.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// LoadConfig reads a configuration file. Unknown keys are errors: a typo
// in a config file should not silently change nothing.
func LoadConfig(path string) (*Config, error) {
	cfg, err := parseConfig(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.pinPlugins(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig reads and checks a configuration file, all but the plugins'
// pins (bot config check reports those one plugin at a time).
func parseConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if problems := unknownKeys(b); len(problems) > 0 {
		lines := make([]string, len(problems))
		for i, p := range problems {
			lines[i] = fmt.Sprintf("%s:%s", path, p)
		}
		return nil, errors.New(strings.Join(lines, "\n"))
	}
	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, _ := filepath.Abs(path)
	cfg.dir = filepath.Dir(abs)
	cfg.resolvePaths()
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("%s: data_dir is required", path)
	}
	if cfg.Plugin.Dir == "" && len(cfg.Plugin.List) > 0 {
		return nil, fmt.Errorf("%s: plugins.dir is required", path)
	}
	if err := checkTicketURL(cfg.Tickets.URL); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.ApprovalLease < 0 || (cfg.ApprovalLease > 0 && cfg.ApprovalLease < time.Second) {
		return nil, fmt.Errorf("%s: approval_lease %s: want at least 1s", path, cfg.ApprovalLease)
	}
	if sc := cfg.Slack; sc != nil {
		if sc.InboxLease < 0 || (sc.InboxLease > 0 && sc.InboxLease < time.Second) {
			return nil, fmt.Errorf("%s: slack.inbox_lease %s: want at least 1s", path, sc.InboxLease)
		}
		if sc.InboxSweep < 0 || (sc.InboxSweep > 0 && sc.InboxSweep < 100*time.Millisecond) {
			return nil, fmt.Errorf("%s: slack.inbox_sweep %s: want at least 100ms", path, sc.InboxSweep)
		}
	}
	switch cfg.Store.Driver {
	case "", "sqlite":
	case "postgres":
		if cfg.Store.DSN == nil {
			return nil, fmt.Errorf("%s: store.dsn is required with the postgres driver", path)
		}
	default:
		return nil, fmt.Errorf("%s: store.driver %q: want sqlite or postgres", path, cfg.Store.Driver)
	}
	if err := cfg.checkAudit(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i := range cfg.Plugin.List {
		p := &cfg.Plugin.List[i]
		if p.Name == "" {
			return nil, fmt.Errorf("%s: a plugin has no name", path)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("%s: plugin %q is listed twice", path, p.Name)
		}
		seen[p.Name] = true
	}
	return cfg, nil
}

func (c *Config) resolvePaths() {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(c.dir, p)
	}
	c.DataDir = abs(c.DataDir)
	c.Policy = abs(c.Policy)
	c.Plugin.Dir = abs(c.Plugin.Dir)
	c.Plugin.Sums = abs(c.Plugin.Sums)
	c.Store.Path = abs(c.Store.Path)
	c.Audit.Checkpoints.File = abs(c.Audit.Checkpoints.File)
	for _, sc := range []*SyslogCfg{c.Audit.Checkpoints.Syslog, c.Audit.Ship.Syslog} {
		if sc != nil && sc.TLS != nil {
			sc.TLS.CAFile, sc.TLS.CertFile, sc.TLS.KeyFile = abs(sc.TLS.CAFile), abs(sc.TLS.CertFile), abs(sc.TLS.KeyFile)
		}
	}
	for i := range c.Plugin.List {
		for j := range c.Plugin.List[i].Targets {
			t := &c.Plugin.List[i].Targets[j]
			t.StateDir = abs(t.StateDir)
		}
	}
}

// DevConfig is what the bot runs with when given no configuration: the
// plugins found next to the bot binary, each with one sandbox target
// (it serves its own simulator), a local data folder and the example
// policy.
func DevConfig() (*Config, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	cfg := &Config{dev: true, dir: cwd, DataDir: filepath.Join(cwd, "data")}
	for _, dir := range pluginDirCandidates(cwd) {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			cfg.Plugin.Dir = dir
			break
		}
	}
	if cfg.Plugin.Dir == "" {
		return nil, fmt.Errorf("no plugin directory found (looked in %s); run make build first", strings.Join(pluginDirCandidates(cwd), ", "))
	}
	for _, p := range []string{filepath.Join(cwd, "examples", "policy.yaml")} {
		if _, err := os.Stat(p); err == nil {
			cfg.Policy = p
		}
	}
	entries, err := os.ReadDir(cfg.Plugin.Dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode()&0o111 == 0 {
			continue
		}
		sum, err := pluginhost.FileSHA256(filepath.Join(cfg.Plugin.Dir, e.Name()))
		if err != nil {
			return nil, err
		}
		cfg.Plugin.List = append(cfg.Plugin.List, PluginConfig{
			Name:   e.Name(),
			Path:   e.Name(),
			SHA256: sum,
			// Sandbox simulators keep their state in the data folder, so
			// one-shot runs (bot exec) see each other's changes.
			Targets: []TargetConfig{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(cfg.DataDir, "sandbox", e.Name())}},
		})
	}
	sort.Slice(cfg.Plugin.List, func(i, j int) bool { return cfg.Plugin.List[i].Name < cfg.Plugin.List[j].Name })
	return cfg, nil
}

func pluginDirCandidates(cwd string) []string {
	var out []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		out = append(out, filepath.Join(filepath.Dir(exe), "plugins"))
	}
	return append(out, filepath.Join(cwd, "bin", "plugins"))
}

// HostConfigs turns the plugin list into host configurations, reading
// every secret now so a missing one stops the bot at start.
func (c *Config) HostConfigs() ([]pluginhost.Config, error) {
	var out []pluginhost.Config
	for _, p := range c.Plugin.List {
		hc := pluginhost.Config{
			Name:          p.Name,
			DisplayName:   p.DisplayName,
			Path:          p.Path,
			SHA256:        p.SHA256,
			DefaultTarget: p.DefaultTarget,
			Env:           p.Env,
			CallTimeout:   p.CallTimeout,
			MaxQueueWait:  p.MaxQueueWait,
		}
		for _, t := range p.Targets {
			st := sdk.Target{Name: t.Name, Sandbox: t.Sandbox, StateDir: t.StateDir, Settings: t.Settings, Secrets: map[string]string{}}
			for k, ref := range t.Secrets {
				v, err := ref.Resolve(c.dir)
				if err != nil {
					return nil, fmt.Errorf("plugin %s target %s secret %s: %w", p.Name, t.Name, k, err)
				}
				st.Secrets[k] = v
			}
			hc.Targets = append(hc.Targets, st)
		}
		if hc.DefaultTarget != "" {
			found := false
			for _, t := range hc.Targets {
				found = found || t.Name == hc.DefaultTarget
			}
			if !found {
				return nil, fmt.Errorf("plugin %s: default_target %q is not one of its targets", p.Name, hc.DefaultTarget)
			}
		}
		out = append(out, hc)
	}
	return out, nil
}

// pinPlugins gives every plugin its pin: its own sha256, or else its line
// in plugins.sums. A plugin with neither cannot start, so the
// configuration is refused.
func (c *Config) pinPlugins() error {
	sums, err := c.readSums()
	if err != nil {
		return err
	}
	for i := range c.Plugin.List {
		p := &c.Plugin.List[i]
		sum, _, err := c.pinOf(*p, sums)
		if err != nil {
			return err
		}
		p.SHA256 = sum
	}
	return nil
}

// readSums reads plugins.sums, if set.
func (c *Config) readSums() (map[string]string, error) {
	if c.Plugin.Sums == "" {
		return nil, nil
	}
	sums, err := ReadSums(c.Plugin.Sums)
	if err != nil {
		return nil, fmt.Errorf("plugins.sums: %w", err)
	}
	return sums, nil
}

// Where a plugin's pin comes from.
const (
	pinFromConfig = "its sha256"
	pinFromSums   = "plugins.sums"
)

// pinOf returns a plugin's pin and where it comes from: the plugin's own
// sha256 wins over its line in the sums file.
func (c *Config) pinOf(p PluginConfig, sums map[string]string) (sum, from string, err error) {
	if p.SHA256 != "" {
		return p.SHA256, pinFromConfig, nil
	}
	name := c.sumsName(p)
	if c.Plugin.Sums == "" {
		return "", "", fmt.Errorf("plugin %q has no sha256 and no plugins.sums is set (get its digest with: bot plugin sum PATH)", p.Name)
	}
	if s, ok := sums[name]; ok {
		return s, pinFromSums, nil
	}
	return "", "", fmt.Errorf("plugin %q has no sha256 and %s has no line for %s (get its digest with: bot plugin sum PATH)", p.Name, c.Plugin.Sums, name)
}

// sumsName is a plugin's name in the sums file: its path relative to the
// plugin directory, with forward slashes.
func (c *Config) sumsName(p PluginConfig) string {
	path := p.Path
	if path == "" {
		path = p.Name
	}
	if filepath.IsAbs(path) && c.Plugin.Dir != "" {
		if rel, err := filepath.Rel(c.Plugin.Dir, path); err == nil {
			path = rel
		}
	}
	return filepath.ToSlash(filepath.Clean(path))
}

// ReadSums reads a file in sha256sum format ("HEX  NAME", or "HEX *NAME"
// for binary mode); blank lines and lines starting with # are skipped.
// Names are cleaned ("./whm" is "whm"); one listed twice with two
// digests is an error.
func ReadSums(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist (make build writes bin/plugins/SHA256SUMS; bot plugin sum PATH... writes the lines)", path)
		}
		return nil, err
	}
	sums := map[string]string{}
	where := map[string]int{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		sum, name, ok := parseSumsLine(line)
		if !ok {
			return nil, fmt.Errorf("%s:%d: not a sha256sum line (want 64 hex digits, two spaces, the plugin's path)", path, i+1)
		}
		if old, ok := sums[name]; ok && old != sum {
			return nil, fmt.Errorf("%s:%d: %s is listed again with another digest (first on line %d)", path, i+1, name, where[name])
		}
		sums[name], where[name] = sum, i+1
	}
	return sums, nil
}

var sumsLine = regexp.MustCompile(`^([0-9a-fA-F]{64}) [ *](\S.*)$`)
