package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

// The end-to-end tests' one harness: a working directory like a fresh
// clone's, a configuration written from Go values (plugins copied in with
// their pins), simulators served on loopback, and the bot run as a
// process (botIn, runBot, execIn in e2e_test.go and approvals_e2e_test.go).

// target is one target of a test configuration.
type target struct {
	Name     string            `yaml:"name"`
	Sandbox  bool              `yaml:"sandbox,omitempty"`
	StateDir string            `yaml:"state_dir,omitempty"`
	Settings map[string]string `yaml:"settings,omitempty"`
	// Secrets name the environment variable each secret is read from.
	Secrets map[string]string `yaml:"-"`
}

// installed is one plugin of a test configuration.
type installed struct {
	Name        string
	CallTimeout string
	Targets     []target
}

// config is a test configuration: the plugins, and top-level keys beyond
// data_dir, policy and plugins (store, slack, listen, approval_key, audit_key, audit); a nil
// value removes a key.
type config struct {
	Plugins []installed
	Top     map[string]any
}

// write installs the plugins into dir/plugins, pins their digests and
// writes dir/bot.yaml; it returns the configuration's path.
func (c config) write(t *testing.T, dir string) string {
	t.Helper()
	plugins := filepath.Join(dir, "plugins")
	require.NoError(t, os.MkdirAll(plugins, 0o755))
	var list []map[string]any
	for _, p := range c.Plugins {
		testbin.Copy(t, testbin.Plugin(t, p.Name), filepath.Join(plugins, p.Name))
		entry := map[string]any{"name": p.Name, "sha256": sha256Of(t, filepath.Join(plugins, p.Name))}
		if p.CallTimeout != "" {
			entry["call_timeout"] = p.CallTimeout
		}
		var targets []map[string]any
		for _, tg := range p.Targets {
			var m map[string]any
			b, err := yaml.Marshal(tg)
			require.NoError(t, err)
			require.NoError(t, yaml.Unmarshal(b, &m))
			if len(tg.Secrets) > 0 {
				secrets := map[string]any{}
				for k, env := range tg.Secrets {
					secrets[k] = map[string]string{"env": env}
				}
				m["secrets"] = secrets
			}
			targets = append(targets, m)
		}
		entry["targets"] = targets
		list = append(list, entry)
	}
	doc := map[string]any{"data_dir": "data", "policy": "examples/policy.yaml", "plugins": map[string]any{"dir": "plugins", "list": list}}
	for k, v := range c.Top {
		if v == nil {
			delete(doc, k) // {"policy": nil}: no policy file
			continue
		}
		doc[k] = v
	}
	b, err := yaml.Marshal(doc)
	require.NoError(t, err)
	path := filepath.Join(dir, "bot.yaml")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// env names a secret's environment variable in a configuration.
func env(name string) map[string]string { return map[string]string{"env": name} }

// sandboxConfig writes a configuration for dir with one plugin serving a
// sandbox target named "sandbox", its state kept in the data folder as the
// default configuration keeps it, and the given settings.
func sandboxConfig(t *testing.T, dir, plugin string, settings map[string]string) string {
	t.Helper()
	return config{Plugins: []installed{{Name: plugin, Targets: []target{{Name: "sandbox", Sandbox: true, StateDir: "data/sandbox/" + plugin, Settings: settings}}}}}.write(t, dir)
}

// serve serves a simulator on loopback for the test and returns its base
// URL ("http://127.0.0.1:PORT").
func serve(t *testing.T, sim http.Handler) string {
	t.Helper()
	base, stop, err := sandbox.Listen(sim)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })
	return base
}

// hostPort splits a base URL into host and port settings.
func hostPort(base string) (host, port string) {
	hp := strings.TrimPrefix(base, "http://")
	host, port, _ = strings.Cut(hp, ":")
	return host, port
}

// as is one command line typed by a user.
type as struct{ user, line string }

// transcript runs each command through bot exec (debug logs on, vars in
// its environment) and returns everything the bot printed and logged,
// then the whole audit log as exported: where a canary must never show.
func transcript(t *testing.T, dir, cfg string, vars []string, cmds ...as) string {
	t.Helper()
	var all strings.Builder
	for _, c := range cmds {
		cmd := botIn(t, dir, "exec", "--config", cfg, "--log-level", "debug", "--as", c.user, c.line)
		cmd.Env = append(cmd.Env, vars...)
		r := runBot(t, cmd)
		all.WriteString(r.stdout + r.stderr)
	}
	exp := runBot(t, botIn(t, dir, "audit", "export", "--config", cfg))
	require.Equal(t, 0, exp.code, exp.stderr)
	all.WriteString(exp.stdout)
	return all.String()
}
