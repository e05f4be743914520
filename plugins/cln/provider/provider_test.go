package provider_test

import (
	"context"
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
			"ab resize":     {"backup": int64(23), "delta": int64(10)},
			"ab create":     {"server": "SSERVER_ID_1", "size": int64(10), "datacenter": "EU2"},
			"awp billing":   {"month": "2023-12", "products": []string{"AWP_PREMIUM"}},
			"im key update": {"key": "IMUNOTHERKEY", "limit": int64(50)},
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
	cases := []sdktest.Case{
		{Command: "status", Want: []string{"IP server registration allowed=yes"}},
		{Command: "status plain", Want: []string{"xmlrpc=true"}},
		{Command: "cl key create", Args: sdk.Args{"product": "CLS", "limit": int64(1), "note": "solo"}, Want: []string{"product=cls", "limit=1"}},
		{Command: "cl key list", Args: sdk.Args{"product": "CL"}, Want: []string{"…|cl|2|shared hosting cluster"}},
		{Command: "cl key update", Args: sdk.Args{"key": "abc123", "limit": int64(5)}, Want: []string{"limit=5"}},
		{Command: "cl server list", Args: sdk.Args{"product": "CL"}, Want: []string{"1|web01|203.0.113.10"}},
		{Command: "cl subaccount servers", Want: []string{"sub1|sub1@example.com|1|203.0.113.10|8"}},
		{Command: "cl server remove", Args: sdk.Args{"id": int64(2)}, Want: []string{"hostname=web02"}},
		{Command: "cl key remove", Args: sdk.Args{"key": "def456"}, Want: []string{"Deleted key …."}},
		{Command: "els key create", Args: sdk.Args{"product": "CELS", "limit": int64(0)}, Want: []string{"limit=unlimited"}},
		{Command: "els key list", Args: sdk.Args{"product": "CELS"}, Want: []string{"CELS|2|legacy centos 6"}},
		{Command: "els key update", Args: sdk.Args{"key": "CELS-yUDxBd5ethmGO5d3hnAZEau0", "limit": int64(4)}, Want: []string{"limit=4"}},
		{Command: "els server list", Args: sdk.Args{"product": "CELS"}, Want: []string{"12345|legacy1|198.51.100.5|2022-09-05 14:22:23.781372"}},
		{Command: "els server remove", Args: sdk.Args{"id": "12345"}, Want: []string{"hostname=legacy1"}},
		{Command: "els key remove", Args: sdk.Args{"key": "CELS-yUDxBd5ethmGO5d3hnAZEau0"}, Want: []string{"Deleted the ELS key"}},
		{Command: "im key create", Args: sdk.Args{"code": "360_30", "limit": int64(3)}, Want: []string{"code=360_30", "limit=3"}},
		{Command: "im key list", Want: []string{"IM1S…XT|360_1|2|1"}},
		{Command: "im key update", Args: sdk.Args{"key": "IMUNOTHERKEY", "limit": int64(50)}, Want: []string{"limit=50"}},
		{Command: "im key update", Args: sdk.Args{"key": "IMUNOTHERKEY"}, Want: []string{"nothing to change"}, Fails: true},
		{Command: "im server list", Args: sdk.Args{"key": "IM1SOMENONSENCETEXT"}, Want: []string{"SSERVER_ID_1|203.0.113.20"}},
		{Command: "im server convert", Args: sdk.Args{"id": "SSERVER_ID_1", "key": "IMUNOTHERKEY"}, Want: []string{"server=SSERVER_ID_1", "key=IMUN…EY"}},
		{Command: "ipl availability", Args: sdk.Args{"ip": "198.51.100.20"}, Want: []string{"available=1 (CloudLinux OS Shared), 42"}},
		{Command: "ipl check", Args: sdk.Args{"ip": "198.51.100.20"}, Want: []string{"41 (Imunify for single user)"}},
		{Command: "ipl check", Args: sdk.Args{"ip": "192.0.2.99"}, Want: []string{"192.0.2.99 has no IP licence"}},
		{Command: "ipl register", Args: sdk.Args{"ip": "203.0.113.7", "type": "16"}, Want: []string{"type=16 (KernelCare)"}},
		{Command: "ipl register", Args: sdk.Args{"ip": "203.0.113.7", "type": "41"}, Want: []string{"type=41"}},
		{Command: "ipl convert", Args: sdk.Args{"ip": "203.0.113.7", "type": "41", "to": "43"}, Want: []string{"Imunify for 250 users"}},
		{Command: "ipl convert", Args: sdk.Args{"ip": "192.0.2.1", "type": "41", "to": "43"}, Want: []string{"was not found, or is not this account's"}, Fails: true},
		{Command: "ipl update", Args: sdk.Args{"ip": "203.0.113.7", "els_allowed": true, "type": "16"}, Want: []string{"ELS registration allowed"}},
		{Command: "ipl list", Want: []string{"203.0.113.7|16|KernelCare|no"}},
		{Command: "ipl server", Args: sdk.Args{"ip": []string{"203.0.113.10"}}, Want: []string{"203.0.113.10|1|CloudLinux OS Shared|cloudlinux-release-8"}},
		{Command: "ipl remove", Args: sdk.Args{"ip": "203.0.113.7", "type": "16"}, Want: []string{"Removed the KernelCare licence from 203.0.113.7"}},
		{Command: "ipl remove", Args: sdk.Args{"ip": "203.0.113.7", "type": "16"}, Want: []string{"was not found"}, Fails: true},
		{Command: "kcare key create", Args: sdk.Args{"limit": int64(5), "note": "customer 42"}, Want: []string{"limit=5", "note=customer 42"}},
		{Command: "kcare key list", Want: []string{"WsTs…tD|yes|2"}},
		{Command: "kcare key servers", Args: sdk.Args{"key": "WsTs821nSAtiastD"}, Want: []string{"s096slnkaAtoiAsd|203.0.113.30"}},
		{Command: "kcare key set-cidr", Args: sdk.Args{"key": "WsTs821nSAtiastD", "cidr": []string{"203.0.113.0/24"}}, Want: []string{"from 203.0.113.0/24"}},
		{Command: "kcare nagios", Args: sdk.Args{"key_id": "MonitoringKey0001"}, Want: []string{"state=all up to date"}},
		{Command: "kcare nagios reseller", Want: []string{"KernelCare OK"}},
		{Command: "kcare server remove", Args: sdk.Args{"server_id": "nope"}, Want: []string{"Server not found"}, Fails: true},
		{Command: "kcare server remove", Args: sdk.Args{"server_id": "s096slnkaAtoiAsd"}, Want: []string{"Removed KernelCare server s096slnkaAtoiAsd"}},
		{Command: "kcare key delete", Args: sdk.Args{"key": "WsTs821nSAtiastD"}, Want: []string{"Deleted the KernelCare key WsTs…tD"}},
		{Command: "group create", Args: sdk.Args{"name": "db", "description": "databases"}, Want: []string{"name=db"}},
		{Command: "group list", Want: []string{"web|web servers", "db|databases"}},
		{Command: "group servers", Args: sdk.Args{"name": "web"}, Want: []string{"SSERVER_ID_1|203.0.113.20|203.0.113.20|IMUNIFY"}},
		{Command: "group add", Args: sdk.Args{"name": "db", "servers": []string{"SSERVER_ID_1"}}, Want: []string{"SSERVER_ID_1"}},
		{Command: "group remove", Args: sdk.Args{"name": "db", "servers": []string{"SSERVER_ID_1"}}, Want: []string{"Taken out of db"}},
		{Command: "ab list", Want: []string{"23|SSERVER_ID_1|10|EU2"}},
		{Command: "ab create", Args: sdk.Args{"server": "SSERVER_ID_1", "size": int64(20), "datacenter": "EU2"}, Want: []string{"size (GB)=20"}},
		{Command: "ab resize", Args: sdk.Args{"backup": int64(23), "delta": int64(10)}, Want: []string{"size (GB)=20"}},
		{Command: "ab remove", Args: sdk.Args{"backup": int64(23)}, Want: []string{"Removed backup 23"}},
		{Command: "awp billing", Args: sdk.Args{"month": "2023-12", "products": []string{"AWP_PREMIUM", "AWP_CDN"}}, Want: []string{"AWP_CDN|example2.com||50 GB"}},
		{Command: "awp billing", Args: sdk.Args{"month": "December", "products": []string{"AWP_CDN"}}, Want: []string{"is not a month"}, Fails: true},
		{Command: "features list", Want: []string{"4600|1, 2, 3"}},
		{Command: "features set", Args: sdk.Args{"feature": int64(4600), "state": "ENABLED"}, Want: []string{"now=ENABLED"}},
		{Command: "features account", Want: []string{"4600=ENABLED"}},
		{Command: "ip info", Args: sdk.Args{"ip": "203.0.113.10"}, Want: []string{"held by this account=1 (CloudLinux OS Shared)", "This account's licences on 203.0.113.10"}},
		{Command: "ip info", Args: sdk.Args{"ip": "198.51.100.20"}, Want: []string{"held by other customers=41 (Imunify for single user)"}},
		{Command: "key find", Args: sdk.Args{"key": "IMUNOTHERKEY"}, Want: []string{"Imunify key", "licence=360_30"}},
		{Command: "key find", Args: sdk.Args{"key": "abc123"}, Want: []string{"CloudLinux key", "product=CL (CloudLinux Shared)"}},
		{Command: "key find", Args: sdk.Args{"key": "missing-key-1234"}, Want: []string{"no key miss…34"}, Fails: true},
		{Command: "im server remove", Args: sdk.Args{"id": "SSERVER_ID_1"}, Want: []string{"Removed Imunify server SSERVER_ID_1"}},
		{Command: "im server remove", Args: sdk.Args{"id": "SSERVER_ID_1"}, Want: []string{"CLN: Server not found"}, Fails: true},
		{Command: "im key remove", Args: sdk.Args{"key": "IM1SOMENONSENCETEXT"}, Want: []string{"Key deleted with 0 server(s)"}},
	}
	h.Cases(t, cases, secret)
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
