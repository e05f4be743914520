// Package testbin builds the bot and plugin binaries for tests that run
// them as real processes. Each test binary builds them once, into a
// temporary directory laid out like make build's bin/.
package testbin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	once sync.Once
	dir  string
	err  error
	mu   sync.Mutex
	done = map[string]bool{}
)

// Main runs the tests and removes the built binaries afterwards. Call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// Root returns the module's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func build(t testing.TB, out, pkg string) string {
	t.Helper()
	once.Do(func() { dir, err = os.MkdirTemp("", "deskbot-bin-") })
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	path := filepath.Join(dir, out)
	if done[out] {
		return path
	}
	cmd := exec.Command("go", "build", "-tags", "grpcnotrace", "-o", path, pkg) // as make build does
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	done[out] = true
	return path
}

// Bot returns the path of a freshly built bot binary.
func Bot(t testing.TB) string { return build(t, "bot", "./cmd/bot") }

// Plugin returns the path of a freshly built plugin binary, in the
// plugin directory PluginDir returns.
func Plugin(t testing.TB, name string) string {
	return build(t, filepath.Join("plugins", name), "./plugins/"+name)
}

// PluginDir returns the directory Plugin builds into.
func PluginDir(t testing.TB) string {
	p := Plugin(t, "example")
	return filepath.Dir(p)
}

// Copy copies a built binary to dst (to make a second, different plugin
// directory or a tampered binary).
func Copy(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(fmt.Errorf("copy %s: %w", src, err))
	}
}

// Program builds a command of the module (a test helper program) and
// returns its path.
func Program(t testing.TB, name, pkg string) string { return build(t, "prog-"+name, pkg) }

// Stop sends SIGSTOP to pid and waits until every thread of the process
// has stopped. The signal is asynchronous: on a busy machine a thread can
// go on running for a while after kill returns, long enough to answer a
// request the test means to leave hanging.
func Stop(t testing.TB, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(Patience)
	for !stopped(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not stop", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// stopped reports whether every thread of pid is stopped (state T or t).
func stopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses
		// and may itself hold spaces or parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			return false
		}
		if st := s[i+2]; st != 'T' && st != 't' {
			return false
		}
	}
	return true
}

// Patience bounds how long a test waits for something that should happen
// soon: a process to start, a message to arrive, a plugin to come back.
// It is generous on purpose; it only turns a hang into a failure, and a
// loaded CI runner must not trip it. Tests wait for the event itself,
// never for a guessed delay.
const Patience = 2 * time.Minute

// CueDeadline returns a context whose deadline passes when cue is called,
// as if the clock had reached it: Done closes and Err reports
// context.DeadlineExceeded. A test lets the deadline pass at the moment it
// means (once the call is under way) instead of after a guessed delay that
// a busy machine may or may not meet. Its Deadline is an hour away, so
// code that derives timeouts from it sees a long one.
func CueDeadline(parent context.Context) (ctx context.Context, cue func()) {
	c := &cuedDeadline{Context: parent, deadline: time.Now().Add(time.Hour), done: make(chan struct{})}
	return c, func() { c.once.Do(func() { close(c.done) }) }
}

type cuedDeadline struct {
	context.Context
	deadline time.Time
	done     chan struct{}
	once     sync.Once
}

func (c *cuedDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *cuedDeadline) Done() <-chan struct{}       { return c.done }

func (c *cuedDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
