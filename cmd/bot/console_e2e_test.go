package main_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bot console at a terminal: Tab completes through the engine and the
// plugin process, and the lines typed are kept in the data directory for
// the next run, except the one with a secret.
func TestConsoleAtATerminalCompletesAndRemembers(t *testing.T) {
	dir := workDir(t)
	const canary = "canary-t3rminal-5ecret"
	run := func(keys ...string) string {
		cmd := botIn(t, dir, "console", "--as", "alice")
		cmd.Env = append(cmd.Env, "TERM=xterm")
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
		require.NoError(t, err)
		defer f.Close()
		var out syncBuffer
		go func() { _, _ = io.Copy(&out, f) }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		seen := 0
		for i := 0; i < len(keys); i += 2 {
			_, err := io.WriteString(f, keys[i])
			require.NoError(t, err)
			want := keys[i+1]
			waitFor(t, func() bool {
				s := out.String()
				if j := strings.Index(s[seen:], want); j >= 0 {
					seen += j + len(want)
					return true
				}
				return false
			}, "the console never showed "+want+"; it shows:\n"+out.String())
		}
		_, err = io.WriteString(f, "\x04") // Ctrl-D leaves
		require.NoError(t, err)
		require.NoError(t, cmd.Wait())
		return out.String()
	}

	run("", "alice> ",
		"/exa\t", "alice> /example ",
		"gre\t", "alice> /example greet ",
		"c\t", "alice> /example greet carol ",
		"\r", "Hello, carol!",
		"/example secret check value="+canary+"\r", "(target sandbox",
	)
	hist := filepath.Join(dir, "data", "console_history")
	st, err := os.Stat(hist)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	b, err := os.ReadFile(hist)
	require.NoError(t, err)
	assert.Equal(t, "/example greet carol\n", string(b))

	out := run("", "alice> ",
		"\x1b[A", "alice> /example greet carol",
		"\r", "Hello, carol!",
	)
	assert.NotContains(t, out, canary)
}
