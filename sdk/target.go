package sdk

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/deskbot/deskbot/sdk/redact"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

// TargetConfig is a target as a plugin's configure function sees it: its
// settings checked against what the plugin declared (see
// [Plugin.Settings]), parsed to their types, with defaults filled in.
type TargetConfig struct {
	Name string
	// Settings are the declared settings, typed: read them with the Args
	// accessors (Settings.Duration("poll")).
	Settings Args
	// Secrets are the declared secrets. For a sandbox target the SDK makes
	// up a random value for every secret the configuration does not give,
	// for the simulator and the client to share.
	Secrets map[string]string
	// Sandbox asks the plugin to serve its own simulator (see Serve).
	Sandbox bool
	// StateDir is where a sandbox keeps its simulator's state ("" keeps
	// none); StateFile names a file in it.
	StateDir string
	// Clock is the sandbox simulator's clock: the wall clock unless the
	// target sets sim_time_per_call.
	Clock *sandbox.Clock

	rec *target
}

// SimTimePerCall is the sandbox setting every plugin takes: the
// simulator's clock moves by this much per call it answers instead of with
// the wall clock, so that work at the provider takes a known number of
// polls (tests, recorded demos).
var SimTimePerCall = Duration("sim_time_per_call", "Sandbox only: move the simulator's clock this much per API call it answers, instead of with the wall clock")

// StateFile returns the path of the sandbox state file name, or "" when
// the target keeps no state.
func (t *TargetConfig) StateFile(name string) string {
	if t.StateDir == "" {
		return ""
	}
	return filepath.Join(t.StateDir, name)
}

// Serve serves a sandbox target's simulator on loopback for as long as the
// target stays configured, and returns its base URL with prefix appended
// ("http://127.0.0.1:PORT/v1"). Tests reach the simulator through
// [Plugin.Simulator].
func (t *TargetConfig) Serve(h http.Handler, prefix string) (string, error) {
	if t.rec == nil {
		return "", fmt.Errorf("target %q: Serve is for a configure function's target", t.Name)
	}
	base, stop, err := sandbox.Listen(h)
	if err != nil {
		return "", fmt.Errorf("serve the simulator: %w", err)
	}
	t.rec.mu.Lock()
	t.rec.stops = append(t.rec.stops, stop)
	t.rec.sims = append(t.rec.sims, h)
	t.rec.mu.Unlock()
	return base + prefix, nil
}

// EnvOf returns what the plugin's configure function built for the call's
// target (an API client, typically), as T.
func EnvOf[T any](c *Call) (T, error) {
	e, ok := c.Env.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("target %q of %s is not configured", c.TargetConfig.Name, c.plugin)
	}
	return e, nil
}

// target is a configured target and what it holds.
type target struct {
	cfg TargetConfig
	env any
	// red masks the target's secrets in everything a call returns.
	red *redact.Redactor

	mu    sync.Mutex
	stops []func() error
	sims  []http.Handler

	// lists holds what CompleteFromList read, for as long as it may be
	// offered again; a target configured anew starts empty.
	lists listCache
}

func (t *target) close() {
	closeEnv(t.env)
	t.mu.Lock()
	stops := t.stops
	t.stops, t.sims = nil, nil
	t.mu.Unlock()
	for _, stop := range stops {
		_ = stop()
	}
}

// closeEnv releases per-target state that holds resources.
func closeEnv(env any) {
	if c, ok := env.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// declarations are what a target of the plugin takes.
type declarations struct {
	declared                   bool
	settings, secrets, sandbox []Param
}

// TargetProblems holds a target to what a plugin declares (its catalog's
// Settings, Secrets and SandboxSettings) and says, one line per problem
// and in the words the plugin itself would use, what is wrong with it:
// unknown names with a suggestion, values that do not parse,
// sandbox-only settings on a real target, and what a real target lacks.
// A secret counts as given when its value is not empty. The bot's
// `config check` uses it to find at deploy time what the plugin would
// refuse when configured.
func TargetProblems(c Catalog, t Target) []string {
	d := &declarations{declared: true, settings: c.Settings, secrets: c.Secrets, sandbox: c.SandboxSettings}
	_, problems := d.resolve(t)
	return problems
}

// check turns a target as configured into a TargetConfig, or says in the
// plugin's words what is wrong with it.
func (d *declarations) check(plugin string, t Target) (*TargetConfig, error) {
	cfg, problems := d.resolve(t)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return cfg, nil
}

// resolve applies the declarations to a target: the configuration it
// gives the provider, and what is wrong with it.
func (d *declarations) resolve(t Target) (*TargetConfig, []string) {
	cfg := &TargetConfig{Name: t.Name, Settings: Args{}, Secrets: map[string]string{}, Sandbox: t.Sandbox, StateDir: t.StateDir}
	sandboxParams := append(slices.Clone(d.sandbox), SimTimePerCall)
	var problems []string
	for _, key := range sortedKeys(t.Settings) {
		p, ok := find(d.settings, key)
		if !ok {
			if sp, isSandbox := find(sandboxParams, key); isSandbox {
				if !t.Sandbox {
					problems = append(problems, fmt.Sprintf("setting %s applies to a sandbox target only", key))
					continue
				}
				p, ok = sp, true
			}
		}
		if !ok {
			if !d.declared {
				cfg.Settings[key] = t.Settings[key]
				continue
			}
			problems = append(problems, unknown("setting", key, d.settings, sandboxParams, t.Sandbox))
			continue
		}
		v, err := p.Parse(t.Settings[key])
		if err != nil {
			problems = append(problems, fmt.Sprintf("setting %s: %v", key, err))
			continue
		}
		cfg.Settings[p.Name] = v
	}
	for _, key := range sortedKeys(t.Secrets) {
		if _, ok := find(d.secrets, key); !ok && d.declared {
			problems = append(problems, unknown("secret", key, d.secrets, nil, false))
			continue
		}
		cfg.Secrets[key] = t.Secrets[key]
	}
	// Defaults, then what is missing. A sandbox provides what it needs
	// itself: its simulator's address and made-up credentials.
	for _, p := range append(slices.Clone(d.settings), sandboxParams...) {
		if cfg.Settings.Has(p.Name) || p.Default == "" {
			continue
		}
		if v, err := p.Parse(p.Default); err == nil {
			cfg.Settings[p.Name] = v
		}
	}
	if !t.Sandbox {
		for _, p := range d.settings {
			if p.Required && !cfg.Settings.Has(p.Name) {
				problems = append(problems, fmt.Sprintf("setting %s is required (%s)", p.Name, p.Description))
			}
		}
		for _, p := range d.secrets {
			if p.Required && cfg.Secrets[p.Name] == "" {
				problems = append(problems, fmt.Sprintf("secret %s is required (%s)", p.Name, p.Description))
			}
		}
	} else {
		for _, p := range d.secrets {
			if cfg.Secrets[p.Name] == "" {
				cfg.Secrets[p.Name] = madeUpSecret()
			}
		}
		clock, err := sandbox.ParseStep(SimTimePerCall.Name, cfg.Settings.String(SimTimePerCall.Name))
		if err != nil {
			problems = append(problems, err.Error())
		}
		cfg.Clock = clock
	}
	return cfg, problems
}

func unknown(kind, key string, known, sandboxOnly []Param, sandbox bool) string {
	var names []string
	for _, p := range known {
		names = append(names, p.Name)
	}
	if sandbox {
		for _, p := range sandboxOnly {
			names = append(names, p.Name)
		}
	}
	msg := fmt.Sprintf("unknown %s %s", kind, key)
	if s := Suggest(key, names); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	if len(names) == 0 {
		return msg + fmt.Sprintf("; this plugin takes no %ss", kind)
	}
	// A plugin may declare a sandbox setting the SDK adds as well.
	sort.Strings(names)
	names = slices.Compact(names)
	return msg + fmt.Sprintf("; %ss: %s", kind, strings.Join(names, ", "))
}

func find(ps []Param, name string) (Param, bool) {
	for _, p := range ps {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
		for _, a := range p.Aliases {
			if strings.EqualFold(a, name) {
				return p, true
			}
		}
	}
	return Param{}, false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func madeUpSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
