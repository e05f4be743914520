package main_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/ionos/sim"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

// A reboot is high risk: bob asks, carol approves, the reboot runs with
// progress until the server is back.
func TestIONOSRebootNeedsApprovalThenRunsWithProgress(t *testing.T) {
	dir := workDir(t)
	// The simulator's clock moves half a second per call: each phase of
	// the 3 s reboot takes six polls, however slow the machine is.
	cfg := sandboxConfig(t, dir, "ionos", map[string]string{"sim_time_per_call": "500ms", "poll": "100ms"})
	a, r := execIn(t, dir, "bob", "/ionos server reboot web01", "--config", cfg)
	require.Equal(t, 4, r.code, "the reboot waits for approval: %s %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Reboot (software): web01 (39AA65F5D5B02FA02D58173094EBAF95, POWERED_ON)")

	st := runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "alice", "/ionos server status web01"))
	assert.Contains(t, st.stdout, "POWERED_ON", "nothing happens before approval")

	r = runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "carol", "/ops approve "+a.Approval.ID))
	require.Equal(t, 0, r.code, "%s %s", r.stdout, r.stderr)
	out := r.stdout + r.stderr
	assert.Regexp(t, `POWERING_OFF \d+%`, out, "progress while it goes down")
	assert.Regexp(t, `POWERING_ON \d+%`, out, "and while it comes back")
	assert.Contains(t, out, "Server web01 is POWERED_ON.")

	// It ran once: approving again is refused.
	r = runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "dan", "/ops approve "+a.Approval.ID))
	assert.NotEqual(t, 0, r.code)
}

func TestIONOSFirstPasswordNeverLeaks(t *testing.T) {
	const key = "CANARY-ionos-key-e2e-5b4a"
	const pw = "CANARY-ionos-first-password-e2e-3c2d"
	s, err := sim.New(sim.Options{Token: key, FirstPassword: pw, ActionTime: time.Second, Clock: sandbox.Stepped(250 * time.Millisecond)})
	require.NoError(t, err)
	base := serve(t, s) + "/v1"
	dir := workDir(t)
	cfg := config{Plugins: []installed{{Name: "ionos", Targets: []target{{Name: "main",
		Settings: map[string]string{"base_url": base, "poll": "100ms"}, Secrets: map[string]string{"api_key": "IONOS_KEY"}}}}}}.write(t, dir)
	out := transcript(t, dir, cfg, []string{"IONOS_KEY=" + key},
		as{"alice", "/ionos server list"},
		as{"alice", "/ionos server info web01"},
		as{"alice", "/ionos call list servers"},
		as{"alice", "/ionos call get servers server_id=39AA65F5D5B02FA02D58173094EBAF95"},
		as{"alice", "/ionos server on staging"},
	)
	assert.Contains(t, out, "first_password", "the field was there, masked")
	assert.Contains(t, out, "Server staging is POWERED_ON.")
	assert.NotContains(t, out, pw)
	assert.NotContains(t, out, key)
}
