// Package pluginhost launches provider plugins and keeps them running.
//
// Each plugin is a separate process started directly (never through a
// shell) from the plugin directory, checked against the sha256 in the
// configuration, spoken to over gRPC with mutual TLS, and given an explicit
// environment rather than the bot's. Secrets reach a plugin only through
// Configure. A plugin that crashes or stops answering is restarted with
// backoff; after too many failures in a window it is marked down and calls
// to it say so. Nothing is retried on the caller's behalf.
//
// One plugin never takes the others down with it: a plugin that fails its
// pin, cannot start or keeps crashing is marked down, with the reason, and
// tried again after a wait that doubles with each failed try (Options
// RetryMin, RetryMax), while the others serve.
package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Config describes one plugin.
type Config struct {
	// Name is the plugin's name; it must match what the plugin reports.
	Name string
	// DisplayName is the provider as users know it ("WHM"), for messages
	// such as "the WHM provider is unavailable right now"; Name if empty.
	DisplayName string
	// Path is the executable, absolute or relative to the plugin directory.
	Path string
	// SHA256 is the executable's expected hex digest.
	SHA256 string
	// Targets are sent with Configure after every start.
	Targets []sdk.Target
	// DefaultTarget is used when a request names none.
	DefaultTarget string
	// Env is the plugin's whole environment besides PATH; never secrets.
	Env map[string]string
	// CallTimeout bounds each call (30 s if zero). For Execute it counts
	// only the time the plugin does not report being queued behind its
	// provider's request limit (sdk.ProgressQueued); a command the catalog
	// marks NoProgress reports nothing, so all of its time counts.
	CallTimeout time.Duration
	// MaxQueueWait bounds the queue waits of one Execute that CallTimeout
	// does not count (5 min if zero): the call ends at the latest after
	// CallTimeout + MaxQueueWait, whatever the plugin reports.
	MaxQueueWait time.Duration
}

// Options tune supervision.
type Options struct {
	// Dir is the plugin directory; executables outside it are refused.
	Dir    string
	Logger *slog.Logger
	// LogLevel is the lowest level of plugin and go-plugin logs kept.
	LogLevel slog.Level
	// PingInterval is how often a live plugin is pinged (5 s if zero);
	// PingTimeout is how long a ping may take (2 s if zero).
	PingInterval, PingTimeout time.Duration
	// MaxFailures crashes in FailureWindow mark a plugin down (5 in 1 min
	// if zero). The first crash in a window is restarted at once, later
	// ones after the waits RetryMin and RetryMax set.
	MaxFailures   int
	FailureWindow time.Duration
	// RetryMin is how long a plugin that is down (it failed its pin, could
	// not start, or kept crashing) waits before it is tried again (1 s if
	// zero); each failed try in a row doubles the wait, up to RetryMax
	// (5 min if zero). Every try is logged (a warning with the attempt,
	// the next wait and the reason), and so is the plugin's return.
	RetryMin, RetryMax time.Duration
	// StartTimeout bounds a plugin's start-up (10 s if zero).
	StartTimeout time.Duration
	// OnStateChange, if set, is told of every state change (metrics).
	OnStateChange func(plugin string, s State)
	// Reattach lists plugins served by hand (under a debugger, with
	// sdk.WithDebug) to attach to instead of starting. Their binary is not
	// checked and the connection is not authenticated: a developer's
	// machine only.
	Reattach map[string]*plugin.ReattachConfig
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PingInterval == 0 {
		o.PingInterval = 5 * time.Second
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = 2 * time.Second
	}
	if o.MaxFailures == 0 {
		o.MaxFailures = 5
	}
	if o.FailureWindow == 0 {
		o.FailureWindow = time.Minute
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
}

// retryIn is the wait before the next try after n failed tries in a row:
// none before the first, then RetryMin doubling up to RetryMax.
func (o *Options) retryIn(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := o.RetryMin
	for i := 1; i < n && d < o.RetryMax; i++ {
		d *= 2
	}
	return min(d, o.RetryMax)
}

// State is where a plugin is in its life.
type State int

const (
	StateStarting State = iota
	StateReady
	StateRestarting
	StateDown
	StateStopped
)

func (s State) String() string {
	return [...]string{"starting", "ready", "restarting", "down", "stopped"}[s]
}

// Host owns every plugin process.
type Host struct {
	opts    Options
	mu      sync.RWMutex
	plugins map[string]*Process
}

// New returns a host with no plugins.
func New(opts Options) *Host {
	opts.defaults()
	return &Host{opts: opts, plugins: map[string]*Process{}}
}

// Start launches the plugins in parallel and waits for each to be ready or
// to fail. A plugin that fails to start (its pin, its binary, its
// handshake or its configuration) does not fail Start: it is marked down
// with the reason (Status, Info), its calls say its provider is
// unavailable, and it is tried again with backoff while the others serve.
// The only error is a configuration that names a plugin twice.
func (h *Host) Start(ctx context.Context, cfgs []Config) error {
	var ps []*Process
	h.mu.Lock()
	seen := map[string]bool{}
	for _, c := range cfgs {
		if _, dup := h.plugins[c.Name]; dup || seen[c.Name] {
			h.mu.Unlock()
			return fmt.Errorf("plugin %q configured twice", c.Name)
		}
		seen[c.Name] = true
	}
	for _, c := range cfgs {
		p := &Process{cfg: c, host: h, log: h.opts.Logger.With("plugin", c.Name), ready: make(chan struct{})}
		h.plugins[c.Name] = p
		ps = append(ps, p)
	}
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.start(ctx)
		}()
	}
	wg.Wait()
	for _, p := range ps {
		go p.supervise()
	}
	return nil
}

// Get returns the plugin called name.
func (h *Host) Get(name string) (*Process, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	p, ok := h.plugins[name]
	return p, ok
}

// Plugins returns every plugin, by name.
func (h *Host) Processes() []*Process {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Process, 0, len(h.plugins))
	for _, p := range h.plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cfg.Name < out[j].cfg.Name })
	return out
}

// Close stops every plugin process.
func (h *Host) Close() error {
	for _, p := range h.Processes() {
		p.stop()
	}
	return nil
}

// Process is one supervised plugin process.
type Process struct {
	cfg  Config
	host *Host
	log  *slog.Logger

	mu      sync.Mutex
	state   State
	gen     int // bumped at every (re)start
	client  *plugin.Client
	prov    sdk.Provider
	meta    sdk.Metadata
	catalog *sdk.Catalog
	// noProgress names the commands the catalog says report no progress.
	noProgress map[string]bool
	// displayName is the plugin's own name for its provider, from its
	// last start: kept when it is down, for the messages that say so.
	displayName atomic.Pointer[string]
	lastErr     error
	lastAt      time.Time // when lastErr happened
	path        string    // the executable last launched (resolved)
	failures    []time.Time
	// attempt counts the failed tries in a row (launches that failed, or
	// crash loops); it sets the wait before the next (Options.retryIn).
	// A crash after a whole FailureWindow without one starts a new row.
	attempt   int
	retryAt   time.Time // when a plugin that is down is tried next
	downSince time.Time // when it went down; zero while it serves
	// changes numbers state changes; notified is the last one told to
	// OnStateChange (under notifyMu).
	changes  uint64
	notifyMu sync.Mutex
	notified uint64
	ready    chan struct{} // closed when state leaves starting/restarting
	stopped  chan struct{}
}

// Name returns the plugin's name.
func (p *Process) Name() string { return p.cfg.Name }

// DefaultTarget returns the target used when a request names none.
func (p *Process) DefaultTarget() string {
	if p.cfg.DefaultTarget != "" {
		return p.cfg.DefaultTarget
	}
	if len(p.cfg.Targets) == 1 {
		return p.cfg.Targets[0].Name
	}
	return ""
}

// Targets returns the configured target names.
func (p *Process) Targets() []string {
	out := make([]string, len(p.cfg.Targets))
	for i, t := range p.cfg.Targets {
		out[i] = t.Name
	}
	return out
}

// Secrets returns every secret value configured for the plugin, so that
// the bot can scrub them from anything it shows or stores.
func (p *Process) Secrets() []string {
	var out []string
	for _, t := range p.cfg.Targets {
		for _, v := range t.Secrets {
			out = append(out, v)
		}
	}
	return out
}

// Metadata returns what the plugin reported at its last start.
func (p *Process) Metadata() sdk.Metadata {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.meta
}

// Catalog returns the plugin's commands as of its last start.
func (p *Process) Catalog() []sdk.CommandSpec {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.catalog == nil {
		return nil
	}
	return p.catalog.Commands
}

// Declarations returns what a target of the plugin takes (its settings,
// secrets and sandbox settings) as of its last start.
func (p *Process) Declarations() sdk.Catalog {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.catalog == nil {
		return sdk.Catalog{}
	}
	return sdk.Catalog{Settings: p.catalog.Settings, Secrets: p.catalog.Secrets, SandboxSettings: p.catalog.SandboxSettings}
}

// DisplayName returns the provider as users know it.
func (p *Process) DisplayName() string {
	if p.cfg.DisplayName != "" {
		return p.cfg.DisplayName
	}
	if known := p.displayName.Load(); known != nil && *known != "" {
		return *known
	}
	return p.cfg.Name
}

// Info is what an operator sees of a plugin (/ops plugins): where it runs
// from and why it last failed. It is for admins only: a user is told no
// more than that the provider is unavailable.
type Info struct {
	State State
	// Path is the executable: as resolved at the last launch, or as
	// configured if none has resolved.
	Path string
	// SHA256 is the digest the configuration expects.
	SHA256 string
	// LastFailure is the last failure in full, and LastFailureAt when it
	// happened (zero if none).
	LastFailure   string
	LastFailureAt time.Time
	PID           int
	// Attempt is the number of failed tries in a row; while the plugin is
	// down, RetryAt is when it is tried next.
	Attempt int
	RetryAt time.Time
}

// Info returns the plugin's state for operators.
func (p *Process) Info() Info {
	pid := p.PID()
	p.mu.Lock()
	defer p.mu.Unlock()
	in := Info{State: p.state, Path: p.path, SHA256: strings.ToLower(strings.TrimSpace(p.cfg.SHA256)), LastFailureAt: p.lastAt, PID: pid, Attempt: p.attempt}
	if p.state == StateDown {
		in.RetryAt = p.retryAt
	}
	if in.Path == "" {
		in.Path = p.cfg.Path
		if in.Path == "" {
			in.Path = p.cfg.Name
		}
	}
	if p.lastErr != nil {
		in.LastFailure = p.lastErr.Error()
	}
	return in
}

// failedWith records err as the last failure. Called with p.mu held.
func (p *Process) failedWith(err error) {
	p.lastErr, p.lastAt = err, time.Now()
}

// markDown records a failed try: the plugin is down for err, its
// provider unavailable, until a retry after the backoff succeeds. Called
// with p.mu held.
func (p *Process) markDown(err error) {
	p.failedWith(err)
	if p.downSince.IsZero() {
		p.downSince = p.lastAt
	}
	p.attempt++
	wait := p.host.opts.retryIn(p.attempt)
	p.retryAt = p.lastAt.Add(wait)
	p.setState(StateDown)
	p.log.Warn("plugin down: its provider is unavailable until a retry succeeds", "attempt", p.attempt, "next_retry_in", wait, "error", err)
}

// Unavailable returns what a user is told while the plugin cannot take a
// call (it is down or stopped), or nil when it serves or is restarting.
func (p *Process) Unavailable() error {
	p.mu.Lock()
	state, lastErr := p.state, p.lastErr
	p.mu.Unlock()
	return p.unavailableErr(state, lastErr)
}

func (p *Process) unavailableErr(state State, lastErr error) error {
	switch state {
	case StateDown:
		// The failure (a path, a digest, a stack) is for the log and
		// /ops plugins; the user is told only what it means for them.
		if lastErr == nil {
			lastErr = errors.New("down")
		}
		return apperr.Wrap(lastErr, apperr.Unavailable, "%s; the bot keeps trying to bring it back and its operators can see why", p.unavailable())
	case StateStopped:
		return apperr.New(apperr.Unavailable, "%s (it is stopped)", p.unavailable())
	}
	return nil
}

// Status returns the state and the last failure, if any.
func (p *Process) Status() (State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, p.lastErr
}

// PID returns the plugin's process id, or 0 when none runs.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		return 0
	}
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

func (p *Process) setState(s State) {
	// Called with p.mu held.
	if p.state == s {
		return
	}
	p.state = s
	if s == StateReady || s == StateDown || s == StateStopped {
		select {
		case <-p.ready:
		default:
			close(p.ready)
		}
	} else {
		select {
		case <-p.ready:
			p.ready = make(chan struct{})
		default:
		}
	}
	if f := p.host.opts.OnStateChange; f != nil {
		// Told outside the lock, in order: a change overtaken by a later
		// one is dropped, so the last word is the current state.
		p.changes++
		seq := p.changes
		go func() {
			p.notifyMu.Lock()
			defer p.notifyMu.Unlock()
			if seq > p.notified {
				p.notified = seq
				f(p.cfg.Name, s)
			}
		}()
	}
}

// resolvePath returns the executable's absolute path, refusing any that
// leaves the plugin directory (through "..", an absolute path or a link).
func (p *Process) resolvePath() (string, error) {
	dir := p.host.opts.Dir
	if dir == "" {
		return "", fmt.Errorf("no plugin directory configured")
	}
	dirAbs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(dirAbs); err == nil {
		dirAbs = real
	}
	path := p.cfg.Path
	if path == "" {
		path = p.cfg.Name
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dirAbs, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("executable %s: %w", path, err)
	}
	rel, err := filepath.Rel(dirAbs, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("executable %s is outside the plugin directory %s", real, dirAbs)
	}
	return real, nil
}

// FileSHA256 returns the hex sha256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// launch starts a process and returns its provider, metadata and catalog.
// It does not touch p's state.
func (p *Process) launch(ctx context.Context) (*plugin.Client, sdk.Provider, sdk.Metadata, *sdk.Catalog, error) {
	var meta sdk.Metadata
	if rc := p.host.opts.Reattach[p.cfg.Name]; rc != nil {
		p.log.Warn("attaching to a plugin served by hand: its binary is not checked and the connection is not authenticated", "pid", rc.Pid, "addr", rc.Addr.String())
		client := plugin.NewClient(&plugin.ClientConfig{
			HandshakeConfig:  sdk.Handshake,
			Plugins:          sdk.PluginSet(nil),
			Reattach:         rc,
			AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
			GRPCDialOptions:  []grpc.DialOption{grpc.WithDisableRetry()},
			Logger:           newSlogAdapter(p.host.opts.Logger, p.cfg.Name, hclog.Info, p.secrets()),
		})
		return p.handshake(ctx, client, "attached plugin")
	}
	path, err := p.resolvePath()
	if err != nil {
		return nil, nil, meta, nil, err
	}
	p.mu.Lock()
	p.path = path
	p.mu.Unlock()
	want := strings.ToLower(strings.TrimSpace(p.cfg.SHA256))
	if want == "" {
		return nil, nil, meta, nil, fmt.Errorf("no sha256 configured for %s", path)
	}
	sum, err := hex.DecodeString(want)
	if err != nil || len(sum) != sha256.Size {
		return nil, nil, meta, nil, fmt.Errorf("sha256 %q is not 64 hex digits", p.cfg.SHA256)
	}
	// go-plugin checks the hash too; checking first gives a clearer message.
	got, err := FileSHA256(path)
	if err != nil {
		return nil, nil, meta, nil, err
	}
	if got != want {
		return nil, nil, meta, nil, fmt.Errorf("refusing to start %s: its sha256 is %s but the configuration expects %s", path, got, want)
	}

	cmd := exec.Command(path)
	cmd.Env = p.environment()
	cmd.Dir = filepath.Dir(path)
	setDeathSignal(cmd)
	level := hclog.Info
	switch {
	case p.host.opts.LogLevel < slog.LevelInfo:
		level = hclog.Debug
	case p.host.opts.LogLevel >= slog.LevelError:
		level = hclog.Error
	case p.host.opts.LogLevel >= slog.LevelWarn:
		level = hclog.Warn
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginSet(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDisableRetry()},
		StartTimeout:     p.host.opts.StartTimeout,
		Logger:           newSlogAdapter(p.host.opts.Logger, p.cfg.Name, level, p.secrets()),
	})
	return p.handshake(ctx, client, path)
}

// handshake dispenses the provider from a started (or attached) client,
// checks it is the plugin configured, and describes and configures it.
func (p *Process) handshake(ctx context.Context, client *plugin.Client, path string) (*plugin.Client, sdk.Provider, sdk.Metadata, *sdk.Catalog, error) {
	var meta sdk.Metadata
	fail := func(err error) (*plugin.Client, sdk.Provider, sdk.Metadata, *sdk.Catalog, error) {
		terminate(client, false)
		return nil, nil, meta, nil, err
	}
	rpc, err := client.Client()
	if err != nil {
		return fail(fmt.Errorf("start %s: %w", path, err))
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return fail(fmt.Errorf("dispense: %w", err))
	}
	prov, ok := raw.(sdk.Provider)
	if !ok {
		return fail(fmt.Errorf("plugin served %T, not a provider", raw))
	}
	ctx, cancel := context.WithTimeout(ctx, p.host.opts.StartTimeout)
	defer cancel()
	m, err := prov.Metadata(ctx, &sdk.MetadataRequest{})
	if err != nil {
		return fail(fmt.Errorf("metadata: %w", err))
	}
	meta = *m
	if meta.Name != p.cfg.Name {
		return fail(fmt.Errorf("the executable is plugin %q, not %q", meta.Name, p.cfg.Name))
	}
	catalog, err := prov.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		return fail(fmt.Errorf("describe: %w", err))
	}
	// The SDK refuses these when a command is declared; a plugin built
	// without it is held to the same rule, since approvers would be asked
	// to type a secret, or one of two names.
	for _, c := range catalog.Commands {
		if err := c.CheckResource(); err != nil {
			return fail(fmt.Errorf("describe: %w", err))
		}
	}
	resp, err := prov.Configure(ctx, &sdk.ConfigureRequest{Targets: p.cfg.Targets})
	if err != nil {
		return fail(fmt.Errorf("configure: %w", err))
	}
	if resp.Diagnostics.HasError() {
		return fail(fmt.Errorf("configure: %w", resp.Diagnostics.Err()))
	}
	return client, prov, meta, catalog, nil
}

// environment is the plugin's whole environment: nothing of the bot's.
func (p *Process) environment() []string {
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	keys := make([]string, 0, len(p.cfg.Env))
	for k := range p.cfg.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+p.cfg.Env[k])
	}
	return env
}

// start is the plugin's first launch. If it fails, the plugin is down
// and its supervisor tries again.
func (p *Process) start(ctx context.Context) {
	p.mu.Lock()
	p.stopped = make(chan struct{})
	p.mu.Unlock()
	start := time.Now()
	client, prov, meta, catalog, err := p.launch(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == StateStopped || p.client != nil {
		// Closed, or an operator's restart won, while this one started:
		// the process launched here is nobody's.
		if client != nil {
			terminate(client, false)
		}
		return
	}
	if err != nil {
		p.markDown(err)
		return
	}
	p.adopt(client, prov, meta, catalog)
	p.log.Info("plugin started", "version", meta.Version, "commands", len(catalog.Commands), "took", time.Since(start).Round(time.Millisecond))
}

// adopt makes a launched process the plugin's. Called with p.mu held.
func (p *Process) adopt(client *plugin.Client, prov sdk.Provider, meta sdk.Metadata, catalog *sdk.Catalog) {
	p.client, p.prov, p.meta, p.catalog = client, prov, meta, catalog
	p.noProgress = map[string]bool{}
	for _, c := range catalog.Commands {
		if c.NoProgress {
			p.noProgress[c.Name] = true
		}
	}
	p.displayName.Store(&meta.DisplayName)
	p.gen++
	p.retryAt, p.downSince = time.Time{}, time.Time{}
	p.setState(StateReady)
}

// supervise watches the process: a quick exit check often, a ping less
// often. A dead or hung plugin is restarted.
func (p *Process) supervise() {
	p.mu.Lock()
	stopped := p.stopped
	p.mu.Unlock()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastPing := time.Now()
	for {
		select {
		case <-stopped:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		state, client, prov, gen := p.state, p.client, p.prov, p.gen
		p.mu.Unlock()
		switch state {
		case StateReady:
			if client.Exited() {
				p.fail(gen, errors.New("the plugin process exited"))
				continue
			}
			if time.Since(lastPing) >= p.host.opts.PingInterval {
				lastPing = time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), p.host.opts.PingTimeout)
				_, err := prov.Metadata(ctx, &sdk.MetadataRequest{})
				cancel()
				if err != nil {
					p.fail(gen, fmt.Errorf("the plugin did not answer a ping within %s: %w", p.host.opts.PingTimeout, err))
				}
			}
		case StateDown:
			// Try again once the backoff has passed.
			p.mu.Lock()
			due := !time.Now().Before(p.retryAt)
			p.mu.Unlock()
			if due {
				p.restart(gen, 0)
			}
		}
	}
}

// fail records that generation gen failed and restarts it, unless another
// caller already did.
func (p *Process) fail(gen int, cause error) {
	p.mu.Lock()
	if p.gen != gen || p.state != StateReady {
		p.mu.Unlock()
		return
	}
	now := time.Now()
	p.failures = append(p.failures, now)
	cut := 0
	for cut < len(p.failures) && now.Sub(p.failures[cut]) > p.host.opts.FailureWindow {
		cut++
	}
	p.failures = p.failures[cut:]
	n := len(p.failures)
	if n == 1 {
		// It served a whole window without failing: a new row begins.
		p.attempt = 0
	}
	client := p.client
	if n >= p.host.opts.MaxFailures {
		// A crash loop: down, and tried again after the backoff.
		p.markDown(fmt.Errorf("it failed %d times within %s; the last: %w", n, p.host.opts.FailureWindow, cause))
		p.mu.Unlock()
		terminate(client, false)
		return
	}
	p.failedWith(cause)
	p.setState(StateRestarting)
	wait := p.host.opts.retryIn(n - 1)
	p.mu.Unlock()
	p.log.Warn("plugin failed; restarting", "error", cause, "failures", n, "restart_in", wait)
	terminate(client, false)
	go p.restart(gen, wait)
}

// restart launches a new process for generation gen after wait. If the
// launch fails, the plugin is down until a retry succeeds.
func (p *Process) restart(gen int, wait time.Duration) {
	p.mu.Lock()
	if p.gen != gen || p.state == StateStopped {
		p.mu.Unlock()
		return
	}
	stopped := p.stopped
	p.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-stopped:
			t.Stop()
			return
		}
	}
	start := time.Now()
	client, prov, meta, catalog, err := p.launch(context.Background())
	p.mu.Lock()
	if p.state == StateStopped || p.gen != gen {
		// Stopped meanwhile, or another launch won.
		p.mu.Unlock()
		if client != nil {
			terminate(client, false)
		}
		return
	}
	defer p.mu.Unlock()
	if err != nil {
		p.markDown(err)
		return
	}
	back, attempts := p.downSince, p.attempt
	p.adopt(client, prov, meta, catalog)
	if !back.IsZero() {
		p.log.Info("plugin is back: its provider serves again", "failed_tries", attempts, "down_for", time.Since(back).Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
		return
	}
	p.log.Info("plugin restarted", "took", time.Since(start).Round(time.Millisecond))
}

// Restart replaces the process at once (an operator's request), and
// forgets past failures.
func (p *Process) Restart() {
	p.mu.Lock()
	if p.state == StateStopped {
		p.mu.Unlock()
		return
	}
	gen, client := p.gen, p.client
	p.failures, p.attempt = nil, 0
	p.setState(StateRestarting)
	p.mu.Unlock()
	if client != nil {
		terminate(client, true)
	}
	p.restart(gen, 0)
}

func (p *Process) stop() {
	p.mu.Lock()
	client := p.client
	if p.stopped != nil {
		select {
		case <-p.stopped:
		default:
			close(p.stopped)
		}
	}
	p.setState(StateStopped)
	p.mu.Unlock()
	if client != nil {
		terminate(client, true)
	}
}

// terminate ends a plugin process. A failed plugin is killed outright: it
// may be hung (stopped, deadlocked), and go-plugin's graceful shutdown
// would wait on it forever. A healthy one is asked to exit first.
func terminate(client *plugin.Client, graceful bool) {
	if !graceful || client.Exited() {
		if rc := client.ReattachConfig(); rc != nil && rc.Pid > 0 {
			if proc, err := os.FindProcess(rc.Pid); err == nil {
				_ = proc.Kill()
			}
		}
		client.Kill()
		return
	}
	done := make(chan struct{})
	go func() {
		client.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		terminate(client, false)
		<-done
	}
}

// provider waits until the plugin is ready (or ctx ends) and returns the
// live provider and its generation.
func (p *Process) provider(ctx context.Context) (sdk.Provider, int, error) {
	for {
		p.mu.Lock()
		state, prov, gen, ready, lastErr := p.state, p.prov, p.gen, p.ready, p.lastErr
		p.mu.Unlock()
		if state == StateReady {
			return prov, gen, nil
		}
		if err := p.unavailableErr(state, lastErr); err != nil {
			return nil, 0, err
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, 0, apperr.Wrap(ctx.Err(), apperr.Unavailable, "%s: it is restarting and was not ready in time", p.unavailable())
		}
	}
}

// unavailable is what a user is told when the plugin cannot take a call.
func (p *Process) unavailable() string {
	return "the " + p.DisplayName() + " provider is unavailable right now"
}

func (p *Process) callTimeout() time.Duration {
	if p.cfg.CallTimeout == 0 {
		return 30 * time.Second
	}
	return p.cfg.CallTimeout
}

func (p *Process) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.callTimeout())
}

// errQueuedTooLong ends an Execute whose queue waits outlasted
// MaxQueueWait.
var errQueuedTooLong = fmt.Errorf("%w: queued behind the provider's request limit for longer than the bot waits", context.DeadlineExceeded)

// errCallTimeout ends an Execute whose own time (queue waits aside) ran out.
var errCallTimeout = fmt.Errorf("%w: the call's time ran out", context.DeadlineExceeded)

// executeContext is callContext for Execute. Its CallTimeout is a clock
// that stands still while the plugin reports, as progress, that the call
// is queued behind its provider's request limit (sdk.ProgressQueued):
// thirty calls in a row behind IONOS's limit must not end as "did not
// answer in time" merely because they waited their turn. A plugin cannot
// stretch a call beyond CallTimeout + MaxQueueWait: that is ctx's
// deadline, and it is what the plugin's gRPC context carries. work is
// when the call's own time runs out if it is never queued (for
// sdk.Request.Deadline); observe must see every progress report.
func (p *Process) executeContext(parent context.Context) (ctx context.Context, cancel context.CancelFunc, work time.Time, observe func(sdk.Progress)) {
	timeout := p.callTimeout()
	maxQueue := p.cfg.MaxQueueWait
	if maxQueue == 0 {
		maxQueue = 5 * time.Minute
	}
	hard, cancelHard := context.WithTimeoutCause(parent, timeout+maxQueue, errQueuedTooLong)
	ctx, cancelCall := context.WithCancelCause(hard)
	c := newCallClock(realClock{}, timeout, func() { cancelCall(errCallTimeout) })
	return ctx, func() {
		c.timer.Stop()
		cancelCall(context.Canceled)
		cancelHard()
	}, c.due, c.observe
}

// clock is the time a callClock runs on: the real one, or a test's.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) timer
}

// timer is a *time.Timer as a callClock uses it.
type timer interface {
	Stop() bool
	Reset(d time.Duration) bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// callClock is the CallTimeout of one Execute, paused while it is queued.
type callClock struct {
	mu     sync.Mutex
	clk    clock
	timer  timer
	due    time.Time     // when the time runs out, while it runs
	left   time.Duration // the time left, while it is paused
	paused bool
}

// newCallClock starts a call's clock: expire runs when timeout has passed
// outside queue waits.
func newCallClock(clk clock, timeout time.Duration, expire func()) *callClock {
	c := &callClock{clk: clk, due: clk.Now().Add(timeout)}
	c.timer = clk.AfterFunc(timeout, expire)
	return c
}

func (c *callClock) observe(pg sdk.Progress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch queued := pg.State == sdk.ProgressQueued; {
	case queued && !c.paused:
		// Stop fails if the time has run out already: then it stays out.
		if c.timer.Stop() {
			c.left, c.paused = c.due.Sub(c.clk.Now()), true
		}
	case !queued && c.paused:
		c.due, c.paused = c.clk.Now().Add(c.left), false
		c.timer.Reset(c.left)
	}
}

// failed turns a failed call into an error that names the plugin and says
// what the user can do. If the process died, it also has it restarted.
func (p *Process) failed(ctx context.Context, gen int, err error) error {
	out, crashed := p.classify(ctx, err)
	if crashed {
		p.fail(gen, fmt.Errorf("call failed: %w", err))
	}
	return out
}

// classify says what a failed call means for the user, and whether the
// process died under it.
func (p *Process) classify(ctx context.Context, err error) (_ error, crashed bool) {
	switch {
	case errors.Is(context.Cause(ctx), errQueuedTooLong):
		return apperr.Wrap(err, apperr.Timeout, "the %s provider did not answer in time: the call was queued behind its request limit for longer than the bot waits", p.DisplayName()), false
	case errors.Is(context.Cause(ctx), errCallTimeout):
		return apperr.Wrap(err, apperr.Timeout, "the %s provider did not answer in time", p.DisplayName()), false
	case ctx.Err() == context.Canceled || errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return apperr.Wrap(err, apperr.Canceled, "the call to the %s provider was cancelled", p.DisplayName()), false
	case ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		return apperr.Wrap(err, apperr.Timeout, "the %s provider did not answer in time", p.DisplayName()), false
	}
	p.mu.Lock()
	client := p.client
	p.mu.Unlock()
	if errors.Is(err, sdk.ErrUnavailable) || errors.Is(err, sdk.ErrNoResult) || client != nil && client.Exited() {
		return apperr.Wrap(err, apperr.Unavailable, "the %s provider crashed during the call; it is being restarted. The command may or may not have taken effect: check before trying again", p.DisplayName()), true
	}
	// The raw error stays in the cause, for the log; users see only this.
	return apperr.Wrap(err, apperr.Internal, "the %s provider failed unexpectedly; the bot's log has the details", p.DisplayName()), false
}

// Plan asks the plugin for a plan.
func (p *Process) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	ctx, cancel := p.callContext(ctx)
	defer cancel()
	prov, gen, err := p.provider(ctx)
	if err != nil {
		return nil, err
	}
	p.stampDeadline(ctx, &req.Request)
	resp, err := prov.Plan(ctx, req)
	if err != nil {
		return nil, p.failed(ctx, gen, err)
	}
	return resp, nil
}

// Execute runs a command. Its time is counted as executeContext says,
// unless the command reports no progress: then it is one call bounded by
// CallTimeout alone, with nothing to observe.
func (p *Process) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error) {
	if p.reportsNoProgress(req.Command) {
		return p.executeQuiet(ctx, req)
	}
	parent := ctx
	ctx, cancel, work, observe := p.executeContext(ctx)
	defer cancel()
	prov, gen, err := p.provider(ctx)
	if err != nil {
		return nil, err
	}
	// The plugin is told the deadline as if it will not be queued; its
	// SDK moves it on while it reports being queued, as the clock here.
	if d, ok := parent.Deadline(); ok && d.Before(work) {
		work = d
	}
	if req.Request.Deadline.IsZero() || work.Before(req.Request.Deadline) {
		req.Request.Deadline = work
	}
	r := *req
	r.Progress = func(pg sdk.Progress) {
		observe(pg)
		if req.Progress != nil {
			req.Progress(pg)
		}
	}
	res, err := prov.Execute(ctx, &r)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// The plugin's side of the gRPC deadline passed a moment
			// before ours: wait for ours, so that the error says which
			// deadline it was (the queue cap or the caller's).
			if d, ok := ctx.Deadline(); ok {
				t := time.NewTimer(time.Until(d) + time.Second)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
		}
		return nil, p.failed(ctx, gen, err)
	}
	return res, nil
}

// reportsNoProgress says whether the plugin's catalog marks command as
// one that never reports progress.
func (p *Process) reportsNoProgress(command string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.noProgress[command]
}

// executeQuiet runs a command that reports no progress. Without progress
// there is no queue wait to leave out of its time, and the SDK's client
// makes it one unary call (sdk.GRPCClient.Execute); the caller's progress
// function is never called.
func (p *Process) executeQuiet(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error) {
	ctx, cancel := p.callContext(ctx)
	defer cancel()
	prov, gen, err := p.provider(ctx)
	if err != nil {
		return nil, err
	}
	r := *req
	r.Progress = nil
	p.stampDeadline(ctx, &r.Request)
	res, err := prov.Execute(ctx, &r)
	if err != nil {
		return nil, p.failed(ctx, gen, err)
	}
	return res, nil
}

// Complete asks for suggestions; plugins without the capability give none.
func (p *Process) Complete(ctx context.Context, req *sdk.CompleteRequest) (*sdk.CompleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	prov, gen, err := p.provider(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := prov.(sdk.Completer)
	if !ok || !p.Metadata().HasCapability(sdk.CapabilityComplete) && !completes(p.Catalog()) {
		// A plugin announces the capability only for commands it holds;
		// one whose completions are all in commands built on demand (a
		// "call" family) marks them in its catalog instead.
		return &sdk.CompleteResponse{}, nil
	}
	out, err := c.Complete(ctx, req)
	if err != nil {
		return nil, p.failed(ctx, gen, err)
	}
	return out, nil
}

// completes reports whether any parameter of a catalog suggests values.
func completes(cat []sdk.CommandSpec) bool {
	for _, c := range cat {
		for _, prm := range c.Params {
			if prm.Completes {
				return true
			}
		}
	}
	return false
}

// CheckHealth asks the plugin about itself and its provider.
func (p *Process) CheckHealth(ctx context.Context, req *sdk.HealthRequest) (*sdk.Health, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	prov, gen, err := p.provider(ctx)
	if err != nil {
		return &sdk.Health{Status: sdk.HealthDown}, err
	}
	h, err := prov.CheckHealth(ctx, req)
	if err != nil {
		return &sdk.Health{Status: sdk.HealthDown}, p.failed(ctx, gen, err)
	}
	return h, nil
}

func (p *Process) stampDeadline(ctx context.Context, req *sdk.Request) {
	if d, ok := ctx.Deadline(); ok && (req.Deadline.IsZero() || d.Before(req.Deadline)) {
		req.Deadline = d
	}
}

// secrets returns a redactor that knows the secrets of the plugin's
// targets, for the lines the plugin logs.
func (p *Process) secrets() *redact.Redactor {
	red := redact.New()
	for _, t := range p.cfg.Targets {
		for _, v := range t.Secrets {
			red.AddSecret(v)
		}
	}
	return red
}
