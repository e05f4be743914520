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

func TestAHistoryPathThatIsNotAFileIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	require.NoError(t, os.WriteFile(target, []byte("someone else's file\n"), 0o644))
	require.NoError(t, os.Chmod(target, 0o644))
	path := filepath.Join(dir, "console_history")
	require.NoError(t, os.Symlink(target, path))

	h, err := openHistory(path, 10)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a regular file (a symbolic link)")
	assert.Empty(t, h.lines, "nothing is read through the link")
	kept, err := h.add("/example greet alice")
	assert.True(t, kept, "Up still recalls the line in this run")
	assert.NoError(t, err, "the user was told once, at opening")

	b, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "someone else's file\n", string(b), "nothing is appended through the link")
	st, err := os.Stat(target)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "the link's target keeps its mode")
	lst, err := os.Lstat(path)
	require.NoError(t, err)
	assert.NotZero(t, lst.Mode()&os.ModeSymlink, "the link is left in place")

	// A directory there is refused the same way.
	dirPath := filepath.Join(dir, "adir")
	require.NoError(t, os.Mkdir(dirPath, 0o700))
	_, err = openHistory(dirPath, 10)
	assert.ErrorContains(t, err, "is not a regular file (a directory)")
}

func TestALinkPlantedAfterOpeningIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "console_history")
	h, err := openHistory(path, 10)
	require.NoError(t, err)
	target := filepath.Join(dir, "elsewhere")
	require.NoError(t, os.WriteFile(target, nil, 0o644))
	require.NoError(t, os.Symlink(target, path))
	_, err = h.add("/example greet alice")
	assert.Error(t, err)
	b, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Empty(t, b)
}
