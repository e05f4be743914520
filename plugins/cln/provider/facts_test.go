package provider_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cln/sim"
	"github.com/deskbot/deskbot/sdk"
)

// A change approved for what CLN held at planning time is refused, before
// any change reaches CLN, when that has changed by the time it runs; a
// plan made again from the new state runs.
func TestAnApprovedPlanWhoseFactsChangedIsRefused(t *testing.T) {
	cases := map[string]struct {
		command string
		args    sdk.Args
		// given is what CLN holds besides the simulator's seed, if anything.
		given func(*sim.State)
		// meanwhile is what changes at CLN between the approval and the run.
		meanwhile func(*sim.State)
		// change is the call that must not be made.
		change string
	}{
		"a licence removed from an IP that has gained another": {
			"ipl remove", sdk.Args{"ip": "203.0.113.10", "type": "1"},
			nil,
			func(st *sim.State) { st.IPL = append(st.IPL, &sim.IPLicense{IP: "203.0.113.10", Type: 16}) },
			"/ipl/remove.json",
		},
		"a licence converted on an IP whose licences changed": {
			"ipl convert", sdk.Args{"ip": "203.0.113.7", "type": "41", "to": "43"},
			func(st *sim.State) { st.IPL = append(st.IPL, &sim.IPLicense{IP: "203.0.113.7", Type: 41}) },
			func(st *sim.State) { st.IPL = append(st.IPL, &sim.IPLicense{IP: "203.0.113.7", Type: 16}) },
			"/ipl/convert.json",
		},
		"every licence on an IP updated, one more than approved": {
			"ipl update", sdk.Args{"ip": "203.0.113.10", "els_allowed": true},
			nil,
			func(st *sim.State) { st.IPL = append(st.IPL, &sim.IPLicense{IP: "203.0.113.10", Type: 16}) },
			"/ipl/update.json",
		},
		"a licence registered on an IP that holds another by now": {
			"ipl register", sdk.Args{"ip": "203.0.113.7", "type": "16"},
			nil,
			func(st *sim.State) { st.IPL = append(st.IPL, &sim.IPLicense{IP: "203.0.113.7", Type: 41}) },
			"/ipl/register.json",
		},
		"a server moved to a key from another key than approved": {
			"im server convert", sdk.Args{"id": "SSERVER_ID_1", "key": "IMUNOTHERKEY"},
			nil,
			func(st *sim.State) {
				st.IMKeys = append(st.IMKeys, &sim.IMKey{Key: "IMTHIRDKEY", Limit: "5", Code: "360_250"})
				st.IMServers[0].Key = "IMTHIRDKEY"
			},
			"/im/srv/convert.json",
		},
		"an Imunify server removed after it moved to another key": {
			"im server remove", sdk.Args{"id": "SSERVER_ID_1"},
			nil,
			func(st *sim.State) {
				st.IMKeys = append(st.IMKeys, &sim.IMKey{Key: "IMTHIRDKEY", Limit: "5", Code: "360_250"})
				st.IMServers[0].Key = "IMTHIRDKEY"
			},
			"/im/srv/remove.json",
		},
		"an Imunify key deleted with a server more than approved": {
			"im key remove", sdk.Args{"key": "IM1SOMENONSENCETEXT"},
			nil,
			func(st *sim.State) {
				st.IMServers = append(st.IMServers, &sim.IMServer{ID: "SSERVER_ID_2", IP: "203.0.113.21", Key: "IM1SOMENONSENCETEXT"})
			},
			"/im/key/remove.json",
		},
		"a KernelCare key deleted with a server more than approved": {
			"kcare key delete", sdk.Args{"key": "WsTs821nSAtiastD"},
			nil,
			func(st *sim.State) {
				st.KCServers = append(st.KCServers, &sim.KCServer{ServerID: "s2", Key: "WsTs821nSAtiastD", IP: "203.0.113.31"})
			},
			"/kcare/key/delete.json",
		},
		"a backup grown from another size than approved": {
			"ab resize", sdk.Args{"backup": int64(23), "delta": int64(10)},
			nil,
			func(st *sim.State) { st.Backups[0].Size = 100 },
			"/ab/resize.json",
		},
		"a backup removed that is not the one approved": {
			"ab remove", sdk.Args{"backup": int64(23)},
			nil,
			func(st *sim.State) { st.Backups[0].Size = 100 },
			"/ab/remove.json",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h, s := start(t, nil)
			if tc.given != nil {
				s.Update(tc.given)
			}
			approved := h.Plan(tc.command, tc.args)
			require.NotNil(t, approved.Plan, "%v", approved.Diagnostics)
			assert.Equal(t, approved.Plan.Digest, h.Plan(tc.command, tc.args).Plan.Digest, "nothing changed, nothing differs")

			s.Update(tc.meanwhile)
			before, calls := s.Snapshot(), len(s.Calls())
			out := h.ExecuteRequest(context.Background(), sdk.Request{Command: tc.command, Args: tc.args, PlanDigest: approved.Plan.Digest})
			require.True(t, out.Failed(), out.Text)
			assert.Contains(t, out.Text, "differs from the plan that was approved; nothing was run")
			assert.NotContains(t, paths(s.Calls()[calls:]), tc.change, "the change never reached CLN")
			assert.Equal(t, before, s.Snapshot())

			again := h.Plan(tc.command, tc.args)
			require.NotNil(t, again.Plan, "%v", again.Diagnostics)
			assert.Equal(t, approved.Plan.Steps, again.Plan.Steps, "the same call, made from other facts")
			out = h.ExecuteRequest(context.Background(), sdk.Request{Command: tc.command, Args: tc.args, PlanDigest: again.Plan.Digest})
			assert.False(t, out.Failed(), out.Text)
			assert.Contains(t, paths(s.Calls()[calls:]), tc.change)
		})
	}
}

// The plan of a composite shows every call its run may make, in order;
// the run makes those it needs (key find stops looking once it has found
// the key, and counts servers only of a KernelCare key).
func TestCompositePlansShowTheCallsTheRunMakes(t *testing.T) {
	cases := []struct {
		command  string
		args     sdk.Args
		settings map[string]string
		made     int // how many of the planned calls the run makes
	}{
		{"ip info", sdk.Args{"ip": "203.0.113.10"}, nil, 3},
		{"key find", sdk.Args{"key": "WsTs821nSAtiastD"}, nil, 2},              // KernelCare: its list, then its servers
		{"key find", sdk.Args{"key": "IMUNOTHERKEY"}, nil, 2},                  // Imunify: after KernelCare's list
		{"key find", sdk.Args{"key": "CELS-yUDxBd5ethmGO5d3hnAZEau0"}, nil, 7}, // ELS: every list
		{"key find", sdk.Args{"key": "missing-key-1234"}, nil, 6},
		{"ipl server", sdk.Args{"ip": []string{"203.0.113.10", "198.51.100.20"}}, map[string]string{"edition": "older"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.command+" "+strings.Join(tc.args.Strings(firstKey(tc.args)), ","), func(t *testing.T) {
			h, s := start(t, tc.settings)
			pr := h.Plan(tc.command, tc.args)
			require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
			var planned []string
			for _, st := range pr.Plan.Steps {
				u, err := url.Parse(st.Endpoint)
				require.NoError(t, err)
				planned = append(planned, st.Method+" "+strings.TrimPrefix(u.Path, "/api"))
				assert.NotEmpty(t, st.Description, "a step of several says what it is for")
			}
			calls := len(s.Calls())
			h.Execute(tc.command, tc.args)
			var made []string
			for _, c := range s.Calls()[calls:] {
				made = append(made, c.Method+" "+c.Path)
			}
			assert.Len(t, made, tc.made)
			assert.True(t, inOrder(made, planned), "made %v, planned %v", made, planned)
		})
	}
}

// inOrder reports whether every call made was planned, in the plan's order.
func inOrder(made, planned []string) bool {
	for _, m := range made {
		i := 0
		for i < len(planned) && planned[i] != m {
			i++
		}
		if i == len(planned) {
			return false
		}
		planned = planned[i+1:]
	}
	return true
}

func firstKey(a sdk.Args) string {
	for k := range a {
		return k
	}
	return ""
}

// Work of several calls reports each as it starts.
func TestACompositeReportsItsProgress(t *testing.T) {
	h, _ := start(t, nil)
	out := h.Execute("ip info", sdk.Args{"ip": "203.0.113.10"})
	require.False(t, out.Failed(), out.Text)
	var got []string
	for _, p := range out.Progress {
		got = append(got, p.Message)
	}
	assert.Equal(t, []string{
		"read the licence types registered on 203.0.113.10",
		"read which types 203.0.113.10 can take and which this account holds",
		"read this account's licences on 203.0.113.10 with their server",
	}, got)
}

// A sandbox whose clock moves by more than a token's window per call
// still accepts the client's tokens: the client makes them on the
// simulator's clock.
func TestASteppedSandboxClockKeepsTokensValid(t *testing.T) {
	h, _ := start(t, map[string]string{"sim_time_per_call": "10m"})
	for i := 0; i < 3; i++ {
		out := h.Execute("ipl list", nil)
		require.False(t, out.Failed(), out.Text)
	}
	out := h.Execute("ipl register", sdk.Args{"ip": "203.0.113.7", "type": "16"})
	require.False(t, out.Failed(), out.Text)
}
