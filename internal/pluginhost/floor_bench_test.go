package pluginhost_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/testbin"
	whmsim "github.com/deskbot/deskbot/plugins/whm/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

// measure runs call b.N times in a row and reports its latency
// percentiles and rate alongside ns/op.
func measure(b *testing.B, call func(context.Context) error) {
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	start := time.Now()
	for b.Loop() {
		t0 := time.Now()
		if err := call(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(float64(len(lat))/el.Seconds(), "calls/s")
}

// callers runs call b.N times spread over exactly n goroutines and
// reports the throughput, and the CPU time each call costs the caller's
// process and the server's (pid): with both processes busy on every core,
// the CPU a call costs is what sets the throughput. It also reports the
// server's resident memory before and after the calls.
func callers(b *testing.B, n int, pid int, call func(context.Context) error) {
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	idle := processRSS(b, pid)
	b.ResetTimer()
	self0, peer0 := selfCPU(b), processCPU(b, pid)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := call(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	b.ReportMetric(float64((selfCPU(b)-self0).Microseconds())/float64(b.N), "caller-cpu-µs/call")
	b.ReportMetric(float64((processCPU(b, pid)-peer0).Microseconds())/float64(b.N), "server-cpu-µs/call")
	b.ReportMetric(idle, "server-rss-before-MB")
	b.ReportMetric(processRSS(b, pid), "server-rss-MB")
}

// processRSS is the resident memory of process pid, in MB.
func processRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no memory figure for process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err == nil {
				return kb / 1000
			}
		}
	}
	b.Fatalf("process %d: no VmRSS in its status", pid)
	return 0
}

// selfCPU is the CPU time this process has used.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is the CPU time process pid has used, from /proc (in
// hundredths of a second: enough over the thousands of calls of a run).
func processCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("no CPU time for process %d: %v", pid, err)
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is the first, utime and stime the 12th and 13th.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("process %d: unreadable stat %q", pid, s)
	}
	return time.Duration(utime+stime) * (time.Second / 100)
}

// floor starts the bare gRPC server in its own process and returns a call
// of it over the Unix socket, and the server's process id.
func floor(b *testing.B) (func(context.Context) error, int) {
	bin := testbin.Program(b, "benchfloor", "./internal/benchfloor")
	sock := filepath.Join(b.TempDir(), "floor.sock")
	cmd := exec.Command(bin, sock)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if !bufio.NewScanner(out).Scan() {
		b.Fatal("the floor server did not start")
	}
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	hc := healthpb.NewHealthClient(conn)
	return func(ctx context.Context) error {
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}, cmd.Process.Pid
}

func host(b *testing.B, name string, targets []sdk.Target) *pluginhost.Process {
	bin := testbin.Plugin(b, name)
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		b.Fatal(err)
	}
	h := pluginhost.New(pluginhost.Options{Dir: testbin.PluginDir(b), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := h.Start(context.Background(), []pluginhost.Config{{Name: name, Path: name, SHA256: sum, Targets: targets, Env: profileEnv()}}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	p, _ := h.Get(name)
	return p
}

// profileEnv passes DESKBOT_PLUGIN_CPUPROFILE, DESKBOT_PLUGIN_MEMPROFILE and
// GODEBUG on to the benchmarked plugin, so its side of a round trip can be
// profiled too.
func profileEnv() map[string]string {
	env := map[string]string{}
	for _, k := range []string{"DESKBOT_PLUGIN_CPUPROFILE", "DESKBOT_PLUGIN_MEMPROFILE", "GODEBUG"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	return env
}

// BenchmarkRoundTrip compares a trivial command through a plugin process
// (go-plugin, gRPC over a Unix socket with mutual TLS, the SDK's dispatch)
// with the floor: a bare gRPC unary call over a Unix socket to another
// process, measured in the same run.
func BenchmarkRoundTrip(b *testing.B) {
	f, floorPID := floor(b)
	p := host(b, "example", []sdk.Target{{Name: "sandbox", Sandbox: true}})
	plugin := func(ctx context.Context) error {
		res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "bench", Command: "echo", Args: sdk.Args{"text": "ping"}}})
		if err == nil && res.Failed() {
			err = res.Diagnostics.Err()
		}
		return err
	}
	b.Run("floor", func(b *testing.B) { measure(b, f) })
	b.Run("plugin", func(b *testing.B) { measure(b, plugin) })
	b.Run("floor-8callers", func(b *testing.B) { callers(b, 8, floorPID, f) })
	b.Run("plugin-8callers", func(b *testing.B) { callers(b, 8, p.PID(), plugin) })
	// The same comparisons interleaved, so that a machine whose speed
	// drifts during the run (a shared host) affects both sides alike.
	b.Run("paired", func(b *testing.B) { paired(b, f, plugin) })
	b.Run("paired-8callers", func(b *testing.B) { pairedCallers(b, 8, f, plugin) })
}

// paired alternates a floor call and a plugin call b.N times and reports
// each side's median and their ratio.
func paired(b *testing.B, floor, plugin func(context.Context) error) {
	ctx := context.Background()
	var lf, lp []time.Duration
	for b.Loop() {
		for _, side := range []struct {
			call func(context.Context) error
			lat  *[]time.Duration
		}{{floor, &lf}, {plugin, &lp}} {
			t0 := time.Now()
			if err := side.call(ctx); err != nil {
				b.Fatal(err)
			}
			*side.lat = append(*side.lat, time.Since(t0))
		}
	}
	pf, pp := median(lf), median(lp)
	b.ReportMetric(float64(pf.Nanoseconds())/1e3, "floor-p50-µs")
	b.ReportMetric(float64(pp.Nanoseconds())/1e3, "plugin-p50-µs")
	b.ReportMetric(float64(pp)/float64(pf), "p50-ratio")
}

// pairedCallers runs n callers against the floor and then the plugin in
// alternating 100 ms windows for the benchmark's time, and reports each
// side's throughput and the plugin's share of the floor's.
func pairedCallers(b *testing.B, n int, floor, plugin func(context.Context) error) {
	ctx := context.Background()
	var done [2]int64
	var spent [2]time.Duration
	sides := []func(context.Context) error{floor, plugin}
	for b.Loop() {
		for i, call := range sides {
			var count atomic.Int64
			stop := time.Now().Add(100 * time.Millisecond)
			start := time.Now()
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(stop) {
						if err := call(ctx); err != nil {
							b.Error(err)
							return
						}
						count.Add(1)
					}
				}()
			}
			wg.Wait()
			done[i] += count.Load()
			spent[i] += time.Since(start)
		}
	}
	ff := float64(done[0]) / spent[0].Seconds()
	pp := float64(done[1]) / spent[1].Seconds()
	b.ReportMetric(ff, "floor-calls/s")
	b.ReportMetric(pp, "plugin-calls/s")
	b.ReportMetric(pp/ff, "throughput-share")
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// BenchmarkProviderCall compares a WHM API call made through the bot's
// plugin (plugin process → HTTP → simulator) with the same HTTP call made
// directly to the simulator.
func BenchmarkProviderCall(b *testing.B) {
	const token = "bench-token-0123456789"
	s, err := whmsim.New(whmsim.Options{Token: token})
	if err != nil {
		b.Fatal(err)
	}
	base, stop, err := sandbox.Listen(s)
	if err != nil {
		b.Fatal(err)
	}
	hp := strings.TrimPrefix(base, "http://")
	b.Cleanup(func() { _ = stop() })
	h, port, _ := net.SplitHostPort(hp)
	p := host(b, "whm", []sdk.Target{{Name: "web01", Settings: map[string]string{"host": h, "port": port, "scheme": "http"}, Secrets: map[string]string{"token": token}}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	direct := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hp+"/json-api/version?api.version=1", nil)
		req.Header.Set("Authorization", "whm root:"+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	viaPlugin := func(ctx context.Context) error {
		res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "bench", Command: "call version", Args: sdk.Args{}}})
		if err == nil && res.Failed() {
			err = res.Diagnostics.Err()
		}
		return err
	}
	b.Run("direct-http", func(b *testing.B) { measure(b, direct) })
	b.Run("via-plugin", func(b *testing.B) { measure(b, viaPlugin) })

}
