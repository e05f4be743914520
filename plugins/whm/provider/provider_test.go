package provider_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/provider"
	"github.com/deskbot/deskbot/plugins/whm/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sandbox"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

const token = "CANARY-whm-provider-token-31a9"

// server serves a simulator of WHM on loopback and returns it with a
// target that reaches it the way a real server is configured.
func server(t *testing.T, hostname string) (*sim.Server, sdk.Target) {
	t.Helper()
	s, err := sim.New(sim.Options{Token: token, Hostname: hostname})
	require.NoError(t, err)
	base, stop, err := sandbox.Listen(s)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })
	u, err := url.Parse(base)
	require.NoError(t, err)
	name := strings.SplitN(hostname, ".", 2)[0]
	return s, sdk.Target{Name: name, Settings: map[string]string{"host": u.Hostname(), "port": u.Port(), "scheme": "http"}, Secrets: map[string]string{"token": token}}
}

// sandboxTarget is a sandbox target whose simulator is web01.example.net
// and answers to token, which the tests look for in every output.
func sandboxTarget(t *testing.T) sdk.Target {
	return sdk.Target{Name: "sandbox", Sandbox: true, StateDir: t.TempDir(),
		Settings: map[string]string{"hostname": "web01.example.net"}, Secrets: map[string]string{"token": token}}
}

// start runs the plugin on its own simulator.
func start(t *testing.T) (*sdktest.Harness, *sim.Server) {
	t.Helper()
	h := sdktest.Start(t, provider.New(), sandboxTarget(t))
	return h, sdktest.Simulator[*sim.Server](h)
}

// plan returns a command's plan and its text: the summary, then each
// step's method, endpoint and body.
func plan(t *testing.T, h *sdktest.Harness, command string, args sdk.Args) (*sdk.PlanResponse, string) {
	t.Helper()
	pr := h.Plan(command, args)
	if pr.Plan == nil {
		return pr, fmt.Sprint(pr.Diagnostics)
	}
	s := pr.Plan.Summary + "\n"
	for _, st := range pr.Plan.Steps {
		s += st.Method + " " + st.Endpoint + " " + st.Body + "\n"
	}
	return pr, s
}

func TestConformance(t *testing.T) {
	p := provider.New()
	t.Cleanup(func() { _ = p.Close() })
	sdktest.Run(t, p, sdktest.Options{
		Targets:  []sdk.Target{sandboxTarget(t)},
		Snapshot: func() (string, error) { return p.Simulator("sandbox").(*sim.Server).Snapshot(), nil },
		Args: map[string]sdk.Args{
			"account info":      {"account": "demo1"},
			"account suspend":   {"user": "demo1", "reason": "test"},
			"account unsuspend": {"user": "blogger"},
			"account remove":    {"user": "demo1"},
			"account password":  {"user": "demo1", "password": "long-enough-1"},
			"account package":   {"user": "demo1", "plan": "pro"},
			"account bandwidth": {"user": "demo1", "limit": "1000"},
			"account quota":     {"user": "demo1", "quota": "1000"},
			"account create":    {"user": "newone", "domain": "newone.example", "password": "long-enough-1"},
			"package remove":    {"plan": "basic"},
			"package info":      {"plan": "basic"},
			"dns zone":          {"domain": "demo1.example"},
			"dns record add":    {"domain": "demo1.example", "name": "x", "type": "A", "value": "203.0.113.9"},
			"dns record remove": {"domain": "demo1.example", "line": int64(7)},
			"dns reset":         {"domain": "demo1.example"},
			"dns remove":        {"domain": "demo1.example"},
			"backup users":      {"point": "2026-11-25"},
			"restore queue":     {"user": "demo1", "point": "2026-11-25"},
			"mail hold":         {"user": "demo1"},
			"mail release":      {"user": "demo1"},
			"mail suspend":      {"user": "demo1"},
			"mail unsuspend":    {"user": "demo1"},
			"service restart":   {"service": "exim"},
		},
		// "restore run" plans only when something is queued; a file
		// upload cannot come from chat, so it never plans.
		SkipPlan: []string{"restore run", "call restore_config_from_upload"},
	})
}

func TestCuratedCommandsAgainstTheSimulator(t *testing.T) {
	h, s := start(t)
	cases := []sdktest.Case{
		{Command: "account list", Want: []string{"4 accounts", "demo1|demo1.example|basic|root|203.0.113.21|812M of 5120M|active|normal", "blogger|blog.example|basic|root|203.0.113.21|120M of 5120M|suspended: Suspended for nonpayment."}},
		{Command: "account list", Args: sdk.Args{"search": "shop", "by": "domain"}, Want: []string{"1 accounts", "shopco|shop.example"}},
		{Command: "account list", Args: sdk.Args{"search": "resell1", "by": "owner"}, Want: []string{"shopco"}},
		{Command: "account list", Args: sdk.Args{"search": "zzz"}, Want: []string{"No account matches."}},
		{Command: "account info", Args: sdk.Args{"account": "demo1"}, Want: []string{"Domain=demo1.example", "Plan=basic", "Created=2023-11-14 22:13 UTC", "State=active"}},
		{Command: "account info", Args: sdk.Args{"account": "shop.example"}, Want: []string{"User=shopco", "Owner=resell1"}},
		{Command: "account info", Args: sdk.Args{"account": "demo2"}, Want: []string{`no account with user "demo2"`, "did you mean demo1?"}, Fails: true},
		{Command: "account info", Args: sdk.Args{"account": "Bad User"}, Want: []string{"neither a domain nor a cPanel account name"}, Fails: true},
		{Command: "account owner", Args: sdk.Args{"domain": "shop.example"}, Want: []string{"shop.example belongs to account shopco."}},
		{Command: "account owner", Args: sdk.Args{"domain": "nobody.example"}, Want: []string{"No account on this server owns nobody.example."}},
		{Command: "account suspended", Want: []string{"blogger|root|Suspended for nonpayment."}},
		{Command: "account suspend", Args: sdk.Args{"user": "demo1", "reason": "abuse: phishing"}, Want: []string{"Account demo1 is suspended."}},
		{Command: "account suspend", Args: sdk.Args{"user": "dem01", "reason": "abuse"}, Want: []string{"did you mean demo1?"}, Fails: true},
		{Command: "account suspended", Want: []string{"demo1|root|abuse: phishing"}},
		{Command: "account unsuspend", Args: sdk.Args{"user": "demo1"}, Want: []string{"Account demo1 is active again."}},
		{Command: "account unsuspend", Args: sdk.Args{"user": "demo1"}, Want: []string{"demo1 is not suspended"}, Fails: true},
		{Command: "account create", Args: sdk.Args{"user": "newshop", "domain": "newshop.example", "plan": "basic", "email": "o@newshop.example", "password": "Sekrit-Canary-Pass-1"}, Want: []string{"Domain=newshop.example", "Plan=basic"}},
		{Command: "account create", Args: sdk.Args{"user": "newshop2", "domain": "n2.example", "plan": "gold", "password": "Sekrit-Canary-Pass-1"}, Want: []string{`no plan "gold"`}, Fails: true},
		{Command: "account create", Args: sdk.Args{"user": "Way-Too-Long-Name-For-Cpanel", "domain": "n3.example", "password": "Sekrit-Canary-Pass-1"}, Want: []string{"1 to 16 lower-case letters"}, Fails: true},
		{Command: "account create", Args: sdk.Args{"user": "demo1", "domain": "other.example", "password": "Sekrit-Canary-Pass-1"}, Want: []string{"already exists"}, Fails: true},
		{Command: "account password", Args: sdk.Args{"user": "newshop", "password": "Another-Canary-Pass-2"}, Want: []string{"The password of newshop is changed."}},
		{Command: "account password", Args: sdk.Args{"user": "newshop", "password": "short"}, Want: []string{"at least 8 characters"}, Fails: true},
		{Command: "account package", Args: sdk.Args{"user": "demo1", "plan": "pro"}, Want: []string{"Account demo1 is now on plan pro.", "disk quota from “5120M” to “20480M”"}},
		{Command: "account package", Args: sdk.Args{"user": "demo1", "plan": "pro"}, Want: []string{"already on plan pro"}, Fails: true},
		{Command: "account package", Args: sdk.Args{"user": "demo1", "plan": "basik"}, Want: []string{"did you mean basic?"}, Fails: true},
		{Command: "account bandwidth", Args: sdk.Args{"user": "demo1", "limit": "50GB"}, Want: []string{"Bandwidth Limit for demo1 has been set to 51200M megabytes"}},
		{Command: "account bandwidth", Args: sdk.Args{"user": "demo1", "limit": "lots"}, Want: []string{"give megabytes"}, Fails: true},
		{Command: "account quota", Args: sdk.Args{"user": "demo1", "quota": "unlimited"}, Want: []string{"Quota of demo1 set."}},
		{Command: "account usage", Want: []string{"demo1|demo1.example|1.7 GB|50.0 GB|812.0 MB|unlimited", "shopco|shop.example|89.9 GB"}},
		{Command: "account usage", Args: sdk.Args{"user": "shopco"}, Want: []string{"shopco|shop.example"}},
		{Command: "reseller list", Want: []string{"Resellers: resell1"}},
		{Command: "package list", Want: []string{"basic|5120|51200|10|5"}},
		{Command: "package info", Args: sdk.Args{"plan": "pro"}, Want: []string{"QUOTA=20480"}},
		{Command: "package remove", Args: sdk.Args{"plan": "default"}, Want: []string{"Plan default is deleted."}},
		{Command: "package remove", Args: sdk.Args{"plan": "default"}, Want: []string{`no plan "default"`}, Fails: true},
		{Command: "dns zones", Want: []string{"blog.example|blog.example.db", "newshop.example"}},
		{Command: "dns zone", Args: sdk.Args{"domain": "demo1.example"}, Want: []string{"3|demo1.example.|14400|A|203.0.113.21", "6|demo1.example.|14400|MX|0 demo1.example."}},
		{Command: "dns zone", Args: sdk.Args{"domain": "nowhere.example"}, Want: []string{"does not exist"}, Fails: true},
		{Command: "dns record add", Args: sdk.Args{"domain": "demo1.example", "name": "shop", "type": "A", "value": "203.0.113.50", "ttl": int64(300)}, Want: []string{"Record added to demo1.example."}},
		{Command: "dns record add", Args: sdk.Args{"domain": "demo1.example", "name": "@", "type": "MX", "value": "10 mx.mailhost.example.", "ttl": int64(3600)}, Want: []string{"Record added"}},
		{Command: "dns record add", Args: sdk.Args{"domain": "demo1.example", "name": "txt", "type": "TXT", "value": "hello", "ttl": int64(3600)}, Want: []string{"Record added"}},
		{Command: "dns record add", Args: sdk.Args{"domain": "demo1.example", "name": "www", "type": "A", "value": "203.0.113.51", "ttl": int64(300)}, Want: []string{"a CNAME cannot share its name"}, Fails: true},
		{Command: "dns record add", Args: sdk.Args{"domain": "demo1.example", "name": "v6", "type": "AAAA", "value": "203.0.113.9", "ttl": int64(300)}, Want: []string{"not an IPv6 address"}, Fails: true},
		{Command: "dns record add", Args: sdk.Args{"domain": "demo1.example", "name": "@", "type": "MX", "value": "mx.example.", "ttl": int64(300)}, Want: []string{"PRIORITY HOST"}, Fails: true},
		{Command: "dns zone", Args: sdk.Args{"domain": "demo1.example"}, Want: []string{"8|shop.demo1.example.|300|A|203.0.113.50", "9|demo1.example.|3600|MX|10 mx.mailhost.example.", "10|txt.demo1.example.|3600|TXT|hello"}},
		{Command: "dns record remove", Args: sdk.Args{"domain": "demo1.example", "line": int64(8)}, Want: []string{"Line 8 removed from demo1.example."}},
		{Command: "dns record remove", Args: sdk.Args{"domain": "demo1.example", "line": int64(1)}, Want: []string{"SOA record"}, Fails: true},
		{Command: "dns record remove", Args: sdk.Args{"domain": "demo1.example", "line": int64(99)}, Want: []string{"no record on line 99"}, Fails: true},
		{Command: "dns reset", Args: sdk.Args{"domain": "demo1.example"}, Want: []string{"The zone of demo1.example is reset."}},
		{Command: "dns remove", Args: sdk.Args{"domain": "newshop.example"}, Want: []string{"The zone of newshop.example is deleted."}},
		{Command: "ssl problems", Args: sdk.Args{"account": "blog.example"}, Want: []string{"blog.example|The domain does not resolve to any IPv4 addresses"}},
		{Command: "ssl problems", Args: sdk.Args{"account": "shopco"}, Want: []string{"mail.shop.example|DNS DCV"}},
		{Command: "ssl problems", Args: sdk.Args{"account": "demo1.example"}, Want: []string{"AutoSSL logged no problem for demo1.example."}},
		{Command: "ssl check", Args: sdk.Args{"user": "shopco"}, Want: []string{"AutoSSL is checking shopco"}},
		{Command: "ssl vhosts", Want: []string{"example.com|example|Organization"}},
		{Command: "ssl info", Args: sdk.Args{"domain": "shop.example"}, Want: []string{"Account=shopco", "Certificate"}},
		{Command: "backup dates", Want: []string{"Backups: 2026-11-25, 2026-11-26"}},
		{Command: "backup users", Args: sdk.Args{"point": "2026-11-26"}, Want: []string{"demo1|active", "shopco|active"}},
		{Command: "backup users", Args: sdk.Args{"point": "2026-10-01"}, Want: []string{"no backup of 2026-10-01; backups: 2026-11-25, 2026-11-26"}, Fails: true},
		{Command: "restore queue", Args: sdk.Args{"user": "blogger", "point": "2026-11-25"}, Want: []string{"The restoration of blogger is queued."}},
		{Command: "restore queue", Args: sdk.Args{"user": "blogger", "point": "2026-11-26"}, Want: []string{"holds no account \"blogger\""}, Fails: true},
		{Command: "restore queue", Args: sdk.Args{"user": "blogger", "point": "yesterday"}, Want: []string{"not a date"}, Fails: true},
		{Command: "restore status", Want: []string{"blogger|2026-11-25|pending"}},
		{Command: "restore cancel", Args: sdk.Args{"user": "blogger"}, Want: []string{"off the queue"}},
		{Command: "restore run", Want: []string{"nothing is queued"}, Fails: true},
		{Command: "restore queue", Args: sdk.Args{"user": "shopco", "point": "2026-11-26", "mysql": false}, Want: []string{"queued"}},
		{Command: "restore run", Want: []string{"The restore queue is running."}},
		{Command: "restore status", Want: []string{"shopco|2026-11-26|finished"}},
		{Command: "mail queue", Want: []string{"The mail queue is empty."}},
		{Command: "mail hold", Args: sdk.Args{"user": "demo1"}, Want: []string{"Outgoing mail of demo1 is held."}},
		{Command: "account info", Args: sdk.Args{"account": "demo1"}, Want: []string{"Outgoing mail=outgoing held"}},
		{Command: "mail release", Args: sdk.Args{"user": "demo1"}, Want: []string{"released"}},
		{Command: "mail suspend", Args: sdk.Args{"user": "demo1"}, Want: []string{"demo1 can no longer send mail."}},
		{Command: "mail unsuspend", Args: sdk.Args{"user": "demo1"}, Want: []string{"demo1 can send mail again."}},
		{Command: "mail accounts", Args: sdk.Args{"user": "demo1"}, Want: []string{"info@demo1.example, sales@demo1.example"}},
		{Command: "mail accounts", Args: sdk.Args{"user": "blogger"}, Want: []string{"blogger has no mailboxes."}},
		{Command: "mail stats", Want: []string{"Sent=14", "Delivered=14"}},
		{Command: "hulk status", Want: []string{"cPHulk is on."}},
		{Command: "hulk blocked", Want: []string{"192.0.2.45|2026-11-27T08:10:00Z"}},
		{Command: "hulk unblock", Args: sdk.Args{"ip": []string{"192.0.2.45"}}, Want: []string{"Unblocked 192.0.2.45: 1 login records and 1 firewall bans removed."}},
		{Command: "hulk unblock", Args: sdk.Args{"ip": []string{"192.0.2.45"}}, Want: []string{"nothing changed"}},
		{Command: "hulk list", Args: sdk.Args{"list": "white"}, Want: []string{"203.0.113.5|support desk office"}},
		{Command: "hulk allow", Args: sdk.Args{"ip": []string{"192.0.2.77"}, "comment": "customer office"}, Want: []string{"192.0.2.77 added to the white list."}},
		{Command: "hulk block", Args: sdk.Args{"ip": []string{"198.51.100.9", "198.51.100.10"}, "comment": "ticket 5"}, Want: []string{"198.51.100.9, 198.51.100.10 added to the black list."}},
		{Command: "hulk list", Args: sdk.Args{"list": "black"}, Want: []string{"198.51.100.10|ticket 5", "198.51.100.66|credential stuffing"}},
		{Command: "hulk remove", Args: sdk.Args{"ip": []string{"198.51.100.66"}, "list": "black"}, Want: []string{"198.51.100.66 removed from the black list."}},
		{Command: "hulk remove", Args: sdk.Args{"ip": []string{"198.51.100.66"}, "list": "black"}, Want: []string{"not on the black list", "no address was changed"}, Fails: true},
		{Command: "hulk blocked", Want: []string{"cPHulk blocks no address."}},
		{Command: "service status", Want: []string{"exim|Exim Mail Server|yes", "ftpd|FTP Server|no", "1 enabled services are not running"}},
		{Command: "service status", Args: sdk.Args{"service": "exim"}, Want: []string{"exim|Exim Mail Server|yes"}},
		{Command: "service restart", Args: sdk.Args{"service": "exim"}, Want: []string{"exim restarted.", "exim started ok"}},
		{Command: "service restart", Args: sdk.Args{"service": "exmi"}, Want: []string{"did you mean exim?"}, Fails: true},
		{Command: "server info", Want: []string{"Host=web01.example.net", "cPanel & WHM=11.88.0.9999", "Load=0.42 0.61 0.58", "Reboot needed=yes (kernel, quota, updates)"}},
		{Command: "server load", Want: []string{"1 minute=0.42"}},
		{Command: "server disk", Want: []string{"/boot|/dev/vda1"}},
		{Command: "account remove", Args: sdk.Args{"user": "newshop"}, Want: []string{"Account newshop is removed."}},
		{Command: "account list", Want: []string{"4 accounts"}},
		{Command: "functions", Args: sdk.Args{"search": "cphulk"}, Want: []string{"create_cphulk_record|Add login security record to list", "17 functions"}},
		{Command: "functions", Args: sdk.Args{"search": "dns", "risk": "critical"}, Want: []string{"killdns", "resetzone"}},
		{Command: "functions", Args: sdk.Args{"search": "nothing-like-this"}, Want: []string{"No function matches"}},
	}
	h.Cases(t, cases, token)
	a, ok := s.Account("demo1")
	require.True(t, ok)
	assert.Equal(t, "pro", a.Plan)
	assert.False(t, a.Suspended)
	_, ok = s.Account("newshop")
	assert.False(t, ok)
}

func TestDefaultsThatNeverSurprise(t *testing.T) {
	h, s := start(t)
	// removeacct keeps DNS unless asked.
	_, out := plan(t, h, "account remove", sdk.Args{"user": "demo1"})
	assert.Contains(t, out, "keepdns=1")
	assert.Contains(t, out, "The DNS zone of demo1.example is kept.")
	h.Execute("account remove", sdk.Args{"user": "demo1"})
	out = h.Execute("dns zone", sdk.Args{"domain": "demo1.example"}).Text
	assert.Contains(t, out, "203.0.113.21", "the zone survives the account")
	_, out = plan(t, h, "account remove", sdk.Args{"user": "shopco", "keepdns": false})
	assert.Contains(t, out, "keepdns=0")

	// createacct never asks WHM to print the password.
	_, out = plan(t, h, "account create", sdk.Args{"user": "n1", "domain": "n1.example", "plan": "basic", "password": "Canary-Password-77"})
	assert.Contains(t, out, "showpass=n")
	assert.NotContains(t, out, "Canary-Password-77")

	// limitbw without a limit is refused instead of removing the limit.
	pr := h.Plan("account bandwidth", sdk.Args{"user": "shopco"})
	assert.True(t, pr.Diagnostics.HasError(), "limit is required")
	before := s.Snapshot()
	res := h.Execute("account bandwidth", sdk.Args{"user": "shopco"})
	assert.True(t, res.Failed())
	assert.Equal(t, before, s.Snapshot(), "nothing changed")
	// The generic call still reaches WHM's own default, with the risk it carries.
	for _, c := range h.Commands() {
		if c.Name == "call limitbw" {
			assert.Equal(t, sdk.RiskHigh, c.Risk)
		}
	}
}

func TestPlansShowWhatWillHappen(t *testing.T) {
	h, _ := start(t)
	_, out := plan(t, h, "account suspend", sdk.Args{"user": "blogger", "reason": "abuse"})
	assert.Contains(t, out, "Suspend blogger (blog.example, plan basic, owner root), suspended: Suspended for nonpayment.. Reason: abuse")
	assert.Contains(t, out, "It is already suspended; this replaces the reason.")
	assert.Contains(t, out, "POST http://")
	assert.Contains(t, out, "/json-api/suspendacct?api.version=1 api.version=1&reason=abuse&user=blogger")

	_, out = plan(t, h, "dns record remove", sdk.Args{"domain": "demo1.example", "line": int64(2)})
	assert.Contains(t, out, "Remove from demo1.example: line 2: demo1.example. 86400 NS ns1.web01.example.net.")
	assert.Contains(t, out, "can make the domain unresolvable")

	_, out = plan(t, h, "package remove", sdk.Args{"plan": "basic"})
	assert.Contains(t, out, "2 accounts are on it: demo1, blogger.")

	pr, out := plan(t, h, "call removeacct", sdk.Args{"username": "demo1"})
	require.NotNil(t, pr.Plan, out)
	assert.Contains(t, out, "Call WHM API 1 removeacct")
}

func TestGenericCall(t *testing.T) {
	h, s := start(t)
	calls := 0
	var call sdk.CommandSpec
	for _, c := range h.Commands() {
		if strings.HasPrefix(c.Name, "call ") {
			calls++
			assert.True(t, c.Hidden)
			if c.Name == "call create_cphulk_record" {
				call = c
			}
		}
	}
	assert.Equal(t, 593, calls, "every function but batch")

	// Typed parameters from the catalog.
	prm, ok := call.Param("list_name")
	require.True(t, ok)
	assert.Equal(t, sdk.TypeEnum, prm.Type)
	prm, _ = call.Param("ip")
	assert.True(t, prm.Repeated)
	assert.True(t, prm.Required)

	// A read-only function answered statefully.
	out := h.Execute("call listaccts", sdk.Args{"search": "shop", "searchtype": "domain"}).Text
	assert.Contains(t, out, "shopco")

	// A function answered with the reference's sample, rendered generically.
	out = h.Execute("call get_tweaksetting", sdk.Args{"key": "maxemailsperhour"}).Text
	assert.NotEmpty(t, out)

	// Numbered list parameters go out as name-N.
	h.Execute("call create_cphulk_record", sdk.Args{"list_name": "black", "ip": []string{"198.51.100.1", "198.51.100.2"}})
	last := s.Calls()[len(s.Calls())-1]
	assert.Equal(t, "198.51.100.1", last.Args.Get("ip-1"))
	assert.Equal(t, "198.51.100.2", last.Args.Get("ip-2"))
	out = h.Execute("hulk list", sdk.Args{"list": "black"}).Text
	assert.Contains(t, out, "198.51.100.2")

	// Repeated list parameters go out repeated.
	h.Execute("call mass_edit_dns_zone", sdk.Args{"zone": "demo1.example", "serial": "1", "remove": []string{"3", "4"}})
	last = s.Calls()[len(s.Calls())-1]
	assert.Equal(t, []string{"3", "4"}, last.Args["remove"])

	// Unknown parameter of a closed function.
	res := h.Execute("call listaccts", sdk.Args{"serch": "x"})
	assert.True(t, res.Failed())
	assert.Contains(t, res.Text, "serch")

	// Open-ended functions take their wildcard families.
	pr, out := plan(t, h, "call modifyacct", sdk.Args{"user": "demo1", "MXCHECK-demo1.example": "remote"})
	require.NotNil(t, pr.Plan, out)
	assert.Contains(t, out, "MXCHECK-demo1.example=remote")
	pr, out = plan(t, h, "call modifyacct", sdk.Args{"user": "demo1", "NOSUCH": "1"})
	assert.Nil(t, pr.Plan)
	assert.Contains(t, out, "modifyacct has no parameter")

	// Functions whose reference leaves parameters unnamed take them, and the plan says so.
	pr, out = plan(t, h, "call addzonerecord", sdk.Args{"domain": "demo1.example", "name": "c", "type": "CNAME", "cname": "demo1.example."})
	require.NotNil(t, pr.Plan, out)
	assert.Contains(t, out, "Parameters not in the reference, passed as given: cname")

	// JSON-body functions send JSON.
	h.Execute("call php_fpm_config_get", sdk.Args{})
	last = s.Calls()[len(s.Calls())-1]
	assert.Equal(t, "POST", last.Method)

	// A refusal from WHM is a failure with its reason.
	res = h.Execute("call suspendacct", sdk.Args{"user": "nobody"})
	assert.True(t, res.Failed())
	assert.Contains(t, res.Text, `The user “nobody” does not exist.`)

	// batch is not reachable: it would hide its calls from the policy.
	res = h.Execute("call batch", sdk.Args{"command": []string{"reboot"}})
	assert.True(t, res.Failed())
}

func TestSecretsNeverReachOutput(t *testing.T) {
	h, s := start(t)
	const pw = "CANARY-whm-password-8d7c"
	check := func(command string, args sdk.Args) string {
		t.Helper()
		pr := h.Plan(command, args)
		res := h.Execute(command, args)
		out := fmt.Sprintf("%+v %+v %+v %s", pr, *res.Result, res.Progress, res.Text)
		assert.NotContains(t, out, pw, command)
		assert.NotContains(t, out, "PRIVATE KEY-----\nMII", command)
		assert.NotContains(t, out, strings.Split(sim.TestPrivateKey, "\n")[1], command)
		return out
	}
	check("account create", sdk.Args{"user": "canary1", "domain": "canary1.example", "plan": "basic", "password": pw})
	// Even when WHM is asked to print the password, the answer is scrubbed.
	out := check("call createacct", sdk.Args{"username": "canary2", "domain": "canary2.example", "password": pw, "showpass": "y"})
	assert.Contains(t, out, "PassWord: [REDACTED]", "the script log is shown, password masked")
	check("account password", sdk.Args{"user": "canary1", "password": pw})
	check("call passwd", sdk.Args{"user": "canary2", "password": pw})
	// fetchsslinfo returns the private key; neither command shows it.
	out = check("ssl info", sdk.Args{"domain": "shop.example"})
	assert.Contains(t, out, "shopco")
	out = check("call fetchsslinfo", sdk.Args{"domain": "shop.example"})
	assert.Contains(t, out, "[REDACTED]")
	assert.Contains(t, out, "BEGIN CERTIFICATE", "the certificate itself is not secret")
	// The simulator keeps only a hash.
	assert.NotContains(t, s.Snapshot(), pw)
}

func TestSeveralServers(t *testing.T) {
	s1, t1 := server(t, "web01.example.net")
	s2, t2 := server(t, "web02.example.net")
	h := sdktest.Start(t, provider.New(), t1, t2)
	ctx := context.Background()
	for target, want := range map[string]string{"web01": "web01.example.net", "web02": "web02.example.net"} {
		res := h.ExecuteRequest(ctx, sdk.Request{Command: "server info", Target: target})
		assert.Contains(t, res.Text, "Host="+want)
	}
	h.ExecuteRequest(ctx, sdk.Request{Command: "account suspend", Target: "web02", Args: sdk.Args{"user": "demo1", "reason": "x"}})
	a1, _ := s1.Account("demo1")
	a2, _ := s2.Account("demo1")
	assert.False(t, a1.Suspended, "web01 untouched")
	assert.True(t, a2.Suspended)

	// Each target's settings are checked.
	bad := t1
	bad.Settings = map[string]string{"host": "x", "fingerprint": "nothex"}
	cr, _ := provider.New().Configure(ctx, &sdk.ConfigureRequest{Targets: []sdk.Target{bad}})
	assert.True(t, cr.Diagnostics.HasError())
	assert.Contains(t, fmt.Sprint(cr.Diagnostics), "not a SHA-256")
	bad.Settings = map[string]string{"host": "x", "verify": "off"}
	cr, _ = provider.New().Configure(ctx, &sdk.ConfigureRequest{Targets: []sdk.Target{bad}})
	assert.Contains(t, fmt.Sprint(cr.Diagnostics), `unknown setting verify`)
}

func TestSandboxKeepsState(t *testing.T) {
	tg := sdk.Target{Name: "sandbox", Sandbox: true, StateDir: t.TempDir()}
	h := sdktest.Start(t, provider.New(), tg)
	assert.Contains(t, h.Execute("account suspend", sdk.Args{"user": "demo1", "reason": "abuse"}).Text, "suspended")
	require.NoError(t, h.Plugin.Close())

	h = sdktest.Start(t, provider.New(), tg)
	out := h.Execute("account list", nil).Text
	assert.Contains(t, out, "demo1|demo1.example|basic|root|203.0.113.21|812M of 5120M|suspended: abuse")
}

// A misspelt account points at the parameter the user typed, so the bot
// calls it invalid input: "account" for account info (read-only: no
// plan), "user" for suspend (at its plan).
func TestANoSuchAccountNamesTheTypedParameter(t *testing.T) {
	h, _ := start(t)
	out := h.Execute("account info", sdk.Args{"account": "nosuch"})
	require.True(t, out.Failed(), out.Text)
	require.Len(t, out.Diagnostics, 1)
	assert.Equal(t, "account", out.Diagnostics[0].Attribute)
	out = h.Execute("account info", sdk.Args{"account": "nosuch.example"})
	require.True(t, out.Failed(), out.Text)
	assert.Equal(t, "account", out.Diagnostics[0].Attribute)

	pr := h.Plan("account suspend", sdk.Args{"user": "nosuch", "reason": "x"})
	require.True(t, pr.Diagnostics.HasError())
	assert.Equal(t, "user", pr.Diagnostics[0].Attribute)
}
