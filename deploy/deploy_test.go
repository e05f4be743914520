// Package deploy holds what running the bot in production takes: the
// systemd unit, the Prometheus alert rules, the Slack app manifests. Its
// tests check them with the tools that will read them.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskbot/deskbot/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

const unitPath = "systemd/deskbot.service"

// unitSettings reads the unit's Key=Value lines, in order, by key.
func unitSettings(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not a setting: %q", unitPath, line)
		}
		out[k] = append(out[k], v)
	}
	return out
}

func needTool(t *testing.T, name, requireVar string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requireVar) == "1" {
			t.Fatalf("%s is required (%s=1) but not installed", name, requireVar)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// The unit is what the install layout and the operations guide say: the
// bot from /usr/local/bin with the configuration in /etc/deskbot, secrets
// from a file systemd reads, state in /var/lib/deskbot, and a stop that
// leaves the bot its 15 s to drain before anything is killed.
func TestSystemdUnitRunsTheBotAsDocumented(t *testing.T) {
	s := unitSettings(t)
	want := map[string]string{
		"ExecStart":                "/usr/local/bin/bot serve --config /etc/deskbot/bot.yaml",
		"EnvironmentFile":          "/etc/deskbot/secrets.env",
		"StateDirectory":           "deskbot",
		"ConfigurationDirectory":   "deskbot",
		"WorkingDirectory":         "/var/lib/deskbot",
		"User":                     "deskbot",
		"Restart":                  "on-failure",
		"RestartPreventExitStatus": "78",
		"KillMode":                 "mixed",
		"UMask":                    "0077",
		"CapabilityBoundingSet":    "",
		"NoNewPrivileges":          "yes",
		"ProtectSystem":            "strict",
		"RestrictAddressFamilies":  "AF_INET AF_INET6 AF_UNIX",
	}
	for k, v := range want {
		got, ok := s[k]
		if !ok || got[len(got)-1] != v {
			t.Errorf("%s: %s=%q, want %q", unitPath, k, got, v)
		}
	}
	stop, err := time.ParseDuration(s["TimeoutStopSec"][0])
	if err != nil || stop <= 15*time.Second {
		t.Errorf("TimeoutStopSec=%v: the bot drains for up to 15s and then stops its plugins; give it more", s["TimeoutStopSec"])
	}
	if _, ok := s["ProcSubset"]; ok {
		t.Errorf("ProcSubset hides /proc/stat, which the process metrics read: /metrics would fail")
	}
}

// systemd-analyze verify reads the unit as systemd would: an unknown key,
// a misspelt system call group or a bad value is a warning, not an exit
// status, so any output fails the test. It runs against a root holding the
// host's own units and stand-ins for the programs the unit starts (verify
// checks they are executables), so the file itself is checked unaltered.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "DESKBOT_REQUIRE_SYSTEMD")
	root := t.TempDir()
	var units string
	for _, d := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			units = d
			break
		}
	}
	if units == "" {
		t.Skip("no systemd unit directory on this machine")
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", units, filepath.Join(root, "usr/lib/systemd/system")).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v\n%s", units, err, out)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/systemd/system/deskbot.service"), unit, 0o644); err != nil {
		t.Fatal(err)
	}
	s := unitSettings(t)
	for _, k := range []string{"ExecStart", "ExecReload", "ExecStartPre", "ExecStop"} {
		for _, v := range s[k] {
			prog := strings.TrimLeft(strings.Fields(v)[0], "-@:+!")
			if !filepath.IsAbs(prog) {
				t.Fatalf("%s=%s: systemd wants an absolute path", k, v)
			}
			p := filepath.Join(root, prog)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command(analyze, "verify", "--root="+root, "deskbot.service")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// systemd-analyze security rates how much of the system the service could
// reach (0 is none, 10 is everything). The unit stays in the "OK" band.
func TestSystemdUnitExposureIsLow(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "DESKBOT_REQUIRE_SYSTEMD")
	out, err := exec.Command(analyze, "security", "--offline=yes", unitPath).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for deskbot\.service: ([0-9.]+) (\S+)`).FindSubmatch(out)
	if m == nil {
		if bytes.Contains(out, []byte("--offline")) {
			t.Skipf("this systemd-analyze has no offline security check (systemd 252 or later has it):\n%s", out)
		}
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("exposure: %s %s", m[1], m[2])
	if score > 2.0 {
		t.Errorf("exposure level %s %s, want at most 2.0:\n%s", m[1], m[2], out)
	}
}

// The unit's system call filter and address families must let the bot do
// its work: serve HTTP, start its plugins and talk to them, answer
// /readyz and /metrics, and stop on SIGTERM. The test runs a real bot
// with a plugin under strace, and checks every system call it and the
// plugin made against the filter as systemd expands it, and every socket
// against RestrictAddressFamilies. (A call the filter denies would fail
// with EPERM under systemd, and a plugin could not start.)
func TestSystemdUnitFilterAllowsWhatTheBotDoes(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "DESKBOT_REQUIRE_SYSTEMD")
	strace := needTool(t, "strace", "DESKBOT_REQUIRE_STRACE")
	s := unitSettings(t)

	groups := syscallGroups(t, analyze)
	allowed, denied := map[string]bool{}, map[string]bool{}
	for _, f := range s["SystemCallFilter"] {
		set := allowed
		if strings.HasPrefix(f, "~") {
			set, f = denied, f[1:]
		}
		for _, name := range strings.Fields(f) {
			expand(groups, name, set)
		}
	}
	if len(allowed) == 0 {
		t.Fatal("the unit has no SystemCallFilter allow list")
	}
	expand(groups, "@default", allowed) // systemd always allows these
	families := map[string]bool{}
	for _, f := range strings.Fields(s["RestrictAddressFamilies"][0]) {
		families[f] = true
	}

	// A bot and one plugin laid out as make build does, with the example
	// policy: bot serve with no configuration runs them in sandbox mode.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin", "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	testbin.Copy(t, testbin.Bot(t), filepath.Join(dir, "bin", "bot"))
	testbin.Copy(t, testbin.Plugin(t, "example"), filepath.Join(dir, "bin", "plugins", "example"))
	if err := os.MkdirAll(filepath.Join(dir, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	policy, err := os.ReadFile(filepath.Join(testbin.Root(), "examples", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "examples", "policy.yaml"), policy, 0o644); err != nil {
		t.Fatal(err)
	}

	trace := filepath.Join(dir, "trace")
	ctx, cancel := context.WithTimeout(context.Background(), 2*testbin.Patience)
	defer cancel()
	args := []string{"-f", "-qq", "-o", trace}
	if os.Geteuid() == 0 {
		// The unit runs the bot as an unprivileged user, and
		// code does take other paths as root (SQLite chowns its journal
		// to the database's owner): trace it as nobody.
		args = append(args, "-u", asNobody(t, dir))
	}
	args = append(args, "--", filepath.Join(dir, "bin", "bot"), "serve", "--playground", "--addr", "127.0.0.1:0")
	cmd := exec.CommandContext(ctx, strace, args...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`open http://(\S+?)/`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-ctx.Done():
		t.Fatalf("the bot did not start:\n%s", stderr.String())
	}
	// Ready means the plugin was started, handshaken and described.
	for {
		if code, _ := get(ctx, base+"/readyz"); code == http.StatusOK {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the bot never became ready:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get(ctx, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "process_start_time_seconds") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}

	// SIGTERM to the bot itself (strace's first traced process), as
	// KillMode=mixed does; it stops its plugin and exits.
	pid := firstPID(t, trace)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the bot did not stop cleanly on SIGTERM: %v\n%s", err, stderr.String())
	}

	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	callRe := regexp.MustCompile(`^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)\(`)
	sockRe := regexp.MustCompile(`\bsocket(?:pair)?\((AF_[A-Z0-9]+)`)
	used, badFamilies := map[string]int{}, map[string]int{}
	execs := 0
	for _, line := range strings.Split(string(b), "\n") {
		if m := callRe.FindStringSubmatch(line); m != nil {
			used[m[1]]++
			if m[1] == "execve" && strings.Contains(line, "plugins/example") {
				execs++
			}
		}
		if m := sockRe.FindStringSubmatch(line); m != nil && !families[m[1]] {
			badFamilies[m[1]]++
		}
		if regexp.MustCompile(`\b(mmap|mprotect|pkey_mprotect)\(.*PROT_EXEC`).MatchString(line) {
			t.Errorf("MemoryDenyWriteExecute: %s", line)
		}
	}
	if execs == 0 {
		t.Fatal("the trace shows no plugin started: the test checked nothing")
	}
	var refused []string
	for name := range used {
		// strace names a number it cannot map syscall_0x...; one with the
		// sign bit set (seen as syscall_0xffffffffffffffe0 on a loaded
		// machine) is not a call any process can make, only strace
		// catching a thread between states. Real numbers are still checked.
		if n, ok := strings.CutPrefix(name, "syscall_0x"); ok && len(n) == 16 && n[0] >= '8' {
			t.Logf("ignored %s: not a system call number (%d times)", name, used[name])
			continue
		}
		if !allowed[name] || denied[name] {
			refused = append(refused, name)
		}
	}
	sort.Strings(refused)
	if len(refused) > 0 {
		t.Errorf("the unit's SystemCallFilter would refuse system calls the bot or its plugin made: %v", refused)
	}
	for f := range badFamilies {
		t.Errorf("the bot opened an %s socket, which RestrictAddressFamilies refuses", f)
	}
	t.Logf("%d distinct system calls checked against the unit's filter", len(used))
}

// asNobody lets the user nobody run the bot in dir and write its data
// there, and returns the name for strace -u.
func asNobody(t *testing.T, dir string) string {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("running as root and there is no user nobody to run the bot as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// t.TempDir's parent is private to root: open the way down to dir.
	for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func get(ctx context.Context, url string) (int, string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func firstPID(t *testing.T, trace string) int {
	t.Helper()
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		if pid, err := strconv.Atoi(strings.Fields(sc.Text())[0]); err == nil {
			return pid
		}
	}
	t.Fatalf("no process in %s", trace)
	return 0
}

// syscallGroups is systemd-analyze syscall-filter's listing: each @group
// with its members (system calls and other groups).
func syscallGroups(t *testing.T, analyze string) map[string][]string {
	t.Helper()
	out, err := exec.Command(analyze, "syscall-filter", "--no-pager").Output()
	if err != nil {
		t.Fatalf("systemd-analyze syscall-filter: %v", err)
	}
	groups := map[string][]string{}
	var cur string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "@"):
			cur = strings.TrimSpace(line)
		case strings.HasPrefix(line, "    ") && cur != "":
			f := strings.TrimSpace(line)
			if f != "" && f[0] != '#' {
				groups[cur] = append(groups[cur], f)
			}
		case strings.TrimSpace(line) == "":
		default:
			cur = ""
		}
	}
	if len(groups["@system-service"]) == 0 {
		t.Fatalf("could not read the system call groups:\n%s", out)
	}
	return groups
}

func expand(groups map[string][]string, name string, into map[string]bool) {
	if !strings.HasPrefix(name, "@") {
		into[name] = true
		return
	}
	members, ok := groups[name]
	if !ok {
		panic(fmt.Sprintf("unknown system call group %s", name))
	}
	for _, m := range members {
		expand(groups, m, into)
	}
}
