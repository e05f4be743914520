package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

// A desk that requires tickets on high-risk changes, as a support
// engineer meets it: refused without one, planned without approval,
// asked for, approved, run, and found again by its ticket.
func TestTicketsPlansAndFreeTextFromTheCommandLine(t *testing.T) {
	testbin.Plugin(t, "whm")
	dir := workDir(t)
	policy := filepath.Join(dir, "examples", "policy.yaml")
	src, err := os.ReadFile(policy)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(policy, append(src, []byte("\ntickets:\n  pattern: '^[A-Z]+-[0-9]+$'\n  require:\n    risks: [high, critical]\n")...), 0o600))

	// Missing and malformed tickets are refused as invalid input (exit 2).
	a, r := execIn(t, dir, "alice", "/whm account suspend shopco reason=customer's request, see ticket")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, a.Error, "needs a ticket reference")
	a, r = execIn(t, dir, "alice", "/whm account suspend shopco reason=customer's request ticket=desk-12")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, a.Error, "ticket desk-12 is not a ticket reference this desk uses")

	// --plan shows the WHM calls, needs no approval and changes nothing.
	r = runBot(t, botIn(t, dir, "exec", "--json", "--as", "alice", "/whm account suspend shopco reason=customer's request, see ticket --plan"))
	require.Equal(t, 0, r.code, "%s %s", r.stdout, r.stderr)
	var plan struct {
		DryRun bool `json:"dry_run"`
		Plan   struct {
			Summary string
			Steps   []struct{ Method, Endpoint string }
		} `json:"plan"`
		Approval any `json:"approval"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &plan))
	assert.True(t, plan.DryRun)
	assert.Nil(t, plan.Approval)
	assert.Contains(t, plan.Plan.Summary, "Reason: customer's request, see ticket")
	require.NotEmpty(t, plan.Plan.Steps)
	list := runBot(t, botIn(t, dir, "exec", "--as", "alice", "/whm account list shopco"))
	assert.Regexp(t, `shopco .* active`, list.stdout, "a plan changes nothing")

	// With a ticket it goes to a lead, runs once approved, and keeps the
	// reason as typed.
	a, r = execIn(t, dir, "alice", "/whm account suspend shopco reason=customer's request, see ticket ticket=OPS-12")
	require.Equal(t, 4, r.code, "%s %s", r.stdout, r.stderr)
	a, r = execIn(t, dir, "carol", "/ops approve "+a.Approval.ID)
	require.Equal(t, 0, r.code, "%s %s", r.stdout, r.stderr)
	list = runBot(t, botIn(t, dir, "exec", "--as", "alice", "/whm account list shopco"))
	assert.Regexp(t, `shopco .* suspended: customer's request, see ticket`, list.stdout)

	// The ticket finds the change in the audit log, and the log verifies.
	exp := runBot(t, botIn(t, dir, "audit", "export", "--ticket", "OPS-12"))
	require.Equal(t, 0, exp.code, exp.stderr)
	assert.Contains(t, exp.stdout, `"ticket":"OPS-12"`)
	assert.Contains(t, exp.stdout, `"action":"result","provider":"whm","command":"account suspend"`)
	assert.NotContains(t, exp.stdout, `"action":"dry-run"`, "the plan was made without the ticket")
	v := runBot(t, botIn(t, dir, "audit", "verify"))
	assert.Equal(t, 0, v.code, "%s %s", v.stdout, v.stderr)

	// The plan is in the audit log as a dry run.
	exp = runBot(t, botIn(t, dir, "audit", "export", "--command", "whm:account suspend"))
	assert.Contains(t, exp.stdout, `"action":"dry-run"`)
}
