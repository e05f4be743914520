package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cln/provider"
	"github.com/deskbot/deskbot/plugins/cln/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

const secret = "CANARY-provider-secret-77aa"

// start runs the plugin against its own simulator: a sandbox target
// whose secret key is the canary, with settings as given.
func start(t *testing.T, settings map[string]string) (*sdktest.Harness, *sim.Server) {
	t.Helper()
	h := sdktest.Start(t, provider.New(), sandbox(t, settings))
	return h, sdktest.Simulator[*sim.Server](h)
}

func sandbox(t *testing.T, settings map[string]string) sdk.Target {
	return sdk.Target{Name: "sandbox", Sandbox: true, StateDir: t.TempDir(), Settings: settings, Secrets: map[string]string{"secret_key": secret}}
}

// target is a target that reaches CLN at base.
func target(base string) sdk.Target {
	return sdk.Target{Name: "main", Settings: map[string]string{"base_url": base, "login": "reseller"}, Secrets: map[string]string{"secret_key": secret}}
}

func TestConformance(t *testing.T) {
	p := provider.New()
	t.Cleanup(func() { p.Close() })
	sdktest.Run(t, p, sdktest.Options{
		Targets:  []sdk.Target{sandbox(t, nil)},
		Snapshot: func() (string, error) { return p.Simulator("sandbox").(*sim.Server).Snapshot(), nil },
		Args: map[string]sdk.Args{
			"ab resize":   {"backup": int64(23), "delta": int64(10)},
			"ab create":   {"server": "SSERVER_ID_1", "size": int64(10), "datacenter": "EU2"},
			"awp billing": {"month": "2023-12", "products": []string{"AWP_PREMIUM"}},
		},
	})
	t.Run("cancellation", func(t *testing.T) {
		// A provider that takes the request and never answers: the call
		// can end only if cancelling the command cancels the request.
		arrived := make(chan struct{}, 1)
		hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-r.Context().Done()
		}))
		defer hung.Close()
		p := provider.New()
		defer p.Close()
		_, err := p.Configure(context.Background(), &sdk.ConfigureRequest{Targets: []sdk.Target{target(hung.URL + "/api")}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			_, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{Command: "ipl list"}})
			errc <- err
		}()
		select {
		case <-arrived:
		case <-time.After(sdktest.Patience):
			t.Fatal("the request never reached the provider")
		}
		cancel()
		select {
		case err := <-errc:
			require.Error(t, err)
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(sdktest.Patience):
			t.Fatal("the HTTP call was not cancelled with the command")
		}
	})
}

func TestEveryCommandAgainstTheSimulator(t *testing.T) {
	h, s := start(t, nil)
	cases := []struct {
		command string
		args    sdk.Args
		want    []string
		fails   bool
	}{
		{"status", nil, []string{"IP server registration allowed=yes"}, false},
		{"status plain", nil, []string{"xmlrpc=true"}, false},
		{"cl key create", sdk.Args{"product": "CLS", "limit": int64(1), "note": "solo"}, []string{"product=cls", "limit=1"}, false},
		{"cl key list", sdk.Args{"product": "CL"}, []string{"…|cl|2|shared hosting cluster"}, false},
		{"cl key update", sdk.Args{"key": "abc123", "limit": int64(5)}, []string{"limit=5"}, false},
		{"cl server list", sdk.Args{"product": "CL"}, []string{"1|web01|203.0.113.10"}, false},
		{"cl subaccount servers", nil, []string{"sub1|sub1@example.com|1|203.0.113.10|8"}, false},
		{"cl server remove", sdk.Args{"id": int64(2)}, []string{"hostname=web02"}, false},
		{"cl key remove", sdk.Args{"key": "def456"}, []string{"Deleted key …."}, false},
		{"els key create", sdk.Args{"product": "CELS", "limit": int64(0)}, []string{"limit=unlimited"}, false},
		{"els key list", sdk.Args{"product": "CELS"}, []string{"CELS|2|legacy centos 6"}, false},
		{"els key update", sdk.Args{"key": "CELS-yUDxBd5ethmGO5d3hnAZEau0", "limit": int64(4)}, []string{"limit=4"}, false},
		{"els server list", sdk.Args{"product": "CELS"}, []string{"12345|legacy1|198.51.100.5|2022-09-05 14:22:23.781372"}, false},
		{"els server remove", sdk.Args{"id": "12345"}, []string{"hostname=legacy1"}, false},
		{"els key remove", sdk.Args{"key": "CELS-yUDxBd5ethmGO5d3hnAZEau0"}, []string{"Deleted the ELS key"}, false},
		{"im key create", sdk.Args{"code": "360_30", "limit": int64(3)}, []string{"code=360_30", "limit=3"}, false},
		{"im key list", nil, []string{"IM1S…XT|360_1|2|1"}, false},
		{"im key update", sdk.Args{"key": "IMUNOTHERKEY", "limit": int64(50)}, []string{"limit=50"}, false},
		{"im key update", sdk.Args{"key": "IMUNOTHERKEY"}, []string{"nothing to change"}, true},
		{"im server list", sdk.Args{"key": "IM1SOMENONSENCETEXT"}, []string{"SSERVER_ID_1|203.0.113.20"}, false},
		{"im server convert", sdk.Args{"id": "SSERVER_ID_1", "key": "IMUNOTHERKEY"}, []string{"server=SSERVER_ID_1", "key=IMUN…EY"}, false},
		{"ipl availability", sdk.Args{"ip": "198.51.100.20"}, []string{"available=1 (CloudLinux OS Shared), 42"}, false},
		{"ipl check", sdk.Args{"ip": "198.51.100.20"}, []string{"41 (Imunify for single user)"}, false},
		{"ipl check", sdk.Args{"ip": "192.0.2.99"}, []string{"192.0.2.99 has no IP licence"}, false},
		{"ipl register", sdk.Args{"ip": "203.0.113.7", "type": "16"}, []string{"type=16 (KernelCare)"}, false},
		{"ipl register", sdk.Args{"ip": "203.0.113.7", "type": "41"}, []string{"type=41"}, false},
		{"ipl convert", sdk.Args{"ip": "203.0.113.7", "type": "41", "to": "43"}, []string{"Imunify for 250 users"}, false},
		{"ipl convert", sdk.Args{"ip": "192.0.2.1", "type": "41", "to": "43"}, []string{"was not found, or is not this account's"}, true},
		{"ipl update", sdk.Args{"ip": "203.0.113.7", "els_allowed": true, "type": "16"}, []string{"ELS registration allowed"}, false},
		{"ipl list", nil, []string{"203.0.113.7|16|KernelCare|no"}, false},
		{"ipl server", sdk.Args{"ip": []string{"203.0.113.10"}}, []string{"203.0.113.10|1|CloudLinux OS Shared|cloudlinux-release-8"}, false},
		{"ipl remove", sdk.Args{"ip": "203.0.113.7", "type": "16"}, []string{"Removed the KernelCare licence from 203.0.113.7"}, false},
		{"ipl remove", sdk.Args{"ip": "203.0.113.7", "type": "16"}, []string{"was not found"}, true},
		{"kcare key create", sdk.Args{"limit": int64(5), "note": "customer 42"}, []string{"limit=5", "note=customer 42"}, false},
		{"kcare key list", nil, []string{"WsTs…tD|yes|2"}, false},
		{"kcare key servers", sdk.Args{"key": "WsTs821nSAtiastD"}, []string{"s096slnkaAtoiAsd|203.0.113.30"}, false},
		{"kcare key set-cidr", sdk.Args{"key": "WsTs821nSAtiastD", "cidr": []string{"203.0.113.0/24"}}, []string{"from 203.0.113.0/24"}, false},
		{"kcare nagios", sdk.Args{"key_id": "MonitoringKey0001"}, []string{"state=all up to date"}, false},
		{"kcare nagios reseller", nil, []string{"KernelCare OK"}, false},
		{"kcare server remove", sdk.Args{"server_id": "nope"}, []string{"Server not found"}, true},
		{"kcare server remove", sdk.Args{"server_id": "s096slnkaAtoiAsd"}, []string{"Removed KernelCare server s096slnkaAtoiAsd"}, false},
		{"kcare key delete", sdk.Args{"key": "WsTs821nSAtiastD"}, []string{"Deleted the KernelCare key WsTs…tD"}, false},
		{"group create", sdk.Args{"name": "db", "description": "databases"}, []string{"name=db"}, false},
		{"group list", nil, []string{"web|web servers", "db|databases"}, false},
		{"group servers", sdk.Args{"name": "web"}, []string{"SSERVER_ID_1|203.0.113.20|203.0.113.20|IMUNIFY"}, false},
		{"group add", sdk.Args{"name": "db", "servers": []string{"SSERVER_ID_1"}}, []string{"SSERVER_ID_1"}, false},
		{"group remove", sdk.Args{"name": "db", "servers": []string{"SSERVER_ID_1"}}, []string{"Taken out of db"}, false},
		{"ab list", nil, []string{"23|SSERVER_ID_1|10|EU2"}, false},
		{"ab create", sdk.Args{"server": "SSERVER_ID_1", "size": int64(20), "datacenter": "EU2"}, []string{"size (GB)=20"}, false},
		{"ab resize", sdk.Args{"backup": int64(23), "delta": int64(10)}, []string{"size (GB)=20"}, false},
		{"ab remove", sdk.Args{"backup": int64(23)}, []string{"Removed backup 23"}, false},
		{"awp billing", sdk.Args{"month": "2023-12", "products": []string{"AWP_PREMIUM", "AWP_CDN"}}, []string{"AWP_CDN|example2.com||50 GB"}, false},
		{"awp billing", sdk.Args{"month": "December", "products": []string{"AWP_CDN"}}, []string{"is not a month"}, true},
		{"features list", nil, []string{"4600|1, 2, 3"}, false},
		{"features set", sdk.Args{"feature": int64(4600), "state": "ENABLED"}, []string{"now=ENABLED"}, false},
		{"features account", nil, []string{"4600=ENABLED"}, false},
		{"ip info", sdk.Args{"ip": "203.0.113.10"}, []string{"held by this account=1 (CloudLinux OS Shared)", "This account's licences on 203.0.113.10"}, false},
		{"ip info", sdk.Args{"ip": "198.51.100.20"}, []string{"held by other customers=41 (Imunify for single user)"}, false},
		{"key find", sdk.Args{"key": "IMUNOTHERKEY"}, []string{"Imunify key", "licence=360_30"}, false},
		{"key find", sdk.Args{"key": "abc123"}, []string{"CloudLinux key", "product=CL (CloudLinux Shared)"}, false},
		{"key find", sdk.Args{"key": "missing-key-1234"}, []string{"no key miss…34"}, true},
		{"im server remove", sdk.Args{"id": "SSERVER_ID_1"}, []string{"Removed Imunify server SSERVER_ID_1"}, false},
		{"im server remove", sdk.Args{"id": "SSERVER_ID_1"}, []string{"CLN: Server not found"}, true},
		{"im key remove", sdk.Args{"key": "IM1SOMENONSENCETEXT"}, []string{"Key deleted with 0 server(s)"}, false},
	}
	covered := map[string]bool{}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%02d %s", i, tc.command), func(t *testing.T) {
			covered[tc.command] = true
			out := h.Execute(tc.command, tc.args)
			assert.Equal(t, tc.fails, out.Failed(), out.Text)
			for _, w := range tc.want {
				assert.Contains(t, out.Text, w)
			}
			assert.NotContains(t, out.Text, secret)
		})
	}
	for _, c := range h.Commands() {
		assert.True(t, covered[c.Name], "command %q has no test against the simulator", c.Name)
	}
	assert.NotContains(t, s.Snapshot(), secret)
}

func TestKeysAreShortenedUnlessRevealed(t *testing.T) {
	h, _ := start(t, nil)
	out := h.Execute("kcare key list", nil)
	assert.Contains(t, out.Text, "WsTs…tD")
	assert.NotContains(t, out.Text, "WsTs821nSAtiastD")
	assert.False(t, out.Sensitive)
	out = h.Execute("kcare key list", sdk.Args{"reveal": true})
	assert.Contains(t, out.Text, "WsTs821nSAtiastD")
	assert.True(t, out.Sensitive, "revealed keys go to the requester only")
	out = h.Execute("kcare key create", sdk.Args{"limit": int64(1)})
	assert.True(t, out.Sensitive, "a new key is shown to its creator only")
}

func TestPlansStateTheExactCall(t *testing.T) {
	h, s := start(t, nil)
	before := s.Snapshot()
	calls := len(s.Calls())
	pr := h.Plan("ipl remove", sdk.Args{"ip": "203.0.113.10", "type": "1"})
	require.Len(t, pr.Plan.Steps, 1)
	st := pr.Plan.Steps[0]
	assert.Equal(t, "GET", st.Method)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/api/ipl/remove\.json\?ip=203\.0\.113\.10&token=\[REDACTED\]&type=1$`, st.Endpoint)
	assert.Equal(t, sdk.RiskHigh, pr.Plan.Risk)
	assert.Equal(t, before, s.Snapshot(), "planning changes nothing")
	// The plan is made from the licences the IP holds (its facts): reading
	// them is the only call planning makes.
	assert.Equal(t, []string{"/ipl/availability.json"}, paths(s.Calls()[calls:]), "planning only reads")

	pr = h.Plan("ab resize", sdk.Args{"backup": int64(23), "delta": int64(-10)})
	assert.Equal(t, sdk.RiskCritical, pr.Plan.Risk, "shrinking a backup may lose data")
	assert.Contains(t, pr.Plan.Summary, "SHRINK")

	pr = h.Plan("ipl remove", sdk.Args{"ip": "203.0.113.10"})
	assert.True(t, pr.Diagnostics.HasError(), "ipl remove without a type is refused")

	for _, c := range h.Commands() {
		assert.NotContains(t, c.Name, "register_key", "the Nagios key registration is not offered")
		if (strings.HasSuffix(c.Name, "remove") || strings.HasSuffix(c.Name, "delete")) && c.Name != "group remove" {
			assert.Equal(t, sdk.RiskHigh, c.Risk, "%s removes something", c.Name)
		}
	}
}

func TestOlderEditionTarget(t *testing.T) {
	h, s := start(t, map[string]string{"edition": "older", "ipl_root": "/ip"})
	pr := h.Plan("els key create", sdk.Args{"product": "CELS", "limit": int64(2)})
	assert.Equal(t, "GET", pr.Plan.Steps[0].Method)
	assert.Contains(t, pr.Plan.Steps[0].Endpoint, "code=CELS")
	out := h.Execute("ipl list", nil)
	assert.Contains(t, out.Text, "203.0.113.10")
	assert.Equal(t, "/ip/list.json", s.Calls()[len(s.Calls())-1].Path)

	bad := provider.New()
	defer bad.Close()
	cr, err := bad.Configure(context.Background(), &sdk.ConfigureRequest{Targets: []sdk.Target{sandbox(t, map[string]string{"edition": "newest"})}})
	require.NoError(t, err)
	assert.Contains(t, cr.Diagnostics.Err().Error(), `setting edition: "newest" is not one of newer, older`)
}

func paths(calls []sim.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Path)
	}
	return out
}
