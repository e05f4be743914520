// Command gen builds the WHM plugin's function catalog from the WHM API 1
// reference text. It is a maintainer's tool: make generate runs it when the
// reference is present, and its output (../catalog/catalog.json, and the
// response samples in ../catalog/samples.json) is committed. It keeps facts (names, categories, titles, parameters, types,
// defaults, possible values, examples, response samples), not prose.
//
//	go run ./plugins/whm/gen -seed PATH/003_*.txt -out plugins/whm/catalog/catalog.json
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/deskbot/deskbot/internal/genfile"
	"github.com/deskbot/deskbot/plugins/whm/catalog"
)

func main() {
	seed := flag.String("seed", "", "the WHM API 1 reference text")
	out := flag.String("out", "catalog.json", "where to write the catalog")
	samplesOut := flag.String("samples", "", "where to write the response samples (samples.json next to -out unless set)")
	flag.Parse()
	if *samplesOut == "" {
		*samplesOut = filepath.Join(filepath.Dir(*out), "samples.json")
	}
	if *seed == "" {
		fmt.Fprintln(os.Stderr, "usage: gen -seed FILE [-out catalog.json]")
		os.Exit(2)
	}
	b, err := os.ReadFile(*seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c := Parse(string(b))
	// The samples serve only the simulator and the tests: kept apart, the
	// catalog a plugin reads at start is half the size.
	samples := map[string]json.RawMessage{}
	for i := range c.Functions {
		if len(c.Functions[i].Sample) > 0 {
			samples[c.Functions[i].Name] = c.Functions[i].Sample
			c.Functions[i].Sample = nil
		}
	}
	if err := genfile.WriteJSON(map[string]any{*out: c, *samplesOut: samples}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d functions, %d irregularities noted\n", len(c.Functions), len(c.Irregular))
}

var (
	typeRE     = regexp.MustCompile(`^(any|string|integer|boolean|number|object|array|null|Array of)\b`)
	headerRE   = regexp.MustCompile(`^[A-Z][A-Za-z0-9 ()&/,.'-]* / [A-Za-z0-9 ()&,.'-]+$`)
	tagDescRE  = regexp.MustCompile(`^[^.]*\b(module|functions|information)\b[^.]*\.$`)
	exampleKV  = regexp.MustCompile(`^([A-Za-z0-9_.\-\[\]*]+)=`)
	trailingRE = regexp.MustCompile(`,(\s*[}\]])`)
	escapeRE   = regexp.MustCompile(`\\([^"\\/bfnrtu])`)
	bulletRE   = regexp.MustCompile(`(?m)^(\s*)• `)
)

func isType(s string) bool { return typeRE.MatchString(s) }

// isTag reports whether x, y is a module header: a short name followed by
// the name again or by a one-line description of the module.
func isTag(x, y string) bool {
	if len(strings.Fields(x)) > 3 || strings.ContainsAny(x, "/.:") {
		return false
	}
	if y == x {
		return true
	}
	return len(y) <= 100 && !strings.HasPrefix(y, "This ") && tagDescRE.MatchString(y)
}

func isAttr(s string) bool {
	for _, p := range []string{"Default:", "Possible Values:", "Value:", "Example:", "Examples:"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return s == "Deprecated" || s == "required"
}

// nameLike reports whether s can be a parameter name line.
func nameLike(s string) bool {
	if s == "" || s != strings.TrimLeft(s, " \t") || strings.HasPrefix(s, "•") || len(s) > 60 {
		return false
	}
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, ":") || isType(s) || isAttr(s) {
		return false
	}
	return len(strings.Fields(s)) <= 5
}

type parser struct {
	lines []string
	notes []string
	cat   catalog.Catalog
}

func (p *parser) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

// Parse reads the reference.
func Parse(text string) *catalog.Catalog {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	p := &parser{lines: strings.Split(text, "\n")}
	p.cat.Source = "WHM API 1 reference"
	var anchors []int
	for i, l := range p.lines {
		if l == "Authorizations:" || strings.HasSuffix(l, "Authorizations:") && strings.TrimSpace(l) != "Authorizations:" {
			anchors = append(anchors, i)
		}
	}
	category := ""
	prevEnd := 0
	seen := map[string]int{}
	for n, a := range anchors {
		next := len(p.lines)
		if n+1 < len(anchors) {
			next = anchors[n+1]
		}
		f, end := p.entry(a, prevEnd, next, &category)
		prevEnd = end
		if f == nil {
			continue
		}
		if first, dup := seen[f.Name]; dup {
			p.note("%s: documented twice (lines %d and %d); the first is kept", f.Name, first, f.Line)
			continue
		}
		seen[f.Name] = f.Line
		p.cat.Functions = append(p.cat.Functions, *f)
	}
	sort.Strings(p.notes)
	p.cat.Irregular = p.notes
	return &p.cat
}

// entry parses the function whose "Authorizations:" line is at a; the
// header region starts at from. It returns where the entry ends.
func (p *parser) entry(a, from, next int, category *string) (*catalog.Function, int) {
	L := p.lines
	if strings.TrimSpace(L[a]) != "Authorizations:" {
		p.note("line %d: Authorizations: follows text without a line break", a+1)
	}
	// Header region: optional group header, then the title.
	var region []int
	for i := from; i < a; i++ {
		if strings.TrimSpace(L[i]) != "" {
			region = append(region, i)
		}
	}
	k := 0
	for k+1 < len(region) {
		x, y := strings.TrimSpace(L[region[k]]), strings.TrimSpace(L[region[k+1]])
		switch {
		case headerRE.MatchString(y) && !strings.HasSuffix(y, ".") && len(y) < 90 && !strings.Contains(x, "/"):
			*category = y
			k += 2
			continue
		case isTag(x, y):
			// A module header without a category path ("NGINX Manager" /
			// "The NGINX Manager module for WHM API 1."), or an empty one.
			*category = x
			p.note("line %d: %q is a module header without a category path", region[k]+1, x)
			k += 2
			continue
		}
		break
	}
	if k >= len(region) {
		p.note("line %d: an entry without a title", a+1)
		return nil, a + 1
	}
	titleLine := region[k]
	title := strings.TrimSpace(L[titleLine])
	f := &catalog.Function{Category: *category, Line: titleLine + 1}
	if t, ok := strings.CutSuffix(title, " Deprecated"); ok {
		title, f.Deprecated = t, true
	}
	f.Title = title

	// Parameters, up to "Responses".
	resp := a
	for resp < next && L[resp] != "Responses" {
		resp++
	}
	start := a + 2
	if start < resp {
		switch h := strings.TrimSpace(L[start]); {
		case h == "query Parameters":
			start++
		case strings.HasPrefix(h, "Request Body schema:"):
			switch strings.TrimSpace(strings.TrimPrefix(h, "Request Body schema:")) {
			case "application/json":
				f.Body = "json"
			case "multipart/form-data":
				f.Body = "multipart"
			default:
				f.Body = "form"
			}
			start++
		}
	}
	params := p.params(start, resp)
	if params == nil {
		params = []catalog.Param{}
	}

	// Request sample: the function's name.
	end := resp
	reqAt := -1
	for i := resp; i < next; i++ {
		if L[i] == "Request samples" {
			reqAt = i
			break
		}
	}
	name := ""
	if reqAt >= 0 {
		name, end = p.requestName(reqAt, next)
	}
	// Response sample.
	var sample json.RawMessage
	command := ""
	for i := end; i < next; i++ {
		if L[i] == "Response samples" {
			sample, command, end = p.responseSample(i, next, title)
			break
		}
		if i > end+3 && strings.TrimSpace(L[i]) != "" {
			break
		}
	}
	switch {
	case name == "" && command != "":
		name = command
		f.Notes = append(f.Notes, "the name is taken from the response sample: the request sample does not show it")
	case name != "" && command != "" && command != name:
		f.Notes = append(f.Notes, fmt.Sprintf("the response sample's metadata.command says %q (a copy-paste slip in the reference)", command))
		p.note("%s: request sample and metadata.command (%q) disagree", name, command)
	}
	if name == "" {
		p.note("line %d (%s): no function name found", titleLine+1, title)
		return nil, end
	}
	if sample == nil {
		f.Notes = append(f.Notes, "the reference has no response sample")
		p.note("%s: no response sample", name)
	}
	f.Name, f.Params, f.Sample = name, params, sample
	for _, prm := range params {
		if prm.Recovered {
			f.Notes = append(f.Notes, fmt.Sprintf("parameter %s: its name is missing in the reference and was taken from its example", prm.Name))
		}
	}
	if strings.Contains(f.Category, "Domain Domain") {
		f.Notes = append(f.Notes, "the reference's category reads "+f.Category)
		f.Category = strings.Replace(f.Category, "Domain Domain", "Domain", 1)
	}
	return f, end
}

// params parses a parameter block [from, to).
func (p *parser) params(from, to int) []catalog.Param {
	L := p.lines
	var out []catalog.Param
	i := from
	starts := func(i int) bool {
		if i >= to {
			return false
		}
		s := L[i]
		t1, t2 := "", ""
		if i+1 < to {
			t1 = strings.TrimSpace(L[i+1])
		}
		if i+2 < to {
			t2 = strings.TrimSpace(L[i+2])
		}
		switch {
		case nameLike(s) && t1 == "required" && isType(t2):
			return true
		case nameLike(s) && isType(t1):
			return true
		case s == "required" && isType(t1):
			return true
		case isType(s) && (i+1 >= to || isAttr(t1) || t1 == ""):
			return true
		}
		return false
	}
	for i < to {
		if !starts(i) {
			i++
			continue
		}
		var prm catalog.Param
		if L[i] != "required" && !isType(L[i]) {
			prm.Name = strings.TrimSpace(L[i])
			i++
		}
		if i < to && strings.TrimSpace(L[i]) == "required" {
			prm.Required = true
			i++
		}
		if i < to && isType(L[i]) {
			prm.Type = strings.TrimSpace(L[i])
			i++
		}
		examples := []string{}
		for i < to {
			s := strings.TrimSpace(L[i])
			switch {
			case s == "Deprecated":
				prm.Deprecated = true
			case strings.HasPrefix(s, "Default:"):
				prm.Default = unquote(strings.TrimSpace(strings.TrimPrefix(s, "Default:")))
			case strings.HasPrefix(s, "Possible Values:"):
				prm.Values = tokens(strings.TrimPrefix(s, "Possible Values:"))
			case strings.HasPrefix(s, "Value:"):
				prm.Values = tokens(strings.TrimPrefix(s, "Value:"))
			case strings.HasPrefix(s, "Example:"):
				examples = append(examples, strings.TrimSpace(strings.TrimPrefix(s, "Example:")))
			case s == "Examples:":
				for i+1 < to && strings.HasPrefix(strings.TrimSpace(L[i+1]), "•") {
					i++
					ex := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(L[i]), "•"))
					if j := strings.Index(ex, " - "); j > 0 {
						ex = ex[:j]
					}
					examples = append(examples, ex)
				}
			default:
				goto attrsDone
			}
			i++
		}
	attrsDone:
		if len(examples) > 0 {
			prm.Example = examples[0]
		}
		var exampleName string
		for _, ex := range examples {
			if m := exampleKV.FindStringSubmatch(ex); m != nil {
				exampleName = m[1]
				if strings.Count(ex, "&"+m[1]+"=") > 0 {
					prm.List = "repeat"
				}
				break
			}
		}
		if prm.Name == "" {
			if exampleName == "" {
				p.note("line %d: a parameter without a name or an example that names it; skipped", i+1)
				continue
			}
			prm.Name, prm.Recovered = exampleName, true
		}
		// Description: until the next parameter. Facts only: is it a list?
		desc := []string{}
		for i < to && !starts(i) {
			desc = append(desc, L[i])
			i++
		}
		text := strings.Join(desc, " ")
		if strings.Contains(text, prm.Name+"-1") || strings.Contains(text, prm.Name+"-0") {
			prm.List = "numbered"
		} else if strings.HasPrefix(prm.Type, "Array of") && prm.List == "" {
			prm.List = "repeat"
		}
		if strings.Contains(prm.Name, "*") {
			prm.Wildcard = true
		}
		if a, b, ok := strings.Cut(prm.Name, " or "); ok && !strings.Contains(a, " ") && !strings.Contains(b, " ") {
			p.note("parameter %q: two names; %s is kept with %s as an alias", prm.Name, a, b)
			prm.Name, prm.Aliases = a, []string{b}
		} else if strings.Contains(prm.Name, " ") {
			p.note("parameter %q: not a name but a placeholder for names the caller chooses", prm.Name)
			prm.Free = true
		}
		out = append(out, prm)
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// tokens splits `"a" "b c" 1 2` into values.
func tokens(s string) []string {
	s = strings.TrimSpace(s)
	var out []string
	for s != "" {
		if s[0] == '"' {
			j := strings.Index(s[1:], `"`)
			if j < 0 {
				out = append(out, s[1:])
				break
			}
			out = append(out, s[1:j+1])
			s = strings.TrimSpace(s[j+2:])
			continue
		}
		f, rest, _ := strings.Cut(s, " ")
		out = append(out, f)
		s = strings.TrimSpace(rest)
	}
	return out
}

// requestName reads the function name from a request sample and returns
// where the sample ends.
func (p *parser) requestName(at, next int) (string, int) {
	L := p.lines
	i := at + 1
	for i < next && strings.TrimSpace(L[i]) == "" {
		i++
	}
	if i >= next {
		return "", at + 1
	}
	first := strings.TrimSpace(L[i])
	end := i + 1
	for end < next && strings.TrimSpace(L[end]) != "" {
		end++
	}
	switch {
	case strings.HasPrefix(first, "whmapi1"):
		for _, tok := range strings.Fields(strings.TrimPrefix(first, "whmapi1")) {
			if !strings.HasPrefix(tok, "--") && tok != `\` {
				return strings.TrimSuffix(tok, `\`), end
			}
		}
		if i+1 < next {
			if f := strings.Fields(L[i+1]); len(f) > 0 {
				return strings.TrimSuffix(f[0], `\`), end
			}
		}
	case strings.Contains(first, "/json-api/"):
		rest := first[strings.Index(first, "/json-api/")+len("/json-api/"):]
		name, _, _ := strings.Cut(rest, "?")
		return name, end
	}
	return "", end
}

// responseSample reads the JSON after "Response samples" up to the first
// "}" at column 0, without the reference's bullets. It returns the sample,
// its metadata.command, and where it ends.
func (p *parser) responseSample(at, next int, title string) (json.RawMessage, string, int) {
	L := p.lines
	i := at + 1
	for i < next && !strings.HasPrefix(L[i], "{") {
		i++
	}
	if i >= next {
		return nil, "", at + 1
	}
	j := i
	for j < next && L[j] != "}" && strings.TrimSpace(L[j]) != "{}" {
		j++
	}
	body := strings.Join(L[i:j+1], "\n")
	body = bulletRE.ReplaceAllString(body, "$1")
	body = strings.ReplaceAll(body, "\u00a0", " ")
	raw := []byte(body)
	if !json.Valid(raw) {
		fixed := trailingRE.ReplaceAllString(body, "$1")
		fixed = escapeRE.ReplaceAllString(fixed, "$1")
		if json.Valid([]byte(fixed)) {
			p.note("line %d (%s): the response sample is not valid JSON (trailing commas or bad escapes); a corrected form is kept", i+1, title)
			raw = []byte(fixed)
		} else {
			p.note("line %d (%s): the response sample cannot be parsed; it is left out", i+1, title)
			return nil, "", j + 1
		}
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, raw)
	var meta struct {
		Metadata struct {
			Command string `json:"command"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(compact.Bytes(), &meta)
	return json.RawMessage(compact.Bytes()), meta.Metadata.Command, j + 1
}
