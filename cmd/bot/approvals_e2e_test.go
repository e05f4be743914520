package main_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/deskbot/deskbot/internal/testbin"
)

// execJSON runs bot exec --json in dir and decodes the answer.
type execAnswer struct {
	Status   string `json:"status"`
	Error    string `json:"error"`
	Approval *struct {
		ID         string   `json:"id"`
		State      string   `json:"state"`
		Approvers  []string `json:"approvers"`
		Dispatched bool     `json:"dispatched"`
		// ConfirmValue is what approvers of a critical request type.
		ConfirmValue string `json:"confirm_value"`
		Result       string `json:"result"`
	} `json:"approval"`
	Result *struct {
		Parts []struct {
			KeyValues []struct{ Key, Value string }
		}
	} `json:"result"`
}

func execIn(t *testing.T, dir, as, line string, extra ...string) (execAnswer, result) {
	t.Helper()
	args := append([]string{"exec", "--json", "--as", as}, extra...)
	args = append(args, line)
	r := runBot(t, botIn(t, dir, args...))
	var a execAnswer
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &a), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return a, r
}

func counterIn(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	a, r := execIn(t, dir, "alice", "/example counter show", extra...)
	require.Equal(t, 0, r.code, r.stderr)
	return a.Result.Parts[0].KeyValues[0].Value
}

func TestApprovalAcrossProcesses(t *testing.T) {
	dir := workDir(t)
	a, r := execIn(t, dir, "alice", "/example counter add 3")
	require.Equal(t, 4, r.code, "waiting for approval exits 4: %s", r.stderr)
	require.NotNil(t, a.Approval)
	id := a.Approval.ID

	a, r = execIn(t, dir, "alice", "/ops approve "+id)
	assert.Equal(t, 3, r.code)
	assert.Contains(t, a.Error, "you cannot approve your own request")

	a, r = execIn(t, dir, "carol", "/ops approve "+id)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "succeeded", a.Approval.State)
	assert.Equal(t, "3", counterIn(t, dir))

	a, r = execIn(t, dir, "dan", "/ops approve "+id)
	assert.Equal(t, 3, r.code)
	assert.Equal(t, "3", counterIn(t, dir), "it ran once")

	exp := runBot(t, botIn(t, dir, "audit", "export"))
	require.Equal(t, 0, exp.code, exp.stderr)
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(exp.stdout), "\n") {
		var e struct{ Action, Outcome, Actor, Command string }
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		if e.Command == "counter add" {
			actions = append(actions, e.Actor+" "+e.Action+" "+e.Outcome)
		}
	}
	assert.Equal(t, []string{
		"U0ALICE01 request ", "U0ALICE01 decision needs-approval", "U0ALICE01 approval requested",
		"U0ALICE01 approval refused", "U0CAROL01 approval approved", "U0ALICE01 execute started",
		"U0ALICE01 result succeeded", "U0DAN0001 approval refused",
	}, actions)
}

func TestBotKilledWithPendingApprovals(t *testing.T) {
	dir := workDir(t)
	cfg := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"approval_lease": "2s"}}.write(t, dir)
	var pending []string
	for _, n := range []string{"1", "2", "3"} {
		a, r := execIn(t, dir, "alice", "/example counter add "+n, "--config", cfg)
		require.Equal(t, 4, r.code, r.stderr)
		pending = append(pending, a.Approval.ID)
	}
	a, r := execIn(t, dir, "alice", "/example counter add 100 delay=1h", "--config", cfg)
	require.Equal(t, 4, r.code, r.stderr)
	slow := a.Approval.ID

	// carol approves the slow one; the bot running it is killed once it
	// has handed the command to the plugin.
	approver := botIn(t, dir, "exec", "--config", cfg, "--as", "carol", "/ops approve "+slow)
	approver.Stdout, approver.Stderr = nil, nil
	require.NoError(t, approver.Start())
	waitFor(t, func() bool {
		a, _ := execIn(t, dir, "carol", "/ops approval "+slow, "--config", cfg)
		return a.Approval != nil && a.Approval.Dispatched
	}, "the approved request was never dispatched")
	require.NoError(t, approver.Process.Signal(syscall.SIGKILL))
	_ = approver.Wait()

	// Once its lease lapses, the one caught running is reported unknown
	// and not re-run; the pending ones are listed and approvable.
	waitFor(t, func() bool {
		a, _ := execIn(t, dir, "carol", "/ops approval "+slow, "--config", cfg)
		return a.Approval != nil && a.Approval.State == "unknown"
	}, "the killed execution was never reported unknown")
	list := runBot(t, botIn(t, dir, "exec", "--config", cfg, "--as", "carol", "/ops approvals"))
	require.Equal(t, 0, list.code, list.stderr)
	for _, id := range pending {
		assert.Contains(t, list.stdout, id)
	}
	assert.Contains(t, list.stdout, "Outcome unknown")
	assert.Contains(t, list.stdout, slow)

	a, r = execIn(t, dir, "carol", "/ops approve "+pending[1], "--config", cfg)
	require.Equal(t, 0, r.code, "%s %s", a.Error, r.stderr)
	assert.Equal(t, "2", counterIn(t, dir, "--config", cfg), "the killed request never wrote; the approved one did")
}

// A replica killed at each step from the last vote to the result: once
// its lease lapses, nothing is lost (what never reached the provider runs
// elsewhere), nothing runs twice, and nothing stays stuck.
func TestChaosReplicaKilledAtEachStepOfAnApprovedRun(t *testing.T) {
	for _, tc := range []struct {
		step    string
		state   string // where the request ends
		counter string // the provider's counter afterwards
	}{
		{"voted", "succeeded", "1"},    // claim committed; nothing told, nothing sent: run by the survivor
		{"told", "succeeded", "1"},     // the card updated; nothing sent: run by the survivor
		{"dispatched", "unknown", "0"}, // marked as sent, killed before the call: cannot know, never re-run
		{"executed", "unknown", "1"},   // the provider did it; nothing recorded: unknown, never re-run
		{"recorded", "succeeded", "1"}, // the result is in the audit log: settled from it
		{"finished", "succeeded", "1"}, // the outcome is stored; only the messages were lost
	} {
		t.Run(tc.step, func(t *testing.T) {
			t.Parallel()
			dir := workDir(t)
			cfg := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"approval_lease": "2s"}}.write(t, dir)
			a, r := execIn(t, dir, "alice", "/example counter add 1", "--config", cfg)
			require.Equal(t, 4, r.code, r.stderr)
			id := a.Approval.ID

			crash := botIn(t, dir, "exec", "--config", cfg, "--as", "carol", "/ops approve "+id)
			crash.Env = append(crash.Env, "DESKBOT_CRASH_AT="+tc.step)
			cr := runBot(t, crash)
			require.Equal(t, -1, cr.code, "the replica was killed at %s: %s", tc.step, cr.stderr)
			assert.Contains(t, cr.stderr, "DESKBOT_CRASH_AT reached")

			var last execAnswer
			waitFor(t, func() bool {
				last, _ = execIn(t, dir, "dan", "/ops approval "+id, "--config", cfg)
				return last.Approval != nil && last.Approval.State != "executing"
			}, "the request stayed executing after its lease lapsed")
			assert.Equal(t, tc.state, last.Approval.State, last.Approval.Result)
			assert.Equal(t, tc.counter, counterIn(t, dir, "--config", cfg))

			// Later sweeps change nothing; a click changes nothing.
			again, r := execIn(t, dir, "dan", "/ops approve "+id, "--config", cfg)
			assert.NotEqual(t, 0, r.code, again.Error)
			assert.Equal(t, tc.counter, counterIn(t, dir, "--config", cfg), "nothing ran twice")
			v := runBot(t, botIn(t, dir, "audit", "verify", "--config", cfg))
			assert.Equal(t, 0, v.code, v.stdout+v.stderr)
			exp := runBot(t, botIn(t, dir, "audit", "export", "--config", cfg))
			require.Equal(t, 0, exp.code, exp.stderr)
			assert.Regexp(t, `"actor":"U0CAROL01".*"outcome":"approved"|"outcome":"approved".*"actor":"U0CAROL01"`, exp.stdout, "the approval is in the audit log, even if its process died before writing it")
		})
	}
}

func TestTwoBotsOnOnePostgresExecuteOnce(t *testing.T) {
	dsn := testbin.PostgresDSN(t)
	dir := workDir(t)
	cfg := config{Plugins: []installed{{Name: "example", Targets: []target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(dir, "shared")}}}},
		Top: map[string]any{"store": map[string]any{"driver": "postgres", "dsn": env("TEST_DSN")}, "approval_key": env("TEST_APPROVAL_KEY"), "audit_key": env("TEST_AUDIT_KEY")}}.write(t, dir)
	vars := []string{"TEST_DSN=" + dsn, "TEST_APPROVAL_KEY=shared-by-all-replicas-0123", "TEST_AUDIT_KEY=audit-key-shared-by-replicas-0123"}
	run := func(as, line string) (execAnswer, result) {
		cmd := botIn(t, dir, "exec", "--config", cfg, "--json", "--as", as, line)
		cmd.Env = append(cmd.Env, vars...)
		r := runBot(t, cmd)
		var a execAnswer
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &a), "stdout %s stderr %s", r.stdout, r.stderr)
		return a, r
	}
	for round := 1; round <= 3; round++ {
		a, r := run("alice", "/example counter add 1")
		require.Equal(t, 4, r.code, r.stderr)
		id := a.Approval.ID
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, who := range []string{"carol", "dan"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, r := run(who, "/ops approve "+id)
				codes[i] = r.code
			}()
		}
		wg.Wait()
		assert.ElementsMatch(t, []int{0, 3}, codes, "one bot runs it, the other is told it is taken")
		// Both bots' sandboxes serve one counter, kept in the shared
		// state folder.
		b, err := os.ReadFile(filepath.Join(dir, "shared", "counter.json"))
		require.NoError(t, err)
		assert.JSONEq(t, `{"value": `+strconv.Itoa(round)+`}`, string(b), "round %d: executed exactly once", round)
	}
}

func TestAuditVerifyFindsTheFirstTamperedEntry(t *testing.T) {
	dir := workDir(t)
	for _, line := range []string{"/example echo one", "/example echo two", "/example counter show"} {
		_, r := execIn(t, dir, "alice", line)
		require.Equal(t, 0, r.code)
	}
	ok := runBot(t, botIn(t, dir, "audit", "verify"))
	require.Equal(t, 0, ok.code, ok.stdout+ok.stderr)
	assert.Contains(t, ok.stdout, "ok: 12 entries, chain intact")

	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "deskbot.db"))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(context.Background(), `UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 6`)
	require.NoError(t, err)
	bad := runBot(t, botIn(t, dir, "audit", "verify"))
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stdout, "TAMPERED: entry 6 was altered")
	assert.Contains(t, bad.stdout, "first bad entry: 6")

	// Deleting an entry is found too.
	_, err = db.ExecContext(context.Background(), `UPDATE audit_log SET detail = (SELECT detail FROM audit_log WHERE seq = 2) WHERE seq = 6`)
	require.NoError(t, err)
	_, err = db.ExecContext(context.Background(), `DELETE FROM audit_log WHERE seq = 4`)
	require.NoError(t, err)
	bad = runBot(t, botIn(t, dir, "audit", "verify"))
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stdout, "entry 5 follows entry 3: entries are missing")

	csv := runBot(t, botIn(t, dir, "audit", "export", "--format", "csv", "--user", "alice"))
	require.Equal(t, 0, csv.code, csv.stderr)
	assert.True(t, strings.HasPrefix(csv.stdout, "seq,time,request_id,actor,action"))
}

func TestPolicyTools(t *testing.T) {
	dir := workDir(t)
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nroles:\n  ops:\n    grants:\n      - commands: [\"whm\"]\n"), 0o600))
	r := runBot(t, botIn(t, dir, "policy", "check", bad))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "bad.yaml:5: ")
	assert.Contains(t, r.stdout, "needs the form provider:command")

	r = runBot(t, botIn(t, dir, "policy", "check", "examples/policy.yaml"))
	assert.Equal(t, 0, r.code, r.stdout)

	r = runBot(t, botIn(t, dir, "policy", "explain", "--as", "bob", "/example counter reset"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "decision: needs-approval")
	assert.Contains(t, r.stdout, "approval: 2 approver(s), each typing the name of what it acts on")

	cases := filepath.Join(dir, "cases.yaml")
	require.NoError(t, os.WriteFile(cases, []byte(`cases:
  - name: tier-1 reads
    as: alice
    command: /example counter show
    expect: allow
  - name: tier-1 asks for high risk
    as: alice
    command: /example counter add 2
    expect: needs-approval
    approvers: 1
  - name: leads only read
    as: carol
    command: /example counter add 2
    expect: deny
  - name: a wrong expectation
    as: alice
    command: /example counter reset
    expect: allow
`), 0o600))
	r = runBot(t, botIn(t, dir, "policy", "test", "examples/policy.yaml", cases))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "ok   tier-1 reads")
	assert.Contains(t, r.stdout, "ok   leads only read")
	assert.Contains(t, r.stdout, "FAIL a wrong expectation: got deny")
	assert.Contains(t, r.stdout, "3 of 4 cases passed")
}

// An approver who asks for a dry run of an approval gets a refusal,
// not an approval: /ops commands act directly and have no plan.
func TestPlanOfAnApprovalRunsNothing(t *testing.T) {
	dir := workDir(t)
	a, r := execIn(t, dir, "alice", "/example counter add 3")
	require.Equal(t, 4, r.code, r.stderr)
	id := a.Approval.ID

	for _, line := range []string{"/ops plan /ops approve " + id, "/ops approve " + id + " --plan", "/ops deny " + id + " reason=x --plan"} {
		a, r = execIn(t, dir, "carol", line)
		assert.Equal(t, 2, r.code, "%s: %s %s", line, r.stdout, r.stderr)
		assert.Contains(t, a.Error, "/ops commands have no plan", line)
	}
	assert.Equal(t, "0", counterIn(t, dir), "nothing ran")
	a, r = execIn(t, dir, "carol", "/ops approval "+id)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "pending", a.Approval.State)
}
