package client_test

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/plugins/cln/sim"
	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
)

// call is one endpoint of the client, made and described the same way
// whatever it answers.
type call struct {
	endpoint client.Endpoint
	do       func(ctx context.Context) error
}

func mk[T any](k client.Call[T]) call {
	return call{endpoint: k.Endpoint, do: func(ctx context.Context) error { _, err := k.Do(ctx); return err }}
}

// endpoints are every EP* constructor of the client with valid arguments
// (the ones a check refuses before sending would prove nothing), and
// whether the endpoint changes CLN's state.
func endpoints(c *client.Client) map[string]struct {
	call
	changes bool
} {
	limit, note := int64(2), "n"
	type row = struct {
		call
		changes bool
	}
	r := func(k call) row { return row{k, false} }
	w := func(k call) row { return row{k, true} }
	return map[string]row{
		"EPStatus":              r(mk(c.EPStatus())),
		"EPStatusPlain":         r(mk(c.EPStatusPlain())),
		"EPCLKeyCreate":         w(mk(c.EPCLKeyCreate("CLS", 1, "n"))),
		"EPCLKeyUpdate":         w(mk(c.EPCLKeyUpdate("CLKEY0001", 2, "n"))),
		"EPCLKeyRemove":         w(mk(c.EPCLKeyRemove("CLKEY0001"))),
		"EPCLKeyList":           r(mk(c.EPCLKeyList("CLS"))),
		"EPCLServerList":        r(mk(c.EPCLServerList("CLS"))),
		"EPCLServerRemove":      w(mk(c.EPCLServerRemove(7))),
		"EPCLSubAccountServers": r(mk(c.EPCLSubAccountServers())),
		"EPELSKeyCreate":        w(mk(c.EPELSKeyCreate("CELS", 1, "n"))),
		"EPELSKeyUpdate":        w(mk(c.EPELSKeyUpdate("ELSKEY01", 2, "n"))),
		"EPELSKeyRemove":        w(mk(c.EPELSKeyRemove("ELSKEY01"))),
		"EPELSKeyList":          r(mk(c.EPELSKeyList("CELS"))),
		"EPELSServerList":       r(mk(c.EPELSServerList("CELS", ""))),
		"EPELSServerRemove":     w(mk(c.EPELSServerRemove("9"))),
		"EPIMKeyCreate":         w(mk(c.EPIMKeyCreate("360_1", 1, "n"))),
		"EPIMKeyUpdate":         w(mk(c.EPIMKeyUpdate("IMKEY01", &limit, &note, nil))),
		"EPIMKeyRemove":         w(mk(c.EPIMKeyRemove("IMKEY01"))),
		"EPIMKeyList":           r(mk(c.EPIMKeyList())),
		"EPIMServerList":        r(mk(c.EPIMServerList("IMKEY01"))),
		"EPIMServerRemove":      w(mk(c.EPIMServerRemove("5"))),
		"EPIMServerConvert":     w(mk(c.EPIMServerConvert("5", "IMKEY02"))),
		"EPIPLAvailability":     r(mk(c.EPIPLAvailability("203.0.113.7"))),
		"EPIPLCheck":            r(mk(c.EPIPLCheck("203.0.113.7"))),
		"EPIPLRegister":         w(mk(c.EPIPLRegister("203.0.113.7", 16, nil))),
		"EPIPLConvert":          w(mk(c.EPIPLConvert("203.0.113.7", 41, 42))),
		"EPIPLRemove":           w(mk(c.EPIPLRemove("203.0.113.7", 16))),
		"EPIPLList":             r(mk(c.EPIPLList())),
		"EPIPLServer":           r(mk(c.EPIPLServer([]string{"203.0.113.7"}))),
		"EPIPLServers":          r(mk(c.EPIPLServers([]string{"203.0.113.7"})[0])),
		"EPIPLUpdate":           w(mk(c.EPIPLUpdate("203.0.113.7", 16, true))),
		"EPKCKeyCreate":         w(mk(c.EPKCKeyCreate(1, "n"))),
		"EPKCKeyDelete":         w(mk(c.EPKCKeyDelete("WsTs821nSAtiastD"))),
		"EPKCKeyList":           r(mk(c.EPKCKeyList())),
		"EPKCKeyServers":        r(mk(c.EPKCKeyServers("WsTs821nSAtiastD"))),
		"EPKCKeySetCIDR":        w(mk(c.EPKCKeySetCIDR("WsTs821nSAtiastD", []string{"10.0.0.0/8"}))),
		"EPKCServerRemove":      w(mk(c.EPKCServerRemove("srv1"))),
		"EPKCNagios":            r(mk(c.EPKCNagios("key1"))),
		"EPKCNagiosReseller":    r(mk(c.EPKCNagiosReseller())),
		"EPGroupCreate":         w(mk(c.EPGroupCreate("g", "d"))),
		"EPGroupList":           r(mk(c.EPGroupList())),
		"EPGroupServers":        r(mk(c.EPGroupServers("g"))),
		"EPGroupPut":            w(mk(c.EPGroupPut("g", []string{"1"}))),
		"EPGroupRemove":         w(mk(c.EPGroupRemove("g", []string{"1"}))),
		"EPABList":              r(mk(c.EPABList())),
		"EPABCreate":            w(mk(c.EPABCreate("srv1", 10, "dc1"))),
		"EPABResize":            w(mk(c.EPABResize(3, 10))),
		"EPABRemove":            w(mk(c.EPABRemove(3))),
		"EPAWPBilling":          r(mk(c.EPAWPBilling([]string{"AWP_PREMIUM"}, "2024-01"))),
		"EPFeatures":            r(mk(c.EPFeatures())),
		"EPAccountFeatures":     r(mk(c.EPAccountFeatures())),
		"EPSetAccountFeatures":  w(mk(c.EPSetAccountFeatures(map[string]string{"f": "ENABLED"}))),
	}
}

func noWait(ctx context.Context, d time.Duration) error { return ctx.Err() }

// The table above names every endpoint the client has: a new one cannot
// be added without saying whether it changes anything.
func TestTheTableNamesEveryEndpoint(t *testing.T) {
	c, err := client.New(client.Options{BaseURL: "https://cln.example.com/api", Login: "l", Secret: "secret-x"})
	require.NoError(t, err)
	methods := faultproxy.Endpoints(c, "EP")
	var table []string
	for name, e := range endpoints(c) {
		table = append(table, name)
		want := httpapi.Reads
		if e.changes {
			want = httpapi.Changes
		}
		assert.Equal(t, want, e.endpoint.Effect, "%s is declared %s", name, e.endpoint.Effect)
		if e.changes {
			assert.NotEmpty(t, e.endpoint.Check, "%s says how to check a lost answer", name)
		}
	}
	sort.Strings(table)
	assert.Equal(t, methods, table)
}

// Every endpoint through a gateway that does the work and then fails:
// each change reaches CLN exactly once and the user is told that the
// outcome is unknown and how to check it; reads may be retried. Both
// editions, since the older one sends its ELS changes with GET.
func TestEveryChangeReachesCLNOnceThroughFaults(t *testing.T) {
	for _, edition := range []client.Edition{client.Newer, client.Older} {
		for _, fault := range []faultproxy.Fault{faultproxy.BadGatewayAfterWork, faultproxy.ResetAfterWork} {
			t.Run(edition.String()+"/"+fault.String(), func(t *testing.T) {
				s, err := sim.New(sim.Options{Accounts: map[string]string{"reseller": canary}})
				require.NoError(t, err)
				p := faultproxy.New(t, s)
				c, err := client.New(client.Options{BaseURL: p.URL + "/api", Login: "reseller", Secret: canary, Edition: edition, Sleep: noWait})
				require.NoError(t, err)
				ctx := context.Background()
				// A kept-alive connection to fail on, as in production.
				_, err = c.Status(ctx)
				require.NoError(t, err)
				p.Set(fault)

				for name, e := range endpoints(c) {
					before := p.Total()
					err := e.do(ctx)
					seen := p.Total() - before
					require.Error(t, err, name)
					assert.NotContains(t, err.Error(), canary, name)
					if e.changes {
						assert.Equal(t, 1, seen, "%s reached CLN once", name)
						assert.True(t, httpapi.OutcomeUnknown(err), "%s: %v", name, err)
						assert.Contains(t, err.Error(), "check before trying again", name)
						assert.Contains(t, err.Error(), e.endpoint.Check, name)
						assert.False(t, errors.Is(err, client.ErrNotFound), name)
					} else {
						assert.GreaterOrEqual(t, seen, 1, name)
						assert.False(t, httpapi.OutcomeUnknown(err), "%s: %v", name, err)
					}
				}
			})
		}
	}
}

// Before changes were declared, a remove whose answer a gateway lost was
// sent again: the key was gone by then, CLN answered false, and the user
// read "not found" about a key the bot had just deleted. Now it is sent
// once, and the user reads that the outcome is unknown.
func TestALostRemoveAnswerIsNeverNotFound(t *testing.T) {
	for name, remove := range map[string]func(c *client.Client, key string) error{
		"im key remove": func(c *client.Client, key string) error {
			_, err := c.IMKeyRemove(context.Background(), key)
			return err
		},
		"kcare key delete": func(c *client.Client, key string) error { return c.KCKeyDelete(context.Background(), key) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := sim.New(sim.Options{Accounts: map[string]string{"reseller": canary}})
			require.NoError(t, err)
			p := faultproxy.New(t, s)
			c, err := client.New(client.Options{BaseURL: p.URL + "/api", Login: "reseller", Secret: canary, Sleep: noWait})
			require.NoError(t, err)
			ctx := context.Background()
			var key string
			if name == "im key remove" {
				k, err := c.IMKeyCreate(ctx, "360_1", 1, "to remove")
				require.NoError(t, err)
				key = k.Key
			} else {
				key, err = c.KCKeyCreate(ctx, 1, "to remove")
				require.NoError(t, err)
			}

			p.SetFor(faultproxy.BadGatewayAfterWork, 1)
			err = remove(c, key)
			require.Error(t, err)
			assert.True(t, httpapi.OutcomeUnknown(err), "%v", err)
			assert.False(t, errors.Is(err, client.ErrNotFound), "%v", err)
			path := map[string]string{"im key remove": "/api/im/key/remove.json", "kcare key delete": "/api/kcare/key/delete.json"}[name]
			assert.Equal(t, 1, p.Seen("GET", path), "the remove reached CLN once")

			// The check the error points to shows the key gone.
			if name == "im key remove" {
				ks, err := c.IMKeyList(ctx)
				require.NoError(t, err)
				for _, k := range ks {
					assert.NotEqual(t, key, k.Key)
				}
			} else {
				ks, err := c.KCKeyList(ctx)
				require.NoError(t, err)
				for _, k := range ks {
					assert.NotEqual(t, key, k.Key)
				}
			}
		})
	}
}

func TestNoCredentialCrossesARedirect(t *testing.T) {
	s, err := sim.New(sim.Options{Accounts: map[string]string{"reseller": canary}})
	require.NoError(t, err)
	p := faultproxy.New(t, s)
	c, err := client.New(client.Options{BaseURL: p.URL + "/api", Login: "reseller", Secret: canary, Sleep: noWait})
	require.NoError(t, err)
	p.Set(faultproxy.RedirectElsewhere)
	for name, e := range endpoints(c) {
		err := e.do(context.Background())
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, httpapi.ErrRedirectRefused), "%s: %v", name, err)
		assert.NotContains(t, err.Error(), canary, name)
	}
	assert.Empty(t, p.Elsewhere(), "the other host received no request, so no token")
}
