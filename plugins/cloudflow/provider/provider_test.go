package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cloudflow/provider"
	"github.com/deskbot/deskbot/plugins/cloudflow/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sandbox"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

const (
	apiKey = "CANARY-cloudflow-key-aa11"
	rootPW = "CANARY-root-password-bb22"
)

// newSim starts a simulator whose transactions each take step of its
// time. Its clock moves by the call, 10 ms each, not with the wall clock:
// a transaction of 150 ms runs for fifteen polls however busy the
// machine is. The target is a real one, pointed at it: the tests choose
// the root password the simulator holds.
func newSim(t *testing.T, step time.Duration) (*sim.Server, sdk.Target) {
	t.Helper()
	s, err := sim.New(sim.Options{User: "desk@example.com", Password: apiKey, StepTime: step, RootPassword: rootPW, Clock: sandbox.Stepped(10 * time.Millisecond)})
	require.NoError(t, err)
	base, stop, err := sandbox.Listen(s)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })
	return s, sdk.Target{Name: "milan", Settings: map[string]string{"base_url": base, "user": "desk@example.com", "poll": "20ms"}, Secrets: map[string]string{"api_key": apiKey}}
}

func start(t *testing.T, step time.Duration) (*sdktest.Harness, *sim.Server) {
	t.Helper()
	s, tg := newSim(t, step)
	return sdktest.Start(t, provider.New(), tg), s
}

func TestConformance(t *testing.T) {
	// Transactions of an hour: the reboot runs until it is cancelled.
	s, tg := newSim(t, time.Hour)
	sdktest.Run(t, provider.New(), sdktest.Options{
		Targets:  []sdk.Target{tg},
		Snapshot: func() (string, error) { return s.Snapshot(), nil },
		Slow:     &sdktest.Call{Command: "vm reboot", Args: sdk.Args{"vm": "shop-web"}},
		Args: map[string]sdk.Args{
			"vm info": {"vm": "shop-web"}, "vm disks": {"vm": "shop-web"}, "vm backups": {"vm": "shop-db"}, "vm transactions": {"vm": "shop-web"},
			"vm start": {"vm": "bakery-site"}, "vm shutdown": {"vm": "shop-web"}, "vm stop": {"vm": "shop-web"},
			"vm reboot": {"vm": "shop-web"}, "vm suspend": {"vm": "shop-web"}, "vm unsuspend": {"vm": "shop-web"}, "vm unlock": {"vm": "shop-web"},
			"vm rebuild": {"vm": "bakery-site", "template": "20"}, "vm resize": {"vm": "shop-web", "cpus": int64(4)},
			"backup create": {"vm": "shop-db"}, "backup restore": {"backup": int64(5001)}, "backup delete": {"backup": int64(5001)},
			"user vms": {"user": "acme"},
		},
		// The simulator starts with no VM suspended or locked: these
		// plan only for one that is.
		SkipPlan: []string{"vm unsuspend", "vm unlock"},
	})
}

func TestEveryCommandAgainstTheSimulator(t *testing.T) {
	h, s := start(t, 40*time.Millisecond)
	cases := []sdktest.Case{
		{Command: "vm list", Want: []string{"shop-web|101|running|2|2 GB|20 GB|Ubuntu 22.04 x64|198.51.100.21", "bakery-site|103|off|1|1 GB|10 GB|CentOS 7 x64"}},
		{Command: "vm list", Args: sdk.Args{"search": "198.51.100.22"}, Want: []string{"shop-db|102"}},
		{Command: "vm info", Args: sdk.Args{"vm": "shop-web"}, Want: []string{"Id=101", "Host name=shop-web.example.net", "State=running", "Template=Ubuntu 22.04 x64"}},
		{Command: "vm info", Args: sdk.Args{"vm": "102"}, Want: []string{"Host name=shop-db.example.net"}},
		{Command: "vm info", Args: sdk.Args{"vm": "shop-db.example.net"}, Want: []string{"Id=102"}},
		{Command: "vm info", Args: sdk.Args{"vm": "vm103abcdefghi"}, Want: []string{"Id=103"}},
		{Command: "vm info", Args: sdk.Args{"vm": "shopweb"}, Want: []string{"did you mean shop-web"}, Fails: true},
		{Command: "vm disks", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"1020|Disk 1|40 GB|yes|no", "1021|Disk 2|100 GB|no|no", "|Swap|1 GB|no|yes"}},
		{Command: "vm backups", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"5001|1020|", "|yes|3.0 GB|before upgrade"}},
		{Command: "vm backups", Args: sdk.Args{"vm": "shop-web"}, Want: []string{"No backups."}},
		{Command: "vm start", Args: sdk.Args{"vm": "shop-web"}, Want: []string{"already running"}, Fails: true},
		{Command: "vm start", Args: sdk.Args{"vm": "bakery-site"}, Want: []string{"bakery-site is running. (1 transactions complete: startup virtual machine)"}},
		{Command: "vm shutdown", Args: sdk.Args{"vm": "bakery-site"}, Want: []string{"bakery-site is shut down."}},
		{Command: "vm stop", Args: sdk.Args{"vm": "bakery-site"}, Want: []string{"bakery-site is off"}, Fails: true},
		{Command: "vm start", Args: sdk.Args{"vm": "bakery-site"}, Want: []string{"is running"}},
		{Command: "vm stop", Args: sdk.Args{"vm": "bakery-site"}, Want: []string{"bakery-site is powered off."}},
		{Command: "vm reboot", Args: sdk.Args{"vm": "shop-web"}, Want: []string{"shop-web is back up. (2 transactions complete: stop virtual machine, startup virtual machine)"}},
		{Command: "vm reboot", Args: sdk.Args{"vm": "shop-web", "recovery": true}, Want: []string{"reboot in recovery"}},
		{Command: "vm info", Args: sdk.Args{"vm": "shop-web"}, Want: []string{"State=running in recovery"}},
		{Command: "vm resize", Args: sdk.Args{"vm": "shop-web", "cpus": int64(4), "memory": int64(4 << 30)}, Want: []string{"shop-web is resized. (3 transactions complete: stop virtual machine, resize virtual machine, startup virtual machine)"}},
		{Command: "vm info", Args: sdk.Args{"vm": "shop-web"}, Want: []string{"CPUs=4 (100% shares)", "Memory=4 GB"}},
		{Command: "vm resize", Args: sdk.Args{"vm": "shop-web"}, Want: []string{"give cpus, memory or shares"}, Fails: true},
		{Command: "vm resize", Args: sdk.Args{"vm": "shop-web", "memory": int64(100 << 20)}, Want: []string{"at least 128 MB"}, Fails: true},
		{Command: "vm rebuild", Args: sdk.Args{"vm": "bakery-site", "template": "Debian 12 x64", "start": false}, Want: []string{"bakery-site is rebuilt. (3 transactions complete: format disk, build disk, configure operating system)"}},
		{Command: "vm info", Args: sdk.Args{"vm": "bakery-site"}, Want: []string{"Template=Debian 12 x64", "State=off"}},
		{Command: "vm rebuild", Args: sdk.Args{"vm": "bakery-site", "template": "Debain 12 x64"}, Want: []string{"did you mean Debian 12 x64?"}, Fails: true},
		{Command: "vm suspend", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"shop-db is suspended."}},
		{Command: "vm start", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"suspended; unsuspend it first"}, Fails: true},
		{Command: "vm suspend", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"already suspended"}, Fails: true},
		{Command: "vm unsuspend", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"shop-db is no longer suspended."}},
		{Command: "vm unsuspend", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"is not suspended"}, Fails: true},
		{Command: "vm start", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"shop-db is running."}},
		{Command: "vm unlock", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"is not locked"}, Fails: true},
		{Command: "vm transactions", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"startup virtual machine|complete", "stop virtual machine|complete"}},
		{Command: "backup create", Args: sdk.Args{"vm": "shop-db", "note": "ticket 77"}, Want: []string{"of shop-db is taken."}},
		{Command: "backup create", Args: sdk.Args{"vm": "shop-db", "disk": int64(9999)}, Want: []string{"has no such disk"}, Fails: true},
		{Command: "vm backups", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"|yes|1.0 GB|ticket 77"}},
		{Command: "backup restore", Args: sdk.Args{"backup": int64(5001)}, Want: []string{"Backup 5001 is restored."}},
		{Command: "backup restore", Args: sdk.Args{"backup": int64(42)}, Want: []string{"there is no backup 42"}, Fails: true},
		{Command: "backup delete", Args: sdk.Args{"backup": int64(5001)}, Want: []string{"Backup 5001 is deleted."}},
		{Command: "vm backups", Args: sdk.Args{"vm": "shop-db"}, Want: []string{"ticket 77"}},
		{Command: "templates", Args: sdk.Args{"search": "ubuntu"}, Want: []string{"12|Ubuntu 22.04 x64|linux/ubuntu|22.04|10 GB|1 GB"}},
		{Command: "hypervisors", Want: []string{"1|milan-hv01|10.0.0.11|yes|kvm|96 GB of 256 GB"}},
		{Command: "users", Want: []string{"7|acme|ops@acme.example|Acme Ltd|active"}},
		{Command: "users", Args: sdk.Args{"search": "bakery"}, Want: []string{"8|bakery"}},
		{Command: "user vms", Args: sdk.Args{"user": "acme"}, Want: []string{"shop-web|101", "shop-db|102"}},
		{Command: "user vms", Args: sdk.Args{"user": "acmee"}, Want: []string{"did you mean acme?"}, Fails: true},
	}
	h.Cases(t, cases, rootPW, apiKey)
	v, _ := s.VM(101)
	assert.Equal(t, 4, v.CPUs)
}

func TestRebootShowsProgressThenCompletion(t *testing.T) {
	h, s := start(t, 150*time.Millisecond)
	out := h.Execute("vm reboot", sdk.Args{"vm": "shop-web"})
	require.False(t, out.Failed(), out.Text)
	var msgs []string
	for _, pg := range out.Progress {
		msgs = append(msgs, fmt.Sprintf("%s %d%% %s", pg.State, pg.Percent, pg.Message))
	}
	joined := strings.Join(msgs, "\n")
	assert.Contains(t, joined, "stop virtual machine running (0 of 2 done)")
	assert.Contains(t, joined, "startup virtual machine running (1 of 2 done)")
	assert.Contains(t, joined, "complete 100% 2 of 2 done")
	assert.Contains(t, out.Text, "shop-web is back up.")
	v, _ := s.VM(101)
	assert.True(t, v.Booted)
}

func TestLockedMachinesAndStillRunning(t *testing.T) {
	t.Parallel()
	// The reboot never ends (an hour at 10 ms a call). The answer comes a
	// little before the bot's deadline, which is real time; it is
	// generous, so that the reboot is under way well before it.
	h, _ := start(t, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := h.ExecuteRequest(ctx, sdk.Request{Command: "vm reboot", Args: sdk.Args{"vm": "shop-db"}})
	assert.Contains(t, out.Text, "Still running at CloudFlow (running 0%). Check with /cloudflow vm transactions shop-db.")
	// Locked while the reboot runs: other actions are refused before they are sent.
	out = h.Execute("vm stop", sdk.Args{"vm": "shop-db"})
	assert.True(t, out.Failed())
	assert.Contains(t, out.Text, "locked while a transaction runs")
	pr := h.Plan("vm unlock", sdk.Args{"vm": "shop-db"})
	require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
	assert.Contains(t, pr.Plan.Summary, "will be abandoned")
	out = h.Execute("vm unlock", sdk.Args{"vm": "shop-db"})
	assert.Contains(t, out.Text, "shop-db is unlocked.")
}

func TestRootPasswordNeverShown(t *testing.T) {
	h, s := start(t, 20*time.Millisecond)
	var all strings.Builder
	for _, c := range []struct {
		name string
		args sdk.Args
	}{
		{"vm list", nil}, {"vm info", sdk.Args{"vm": "shop-web"}}, {"vm reboot", sdk.Args{"vm": "shop-web"}},
		{"vm rebuild", sdk.Args{"vm": "bakery-site", "template": "12"}}, {"users", nil}, {"user vms", sdk.Args{"user": "acme"}},
	} {
		pr := h.Plan(c.name, c.args)
		out := h.Execute(c.name, c.args)
		all.WriteString(fmt.Sprintf("%+v %+v %+v %s", pr, *out.Result, out.Progress, out.Text))
	}
	out := all.String()
	assert.NotContains(t, out, rootPW)
	assert.NotContains(t, out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4", "users' API keys")
	assert.Contains(t, s.Snapshot(), rootPW, "the simulator does hold it")
}

// A plan is made from the machine's state, which its steps do not show:
// its power, its lock, the template it runs, its size, a backup's
// machine. If that state changes between the approval and the run, the
// approved plan is refused before anything is sent; planned again, it
// runs.
func TestAnApprovedPlanWhoseFactsChangedIsRefused(t *testing.T) {
	type command struct {
		name string
		args sdk.Args
	}
	cases := map[string]struct {
		approved  command
		meanwhile command
	}{
		"a rebuild of a machine started since": {
			command{"vm rebuild", sdk.Args{"vm": "bakery-site", "template": "20"}}, command{"vm start", sdk.Args{"vm": "bakery-site"}}},
		"a rebuild of a machine rebuilt since": {
			command{"vm rebuild", sdk.Args{"vm": "bakery-site", "template": "20", "start": false}}, command{"vm rebuild", sdk.Args{"vm": "bakery-site", "template": "12", "start": false}}},
		"a resize of a machine resized since": {
			command{"vm resize", sdk.Args{"vm": "shop-web", "cpus": int64(4)}}, command{"vm resize", sdk.Args{"vm": "shop-web", "memory": int64(4 << 30)}}},
		"a shutdown of a machine rebooted into recovery since": {
			command{"vm shutdown", sdk.Args{"vm": "shop-web"}}, command{"vm reboot", sdk.Args{"vm": "shop-web", "recovery": true}}},
		"a restore onto a machine stopped since": {
			command{"backup restore", sdk.Args{"backup": int64(5001)}}, command{"vm stop", sdk.Args{"vm": "shop-db"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h, s := start(t, 40*time.Millisecond)
			pr := h.Plan(tc.approved.name, tc.approved.args)
			require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
			out := h.Execute(tc.meanwhile.name, tc.meanwhile.args)
			require.False(t, out.Failed(), out.Text)
			again := h.Plan(tc.approved.name, tc.approved.args)
			require.NotNil(t, again.Plan, "%v", again.Diagnostics)
			assert.Equal(t, pr.Plan.Steps, again.Plan.Steps, "the steps alone do not show the change")

			before := len(s.Calls())
			out = h.ExecuteRequest(context.Background(), sdk.Request{Command: tc.approved.name, Args: tc.approved.args, PlanDigest: pr.Plan.Digest})
			require.True(t, out.Failed(), out.Text)
			assert.Contains(t, out.Text, "differs from the plan that was approved; nothing was run")
			for _, c := range s.Calls()[before:] {
				assert.True(t, strings.HasPrefix(c, "GET "), "sent after the refusal: %s", c)
			}

			out = h.ExecuteRequest(context.Background(), sdk.Request{Command: tc.approved.name, Args: tc.approved.args, PlanDigest: again.Plan.Digest})
			assert.False(t, out.Failed(), out.Text)
		})
	}
}

// Unlocking abandons the transactions that hold the machine when it is
// planned; if others hold it by the time it runs, it is refused.
func TestAnApprovedUnlockIsRefusedIfOtherTransactionsHoldTheMachine(t *testing.T) {
	s, tg := newSim(t, time.Hour) // transactions that never end
	h := sdktest.Start(t, provider.New(), tg)
	panel := controlPanel(t, tg)
	panel(http.MethodPost, "/virtual_machines/102/reboot.json")
	pr := h.Plan("vm unlock", sdk.Args{"vm": "shop-db"})
	require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
	assert.Contains(t, pr.Plan.Summary, "(stop virtual machine) is running and will be abandoned")
	// Someone unlocks it in the control panel and shuts it down.
	panel(http.MethodPost, "/virtual_machines/102/unlock.json")
	panel(http.MethodPost, "/virtual_machines/102/shutdown.json")

	before := len(s.Calls())
	out := h.ExecuteRequest(context.Background(), sdk.Request{Command: "vm unlock", Args: sdk.Args{"vm": "shop-db"}, PlanDigest: pr.Plan.Digest})
	require.True(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "differs from the plan that was approved; nothing was run")
	for _, c := range s.Calls()[before:] {
		assert.True(t, strings.HasPrefix(c, "GET "), "sent after the refusal: %s", c)
	}
}

// controlPanel calls the simulator as another user of the control panel
// would, behind the bot's back.
func controlPanel(t *testing.T, tg sdk.Target) func(method, path string) {
	return func(method, path string) {
		t.Helper()
		req, err := http.NewRequest(method, tg.Settings["base_url"]+path, strings.NewReader("{}"))
		require.NoError(t, err)
		req.SetBasicAuth(tg.Settings["user"], tg.Secrets["api_key"])
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Less(t, resp.StatusCode, 300, "%s %s", method, path)
	}
}

// A sandbox target serves its own simulator, keeps its state in the
// target's state folder, and finds it there when the bot starts again.
func TestSandboxTargetKeepsItsSimulatorsState(t *testing.T) {
	dir := t.TempDir()
	target := sdk.Target{Name: "sandbox", Sandbox: true, StateDir: dir, Settings: map[string]string{"step_time": "1s", "sim_time_per_call": "250ms", "poll": "10ms"}}
	h := sdktest.Start(t, provider.New(), target)
	out := h.Execute("vm start", sdk.Args{"vm": "bakery-site"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "bakery-site is running. (1 transactions complete: startup virtual machine)")
	v, _ := sdktest.Simulator[*sim.Server](h).VM(103)
	assert.True(t, v.Booted)
	require.NoError(t, h.Plugin.Close())

	h = sdktest.Start(t, provider.New(), target)
	out = h.Execute("vm info", sdk.Args{"vm": "bakery-site"})
	assert.Contains(t, out.Text, "State=running")
}
