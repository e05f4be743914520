// Package catalog is every WHM API 1 function of the reference: name,
// category, title, parameters (type, required, default, possible values,
// example, list style) and the response samples. catalog.json and
// samples.json are generated from the reference by ../gen (make generate)
// and committed; nothing here reads the reference at run time.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed catalog.json
var raw []byte

// rawSamples are the response samples by function name, apart from the
// catalog: a plugin reads the catalog at start, the samples only when its
// simulator answers (the pages of compiled-in data a process never reads
// are never resident).
//
//go:embed samples.json
var rawSamples []byte

// Param is one parameter of a function.
type Param struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Default  string `json:"default,omitempty"`
	// Values are the documented possible values.
	Values     []string `json:"values,omitempty"`
	Example    string   `json:"example,omitempty"`
	Deprecated bool     `json:"deprecated,omitempty"`
	// List is "repeat" (ip=a&ip=b), "numbered" (ip-1, ip-2) or "".
	List string `json:"list,omitempty"`
	// Wildcard names stand for a family (MXCHECK-* matches MXCHECK-example.com).
	Wildcard bool `json:"wildcard,omitempty"`
	// Recovered is set when the name was lost in the reference and taken
	// from its example.
	Recovered bool `json:"recovered,omitempty"`
	// Aliases are other names the reference gives ("uid or gid").
	Aliases []string `json:"aliases,omitempty"`
	// Free marks a placeholder for keys the caller chooses (the cpanel
	// function's "Variable Names and Values").
	Free bool `json:"free,omitempty"`
}

// OpenEnded reports whether the function takes keys beyond its named
// parameters (wildcard families or caller-chosen names).
func (f *Function) OpenEnded() bool {
	for _, p := range f.Params {
		if p.Wildcard || p.Free {
			return true
		}
	}
	return false
}

// Function is one WHM API 1 function.
type Function struct {
	Name       string  `json:"name"`
	Title      string  `json:"title"`
	Category   string  `json:"category"`
	Deprecated bool    `json:"deprecated,omitempty"`
	Body       string  `json:"body,omitempty"` // json, form, multipart: how parameters travel
	Params     []Param `json:"params"`
	// Sample is the documented response, when there is one. The generator
	// fills it in and writes it to samples.json; a loaded catalog gives it
	// by [Catalog.Sample].
	Sample json.RawMessage `json:"sample,omitempty"`
	// Notes list the reference's irregularities around this function.
	Notes []string `json:"notes,omitempty"`
	// Line is where the function starts in the reference.
	Line int `json:"line"`
}

// Catalog is the whole reference.
type Catalog struct {
	Source    string     `json:"source"`
	Functions []Function `json:"functions"`
	// Irregular lists the reference's irregularities found while parsing.
	Irregular []string `json:"irregular"`
	byName    map[string]*Function

	samplesOnce sync.Once
	samples     map[string]json.RawMessage
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
			err = fmt.Errorf("whm catalog: %w", err)
			return
		}
		c.byName = make(map[string]*Function, len(c.Functions))
		for i := range c.Functions {
			c.byName[c.Functions[i].Name] = &c.Functions[i]
		}
		cat = &c
	})
	return cat, err
}

// MustLoad returns the catalog or panics: it is compiled in, so a failure
// is a build defect caught by the first test.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Get returns the function called name.
func (c *Catalog) Get(name string) (*Function, bool) {
	f, ok := c.byName[name]
	return f, ok
}

// Sample returns the documented response of the function called name, or
// nil. The first call reads every sample from the compiled-in samples.
func (c *Catalog) Sample(name string) json.RawMessage {
	c.samplesOnce.Do(func() {
		// Compiled in and checked by the tests: it decodes.
		_ = json.Unmarshal(rawSamples, &c.samples)
	})
	return c.samples[name]
}

// Names lists every function name, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.Functions))
	for _, f := range c.Functions {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

// Param returns the parameter a key belongs to: by name, by a numbered
// form (ip-2 of ip), or by a wildcard family.
func (f *Function) Param(key string) (*Param, bool) {
	for i := range f.Params {
		if f.Params[i].Name == key {
			return &f.Params[i], true
		}
		for _, a := range f.Params[i].Aliases {
			if a == key {
				return &f.Params[i], true
			}
		}
	}
	for i := range f.Params {
		p := &f.Params[i]
		if p.List != "" {
			if base, n, ok := strings.Cut(key, "-"); ok && base == p.Name && isDigits(n) {
				return p, true
			}
		}
		if p.Wildcard && strings.HasPrefix(key, strings.TrimSuffix(p.Name, "*")) {
			return p, true
		}
	}
	return nil, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
