package main_test

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/plugins/whm/sim"
)

// Under the example policy tier 2 suspends on its own; tier 1 asks a lead.
func TestWHMSuspendUnderTheExamplePolicy(t *testing.T) {
	testbin.Plugin(t, "whm")
	dir := workDir(t)

	r := runBot(t, botIn(t, dir, "exec", "--as", "bob", "/whm account suspend demo1 reason=abuse"))
	require.Equal(t, 0, r.code, "bob (tier 2) suspends without approval: %s %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Account demo1 is suspended.")

	list := runBot(t, botIn(t, dir, "exec", "--as", "alice", "/whm account list"))
	require.Equal(t, 0, list.code, list.stderr)
	assert.Regexp(t, `demo1 +demo1\.example +basic +root +203\.0\.113\.21 +812M of 5120M +suspended: abuse`, list.stdout)

	a, r := execIn(t, dir, "alice", "/whm account suspend shopco reason=\"spam run\"")
	require.Equal(t, 4, r.code, "alice (tier 1) waits for a lead: %s %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Suspend shopco (shop.example, plan pro, owner resell1). Reason: spam run")
	list = runBot(t, botIn(t, dir, "exec", "--as", "alice", "/whm account list shopco"))
	assert.Regexp(t, `shopco .* active`, list.stdout, "nothing happens before approval")

	a, r = execIn(t, dir, "carol", "/ops approve "+a.Approval.ID)
	require.Equal(t, 0, r.code, "%s %s", r.stdout, r.stderr)
	assert.Equal(t, "succeeded", a.Approval.State)
	list = runBot(t, botIn(t, dir, "exec", "--as", "alice", "/whm account list shopco"))
	assert.Regexp(t, `shopco .* suspended: spam run`, list.stdout)

	// A typo never reaches WHM as a change.
	r = runBot(t, botIn(t, dir, "exec", "--as", "bob", "/whm account suspend dem01 reason=abuse"))
	assert.NotEqual(t, 0, r.code)
	assert.Contains(t, r.stdout+r.stderr, "did you mean demo1?")

	// The policy denies rebooting the server from chat.
	r = runBot(t, botIn(t, dir, "exec", "--as", "erin", "/whm call reboot"))
	assert.Equal(t, 3, r.code, "%s %s", r.stdout, r.stderr)
}

func TestWHMSecretsNeverLeak(t *testing.T) {
	const token = "CANARY-whm-token-e2e-4c3b2a"
	const password = "CANARY-whm-password-e2e-9f8e"
	s, err := sim.New(sim.Options{Token: token, User: "deskbot"})
	require.NoError(t, err)
	host, port := hostPort(serve(t, s))
	dir := workDir(t)
	cfg := config{Plugins: []installed{{Name: "whm", Targets: []target{{Name: "web01",
		Settings: map[string]string{"host": host, "port": port, "scheme": "http", "user": "deskbot"}, Secrets: map[string]string{"token": "WHM_TOKEN"}}}}}}.write(t, dir)
	// One console session, where bob may type secrets into the command
	// (the console is private); approvers of critical commands type the
	// account's name.
	cmd := botIn(t, dir, "console", "--config", cfg, "--log-level", "debug", "--as", "bob")
	cmd.Env = append(cmd.Env, "WHM_TOKEN="+token)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var console syncBuffer
	cmd.Stdout, cmd.Stderr = &console, &console
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	seen := 0
	expect := func(re string) []string {
		t.Helper()
		rx := regexp.MustCompile(re)
		var m []string
		waitFor(t, func() bool {
			s := console.String()
			if loc := rx.FindStringSubmatchIndex(s[seen:]); loc != nil {
				m = rx.FindStringSubmatch(s[seen:])
				seen += loc[1]
				return true
			}
			return false
		}, "console output matching "+re)
		return m
	}
	send := func(lines ...string) {
		for _, l := range lines {
			_, err := io.WriteString(stdin, l+"\n")
			require.NoError(t, err)
		}
	}
	approved := func(line, confirm, done string, approvers ...string) {
		t.Helper()
		send(":as bob", line)
		id := expect(`Approval (A[A-Z0-9]+) is pending`)[1]
		for _, ap := range approvers {
			send(":as "+ap, "/ops approve "+id+" confirm="+confirm)
		}
		expect(regexp.QuoteMeta(done))
	}
	approved("/whm account create canary1 canary1.example plan=basic password="+password, "", "Account canary1 created", "carol")
	approved("/whm call createacct username=canary2 domain=canary2.example showpass=y password="+password, "", "PassWord: [REDACTED]", "carol")
	approved("/whm account password canary1 password="+password, "canary1", "The password of canary1 is changed.", "carol", "dan")
	approved("/whm call passwd user=canary2 password="+password, "canary2", "Password changed for user", "carol", "dan")
	send(":as alice", "/whm ssl info shop.example")
	expect(`www\.shop\.example`)
	// fetchsslinfo returns a private key: critical by the catalog's
	// returns-secrets rule, so two approvers type the domain.
	approved("/whm call fetchsslinfo domain=shop.example", "shop.example", "", "carol", "dan")
	expect(`key +\[REDACTED\]`)
	send(":as alice", "/whm account info demo1", ":quit")
	expect(`Domain +demo1\.example`)
	require.NoError(t, cmd.Wait())
	var all strings.Builder
	all.WriteString(console.String())
	exp := runBot(t, botIn(t, dir, "audit", "export", "--config", cfg))
	require.Equal(t, 0, exp.code, exp.stderr)
	all.WriteString(exp.stdout)
	out := all.String()
	assert.Contains(t, out, "PassWord: [REDACTED]", "createacct's log is shown with the password masked")
	assert.Contains(t, out, "Expires", "the certificate was read")
	assert.NotContains(t, out, password)
	assert.NotContains(t, out, token)
	keyLine := strings.Split(sim.TestPrivateKey, "\n")[1]
	assert.NotContains(t, out, keyLine, "the private key fetchsslinfo returns")
	_, ok := s.Account("canary2")
	assert.True(t, ok, "the commands reached the server")
}

// Two removals by line number, approved in the other order: removing line
// 3 first moves the MX record from line 6 to line 5, so the approved
// removal of line 6 would now delete the SPF record. It is refused before
// anything is sent, everyone who approved it is told what changed, the
// audit says "plan changed", and asking again (for line 5) works.
func TestWHMApprovedPlanThatDriftedIsNotRun(t *testing.T) {
	testbin.Plugin(t, "whm")
	dir := workDir(t)
	zone := func() string {
		r := runBot(t, botIn(t, dir, "exec", "--as", "bob", "/whm dns zone demo1.example"))
		require.Equal(t, 0, r.code, r.stderr)
		return r.stdout
	}
	require.Regexp(t, `(?m)^6 +demo1\.example\. +\d+ +MX `, zone())
	require.Regexp(t, `(?m)^7 +demo1\.example\. +\d+ +TXT +v=spf1`, zone())

	mx, r := execIn(t, dir, "bob", "/whm dns record remove demo1.example 6")
	require.Equal(t, 4, r.code, r.stderr)
	a3, r := execIn(t, dir, "bob", "/whm dns record remove demo1.example 3")
	require.Equal(t, 4, r.code, r.stderr)

	// Approve the second first.
	approveBoth(t, dir, a3.Approval.ID, "demo1.example")
	require.Regexp(t, `(?m)^5 +demo1\.example\. +\d+ +MX `, zone(), "the MX record moved up a line")

	_, r = execIn(t, dir, "carol", "/ops approve "+mx.Approval.ID+" confirm=demo1.example")
	require.Equal(t, 4, r.code, r.stdout+r.stderr)
	got, r := execIn(t, dir, "dan", "/ops approve "+mx.Approval.ID+" confirm=demo1.example")
	assert.NotEqual(t, 0, r.code)
	assert.Equal(t, "plan_changed", got.Approval.State)
	assert.Contains(t, got.Error, "was not run: what it would do now differs from the plan that was approved")
	assert.Contains(t, got.Error, "- fact: zone demo1.example line 6: demo1.example. 14400 MX 0 demo1.example.")
	assert.Contains(t, got.Error, "+ fact: zone demo1.example line 6: demo1.example. 14400 TXT")
	now := zone()
	assert.Regexp(t, `(?m)^5 +demo1\.example\. +\d+ +MX `, now, "the MX record is intact")
	assert.Regexp(t, `(?m)^6 +demo1\.example\. +\d+ +TXT +v=spf1`, now, "and so is the SPF record")

	exp := runBot(t, botIn(t, dir, "audit", "export"))
	require.Equal(t, 0, exp.code, exp.stderr)
	assert.Regexp(t, `"action":"result".*"outcome":"plan changed"`, exp.stdout)

	again, r := execIn(t, dir, "bob", "/whm dns record remove demo1.example 5")
	require.Equal(t, 4, r.code, r.stderr)
	approveBoth(t, dir, again.Approval.ID, "demo1.example")
	assert.NotRegexp(t, `(?m) MX `, zone(), "asked again, the MX record is removed")
	assert.Regexp(t, `(?m) TXT +v=spf1`, zone())
}

// approveBoth has carol and dan (the example policy's leads) approve a
// critical request, typing confirm; the second approval runs it.
func approveBoth(t *testing.T, dir, id, confirm string) {
	t.Helper()
	_, r := execIn(t, dir, "carol", "/ops approve "+id+" confirm="+confirm)
	require.Equal(t, 4, r.code, r.stdout+r.stderr)
	a, r := execIn(t, dir, "dan", "/ops approve "+id+" confirm="+confirm)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, "succeeded", a.Approval.State)
}
