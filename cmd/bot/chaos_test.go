package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
	whmsim "github.com/deskbot/deskbot/plugins/whm/sim"
)

// consoleProc is a bot console driven line by line.
type consoleProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *syncBuffer
	seen  int
}

func startConsole(t *testing.T, dir string, env []string, args ...string) *consoleProc {
	t.Helper()
	cmd := botIn(t, dir, append([]string{"console"}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	c := &consoleProc{t: t, cmd: cmd, stdin: stdin, out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("console output:\n%s", c.out.String())
		}
	})
	return c
}

func (c *consoleProc) send(lines ...string) {
	c.t.Helper()
	for _, l := range lines {
		_, err := io.WriteString(c.stdin, l+"\n")
		require.NoError(c.t, err)
	}
}

// expect waits for output matching re after what was already matched.
func (c *consoleProc) expect(re string) []string {
	c.t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	waitFor(c.t, func() bool {
		s := c.out.String()
		if loc := rx.FindStringSubmatchIndex(s[c.seen:]); loc != nil {
			m = rx.FindStringSubmatch(s[c.seen:])
			c.seen += loc[1]
			return true
		}
		return false
	}, "console output matching "+re)
	return m
}

// reply waits for the next answer (up to its "(request …)" line) and
// returns it.
func (c *consoleProc) reply() string {
	c.t.Helper()
	start := c.seen
	c.expect(`request [a-z0-9]+\)`)
	return c.out.String()[start:c.seen]
}

// plugin returns the pid of a plugin process of the console.
func (c *consoleProc) plugin(name string) int {
	c.t.Helper()
	var pid int
	waitFor(c.t, func() bool {
		for _, p := range childPIDs(c.cmd.Process.Pid) {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
			if strings.TrimSpace(string(comm)) == name {
				pid = p
				return true
			}
		}
		return false
	}, "plugin "+name+" running")
	return pid
}

// exampleSandbox is the example plugin with one sandbox target.
func exampleSandbox(callTimeout string) installed {
	return installed{Name: "example", CallTimeout: callTimeout, Targets: []target{{Name: "sandbox", Sandbox: true, StateDir: "data/sandbox"}}}
}

// A plugin killed in the middle of a call: the user gets a clear answer,
// the plugin comes back, the next command works.
func TestChaosPluginKilledMidCall(t *testing.T) {
	testbin.Plugin(t, "example")
	c := startConsole(t, workDir(t), nil, "--as", "alice")
	pid := c.plugin("example")
	c.send("/example slow seconds=600")
	c.expect(`waiting 10m0s`) // the plugin's progress: the call is under way
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	c.expect(`(?i)example.*(exited|unavailable|restart|stopped)`)
	c.send("/example echo text=after-the-crash")
	c.expect(`after-the-crash`)
	assert.NotEqual(t, pid, c.plugin("example"), "a new process serves")
}

// A hung plugin (SIGSTOP): the call's deadline answers, and once the
// plugin runs again the bot serves as before.
func TestChaosHungPluginAnswersAtTheDeadline(t *testing.T) {
	dir := workDir(t)
	cfg := config{Plugins: []installed{exampleSandbox("5s")}}.write(t, dir)
	c := startConsole(t, dir, nil, "--config", cfg, "--as", "alice")
	pid := c.plugin("example")
	c.send("/example echo text=warm-up")
	c.expect(`warm-up`)
	testbin.Stop(t, pid)
	// The stopped plugin can never answer: only the deadline can.
	c.send("/example echo text=while-hung")
	c.expect(`(?i)(deadline|timed out|did not answer|timeout)`)
	require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
	c.send("/example echo text=serving-again")
	c.expect(`serving-again`)
}

// The bot killed with 100 approvals pending: every one survives, can be
// approved, and runs once.
func TestChaosBotKilledWithPendingApprovals(t *testing.T) {
	testbin.Plugin(t, "example")
	dir := workDir(t)
	c := startConsole(t, dir, nil, "--as", "alice")
	for i := 0; i < 100; i++ {
		c.send("/example counter add 1")
	}
	for i := 0; i < 100; i++ {
		c.expect(`Approval (A[A-Z0-9]+) is pending`)
	}
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	_ = c.cmd.Wait()

	list := runBot(t, botIn(t, dir, "exec", "--json", "--as", "carol", "/ops approvals"))
	require.Equal(t, 0, list.code, list.stderr)
	ids := regexp.MustCompile(`"(A[A-Z0-9]{7})"`).FindAllStringSubmatch(list.stdout, -1)
	uniq := map[string]bool{}
	for _, m := range ids {
		uniq[m[1]] = true
	}
	assert.Len(t, uniq, 100, "all 100 survived the kill")
	var one string
	for id := range uniq {
		one = id
		break
	}
	r := runBot(t, botIn(t, dir, "exec", "--as", "carol", "/ops approve "+one))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = runBot(t, botIn(t, dir, "exec", "--as", "dan", "/ops approve "+one))
	assert.NotEqual(t, 0, r.code, "it ran once")
	assert.Equal(t, "1", counterIn(t, dir))
}

// privatePostgres runs a PostgreSQL server of its own for the test, so
// it can be stopped and started without touching the shared one.
type privatePostgres struct {
	dir, bin string
	port     int
	ctl      func(action string)
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("DESKBOT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PostgreSQL server binaries not found")
		}
		t.Skip("PostgreSQL server binaries not found")
	}
	pg := &privatePostgres{bin: filepath.Dir(bins[0])}
	pg.dir = filepath.Join(os.TempDir(), fmt.Sprintf("deskbot-pg-%d", time.Now().UnixNano()))
	require.NoError(t, os.MkdirAll(pg.dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(pg.dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pg.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	asPostgres := func(args ...string) *exec.Cmd {
		if os.Getuid() == 0 {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		return exec.Command(args[0], args[1:]...)
	}
	if os.Getuid() == 0 {
		require.NoError(t, exec.Command("chown", "postgres", pg.dir).Run())
	}
	out, err := asPostgres(filepath.Join(pg.bin, "initdb"), "-D", filepath.Join(pg.dir, "data"), "-A", "trust", "-U", "postgres").CombinedOutput()
	require.NoError(t, err, string(out))
	pg.ctl = func(action string) {
		t.Helper()
		args := []string{filepath.Join(pg.bin, "pg_ctl"), "-D", filepath.Join(pg.dir, "data"), "-w", "-m", "fast", action}
		if action == "start" {
			args = append(args, "-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", pg.port, pg.dir), "-l", filepath.Join(pg.dir, "log"))
		}
		out, err := asPostgres(args...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	pg.ctl("start")
	t.Cleanup(func() { pg.ctl("stop") })
	return pg
}

// The store's database restarts while a request waits for approval:
// approving while it is down fails clearly and runs nothing; once it is
// back, the approval goes through and the command runs once.
func TestChaosPostgresRestartsDuringAnApproval(t *testing.T) {
	pg := startPrivatePostgres(t)
	dir := workDir(t)
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
	cfg := config{Plugins: []installed{exampleSandbox("")},
		Top: map[string]any{"store": map[string]any{"driver": "postgres", "dsn": env("CHAOS_DSN")}, "approval_key": env("CHAOS_KEY"), "audit_key": env("CHAOS_AUDIT_KEY")}}.write(t, dir)
	env := []string{"CHAOS_DSN=" + dsn, "CHAOS_KEY=chaos-approval-key-0123456789abcdef", "CHAOS_AUDIT_KEY=chaos-audit-key-0123456789abcdef"}
	exec1 := func(as, line string) (execAnswer, result) {
		t.Helper()
		cmd := botIn(t, dir, "exec", "--json", "--config", cfg, "--as", as, line)
		cmd.Env = append(cmd.Env, env...)
		r := runBot(t, cmd)
		var a execAnswer
		_ = json.Unmarshal([]byte(r.stdout), &a)
		return a, r
	}
	a, r := exec1("alice", "/example counter add 7")
	require.Equal(t, 4, r.code, "%s %s", r.stdout, r.stderr)
	id := a.Approval.ID

	pg.ctl("stop")
	_, r = exec1("carol", "/ops approve "+id)
	assert.NotEqual(t, 0, r.code, "the store is down")
	assert.Regexp(t, `(?i)(connect|refused|store|database)`, r.stdout+r.stderr, "the answer says what is wrong")

	pg.ctl("start")
	a, r = exec1("carol", "/ops approve "+id)
	require.Equal(t, 0, r.code, "%s %s", r.stdout, r.stderr)
	assert.Equal(t, "succeeded", a.Approval.State)
	_, r = exec1("dan", "/ops approve "+id)
	assert.NotEqual(t, 0, r.code, "it ran once")
	a, r = exec1("alice", "/example counter show")
	require.Equal(t, 0, r.code)
	assert.Equal(t, "7", a.Result.Parts[0].KeyValues[0].Value)
}

// faultProxy sits between the WHM plugin and its simulator and misbehaves
// on demand.
type faultProxy struct {
	mode  atomic.Value // "", "500", "503", "hang", "garbage", "truncated"; "500:fn" only for fn
	mu    sync.Mutex
	count map[string]int // function → requests that reached the proxy
}

func (f *faultProxy) handler(target string) http.Handler {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn := strings.TrimPrefix(r.URL.Path, "/json-api/")
		f.mu.Lock()
		f.count[fn]++
		f.mu.Unlock()
		mode := f.mode.Load().(string)
		if m, only, ok := strings.Cut(mode, ":"); ok {
			mode = ""
			if only == fn {
				mode = m
			}
		}
		switch mode {
		case "500":
			http.Error(w, "internal error", http.StatusInternalServerError)
		case "503":
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		case "hang":
			// Never answers: only the client's timeout ends the call.
			<-r.Context().Done()
		case "garbage":
			_, _ = io.WriteString(w, "<html><body>Service temporarily unavailable</body></html>")
		case "truncated":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{"acct":[{"user":"demo1","dom`)
		default:
			rp.ServeHTTP(w, r)
		}
	})
}

func (f *faultProxy) requests(fn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[fn]
}

// A provider that fails, hangs or answers garbage: each command gets a
// clear answer, a change is never sent twice, and the bot keeps serving.
func TestChaosMisbehavingProvider(t *testing.T) {
	const token = "chaos-whm-token-1234567890"
	s, err := whmsim.New(whmsim.Options{Token: token})
	require.NoError(t, err)
	fp := &faultProxy{count: map[string]int{}}
	fp.mode.Store("")
	proxy := &http.Server{Handler: fp.handler(serve(t, s)), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = proxy.Serve(ln) }()
	defer proxy.Close()
	host, port, _ := net.SplitHostPort(ln.Addr().String())

	dir := workDir(t)
	cfg := config{Plugins: []installed{{Name: "whm", CallTimeout: "2m", Targets: []target{{Name: "web01",
		Settings: map[string]string{"host": host, "port": port, "scheme": "http", "timeout": "2s"}, Secrets: map[string]string{"token": "WHM_TOKEN"}}}}}}.write(t, dir)
	c := startConsole(t, dir, []string{"WHM_TOKEN=" + token}, "--config", cfg, "--as", "bob")

	fp.mode.Store("503")
	c.send("/whm account list")
	out := c.reply()
	assert.Contains(t, out, "HTTP 503")
	assert.Equal(t, 3, fp.requests("listaccts"), "a read is tried three times")

	fp.mode.Store("500:suspendacct")
	c.send("/whm account suspend demo1 reason=chaos")
	out = c.reply()
	assert.Contains(t, out, "HTTP 500")
	assert.Equal(t, 1, fp.requests("suspendacct"), "a change is sent once, never retried")

	fp.mode.Store("garbage")
	c.send("/whm server load")
	assert.Regexp(t, `(?i)the answer is not JSON`, c.reply())

	fp.mode.Store("truncated")
	c.send("/whm account list")
	assert.Regexp(t, `(?i)(not JSON|unexpected end|not as documented)`, c.reply())

	fp.mode.Store("hang")
	c.send("/whm server load")
	assert.Regexp(t, `(?i)(did not answer in time|deadline|timeout)`, c.reply())

	fp.mode.Store("")
	c.send("/whm account list")
	assert.Regexp(t, `demo1 +demo1\.example`, c.reply(), "it keeps serving")
	a, _ := s.Account("demo1")
	assert.False(t, a.Suspended, "the refused suspension did not happen behind the user's back")
}
