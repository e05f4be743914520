package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

func TestHistoryKeepsTheNewestLinesPrivately(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console_history")
	h, err := openHistory(path, 3)
	require.NoError(t, err)
	for _, l := range []string{"/a", "/b", "/b", "/c", "/d"} {
		_, err := h.add(l)
		require.NoError(t, err)
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "/b\n/c\n/d\n", string(b), "at most 3 lines, the newest, a repeat kept once")
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// A longer file, readable by others (written by hand, or by an older
	// limit), is cut to the limit and made private when it is opened.
	var long strings.Builder
	for i := range 10 {
		fmt.Fprintf(&long, "/line %d\n", i)
	}
	require.NoError(t, os.WriteFile(path, []byte(long.String()), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	h, err = openHistory(path, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"/line 7", "/line 8", "/line 9"}, h.lines)
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "/line 7\n/line 8\n/line 9\n", string(b))
	st, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// fakeCompleter answers from a fixed table and remembers who asked.
type fakeCompleter struct {
	users []string
	comp  engine.Completion
}

func (f *fakeCompleter) Complete(_ context.Context, user, _, line string, cursor int) (engine.Completion, error) {
	f.users = append(f.users, user)
	return f.comp, nil
}

func TestTabAsksForTheCurrentUserAndQuotesWhatNeedsIt(t *testing.T) {
	f := &fakeCompleter{}
	c := &Console{Completer: f, User: "U1"}
	complete := c.wordCompleter(context.Background())

	line := "/whm account suspend ré reason=x"
	cursor := strings.Index(line, "ré") + len("ré")
	f.comp = engine.Completion{From: cursor - len("ré"), To: cursor, Suggestions: []sdk.Suggestion{{Value: "réseau"}, {Value: "ré d'été"}}}
	// The line editor counts the cursor in runes.
	head, words, tail := complete(line, len([]rune(line[:cursor])))
	assert.Equal(t, "/whm account suspend ", head)
	assert.Equal(t, []string{"réseau", `"ré d'été"`}, words, "a finished word before more text takes no space; one with spaces is quoted")
	assert.Equal(t, " reason=x", tail)

	c.User = "U2" // after :as
	f.comp = engine.Completion{From: 10, To: 12, Suggestions: []sdk.Suggestion{{Value: "reason="}, {Value: `note=say "hi"`}}}
	head, words, tail = complete("/ops deny re", 12)
	assert.Equal(t, "/ops deny ", head)
	assert.Equal(t, []string{"reason=", `note="say \"hi\"" `}, words, "a parameter name waits for its value")
	assert.Equal(t, "", tail)
	assert.Equal(t, []string{"U1", "U2"}, f.users)
}
