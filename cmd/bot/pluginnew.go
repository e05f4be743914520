package main

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/deskbot/deskbot/internal/engine"
)

// scaffold is a provider plugin in the layout docs/plugin-authors.md
// describes, its names written as __NAME__, __DISPLAY__ and __MODULE__.
// The files end in .tmpl so that the bot's module does not compile them
// where they are; TestPluginNewBuildsAndPassesItsTests compiles and tests
// what they become.
//
//go:embed scaffold
var scaffold embed.FS

var pluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

const pluginNewUsage = "usage: bot plugin new [--dir DIR] [--display NAME] NAME"

// runPluginNew writes a new provider plugin: bot plugin new acme writes
// plugins/acme, which builds, serves a simulator in sandbox mode and
// passes its tests as written.
func runPluginNew(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "the folder to write, which must not exist (plugins/NAME if empty)")
	display := fs.String("display", "", "the provider's name as users know it (NAME with a capital if empty)")
	var names []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, pluginNewUsage+"\n\nwrites a new provider plugin in the guide's layout (docs/plugin-authors.md): it builds\nand passes its tests as written, and never changes an existing folder.")
			fmt.Fprintln(stdout)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		} else if err != nil {
			return &exitError{code: exitInvalid, msg: err.Error() + "\n" + pluginNewUsage}
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(names) != 1 {
		return &exitError{code: exitInvalid, msg: pluginNewUsage}
	}
	name := names[0]
	if !pluginNameRE.MatchString(name) {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("plugin name %q: use lower-case letters, digits and dashes, starting with a letter (it becomes the slash command /%s)", name, strings.ToLower(name))}
	}
	if slices.Contains(engine.BuiltinNames(), name) {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("plugin name %q: /%s is the bot's own command, answered before any plugin; pick another name", name, name)}
	}
	if _, ok := bundledDisplayNames[name]; ok {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("plugin name %q: a plugin of that name comes with the bot (/%s); pick another name", name, name)}
	}
	if *dir == "" {
		*dir = filepath.Join("plugins", name)
	}
	if *display == "" {
		*display = strings.ToUpper(name[:1]) + name[1:]
	}
	// The display name goes into Go string literals, some of them format
	// strings: refused rather than escaped, so the plugin reads as written.
	if strings.ContainsAny(*display, "\"\\`%") || strings.ContainsFunc(*display, unicode.IsControl) {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("display name %q: no quotes, backslashes, percent signs, line breaks or other control characters", *display)}
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(abs); err == nil {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("%s already exists: bot plugin new writes a new folder and never changes one (pick another --dir, or remove it)", *dir)}
	}
	module, err := importPath(abs)
	if err != nil {
		return &exitError{code: exitInvalid, msg: err.Error()}
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	// Mkdir, not MkdirAll: it fails if the folder appeared meanwhile, so
	// nothing of someone else's is overwritten.
	if err := os.Mkdir(abs, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	files, err := writeScaffold(abs, strings.NewReplacer("__NAME__", name, "__DISPLAY__", *display, "__MODULE__", module))
	if err != nil {
		_ = os.RemoveAll(abs) // a half-written plugin would not build
		return err
	}
	fmt.Fprintf(stdout, "wrote the %s provider plugin (%s) in %s:\n", *display, module, *dir)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", filepath.Join(*dir, f))
	}
	next := [][2]string{
		{"go test ./" + filepath.ToSlash(*dir) + "/...", "its tests, against its simulator"},
		{"make plugin NAME=" + name, "build bin/plugins/" + name},
		{`bin/bot exec --as alice "/` + name + ` help"`, "its commands, in sandbox mode"},
	}
	width := 0
	for _, n := range next {
		width = max(width, len(n[0]))
	}
	fmt.Fprintln(stdout, "\nnext:")
	for _, n := range next {
		fmt.Fprintf(stdout, "  %-*s  %s\n", width, n[0], n[1])
	}
	fmt.Fprintln(stdout, "Then make the client and the simulator speak the real API\n(docs/plugin-authors.md).")
	return nil
}

// writeScaffold writes the scaffold's files into dir through r, and
// returns their paths relative to dir.
func writeScaffold(dir string, r *strings.Replacer) ([]string, error) {
	var written []string
	err := fs.WalkDir(scaffold, "scaffold", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(p, "scaffold/"), ".tmpl")
		b, err := scaffold.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, []byte(r.Replace(string(b))), 0o644); err != nil {
			return err
		}
		written = append(written, filepath.FromSlash(rel))
		return nil
	})
	return written, err
}

// sdkModule is the module a plugin's code imports (the SDK).
const sdkModule = "github.com/deskbot/deskbot"

// importPath is the Go import path dir will have: the module path of the
// nearest go.mod above it, joined with dir's path below that. The module
// must be the bot's or require it (the plugin imports the SDK), and the
// path must be one Go accepts.
func importPath(dir string) (string, error) {
	for root := filepath.Dir(dir); ; root = filepath.Dir(root) {
		b, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err == nil {
			module, requires := readGoMod(b)
			if module == "" {
				return "", fmt.Errorf("%s names no module", filepath.Join(root, "go.mod"))
			}
			if module != sdkModule && !requires {
				return "", fmt.Errorf("%s is in module %s (%s), which does not require %s: the plugin would not build; write it inside the bot's repository (plugins/NAME), or first run go get %s in that module", dir, module, filepath.Join(root, "go.mod"), sdkModule, sdkModule)
			}
			rel, err := filepath.Rel(root, dir)
			if err != nil {
				return "", err
			}
			for _, elem := range strings.Split(filepath.ToSlash(rel), "/") {
				if !importElemRE.MatchString(elem) || strings.HasSuffix(elem, ".") {
					return "", fmt.Errorf("folder name %q: Go import paths take letters, digits and - . _ ~ (no spaces), starting with a letter or digit: pick another --dir", elem)
				}
			}
			return path.Join(module, filepath.ToSlash(rel)), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(root) == root {
			return "", fmt.Errorf("%s is in no Go module: write the plugin inside the bot's repository (plugins/NAME), or in a module that requires %s", dir, sdkModule)
		}
	}
}

// importElemRE is a path element Go accepts in an import path.
var importElemRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]*$`)

// readGoMod returns a go.mod's module path and whether it requires the
// SDK's module (on a require line or in a require block).
func readGoMod(b []byte) (module string, requiresSDK bool) {
	inBlock := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inBlock && f[0] == ")":
			inBlock = false
		case inBlock:
			requiresSDK = requiresSDK || strings.Trim(f[0], `"`) == sdkModule
		case f[0] == "module" && len(f) > 1 && module == "":
			module = strings.Trim(f[1], `"`)
		case f[0] == "require" && len(f) > 1 && f[1] == "(":
			inBlock = true
		case f[0] == "require" && len(f) > 1:
			requiresSDK = requiresSDK || strings.Trim(f[1], `"`) == sdkModule
		}
	}
	return module, requiresSDK
}
