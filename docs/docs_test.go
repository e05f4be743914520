// Package docs holds the project's documentation; its test keeps the code
// the guides quote true to the code itself.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every Go block in a guide is quoted from a file of the repository, named
// in the comment before it (<!-- code: PATH -->), and must still stand in
// that file, line for line: a guide cannot drift from the code it teaches.
func TestGuideSnippetsAreQuotedFromTheCode(t *testing.T) {
	for _, guide := range []string{"plugin-authors.md"} {
		b, err := os.ReadFile(guide)
		if err != nil {
			t.Fatal(err)
		}
		blocks := regexp.MustCompile("(?s)(<!-- code: (\\S+) -->\\n)?```go\\n(.*?)```").FindAllStringSubmatch(string(b), -1)
		if len(blocks) == 0 {
			t.Fatalf("%s quotes no code", guide)
		}
		for _, m := range blocks {
			path, code := m[2], m[3]
			if path == "" {
				t.Errorf("%s: a Go block names no file it is quoted from:\n%s", guide, code)
				continue
			}
			src, err := os.ReadFile(filepath.Join("..", path))
			if err != nil {
				t.Errorf("%s quotes %s: %v", guide, path, err)
				continue
			}
			if !strings.Contains(normalize(string(src)), normalize(code)) {
				t.Errorf("%s quotes %s, which no longer holds:\n%s", guide, path, code)
			}
		}
	}
}

// normalize drops trailing spaces, so that an editor's whitespace does
// not matter.
func normalize(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}
