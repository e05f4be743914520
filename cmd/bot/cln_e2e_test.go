package main_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/plugins/cln/sim"
)

func TestCLNRegisterNeedsApprovalThenShowsInTheList(t *testing.T) {
	testbin.Plugin(t, "cln")
	dir := workDir(t)
	a, r := execIn(t, dir, "bob", "/cln ipl register 203.0.113.7 type=kernelcare")
	require.Equal(t, 4, r.code, "registration waits for approval: %s %s", r.stdout, r.stderr)
	id := a.Approval.ID

	_, r = execIn(t, dir, "alice", "/cln ipl list")
	require.Equal(t, 0, r.code)
	assert.NotContains(t, r.stdout, "203.0.113.7", "nothing is registered before approval")

	a, r = execIn(t, dir, "carol", "/ops approve "+id)
	require.Equal(t, 0, r.code, "%s %s", r.stdout, r.stderr)
	assert.Equal(t, "succeeded", a.Approval.State)

	list := runBot(t, botIn(t, dir, "exec", "--as", "alice", "/cln ipl list"))
	require.Equal(t, 0, list.code, list.stderr)
	assert.Regexp(t, `203\.0\.113\.7 +16 +KernelCare`, list.stdout)
}

func TestCLNSecretKeyNeverLeaks(t *testing.T) {
	const canary = "CANARY-cln-key-9b8a7c6d"
	s, err := sim.New(sim.Options{Accounts: map[string]string{"reseller": canary}})
	require.NoError(t, err)
	base := serve(t, s) + "/api"
	dir := workDir(t)
	cfg := config{Plugins: []installed{{Name: "cln", Targets: []target{{Name: "main",
		Settings: map[string]string{"base_url": base, "login": "reseller"}, Secrets: map[string]string{"secret_key": "CLN_SECRET"}}}}}}.write(t, dir)
	out := transcript(t, dir, cfg, []string{"CLN_SECRET=" + canary},
		as{"alice", "/cln kcare key list reveal=yes"},
		as{"alice", "/cln ipl check 203.0.113.10"},
		as{"alice", "/cln ipl convert 192.0.2.1 type=41 to=43"}, // fails: not found
		as{"erin", "/cln ipl remove 192.0.2.1 type=16"},         // needs approval; the plan is shown
		as{"alice", "/cln kcare nagios reseller"},               // the token travels in the path
	)
	assert.Contains(t, out, "WsTs821nSAtiastD", "the commands ran")
	assert.Contains(t, out, "token=[REDACTED]", "the plan shows the call with the token hidden")
	assert.Contains(t, out, "nagios-res/reseller/[REDACTED]")
	assert.NotContains(t, out, canary)
	assert.NotContains(t, out, "reseller|", "no token reaches a log or an answer")
}
