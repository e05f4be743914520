package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/seed"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/postgres"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/internal/testbin"
)

// curveEnd is when the seeded logs end: searches look back from it.
var curveEnd = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// curveSizes are the log sizes of the cost curves: 10,000 entries always,
// 100,000 and 1,000,000 with DESKBOT_BENCH_LARGE=1 (seeding a million
// entries takes minutes, too long for make bench).
func curveSizes() []int {
	if os.Getenv("DESKBOT_BENCH_LARGE") == "1" {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000}
}

// curveStores open an empty store of each kind.
var curveStores = []struct {
	name string
	open func(b *testing.B) store.Store
}{
	{"sqlite", func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "curve.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
	{"postgres", func(b *testing.B) store.Store {
		s, err := postgres.Open(context.Background(), testbin.PostgresDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// BenchmarkAuditCurve seeds a keyed log of 10k (100k, 1M) entries over a
// year on each store, then measures `bot audit verify` (Log.Verify, what
// the command runs: entries/s and the peak heap while it runs) and the
// three `/ops audit` searches (by user, by target, by text, each with
// the command's default limit of 20), reporting p50 and p99.
func BenchmarkAuditCurve(b *testing.B) {
	ctx := context.Background()
	key, err := audit.NewKey([]byte("curve-audit-key-0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range curveStores {
		for _, n := range curveSizes() {
			b.Run(fmt.Sprintf("store=%s/entries=%d", st.name, n), func(b *testing.B) {
				s := st.open(b)
				defer s.Close()
				t := time.Now()
				if err := seed.Audit(ctx, s, n, curveEnd, key.Seal); err != nil {
					b.Fatal(err)
				}
				b.Logf("seeded %d entries in %s", n, time.Since(t).Round(time.Millisecond))
				if st.name == "postgres" {
					// What autovacuum does after a bulk load: the planner's
					// statistics for the new rows.
					if err := s.(interface {
						Exec(context.Context, string, ...any) error
					}).Exec(ctx, "ANALYZE audit_log"); err != nil {
						b.Fatal(err)
					}
				}
				log := audit.NewLog(s, nil, audit.WithKey(key))

				b.Run("verify", func(b *testing.B) {
					peak := watchHeap()
					cpu0 := cpuTime()
					for b.Loop() {
						res, err := log.Verify(ctx)
						if err != nil || !res.OK() || res.Entries != int64(n) {
							b.Fatalf("verify: %+v, %v", res, err)
						}
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
					heap, live := peak()
					b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
					b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
					// CPU time per entry, the figure a busy machine disturbs
					// least (the benchmark process's, both sides of the pipe
					// to PostgreSQL's server not included).
					b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/entry")
				})

				// A user and a target the seeded log has, and a text that
				// occurs in about one command in 5,000 (an account name).
				probe := seed.AuditRecord(n/2, n, curveEnd)
				searches := []struct {
					name string
					f    audit.Filter
				}{
					{"user", audit.Filter{Actor: probe.Actor}},
					{"target", audit.Filter{Target: probe.Target}},
					{"text", audit.Filter{Text: "shop0042"}},
				}
				for _, since := range []time.Duration{24 * time.Hour, 30 * 24 * time.Hour} {
					for _, q := range searches {
						if ex, ok := s.(interface {
							ExplainAudit(context.Context, store.AuditFilter) ([]string, error)
						}); ok {
							f := q.f
							f.Since, f.Limit, f.ByTime = curveEnd.Add(-since), 20, true
							plan, err := ex.ExplainAudit(ctx, f)
							if err != nil {
								b.Fatal(err)
							}
							b.Logf("plan of search-%s since=%s:\n\t%s", q.name, sinceName(since), strings.Join(plan, "\n\t"))
						}
						b.Run(fmt.Sprintf("search-%s/since=%s", q.name, sinceName(since)), func(b *testing.B) {
							f := q.f
							f.Since, f.Limit, f.ByTime = curveEnd.Add(-since), 20, true
							lat := make([]time.Duration, 0, 4096)
							for b.Loop() {
								t := time.Now()
								if _, err := log.Search(ctx, f); err != nil {
									b.Fatal(err)
								}
								lat = append(lat, time.Since(t))
							}
							reportLatency(b, lat)
						})
					}
				}
			})
		}
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func sinceName(d time.Duration) string {
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// reportLatency reports the median and the 99th percentile of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// watchHeap samples the heap every millisecond until the returned
// function is called, which returns the largest heap seen (live and not
// yet swept objects: what the process holds) and the largest live heap
// a garbage collection found (what verify retains, which must not grow
// with the log; the first also counts garbage, which a busy machine's
// slower collections let pile up). Samples, not exact peaks: good enough
// to tell memory that stays flat from memory that grows with the log.
func watchHeap() func() (heap, live uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	var mu sync.Mutex
	var peak, peakLive uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			peakLive = max(peakLive, sample[1].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak, peakLive
	}
}
