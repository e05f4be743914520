package docs

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	cln "github.com/deskbot/deskbot/plugins/cln/provider"
	cloudflow "github.com/deskbot/deskbot/plugins/cloudflow/provider"
	example "github.com/deskbot/deskbot/plugins/example/provider"
	ionos "github.com/deskbot/deskbot/plugins/ionos/provider"
	whm "github.com/deskbot/deskbot/plugins/whm/provider"
	"github.com/deskbot/deskbot/sdk"
)

// The reference's table of a provider's target settings and secrets
// lists exactly what the plugin declares, required where it requires it:
// an operator reads the reference, the plugin checks the configuration.
func TestConfigurationReferenceListsEveryProviderSetting(t *testing.T) {
	b, err := os.ReadFile("configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, p := range map[string]*sdk.Plugin{"whm": whm.New(), "cln": cln.New(), "ionos": ionos.New(), "cloudflow": cloudflow.New(), "example": example.New()} {
		cat, err := p.Describe(context.Background(), &sdk.DescribeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		section := providerSection(doc, name)
		if section == "" {
			t.Errorf("configuration.md has no section ### %s", name)
			continue
		}
		rows := tableRows(section)
		check := func(kind string, ps []sdk.Param, sandboxOnly bool) {
			for _, param := range ps {
				if param.Name == sdk.SimTimePerCall.Name {
					continue // every plugin's, described once
				}
				row, ok := rows[param.Name]
				switch {
				case !ok:
					t.Errorf("configuration.md, %s: %s %s is not in the table", name, kind, param.Name)
				case sandboxOnly && !strings.Contains(row, "*sandbox only*"):
					t.Errorf("configuration.md, %s: %s %s is not marked sandbox only", name, kind, param.Name)
				case param.Required && !strings.Contains(row, "required") && !strings.Contains(row, "| yes |"):
					t.Errorf("configuration.md, %s: %s %s is required but not said to be", name, kind, param.Name)
				}
				delete(rows, param.Name)
			}
		}
		check("setting", cat.Settings, false)
		check("secret", cat.Secrets, false)
		check("sandbox setting", cat.SandboxSettings, true)
		for key := range rows {
			t.Errorf("configuration.md, %s: %s is in the table but the plugin takes no such setting or secret", name, key)
		}
	}
	if !strings.Contains(doc, "`"+sdk.SimTimePerCall.Name+"`") {
		t.Errorf("configuration.md does not describe %s", sdk.SimTimePerCall.Name)
	}
}

// providerSection is the text under "### NAME", up to the next heading.
func providerSection(doc, name string) string {
	_, rest, ok := strings.Cut(doc, "\n### "+name+"\n")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "\n#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// tableRows maps the first cell of each table row (a `key`) to the row.
func tableRows(section string) map[string]string {
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)` \\|.*$").FindAllStringSubmatch(section, -1) {
		rows[m[1]] = m[0]
	}
	return rows
}
