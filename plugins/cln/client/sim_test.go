package client_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/plugins/cln/sim"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

const canary = "CANARY-cln-secret-5e1f"

func newSim(t *testing.T, edition client.Edition) (*client.Client, *sim.Server) {
	t.Helper()
	s, base := serve(t)
	c, err := client.New(client.Options{BaseURL: base, Login: "reseller", Secret: canary, Edition: edition})
	require.NoError(t, err)
	return c, s
}

// serve starts a simulator whose reseller's secret key is the canary and
// returns it with its base URL.
func serve(t *testing.T) (*sim.Server, string) {
	t.Helper()
	s, err := sim.New(sim.Options{Accounts: map[string]string{"reseller": canary}})
	require.NoError(t, err)
	base, stop, err := sandbox.Listen(s)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })
	return s, base + "/api"
}

func last(s *sim.Server) sim.Call {
	calls := s.Calls()
	return calls[len(calls)-1]
}

func TestEveryEndpointAgainstTheSimulator(t *testing.T) {
	ctx := context.Background()
	c, s := newSim(t, client.Newer)

	st, err := c.Status(ctx)
	require.NoError(t, err)
	assert.True(t, st.IPServerReg)
	pl, err := c.StatusPlain(ctx)
	require.NoError(t, err)
	assert.Equal(t, "true", pl.Fields["xmlrpc"])

	// v2 CloudLinux keys and servers.
	k, err := c.CLKeyCreate(ctx, "CLS", 1, "solo box")
	require.NoError(t, err)
	assert.Equal(t, "cls", k.ProductType)
	assert.Equal(t, sim.Call{Method: http.MethodPost, Path: "/v2/cl/keys"}, sim.Call{Method: last(s).Method, Path: last(s).Path})
	k, err = c.CLKeyUpdate(ctx, k.Key, 3, "bigger")
	require.NoError(t, err)
	assert.Equal(t, client.FlexInt(3), k.UsageLimit)
	assert.Equal(t, http.MethodPatch, last(s).Method)
	ks, err := c.CLKeyList(ctx, "CLS")
	require.NoError(t, err)
	require.Len(t, ks, 1)
	removed, err := c.CLKeyRemove(ctx, k.Key)
	require.NoError(t, err)
	assert.Equal(t, k.Key, removed)
	assert.Equal(t, http.MethodDelete, last(s).Method)
	srvs, err := c.CLServerList(ctx, "CL")
	require.NoError(t, err)
	require.Len(t, srvs, 1)
	gone, err := c.CLServerRemove(ctx, int64(srvs[0].ID))
	require.NoError(t, err)
	assert.Equal(t, "web01", gone.Hostname)
	sub, err := c.CLSubAccountServers(ctx)
	require.NoError(t, err)
	assert.Equal(t, "sub1", sub[0].SubAccountLogin)

	// ELS, newer edition: productType and POST/PUT/DELETE.
	ek, err := c.ELSKeyCreate(ctx, "UELS18", 0, "ubuntu")
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, last(s).Method)
	assert.Contains(t, last(s).Query, "productType=UELS18")
	_, err = c.ELSKeyUpdate(ctx, ek.Key, 5, "more")
	require.NoError(t, err)
	assert.Equal(t, http.MethodPut, last(s).Method)
	eks, err := c.ELSKeyList(ctx, "UELS18")
	require.NoError(t, err)
	assert.Equal(t, client.FlexInt(5), eks[0].UsageLimit)
	ess, err := c.ELSServerList(ctx, "CELS", "CELS-yUDxBd5ethmGO5d3hnAZEau0")
	require.NoError(t, err)
	require.Len(t, ess, 1)
	es, err := c.ELSServerRemove(ctx, string(ess[0].ID))
	require.NoError(t, err)
	assert.Equal(t, "/els/srv/remove.json", last(s).Path, "not the key/remove.json of the references' examples")
	assert.Equal(t, "legacy1", es.Hostname)
	_, err = c.ELSKeyRemove(ctx, ek.Key)
	require.NoError(t, err)
	assert.Equal(t, http.MethodDelete, last(s).Method)

	// Imunify.
	ik, err := c.IMKeyCreate(ctx, "360_250", 10, "")
	require.NoError(t, err)
	limit := int64(20)
	ik, err = c.IMKeyUpdate(ctx, ik.Key, &limit, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, client.FlexInt(20), ik.Limit)
	iks, err := c.IMKeyList(ctx)
	require.NoError(t, err)
	assert.Len(t, iks, 3)
	iss, err := c.IMServerList(ctx, "IM1SOMENONSENCETEXT")
	require.NoError(t, err)
	require.Len(t, iss, 1)
	moved, err := c.IMServerConvert(ctx, iss[0].ID, ik.Key)
	require.NoError(t, err)
	assert.Equal(t, ik.Key, moved.Key)
	_, err = c.IMServerRemove(ctx, iss[0].ID)
	require.NoError(t, err)
	_, err = c.IMKeyRemove(ctx, ik.Key)
	require.NoError(t, err)

	// IP licences.
	av, err := c.IPLAvailability(ctx, "198.51.100.20")
	require.NoError(t, err)
	assert.NotContains(t, av.Available, 41, "held by another customer")
	types, err := c.IPLCheck(ctx, "198.51.100.20")
	require.NoError(t, err)
	assert.Equal(t, []int{41}, types)
	l, err := c.IPLRegister(ctx, "203.0.113.7", 16, nil)
	require.NoError(t, err)
	assert.Equal(t, 16, l.Type)
	again, err := c.IPLRegister(ctx, "203.0.113.7", 16, nil)
	require.NoError(t, err)
	assert.Equal(t, l.Created, again.Created, "an existing licence comes back as is")
	require.NoError(t, c.IPLUpdate(ctx, "203.0.113.7", 16, true))
	_, err = c.IPLRegister(ctx, "203.0.113.7", 41, nil)
	require.NoError(t, err)
	require.NoError(t, c.IPLConvert(ctx, "203.0.113.7", 41, 43))
	ls, err := c.IPLList(ctx)
	require.NoError(t, err)
	assert.Len(t, ls, 3)
	info, err := c.IPLServer(ctx, []string{"203.0.113.10", "203.0.113.7"})
	require.NoError(t, err)
	assert.Len(t, info, 3)
	assert.Equal(t, 1, strings.Count(strings.Join(callPaths(s), " "), "server.json"), "the newer edition asks for many IPs at once")
	require.NoError(t, c.IPLRemove(ctx, "203.0.113.7", 16))
	assert.Contains(t, last(s).Query, "type=16")
	types, err = c.IPLCheck(ctx, "203.0.113.7")
	require.NoError(t, err)
	assert.Equal(t, []int{43}, types, "only the named type went")
	assert.ErrorContains(t, c.IPLRemove(ctx, "203.0.113.7", 0), "a licence type is required")

	// KernelCare.
	kk, err := c.KCKeyCreate(ctx, 5, "customer 42")
	require.NoError(t, err)
	kks, err := c.KCKeyList(ctx)
	require.NoError(t, err)
	assert.Len(t, kks, 2)
	require.NoError(t, c.KCKeySetCIDR(ctx, kk, []string{"203.0.113.0/24", "198.51.100.0/24"}))
	kss, err := c.KCKeyServers(ctx, "WsTs821nSAtiastD")
	require.NoError(t, err)
	require.Len(t, kss, 1)
	text, ok, err := c.KCNagios(ctx, "MonitoringKey0001")
	require.NoError(t, err)
	assert.True(t, ok, text)
	text, ok, err = c.KCNagiosReseller(ctx)
	require.NoError(t, err)
	assert.True(t, ok, text)
	rm, err := c.KCServerRemove(ctx, kss[0].ServerID)
	require.NoError(t, err)
	assert.Equal(t, "WsTs821nSAtiastD", rm.Key)
	require.NoError(t, c.KCKeyDelete(ctx, kk))

	// Groups.
	_, err = c.GroupCreate(ctx, "db", "database servers")
	require.NoError(t, err)
	gs, err := c.GroupList(ctx)
	require.NoError(t, err)
	assert.Len(t, gs, 2)
	_, err = c.IMKeyCreate(ctx, "AVP", 1, "")
	require.NoError(t, err)
	gsv, err := c.GroupServers(ctx, "web")
	require.NoError(t, err)
	assert.Empty(t, gsv, "its server was removed above")

	// Backups (older edition endpoints answer in both).
	bs, err := c.ABList(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	b, err := c.ABCreate(ctx, "SSERVER_ID_1", 20, "EU2")
	require.NoError(t, err)
	b, err = c.ABResize(ctx, int64(b.BackupID), -10)
	require.NoError(t, err)
	assert.Equal(t, client.FlexInt(10), b.Size)
	_, err = c.ABRemove(ctx, int64(b.BackupID))
	require.NoError(t, err)

	// AccelerateWP and features.
	aw, err := c.AWPBilling(ctx, []string{"AWP_PREMIUM", "AWP_CDN"}, "2023-12")
	require.NoError(t, err)
	assert.Len(t, aw, 2)
	fs, err := c.Features(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4600, fs[0].FeatureID)
	af, err := c.SetAccountFeatures(ctx, map[string]string{"4600": "ENABLED"})
	require.NoError(t, err)
	assert.Equal(t, "ENABLED", af["4600"])
	af, err = c.AccountFeatures(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ENABLED", af["4600"])
}

func callPaths(s *sim.Server) []string {
	var out []string
	for _, c := range s.Calls() {
		out = append(out, c.Path)
	}
	return out
}

func TestOlderEdition(t *testing.T) {
	ctx := context.Background()
	c, s := newSim(t, client.Older)
	ek, err := c.ELSKeyCreate(ctx, "CELS", 2, "")
	require.NoError(t, err)
	assert.Equal(t, http.MethodGet, last(s).Method)
	assert.Contains(t, last(s).Query, "code=CELS")
	_, err = c.ELSKeyUpdate(ctx, ek.Key, 3, "")
	require.NoError(t, err)
	assert.Equal(t, http.MethodGet, last(s).Method)
	_, err = c.ELSServerList(ctx, "CELS", "ignored-key")
	require.NoError(t, err)
	assert.NotContains(t, last(s).Query, "key=", "the older edition has no key filter")
	_, err = c.ELSKeyRemove(ctx, ek.Key)
	require.NoError(t, err)
	assert.Equal(t, http.MethodGet, last(s).Method)
	before := len(s.Calls())
	_, err = c.IPLServer(ctx, []string{"203.0.113.10", "198.51.100.20", "192.0.2.1"})
	require.NoError(t, err)
	assert.Equal(t, 3, len(s.Calls())-before, "one IP a call")
}

func TestFalseSuccessesAreErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := newSim(t, client.Newer)
	assert.ErrorIs(t, c.IPLConvert(ctx, "192.0.2.9", 41, 43), client.ErrNotFound)
	assert.ErrorIs(t, c.IPLRemove(ctx, "192.0.2.9", 16), client.ErrNotFound)
	assert.ErrorIs(t, c.IPLUpdate(ctx, "192.0.2.9", 16, true), client.ErrNotFound)
	assert.ErrorIs(t, c.KCKeyDelete(ctx, "NoSuchKey0000000"), client.ErrNotFound)
	_, err := c.KCServerRemove(ctx, "no-such-server")
	assert.ErrorIs(t, err, client.ErrNotFound)
	assert.ErrorContains(t, err, "Server not found")
	err = c.KCKeySetCIDR(ctx, "WsTs821nSAtiastD", []string{"300.1.2.3/24"})
	assert.ErrorContains(t, err, "code 1")
	err = c.KCKeySetCIDR(ctx, "WsTs821nSAtiastD", []string{"10.0.0.0/40"})
	assert.ErrorContains(t, err, "code 2")
	_, err = c.IPLRegister(ctx, "198.51.100.20", 41, nil)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, ae.Error(), "registered by another customer")
}

func TestAuthentication(t *testing.T) {
	ctx := context.Background()
	s, base := serve(t)

	wrong, err := client.New(client.Options{BaseURL: base, Login: "reseller", Secret: "not-the-secret"})
	require.NoError(t, err)
	_, err = wrong.IPLList(ctx)
	assert.EqualError(t, err, "CLN: Authorization failed")

	stale, err := client.New(client.Options{BaseURL: base, Login: "reseller", Secret: canary, Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	require.NoError(t, err)
	_, err = stale.IPLList(ctx)
	assert.EqualError(t, err, "CLN: Authorization failed", "a token outside the window is refused")

	good, err := client.New(client.Options{BaseURL: base, Login: "reseller", Secret: canary})
	require.NoError(t, err)
	_, err = good.IPLList(ctx)
	require.NoError(t, err)
	for _, call := range s.Calls() {
		assert.NotContains(t, call.Query, canary, "the secret itself never travels")
		if call.Path == "/ipl/list.json" {
			assert.Contains(t, call.Query, "token=reseller%7C", "the token is URL-encoded")
		}
	}

	// The secret never appears in errors, even when the server echoes it.
	echo := &http.Server{}
	_ = echo
	m, u := good.EPKCNagiosReseller().Describe()
	assert.Equal(t, http.MethodGet, m)
	assert.True(t, strings.HasSuffix(u, "/kcare/nagios-res/reseller/[REDACTED]"), u)
	_, u = good.EPKCKeyDelete("WsTs821nSAtiastD").Describe()
	assert.Contains(t, u, "key=WsTs%E2%80%A6tD")
	assert.Contains(t, u, "token=[REDACTED]")
}
