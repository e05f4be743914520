package client_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/plugins/whm/sim"
	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
)

// fn is one WHM function as the table below sends it.
type fn struct {
	changes bool
	args    client.Args
	json    map[string]any
}

func a(kv ...string) client.Args {
	out := client.Args{}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Add(kv[i], kv[i+1])
	}
	return out
}

// functions are every WHM function the provider's commands call (its
// sources name them), and for the generic "call" path one reading and
// one changing function, each with valid arguments and whether it
// changes WHM's state, said here by hand rather than taken from the
// client.
func functions() map[string]fn {
	r := func(args client.Args) fn { return fn{args: args} }
	w := func(args client.Args) fn { return fn{changes: true, args: args} }
	return map[string]fn{
		// Reads.
		"accountsummary":                  r(a("user", "demo1")),
		"backup_date_list":                r(nil),
		"backup_user_list":                r(a("restore_point", "2026-11-25")),
		"cphulk_status":                   r(nil),
		"emailtrack_stats":                r(a("starttime", "1")),
		"fetch_mail_queue":                r(nil),
		"fetch_ssl_vhosts":                r(nil),
		"fetchsslinfo":                    r(a("domain", "demo1.example")),
		"get_autossl_problems_for_domain": r(a("domain", "demo1.example")),
		"get_autossl_problems_for_user":   r(a("username", "demo1")),
		"get_cphulk_brutes":               r(nil),
		"get_disk_usage":                  r(nil),
		"get_mailbox_status":              r(a("account", "demo1")),
		"get_mailbox_status_list":         r(a("account", "demo1")),
		"getdiskusage":                    r(nil),
		"getdomainowner":                  r(a("domain", "demo1.example")),
		"gethostname":                     r(nil),
		"getpkginfo":                      r(a("pkg", "basic")),
		"list_pops_for":                   r(a("user", "demo1")),
		"listaccts":                       r(a("search", "demo")),
		"listpkgs":                        r(nil),
		"listresellers":                   r(nil),
		"listsuspended":                   r(nil),
		"listzones":                       r(nil),
		"parse_dns_zone":                  r(a("zone", "demo1.example")),
		"read_cphulk_records":             r(a("list_name", "white")),
		"restore_queue_list_pending":      r(nil),
		"restore_queue_state":             r(nil),
		"servicestatus":                   r(nil),
		"showbw":                          r(nil),
		"system_needs_reboot":             r(nil),
		"systemloadavg":                   r(nil),
		"version":                         r(nil),
		"get_tweaksetting":                r(a("key", "maxemailsperhour")), // generic call, reading
		// Changes.
		"addzonerecord":                      w(a("domain", "demo1.example", "name", "www", "type", "A", "address", "192.0.2.1")),
		"editzonerecord":                     w(a("domain", "demo1.example", "line", "6", "address", "192.0.2.2")),
		"batch":                              w(a("command", "version")),
		"changepackage":                      w(a("user", "demo1", "pkg", "pro")),
		"create_cphulk_record":               w(a("list_name", "black", "ip", "198.51.100.1")),
		"createacct":                         w(a("username", "newshop", "domain", "newshop.example", "password", "CANARY-pass-1234")),
		"delete_cphulk_record":               w(a("list_name", "black", "ip", "198.51.100.1")),
		"editquota":                          w(a("user", "demo1", "quota", "1000")),
		"enqueue_transfer_item":              w(a("transfer_session_id", "x", "module", "AccountRemoteRoot", "user", "demo1", "localuser", "demo1")),
		"flush_cphulk_login_history_for_ips": w(a("ip", "198.51.100.1")),
		"hold_outgoing_email":                w(a("user", "demo1")),
		"killdns":                            w(a("domain", "demo1.example")),
		"killpkg":                            w(a("pkgname", "basic")),
		"limitbw":                            w(a("user", "demo1", "bwlimit", "1000")),
		"mass_edit_dns_zone":                 w(a("zone", "demo1.example", "serial", "1", "remove", "6")),
		"passwd":                             w(a("user", "demo1", "password", "CANARY-pass-1234")),
		"release_outgoing_email":             w(a("user", "demo1")),
		"removeacct":                         w(a("username", "demo1")),
		"resetzone":                          w(a("domain", "demo1.example")),
		"restartservice":                     w(a("service", "exim")),
		"restore_queue_activate":             w(nil),
		"restore_queue_add_task":             w(a("user", "demo1", "restore_point", "2026-11-25")),
		"restore_queue_clear_pending_task":   w(a("user", "demo1")),
		"set_service_proxy_backends":         w(a("username", "demo1")),
		"start_autossl_check_for_one_user":   w(a("username", "demo1")),
		"suspend_outgoing_email":             w(a("user", "demo1")),
		"suspendacct":                        w(a("user", "demo1", "reason", "abuse")),
		"unsuspend_outgoing_email":           w(a("user", "demo1")),
		"unsuspendacct":                      w(a("user", "demo1")),
		"set_tweaksetting":                   w(a("key", "maxemailsperhour", "value", "100")), // generic call, changing
		"batch_create_cphulk_records":        {changes: true, json: map[string]any{"list_name": "white", "records": []any{map[string]any{"ip": "192.0.2.9"}}}},
		"php_fpm_config_set":                 {changes: true, json: map[string]any{"domain": "demo1.example", "validate_only": 1}},
		"update_sql_config":                  {changes: true, json: map[string]any{"settings": map[string]any{"max_connections": 100}}},
	}
}

var literal = regexp.MustCompile(`"([a-z_0-9]+)"`)

// The table names every function the provider's commands call: its
// sources are read for the names of catalog functions, so a new call
// cannot be added without saying whether it changes anything. And the
// client declares each as the table does, whatever its risk.
func TestTheTableNamesEveryFunctionTheProviderCalls(t *testing.T) {
	cat := catalog.MustLoad()
	files, err := filepath.Glob(filepath.Join("..", "provider", "*.go"))
	require.NoError(t, err)
	used := map[string]bool{"get_tweaksetting": true, "set_tweaksetting": true}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if _, ok := cat.Get(m[1]); ok {
				used[m[1]] = true
			}
		}
	}
	var want, got []string
	for n := range used {
		want = append(want, n)
	}
	c, err := client.New(client.Options{Host: "whm.example.net", Token: token})
	require.NoError(t, err)
	for name, f := range functions() {
		got = append(got, name)
		effect := httpapi.Reads
		if f.changes {
			effect = httpapi.Changes
		}
		var body any
		if f.json != nil {
			body = f.json
		}
		assert.Equal(t, effect, c.Request(name, f.args, body).Effect, "%s is declared %s", name, effect)
		if f.changes {
			assert.NotEmpty(t, client.CheckHint(name, f.args), name)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got)
}

// Every function through a gateway that does the work and then fails:
// each change reaches WHM exactly once and the user is told that the
// outcome is unknown and how to check it (and, for the long ones, that
// WHM may still be finishing); reads may be retried.
func TestEveryChangeReachesWHMOnceThroughFaults(t *testing.T) {
	for _, fault := range []faultproxy.Fault{faultproxy.BadGatewayAfterWork, faultproxy.ResetAfterWork} {
		t.Run(fault.String(), func(t *testing.T) {
			s, err := sim.New(sim.Options{Token: token})
			require.NoError(t, err)
			p := faultproxy.New(t, s)
			host, port := hostPort(t, p.URL)
			c, err := client.New(client.Options{Host: host, Port: port, Scheme: "http", Token: token, Sleep: noWait})
			require.NoError(t, err)
			ctx := context.Background()
			// A kept-alive connection to fail on, as in production.
			_, err = c.Call(ctx, "version", nil, nil)
			require.NoError(t, err)
			p.Set(fault)

			for name, f := range functions() {
				var body any
				if f.json != nil {
					body = f.json
				}
				before := p.Seen(methodOf(c, name, f), "/json-api/"+name)
				_, err := c.Call(ctx, name, f.args, body)
				seen := p.Seen(methodOf(c, name, f), "/json-api/"+name) - before
				require.Error(t, err, name)
				assert.NotContains(t, err.Error(), token, name)
				assert.NotContains(t, err.Error(), "CANARY-pass", name)
				if f.changes {
					assert.Equal(t, 1, seen, "%s reached WHM once", name)
					assert.True(t, httpapi.OutcomeUnknown(err), "%s: %v", name, err)
					var ou *client.OutcomeUnknownError
					require.True(t, errors.As(err, &ou), "%s: %v", name, err)
					assert.Contains(t, err.Error(), "Check with "+client.CheckHint(name, f.args)+" before trying again", name)
					assert.False(t, errors.Is(err, context.DeadlineExceeded), name)
					if client.Long(name) {
						assert.Contains(t, err.Error(), "WHM may still be finishing", name)
					}
				} else {
					assert.GreaterOrEqual(t, seen, 1, name)
					assert.False(t, httpapi.OutcomeUnknown(err), "%s: %v", name, err)
				}
			}
		})
	}
}

func methodOf(c *client.Client, name string, f fn) string {
	var body any
	if f.json != nil {
		body = f.json
	}
	return c.Request(name, f.args, body).Method
}

// createacct, removeacct and restoreaccount say what to check with, by
// name: the account's own info command.
func TestALostAccountChangeSaysHowToCheck(t *testing.T) {
	assert.Equal(t, "`/whm account info newshop`", client.CheckHint("createacct", a("username", "newshop")))
	assert.Equal(t, "`/whm account info oldsite`", client.CheckHint("removeacct", a("username", "oldsite")))
	assert.Equal(t, "`/whm account info demo1` and `/whm restore status`", client.CheckHint("restoreaccount", a("user", "demo1")))
	for _, f := range []string{"createacct", "removeacct", "restoreaccount"} {
		assert.True(t, client.Long(f), f)
	}
}

// The long functions get their own, configurable timeout; the others the
// ordinary one; and neither outlasts the caller's own deadline.
func TestLongFunctionsHaveTheirOwnTimeout(t *testing.T) {
	c, err := client.New(client.Options{Host: "whm.example.net", Token: token, Timeout: 30 * time.Second, LongTimeout: 20 * time.Minute})
	require.NoError(t, err)
	for _, f := range []string{"createacct", "removeacct", "restoreaccount"} {
		assert.Equal(t, 20*time.Minute, c.TimeoutFor(f), f)
	}
	assert.Equal(t, 30*time.Second, c.TimeoutFor("suspendacct"))
	d, err := client.New(client.Options{Host: "whm.example.net", Token: token})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, d.TimeoutFor("createacct"), "10 minutes by default")
	assert.Equal(t, time.Minute, d.TimeoutFor("listaccts"))
}

// A createacct whose answer does not come before its deadline: it was
// sent once, not again, and the user reads that WHM may still be
// finishing and how to check. The server holds the answer until the
// client has given up; no test clock is needed.
func TestACreateThatTimesOutSaysWHMMayStillBeFinishing(t *testing.T) {
	release := make(chan struct{})
	s, err := sim.New(sim.Options{Token: token})
	require.NoError(t, err)
	p := faultproxy.New(t, holdCreate(s, release))
	t.Cleanup(func() { close(release) })
	host, port := hostPort(t, p.URL)
	c, err := client.New(client.Options{Host: host, Port: port, Scheme: "http", Token: token, LongTimeout: 200 * time.Millisecond, Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	_, err = c.Call(context.Background(), "createacct", a("username", "newshop", "domain", "newshop.example", "password", "CANARY-pass-1234"), nil)
	require.Error(t, err)
	assert.True(t, httpapi.OutcomeUnknown(err), "%v", err)
	assert.Contains(t, err.Error(), "WHM may still be finishing createacct")
	assert.Contains(t, err.Error(), "`/whm account info newshop`")
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "not reported as the plugin's own timeout")
	assert.Equal(t, 1, p.Seen("POST", "/json-api/createacct"))
}

// holdCreate serves s, holding a createacct's answer until release.
func holdCreate(s http.Handler, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/createacct") {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		s.ServeHTTP(w, r)
	})
}

// No credential crosses a redirect to another host: WHM's token header
// never reaches it, whatever the function.
func TestNoCredentialCrossesARedirect(t *testing.T) {
	s, err := sim.New(sim.Options{Token: token})
	require.NoError(t, err)
	p := faultproxy.New(t, s)
	host, port := hostPort(t, p.URL)
	c, err := client.New(client.Options{Host: host, Port: port, Scheme: "http", Token: token, User: "deskbot", Sleep: noWait})
	require.NoError(t, err)
	p.Set(faultproxy.RedirectElsewhere)
	for name, f := range functions() {
		var body any
		if f.json != nil {
			body = f.json
		}
		_, err := c.Call(context.Background(), name, f.args, body)
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, httpapi.ErrRedirectRefused), "%s: %v", name, err)
		assert.NotContains(t, err.Error(), token, name)
	}
	for _, caught := range p.Elsewhere() {
		assert.Empty(t, caught.Header.Get("Authorization"), "the other host got no Authorization: whm deskbot:TOKEN")
		assert.NotContains(t, caught.URL, token)
	}
	assert.Empty(t, p.Elsewhere(), "the other host received no request at all")
}

func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }
