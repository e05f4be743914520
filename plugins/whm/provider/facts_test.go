package provider_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

// refused is what the SDK answers when an approved plan's work has changed.
const refused = "differs from the plan that was approved; nothing was run"

// approve plans a command and returns the request that runs it with the
// plan's digest, as the bot sends it once the plan is approved.
func approve(t *testing.T, h *sdktest.Harness, command string, args sdk.Args) sdk.Request {
	t.Helper()
	pr := h.Plan(command, args)
	require.NotNil(t, pr.Plan, "%s: %v", command, pr.Diagnostics)
	require.NotEmpty(t, pr.Plan.Digest)
	return sdk.Request{Command: command, Args: args, PlanDigest: pr.Plan.Digest}
}

// callsOf returns the calls of WHM function fn among calls.
func callsOf(calls []sim.Call, fn string) []sim.Call {
	var out []sim.Call
	for _, c := range calls {
		if c.Function == fn {
			out = append(out, c)
		}
	}
	return out
}

func TestARecordRemovedByLineIsTheOneTheApproverSaw(t *testing.T) {
	h, s := start(t)
	approved := approve(t, h, "dns record remove", sdk.Args{"domain": "demo1.example", "line": int64(6)})

	// Someone removes the A record on line 3: the MX record the plan
	// showed on line 6 is now on line 5, and line 6 holds the TXT record.
	require.False(t, h.Execute("dns record remove", sdk.Args{"domain": "demo1.example", "line": int64(3)}).Failed())
	seen := len(s.Calls())

	res := h.ExecuteRequest(context.Background(), approved)
	assert.True(t, res.Failed())
	assert.Contains(t, res.Text, refused)
	assert.Empty(t, callsOf(s.Calls()[seen:], "mass_edit_dns_zone"), "nothing is removed")
	zone := h.Execute("dns zone", sdk.Args{"domain": "demo1.example"}).Text
	assert.Contains(t, zone, "5|demo1.example.|14400|MX|0 demo1.example.")
	assert.Contains(t, zone, "6|demo1.example.|14400|TXT|v=spf1 +a +mx ~all", "the record on line 6 now is kept")
}

func TestARecordRemovedByLineGoesAheadWhenTheZoneIsUnchanged(t *testing.T) {
	h, s := start(t)
	approved := approve(t, h, "dns record remove", sdk.Args{"domain": "demo1.example", "line": int64(6)})

	res := h.ExecuteRequest(context.Background(), approved)
	require.False(t, res.Failed(), res.Text)
	assert.Contains(t, res.Text, "Line 6 removed from demo1.example.")
	calls := callsOf(s.Calls(), "mass_edit_dns_zone")
	require.Len(t, calls, 1)
	assert.Equal(t, "5", calls[0].Args.Get("remove"), "WHM counts line indexes from 0")
	assert.Equal(t, "2026112701", calls[0].Args.Get("serial"), "the serial the plan read is sent for WHM to check")
	zone := h.Execute("dns zone", sdk.Args{"domain": "demo1.example"}).Text
	assert.NotContains(t, zone, "|MX|")
	assert.Contains(t, zone, "6|demo1.example.|14400|TXT|v=spf1 +a +mx ~all", "the records after it move up a line")
	assert.Contains(t, zone, "2026112702", "the serial goes up with the edit")
}

// The serial binds the approval to the zone as a whole: a record added
// anywhere since is a zone the approver did not see.
func TestARecordRemovedByLineIsRefusedWhenTheZoneChangedAtAll(t *testing.T) {
	h, s := start(t)
	approved := approve(t, h, "dns record remove", sdk.Args{"domain": "demo1.example", "line": int64(6)})
	require.False(t, h.Execute("dns record add", sdk.Args{"domain": "demo1.example", "name": "shop", "type": "A", "value": "203.0.113.50"}).Failed())
	seen := len(s.Calls())

	res := h.ExecuteRequest(context.Background(), approved)
	assert.True(t, res.Failed())
	assert.Contains(t, res.Text, refused)
	assert.Empty(t, callsOf(s.Calls()[seen:], "mass_edit_dns_zone"), "nothing is removed")
	assert.Contains(t, h.Execute("dns zone", sdk.Args{"domain": "demo1.example"}).Text, "6|demo1.example.|14400|MX|0 demo1.example.")
}

func TestTheDigestOfARecordRemovalFollowsTheRecordOnItsLine(t *testing.T) {
	h, _ := start(t)
	args := sdk.Args{"domain": "demo1.example", "line": int64(6)}
	first := h.Plan("dns record remove", args)
	require.NotNil(t, first.Plan, "%v", first.Diagnostics)
	again := h.Plan("dns record remove", args)
	assert.Equal(t, first.Plan.Digest, again.Plan.Digest, "the same zone gives the same digest")

	// Line 3 goes: line 6 now holds the TXT record, not the MX one.
	require.False(t, h.Execute("dns record remove", sdk.Args{"domain": "demo1.example", "line": int64(3)}).Failed())
	after := h.Plan("dns record remove", args)
	require.NotNil(t, after.Plan, "%v", after.Diagnostics)
	assert.NotEqual(t, first.Plan.Digest, after.Plan.Digest)
	assert.Contains(t, after.Plan.Summary, "TXT")
}

// WHM enforces the serial itself: a removal sent with the serial of a
// zone that has changed since is refused, and nothing is removed, even
// when nothing on the bot's side checked first.
func TestWHMRefusesARemovalWithAStaleSerial(t *testing.T) {
	h, _ := start(t)
	// Both requests were planned from serial 2026112701; the first runs.
	stale := sdk.Args{"zone": "demo1.example", "serial": "2026112701", "remove": "5"}
	require.False(t, h.Execute("call mass_edit_dns_zone", sdk.Args{"zone": "demo1.example", "serial": "2026112701", "remove": "2"}).Failed())
	before := h.Execute("dns zone", sdk.Args{"domain": "demo1.example"}).Text

	res := h.Execute("call mass_edit_dns_zone", stale)
	assert.True(t, res.Failed())
	assert.Contains(t, res.Text, "The given serial number (2026112701) does not match the DNS zone’s serial number (2026112702)")
	assert.Equal(t, before, h.Execute("dns zone", sdk.Args{"domain": "demo1.example"}).Text, "nothing is removed")
}

// Work planned from the server's state is refused when that state has
// changed between the approval and the run, and WHM is not called.
func TestApprovedChangesAreRefusedWhenWhatTheyWerePlannedFromChanged(t *testing.T) {
	type call struct {
		command string
		args    sdk.Args
	}
	cases := map[string]struct {
		setup    []call
		approved call
		// fn is the WHM function the approved work calls.
		fn string
		// change is what someone else does in between.
		change call
	}{
		"account package after the account changed plan": {
			approved: call{"account package", sdk.Args{"user": "demo1", "plan": "pro"}}, fn: "changepackage",
			change: call{"account package", sdk.Args{"user": "demo1", "plan": "default"}},
		},
		"account suspend after the account was suspended": {
			approved: call{"account suspend", sdk.Args{"user": "demo1", "reason": "abuse"}}, fn: "suspendacct",
			change: call{"account suspend", sdk.Args{"user": "demo1", "reason": "nonpayment"}},
		},
		"account unsuspend after the account was suspended again for another reason": {
			approved: call{"account unsuspend", sdk.Args{"user": "blogger"}}, fn: "unsuspendacct",
			change: call{"account suspend", sdk.Args{"user": "blogger", "reason": "abuse: phishing"}},
		},
		"account remove after the account was suspended": {
			approved: call{"account remove", sdk.Args{"user": "demo1"}}, fn: "removeacct",
			change: call{"account suspend", sdk.Args{"user": "demo1", "reason": "abuse"}},
		},
		"account password after the account was unsuspended": {
			approved: call{"account password", sdk.Args{"user": "blogger", "password": "Long-Enough-Pass-1"}}, fn: "passwd",
			change: call{"account unsuspend", sdk.Args{"user": "blogger"}},
		},
		"mail release after the account's mail was suspended": {
			setup:    []call{{"mail hold", sdk.Args{"user": "demo1"}}},
			approved: call{"mail release", sdk.Args{"user": "demo1"}}, fn: "release_outgoing_email",
			change: call{"mail suspend", sdk.Args{"user": "demo1"}},
		},
		"package remove after an account moved onto the plan": {
			approved: call{"package remove", sdk.Args{"plan": "pro"}}, fn: "killpkg",
			change: call{"account package", sdk.Args{"user": "demo1", "plan": "pro"}},
		},
		"restore run after another restoration was queued": {
			setup:    []call{{"restore queue", sdk.Args{"user": "blogger", "point": "2026-11-25"}}},
			approved: call{"restore run", nil}, fn: "restore_queue_activate",
			change: call{"restore queue", sdk.Args{"user": "shopco", "point": "2026-11-26"}},
		},
		"dns reset after a record was added": {
			approved: call{"dns reset", sdk.Args{"domain": "demo1.example"}}, fn: "resetzone",
			change: call{"dns record add", sdk.Args{"domain": "demo1.example", "name": "shop", "type": "A", "value": "203.0.113.50"}},
		},
		"dns remove after a record was added": {
			approved: call{"dns remove", sdk.Args{"domain": "demo1.example"}}, fn: "killdns",
			change: call{"dns record add", sdk.Args{"domain": "demo1.example", "name": "shop", "type": "A", "value": "203.0.113.50"}},
		},
		"dns record add after a record appeared at its name": {
			approved: call{"dns record add", sdk.Args{"domain": "demo1.example", "name": "shop", "type": "A", "value": "203.0.113.50"}}, fn: "addzonerecord",
			change: call{"dns record add", sdk.Args{"domain": "demo1.example", "name": "shop", "type": "A", "value": "203.0.113.51"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h, s := start(t)
			for _, c := range tc.setup {
				require.False(t, h.Execute(c.command, c.args).Failed(), c.command)
			}
			approved := approve(t, h, tc.approved.command, tc.approved.args)
			change := h.Execute(tc.change.command, tc.change.args)
			require.False(t, change.Failed(), change.Text)
			seen := len(s.Calls())

			res := h.ExecuteRequest(context.Background(), approved)
			assert.True(t, res.Failed())
			assert.Contains(t, res.Text, refused)
			assert.Empty(t, callsOf(s.Calls()[seen:], tc.fn), "WHM is not asked to %s", tc.fn)
		})
	}
}

// An approval stays good while nothing it was planned from changes.
func TestApprovedChangesRunWhenNothingChanged(t *testing.T) {
	h, s := start(t)
	approved := approve(t, h, "account package", sdk.Args{"user": "demo1", "plan": "pro"})
	// A change elsewhere on the server is not one to this account.
	require.False(t, h.Execute("account suspend", sdk.Args{"user": "shopco", "reason": "abuse"}).Failed())

	res := h.ExecuteRequest(context.Background(), approved)
	require.False(t, res.Failed(), res.Text)
	assert.Contains(t, res.Text, "Account demo1 is now on plan pro.")
	a, _ := s.Account("demo1")
	assert.Equal(t, "pro", a.Plan)
}
