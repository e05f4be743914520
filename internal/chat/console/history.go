package console

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultHistoryLimit is how many lines the history file keeps when
// Console.HistoryLimit is zero.
const DefaultHistoryLimit = 1000

// history is the lines typed at the console, kept in a file across runs:
// readable by its owner only, at most limit lines, the newest last.
type history struct {
	path  string
	limit int
	lines []string
	// broken is set by the first write that fails: the lines are then
	// kept for this run only, and the user is told once, not per line.
	broken bool
}

// openHistory reads the history file, creating nothing yet. A file longer
// than limit is cut to its newest lines, and one others may read is made
// private: it may hold the names of accounts and servers. Anything but a
// regular file at path (a symlink, planted or not, would have the console
// chmod and append to whatever it points at) is left alone: the history
// is then kept for this run only, and the error says why.
func openHistory(path string, limit int) (*history, error) {
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	h := &history{path: path, limit: limit}
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err == nil && !st.Mode().IsRegular() {
		h.broken = true
		return h, fmt.Errorf("console history: %s is not a regular file (%s), so it is left alone and lines are kept for this run only", path, fileKind(st.Mode()))
	}
	if err != nil {
		h.broken = true
		return h, fmt.Errorf("console history: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		h.broken = true
		return h, fmt.Errorf("console history: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		// Through the open file: the path may have changed since.
		if err := f.Chmod(0o600); err != nil {
			return h, fmt.Errorf("console history: %w", err)
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			h.lines = append(h.lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return h, fmt.Errorf("console history: %w", err)
	}
	if len(h.lines) > limit {
		h.lines = h.lines[len(h.lines)-limit:]
		return h, h.rewrite()
	}
	return h, nil
}

// add keeps line, unless it repeats the line before it. It reports
// whether the line was kept.
func (h *history) add(line string) (bool, error) {
	if n := len(h.lines); n > 0 && h.lines[n-1] == line {
		return false, nil
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > h.limit {
		h.lines = h.lines[len(h.lines)-h.limit:]
	}
	if h.broken {
		return true, nil
	}
	err := h.write(line)
	h.broken = err != nil
	return true, err
}

// write appends line to the file, or rewrites the file once the limit
// is reached.
func (h *history) write(line string) error {
	if len(h.lines) == h.limit {
		return h.rewrite()
	}
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY|noFollow, 0o600)
	if err != nil {
		return fmt.Errorf("console history: %w", err)
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("console history: %w", err)
	}
	return nil
}

// rewrite replaces the file with the lines kept, all at once: a console
// stopped half way leaves the old file or the new one, never a mix.
func (h *history) rewrite() error {
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".console_history-*") // mode 0600
	if err != nil {
		return fmt.Errorf("console history: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	for _, l := range h.lines {
		w.WriteString(l + "\n")
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), h.path)
	}
	if err != nil {
		return fmt.Errorf("console history: %w", err)
	}
	return nil
}

// fileKind names what a non-regular file is, for a warning.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}
