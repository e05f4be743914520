package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/plugins/ionos/client"
	"github.com/deskbot/deskbot/plugins/ionos/sim"
	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
)

const canary = "CANARY-ionos-faults-key-3f1e"

func noWait(ctx context.Context, d time.Duration) error { return ctx.Err() }

// requestOf is a valid call of an operation: every path variable an id,
// the reference's example body (or {}), as "call OPERATION" would send it.
func requestOf(t *testing.T, o *catalog.Operation) client.Request {
	t.Helper()
	vars := map[string]string{}
	for _, p := range o.PathParams {
		vars[p.Name] = "39AA65F5D5B02FA02D58173094EBAF95"
	}
	path, err := client.Fill(o.Path, vars)
	require.NoError(t, err, o.Name)
	r := client.Request{Method: o.Method, Path: path, EmptyBody: o.EmptyBody}
	if len(o.BodyExample) > 0 {
		var body any
		require.NoError(t, json.Unmarshal(o.BodyExample, &body), o.Name)
		r.Body = body
	} else if len(o.Body) > 0 {
		r.EmptyBody = true
	}
	return r
}

// The declaration table names every operation of the catalog, and no
// other: a new operation cannot be added without saying whether it
// changes anything, and every change says how to check it.
func TestEveryOperationIsDeclared(t *testing.T) {
	cat := catalog.MustLoad()
	var table []string
	for name, e := range client.Endpoints {
		table = append(table, name)
		o, ok := cat.Get(name)
		require.True(t, ok, "%s is not an operation", name)
		if o.Method == http.MethodGet {
			assert.Equal(t, httpapi.Reads, e.Effect, "%s reads", name)
			continue
		}
		assert.Equal(t, httpapi.Changes, e.Effect, "%s changes", name)
		assert.True(t, strings.HasPrefix(e.Check, "/ionos "), "%s says which command shows whether it happened: %q", name, e.Check)
	}
	sort.Strings(table)
	assert.Equal(t, cat.Names(), table)
}

// Every operation through a gateway that does the work and then fails
// (502, or a reset connection): each change reaches IONOS exactly once,
// and the user is told the outcome is unknown and which command shows it;
// reads may be retried and are never "unknown".
func TestEveryChangeReachesIONOSOnceThroughFaults(t *testing.T) {
	cat := catalog.MustLoad()
	for _, fault := range []faultproxy.Fault{faultproxy.BadGatewayAfterWork, faultproxy.ResetAfterWork} {
		t.Run(fault.String(), func(t *testing.T) {
			s, err := sim.New(sim.Options{Token: canary, Limit: 100000, Window: time.Second})
			require.NoError(t, err)
			p := faultproxy.New(t, s)
			c, err := client.New(client.Options{BaseURL: p.URL, Token: canary, Sleep: noWait})
			require.NoError(t, err)
			ctx := context.Background()
			// A kept-alive connection to fail on, as in production.
			_, err = c.Do(ctx, client.Request{Method: http.MethodGet, Path: "/ping_auth"}, nil)
			require.NoError(t, err)
			p.Set(fault)

			for _, o := range cat.Operations {
				r := requestOf(t, &o)
				before := p.Total()
				_, err := c.Do(ctx, r, nil)
				seen := p.Total() - before
				require.Error(t, err, o.Name)
				assert.NotContains(t, err.Error(), canary, o.Name)
				if client.Endpoints[o.Name].Effect == httpapi.Changes {
					assert.Equal(t, 1, seen, "%s reached IONOS once", o.Name)
					assert.True(t, httpapi.OutcomeUnknown(err), "%s: %v", o.Name, err)
					assert.Contains(t, err.Error(), "check before trying again", o.Name)
					check := c.CheckOf(r)
					require.NotEmpty(t, check, o.Name)
					assert.NotContains(t, check, "{", "%s: the check names the call's own ids", o.Name)
					assert.Contains(t, err.Error(), "check with "+check, o.Name)
				} else {
					assert.GreaterOrEqual(t, seen, 1, o.Name)
					assert.False(t, httpapi.OutcomeUnknown(err), "%s: %v", o.Name, err)
				}
			}
		})
	}
}

// A provider that redirects to another host gets no X-TOKEN there: the
// redirect is refused, for every operation.
func TestNoKeyCrossesARedirect(t *testing.T) {
	s, err := sim.New(sim.Options{Token: canary, Limit: 100000, Window: time.Second})
	require.NoError(t, err)
	p := faultproxy.New(t, s)
	c, err := client.New(client.Options{BaseURL: p.URL + "/", Token: canary + "-redirect", Sleep: noWait})
	require.NoError(t, err)
	p.Set(faultproxy.RedirectElsewhere)
	for _, o := range catalog.MustLoad().Operations {
		_, err := c.Do(context.Background(), requestOf(t, &o), nil)
		require.Error(t, err, o.Name)
		assert.True(t, errors.Is(err, httpapi.ErrRedirectRefused), "%s: %v", o.Name, err)
		assert.NotContains(t, err.Error(), canary, o.Name)
	}
	for _, got := range p.Elsewhere() {
		assert.Empty(t, got.Header.Get("X-Token"), "the other host received the key on %s", got.URL)
	}
	assert.Empty(t, p.Elsewhere(), "the other host received no request at all")
}

// A path variable is one escaped segment, and "..", "." or "" is refused
// before anything is sent: /servers/{server_id}/snapshots/.. would be the
// server itself behind a normalising proxy.
func TestPathVariablesAreOneSegment(t *testing.T) {
	for _, bad := range []string{"..", ".", ""} {
		_, err := client.Fill("/servers/{server_id}/snapshots/{snapshot_id}", map[string]string{"server_id": "A", "snapshot_id": bad})
		assert.Error(t, err, "%q", bad)
	}
	p, err := client.Fill("/servers/{server_id}/snapshots/{snapshot_id}", map[string]string{"server_id": "A", "snapshot_id": "x/../y?z"})
	require.NoError(t, err)
	assert.Equal(t, "/servers/A/snapshots/x%2F..%2Fy%3Fz", p)
}

// A server (or proxy) that ignores page/per_page answers its default page
// to every request. OnApp's clients list unpaged; the IONOS reference
// documents page and per_page but no total, so a client that pages until
// a short page cannot tell. The pager stops at the repeated page.
func TestListEndsWhenPagingIsIgnored(t *testing.T) {
	// 250 servers; honours page/per_page, and without them answers all.
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		lo, hi := 0, 250
		if page > 0 && per > 0 {
			lo, hi = min((page-1)*per, 250), min(page*per, 250)
		}
		var items []map[string]any
		for i := lo; i < hi; i++ {
			items = append(items, map[string]any{"id": strconv.Itoa(i), "name": "srv" + strconv.Itoa(i)})
		}
		_ = json.NewEncoder(w).Encode(items)
	})
	p := faultproxy.New(t, up)
	c, err := client.New(client.Options{BaseURL: p.URL, Token: "k-paging", Sleep: noWait})
	require.NoError(t, err)

	var out []map[string]any
	require.NoError(t, c.List(context.Background(), "/servers", nil, 100, &out))
	assert.Len(t, out, 250, "paged: 100 + 100 + 50")

	p.Clear()
	p.Set(faultproxy.IgnorePaging)
	out = nil
	err = c.List(context.Background(), "/servers", nil, 100, &out)
	require.ErrorIs(t, err, httpapi.ErrPagingIgnored)
	assert.LessOrEqual(t, p.Total(), 2, "it stops at the first repeated page")
}

// A short list is one request: with 25 calls a minute, asking for an
// empty second page would halve how many lists fit in the window.
func TestAShortListIsOneRequest(t *testing.T) {
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode([]map[string]any{{"id": "A"}, {"id": "B"}, {"id": "C"}})
	})
	p := faultproxy.New(t, up)
	c, err := client.New(client.Options{BaseURL: p.URL, Token: "k-short-list", Sleep: noWait})
	require.NoError(t, err)
	var out []map[string]any
	require.NoError(t, c.List(context.Background(), "/servers", nil, 100, &out))
	assert.Len(t, out, 3)
	assert.Equal(t, 1, p.Total())
}
