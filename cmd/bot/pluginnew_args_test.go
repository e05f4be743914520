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
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("// a module\nmodule example.com/desk\n\ngo 1.26\n"), 0o644))
	got, err := importPath(filepath.Join(root, "plugins", "dns", "acme"))
	require.NoError(t, err)
	assert.Equal(t, "example.com/desk/plugins/dns/acme", got)
}

// make plugin takes NAME by bot plugin new's rule, before any shell sees
// it: a name that is shell text is refused, not run.
func TestPluginNewNameRuleHoldsForMakePlugin(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on this machine")
	}
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	for _, name := range []string{"x; touch " + pwned + ";", "x$$(touch " + pwned + ")", "Acme", "1acme", "two words", "../acme"} {
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
