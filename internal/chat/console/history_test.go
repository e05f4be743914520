package console

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
