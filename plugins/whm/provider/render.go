package provider

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// decode reads an answer's data with numbers kept as written, secrets
// already masked.
func decode(c *client.Client, res *client.Result) any {
	if len(res.Data) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(res.Data))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return c.Redactor().Any(v)
}

// renderGeneric shows any answer: WHM's reason when it says more than
// OK, scalars as key-values, lists of records as tables, deeper structure
// as JSON, and the script log of metadata.output.raw.
func renderGeneric(c *client.Client, res *client.Result, r *sdk.Result) {
	fn := res.Metadata.Command
	before := len(r.Parts)
	if reason := strings.TrimSpace(res.Metadata.Reason); reason != "" && reason != "OK" {
		r.AddText("%s", reason)
	}
	for _, m := range res.Metadata.Messages {
		r.AddText("%s", m)
	}
	for _, m := range res.Metadata.Warnings {
		r.Warn("%s", m)
	}
	renderValue(r, "", decode(c, res))
	if raw := strings.TrimSpace(res.Metadata.Output.Raw); raw != "" {
		r.AddCode("Output of "+fn, c.Redactor().String(raw))
	}
	if len(r.Parts) == before {
		r.AddText("%s: done.", fn)
	}
}

func renderValue(r *sdk.Result, title string, v any) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		if len(x) == 0 {
			return
		}
		var kv []sdk.KeyValue
		var nested []string
		for _, k := range sortedKeys(x) {
			if s, ok := scalarText(x[k]); ok {
				kv = append(kv, sdk.KeyValue{Key: k, Value: s})
			} else {
				nested = append(nested, k)
			}
		}
		if len(kv) > 0 {
			r.AddPairs(title, kv)
		}
		for _, k := range nested {
			renderValue(r, joinTitle(title, k), x[k])
		}
	case []any:
		if len(x) == 0 {
			r.AddText("%s: none.", orWord(title, "list"))
			return
		}
		if rows, ok := records(x); ok {
			cols := columns(rows)
			t := r.AddTable(title, cols...)
			for _, row := range rows {
				cells := make([]string, len(cols))
				for i, c := range cols {
					cells[i] = cellText(row[c])
				}
				t.Row(cells...)
			}
			return
		}
		var parts []string
		scalars := true
		for _, e := range x {
			s, ok := scalarText(e)
			scalars = scalars && ok
			parts = append(parts, s)
		}
		if scalars {
			r.AddPairs("", []sdk.KeyValue{{Key: orWord(title, "values"), Value: strings.Join(parts, ", ")}})
			return
		}
		b, _ := json.MarshalIndent(x, "", "  ")
		r.AddCode(title, string(b))
	default:
		s, _ := scalarText(x)
		r.AddPairs("", []sdk.KeyValue{{Key: orWord(title, "value"), Value: s}})
	}
}

func joinTitle(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func orWord(s, w string) string {
	if s == "" {
		return w
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func records(list []any) ([]map[string]any, bool) {
	rows := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		rows = append(rows, m)
	}
	return rows, true
}

// columns are the keys of the rows, the identifying ones first.
func columns(rows []map[string]any) []string {
	seen := map[string]bool{}
	var cols []string
	for _, row := range rows {
		for k := range row {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	rank := func(k string) int {
		switch k {
		case "user", "username", "name", "domain", "ip":
			return 0
		}
		return 1
	}
	sort.Slice(cols, func(i, j int) bool {
		if rank(cols[i]) != rank(cols[j]) {
			return rank(cols[i]) < rank(cols[j])
		}
		return cols[i] < cols[j]
	})
	return cols
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return yesNo(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func cellText(v any) string {
	if s, ok := scalarText(v); ok {
		return s
	}
	if l, ok := v.([]any); ok {
		var parts []string
		all := true
		for _, e := range l {
			s, ok := scalarText(e)
			all = all && ok
			parts = append(parts, s)
		}
		if all {
			return strings.Join(parts, ", ")
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// scrubResult masks any secret pattern left in a result: a last line of
// defence behind the key-based redaction of answers.
func scrubResult(red *redact.Redactor, r *sdk.Result) {
	for i := range r.Parts {
		p := &r.Parts[i]
		p.Title = red.String(p.Title)
		if p.Text != nil {
			p.Text.Body = red.String(p.Text.Body)
		}
		for j := range p.KeyValues {
			p.KeyValues[j].Value = red.Value(p.KeyValues[j].Key, p.KeyValues[j].Value)
		}
		if p.Table != nil {
			for _, row := range p.Table.Rows {
				for j := range row {
					row[j] = red.String(row[j])
				}
			}
		}
		if p.File != nil {
			p.File.Content = []byte(red.String(string(p.File.Content)))
		}
	}
}
