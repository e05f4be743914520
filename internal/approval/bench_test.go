package approval_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/postgres"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/sdk"
)

// BenchmarkCreateApprove measures one approval's whole life in the store:
// create, the quorum vote, the claim and the outcome.
func BenchmarkCreateApprove(b *testing.B) {
	ctx := context.Background()
	stores := map[string]func(b *testing.B) store.Store{
		"sqlite": func(b *testing.B) store.Store {
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		"postgres": func(b *testing.B) store.Store {
			s, err := postgres.Open(ctx, testbin.PostgresDSN(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := stores[name](b)
			defer s.Close()
			svc := approval.New(s, []byte("bench-key-0123456789"), nil)
			req := approval.Request{RequestID: "r", Requester: "U0ALICE01", Channel: "C1", Provider: "whm", Command: "account suspend",
				Target: "web01", Args: sdk.Args{"user": "demo1", "reason": "abuse"}, CommandLine: "/whm account suspend demo1 reason=abuse",
				Risk: sdk.RiskHigh, Plan: &sdk.Plan{Summary: "Suspend demo1"}, Approvers: 1, TTL: time.Hour, Rule: "default"}
			b.ReportAllocs()
			for b.Loop() {
				a, err := svc.Create(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Vote(ctx, a.ID, "U0CAROL01"); err != nil {
					b.Fatal(err)
				}
				if ok, err := svc.Claim(ctx, a.ID); err != nil || !ok {
					b.Fatal(err)
				}
				if err := svc.Finish(ctx, a.ID, true, "done"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
