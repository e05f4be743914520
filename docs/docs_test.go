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

// Every bot command the operations guide tells people to run is one the
// bot has: its first word a command of cmd/bot's usage text, and its
// second, for a command with subcommands (bot audit verify), one of those.
func TestOperationsGuideCommandsExist(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "cmd", "bot", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)const usage = `(.*?)`").FindSubmatch(src)
	if m == nil {
		t.Fatal("cmd/bot/main.go has no usage text")
	}
	commands := map[string]map[string]bool{}
	for _, line := range strings.Split(string(m[1]), "\n") {
		w := regexp.MustCompile(`^  ([a-z]+)(?: ([a-z]+))?\b`).FindStringSubmatch(line)
		if w == nil {
			continue
		}
		if commands[w[1]] == nil {
			commands[w[1]] = map[string]bool{}
		}
		if w[2] != "" {
			commands[w[1]][w[2]] = true
		}
	}
	if len(commands) < 5 {
		t.Fatalf("read only %d commands from the usage text", len(commands))
	}

	for _, name := range []string{"operations.md", "plugin-authors.md"} {
		guide, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if n := checkBotCommands(t, name, codeOf(string(guide)), commands); n < 5 {
			t.Fatalf("found only %d bot commands in %s", n, name)
		}
	}
}

// Every make target the guides and the README name is one the Makefile
// has (make plugin NAME=acme).
func TestGuidesMakeTargetsExist(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(mk), -1) {
		targets[m[1]] = true
	}
	n := 0
	for _, name := range []string{"plugin-authors.md", "operations.md", filepath.Join("..", "README.md")} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codeOf(string(b)) {
			for _, m := range regexp.MustCompile(`(?:^|[\s(`+"`"+`])make ([a-z][a-z0-9-]*)`).FindAllStringSubmatch(c, -1) {
				n++
				if !targets[m[1]] {
					t.Errorf("%s runs make %s, which the Makefile has no target for", name, m[1])
				}
			}
		}
	}
	if !targets["plugin"] || n < 5 {
		t.Fatalf("found %d make commands; targets %v", n, targets)
	}
}

// codeOf returns a markdown document's code: fenced blocks and inline
// spans, where commands are.
func codeOf(doc string) []string {
	var code []string
	rest := regexp.MustCompile("(?s)```[a-z]*\\n(.*?)```").ReplaceAllStringFunc(doc, func(b string) string {
		code = append(code, b)
		return ""
	})
	return append(code, regexp.MustCompile("`[^`\n]+`").FindAllString(rest, -1)...)
}

// checkBotCommands checks every bot command in code against the bot's
// commands, and returns how many it found.
func checkBotCommands(t *testing.T, guide string, code []string, commands map[string]map[string]bool) int {
	t.Helper()
	call := regexp.MustCompile(`(?:^|[\s/(` + "`" + `])bot ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?`)
	n := 0
	for _, c := range code {
		// Shell lines continue with a backslash; comments are prose.
		c = strings.ReplaceAll(c, "\\\n", " ")
		c = regexp.MustCompile(`(?m)(^|\s)#.*$`).ReplaceAllString(c, "")
		for _, w := range call.FindAllStringSubmatch(c, -1) {
			n++
			subs, ok := commands[w[1]]
			switch {
			case !ok:
				t.Errorf("%s runs bot %s, which is not a command of bot (cmd/bot/main.go usage)", guide, w[1])
			case len(subs) > 0 && !subs[w[2]]:
				t.Errorf("%s runs bot %s %s, which is not a subcommand of bot %s", guide, w[1], w[2], w[1])
			}
		}
	}
	return n
}
