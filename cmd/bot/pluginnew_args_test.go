package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad input is refused with a reason, and writes nothing.
func TestPluginNewRefusesBadInput(t *testing.T) {
	outside := t.TempDir() // in no Go module
	cases := map[string]struct {
		args []string
		want string
	}{
		"no name":         {nil, "usage: bot plugin new"},
		"two names":       {[]string{"acme", "other"}, "usage: bot plugin new"},
		"capitals":        {[]string{"--dir", filepath.Join(outside, "x"), "Acme"}, `plugin name "Acme": use lower-case letters`},
		"a slash":         {[]string{"--dir", filepath.Join(outside, "x"), "/acme"}, `plugin name "/acme"`},
		"a quote":         {[]string{"--dir", filepath.Join(outside, "x"), "--display", `Ac"me`, "acme"}, "no quotes"},
		"no module":       {[]string{"--dir", filepath.Join(outside, "acme"), "acme"}, "is in no Go module"},
		"existing":        {[]string{"--dir", outside, "acme"}, "already exists"},
		"an unknown flag": {[]string{"--force", "acme"}, "flag provided but not defined: -force"},
		"the bot's own":   {[]string{"--dir", filepath.Join(outside, "x"), "ops"}, "/ops is the bot's own command"},
		"a bundled one":   {[]string{"--dir", filepath.Join(outside, "x"), "whm"}, "a plugin of that name comes with the bot (/whm)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := runPluginNew(tc.args, &out)
			var ee *exitError
			require.True(t, errors.As(err, &ee), "%v", err)
			assert.Equal(t, exitInvalid, ee.code)
			assert.Contains(t, ee.msg, tc.want)
			assert.Empty(t, out.String())
			entries, err := os.ReadDir(outside)
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing written")
		})
	}
}

// The import path follows the folder's place in its module.
func TestPluginNewImportPath(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("// a module\nmodule example.com/desk\n\ngo 1.26\n\nrequire (\n\tgithub.com/deskbot/deskbot v0.0.0 // the SDK\n)\n"), 0o644))
	got, err := importPath(filepath.Join(root, "plugins", "dns", "acme"))
	require.NoError(t, err)
	assert.Equal(t, "example.com/desk/plugins/dns/acme", got)
}

// A folder that would not build as a plugin is refused before anything is
// written: a name Go refuses in an import path, a module that does not
// require the SDK, a display name that breaks the code it goes into.
func TestPluginNewRefusesFoldersAndNamesThatWouldNotBuild(t *testing.T) {
	root := t.TempDir()
	bot := filepath.Join(root, "bot")
	other := filepath.Join(root, "tools")
	require.NoError(t, os.MkdirAll(bot, 0o755))
	require.NoError(t, os.MkdirAll(other, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bot, "go.mod"), []byte("module github.com/deskbot/deskbot\n\ngo 1.26\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/tools\n\ngo 1.26\n\nrequire example.com/other v1.0.0\n"), 0o644))
	cases := map[string]struct {
		args []string
		want string
	}{
		"a space":           {[]string{"--dir", filepath.Join(bot, "plugins", "My Plugin"), "acme"}, `folder name "My Plugin": Go import paths take`},
		"another module":    {[]string{"--dir", filepath.Join(other, "acme"), "acme"}, "which does not require github.com/deskbot/deskbot"},
		"a percent sign":    {[]string{"--dir", filepath.Join(bot, "plugins", "acme"), "--display", "100%", "acme"}, "percent signs"},
		"a carriage return": {[]string{"--dir", filepath.Join(bot, "plugins", "acme"), "--display", "Ac\rme", "acme"}, "control characters"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := runPluginNew(tc.args, &out)
			var ee *exitError
			require.True(t, errors.As(err, &ee), "%v", err)
			assert.Equal(t, exitInvalid, ee.code)
			assert.Contains(t, ee.msg, tc.want)
			for _, dir := range []string{bot, other} {
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				assert.Len(t, entries, 1, "nothing written beside go.mod in %s", dir)
			}
		})
	}
}

// make plugin takes NAME by bot plugin new's rule, before any shell sees
// it: a name that is shell text is refused, not run.
func TestPluginNewNameRuleHoldsForMakePlugin(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on this machine")
	}
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	for _, name := range []string{"x; touch " + pwned + ";", "x$$(touch " + pwned + ")", "$(shell touch " + pwned + ")", "Acme", "1acme", "two words", "../acme"} {
		cmd := exec.Command("make", "-C", filepath.Join("..", ".."), "plugin", "NAME="+name)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("make plugin NAME=%q succeeded:\n%s", name, out)
		}
		if !strings.Contains(string(out), "NAME must be lower-case letters, digits and dashes, starting with a letter") {
			t.Errorf("make plugin NAME=%q: the refusal does not give the rule:\n%s", name, out)
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("a shell command in NAME ran")
	}
}
