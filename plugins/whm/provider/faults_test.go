package provider_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/provider"
	"github.com/deskbot/deskbot/plugins/whm/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

// behindFaults serves the simulator behind a fault proxy and returns a
// plugin configured for it. If only is set, the simulator itself does
// the work of calls of that function and then fails as fault says (the
// proxy's faults apply to every request, and a command reads before it
// changes).
func behindFaults(t *testing.T, only string, fault faultproxy.Fault) (*sdktest.Harness, *faultproxy.Proxy) {
	t.Helper()
	s, err := sim.New(sim.Options{Token: token, Hostname: "web01.example.net"})
	require.NoError(t, err)
	var upstream http.Handler = s
	if only != "" {
		upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/json-api/"+only {
				s.ServeHTTP(w, r)
				return
			}
			s.ServeHTTP(httptest.NewRecorder(), r) // the work is done; its answer is lost
			if fault == faultproxy.ResetAfterWork {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					if tc, ok := conn.(*net.TCPConn); ok {
						_ = tc.SetLinger(0)
					}
					_ = conn.Close()
				}
				return
			}
			w.WriteHeader(http.StatusBadGateway)
		})
	}
	p := faultproxy.New(t, upstream)
	u, err := url.Parse(p.URL)
	require.NoError(t, err)
	h := sdktest.Start(t, provider.New(), sdk.Target{Name: "web01",
		Settings: map[string]string{"host": u.Hostname(), "port": u.Port(), "scheme": "http"}, Secrets: map[string]string{"token": token}})
	return h, p
}

// A createacct whose answer a gateway loses after WHM did the work: sent
// once, and the user reads that WHM may still be finishing and how to
// check, never a plain failure that invites trying again.
func TestALostCreateTellsTheUserHowToCheck(t *testing.T) {
	for _, fault := range []faultproxy.Fault{faultproxy.BadGatewayAfterWork, faultproxy.ResetAfterWork} {
		t.Run(fault.String(), func(t *testing.T) {
			h, p := behindFaults(t, "createacct", fault)
			args := sdk.Args{"user": "newshop", "domain": "newshop.example", "plan": "default", "password": "CANARY-pass-98765"}
			out := h.Execute("account create", args)
			require.True(t, out.Diagnostics.HasError())
			msg := out.Diagnostics.Err().Error()
			assert.Contains(t, msg, "WHM may still be finishing createacct")
			assert.Contains(t, msg, "/whm account info newshop")
			assert.Contains(t, msg, "before trying again")
			assert.NotContains(t, msg, "CANARY-pass")
			assert.NotContains(t, msg, token)
			assert.Equal(t, 1, p.Seen("POST", "/json-api/createacct"), "sent once")
			// And the check it points to shows the account: WHM did the work.
			info := h.Execute("account info", sdk.Args{"account": "newshop"})
			assert.Contains(t, info.Text, "newshop.example")
		})
	}
}

// The generic call path: a changing function reaches WHM once through a
// gateway that loses the answer, and says the outcome is unknown; a
// reading one is asked again.
func TestGenericCallsThroughFaults(t *testing.T) {
	h, p := behindFaults(t, "", faultproxy.None)
	p.SetFor(faultproxy.BadGatewayAfterWork, 1)
	out := h.Execute("call set_tweaksetting", sdk.Args{"key": "maxemailsperhour", "value": "100"})
	require.True(t, out.Diagnostics.HasError())
	assert.Contains(t, out.Diagnostics.Err().Error(), "before trying again")
	assert.Equal(t, 1, p.Seen("POST", "/json-api/set_tweaksetting"))

	p.SetFor(faultproxy.ResetAfterWork, 1)
	out = h.Execute("call get_tweaksetting", sdk.Args{"key": "maxemailsperhour"})
	assert.False(t, out.Diagnostics.HasError(), "%v", out.Diagnostics)
	assert.Equal(t, 2, p.Seen("GET", "/json-api/get_tweaksetting"), "a read is asked again")
}

// A redirect to another host gets no request, so no token.
func TestNoCommandSendsTheTokenElsewhere(t *testing.T) {
	h, p := behindFaults(t, "", faultproxy.None)
	p.Set(faultproxy.RedirectElsewhere)
	for cmd, args := range map[string]sdk.Args{
		"account info":          {"account": "demo1"},
		"call set_tweaksetting": {"key": "maxemailsperhour", "value": "100"},
		"call get_tweaksetting": {"key": "maxemailsperhour"},
	} {
		out := h.Execute(cmd, args)
		require.True(t, out.Diagnostics.HasError(), cmd)
		assert.NotContains(t, out.Diagnostics.Err().Error(), token, cmd)
	}
	assert.Empty(t, p.Elsewhere())
}
