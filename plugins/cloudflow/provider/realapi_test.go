package provider_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cloudflow/provider"
	"github.com/deskbot/deskbot/plugins/cloudflow/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
	"github.com/deskbot/deskbot/sdk/sandbox"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

// behind starts the provider on a target whose panel is upstream, seen
// through a fault proxy.
func behind(t *testing.T, upstream http.Handler) (*sdktest.Harness, *faultproxy.Proxy) {
	t.Helper()
	p := faultproxy.New(t, upstream)
	tg := sdk.Target{Name: "milan", Settings: map[string]string{"base_url": p.URL, "user": "desk@example.com", "poll": "20ms"}, Secrets: map[string]string{"api_key": apiKey}}
	return sdktest.Start(t, provider.New(), tg), p
}

func simOf(t *testing.T, o sim.Options) *sim.Server {
	t.Helper()
	o.User, o.Password, o.RootPassword = "desk@example.com", apiKey, rootPW
	if o.StepTime == 0 {
		o.StepTime = 40 * time.Millisecond
	}
	o.Clock = sandbox.Stepped(10 * time.Millisecond)
	s, err := sim.New(o)
	require.NoError(t, err)
	return s
}

// A panel that ignores page and per_page answers every page with all 120
// machines. The lists used to run to 1,000 pages and findVM then found
// every name 1,000 times over ("ambiguous"); now they end at the repeat,
// and names resolve.
func TestListsEndAndNamesResolveWhenThePanelIgnoresPaging(t *testing.T) {
	h, p := behind(t, simOf(t, sim.Options{Machines: 117}))
	p.Set(faultproxy.IgnorePaging)

	out := h.Execute("vm info", sdk.Args{"vm": "load-042"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "Id=1042")
	assert.LessOrEqual(t, p.Seen("GET", "/virtual_machines.json"), 2)

	p.Clear()
	out = h.Execute("vm list", nil)
	require.False(t, out.Failed(), out.Text)
	assert.Equal(t, 1, strings.Count(out.Text, "load-117|"), out.Text)
	assert.Equal(t, 1, strings.Count(out.Text, "shop-web|"))
	assert.LessOrEqual(t, p.Seen("GET", "/virtual_machines.json"), 2)

	out = h.Execute("vm start", sdk.Args{"vm": "load-007"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "load-007 is running.")
}

// startupExchange is OnApp's answer to a start (squall's startup, 201
// Scheduled), from the client's reference testdata.
func startupExchange(t *testing.T) (path string, status int, body []byte) {
	t.Helper()
	b, err := os.ReadFile("../client/testdata/startup-squall.json")
	require.NoError(t, err)
	var x struct {
		Source  []string `json:"source"`
		Request struct {
			Path string `json:"path"`
		} `json:"request"`
		Response struct {
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		} `json:"response"`
	}
	require.NoError(t, json.Unmarshal(b, &x))
	require.NotEmpty(t, x.Source)
	return x.Request.Path, x.Response.Status, x.Response.Body
}

// A start the panel accepts (201, as OnApp answers it) but that queues
// no transaction and leaves the machine off used to be reported as "is
// running" after three quiet polls. Now the machine is read: it is off,
// so the user is told the outcome is unknown and how to check.
func TestAnAcceptedActionWithNoTransactionIsCheckedAgainstTheMachine(t *testing.T) {
	s := simOf(t, sim.Options{})
	path, status, body := startupExchange(t)
	h, p := behind(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == path {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		s.ServeHTTP(w, r)
	}))

	out := h.Execute("vm start", sdk.Args{"vm": "bakery-site"})
	require.True(t, out.Failed(), out.Text)
	assert.NotContains(t, out.Text, "is running.")
	assert.Contains(t, out.Text, "no transaction appeared")
	assert.Contains(t, out.Text, "not running")
	assert.Contains(t, out.Text, "outcome is unknown")
	assert.Contains(t, out.Text, "/cloudflow vm info 103")
	assert.Equal(t, 1, p.Seen(http.MethodPost, path), "the start was sent once")
	v, _ := s.VM(103)
	assert.False(t, v.Booted)

	// An action that queues nothing and did its work is a success: the
	// machine shows it (unsuspending a machine that is off).
	out = h.Execute("vm suspend", sdk.Args{"vm": "bakery-site"})
	require.False(t, out.Failed(), out.Text)
	out = h.Execute("vm unsuspend", sdk.Args{"vm": "bakery-site"})
	require.False(t, out.Failed(), out.Text)
	assert.Contains(t, out.Text, "bakery-site is no longer suspended.")
}
