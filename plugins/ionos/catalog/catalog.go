// Package catalog is every operation of the IONOS Cloud Panel API v1:
// method, path, path and query parameters, the request body's JSON Schema,
// and the documented responses with their examples. catalog.json and
// examples.json are generated from the API reference by ../gen (make
// generate) and committed; nothing here reads the reference at run time.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed catalog.json
var raw []byte

// rawExamples are the documented response examples by operation and status
// code, apart from the catalog: a plugin reads the catalog at start, the
// examples only when its simulator answers.
//
//go:embed examples.json
var rawExamples []byte

// Param is a path or query parameter.
type Param struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // string, integer, boolean, datetime, enum
	Required bool     `json:"required,omitempty"`
	Values   []string `json:"values,omitempty"`
	// Recovered marks a parameter the reference mentions only in prose.
	Recovered bool `json:"recovered,omitempty"`
}

// Response is one documented answer.
type Response struct {
	Code int `json:"code"`
	// Example is the documented answer. The generator fills it in and
	// writes it to examples.json; a loaded catalog gives it by
	// [Catalog.Example].
	Example json.RawMessage `json:"example,omitempty"`
}

// Operation is one method on one path.
type Operation struct {
	// Name is the method and the path's literal words: "get servers status".
	Name    string `json:"name"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary"`
	Group   string `json:"group"`
	// PathParams are the {vars} of Path, in order.
	PathParams []Param `json:"path_params,omitempty"`
	Query      []Param `json:"query,omitempty"`
	// Body is the request body's JSON Schema (descriptions removed);
	// BodyExample the documented example. EmptyBody operations take {}.
	Body        json.RawMessage `json:"body,omitempty"`
	BodyExample json.RawMessage `json:"body_example,omitempty"`
	EmptyBody   bool            `json:"empty_body,omitempty"`
	Responses   []Response      `json:"responses"`
	// Notes list the reference's irregularities around this operation and
	// how they are handled.
	Notes []string `json:"notes,omitempty"`
	Line  int      `json:"line"`
}

// Async reports whether the operation documents 202 Accepted: the work
// continues after the answer and is followed by polling.
func (o *Operation) Async() bool {
	for _, r := range o.Responses {
		if r.Code == 202 {
			return true
		}
	}
	return false
}

// Success returns the first documented 2xx response.
func (o *Operation) Success() (Response, bool) {
	for _, r := range o.Responses {
		if r.Code >= 200 && r.Code < 300 {
			return r, true
		}
	}
	return Response{}, false
}

// Query param lookup.
func (o *Operation) QueryParam(name string) (*Param, bool) {
	for i := range o.Query {
		if o.Query[i].Name == name {
			return &o.Query[i], true
		}
	}
	return nil, false
}

// Catalog is the whole reference.
type Catalog struct {
	Source     string      `json:"source"`
	Operations []Operation `json:"operations"`
	Irregular  []string    `json:"irregular"`
	byName     map[string]*Operation

	examplesOnce sync.Once
	examples     map[string]map[string]json.RawMessage
}

// Example returns the documented answer of the operation called name with
// status code, or nil. The first call reads every example from the
// compiled-in examples.
func (c *Catalog) Example(name string, code int) json.RawMessage {
	c.examplesOnce.Do(func() {
		// Compiled in and checked by the tests: it decodes.
		_ = json.Unmarshal(rawExamples, &c.examples)
	})
	return c.examples[name][strconv.Itoa(code)]
}

var (
	once sync.Once
	cat  *Catalog
	err  error
)

// Load returns the catalog.
func Load() (*Catalog, error) {
	once.Do(func() {
		var c Catalog
		if err = json.Unmarshal(raw, &c); err != nil {
			err = fmt.Errorf("ionos catalog: %w", err)
			return
		}
		c.byName = map[string]*Operation{}
		for i := range c.Operations {
			c.byName[c.Operations[i].Name] = &c.Operations[i]
		}
		cat = &c
	})
	return cat, err
}

// MustLoad returns the catalog or panics: it is compiled in.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Get returns the operation called name.
func (c *Catalog) Get(name string) (*Operation, bool) {
	o, ok := c.byName[name]
	return o, ok
}

// Names lists the operations' names, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.Operations))
	for _, o := range c.Operations {
		out = append(out, o.Name)
	}
	sort.Strings(out)
	return out
}

// Match finds the operation serving method and a concrete path, literal
// segments first (/servers/fixed_instance_sizes before /servers/{id}), and
// returns the path's variables.
func (c *Catalog) Match(method, path string) (*Operation, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *Operation
	var bestVars map[string]string
	bestScore := -1
	for i := range c.Operations {
		o := &c.Operations[i]
		if !strings.EqualFold(o.Method, method) {
			continue
		}
		ps := strings.Split(strings.Trim(o.Path, "/"), "/")
		if len(ps) != len(segs) {
			continue
		}
		vars := map[string]string{}
		score := 0
		ok := true
		for j, p := range ps {
			if strings.HasPrefix(p, "{") {
				vars[strings.Trim(p, "{}")] = segs[j]
				continue
			}
			if p != segs[j] {
				ok = false
				break
			}
			score++
		}
		if ok && score > bestScore {
			best, bestVars, bestScore = o, vars, score
		}
	}
	return best, bestVars, best != nil
}

// NameFor names an operation from its method and path: the method's word
// and the path's literal segments. A GET of a collection whose items have
// their own path is "list"; other GETs are "get".
func NameFor(method, path string, hasItemPath bool) string {
	var words []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if !strings.HasPrefix(s, "{") {
			words = append(words, s)
		}
	}
	verb := strings.ToLower(method)
	if verb == "get" && hasItemPath {
		verb = "list"
	}
	return verb + " " + strings.Join(words, " ")
}

func jsonEncode(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
