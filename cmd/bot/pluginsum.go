package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/internal/pluginhost"
)

// bot plugin sum --update FILE: the pins of every plugin in a
// configuration file, rewritten from the executables in its plugins.dir.
// Only the digests' text changes: comments, order, quoting and layout
// stay as they are. A plugin with a sha256 of its own has it rewritten;
// one without takes its pin from plugins.sums, and that file is
// rewritten instead. Nothing is written unless every plugin's executable
// could be read and both new texts could be made.

// pinEdit is one digest to replace in the configuration's text.
type pinEdit struct {
	node *yaml.Node
	new  string
}

// updatePins rewrites the pins of the configuration file at path and
// reports each plugin's change on out.
func updatePins(path string, out io.Writer) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(real)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s: not a configuration (want a YAML mapping)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	base := filepath.Dir(abs)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	plugins := mapValue(doc.Content[0], "plugins")
	list := mapValue(plugins, "list")
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return fmt.Errorf("%s: no plugins.list to pin", path)
	}
	dir := rel(scalarValue(mapValue(plugins, "dir")))
	if dir == "" {
		return fmt.Errorf("%s: plugins.dir is required", path)
	}
	sumsPath := rel(scalarValue(mapValue(plugins, "sums")))

	var (
		edits   []pinEdit
		report  []string
		sumsNew = map[string]string{} // name in the sums file -> digest
		sumsFor = map[string]string{} // name in the sums file -> plugin
	)
	var sums *sumsFile
	if sumsPath != "" {
		if sums, err = readSumsFile(sumsPath); err != nil {
			return err
		}
	}
	for i, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: line %d: plugins.list entry %d is not a mapping", path, item.Line, i+1)
		}
		name := scalarValue(mapValue(item, "name"))
		if name == "" {
			return fmt.Errorf("%s: line %d: a plugin has no name", path, item.Line)
		}
		exe := scalarValue(mapValue(item, "path"))
		if exe == "" {
			exe = name
		}
		// Resolved as the bot resolves it: an executable (or a link to
		// one) outside plugins.dir is refused, not pinned.
		file, err := pluginExecutable(dir, PluginConfig{Name: name, Path: exe})
		if err != nil {
			return fmt.Errorf("plugin %s: %w (nothing was changed)", name, err)
		}
		st, err := os.Stat(file)
		if err != nil {
			return fmt.Errorf("plugin %s: executable %s: %w (nothing was changed)", name, file, errors.Unwrap(err))
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("plugin %s: executable %s is not a regular file (nothing was changed)", name, file)
		}
		sum, err := pluginhost.FileSHA256(file)
		if err != nil {
			return fmt.Errorf("plugin %s: %w (nothing was changed)", name, err)
		}
		if pin := mapValue(item, "sha256"); pin != nil && pin.Value != "" {
			old := strings.ToLower(strings.TrimSpace(pin.Value))
			if old == sum {
				report = append(report, name+": unchanged")
				continue
			}
			if _, err := scalarSpan(src, pin); err != nil {
				return fmt.Errorf("%s: plugin %s: %w", path, name, err)
			}
			edits = append(edits, pinEdit{node: pin, new: sum})
			report = append(report, fmt.Sprintf("%s: %s -> %s", name, shortSum(old), shortSum(sum)))
			continue
		}
		if sums == nil {
			return fmt.Errorf("%s: plugin %s has no sha256 and the configuration has no plugins.sums: add a sha256 line to it (bot plugin sum %s prints the digest) or set plugins.sums", path, name, file)
		}
		key, err := sumsName(dir, exe)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", name, err)
		}
		if other, dup := sumsFor[key]; dup && sumsNew[key] != sum {
			return fmt.Errorf("plugins %s and %s both use %s", other, name, key)
		}
		sumsNew[key], sumsFor[key] = sum, name
		old, ok := sums.get(key)
		switch {
		case ok && old == sum:
			report = append(report, name+": unchanged")
		case ok:
			report = append(report, fmt.Sprintf("%s: %s -> %s (in %s)", name, shortSum(old), shortSum(sum), filepath.Base(sumsPath)))
		default:
			report = append(report, fmt.Sprintf("%s: none -> %s (in %s)", name, shortSum(sum), filepath.Base(sumsPath)))
		}
	}

	// Both new texts are made before anything is written; the sums file
	// (the likelier to fail: its own folder) is written first.
	var updated []byte
	if len(edits) > 0 {
		if updated, err = replaceScalars(src, edits); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if sums != nil && len(sumsNew) > 0 {
		if data, changed := sums.update(sumsNew); changed {
			target := sumsPath
			if r, err := filepath.EvalSymlinks(sumsPath); err == nil {
				target = r // a link to the sums file is kept; its target is rewritten
			}
			if err := writeFileAtomic(target, data, 0o644); err != nil {
				return err
			}
		}
	}
	if updated != nil {
		if err := writeFileAtomic(real, updated, 0o644); err != nil {
			return err
		}
	}
	for _, line := range report {
		fmt.Fprintln(out, line)
	}
	return nil
}

// shortSum abbreviates a digest for a report line.
func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	if s == "" {
		return "none"
	}
	return s
}

// sumsName is a plugin's name in the sums file: its path relative to
// the plugin directory.
func sumsName(dir, exe string) (string, error) {
	if !filepath.IsAbs(exe) {
		return filepath.ToSlash(filepath.Clean(exe)), nil
	}
	r, err := filepath.Rel(dir, exe)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("executable %s is outside the plugin directory %s", exe, dir)
	}
	return filepath.ToSlash(r), nil
}

// mapValue is the value under key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// scalarSpan finds a scalar's text in src: the byte offsets of its value
// (inside the quotes, if any). Only a one-line scalar written without
// escapes can be replaced in place; anything else is refused.
func scalarSpan(src []byte, n *yaml.Node) ([2]int, error) {
	bad := fmt.Errorf("line %d: write the sha256 as a plain or quoted hex string on one line so it can be rewritten in place", n.Line)
	if n.Kind != yaml.ScalarNode || n.Line < 1 || n.Column < 1 {
		return [2]int{}, bad
	}
	off := 0
	for l := 1; l < n.Line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return [2]int{}, bad
		}
		off += i + 1
	}
	// The column counts characters, not bytes.
	for c := 1; c < n.Column; c++ {
		if off >= len(src) || src[off] == '\n' {
			return [2]int{}, bad
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	switch n.Style {
	case 0:
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := byte('"')
		if n.Style == yaml.SingleQuotedStyle {
			q = '\''
		}
		if off >= len(src) || src[off] != q {
			return [2]int{}, bad
		}
		off++
		end := off + len(n.Value)
		if end >= len(src) || src[end] != q {
			return [2]int{}, bad
		}
	default:
		return [2]int{}, bad
	}
	end := off + len(n.Value)
	if end > len(src) || string(src[off:end]) != n.Value {
		return [2]int{}, bad
	}
	return [2]int{off, end}, nil
}

// replaceScalars replaces each edit's scalar text with its new value.
func replaceScalars(src []byte, edits []pinEdit) ([]byte, error) {
	type span struct {
		at  [2]int
		new string
	}
	spans := make([]span, 0, len(edits))
	for _, e := range edits {
		at, err := scalarSpan(src, e.node)
		if err != nil {
			return nil, err
		}
		spans = append(spans, span{at, e.new})
	}
	var out bytes.Buffer
	last := 0
	// Edits come in document order; apply them front to back.
	for _, s := range spans {
		if s.at[0] < last {
			return nil, errors.New("overlapping sha256 values")
		}
		out.Write(src[last:s.at[0]])
		out.WriteString(s.new)
		last = s.at[1]
	}
	out.Write(src[last:])
	return out.Bytes(), nil
}

// sumsFile is a file in sha256sum format ("HEX  NAME" lines), kept line
// by line so a rewrite leaves other entries, comments and their order
// alone.
type sumsFile struct {
	path  string
	lines []string
	index map[string][]int // name -> its lines, in every form ("./x", "*x")
}

// readSumsFile reads a sums file; a missing one is empty.
func readSumsFile(path string) (*sumsFile, error) {
	s := &sumsFile{path: path, index: map[string][]int{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		s.lines = append(s.lines, line)
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		_, name, ok := parseSumsLine(line)
		if !ok {
			return nil, fmt.Errorf("%s:%d: not a sha256sum line (want: 64 hex digits, two spaces, the plugin's path)", path, n)
		}
		s.index[name] = append(s.index[name], len(s.lines)-1)
	}
	return s, sc.Err()
}

// parseSumsLine splits "HEX  NAME" (or "HEX *NAME", binary mode); the
// name is cleaned ("./whm" is "whm"). The configuration's loader reads
// the same lines (ReadSums).
func parseSumsLine(line string) (sum, name string, ok bool) {
	m := sumsLine.FindStringSubmatch(strings.TrimRight(line, "\r"))
	if m == nil {
		return "", "", false
	}
	return strings.ToLower(m[1]), filepath.ToSlash(filepath.Clean(m[2])), true
}

func (s *sumsFile) get(name string) (string, bool) {
	is := s.index[name]
	if len(is) == 0 {
		return "", false
	}
	sum, _, _ := parseSumsLine(s.lines[is[0]])
	return sum, true
}

// update sets the digests and returns the file's new text and whether it
// differs. A name written more than once (in another form: "./x", "*x")
// keeps its first line, rewritten, and loses the others, which would pin
// it to a stale digest. Lines end in LF (a CRLF file is read alike).
func (s *sumsFile) update(sums map[string]string) ([]byte, bool) {
	changed := false
	var added []string
	drop := map[int]bool{}
	for name, sum := range sums {
		is := s.index[name]
		if len(is) == 0 {
			added = append(added, name)
			continue
		}
		want := sum + "  " + name
		if s.lines[is[0]] != want {
			s.lines[is[0]] = want
			changed = true
		}
		for _, i := range is[1:] {
			drop[i] = true
			changed = true
		}
	}
	sort.Strings(added)
	for _, name := range added {
		s.lines = append(s.lines, sums[name]+"  "+name)
		changed = true
	}
	var b bytes.Buffer
	for i, l := range s.lines {
		if drop[i] {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes(), changed
}

// bot plugin sum --sums FILE NAME...: the pins of the named executables,
// which sit in FILE's folder, set in FILE (created if missing). One parser
// reads the file for the bot and for this: other entries, comments and
// their order stay as they are, another form of the same name ("./x",
// "HASH *x", a CRLF line) is replaced, and a symbolic link keeps pointing
// at its target, which is rewritten.
func updateSumsFile(path string, names []string, out io.Writer) error {
	dir := filepath.Dir(path)
	sums := map[string]string{}
	for _, n := range names {
		name := filepath.ToSlash(filepath.Clean(n))
		if filepath.IsAbs(n) || name == "." || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("%s: name the executable by its path inside %s", n, dir)
		}
		sum, err := pluginhost.FileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		sums[name] = sum
	}
	f, err := readSumsFile(path)
	if err != nil {
		return err
	}
	data, changed := f.update(sums)
	if changed {
		target := path
		if r, err := filepath.EvalSymlinks(path); err == nil {
			target = r // a link to the sums file is kept; its target is rewritten
		}
		if err := writeFileAtomic(target, data, 0o644); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "%s  %s\n", sums[k], k)
	}
	return nil
}

// writeFileAtomic replaces path with data through a temporary file in
// the same directory, keeping the file's mode (mode if it is new).
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, there is nothing to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
