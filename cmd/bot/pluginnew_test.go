package main_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

// cleanClone copies the repository's files (tracked, and new ones not
// ignored: what a commit of the work tree would hold) into a temporary
// folder: a fresh clone, with no bin/ and no data/.
func cleanClone(t *testing.T) string {
	t.Helper()
	root := testbin.Root()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git work tree (%v): no clean clone to make", err)
	}
	dst := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, f)
		st, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree, not yet in git
		}
		require.NoError(t, err)
		if !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dst, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dst, f), b, st.Mode().Perm()))
	}
	return dst
}

// A provider in minutes: on a clean clone, bot plugin new writes a plugin
// that builds with make plugin, passes its own tests as written, and
// serves its commands to bot exec in sandbox mode, its state kept from
// one exec to the next; its settings are checked when the bot loads them.
func TestPluginNewBuildsAndPassesItsTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a new plugin: not in -short")
	}
	clone := cleanClone(t)
	bot := filepath.Join(clone, "bin", "bot")
	require.NoError(t, os.MkdirAll(filepath.Dir(bot), 0o755))
	testbin.Copy(t, testbin.Bot(t), bot)
	run := func(name string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = clone
		cmd.Env = append(os.Environ(), "NO_COLOR=1", "ACME_TOKEN=t0ken-canary-5521")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		require.NoError(t, err, "%s %v:\n%s", name, args, out)
		return string(out), 0
	}
	must := func(name string, args ...string) string {
		t.Helper()
		out, code := run(name, args...)
		require.Equal(t, 0, code, "%s %s:\n%s", name, strings.Join(args, " "), out)
		return out
	}

	out := must(bot, "plugin", "new", "acme")
	assert.Contains(t, out, "make plugin NAME=acme")
	for _, f := range []string{"main.go", "provider/provider.go", "provider/provider_test.go", "client/client.go", "sim/sim.go"} {
		assert.FileExists(t, filepath.Join(clone, "plugins", "acme", f))
	}
	// Again on the same folder: refused, and the folder left as it was.
	require.NoError(t, os.WriteFile(filepath.Join(clone, "plugins", "acme", "provider", "provider.go"), []byte("package provider // edited\n"), 0o644))
	out, code := run(bot, "plugin", "new", "acme")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "plugins/acme already exists")
	b, err := os.ReadFile(filepath.Join(clone, "plugins", "acme", "provider", "provider.go"))
	require.NoError(t, err)
	assert.Equal(t, "package provider // edited\n", string(b), "an existing plugin is never overwritten")
	require.NoError(t, os.RemoveAll(filepath.Join(clone, "plugins", "acme")))
	must(bot, "plugin", "new", "acme")

	must("make", "plugin", "NAME=acme")
	sums, err := os.ReadFile(filepath.Join(clone, "bin", "plugins", "SHA256SUMS"))
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`(?m)^[0-9a-f]{64}  acme$`), string(sums))

	must("go", "vet", "./plugins/acme/...")
	out = must("go", "test", "-count=1", "./plugins/acme/...")
	assert.Contains(t, out, "ok  \tgithub.com/deskbot/deskbot/plugins/acme/provider")

	// Help lists what the user may run: alice (tier 1) up to high risk,
	// bob (tier 2) everything.
	out = must(bot, "exec", "--as", "alice", "/acme help")
	for _, c := range []string{"site list", "site info", "site suspend"} {
		assert.Contains(t, out, c)
	}
	assert.Contains(t, must(bot, "exec", "--as", "bob", "/acme help"), "site delete")

	// Each exec starts a fresh plugin process: the sandbox's state folder
	// carries the site from one to the next, through an approval.
	out, code = run(bot, "exec", "--as", "bob", "/acme site suspend blog.example reason=abuse")
	require.Equal(t, 4, code, "a high-risk change waits for a lead:\n%s", out)
	id := regexp.MustCompile(`Approval (\S+) is pending`).FindStringSubmatch(out)
	require.NotNil(t, id, out)
	assert.Contains(t, out, `body: {"reason":"abuse"}`)
	must(bot, "exec", "--as", "carol", "/ops approve "+id[1])
	out = must(bot, "exec", "--as", "alice", "/acme site info blog.example")
	assert.Contains(t, out, "suspended")

	// A real target with a misspelt setting is refused when the bot
	// loads it, in the plugin's words, and the token never shows.
	cfg := filepath.Join(clone, "acme.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`data_dir: data
policy: examples/policy.yaml
plugins:
  dir: bin/plugins
  sums: bin/plugins/SHA256SUMS
  list:
    - name: acme
      targets:
        - name: main
          settings: {baseurl: "https://api.acme.example"}
          secrets: {api_token: {env: ACME_TOKEN}}
`), 0o644))
	out, code = run(bot, "exec", "--config", cfg, "--as", "alice", "/acme help")
	assert.Equal(t, 5, code, out)
	assert.Contains(t, out, `unknown setting baseurl (did you mean base_url?)`)
	assert.NotContains(t, out, "t0ken-canary-5521")
}
