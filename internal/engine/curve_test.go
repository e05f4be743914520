package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbot/deskbot/internal/approval"
	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/seed"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/postgres"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/internal/testbin"
)

// BenchmarkApprovalsCurve lists pending approvals for an approver, as
// `/ops approvals` does and as the App Home does (the approvals waiting
// for them, their own, and their ten latest results), with 1,000 pending
// requests (10,000 with DESKBOT_BENCH_LARGE=1) on each store, a
// 500-rule policy over 10,000 users, and 10,000 audit entries. Reported
// as p50 and p99.
func BenchmarkApprovalsCurve(b *testing.B) {
	ctx := context.Background()
	sizes := []int{1_000}
	if os.Getenv("DESKBOT_BENCH_LARGE") == "1" {
		sizes = []int{1_000, 10_000}
	}
	pol, err := authz.Parse("seeded.yaml", seed.Policy(500, 10_000))
	if err != nil {
		b.Fatal(err)
	}
	opens := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "curve.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) store.Store {
			s, err := postgres.Open(ctx, testbin.PostgresDSN(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, st := range opens {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("store=%s/pending=%d", st.name, n), func(b *testing.B) {
				s := st.open(b)
				defer s.Close()
				// A clock that moves on a little with every request, so
				// they have distinct ages, and reads "now" after the last.
				start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
				var ticks atomic.Int64
				clock := func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * 10 * time.Millisecond) }
				svc := approval.New(s, []byte("curve-approval-key-0123456789"), clock)
				t := time.Now()
				if err := seed.Approvals(ctx, svc, n); err != nil {
					b.Fatal(err)
				}
				log := audit.NewLog(s, nil)
				if err := seed.Audit(ctx, s, 10_000, start, audit.Seal); err != nil {
					b.Fatal(err)
				}
				b.Logf("seeded %d pending approvals and 10,000 audit entries in %s", n, time.Since(t).Round(time.Millisecond))
				e := engine.New(engine.Options{Plugins: engine.StaticRegistry{}, Policy: pol, Approvals: svc, Audit: log, Now: clock})
				// An approver (team00) who also runs commands.
				approver := seed.UserID(0)

				b.Run("ops-approvals", func(b *testing.B) {
					lat := make([]time.Duration, 0, 4096)
					for b.Loop() {
						t := time.Now()
						r := e.Handle(ctx, engine.Request{User: approver, Channel: "C0DESK01", Text: "/ops approvals"}, nil)
						lat = append(lat, time.Since(t))
						if r.Status != engine.StatusOK || r.Result == nil || len(r.Result.Parts) == 0 || r.Result.Parts[0].Table == nil {
							b.Fatalf("/ops approvals: %+v", r)
						}
					}
					reportLatency(b, lat)
				})
				b.Run("app-home", func(b *testing.B) {
					lat := make([]time.Duration, 0, 4096)
					for b.Loop() {
						t := time.Now()
						toApprove, _, _, err := e.ApprovalsFor(ctx, approver)
						if err != nil || len(toApprove) == 0 {
							b.Fatalf("approvals for the approver: %d, %v", len(toApprove), err)
						}
						if _, err := e.Recent(ctx, approver, 10); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t))
					}
					reportLatency(b, lat)
				})
			})
		}
	}
}

// reportLatency reports the median and the 99th percentile of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
