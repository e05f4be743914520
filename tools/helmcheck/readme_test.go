package helmcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// leaves flattens values.yaml: a non-empty map is walked into, anything
// else (a scalar, a list, an empty map) is one documented key.
func leaves(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		out[prefix] = v
		return
	}
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		leaves(p, sub, out)
	}
}

// shown is a default as the README's table writes it.
func shown(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return `""`
		}
		return v
	case map[string]any:
		return "{}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
	}
	return fmt.Sprint(v)
}

var valuesRow = regexp.MustCompile("(?m)^\\| `([^`]+)` \\| [^|]+ \\| `([^`]*)` \\| [^|]+\\|$")

// TestReadmeValuesTable: every value of the chart is in the README's
// table with its real default, and the table names no value the chart
// does not have.
func TestReadmeValuesTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(b, &vals); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	leaves("", vals, want)

	documented := map[string]string{}
	for _, m := range valuesRow.FindAllStringSubmatch(readme(t), -1) {
		if _, dup := documented[m[1]]; dup {
			t.Errorf("README.md documents %s twice", m[1])
		}
		documented[m[1]] = m[2]
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		def, ok := documented[k]
		if !ok {
			t.Errorf("README.md does not document %s", k)
			continue
		}
		if def != shown(want[k]) {
			t.Errorf("README.md: %s defaults to `%s`; values.yaml says %s", k, def, shown(want[k]))
		}
	}
	for k := range documented {
		if _, ok := want[k]; !ok {
			t.Errorf("README.md documents %s, which values.yaml does not have", k)
		}
	}
}

// TestReadmeExample: the install command and the example values file
// the README shows work.
func TestReadmeExample(t *testing.T) {
	text := readme(t)
	if !strings.Contains(text, "helm install deskbot deploy/helm/deskbot -f my-values.yaml") {
		t.Error("README.md lost its install command")
	}
	_, after, ok := strings.Cut(text, "An example `my-values.yaml`")
	if !ok {
		t.Fatal("README.md has no example values")
	}
	_, after, ok = strings.Cut(after, "```yaml\n")
	snippet, _, ok2 := strings.Cut(after, "```\n")
	if !ok || !ok2 {
		t.Fatal("README.md's example values are not a yaml block")
	}
	var vals map[string]any
	if err := yaml.UnmarshalStrict([]byte(snippet), &vals); err != nil {
		t.Fatalf("the example values: %v", err)
	}
	r := render(t, vals) // every object strictly decoded and validated
	for _, kind := range []string{"Deployment", "Secret", "ConfigMap", "Ingress", "Service", "PodDisruptionBudget"} {
		if !slices.ContainsFunc(mapKeysOf(r.docs), func(k string) bool { return strings.HasPrefix(k, kind+"/") }) {
			t.Errorf("the example renders no %s", kind)
		}
	}
	cfg := botYAML(t, r)
	if get(cfg, "plugins", "list") == nil || get(cfg, "slack", "approvals_channel") != "C0APPROVALS" {
		t.Errorf("the example's bot.yaml: %v", cfg)
	}
}

func mapKeysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
