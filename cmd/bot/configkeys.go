package main

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/sdk"
)

// keyProblem is a key of the configuration file that the bot does not
// know: where it is and what was probably meant.
type keyProblem struct {
	Line    int
	Key     string
	Path    string // where it is: "plugins.list[0].targets[1]", "" at the top
	Suggest []string
	Hint    string
}

func (k keyProblem) String() string {
	where := "at the top level"
	if k.Path != "" {
		where = "in " + k.Path
	}
	msg := fmt.Sprintf("%d: unknown key %q %s", k.Line, k.Key, where)
	if len(k.Suggest) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(k.Suggest, " or "))
	}
	if k.Hint != "" {
		msg += "; " + k.Hint
	}
	return msg
}

// unknownKeys lists every key of a configuration file that Config does
// not have, walking the document beside the struct. A document that does
// not parse has none: the decoder says what is wrong with it.
func unknownKeys(doc []byte) []keyProblem {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil || len(root.Content) == 0 {
		return nil
	}
	var out []keyProblem
	walkKeys(root.Content[0], reflect.TypeOf(Config{}), "", &out)
	return out
}

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	durationType    = reflect.TypeOf(time.Duration(0))
)

func walkKeys(n *yaml.Node, t reflect.Type, path string, out *[]keyProblem) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return // a leaf, or a type that checks itself (secret references)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue // a merge key: its own keys are walked where defined
			}
			f, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				p := keyProblem{Line: k.Line, Key: k.Value, Path: path, Suggest: sdk.Suggest(k.Value, names)}
				if t == reflect.TypeOf(TargetConfig{}) && len(p.Suggest) == 0 {
					p.Hint = "a provider's settings go under settings:, its secrets under secrets:"
				}
				*out = append(*out, p)
				continue
			}
			walkKeys(v, f.Type, joinPath(path, k.Value), out)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			walkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkKeys(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value), out)
		}
	}
}

// yamlFields maps a struct's yaml keys to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
