package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

var examplePlugins = []string{"cln", "cloudflow", "example", "ionos", "whm"}

// exampleClone lays dir out as a fresh clone after make build:
// examples/bot.yaml (after edit) and examples/policy.yaml, the plugins in
// bin/plugins and their pins in bin/plugins/SHA256SUMS, written as make
// build writes them.
func exampleClone(t *testing.T, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	root := testbin.Root()
	b, err := os.ReadFile(filepath.Join(root, "examples", "bot.yaml"))
	require.NoError(t, err)
	example := string(b)
	if edit != nil {
		example = edit(example)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "examples"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "examples", "bot.yaml"), []byte(example), 0o600))
	testbin.Copy(t, filepath.Join(root, "examples", "policy.yaml"), filepath.Join(dir, "examples", "policy.yaml"))
	plugins := filepath.Join(dir, "bin", "plugins")
	require.NoError(t, os.MkdirAll(plugins, 0o755))
	for _, p := range examplePlugins {
		testbin.Copy(t, testbin.Plugin(t, p), filepath.Join(plugins, p))
	}
	r := runBot(t, botIn(t, plugins, append([]string{"plugin", "sum"}, examplePlugins...)...))
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, os.WriteFile(filepath.Join(plugins, "SHA256SUMS"), []byte(r.stdout), 0o644))
	return dir
}

// replace replaces old, which must be in s.
func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old)
	return strings.Replace(s, old, new, 1)
}

// realTargets uncomments the example's real targets.
func realTargets(s string) string {
	return regexp.MustCompile(`(?m)^(        )# (- name:.*|  .*)$`).ReplaceAllString(s, "$1$2")
}

// configCheck runs bot config check on the clone's example with only the
// given variables set: nothing of the test's own environment leaks in.
func configCheck(t *testing.T, dir string, vars ...string) result {
	t.Helper()
	cmd := botIn(t, dir, "config", "check", "examples/bot.yaml")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "NO_COLOR=1"}, vars...)
	return runBot(t, cmd)
}

// Canary secret values: none may appear in anything config check prints.
const (
	canarySigning = "canary-signing-7c1e0d"
	canaryBot     = "xoxb-canary-bot-51aa"
	canaryWHM     = "canary-whm-token-93f2"
	canaryCF      = "canary-cloudflow-key-0b6d"
)

var slackVars = []string{"SLACK_SIGNING_SECRET=" + canarySigning, "SLACK_BOT_TOKEN=" + canaryBot}

func assertNoCanary(t *testing.T, r result) {
	t.Helper()
	for _, c := range []string{canarySigning, canaryBot, canaryWHM, canaryCF} {
		assert.NotContains(t, r.stdout+r.stderr, c, "a secret's value was printed")
	}
}

func TestConfigCheckPassesForTheExampleOnAFreshClone(t *testing.T) {
	dir := exampleClone(t, nil)
	r := configCheck(t, dir, slackVars...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "ok    slack.signing_secret: present (env SLACK_SIGNING_SECRET)\n")
	assert.Contains(t, r.stdout, "ok    slack.bot_token: present (env SLACK_BOT_TOKEN)\n")
	assert.Contains(t, r.stdout, "ok    policy ")
	for _, p := range examplePlugins {
		assert.Regexp(t, `(?m)^ok    plugin `+p+`: .* matches plugins.sums \(`, r.stdout)
		assert.Contains(t, r.stdout, "ok    plugin "+p+" target sandbox: its settings and secrets are ones "+p+" takes\n")
	}
	assert.NotContains(t, r.stdout, "FAIL")
	assert.Regexp(t, `(?m)^\d+ checks, 0 problems$`, r.stdout)
	assertNoCanary(t, r)
}

// The example's commented-out real targets are right too: uncommented,
// with their secrets set, they pass.
func TestConfigCheckPassesForTheExamplesRealTargets(t *testing.T) {
	dir := exampleClone(t, realTargets)
	r := configCheck(t, dir, append(slackVars, "WHM_API_TOKEN="+canaryWHM, "CLN_API_KEY=x", "IONOS_API_KEY=x", "CLOUDFLOW_API_KEY="+canaryCF, "EXAMPLE_API_KEY=x")...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	for _, target := range []string{"whm target web01", "cln target production", "ionos target production", "cloudflow target production", "example target counter"} {
		assert.Contains(t, r.stdout, "ok    plugin "+target+": its settings and secrets are ones ")
	}
	assert.Contains(t, r.stdout, "ok    plugin whm target web01 secret token: present (env WHM_API_TOKEN)\n")
	assertNoCanary(t, r)
}

func TestConfigCheckNamesAMisspeltKeyWithItsLine(t *testing.T) {
	var line int
	dir := exampleClone(t, func(s string) string {
		s = replace(t, s, "  bot_token: {env: SLACK_BOT_TOKEN}", "  bot_tokn: {env: SLACK_BOT_TOKEN}")
		line = strings.Count(s[:strings.Index(s, "bot_tokn")], "\n") + 1
		return s
	})
	r := configCheck(t, dir, slackVars...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `FAIL  examples/bot.yaml:`+strconv.Itoa(line)+`: unknown key "bot_tokn" in slack (did you mean bot_token?)`+"\n")
	assert.Regexp(t, `(?m)^\d+ checks?, 1 problem$`, r.stdout)
	assertNoCanary(t, r)
}

func TestConfigCheckReportsAMissingSecretAndGoesOn(t *testing.T) {
	dir := exampleClone(t, nil)
	r := configCheck(t, dir, "SLACK_SIGNING_SECRET="+canarySigning)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "FAIL  slack.bot_token: missing: environment variable SLACK_BOT_TOKEN is not set\n")
	assert.Contains(t, r.stdout, "ok    slack.signing_secret: present (env SLACK_SIGNING_SECRET)\n")
	assert.Contains(t, r.stdout, "ok    plugin whm target sandbox: ")
	assert.Regexp(t, `(?m)^\d+ checks, 1 problem$`, r.stdout)
	assertNoCanary(t, r)
}

func TestConfigCheckReportsAWrongPinAndWhatToRun(t *testing.T) {
	dir := exampleClone(t, nil)
	sumsPath := filepath.Join(dir, "bin", "plugins", "SHA256SUMS")
	b, err := os.ReadFile(sumsPath)
	require.NoError(t, err)
	// whm pinned to cln's digest: a binary the pins do not vouch for.
	sums := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		sums[f[1]] = f[0]
	}
	require.NoError(t, os.WriteFile(sumsPath, []byte(strings.Replace(string(b), sums["whm"]+"  whm", sums["cln"]+"  whm", 1)), 0o644))

	r := configCheck(t, dir, slackVars...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `(?m)^FAIL  plugin whm: .*whm has sha256 `+sums["whm"][:12]+`, but plugins.sums pins `+sums["cln"][:12]+`: the bot will refuse to start it; if this build is the one to trust, run: bot plugin sum --update examples/bot.yaml$`, r.stdout)
	assert.Contains(t, r.stdout, "warn  plugin whm: its targets were not checked")
	assert.NotContains(t, r.stdout, "plugin whm target sandbox: its settings")
	assert.Contains(t, r.stdout, "ok    plugin cln target sandbox: ")
	assert.Regexp(t, `(?m)^\d+ checks, 1 problem, 1 warning$`, r.stdout)
}

func TestConfigCheckNamesAMisspeltTargetSettingAndTheNearestOne(t *testing.T) {
	dir := exampleClone(t, func(s string) string {
		return replace(t, realTargets(s), "base_url: https://cloud.example.net", "baseurl: https://cloud.example.net")
	})
	r := configCheck(t, dir, append(slackVars, "WHM_API_TOKEN="+canaryWHM, "CLN_API_KEY=x", "IONOS_API_KEY=x", "CLOUDFLOW_API_KEY="+canaryCF, "EXAMPLE_API_KEY=x")...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "FAIL  plugin cloudflow target production: unknown setting baseurl (did you mean base_url?); settings: base_url, poll, timeout, user\n")
	assert.Contains(t, r.stdout, "FAIL  plugin cloudflow target production: setting base_url is required (")
	assert.Contains(t, r.stdout, "ok    plugin cloudflow target sandbox: ")
	assert.Regexp(t, `(?m)^\d+ checks, 2 problems$`, r.stdout)
	assertNoCanary(t, r)
}

func TestConfigCheckGoesOnPastAPluginThatCannotStart(t *testing.T) {
	dir := exampleClone(t, func(s string) string {
		return replace(t, s, "  list:\n", "  list:\n    - name: broken\n      targets: [{name: sandbox, sandbox: true}]\n")
	})
	plugins := filepath.Join(dir, "bin", "plugins")
	require.NoError(t, os.WriteFile(filepath.Join(plugins, "broken"), []byte("#!/bin/sh\necho this is no plugin >&2\nexit 3\n"), 0o755))
	r := runBot(t, botIn(t, plugins, "plugin", "sum", "broken"))
	require.Equal(t, 0, r.code, r.stderr)
	f, err := os.OpenFile(filepath.Join(plugins, "SHA256SUMS"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(r.stdout)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r = configCheck(t, dir, slackVars...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `(?m)^FAIL  plugin broken: does not start, so its targets were not checked: start .*broken: `, r.stdout)
	for _, p := range examplePlugins {
		assert.Contains(t, r.stdout, "ok    plugin "+p+" target sandbox: ")
	}
	assert.Regexp(t, `(?m)^\d+ checks, 1 problem$`, r.stdout)
}

func TestConfigCheckUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"config"}, {"config", "check"}, {"config", "frob", "x.yaml"}, {"config", "check", "a.yaml", "b.yaml"}} {
		r := runBot(t, botIn(t, dir, args...))
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stdout+r.stderr)
		assert.Contains(t, r.stderr, "usage: bot config check FILE", args)
	}
	r := runBot(t, botIn(t, dir, "config", "check", "-h"))
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "exit status: 0 everything passed, 1 a problem was found, 2 usage")
	r = runBot(t, botIn(t, dir, "config", "check", "missing.yaml"))
	assert.Equal(t, 1, r.code, "a file that does not exist is a problem found, not a usage error")
	assert.Contains(t, r.stdout, "FAIL  open missing.yaml: no such file or directory")
}

func TestConfigCheckReportsABadPolicyAsPolicyCheckDoes(t *testing.T) {
	dir := exampleClone(t, nil)
	policy := filepath.Join(dir, "examples", "policy.yaml")
	require.NoError(t, os.WriteFile(policy, []byte("users:\n  alice: {roles: [nosuchrole]}\n"), 0o600))
	want := runBot(t, botIn(t, dir, "policy", "check", "examples/policy.yaml"))
	require.Equal(t, 1, want.code, want.stdout)
	r := configCheck(t, dir, slackVars...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "FAIL  policy: "+policy+":1: version is missing (write version: 1)\n")
	for _, line := range strings.Split(strings.TrimSpace(want.stdout), "\n") {
		_, problem, _ := strings.Cut(line, "examples/policy.yaml:")
		assert.Contains(t, r.stdout, policy+":"+problem+"\n", "bot policy check says it")
	}
	assert.Contains(t, r.stdout, "ok    plugin whm target sandbox: ")
	assert.Regexp(t, `(?m)^\d+ checks, 1 problem$`, r.stdout)
}

// What bot serve would trip on, the check finds first, without showing a
// value: a DSN that does not parse, an old audit key that is the current
// one, a secret file that is empty.
func TestConfigCheckCatchesBadSecretValuesWithoutShowingThem(t *testing.T) {
	const canaryDSN, canaryKey = "canary-dsn-password-3d1f", "canary-audit-key-0123456789abcdef"
	dir := exampleClone(t, func(s string) string {
		s = replace(t, s, "store:\n  driver: sqlite\n", "store:\n  driver: postgres\n  dsn: {env: DESKBOT_STORE_DSN}\n")
		s = replace(t, s, "# approval_key: {env: DESKBOT_APPROVAL_KEY}", "approval_key: {file: approval.key}")
		s = replace(t, s, "# audit_key: {env: DESKBOT_AUDIT_KEY}", "audit_key: {env: DESKBOT_AUDIT_KEY}\naudit:\n  previous_keys:\n    - {env: DESKBOT_AUDIT_KEY_OLD}\n")
		return s
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "examples", "approval.key"), nil, 0o600))
	r := configCheck(t, dir, append(slackVars,
		"DESKBOT_STORE_DSN=host=db password = "+canaryDSN+" port=notnum",
		"DESKBOT_AUDIT_KEY="+canaryKey, "DESKBOT_AUDIT_KEY_OLD="+canaryKey)...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "FAIL  store.dsn: present (env DESKBOT_STORE_DSN) but not a PostgreSQL connection string")
	assert.Contains(t, r.stdout, "FAIL  audit.previous_keys[0]: present (env DESKBOT_AUDIT_KEY_OLD) but it is the audit_key itself")
	assert.Contains(t, r.stdout, "FAIL  approval_key: present (file approval.key) but empty")
	assert.Regexp(t, `(?m)^\d+ checks, 3 problems$`, r.stdout)
	assert.NotContains(t, r.stdout+r.stderr, canaryDSN)
	assert.NotContains(t, r.stdout+r.stderr, canaryKey)
	assertNoCanary(t, r)
}
