package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/sdk"
)

// Approvals creates n pending approval requests through svc, as the bot
// creates them: requesters among the active users, one approver of role
// approver each, created at the service's time and waiting 25 hours.
func Approvals(ctx context.Context, svc *approval.Service, n int) error {
	rng := newRand(uint64(n))
	for i := range n {
		c := Commands[rng.IntN(len(Commands))]
		prov, cmd, _ := strings.Cut(c, ":")
		account := fmt.Sprintf("shop%04d", rng.IntN(5000))
		user := rng.IntN(ActiveUsers) * (10_000 / ActiveUsers)
		_, err := svc.Create(ctx, approval.Request{
			RequestID: fmt.Sprintf("r-seed-%07d", i), Requester: UserID(user), Channel: "C0DESK01", Provider: prov, Command: cmd,
			Target: Target(i), Args: sdk.Args{"user": account, "reason": "ticket 4711"}, CommandLine: "/" + prov + " " + cmd + " " + account + ` reason="ticket 4711"`,
			Risk: sdk.RiskHigh, Plan: &sdk.Plan{Summary: cmd + " " + account}, Approvers: 1, Roles: []string{"approver"},
			TTL: 25 * time.Hour, Rule: "approval rule 1 (line 10)",
		})
		if err != nil {
			return fmt.Errorf("seed approval %d: %w", i, err)
		}
	}
	return nil
}
