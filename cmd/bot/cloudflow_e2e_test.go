package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cloudflow/sim"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

// A rebuild is critical: two leads approve, each typing the name of what it acts on;
// it then runs once.
func TestCloudFlowRebuildNeedsTwoApproversAndRunsOnce(t *testing.T) {
	dir := workDir(t)
	// The simulator's clock moves a quarter second per call: each
	// one-second transaction of the rebuild is seen running for four
	// polls, however slow the machine is.
	cfg := sandboxConfig(t, dir, "cloudflow", map[string]string{"sim_time_per_call": "250ms", "poll": "50ms"})
	execIn := func(t *testing.T, dir, as, line string) (execAnswer, result) {
		return execIn(t, dir, as, line, "--config", cfg)
	}
	a, r := execIn(t, dir, "bob", "/cloudflow vm rebuild bakery-site template=20")
	require.Equal(t, 4, r.code, "%s %s", r.stdout, r.stderr)
	id := a.Approval.ID
	assert.Contains(t, r.stdout, "Rebuild bakery-site (#103, off) from Debian 12 x64 (now CentOS 7 x64)")

	_, r = execIn(t, dir, "carol", "/ops approve "+id+" confirm=wrong")
	assert.NotEqual(t, 0, r.code, "the typed confirmation must name the machine")
	refused, r := execIn(t, dir, "carol", "/ops approve "+id+" confirm=sandbox")
	assert.NotEqual(t, 0, r.code, "the target's name, the same for every machine on it, is not enough")
	assert.Contains(t, refused.Error, `typing the name of what it acts on, "bakery-site" (on sandbox)`)
	a, r = execIn(t, dir, "carol", "/ops approve "+id+" confirm=bakery-site")
	assert.Equal(t, 4, r.code, "one approval of two: still waiting: %s", r.stdout)
	assert.Equal(t, "pending", a.Approval.State)

	run := runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "dan", "/ops approve "+id+" confirm=bakery-site"))
	require.Equal(t, 0, run.code, "%s %s", run.stdout, run.stderr)
	assert.Contains(t, run.stdout+run.stderr, "build disk running")
	assert.Contains(t, run.stdout, "bakery-site is rebuilt.")

	again := runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "erin", "/ops approve "+id+" confirm=bakery-site"))
	assert.NotEqual(t, 0, again.code, "it ran once; approving again does nothing")

	tx := runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "alice", "/cloudflow vm transactions bakery-site"))
	require.Equal(t, 0, tx.code, tx.stderr)
	assert.Equal(t, 1, strings.Count(tx.stdout, "build disk"), "one build: %s", tx.stdout)
	info := runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "alice", "/cloudflow vm info bakery-site"))
	assert.Regexp(t, `Template +Debian 12 x64`, info.stdout)

	// Named by its id, the machine is still confirmed by its name: typing
	// back what the requester typed proves nothing.
	byID, r := execIn(t, dir, "bob", "/cloudflow vm rebuild 103 template=20")
	require.Equal(t, 4, r.code, "%s %s", r.stdout, r.stderr)
	assert.Equal(t, "bakery-site", byID.Approval.ConfirmValue)
	_, r = execIn(t, dir, "carol", "/ops approve "+byID.Approval.ID+" confirm=103")
	assert.Equal(t, 2, r.code, "the id is refused: %s", r.stdout)
}

func TestCloudFlowRootPasswordNeverLeaks(t *testing.T) {
	const key = "CANARY-cloudflow-key-e2e-77aa"
	const pw = "CANARY-cloudflow-root-e2e-88bb"
	s, err := sim.New(sim.Options{User: "desk@example.com", Password: key, RootPassword: pw, StepTime: time.Second, Clock: sandbox.Stepped(250 * time.Millisecond)})
	require.NoError(t, err)
	base := serve(t, s)
	dir := workDir(t)
	cfg := config{Plugins: []installed{{Name: "cloudflow", Targets: []target{{Name: "milan",
		Settings: map[string]string{"base_url": base, "user": "desk@example.com", "poll": "50ms"}, Secrets: map[string]string{"api_key": "CF_KEY"}}}}}}.write(t, dir)
	out := transcript(t, dir, cfg, []string{"CF_KEY=" + key},
		as{"alice", "/cloudflow vm list"},
		as{"alice", "/cloudflow vm info shop-web"},
		as{"alice", "/cloudflow vm start bakery-site"},
		as{"alice", "/cloudflow users"},
	)
	assert.Contains(t, out, "bakery-site is running.")
	assert.NotContains(t, out, pw)
	assert.NotContains(t, out, key)
}
