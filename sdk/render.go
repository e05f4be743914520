package sdk

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// AddJSON renders decoded JSON (maps, slices, strings, numbers, bools)
// into readable parts: scalars as key-values, lists of records as tables
// (identifying columns first), lists of scalars as one line, deeper
// structure under dotted titles, and what is left as indented JSON. It is
// for answers a plugin has no dedicated rendering for. Redact secrets
// before calling it.
func (r *Result) AddJSON(title string, v any) *Result {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		if len(x) == 0 {
			return r
		}
		var kv []KeyValue
		var nested []string
		for _, k := range SortedKeys(x) {
			if s, ok := ScalarText(x[k]); ok {
				kv = append(kv, KeyValue{Key: k, Value: s})
			} else {
				nested = append(nested, k)
			}
		}
		if len(kv) > 0 {
			r.AddPairs(title, kv)
		}
		for _, k := range nested {
			r.AddJSON(joinTitle(title, k), x[k])
		}
	case []any:
		if len(x) == 0 {
			r.AddText("%s: none.", orWord(title, "list"))
			return r
		}
		if rows, ok := records(x); ok {
			cols := recordColumns(rows)
			t := r.AddTable(title, cols...)
			for _, row := range rows {
				cells := make([]string, len(cols))
				for i, c := range cols {
					cells[i] = CellText(row[c])
				}
				t.Row(cells...)
			}
			return r
		}
		var parts []string
		scalars := true
		for _, e := range x {
			s, ok := ScalarText(e)
			scalars = scalars && ok
			parts = append(parts, s)
		}
		if scalars {
			r.AddPairs("", []KeyValue{{Key: orWord(title, "values"), Value: strings.Join(parts, ", ")}})
			return r
		}
		b, _ := json.MarshalIndent(x, "", "  ")
		r.AddCode(title, string(b))
	default:
		s, _ := ScalarText(x)
		r.AddPairs("", []KeyValue{{Key: orWord(title, "value"), Value: s}})
	}
	return r
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

// SortedKeys returns a map's keys in order.
func SortedKeys(m map[string]any) []string {
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

// recordColumns are the rows' keys, the identifying ones first.
func recordColumns(rows []map[string]any) []string {
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
		case "name", "user", "username", "domain", "ip":
			return 0
		case "id":
			return 1
		}
		return 2
	}
	sort.Slice(cols, func(i, j int) bool {
		if rank(cols[i]) != rank(cols[j]) {
			return rank(cols[i]) < rank(cols[j])
		}
		return cols[i] < cols[j]
	})
	return cols
}

// ScalarText writes a JSON scalar as text; ok is false for objects and
// lists.
func ScalarText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "yes", true
		}
		return "no", true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

// CellText writes any JSON value for a table cell: scalars as text, lists
// of scalars joined, the rest as compact JSON.
func CellText(v any) string {
	if s, ok := ScalarText(v); ok {
		return s
	}
	if l, ok := v.([]any); ok {
		var parts []string
		all := true
		for _, e := range l {
			s, ok := ScalarText(e)
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
