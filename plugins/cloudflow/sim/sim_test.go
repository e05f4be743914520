package sim_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cloudflow/sim"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

const user, key = "desk@example.com", "sim-test-key"

func serve(t *testing.T, o sim.Options) (*sim.Server, func(method, path, body string) (int, string)) {
	t.Helper()
	o.User, o.Password = user, key
	if o.Clock == nil {
		o.Clock = sandbox.Stepped(10 * time.Millisecond)
	}
	s, err := sim.New(o)
	require.NoError(t, err)
	base, stop, err := sandbox.Listen(s)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })
	return s, func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.SetBasicAuth(user, key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

// The routes answer by method and path, in OnApp's shapes; anything else
// is a JSON 404, as the control panel answers it.
func TestRoutes(t *testing.T) {
	_, call := serve(t, sim.Options{StepTime: time.Hour})
	cases := map[string]struct {
		method, path, body string
		status             int
		want               string
	}{
		"version":             {"GET", "/version.json", "", 200, `"6.7.0-sim"`},
		"machines":            {"GET", "/virtual_machines.json?per_page=2&page=2", "", 200, `"label":"bakery-site"`},
		"machine by id":       {"GET", "/virtual_machines/101.json", "", 200, `"label":"shop-web"`},
		"machine by ident":    {"GET", "/virtual_machines/vm102abcdefghi.json", "", 200, `"label":"shop-db"`},
		"no such machine":     {"GET", "/virtual_machines/999.json", "", 404, "Virtual machine not found"},
		"disks":               {"GET", "/virtual_machines/102/disks.json", "", 200, `"disk_size":100`},
		"backups":             {"GET", "/virtual_machines/102/backups.json", "", 200, `"note":"before upgrade"`},
		"transactions":        {"GET", "/virtual_machines/101/transactions.json", "", 200, `"action":"startup_virtual_machine"`},
		"backup":              {"GET", "/backups/5001.json", "", 200, `"target_id":102`},
		"no such backup":      {"GET", "/backups/42.json", "", 404, "Backup not found"},
		"templates":           {"GET", "/templates.json", "", 200, `"image_template"`},
		"hypervisor":          {"GET", "/settings/hypervisors/2.json", "", 200, `"milan-hv02"`},
		"user":                {"GET", "/users/7.json", "", 200, `"login":"acme"`},
		"user's machines":     {"GET", "/users/8/virtual_machines.json", "", 200, `"bakery-site"`},
		"no such user":        {"GET", "/users/9/virtual_machines.json", "", 404, "User not found"},
		"transaction":         {"GET", "/transactions/8001.json", "", 200, `"status":"complete"`},
		"start a running one": {"POST", "/virtual_machines/101/startup.json", "{}", 422, "already booted"},
		"resize nothing":      {"PUT", "/virtual_machines/103.json", `{"virtual_machine":{}}`, 422, "Nothing to change"},
		"bad template":        {"POST", "/virtual_machines/103/build.json", `{"virtual_machine":{"template_id":"77"}}`, 422, "is not a template you may use"},
		"bad body":            {"POST", "/virtual_machines/103/startup.json", `[1]`, 422, "not JSON of the expected shape"},
		"no such action":      {"POST", "/virtual_machines/101/explode.json", "{}", 404, "No route matches POST /virtual_machines/101/explode.json"},
		"wrong method":        {"DELETE", "/templates.json", "", 404, "No route matches DELETE /templates.json"},
		"no .json":            {"GET", "/virtual_machines/101", "", 404, "No route matches GET /virtual_machines/101"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, body := call(tc.method, tc.path, tc.body)
			assert.Equal(t, tc.status, status, body)
			assert.Contains(t, body, tc.want)
		})
	}
}

// An action locks its machine while its transactions run: other changes
// are refused, reading is not, and unlocking cancels what is left.
func TestActionsLockTheirMachine(t *testing.T) {
	s, call := serve(t, sim.Options{StepTime: time.Hour})
	status, body := call("POST", "/virtual_machines/102/reboot.json", "{}")
	require.Equal(t, 201, status, body)
	assert.Contains(t, body, `"locked":true`)
	status, body = call("POST", "/virtual_machines/102/stop.json", "{}")
	assert.Equal(t, 422, status)
	assert.Contains(t, body, "locked while its transactions run")
	status, _ = call("GET", "/backups/5001.json", "")
	assert.Equal(t, 200, status, "reading a backup of a locked machine")
	status, body = call("DELETE", "/backups/5001.json", "")
	assert.Equal(t, 422, status, body)
	status, body = call("POST", "/virtual_machines/102/unlock.json", "{}")
	require.Equal(t, 200, status, body)
	assert.Contains(t, body, `"locked":false`)
	_, body = call("GET", "/virtual_machines/102/transactions.json", "")
	assert.Equal(t, 2, strings.Count(body, `"status":"cancelled"`), body)
	assert.Contains(t, s.Calls(), "POST /virtual_machines/102/unlock.json")
}

// Transactions move with the simulator's clock, and apply when they end.
func TestTransactionsRunOnTheClock(t *testing.T) {
	// 100 ms a transaction, 10 ms a call: the start runs for ten calls.
	s, call := serve(t, sim.Options{StepTime: 100 * time.Millisecond})
	status, _ := call("POST", "/virtual_machines/103/startup.json", "{}")
	require.Equal(t, 201, status)
	var statuses []string
	for range 12 {
		_, body := call("GET", "/virtual_machines/103/transactions.json", "")
		statuses = append(statuses, strings.Split(strings.SplitN(body, `"status":"`, 2)[1], `"`)[0])
	}
	assert.Equal(t, []string{"running", "running", "running", "running", "running", "running", "running", "running", "running", "complete", "complete", "complete"}, statuses)
	v, _ := s.VM(103)
	assert.True(t, v.Booted)
}

// The state is kept in the state file and read back by the next
// simulator, with its clock.
func TestStateOutlivesTheSimulator(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cloudflow.json")
	_, call := serve(t, sim.Options{StateFile: file, StepTime: 30 * time.Millisecond})
	status, body := call("PUT", "/virtual_machines/103.json", `{"virtual_machine":{"cpus":3}}`)
	require.Equal(t, 204, status, body)
	for range 5 {
		call("GET", "/version.json", "")
	}
	s2, _ := serve(t, sim.Options{StateFile: file, StepTime: 30 * time.Millisecond})
	v, ok := s2.VM(103)
	require.True(t, ok)
	assert.Equal(t, 3, v.CPUs)
}

func TestSignInIsRequired(t *testing.T) {
	s, err := sim.New(sim.Options{User: user, Password: key})
	require.NoError(t, err)
	base, stop, err := sandbox.Listen(s)
	require.NoError(t, err)
	defer stop()
	resp, err := http.Get(base + "/version.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Basic realm="OnApp"`, resp.Header.Get("WWW-Authenticate"))
}
