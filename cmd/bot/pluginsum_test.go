package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePlugins writes executables with distinct contents into dir/plugins
// and returns their digests by name.
func fakePlugins(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	pdir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, n := range names {
		body := []byte("#!/bin/false\n# plugin " + n + "\n")
		if err := os.WriteFile(filepath.Join(pdir, n), body, 0o755); err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(body)
		sums[n] = hex.EncodeToString(h[:])
	}
	return sums
}

func runBot(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const wrongPin = "0000000000000000000000000000000000000000000000000000000000000000"

func TestPluginSumUpdateFixesAWrongPinAndKeepsComments(t *testing.T) {
	dir := t.TempDir()
	sums := fakePlugins(t, dir, "whm", "cln", "ionos")
	// Comments, a quoted pin, a flow mapping and odd spacing: all of it
	// must survive; only the digests change.
	cfg := `# deskbot, production
data_dir: data   # state lives here
plugins:
  dir: plugins
  list:
    # the cPanel/WHM fleet
    - name: whm
      path: whm
      sha256: "` + wrongPin + `"   # pinned 2024
      targets: [{name: sandbox, sandbox: true}]
    - name: cln
      sha256: ` + sums["cln"] + `
    - {name: ionos, sha256: 'ABCDEF', targets: [{name: sandbox, sandbox: true}]}
`
	path := filepath.Join(dir, "bot.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runBot(t, "plugin", "sum", "--update", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := strings.Replace(cfg, wrongPin, sums["whm"], 1)
	want = strings.Replace(want, "'ABCDEF'", "'"+sums["ionos"]+"'", 1)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("config after update:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range []string{
		"whm: 000000000000… -> " + sums["whm"][:12] + "…",
		"cln: unchanged",
		"ionos: abcdef -> " + sums["ionos"][:12] + "…",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode after update: %v, want 0640", st.Mode().Perm())
	}
	loaded, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range loaded.Plugin.List {
		if p.SHA256 != sums[p.Name] {
			t.Errorf("plugin %s pinned to %s, want %s", p.Name, p.SHA256, sums[p.Name])
		}
	}

	// A second run finds nothing to do.
	code, out, errs = runBot(t, "plugin", "sum", "--update", path)
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errs)
	}
	if out != "whm: unchanged\ncln: unchanged\nionos: unchanged\n" {
		t.Errorf("second run printed:\n%s", out)
	}
	noTempFiles(t, dir)
}

func TestPluginSumUpdateMissingExecutableChangesNothing(t *testing.T) {
	dir := t.TempDir()
	fakePlugins(t, dir, "whm")
	cfg := `data_dir: data
plugins:
  dir: plugins
  sums: SHA256SUMS
  list:
    - name: whm
      sha256: ` + wrongPin + `
    - name: cloudflow
`
	path := filepath.Join(dir, "bot.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runBot(t, "plugin", "sum", "--update", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (stdout %q, stderr %q)", code, out, errs)
	}
	if !strings.Contains(errs, "plugin cloudflow: no executable at "+filepath.Join(dir, "plugins", "cloudflow")) || !strings.Contains(errs, "nothing was changed") {
		t.Errorf("error does not name the missing executable: %s", errs)
	}
	if out != "" {
		t.Errorf("printed changes although nothing changed: %s", out)
	}
	got, _ := os.ReadFile(path)
	if string(got) != cfg {
		t.Errorf("config changed:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "SHA256SUMS")); !os.IsNotExist(err) {
		t.Errorf("sums file written: %v", err)
	}
	noTempFiles(t, dir)
}

func TestPluginSumUpdateRewritesTheSumsFile(t *testing.T) {
	dir := t.TempDir()
	sums := fakePlugins(t, dir, "whm", "cln", "ionos")
	cfg := `data_dir: data
plugins:
  dir: plugins
  sums: plugins/SHA256SUMS   # written by the image build
  list:
    - name: whm        # pin from the sums file
    - name: cln
      path: ./cln
    - name: ionos
      sha256: ` + wrongPin + `   # its own pin wins
`
	path := filepath.Join(dir, "bot.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sumsPath := filepath.Join(dir, "plugins", "SHA256SUMS")
	other := strings.Repeat("ab", 32) + "  example\n"
	if err := os.WriteFile(sumsPath, []byte(wrongPin+"  whm\n"+other), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runBot(t, "plugin", "sum", "--update", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	got, _ := os.ReadFile(sumsPath)
	want := sums["whm"] + "  whm\n" + other + sums["cln"] + "  cln\n"
	if string(got) != want {
		t.Errorf("sums file:\n%s\nwant:\n%s", got, want)
	}
	// No sha256 was added for the plugins pinned by the sums file; the
	// one with its own pin had it rewritten.
	gotCfg, _ := os.ReadFile(path)
	if string(gotCfg) != strings.Replace(cfg, wrongPin, sums["ionos"], 1) {
		t.Errorf("config:\n%s", gotCfg)
	}
	for _, line := range []string{
		"whm: 000000000000… -> " + sums["whm"][:12] + "… (in SHA256SUMS)",
		"cln: none -> " + sums["cln"][:12] + "… (in SHA256SUMS)",
		"ionos: 000000000000… -> " + sums["ionos"][:12] + "…",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	if st, _ := os.Stat(sumsPath); st.Mode().Perm() != 0o600 {
		t.Errorf("sums file mode %v, want 0600", st.Mode().Perm())
	}
	loaded, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range loaded.Plugin.List {
		if p.SHA256 != sums[p.Name] {
			t.Errorf("plugin %s loads with pin %s, want %s", p.Name, p.SHA256, sums[p.Name])
		}
	}
}

func TestPluginSumUpdateRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	fakePlugins(t, dir, "whm")
	for _, tc := range []struct {
		name, cfg, sums, want string
	}{
		{"no pin and no sums", "data_dir: d\nplugins:\n  dir: plugins\n  list:\n    - name: whm\n", "", "plugin whm has no sha256 and the configuration has no plugins.sums"},
		{"malformed sums file", "data_dir: d\nplugins:\n  dir: plugins\n  sums: S\n  list:\n    - name: whm\n", "deadbeef whm\n", "S:1: not a sha256sum line"},
		{"block scalar pin", "data_dir: d\nplugins:\n  dir: plugins\n  list:\n    - name: whm\n      sha256: >\n        abc\n", "", "line 6: write the sha256 as a plain or quoted hex string"},
		{"no list", "data_dir: d\n", "", "no plugins.list to pin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "bot.yaml")
			if err := os.WriteFile(path, []byte(tc.cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.sums != "" {
				if err := os.WriteFile(filepath.Join(dir, "S"), []byte(tc.sums), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errs := runBot(t, "plugin", "sum", "--update", path)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errs, tc.want)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.cfg {
				t.Errorf("config changed:\n%s", got)
			}
			if tc.sums != "" {
				if got, _ := os.ReadFile(filepath.Join(dir, "S")); string(got) != tc.sums {
					t.Errorf("sums file changed:\n%s", got)
				}
			}
		})
	}
	if code, _, errs := runBot(t, "plugin", "sum", "--update"); code != 2 || !strings.Contains(errs, "usage: bot plugin sum") {
		t.Errorf("no file: exit %d, stderr %q", code, errs)
	}
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// The updater resolves executables as the bot does: one outside
// plugins.dir, by a path or through a link, is refused and nothing is
// written, rather than pinned for a bot that would refuse to start it.
func TestPluginSumUpdateRefusesExecutablesOutsideThePluginDir(t *testing.T) {
	dir := t.TempDir()
	plugins, outside := filepath.Join(dir, "plugins"), filepath.Join(dir, "outside")
	require.NoError(t, os.MkdirAll(plugins, 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "evil"), []byte("#!/bin/false\n"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(outside, "evil"), filepath.Join(plugins, "linked")))
	for name, path := range map[string]string{"by path": "../outside/evil", "by link": "linked"} {
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(dir, "bot.yaml")
			body := "data_dir: data\nplugins:\n  dir: plugins\n  list:\n    - name: evil\n      path: " + path + "\n      sha256: " + strings.Repeat("0", 64) + "\n"
			require.NoError(t, os.WriteFile(cfg, []byte(body), 0o600))
			var out bytes.Buffer
			err := updatePins(cfg, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "outside plugins.dir")
			after, rerr := os.ReadFile(cfg)
			require.NoError(t, rerr)
			assert.Equal(t, body, string(after), "nothing was written")
		})
	}
}

// bot plugin sum --sums sets one plugin's pin in a sums file: every other
// form of its name goes, other entries, comments and their order stay,
// and a symbolic link to the file is kept, its target rewritten.
func TestPluginSumSumsSetsOnePin(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "example"), []byte("#!/bin/false\nexample v2\n"), 0o755))
	sum := sha256.Sum256([]byte("#!/bin/false\nexample v2\n"))
	want := hex.EncodeToString(sum[:])
	old, other := strings.Repeat("a", 64), strings.Repeat("b", 64)
	real := filepath.Join(dir, "real-sums")
	require.NoError(t, os.WriteFile(real, []byte("# pins, by hand\n"+other+"  whm\n"+old+" *example\r\n# more\n"+old+"  ./example\n"+other+"  zeta\n"), 0o644))
	link := filepath.Join(dir, "SHA256SUMS")
	require.NoError(t, os.Symlink("real-sums", link))

	var out bytes.Buffer
	require.NoError(t, runPlugin([]string{"sum", "--sums", link, "example"}, &out))
	assert.Equal(t, want+"  example\n", out.String())
	b, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "# pins, by hand\n"+other+"  whm\n"+want+"  example\n# more\n"+other+"  zeta\n", string(b))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.True(t, fi.Mode()&os.ModeSymlink != 0, "the link is kept")

	// A name outside the folder, or a missing executable, changes nothing.
	for _, name := range []string{"../x", "/etc/passwd", "nosuch"} {
		assert.Error(t, runPlugin([]string{"sum", "--sums", link, name}, &out), name)
	}
	b2, _ := os.ReadFile(real)
	assert.Equal(t, string(b), string(b2))
}
