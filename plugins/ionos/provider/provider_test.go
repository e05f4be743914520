package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/plugins/ionos/provider"
	"github.com/deskbot/deskbot/plugins/ionos/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sandbox"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

const (
	web01  = "39AA65F5D5B02FA02D58173094EBAF95"
	db01   = "4B86A3ACC4CEB7A89E012E49FC17F312"
	canary = "CANARY-first-password-77c1"
)

// simulator starts a simulator for one test, with what o leaves out
// filled in, and returns the target that reaches it.
func simulator(t *testing.T, o sim.Options) (*sim.Server, sdk.Target) {
	t.Helper()
	if o.Token == "" {
		// Each test its own key, so each its own rate limiter.
		o.Token = "CANARY-ionos-key-" + strings.ReplaceAll(t.Name(), "/", "-")
	}
	if o.ActionTime == 0 {
		o.ActionTime = 400 * time.Millisecond
	}
	if o.Clock == nil {
		// Actions move by the call, not by the wall clock: a 400 ms
		// action takes four polls however busy the machine is.
		o.Clock = sandbox.Stepped(100 * time.Millisecond)
	}
	if o.Limit == 0 {
		// The real allowance (25 a minute) is tested on its own below.
		o.Limit, o.Window = 10000, time.Second
	}
	o.FirstPassword = canary
	s, err := sim.New(o)
	require.NoError(t, err)
	base, stop, err := sandbox.Listen(s)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })
	return s, sdk.Target{Name: "main", Settings: map[string]string{"base_url": base + "/v1", "poll": "50ms"}, Secrets: map[string]string{"api_key": o.Token}}
}

// start runs the provider against a simulator of its own.
func start(t *testing.T, o sim.Options) (*sdktest.Harness, *sim.Server) {
	t.Helper()
	s, tg := simulator(t, o)
	return sdktest.Start(t, provider.New(), tg), s
}

func TestConformance(t *testing.T) {
	s, tg := simulator(t, sim.Options{})
	sdktest.Run(t, provider.New(), sdktest.Options{
		Targets:  []sdk.Target{tg},
		Snapshot: func() (string, error) { return s.Snapshot(), nil },
		Args: map[string]sdk.Args{
			"server info": {"server": "web01"}, "server status": {"server": "web01"}, "server hardware": {"server": "web01"},
			"server ips": {"server": "web01"}, "server image": {"server": "web01"}, "server on": {"server": "staging"},
			"server off": {"server": "web01"}, "server reboot": {"server": "web01"}, "server resize": {"server": "web01", "vcore": int64(2), "ram": "4"},
			"server reinstall": {"server": "staging", "image": "B5F778B85C041347BCDCFC3172AB3F3C"}, "server delete": {"server": "staging"},
			"snapshot list": {"server": "db01"}, "snapshot create": {"server": "web01"}, "snapshot restore": {"server": "db01"},
			"snapshot delete": {"server": "db01"}, "ip rdns": {"ip": "203.0.113.30", "name": "x.example.net"},
			"firewall rules": {"server": "web01"}, "dvd mount": {"server": "web01", "iso": "B675B070A3BB5C8D71B2129952F04BC8"},
			"dvd unmount": {"server": "web01"},
		},
		SkipPlan: append([]string{"dvd unmount"}, callsWithABody...),
	})
}

// callsWithABody are the generated calls whose request body has required
// fields the kit cannot make up: their plans refuse its arguments.
var callsWithABody = []string{
	"call post servers",
	"call put servers",
	"call put servers hardware",
	"call post servers hardware hdds",
	"call put servers hardware hdds",
	"call put servers image",
	"call put servers ips firewall_policy",
	"call post servers ips load_balancers",
	"call put servers status action",
	"call put servers dvd",
	"call post servers private_networks",
	"call post servers clone",
	"call post images",
	"call post block_storages",
	"call post block_storages server",
	"call post shared_storages",
	"call post shared_storages servers",
	"call put shared_storages access",
	"call post firewall_policies",
	"call post firewall_policies server_ips",
	"call post firewall_policies rules",
	"call post load_balancers",
	"call post load_balancers server_ips",
	"call post load_balancers rules",
	"call post private_networks",
	"call put private_networks",
	"call post private_networks servers",
	"call post monitoring_policies",
	"call post monitoring_policies ports",
	"call put monitoring_policies ports",
	"call post monitoring_policies processes",
	"call put monitoring_policies processes",
	"call post monitoring_policies servers",
	"call post ssh_keys",
	"call put ssh_keys",
	"call post users",
	"call post users api ips",
	"call post roles",
	"call post roles clone",
}

func TestCuratedCommandsAgainstTheSimulator(t *testing.T) {
	h, _ := start(t, sim.Options{})
	cases := []sdktest.Case{
		{Command: "status", Want: []string{"accepts this key"}},
		{Command: "server list", Want: []string{"3 servers", "web01|" + web01 + "|POWERED_ON|2 vCPU, 4 GB RAM, 80 GB disk|203.0.113.30|USA", "staging|6DD7C9714E555230BCFFED4E249358F0|POWERED_OFF"}},
		{Command: "server list", Args: sdk.Args{"search": "db"}, Want: []string{"1 servers", "db01"}},
		{Command: "server info", Args: sdk.Args{"server": "web01"}, Want: []string{"Id=" + web01, "Image=centos7-64std", "IPs=203.0.113.30"}},
		{Command: "server info", Args: sdk.Args{"server": strings.ToLower(web01)}, Want: []string{"Name=web01"}},
		{Command: "server info", Args: sdk.Args{"server": "web1"}, Want: []string{`no server called "web1"; did you mean web01?`}, Fails: true},
		{Command: "server info", Args: sdk.Args{"server": "00000000000000000000000000000000"}, Want: []string{"no server with id"}, Fails: true},
		{Command: "server status", Args: sdk.Args{"server": "staging"}, Want: []string{"POWERED_OFF"}},
		{Command: "server hardware", Args: sdk.Args{"server": "db01"}, Want: []string{"vCPU=4", "RAM (GB)=8", "|100|yes", "|200|no"}},
		{Command: "server ips", Args: sdk.Args{"server": "web01"}, Want: []string{"203.0.113.30|8D135204687B9CF9E79E7A93C096E336|IPV4|web01.example.net|Linux"}},
		{Command: "server image", Args: sdk.Args{"server": "web01"}, Want: []string{"Name=centos7-64std"}},
		{Command: "server on", Args: sdk.Args{"server": "web01"}, Want: []string{"already powered on"}, Fails: true},
		{Command: "server on", Args: sdk.Args{"server": "staging"}, Want: []string{"Server staging is POWERED_ON."}},
		{Command: "server reboot", Args: sdk.Args{"server": "staging", "method": "hardware"}, Want: []string{"Server staging is POWERED_ON."}},
		{Command: "server off", Args: sdk.Args{"server": "staging", "method": "software"}, Want: []string{"Server staging is POWERED_OFF."}},
		{Command: "server reboot", Args: sdk.Args{"server": "staging"}, Want: []string{"powered off; power it on instead"}, Fails: true},
		{Command: "server resize", Args: sdk.Args{"server": "web01", "vcore": int64(4), "cores": int64(1), "ram": "8"}, Want: []string{"Server web01 is POWERED_ON."}},
		{Command: "server hardware", Args: sdk.Args{"server": "web01"}, Want: []string{"vCPU=4", "RAM (GB)=8"}},
		{Command: "server resize", Args: sdk.Args{"server": "web01", "vcore": int64(4), "ram": "8.3"}, Want: []string{"ram"}, Fails: true},
		{Command: "server resize", Args: sdk.Args{"server": "web01"}, Want: []string{"give size=ID or vcore, cores and ram"}, Fails: true},
		{Command: "server reinstall", Args: sdk.Args{"server": "staging", "image": "07C170D67C8EC776933FCFF1C299C1C5", "password": "Sekret-Pass-99!"}, Want: []string{"Server staging is POWERED_ON."}},
		{Command: "server image", Args: sdk.Args{"server": "staging"}, Want: []string{"Name=ubuntu2204-64std"}},
		{Command: "server reinstall", Args: sdk.Args{"server": "staging", "image": "NOPE"}, Want: []string{"Image not found"}, Fails: true},
		{Command: "snapshot list", Args: sdk.Args{"server": "db01"}, Want: []string{"B77E19E062D5818532EFF11C747BD104|2026-11-20T23:48:38Z"}},
		{Command: "snapshot list", Args: sdk.Args{"server": "web01"}, Want: []string{"web01 has no snapshot."}},
		{Command: "snapshot create", Args: sdk.Args{"server": "db01"}, Want: []string{"already has a snapshot"}, Fails: true},
		{Command: "snapshot create", Args: sdk.Args{"server": "web01"}, Want: []string{"Snapshot of web01 taken."}},
		{Command: "snapshot restore", Args: sdk.Args{"server": "db01"}, Want: []string{"Server db01 is POWERED_ON."}},
		{Command: "snapshot restore", Args: sdk.Args{"server": "db01", "snapshot": "NOPE"}, Want: []string{"no snapshot NOPE"}, Fails: true},
		{Command: "snapshot delete", Args: sdk.Args{"server": "db01"}, Want: []string{"The snapshot of db01 is deleted."}},
		{Command: "snapshot restore", Args: sdk.Args{"server": "db01"}, Want: []string{"db01 has no snapshot"}, Fails: true},
		{Command: "ip list", Want: []string{"203.0.113.99|0A1B2C3D4E5F60718293A4B5C6D7E8F9|IPV4||-|ACTIVE", "203.0.113.30|8D135204687B9CF9E79E7A93C096E336|IPV4|web01.example.net|web01 (server)"}},
		{Command: "ip rdns", Args: sdk.Args{"ip": "203.0.113.99", "name": "mail.example.net."}, Want: []string{"Reverse DNS of 203.0.113.99: mail.example.net"}},
		{Command: "ip rdns", Args: sdk.Args{"ip": "203.0.113.30"}, Want: []string{"Reverse DNS of 203.0.113.30: -"}},
		{Command: "ip rdns", Args: sdk.Args{"ip": "192.0.2.1", "name": "x.example.net"}, Want: []string{"not one of this account's public IPs"}, Fails: true},
		{Command: "ip rdns", Args: sdk.Args{"ip": "203.0.113.99", "name": "not a host"}, Want: []string{"is not a host name"}, Fails: true},
		{Command: "firewall list", Want: []string{"Linux|7DFF10879F4EBA8D478A1D58A46665AE|3|203.0.113.30, 203.0.113.31, 203.0.113.32|ACTIVE", "Windows|"}},
		{Command: "firewall rules", Args: sdk.Args{"server": "web01"}, Want: []string{"TCP|22|0.0.0.0|allow|SSH", "TCP|443|0.0.0.0|allow|HTTPS"}},
		{Command: "firewall rules", Args: sdk.Args{"server": "3C4F21EDFEEDD6ABB728EA5CE684E1AF"}, Want: []string{"TCP|3389|198.51.100.0/24|allow|RDP from the office"}},
		{Command: "dvd list", Args: sdk.Args{"search": "ubuntu"}, Want: []string{"ubuntu1404-64iso|B675B070A3BB5C8D71B2129952F04BC8"}},
		{Command: "dvd unmount", Args: sdk.Args{"server": "web01"}, Want: []string{"no ISO is mounted"}, Fails: true},
		{Command: "dvd mount", Args: sdk.Args{"server": "web01", "iso": "B675B070A3BB5C8D71B2129952F04BC8"}, Want: []string{"ISO mounted in web01."}},
		{Command: "server info", Args: sdk.Args{"server": "web01"}, Want: []string{"DVD=ubuntu1404-64iso"}},
		{Command: "dvd unmount", Args: sdk.Args{"server": "web01"}, Want: []string{"The DVD drive of web01 is empty."}},
		{Command: "monitoring", Want: []string{"My Server remame|1|0|3|no"}},
		{Command: "monitoring", Args: sdk.Args{"server": "web01", "period": "LAST_7D"}, Want: []string{"Monitoring of web01"}},
		{Command: "logs", Want: []string{"|DELETE|MONITORINGPOLICY|My Monitoring Policy 1|COMPLETED"}},
		{Command: "datacenters", Want: []string{"USA|US|D0F6D8C8ED29D3036F94C27BBB7BAD36", "Spain|SP|"}},
		{Command: "appliances", Args: sdk.Args{"search": "w2012"}, Want: []string{"w2012r2datacenter64iso|55726DEDA20C99CF6F2AF8F18CAC9963"}},
		{Command: "appliances", Args: sdk.Args{"kind": "recovery"}, Want: []string{"Linux 64-bit Rescue-System"}},
		{Command: "operations", Args: sdk.Args{"search": "snapshot"}, Want: []string{"put servers snapshots|PUT|/servers/{server_id}/snapshots/{snapshot_id}|critical", "4 operations"}},
		{Command: "server delete", Args: sdk.Args{"server": "staging", "keep_ips": false}, Want: []string{"Server staging is deleted."}},
		{Command: "server list", Want: []string{"2 servers"}},
		{Command: "ip list", Args: sdk.Args{"search": "203.0.113.32"}, Want: []string{"|type|"}},
	}
	h.Cases(t, cases, canary, "Sekret-Pass-99!")
	out := h.Execute("ip list", sdk.Args{"search": "203.0.113.32"})
	assert.NotContains(t, out.Text, "203.0.113.32", "staging's IP was released with it")
}

func TestPowerOffStreamsProgress(t *testing.T) {
	h, s := start(t, sim.Options{ActionTime: 600 * time.Millisecond}) // six polls at 100 ms a call
	out := h.Execute("server off", sdk.Args{"server": "web01", "method": "software"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "Server web01 is POWERED_OFF.")
	prog := out.Progress
	var offs []sdk.Progress
	for _, pg := range prog {
		if pg.State == "POWERING_OFF" {
			offs = append(offs, pg)
		}
	}
	require.GreaterOrEqual(t, len(offs), 2, "at least two updates while it powers off: %+v", prog)
	assert.Less(t, offs[0].Percent, offs[len(offs)-1].Percent, "the percent moves")
	assert.Equal(t, "POWERED_OFF", prog[len(prog)-1].State, "the last update is the steady state")
	assert.Equal(t, "POWERED_OFF", s.ServerState(web01))
}

func TestDeadlineSaysItIsStillRunning(t *testing.T) {
	t.Parallel()
	// The action never ends (an hour at 100 ms a call). The answer comes
	// a little before the bot's deadline, which is real time; it is
	// generous, so that the reboot is under way well before it.
	h, s := start(t, sim.Options{ActionTime: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := h.ExecuteRequest(ctx, sdk.Request{Command: "server reboot", Args: sdk.Args{"server": "db01"}})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "Still running at IONOS (POWERING_OFF")
	assert.Contains(t, out.Text, "Check with /ionos server status db01.")
	assert.Equal(t, "POWERING_OFF", s.ServerState(db01))
}

// Ten people, forty commands, one API key: every command completes and
// the API never sees more than its allowance in a window.
func TestSharedRateLimit(t *testing.T) {
	h, s := start(t, sim.Options{Limit: 5, Window: 250 * time.Millisecond})
	commands := []struct {
		name string
		args sdk.Args
	}{
		{"server list", nil}, {"server status", sdk.Args{"server": web01}}, {"ip list", nil}, {"datacenters", nil},
	}
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for u := 0; u < 10; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				c := commands[(u+i)%len(commands)]
				// Not h.Execute: a failure is reported from this
				// goroutine, not ended in it.
				res, err := h.Plugin.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{ID: fmt.Sprintf("u%d-%d", u, i), Invoker: fmt.Sprintf("U%02d", u), Command: c.name, Args: c.args}})
				if err != nil {
					errs <- err.Error()
				} else if res.Failed() {
					errs <- sdktest.Text(res)
				}
			}
		}(u)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// The limiter's invariant: no window the API counts ever sees more
	// calls than its allowance, refused ones included. It holds however
	// late answers come back, so it holds on a loaded machine too.
	maxInWindow, throttled := s.RateStats()
	calls := s.Calls()
	t.Logf("%d calls, at most %d in a window, %d answered 429", len(calls), maxInWindow, throttled)
	assert.LessOrEqual(t, maxInWindow, 5, "calls that reached the API in one window")
	assert.GreaterOrEqual(t, len(calls), 40)
}

func TestFirstPasswordNeverShown(t *testing.T) {
	h, s := start(t, sim.Options{})
	var all strings.Builder
	for _, c := range []struct {
		name string
		args sdk.Args
	}{
		{"server list", nil}, {"server info", sdk.Args{"server": "web01"}},
		{"call list servers", sdk.Args{}}, {"call get servers", sdk.Args{"server_id": web01}},
		{"server on", sdk.Args{"server": "staging"}},
		{"call put servers status action", sdk.Args{"server_id": web01, "action": "POWER_OFF", "method": "SOFTWARE"}},
	} {
		pr := h.Plan(c.name, c.args)
		out := h.Execute(c.name, c.args)
		all.WriteString(fmt.Sprintf("%+v %+v %+v %s", pr, *out.Result, out.Progress, out.Text))
	}
	out := all.String()
	assert.Contains(t, out, "first_password", "the field is there, masked")
	assert.NotContains(t, out, canary)
	assert.Contains(t, s.Snapshot(), canary, "the simulator did send it")
}

func TestGenericCall(t *testing.T) {
	h, _ := start(t, sim.Options{})
	n := 0
	for _, c := range h.Commands() {
		if strings.HasPrefix(c.Name, "call ") {
			n++
		}
	}
	assert.Equal(t, 175, n)

	// Body fields become parameters and are checked against the schema.
	pr := h.Plan("call put servers status action", sdk.Args{"server_id": web01, "action": "REBOOT", "method": "HARDWARE"})
	require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
	assert.Equal(t, `{"action":"REBOOT","method":"HARDWARE"}`, pr.Plan.Steps[0].Body)
	assert.Equal(t, "PUT", pr.Plan.Steps[0].Method)
	assert.Contains(t, pr.Plan.Steps[0].Description, "followed until done")

	pr = h.Plan("call put servers hardware", sdk.Args{"server_id": web01, "vcore": int64(4)})
	require.Nil(t, pr.Plan)
	assert.Contains(t, fmt.Sprint(pr.Diagnostics), "body", "oneOf: vcore needs cores_per_processor and ram")

	pr = h.Plan("call post servers", sdk.Args{"body": `{"name":"x"}`})
	require.Nil(t, pr.Plan)
	assert.Contains(t, fmt.Sprint(pr.Diagnostics), "missing properties")

	// A whole body given as JSON.
	out := h.Execute("call put servers status action", sdk.Args{"server_id": web01, "body": `{"action":"POWER_OFF","method":"SOFTWARE"}`})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "Done: POWERED_OFF.")
	assert.NotEmpty(t, out.Progress)

	// Answers without a dedicated view are rendered generically.
	out = h.Execute("call list servers fixed_instance_sizes", sdk.Args{})
	assert.Contains(t, out.Text, "XL")
	out = h.Execute("call get pricing", sdk.Args{})
	assert.NotEmpty(t, out.Text)

	// The API's errors come back readable.
	out = h.Execute("call get servers", sdk.Args{"server_id": "NOPE"})
	assert.True(t, out.Failed())
	assert.Contains(t, out.Text, "IONOS: Server not found (SERVER_NOT_FOUND)")
}

func TestSimulatorCoversEveryOperation(t *testing.T) {
	s, err := sim.New(sim.Options{Token: "x"})
	require.NoError(t, err)
	stateful := map[string]bool{}
	for _, n := range s.Stateful() {
		o, ok := catalog.MustLoad().Get(n)
		require.True(t, ok, "%s is not an operation", n)
		stateful[n] = true
		_ = o
	}
	var fromExample, bare []string
	for _, o := range catalog.MustLoad().Operations {
		if stateful[o.Name] {
			continue
		}
		if r, ok := o.Success(); ok && len(catalog.MustLoad().Example(o.Name, r.Code)) > 0 {
			fromExample = append(fromExample, o.Name)
		} else {
			bare = append(bare, o.Name)
		}
	}
	t.Logf("%d operations served from state: %s", len(stateful), strings.Join(s.Stateful(), ", "))
	t.Logf("%d served with the reference's example; %d with an empty success (%s)", len(fromExample), len(bare), strings.Join(bare, ", "))
	assert.Equal(t, 175, len(stateful)+len(fromExample)+len(bare))
	assert.GreaterOrEqual(t, len(stateful), 25)
	for _, n := range []string{"list servers", "get servers", "put servers status action", "get servers status", "post servers snapshots",
		"put servers snapshots", "delete servers snapshots", "put public_ips", "list firewall_policies rules", "delete servers"} {
		assert.True(t, stateful[n], n)
	}
}

// An approved plan is refused, before anything is sent, when what it was
// planned from has changed since: the steps alone would not show it.
func TestApprovedPlanWhoseFactsChangedIsRefused(t *testing.T) {
	cases := map[string]struct {
		action  time.Duration
		command string
		args    sdk.Args
		// meanwhile is what someone else does between the approval and
		// the run.
		meanwhile func(t *testing.T, h *sdktest.Harness)
	}{
		"the reverse DNS was set meanwhile": {
			command: "ip rdns", args: sdk.Args{"ip": "203.0.113.99", "name": "mail.example.net"},
			meanwhile: func(t *testing.T, h *sdktest.Harness) {
				require.False(t, h.Execute("ip rdns", sdk.Args{"ip": "203.0.113.99", "name": "other.example.net"}).Failed())
			},
		},
		"the server was resized meanwhile": {
			command: "server resize", args: sdk.Args{"server": "web01", "vcore": int64(4), "cores": int64(1), "ram": "8"},
			meanwhile: func(t *testing.T, h *sdktest.Harness) {
				require.False(t, h.Execute("server resize", sdk.Args{"server": "web01", "vcore": int64(2), "cores": int64(1), "ram": "8"}).Failed())
			},
		},
		"a power action began meanwhile": {
			// It goes on for an hour: the server is still powering off
			// when the approved reboot comes.
			action: time.Hour, command: "server reboot", args: sdk.Args{"server": "db01"},
			meanwhile: func(t *testing.T, h *sdktest.Harness) { startAndLeave(t, h, "server off", sdk.Args{"server": "db01"}) },
		},
		"an ISO was mounted meanwhile": {
			command: "dvd mount", args: sdk.Args{"server": "web01", "iso": "B675B070A3BB5C8D71B2129952F04BC8"},
			meanwhile: func(t *testing.T, h *sdktest.Harness) {
				require.False(t, h.Execute("dvd mount", sdk.Args{"server": "web01", "iso": "55726DEDA20C99CF6F2AF8F18CAC9963"}).Failed())
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h, s := start(t, sim.Options{ActionTime: tc.action})
			pr := h.Plan(tc.command, tc.args)
			require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
			tc.meanwhile(t, h)
			again := h.Plan(tc.command, tc.args)
			require.NotNil(t, again.Plan, "%v", again.Diagnostics)
			assert.Equal(t, pr.Plan.Steps, again.Plan.Steps, "the steps alone look the same")

			sent := len(s.Calls())
			out := h.ExecuteRequest(context.Background(), sdk.Request{Command: tc.command, Args: tc.args, PlanDigest: pr.Plan.Digest})
			require.True(t, out.Failed(), out.Text)
			assert.Contains(t, out.Text, "differs from the plan that was approved; nothing was run")
			for _, c := range s.Calls()[sent:] {
				assert.Equal(t, http.MethodGet, c.Method, "a change was sent: %+v", c)
			}
		})
	}
}

// The same plan, approved and unchanged, runs.
func TestApprovedPlanWhoseFactsHoldRuns(t *testing.T) {
	h, _ := start(t, sim.Options{})
	args := sdk.Args{"ip": "203.0.113.99", "name": "mail.example.net"}
	pr := h.Plan("ip rdns", args)
	require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
	require.False(t, h.Execute("server list", nil).Failed(), "reading changes nothing")
	out := h.ExecuteRequest(context.Background(), sdk.Request{Command: "ip rdns", Args: args, PlanDigest: pr.Plan.Digest})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "Reverse DNS of 203.0.113.99: mail.example.net")
}

// startAndLeave starts a command and stops waiting for it at its first
// progress report: the work it started goes on at the simulator.
func startAndLeave(t *testing.T, h *sdktest.Harness, command string, args sdk.Args) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := h.Plugin.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "left", Command: command, Args: args},
		Progress: func(sdk.Progress) { cancel() }})
	require.ErrorIs(t, err, context.Canceled)
}

// A sandbox target serves the simulator itself, on its own settings, and
// keeps its state in the target's state folder across a restart.
func TestSandboxTargetServesTheSimulatorAndKeepsItsState(t *testing.T) {
	tg := sdk.Target{Name: "sandbox", Sandbox: true, StateDir: t.TempDir(),
		Settings: map[string]string{"sim_time_per_call": "100ms", "action_time": "400ms", "poll": "10ms"}}
	h := sdktest.Start(t, provider.New(), tg)
	out := h.Execute("server off", sdk.Args{"server": "web01"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "Server web01 is POWERED_OFF.")
	assert.Equal(t, "POWERED_OFF", sdktest.Simulator[*sim.Server](h).ServerState(web01))
	out = h.Execute("ip rdns", sdk.Args{"ip": "203.0.113.99", "name": "mail.example.net"})
	require.False(t, out.Failed(), out.Text)
	require.NoError(t, h.Plugin.Close())

	h = sdktest.Start(t, provider.New(), tg)
	out = h.Execute("ip list", sdk.Args{"search": "203.0.113.99"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "203.0.113.99|0A1B2C3D4E5F60718293A4B5C6D7E8F9|IPV4|mail.example.net|")
}

// 25 quick lists in a row fit in IONOS's allowance of 25 calls a minute:
// a short list is one call, not two (an empty second page). With
// max_queue_wait at 1 s, a list that had to wait for the next window
// would fail at once rather than slow the test down.
func TestTwentyFiveListsFitInOneWindow(t *testing.T) {
	s, tg := simulator(t, sim.Options{Token: "k-25-lists", Limit: 25, Window: time.Minute})
	tg.Settings["max_queue_wait"] = "1s"
	h := sdktest.Start(t, provider.New(), tg)
	for i := range 25 {
		out := h.Execute("server list", nil)
		require.False(t, out.Failed(), "list %d: %s", i+1, out.Text)
	}
	maxInWindow, throttled := s.RateStats()
	assert.Equal(t, 0, throttled)
	assert.LessOrEqual(t, maxInWindow, 25)
	assert.Len(t, s.Calls(), 25, "one call a list")
}
