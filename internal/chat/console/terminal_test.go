package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/chat/console"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

// The console at a terminal is tested as a person meets it: this test
// binary runs itself as a console on a pseudo-terminal, and the test types
// keys into it and reads the screen.
const helperEnv = "DESKBOT_CONSOLE_TEST_HELPER"

// testPolicy lets alice run every example command and mallory only echo.
const testPolicy = `version: 1
users:
  alice: U0ALICE01
  mallory: U0MALLORY
  lead: U0LEAD001
  lead2: U0LEAD002
roles:
  support:
    grants:
      - commands: ["example:*"]
  echoer:
    grants:
      - commands: ["example:echo"]
  lead:
    approve:
      - commands: ["*:*"]
bindings:
  - subjects: [lead, lead2]
    roles: [lead]
  - subjects: [alice]
    roles: [support]
  - subjects: [mallory]
    roles: [echoer]
`

// canary is a secret typed on a line; it must never reach the history.
const canary = "canary-5ecret-v4lue"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper())
	}
	os.Exit(m.Run())
}

// runHelper is the console process the terminal tests drive: the real
// engine over the example plugin, in this process, under testPolicy.
func runHelper() int {
	ctx := context.Background()
	dir := os.Getenv("CONSOLE_DIR")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	holder, err := authz.NewHolder(filepath.Join(dir, "policy.yaml"), log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	local, err := pluginhost.NewLocal(ctx, provider.New(), pluginhost.Config{Name: "example",
		Targets: []sdk.Target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(dir, "state")}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	reg := engine.StaticRegistry{"example": local}
	e := engine.New(engine.Options{Plugins: reg, Policy: holder, Logger: log})
	name := os.Getenv("CONSOLE_AS")
	id, _ := holder.Policy().UserID(name)
	c := &console.Console{Engine: e, In: os.Stdin, Out: os.Stdout, User: id, Name: name,
		Interrupts: console.InterruptChannel(), Completer: e,
		HistoryFile: filepath.Join(dir, "console_history"),
		Secret:      console.SecretLines{Providers: reg, Redactor: e.Redactor()}.Holds}
	if err := c.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// screen is a console on a pseudo-terminal.
type screen struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	out  testbin.Buffer
	seen int
	done chan struct{}
}

func startScreen(t *testing.T, dir, user string) *screen {
	t.Helper()
	return startScreenSized(t, dir, user, &pty.Winsize{Rows: 40, Cols: 200})
}

// startScreenSized starts the console on a terminal of the given size
// (zero: a terminal that reports none).
func startScreenSized(t *testing.T, dir, user string, size *pty.Winsize) *screen {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "CONSOLE_DIR="+dir, "CONSOLE_AS="+user, "TERM=xterm")
	f, err := pty.StartWithSize(cmd, size)
	require.NoError(t, err)
	s := &screen{t: t, pty: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_, _ = io.Copy(&s.out, f) // ends with EIO when the console exits
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.Close()
		if t.Failed() {
			t.Logf("screen:\n%q", s.out.String())
		}
	})
	s.expect(regexp.QuoteMeta(user + "> "))
	return s
}

// typ types keys as a person would.
func (s *screen) typ(keys string) {
	s.t.Helper()
	_, err := io.WriteString(s.pty, keys)
	require.NoError(s.t, err)
}

// expect waits until the screen shows re after what was matched before,
// and returns the text up to the end of the match.
func (s *screen) expect(re string) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(testbin.Patience)
	for {
		all := s.out.String()
		if loc := rx.FindStringIndex(all[s.seen:]); loc != nil {
			got := all[s.seen : s.seen+loc[1]]
			s.seen += loc[1]
			return got
		}
		exited := false
		select {
		case <-s.done:
			exited = s.out.String() == all
		default:
		}
		if exited || time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q; after the last match it shows:\n%q", re, all[s.seen:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exit waits for the console to leave and returns its exit code.
func (s *screen) exit() int {
	s.t.Helper()
	err := s.cmd.Wait()
	<-s.done
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	require.NoError(s.t, err)
	return 0
}

func consoleDir(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(testPolicy), 0o600))
	return dir
}

func TestTerminalTabCompletesAndHistorySurvivesARestart(t *testing.T) {
	dir := consoleDir(t)
	s := startScreen(t, dir, "alice")

	// Tab completes the provider, the command word and a value the
	// plugin suggests.
	s.typ("/exa\t")
	s.expect(regexp.QuoteMeta("alice> /example "))
	s.typ("gre\t")
	s.expect(regexp.QuoteMeta("alice> /example greet "))
	s.typ("al\t")
	s.expect(regexp.QuoteMeta("alice> /example greet alice "))
	s.typ("\r")
	s.expect("Hello, alice!")

	// A secret typed on the line runs, and is kept nowhere.
	s.typ("/example secret check value=" + canary + "\r")
	s.expect(`request [a-z0-9]+\)`)
	s.typ("/example echo first-run\r")
	s.expect(`first-run\r?\n`)
	s.typ("\x04") // Ctrl-D at an empty prompt leaves
	require.Equal(t, 0, s.exit())

	hist := filepath.Join(dir, "console_history")
	st, err := os.Stat(hist)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	b, err := os.ReadFile(hist)
	require.NoError(t, err)
	assert.Equal(t, "/example greet alice\n/example echo first-run\n", string(b))

	// A new console over the same data: Up recalls the last line of the
	// run before, Up again the one before it, and the secret's line is
	// not there to recall.
	s = startScreen(t, dir, "alice")
	s.typ("\x1b[A")
	s.expect(regexp.QuoteMeta("alice> /example echo first-run"))
	s.typ("\x1b[A")
	s.expect(regexp.QuoteMeta("alice> /example greet alice"))
	s.typ("\x1b[A\x1b[A\r") // nothing older: still the greeting
	s.expect("Hello, alice!")
	s.typ("\x04")
	require.Equal(t, 0, s.exit())
	assert.NotContains(t, s.out.String(), canary)
}

func TestTerminalCtrlC(t *testing.T) {
	s := startScreen(t, consoleDir(t), "alice")

	// Ctrl-C during a command cancels it, and the console goes on.
	s.typ("/example slow seconds=600\r")
	s.expect("waiting 10m0s")
	s.typ("\x03")
	s.expect(regexp.QuoteMeta("... cancelling"))
	s.expect(regexp.QuoteMeta("alice> "))
	s.typ("/example echo still-here\r")
	s.expect(`still-here\r?\n`)

	// Ctrl-C with text on the line clears it.
	s.typ("/example echo never-run\x03")
	s.expect(regexp.QuoteMeta("^C"))
	s.typ("/example echo after-clear\r")
	s.expect(`after-clear\r?\n`)

	// Ctrl-C at an empty prompt says how to leave; a second one leaves.
	s.typ("\x03")
	s.expect(regexp.QuoteMeta("press Ctrl-C again"))
	s.typ("\x03")
	require.Equal(t, 0, s.exit())
	assert.NotContains(t, s.out.String(), "never-run\r\n")
}

func TestTerminalOffersOnlyWhatTheUserMayRun(t *testing.T) {
	s := startScreen(t, consoleDir(t), "mallory")

	// Of the example's commands, mallory may run echo alone: it is the
	// one Tab offers.
	s.typ("/example \t")
	s.expect(regexp.QuoteMeta("mallory> /example echo "))
	// Greet is not hers: no names are offered for it.
	s.typ("\x15/example greet al\t\r") // Ctrl-U clears the line first
	got := s.expect(`denied: .*`)
	assert.NotContains(t, got, "alice")
	assert.NotContains(t, s.out.String(), "greet alice")
	s.typ("\x04")
	require.Equal(t, 0, s.exit())
}

func TestPipedInputIsReadAsBeforeAndKeptNowhere(t *testing.T) {
	dir := consoleDir(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	local, err := pluginhost.NewLocal(ctx, provider.New(), pluginhost.Config{Name: "example",
		Targets: []sdk.Target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(dir, "state")}}})
	require.NoError(t, err)
	e := engine.New(engine.Options{Plugins: engine.StaticRegistry{"example": local}, Logger: log})
	var out strings.Builder
	c := &console.Console{Engine: e, In: strings.NewReader("/example echo piped\n\n:quit\n"), Out: &out, User: "U1", Name: "u",
		Completer: e, HistoryFile: filepath.Join(dir, "console_history")}
	require.NoError(t, c.Run(ctx))
	assert.Contains(t, out.String(), "== /example echo text=piped ==\npiped\n")
	assert.NotContains(t, out.String(), "\x1b", "no escape codes when the input is not a terminal")
	assert.NotContains(t, out.String(), "Tab completes")
	assert.NoFileExists(t, filepath.Join(dir, "console_history"))
}

// On a terminal the line editor cannot drive (it reports no size, as
// under script(1) without a parent terminal), the console reads plain
// lines and says nothing of Tab or Up; an escape sequence typed there
// (Up, as ^[[A) is never kept in the history.
func TestATerminalWithoutASizeReadsPlainLines(t *testing.T) {
	dir := consoleDir(t)
	s := startScreenSized(t, dir, "alice", &pty.Winsize{})
	banner := s.out.String()
	assert.NotContains(t, banner, "Tab completes", "no promise of what the line editor does")
	s.typ("\x1b[A\r")
	s.expect(regexp.QuoteMeta("alice> "))
	s.typ("/example echo text=plain-line\r")
	s.expect("plain-line")
	s.expect(regexp.QuoteMeta("alice> "))
	s.typ(":quit\r")
	assert.Equal(t, 0, s.exit())
	_, err := os.Stat(filepath.Join(dir, "console_history"))
	assert.ErrorIs(t, err, os.ErrNotExist, "plain lines are kept nowhere, as from a pipe")
}
