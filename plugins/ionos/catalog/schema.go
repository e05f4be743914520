package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaMu sync.Mutex
	schemas  = map[string]*jsonschema.Schema{}
)

// schema compiles (once) the operation's request body schema.
func (o *Operation) schema() (*jsonschema.Schema, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemas[o.Name]; ok {
		return s, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(o.Body))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft6)
	url := "ionos:" + strings.ReplaceAll(o.Name, " ", "_") + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("%s: the body schema does not compile: %w", o.Name, err)
	}
	schemas[o.Name] = s
	return s, nil
}

// ValidateBody checks a request body (decoded JSON: maps, slices, strings,
// json.Number or float64, bools) against the operation's schema. The error
// names each place at fault: "hardware.vcore: maximum is 16, got 32".
func (o *Operation) ValidateBody(body any) error {
	if len(o.Body) == 0 {
		return nil
	}
	s, err := o.schema()
	if err != nil {
		return err
	}
	// Round-trip through the library's decoder so numbers are as it expects.
	var buf bytes.Buffer
	if err := jsonEncode(&buf, body); err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(&buf)
	if err != nil {
		return err
	}
	err = s.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var msgs []string
	var walk func(u jsonschema.OutputUnit)
	walk = func(u jsonschema.OutputUnit) {
		if len(u.Errors) == 0 && u.Error != nil {
			at := strings.ReplaceAll(strings.TrimPrefix(u.InstanceLocation, "/"), "/", ".")
			if at == "" {
				at = "body"
			}
			msgs = append(msgs, at+": "+u.Error.String())
		}
		for _, c := range u.Errors {
			walk(c)
		}
	}
	walk(*ve.BasicOutput())
	sort.Strings(msgs)
	msgs = dedup(msgs)
	if len(msgs) == 0 {
		return errors.New("the request body does not match the operation's schema")
	}
	return errors.New(strings.Join(msgs, "; "))
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
