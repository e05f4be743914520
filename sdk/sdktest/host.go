package sdktest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/sdk"
)

// serveEnv tells a test binary the kit started as a plugin process which
// test is to serve its plugin instead of testing it (go-plugin's helper
// process pattern: the test binary is the plugin).
const serveEnv = "DESKBOT_SDKTEST_SERVE"

// hostedRuns counts the ThroughHost runs of each test, so that a test
// running the kit on two plugins has each served by the child started for
// it: the child runs the same test again and serves the run with the same
// number. Keyed by the test itself, not its name, so -count=2 counts
// afresh.
var hostedRuns = struct {
	sync.Mutex
	n map[*testing.T]int
}{n: map[*testing.T]int{}}

// nextHostedRun numbers this ThroughHost run of t from 1.
func nextHostedRun(t *testing.T) int {
	hostedRuns.Lock()
	defer hostedRuns.Unlock()
	if hostedRuns.n[t] == 0 {
		t.Cleanup(func() {
			hostedRuns.Lock()
			delete(hostedRuns.n, t)
			hostedRuns.Unlock()
		})
	}
	hostedRuns.n[t]++
	return hostedRuns.n[t]
}

// serveID names the run a child is to serve: the test, the run's number
// in it and the plugin.
func serveID(t *testing.T, run int, plugin string) string {
	return fmt.Sprintf("%s#%d#%s", t.Name(), run, plugin)
}

// serveIfChild serves p and exits when this process is the plugin process
// a ThroughHost run started for this run of test t. It returns in every
// other case.
func serveIfChild(t *testing.T, run int, p sdk.Provider) {
	want := os.Getenv(serveEnv)
	if want == "" || !strings.HasPrefix(want, fmt.Sprintf("%s#%d#", t.Name(), run)) {
		return
	}
	meta, err := p.Metadata(context.Background(), &sdk.MetadataRequest{})
	if err != nil || serveID(t, run, meta.Name) != want {
		// The test ran differently this time: serving another plugin
		// would check the wrong one.
		fmt.Fprintf(os.Stderr, "sdktest: run %d of %s is not the plugin the kit started this process for (%s)\n", run, t.Name(), want)
		os.Exit(1)
	}
	if err := sdk.Serve(p); err != nil {
		fmt.Fprintln(os.Stderr, "sdktest:", err)
		os.Exit(1)
	}
	// Exit before the testing package reports: stdout belongs to the
	// plugin protocol.
	os.Exit(0)
}

// startHosted starts this test binary as the plugin process, through the
// bot's own plugin host (a pinned executable in a plugin directory, mutual
// TLS, the environment the host makes, Configure with the targets), and
// returns the host's handle on it as a Provider, and a function that stops
// it once every line it logged has reached logs (the host's log, the
// plugin's own lines included).
func startHosted(t *testing.T, run int, name string, targets []sdk.Target, logs *testWriter) (sdk.Provider, func()) {
	t.Helper()
	// The name becomes a file name in the plugin folder: checked before
	// anything is written, so "../x" cannot write outside it.
	if !pluginNameRE.MatchString(name) {
		t.Fatalf("ThroughHost: plugin name %q must be lower-case letters, digits and dashes, starting with a letter (it becomes a slash command and the executable's name)", name)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("ThroughHost: the test binary: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("ThroughHost: %v", err)
	}
	// The host starts the executable with no arguments, from its own
	// folder: a script gives the test binary the test to run, and the
	// folder the test expects to run in.
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\ncd %s || exit 1\nexec %s -test.run=%s\n", shellQuote(wd), shellQuote(exe), shellQuote(runPattern(t.Name())))
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatalf("ThroughHost: %v", err)
	}
	sum, err := pluginhost.FileSHA256(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("ThroughHost: %v", err)
	}
	host := pluginhost.New(pluginhost.Options{Dir: dir, Logger: logs.logger()})
	t.Cleanup(func() { _ = host.Close() })
	if err := host.Start(context.Background(), []pluginhost.Config{{
		Name: name, Path: name, SHA256: sum, Targets: targets,
		Env: map[string]string{serveEnv: serveID(t, run, name)},
	}}); err != nil {
		t.Fatalf("ThroughHost: %v", err)
	}
	proc, _ := host.Get(name)
	if state, err := proc.Status(); err != nil || state != pluginhost.StateReady {
		t.Fatalf("ThroughHost: the plugin process did not start (%v): %v", state, err)
	}
	return hosted{proc}, func() { _ = host.Close() }
}

// runPattern is the -test.run pattern that selects test name alone.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// testWriter keeps every line of a plugin's log, for the kit to look for
// secrets in, and sends warnings and errors to the test's log until the
// test is over (the testing package panics on a late Log).
type testWriter struct {
	t    *testing.T
	done atomic.Bool
	mu   sync.Mutex
	all  strings.Builder
}

func newTestWriter(t *testing.T) *testWriter {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) }) // runs after the host is closed
	return w
}

// logger is a text logger at every level into w.
func (w *testWriter) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.all.Write(b)
	w.mu.Unlock()
	line := string(b)
	loud := strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")
	if loud && !w.done.Load() {
		w.t.Log(strings.TrimRight(line, "\n"))
	}
	return len(b), nil
}

// lines returns the lines logged so far that hold s.
func (w *testWriter) lines(s string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for l := range strings.Lines(w.all.String()) {
		if strings.Contains(l, s) {
			out = append(out, strings.TrimRight(l, "\n"))
		}
	}
	return out
}

// hosted is a plugin process as the bot holds it.
type hosted struct{ p *pluginhost.Process }

var _ sdk.Completer = hosted{}

func (h hosted) Metadata(context.Context, *sdk.MetadataRequest) (*sdk.Metadata, error) {
	m := h.p.Metadata()
	return &m, nil
}

func (h hosted) Describe(context.Context, *sdk.DescribeRequest) (*sdk.Catalog, error) {
	c := h.p.Declarations()
	c.Commands = h.p.Catalog()
	return &c, nil
}

// Configure is the host's: it configured the targets when it started the
// process, as the bot does.
func (h hosted) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}

func (h hosted) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	return h.p.Plan(ctx, req)
}

func (h hosted) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error) {
	return h.p.Execute(ctx, req)
}

func (h hosted) CheckHealth(ctx context.Context, req *sdk.HealthRequest) (*sdk.Health, error) {
	return h.p.CheckHealth(ctx, req)
}

func (h hosted) Complete(ctx context.Context, req *sdk.CompleteRequest) (*sdk.CompleteResponse, error) {
	return h.p.Complete(ctx, req)
}
