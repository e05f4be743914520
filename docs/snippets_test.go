package docs

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// The guide's Go snippets compile: each is quoted from a file (see
// TestGuideSnippetsAreQuotedFromTheCode), and this builds every package
// those files belong to, test files included, with `go vet`. Snippets
// from the scaffold's templates are built from a scaffold written into a
// module of its own that uses this repository, as `bot plugin new` would
// write it.
func TestGuideSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("plugin-authors.md")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]bool{}
	templates := 0
	for _, m := range regexp.MustCompile("<!-- code: (\\S+) -->\\n```go\\n").FindAllStringSubmatch(string(b), -1) {
		switch p := m[1]; {
		case strings.HasSuffix(p, ".go.tmpl") && strings.HasPrefix(p, "cmd/bot/scaffold/"):
			templates++
		case strings.HasSuffix(p, ".go"):
			pkgs["./"+filepath.ToSlash(filepath.Dir(p))] = true
		default:
			t.Errorf("plugin-authors.md quotes %s, which is not Go source", p)
		}
	}
	if len(pkgs) == 0 || templates == 0 {
		t.Fatalf("expected snippets from packages and from the scaffold, found %d packages and %d template snippets", len(pkgs), templates)
	}

	list := make([]string, 0, len(pkgs))
	for p := range pkgs {
		list = append(list, p)
	}
	sort.Strings(list)
	vet := exec.Command(goTool, append([]string{"vet"}, list...)...)
	vet.Dir = repo
	if out, err := vet.CombinedOutput(); err != nil {
		t.Errorf("go vet %s: %v\n%s", strings.Join(list, " "), err, out)
	}

	// The scaffold, rendered as bot plugin new renders it, in a module
	// that replaces this repository's module with the work tree.
	dir := t.TempDir()
	const module = "example.com/snippetcheck"
	r := strings.NewReplacer("__NAME__", "snippetcheck", "__DISPLAY__", "Snippetcheck", "__MODULE__", module)
	scaffold := filepath.Join(repo, "cmd", "bot", "scaffold")
	err = filepath.WalkDir(scaffold, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		rel, _ := filepath.Rel(scaffold, strings.TrimSuffix(p, ".tmpl"))
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, []byte(r.Replace(string(src))), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil {
		t.Fatal("go.mod names no go version")
	}
	mod := "module " + module + "\n\ngo " + string(goVersion[1]) + "\n\nrequire github.com/deskbot/deskbot v0.0.0\n\nreplace github.com/deskbot/deskbot => " + repo + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	// -mod=mod lets go complete the requirements from the module cache
	// the repository's own build filled.
	scaffoldVet := exec.Command(goTool, "vet", "-mod=mod", "./...")
	scaffoldVet.Dir = dir
	scaffoldVet.Env = append(os.Environ(), "GOWORK=off")
	if out, err := scaffoldVet.CombinedOutput(); err != nil {
		t.Errorf("go vet on the scaffold: %v\n%s", err, out)
	}
}
