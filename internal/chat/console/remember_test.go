package console

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recallRecorder struct{ lines []string }

func (r *recallRecorder) ReadLine(string) (string, error) { return "", nil }
func (r *recallRecorder) Remember(line string)            { r.lines = append(r.lines, line) }
func (r *recallRecorder) Close() error                    { return nil }

// A line holding a control character (an escape sequence pasted or typed
// where no editor reads it, ^[[A for Up) is kept neither for Up nor in
// the history file.
func TestLinesWithControlCharactersAreNotRemembered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console_history")
	hist, err := openHistory(path, 10)
	require.NoError(t, err)
	var out bytes.Buffer
	c := &Console{Out: &out}
	r := &recallRecorder{}
	c.remember(r, hist, "/example echo text=kept")
	c.remember(r, hist, "\x1b[A/example echo text=up")
	c.remember(r, hist, "/example echo text=a\tb")
	assert.Equal(t, []string{"/example echo text=kept"}, r.lines)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "/example echo text=kept\n", string(b))
}
