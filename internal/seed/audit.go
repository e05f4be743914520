package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/store"
)

// Year is the span a seeded audit log covers, ending at the time given.
const Year = 365 * 24 * time.Hour

// ActiveUsers is how many of the seeded users run commands: a desk's
// staff, not everyone the policy names.
const ActiveUsers = 200

// AuditRecord is seeded entry i of n, spread evenly over the year before
// end. Entries come four to a command, as the bot writes them: the
// request, the decision, the execution and the result.
func AuditRecord(i, n int, end time.Time) store.AuditRecord {
	cmdNo := i / 4
	rng := newRand(uint64(cmdNo))
	user := rng.IntN(ActiveUsers) * (10_000 / ActiveUsers)
	c := Commands[rng.IntN(len(Commands))]
	prov, cmd, _ := strings.Cut(c, ":")
	account := fmt.Sprintf("shop%04d", rng.IntN(5000))
	target := Target(rng.IntN(40))
	at := end.Add(-Year + time.Duration(int64(Year)/int64(max(n, 1))*int64(i))).UTC().Truncate(time.Microsecond)
	r := store.AuditRecord{
		At: at, RequestID: fmt.Sprintf("r%09d", cmdNo), Actor: UserID(user), Provider: prov, Command: cmd,
		Target: target, Channel: fmt.Sprintf("C0DESK%02d", rng.IntN(20)),
		Args: fmt.Sprintf(`{"reason":"ticket %d","user":%q}`, 100000+rng.IntN(900000), account),
	}
	switch i % 4 {
	case 0:
		r.Action, r.Outcome, r.Detail = "request", "received", "/"+prov+" "+cmd+" "+account
	case 1:
		r.Action, r.Outcome, r.Detail = "decision", "allow", fmt.Sprintf("role role%04d grant %d (line %d)", rng.IntN(500), 1+rng.IntN(10), 10+rng.IntN(5000))
	case 2:
		r.Action, r.Outcome = "execute", "started"
	default:
		r.Action, r.Outcome = "result", "succeeded"
		r.Detail = fmt.Sprintf("%s %s on %s: done in %d ms", cmd, account, target, 20+rng.IntN(2000))
		if rng.IntN(20) == 0 {
			r.Outcome, r.Detail = "failed", fmt.Sprintf("%s %s on %s: the provider answered 503", cmd, account, target)
		}
	}
	return r
}

// Audit appends n seeded entries to s (see AuditRecord), sealed with
// seal, through the store's batch append: the chain is exactly what the
// bot's appends would have built.
func Audit(ctx context.Context, s store.Audit, n int, end time.Time, seal func(*store.AuditRecord)) error {
	const batch = 2000
	buf := make([]store.AuditRecord, 0, batch)
	for i := 0; i < n; i++ {
		buf = append(buf, AuditRecord(i, n, end))
		if len(buf) == batch || i == n-1 {
			if _, err := s.AppendAuditBatch(ctx, buf, seal); err != nil {
				return fmt.Errorf("seed audit entry %d: %w", i, err)
			}
			buf = buf[:0]
		}
	}
	return nil
}
