package command

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// Find returns the command of p's catalog called name (its full name or
// an alias, words separated by single spaces).
func Find(p Provider, name string) (*sdk.CommandSpec, bool) {
	name = strings.ToLower(strings.Join(strings.Fields(name), " "))
	cat := p.Catalog()
	for i := range cat {
		if cat[i].Name == name || slices.Contains(cat[i].Aliases, name) {
			return &cat[i], true
		}
	}
	return nil, false
}

// Bind checks a command given as fields, the way a form gives it, against
// p's catalog: name is the command's full name, target its target ("" for
// the default), and values each parameter's values. A value is taken
// whole: it is never split into words or unquoted, so an apostrophe or a
// quote in it means itself. The checks and the errors are those of
// [Parse]; a sensitive value is never shown in one.
func Bind(p Provider, name, target string, values map[string][]string) (*Invocation, error) {
	spec, ok := Find(p, name)
	if !ok {
		var names []string
		for _, c := range p.Catalog() {
			if !c.Hidden {
				names = append(names, c.Name)
			}
		}
		return nil, &Error{Token: name, Msg: fmt.Sprintf("/%s has no command %q", p.Name(), name), Suggestions: Suggest(name, names)}
	}
	inv := &Invocation{Provider: p.Name(), Command: spec, Args: sdk.Args{}}
	if err := resolveTarget(p, inv, target, target != ""); err != nil {
		return nil, err
	}
	// Declared parameters in catalog order, then any others by name, so
	// that errors come in the order a form shows its fields.
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := paramIndex(spec, keys[i]), paramIndex(spec, keys[j])
		if pi != pj {
			return pi < pj
		}
		return keys[i] < keys[j]
	})
	var toks []Token
	for _, k := range keys {
		if !keyRE.MatchString(k) {
			return nil, &Error{Token: k, Msg: "is not a parameter name", Usage: Usage(p.Name(), spec)}
		}
		shown := func(v string) string { return v }
		if prm, ok := spec.Param(k); ok && prm.Sensitive {
			shown = func(string) string { return "…" }
		}
		for _, v := range values[k] {
			// Quoted keeps the binder from reading a "--" prefix or a
			// bare word into it: the field says which parameter it is.
			toks = append(toks, Token{Text: k + "=" + v, Raw: k + "=" + shown(v), Quoted: true, Eq: len(k)})
		}
	}
	if err := bindArgs(p, spec, toks, inv); err != nil {
		return nil, err
	}
	return inv, nil
}

func paramIndex(c *sdk.CommandSpec, name string) int {
	for i, p := range c.Params {
		if p.Name == name {
			return i
		}
	}
	return len(c.Params)
}
