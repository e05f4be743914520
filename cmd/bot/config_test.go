package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/internal/pluginhost"
)

// pinDir makes a plugin directory holding a file per name (their content
// their name: only their digests matter here) and returns it with the
// digests.
func pinDir(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	plugins := filepath.Join(dir, "plugins")
	require.NoError(t, os.MkdirAll(plugins, 0o755))
	sums := map[string]string{}
	for _, n := range names {
		p := filepath.Join(plugins, n)
		require.NoError(t, os.WriteFile(p, []byte("plugin "+n), 0o755))
		s, err := pluginhost.FileSHA256(p)
		require.NoError(t, err)
		sums[n] = s
	}
	return sums
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestPluginsSumsPinsThePluginsWithoutTheirOwnSHA256(t *testing.T) {
	dir := t.TempDir()
	sums := pinDir(t, dir, "whm", "cln")
	own := strings.Repeat("ab", 32)
	writeFile(t, filepath.Join(dir, "plugins", "SHA256SUMS"), fmt.Sprintf("# written by make build\n%s  ./whm\n\n%s *cln\n", sums["whm"], strings.ToUpper(sums["cln"])))
	cfg, err := LoadConfig(writeFile(t, filepath.Join(dir, "bot.yaml"), fmt.Sprintf(`
data_dir: data
plugins:
  dir: plugins
  sums: plugins/SHA256SUMS
  list:
    - name: whm
    - name: cln
      sha256: %s
`, own)))
	require.NoError(t, err)
	assert.Equal(t, sums["whm"], cfg.Plugin.List[0].SHA256, "whm takes its pin from the sums file")
	assert.Equal(t, own, cfg.Plugin.List[1].SHA256, "a plugin's own sha256 wins over the sums file")
	assert.Equal(t, filepath.Join(dir, "plugins", "SHA256SUMS"), cfg.Plugin.Sums, "plugins.sums is relative to the configuration's directory")
}

func TestPluginsSumsProblemsStopTheLoadWithAClearError(t *testing.T) {
	good := strings.Repeat("0f", 32)
	cases := []struct {
		name, sums, plugins string
		want                []string
	}{
		{"sums file missing", "", "sums: nowhere/SHA256SUMS\n  list: [{name: whm}]", []string{"plugins.sums:", "nowhere/SHA256SUMS does not exist"}},
		{"malformed line", good + "  whm\n" + good + "  cln\nnot a sum line\n", "sums: SHA256SUMS\n  list: [{name: whm}]", []string{"SHA256SUMS:3: not a sha256sum line"}},
		{"short digest", "abc123  whm\n", "sums: SHA256SUMS\n  list: [{name: whm}]", []string{"SHA256SUMS:1: not a sha256sum line"}},
		{"listed twice", good + "  whm\n" + strings.Repeat("1e", 32) + "  whm\n", "sums: SHA256SUMS\n  list: [{name: whm}]", []string{"SHA256SUMS:2: whm is listed again with another digest (first on line 1)"}},
		{"plugin not listed", good + "  cln\n", "sums: SHA256SUMS\n  list: [{name: cln}, {name: whm}]", []string{`plugin "whm" has no sha256`, "SHA256SUMS has no line for whm", "bot plugin sum"}},
		{"no sums and no sha256", "", "list: [{name: whm}]", []string{`plugin "whm" has no sha256 and no plugins.sums is set`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.sums != "" {
				writeFile(t, filepath.Join(dir, "SHA256SUMS"), c.sums)
			}
			path := writeFile(t, filepath.Join(dir, "bot.yaml"), "data_dir: data\nplugins:\n  dir: plugins\n  "+c.plugins+"\n")
			_, err := LoadConfig(path)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.True(t, strings.HasPrefix(err.Error(), path+": "), "the error names the configuration: %v", err)
		})
	}
}

func TestAnUnknownKeyIsNamedWithItsLineItsPlaceAndTheNearestKey(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "bot.yaml"), `data_dir: data
slack:
  singing_secret: {env: S}
plugins:
  dir: plugins
  list:
    - name: whm
      sha256: `+strings.Repeat("0f", 32)+`
      targets:
        - name: web01
          settings: {host: web01.example.net}
          baseurl: https://web01.example.net
lisen: 127.0.0.1:8080
`)
	_, err := LoadConfig(path)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 3, err.Error())
	assert.Equal(t, path+`:3: unknown key "singing_secret" in slack (did you mean signing_secret?)`, lines[0])
	assert.Equal(t, path+`:12: unknown key "baseurl" in plugins.list[0].targets[0]; a provider's settings go under settings:, its secrets under secrets:`, lines[1])
	assert.Equal(t, path+`:13: unknown key "lisen" at the top level (did you mean listen?)`, lines[2])
}

// configKeyPaths lists every key a configuration file can hold, as the
// configuration reference names them: "plugins.list[].targets[].name".
// Secret references, durations and maps are leaves.
func configKeyPaths() []string {
	var out []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == durationType || reflect.PointerTo(t).Implements(unmarshalerType):
		case t.Kind() == reflect.Slice:
			walk(t.Elem(), path+"[]")
		case t.Kind() == reflect.Struct:
			for name, f := range yamlFields(t) {
				p := joinPath(path, name)
				out = append(out, p)
				walk(f.Type, p)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	sort.Strings(out)
	return out
}

func TestConfigKeyPathsWalkTheWholeTree(t *testing.T) {
	paths := configKeyPaths()
	for _, want := range []string{"data_dir", "slack.app_token", "audit.ship.syslog.tls.key_file", "plugins.sums", "plugins.list[].targets[].state_dir", "audit.previous_keys"} {
		assert.Contains(t, paths, want)
	}
	assert.NotContains(t, paths, "slack.bot_token.env", "a secret reference is one key")
}

// Every key of the configuration has a row in one of the reference's
// tables, by its full path. Syslog and webhook sinks have theirs under
// both of their places.
func TestConfigurationReferenceDocumentsEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| (`[^|]*`) \\|").FindAllStringSubmatch(string(doc), -1) {
		for _, key := range strings.Split(m[1], ", ") {
			documented[strings.Trim(key, "`")] = true
		}
	}
	for _, p := range configKeyPaths() {
		if p == "audit.checkpoints" || p == "audit.ship" {
			continue // sections, documented through their keys
		}
		assert.True(t, documented[p], "docs/configuration.md has no table row for %s", p)
	}
}

// Every key appears in the example configuration, set or commented out.
func TestExampleConfigurationShowsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "bot.yaml"))
	require.NoError(t, err)
	for _, p := range configKeyPaths() {
		parts := strings.Split(p, ".")
		key := strings.TrimSuffix(parts[len(parts)-1], "[]")
		assert.Regexp(t, `(?m)^\s*#?\s*(- )?`+regexp.QuoteMeta(key)+`:|[{,]\s*`+regexp.QuoteMeta(key)+`:`, string(b), "examples/bot.yaml does not show %s", p)
	}
}

// The reference's YAML examples are configurations the bot reads.
func TestConfigurationReferenceExamplesLoad(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, blocks)
	for _, m := range blocks {
		assert.Empty(t, unknownKeys([]byte(m[1])), "docs/configuration.md:\n%s", m[1])
		dec := yaml.NewDecoder(strings.NewReader(m[1]))
		dec.KnownFields(true)
		var cfg Config
		assert.NoError(t, dec.Decode(&cfg), "docs/configuration.md:\n%s", m[1])
	}
}

// The example loads as a fresh clone has it after make build: the plugins
// in bin/plugins and their pins in bin/plugins/SHA256SUMS.
func TestExampleConfigurationLoads(t *testing.T) {
	root := filepath.Join("..", "..")
	dir := t.TempDir()
	for _, f := range []string{"bot.yaml", "policy.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "examples", f))
		require.NoError(t, err)
		writeFile(t, filepath.Join(dir, "examples", f), string(b))
	}
	sums := pinDir(t, filepath.Join(dir, "bin"), "whm", "cln", "ionos", "cloudflow", "example")
	var lines strings.Builder
	for _, n := range []string{"cln", "cloudflow", "example", "ionos", "whm"} {
		fmt.Fprintf(&lines, "%s  %s\n", sums[n], n)
	}
	writeFile(t, filepath.Join(dir, "bin", "plugins", "SHA256SUMS"), lines.String())
	cfg, err := LoadConfig(filepath.Join(dir, "examples", "bot.yaml"))
	require.NoError(t, err)
	var names []string
	for _, p := range cfg.Plugin.List {
		names = append(names, p.Name)
		assert.Equal(t, sums[p.Name], p.SHA256, p.Name)
		require.NotEmpty(t, p.Targets, p.Name)
		assert.True(t, p.Targets[0].Sandbox, "%s's active target is a sandbox", p.Name)
	}
	assert.ElementsMatch(t, []string{"whm", "cln", "ionos", "cloudflow", "example"}, names)
	assert.Equal(t, filepath.Join(dir, "data"), cfg.DataDir)
	assert.Equal(t, filepath.Join(dir, "examples", "policy.yaml"), cfg.Policy)
}

// A secret reference takes env or file and nothing else: a misspelt key
// or a value pasted where a name belongs is refused, and never echoed.
func TestSecretReferencesRefuseOtherKeysAndPastedValues(t *testing.T) {
	const canary = "xoxb-CANARY-5150"
	for name, ref := range map[string]string{
		"a value beside env":   "{env: SLACK_BOT_TOKEN, value: " + canary + "}",
		"a misspelt file key":  "{env: SLACK_BOT_TOKEN, fiel: x}",
		"a token named as env": "{env: " + canary + "}",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bot.yaml")
			require.NoError(t, os.WriteFile(p, []byte("data_dir: data\nslack:\n  bot_token: "+ref+"\n"), 0o600))
			_, err := LoadConfig(p)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), canary)
			assert.Contains(t, err.Error(), "line 3")
		})
	}
}

// The inbox's timing is checked at load: a lease or sweep too short to
// renew in time is refused, naming the key; the defaults apply when unset.
func TestInboxTimingIsChecked(t *testing.T) {
	for _, tc := range []struct{ slack, want string }{
		{"  inbox_lease: 10ms\n", "slack.inbox_lease 10ms: want at least 1s"},
		{"  inbox_lease: -5s\n", "slack.inbox_lease -5s: want at least 1s"},
		{"  inbox_sweep: 1ms\n", "slack.inbox_sweep 1ms: want at least 100ms"},
	} {
		path := writeFile(t, filepath.Join(t.TempDir(), "bot.yaml"), "data_dir: data\nslack:\n  bot_token: {env: X}\n"+tc.slack)
		_, err := LoadConfig(path)
		require.Error(t, err, tc.slack)
		assert.Contains(t, err.Error(), tc.want)
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "bot.yaml"), "data_dir: data\nslack:\n  bot_token: {env: X}\n  inbox_lease: 3s\n  inbox_sweep: 500ms\n")
	cfg, err := LoadConfig(path)
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, cfg.Slack.InboxLease)
	assert.Equal(t, 500*time.Millisecond, cfg.Slack.InboxSweep)
}
