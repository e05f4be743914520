package client_test

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
	"github.com/deskbot/deskbot/plugins/cloudflow/sim"
	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

const (
	user   = "desk@example.com"
	canary = "CANARY-cloudflow-key-f00d"
)

func noWait(ctx context.Context, d time.Duration) error { return ctx.Err() }

// endpoints are every EP* method of the client with valid arguments, and
// whether the endpoint changes the panel's state.
func endpoints(c *client.Client) map[string]struct {
	req     client.Request
	changes bool
} {
	type row = struct {
		req     client.Request
		changes bool
	}
	r := func(q client.Request) row { return row{q, false} }
	w := func(q client.Request) row { return row{q, true} }
	size := map[string]any{"cpus": int64(4), "allow_cold_resize": "1", "allow_migration": "0"}
	return map[string]row{
		"EPVersion":        r(c.EPVersion()),
		"EPVMs":            r(c.EPVMs()),
		"EPVM":             r(c.EPVM("101")),
		"EPVMDisks":        r(c.EPVMDisks("102")),
		"EPVMBackups":      r(c.EPVMBackups("102")),
		"EPVMTransactions": r(c.EPVMTransactions("101")),
		"EPBackup":         r(c.EPBackup(5001)),
		"EPTemplates":      r(c.EPTemplates()),
		"EPHypervisors":    r(c.EPHypervisors()),
		"EPUsers":          r(c.EPUsers()),
		"EPUserVMs":        r(c.EPUserVMs(7)),
		"EPStartup":        w(c.EPStartup("103")),
		"EPShutdown":       w(c.EPShutdown("101")),
		"EPStop":           w(c.EPStop("102")),
		"EPReboot":         w(c.EPReboot("101", true)),
		"EPSuspend":        w(c.EPSuspend("103")),
		"EPUnlock":         w(c.EPUnlock("102")),
		"EPBuild":          w(c.EPBuild("103", 20, false)),
		"EPResize":         w(c.EPResize("101", size)),
		"EPResizeByAction": w(c.EPResizeByAction("101", size)),
		"EPBackupCreate":   w(c.EPBackupCreate("102", 1020, "n")),
		"EPBackupRestore":  w(c.EPBackupRestore("102", 5001)),
		"EPBackupDelete":   w(c.EPBackupDelete("102", 5001)),
	}
}

func newClient(t *testing.T, base string) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: base, User: user, Password: canary, Sleep: noWait})
	require.NoError(t, err)
	return c
}

func newSim(t *testing.T, o sim.Options) *sim.Server {
	t.Helper()
	o.User, o.Password = user, canary
	o.StepTime = time.Hour
	o.Clock = sandbox.Stepped(10 * time.Millisecond)
	s, err := sim.New(o)
	require.NoError(t, err)
	return s
}

// The table names every endpoint the client has: a new one cannot be
// added without saying whether it changes anything, and each change says
// how to check it.
func TestTheTableNamesEveryEndpoint(t *testing.T) {
	c := newClient(t, "https://cp.example.com")
	methods := faultproxy.Endpoints(c, "EP")
	var table []string
	for name, e := range endpoints(c) {
		table = append(table, name)
		want := httpapi.Reads
		if e.changes {
			want = httpapi.Changes
		}
		assert.Equal(t, want, e.req.Effect, "%s is declared %s", name, e.req.Effect)
		assert.NoError(t, e.req.Err, name)
		if e.changes {
			assert.Contains(t, e.req.Check, "/cloudflow ", "%s says which command shows whether it was done", name)
		}
	}
	sort.Strings(table)
	assert.Equal(t, methods, table)
}

// Every endpoint through a gateway that lets the panel do the work and
// then answers 502, or resets the connection: each change reaches the
// panel exactly once (a resize does not fall back to its other form), and
// the user is told that the outcome is unknown and how to check; reads
// are retried and never called unknown.
func TestEveryChangeReachesThePanelOnceThroughFaults(t *testing.T) {
	for _, fault := range []faultproxy.Fault{faultproxy.BadGatewayAfterWork, faultproxy.ResetAfterWork} {
		t.Run(fault.String(), func(t *testing.T) {
			p := faultproxy.New(t, newSim(t, sim.Options{}))
			c := newClient(t, p.URL)
			ctx := context.Background()
			// A kept-alive connection to fail on, as in production.
			_, err := c.Call(ctx, c.EPVersion())
			require.NoError(t, err)
			p.Set(fault)
			for name, e := range endpoints(c) {
				before := p.Total()
				_, err := c.Call(ctx, e.req)
				seen := p.Total() - before
				require.Error(t, err, name)
				assert.NotContains(t, err.Error(), canary, name)
				if e.changes {
					assert.Equal(t, 1, seen, "%s reached the panel once", name)
					assert.True(t, httpapi.OutcomeUnknown(err), "%s: %v", name, err)
					assert.Contains(t, err.Error(), "check before trying again", name)
					assert.Contains(t, err.Error(), e.req.Check, name)
				} else {
					assert.GreaterOrEqual(t, seen, 1, name)
					assert.False(t, httpapi.OutcomeUnknown(err), "%s: %v", name, err)
				}
			}
		})
	}
}

// A panel that redirects to another host gets no credential there: no
// request reaches it at all, for any endpoint.
func TestNoCredentialCrossesARedirect(t *testing.T) {
	p := faultproxy.New(t, newSim(t, sim.Options{}))
	c := newClient(t, p.URL)
	p.Set(faultproxy.RedirectElsewhere)
	for name, e := range endpoints(c) {
		_, err := c.Call(context.Background(), e.req)
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, httpapi.ErrRedirectRefused), "%s: %v", name, err)
		assert.False(t, httpapi.OutcomeUnknown(err), "%s: a refused redirect is an answer", name)
		assert.NotContains(t, err.Error(), canary, name)
	}
	for _, caught := range p.Elsewhere() {
		assert.Empty(t, caught.Header.Get("Authorization"), "basic auth reached %s", caught.URL)
	}
	assert.Empty(t, p.Elsewhere(), "the other host received no request, so no credential")
	assert.Zero(t, p.Total(), "nothing reached the panel either")
}

func simWith(machines int) sim.Options { return sim.Options{Machines: machines} }
