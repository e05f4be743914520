package deploy

import (
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/internal/metrics"
)

const rulesPath = "prometheus/deskbot-alerts.yaml"

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// promtool checks the rules and runs their unit tests (synthetic series
// that must fire some alerts and not others).
func TestAlertRulesPassPromtool(t *testing.T) {
	promtool := needTool(t, "promtool", "DESKBOT_REQUIRE_PROMTOOL")
	for _, args := range [][]string{
		{"check", "rules", "deskbot-alerts.yaml"},
		{"test", "rules", "deskbot-alerts.test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// Every metric an alert reads is one the bot exports, with the labels the
// alert matches on: an alert on a misspelt metric would never fire.
func TestAlertRulesReadOnlyTheBotsMetrics(t *testing.T) {
	labels := exportedMetrics(t)
	labels["up"] = map[string]bool{"job": true, "instance": true} // Prometheus's own, per target

	var rf ruleFile
	b, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	ident := regexp.MustCompile(`\b(deskbot_[a-z0-9_]+|up)\b(\{[^}]*\})?`)
	matcher := regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)`)
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("a rule without alert or expr: %+v", r)
				continue
			}
			found := ident.FindAllStringSubmatch(r.Expr, -1)
			if len(found) == 0 {
				t.Errorf("%s reads no deskbot metric: %s", r.Alert, r.Expr)
			}
			for _, m := range found {
				name := m[1]
				known, ok := labels[name]
				if !ok {
					t.Errorf("%s reads %s, which the bot does not export", r.Alert, name)
					continue
				}
				for _, lm := range matcher.FindAllStringSubmatch(m[2], -1) {
					if l := lm[1]; !known[l] && l != "job" && l != "instance" {
						t.Errorf("%s matches %s on label %q, which it does not have", r.Alert, name, l)
					}
				}
			}
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if r.Annotations[k] == "" {
					t.Errorf("%s has no %s annotation", r.Alert, k)
				}
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s has no severity", r.Alert)
			}
		}
	}
	if n == 0 {
		t.Fatal("no rules")
	}
}

// Each alert links to its runbook: a section of the operations guide
// that exists.
func TestAlertRunbooksExist(t *testing.T) {
	guide, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+\s+(.+)$`).FindAllStringSubmatch(string(guide), -1) {
		anchors[slug(m[1])] = true
	}
	var rf ruleFile
	b, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			doc, anchor, _ := strings.Cut(r.Annotations["runbook_url"], "#")
			if doc != "docs/operations.md" || !anchors[anchor] {
				t.Errorf("%s: runbook %q is not a section of docs/operations.md", r.Alert, r.Annotations["runbook_url"])
			}
		}
	}
}

// slug is the anchor GitHub gives a heading.
func slug(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// exportedMetrics lists the bot's metric families (histograms with their
// _bucket, _sum and _count series) and the labels of each, from the
// collectors metrics.New registers.
func exportedMetrics(t *testing.T) map[string]map[string]bool {
	t.Helper()
	m := metrics.New()
	out := map[string]map[string]bool{}
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if !ok || v.Field(i).Type() == reflect.TypeOf(m.Registry) {
			continue
		}
		ch := make(chan *prometheus.Desc, 16)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			s := d.String()
			name := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(s)[1]
			ls := map[string]bool{}
			if vl := regexp.MustCompile(`variableLabels: \{([^}]*)\}`).FindStringSubmatch(s); vl != nil {
				for _, l := range strings.Split(vl[1], ",") {
					if l = strings.TrimSpace(l); l != "" {
						ls[l] = true
					}
				}
			}
			out[name] = ls
			if _, hist := c.(prometheus.Histogram); hist || v.Field(i).Type() == reflect.TypeOf(m.PluginLatency) {
				bucket := map[string]bool{"le": true}
				for l := range ls {
					bucket[l] = true
				}
				out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = bucket, ls, ls
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %d metrics in the metrics package", len(out))
	}
	return out
}
