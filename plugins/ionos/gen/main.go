// Command gen builds the IONOS plugin's operation catalog from the Cloud
// Panel API v1 reference text. It is a maintainer's tool: make generate
// runs it when the reference is present, and its output
// (../catalog/catalog.json) is committed. It keeps facts (methods, paths,
// parameters, schemas without their descriptions, examples), not prose.
//
//	go run ./plugins/ionos/gen -seed PATH/002_*.txt -out plugins/ionos/catalog/catalog.json
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
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/internal/genfile"
	"github.com/deskbot/deskbot/plugins/ionos/catalog"
)

func main() {
	seed := flag.String("seed", "", "the Cloud Panel API reference text")
	out := flag.String("out", "catalog.json", "where to write the catalog")
	examplesOut := flag.String("examples", "", "where to write the response examples (examples.json next to -out unless set)")
	flag.Parse()
	if *examplesOut == "" {
		*examplesOut = filepath.Join(filepath.Dir(*out), "examples.json")
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
	c, err := Parse(string(b))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The response examples serve only the simulator and the tests: kept
	// apart, the catalog a plugin reads at start is much smaller.
	examples := map[string]map[string]json.RawMessage{}
	for i := range c.Operations {
		o := &c.Operations[i]
		for j := range o.Responses {
			if len(o.Responses[j].Example) == 0 {
				continue
			}
			if examples[o.Name] == nil {
				examples[o.Name] = map[string]json.RawMessage{}
			}
			examples[o.Name][strconv.Itoa(o.Responses[j].Code)] = o.Responses[j].Example
			o.Responses[j].Example = nil
		}
	}
	if err := genfile.WriteJSON(map[string]any{*out: c, *examplesOut: examples}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d operations, %d irregularities noted\n", len(c.Operations), len(c.Irregular))
}

var (
	methods    = map[string]bool{"get": true, "post": true, "put": true, "delete": true}
	paramRE    = regexp.MustCompile(`^- ([A-Za-z0-9_]+): (required )?\((.+)\)$`)
	statusRE   = regexp.MustCompile(`^HTTP status code (\d{3})$`)
	trailingRE = regexp.MustCompile(`,(\s*[}\]])`)
)

type parser struct {
	lines     []string
	irregular []string
}

func (p *parser) note(format string, args ...any) {
	p.irregular = append(p.irregular, fmt.Sprintf(format, args...))
}

// Parse reads the reference.
func Parse(text string) (*catalog.Catalog, error) {
	p := &parser{lines: strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")}
	var starts []int
	for i := 0; i+1 < len(p.lines); i++ {
		if methods[strings.TrimSpace(p.lines[i])] && strings.HasPrefix(p.lines[i+1], "/") {
			starts = append(starts, i)
		}
	}
	c := &catalog.Catalog{Source: "IONOS Cloud Panel API v1 reference"}
	for k, s := range starts {
		end := len(p.lines)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		op, err := p.operation(s, end)
		if err != nil {
			return nil, err
		}
		c.Operations = append(c.Operations, *op)
	}
	// Names: a GET of a collection whose items have a path of their own
	// is a list.
	items := map[string]bool{}
	for _, o := range c.Operations {
		if o.Method == "GET" {
			if i := strings.LastIndex(o.Path, "/"); i > 0 && strings.HasPrefix(o.Path[i+1:], "{") {
				items[o.Path[:i]] = true
			}
		}
	}
	seen := map[string]string{}
	for i := range c.Operations {
		o := &c.Operations[i]
		o.Name = catalog.NameFor(o.Method, o.Path, o.Method == "GET" && items[o.Path])
		if prev, dup := seen[o.Name]; dup {
			return nil, fmt.Errorf("operations %s and %s %s would share the name %q", prev, o.Method, o.Path, o.Name)
		}
		seen[o.Name] = o.Method + " " + o.Path
	}
	fixes(c, p)
	sort.Strings(p.irregular)
	c.Irregular = p.irregular
	return c, nil
}

func isSection(s string) bool {
	switch s {
	case "URI Parameters", "Query Parameters", "Headers", "Body", "Secured by x-token":
		return true
	}
	return statusRE.MatchString(s)
}

func (p *parser) operation(start, end int) (*catalog.Operation, error) {
	method := strings.ToUpper(strings.TrimSpace(p.lines[start]))
	path := strings.TrimSpace(p.lines[start+1])
	o := &catalog.Operation{Method: method, Path: path, Line: start + 1}
	o.Group = strings.SplitN(strings.Trim(path, "/"), "/", 2)[0]
	i := start + 2
	if i < end && !isSection(p.lines[i]) {
		o.Summary = strings.TrimSpace(p.lines[i])
		i++
	}
	hasHeaders := false
	var resp *catalog.Response
	for i < end {
		line := strings.TrimSpace(p.lines[i])
		switch {
		case line == "Secured by x-token":
			i = end
			continue
		case line == "URI Parameters" || line == "Query Parameters":
			params, next := p.params(i+1, end)
			if line == "URI Parameters" {
				o.PathParams = params
			} else {
				o.Query = params
			}
			i = next
			continue
		case line == "Headers":
			hasHeaders = true
		case statusRE.MatchString(line):
			code, _ := strconv.Atoi(statusRE.FindStringSubmatch(line)[1])
			o.Responses = append(o.Responses, catalog.Response{Code: code})
			resp = &o.Responses[len(o.Responses)-1]
		case line == "Body" && resp == nil:
			// The request body: a schema after "Type:", an example after "Example:".
			for j := i + 1; j < end && !statusRE.MatchString(strings.TrimSpace(p.lines[j])); j++ {
				t := strings.TrimSpace(p.lines[j])
				if (t == "Type:" || t == "Content:") && j+1 < end && startsJSON(p.lines[j+1]) {
					blob, next := p.blob(j+1, end, o)
					o.Body = stripSchema(blob, o, p)
					j = next - 1
				} else if t == "Example:" && j+1 < end && startsJSON(p.lines[j+1]) {
					blob, next := p.blob(j+1, end, o)
					o.BodyExample = blob
					j = next - 1
				}
				i = j
			}
		case line == "Example:" && resp != nil && i+1 < end && startsJSON(p.lines[i+1]):
			blob, next := p.blob(i+1, end, o)
			if resp.Example == nil {
				resp.Example = blob
			}
			i = next
			continue
		case line == "Content:" && i+1 < end && startsJSON(p.lines[i+1]):
			// A response schema: the examples document the fields; skip it.
			_, next := p.blob(i+1, end, o)
			i = next
			continue
		}
		i++
	}
	// Every {var} in the path is declared.
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") {
			name := strings.Trim(seg, "{}")
			found := false
			for _, pp := range o.PathParams {
				found = found || pp.Name == name
			}
			if !found {
				return nil, fmt.Errorf("line %d: %s %s: path variable %s is not declared", start+1, method, path, name)
			}
		}
	}
	if !hasHeaders {
		o.Notes = append(o.Notes, "the reference omits the X-TOKEN header block here; the header is sent as everywhere")
		p.note("%s %s (line %d): no Headers block before the answers", method, path, start+1)
	}
	return o, nil
}

// params reads "- name: [required ](type)" entries and skips their prose.
func (p *parser) params(i, end int) ([]catalog.Param, int) {
	var out []catalog.Param
	for i < end {
		line := strings.TrimSpace(p.lines[i])
		if isSection(line) {
			break
		}
		if m := paramRE.FindStringSubmatch(line); m != nil {
			prm := catalog.Param{Name: m[1], Required: m[2] != ""}
			t := strings.TrimSpace(m[3])
			if v, ok := strings.CutPrefix(t, "one of "); ok {
				prm.Type = "enum"
				for _, x := range strings.Split(v, ",") {
					prm.Values = append(prm.Values, strings.TrimSpace(x))
				}
			} else {
				prm.Type = t
			}
			out = append(out, prm)
		}
		i++
	}
	return out, i
}

func startsJSON(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")
}

// blob reads one JSON document starting at line i; it returns the
// document (repaired if it had trailing commas) and the next line.
func (p *parser) blob(i, end int, o *catalog.Operation) (json.RawMessage, int) {
	var b strings.Builder
	depth := 0
	inStr, esc := false, false
	j := i
	for ; j < end; j++ {
		line := p.lines[j]
		b.WriteString(line + "\n")
		for _, r := range line {
			switch {
			case esc:
				esc = false
			case inStr && r == '\\':
				esc = true
			case r == '"':
				inStr = !inStr
			case !inStr && (r == '{' || r == '['):
				depth++
			case !inStr && (r == '}' || r == ']'):
				depth--
			}
		}
		if depth <= 0 {
			j++
			break
		}
	}
	txt := b.String()
	var v any
	if err := json.Unmarshal([]byte(txt), &v); err != nil {
		fixed := trailingRE.ReplaceAllString(txt, "$1")
		if err2 := json.Unmarshal([]byte(fixed), &v); err2 != nil {
			p.note("%s %s (line %d): a JSON block is not valid JSON (%v); left out", o.Method, o.Path, i+1, err)
			return nil, j
		}
		p.note("%s %s (line %d): a JSON block has trailing commas; a corrected form is kept", o.Method, o.Path, i+1)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), j
}

// stripSchema removes prose (descriptions, $schema) from a schema and
// repairs what a validator would reject.
func stripSchema(raw json.RawMessage, o *catalog.Operation, p *parser) json.RawMessage {
	if raw == nil {
		return nil
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	v = clean(v, o, p)
	b, _ := json.Marshal(v)
	return b
}

func clean(v any, o *catalog.Operation, p *parser) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, val := range x {
			switch k {
			case "description", "descripition", "$schema", "title":
				if k == "descripition" {
					p.note("%s %s: a schema says \"descripition\"", o.Method, o.Path)
				}
				continue
			case "type":
				if s, ok := val.(string); ok && s == "bool" {
					p.note("%s %s: a schema gives type \"bool\"; read as boolean", o.Method, o.Path)
					val = "boolean"
				}
			case "properties":
				// Its keys are property names (one may be "description"),
				// each with a schema.
				if props, ok := val.(map[string]any); ok {
					pm := map[string]any{}
					for name, sub := range props {
						pm[name] = clean(sub, o, p)
					}
					m[k] = pm
					continue
				}
			}
			m[k] = clean(val, o, p)
		}
		return m
	case []any:
		for i := range x {
			x[i] = clean(x[i], o, p)
		}
		return x
	}
	return v
}

// fixes applies what the reference's examples and the maintained clients
// agree on where the schemas say otherwise.
func fixes(c *catalog.Catalog, p *parser) {
	get := func(method, path string) *catalog.Operation {
		for i := range c.Operations {
			if c.Operations[i].Method == method && c.Operations[i].Path == path {
				return &c.Operations[i]
			}
		}
		p.note("expected %s %s in the reference; not found", method, path)
		return nil
	}
	listNames := map[string]bool{"page": true, "per_page": true}
	for i := range c.Operations {
		o := &c.Operations[i]
		n := 0
		for j := range o.Query {
			if listNames[o.Query[j].Name] {
				n++
			}
			// start_date and end_date are needed only with period=CUSTOM.
			if (o.Query[j].Name == "start_date" || o.Query[j].Name == "end_date") && o.Query[j].Required {
				o.Query[j].Required = false
				o.Notes = append(o.Notes, o.Query[j].Name+" is marked required but is needed only with period=CUSTOM")
			}
		}
		if n == 2 {
			o.Notes = append(o.Notes, "the reference swaps the descriptions of page and per_page: page is the page number, per_page the page size")
		}
	}
	if o := get("DELETE", "/servers/{server_id}"); o != nil {
		o.Query = append(o.Query, catalog.Param{Name: "keep_ips", Type: "boolean", Recovered: true}, catalog.Param{Name: "keep_hdds", Type: "boolean", Recovered: true})
		o.Notes = append(o.Notes, "keep_ips and keep_hdds are query parameters the reference names only in prose")
		p.note("DELETE /servers/{server_id}: keep_ip appears only in prose; keep_ips and keep_hdds declared as query parameters")
	}
	if o := get("DELETE", "/servers/{server_id}/ips/{ip_id}"); o != nil && o.Body != nil {
		o.Body, o.BodyExample = nil, nil
		o.Query = append(o.Query, catalog.Param{Name: "keep_ip", Type: "boolean", Recovered: true})
		o.Notes = append(o.Notes, "keep_ip is sent as a query parameter, not the documented DELETE body, which proxies drop")
		p.note("DELETE /servers/{server_id}/ips/{ip_id}: keep_ip moved from the body to the query")
	}
	rename := func(o *catalog.Operation, from, to string) {
		if o == nil || o.Body == nil {
			return
		}
		var s map[string]any
		_ = json.Unmarshal(o.Body, &s)
		props, _ := s["properties"].(map[string]any)
		if v, ok := props[from]; ok {
			delete(props, from)
			props[to] = v
			if req, ok := s["required"].([]any); ok {
				for i, r := range req {
					if r == from {
						req[i] = to
					}
				}
			}
			o.Body, _ = json.Marshal(s)
			o.Notes = append(o.Notes, fmt.Sprintf("the schema's %s is sent as %s, as the example and the maintained clients do", from, to))
			p.note("%s %s: schema %s, example %s; %s kept", o.Method, o.Path, from, to, to)
		}
	}
	rename(get("POST", "/servers/{server_id}/ips"), "type_ip", "type")
	rename(get("POST", "/load_balancers"), "health_check_parse", "health_check_parser")
	rename(get("PUT", "/load_balancers/{load_balancer_id}"), "health_check_parse", "health_check_parser")
	if o := get("PUT", "/servers/{server_id}/image"); o != nil && o.Body != nil {
		var s map[string]any
		_ = json.Unmarshal(o.Body, &s)
		if props, ok := s["properties"].(map[string]any); ok {
			if _, has := props["firewall_policy"]; !has {
				props["firewall_policy"] = map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}}
				o.Body, _ = json.Marshal(s)
				o.Notes = append(o.Notes, "firewall_policy is accepted as in the example, though the schema leaves it out")
				p.note("PUT /servers/{server_id}/image: firewall_policy added to the schema from the example")
			}
		}
	}
	if o := get("GET", "/vpns/{vpn_id}/configuration_file"); o != nil {
		for i := range o.Responses {
			if o.Responses[i].Code == 200 {
				o.Responses[i].Example = json.RawMessage(`{"config_zip_file":""}`)
			}
		}
		o.Notes = append(o.Notes, "the reference's example is the fixed instance sizes list (a copy-paste slip); the answer carries config_zip_file, base64")
		p.note("GET /vpns/{vpn_id}/configuration_file: the example is another operation's; replaced by {config_zip_file}")
	}
	if o := get("POST", "/load_balancers/{load_balancer_id}/server_ips"); o != nil {
		o.Summary = "Assigns servers' IPs to a load balancer"
		o.Notes = append(o.Notes, "the reference's summary names a firewall policy (a copy-paste slip)")
		p.note("POST /load_balancers/{load_balancer_id}/server_ips: the summary is another operation's")
	}
	for i := range c.Operations {
		o := &c.Operations[i]
		if (o.Method == "POST" || o.Method == "PUT") && o.Body == nil {
			o.EmptyBody = true
			p.note("%s %s: no request body schema; {} is sent", o.Method, o.Path)
		}
	}
}
