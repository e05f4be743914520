package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

// incomplete are functions whose reference leaves parameters unnamed (the
// fields of other DNS record types, schema items of JSON bodies): they
// take undeclared key=value arguments, and the plan lists them.
var incomplete = map[string]bool{
	"addzonerecord": true, "editzonerecord": true, "get_mailbox_status": true, "get_mailbox_status_list": true,
	"set_service_proxy_backends": true, "enqueue_transfer_item": true, "update_sql_config": true,
	"php_fpm_config_set": true, "batch_create_cphulk_records": true,
}

// notOffered are functions "call" does not reach, and why.
var notOffered = map[string]string{
	"batch": "a batch would hide its calls from the policy; run the functions one by one",
}

var rangeRE = regexp.MustCompile(`\[ *(-?\d+) *\.\. *(-?\d+) *\]`)
var atLeastRE = regexp.MustCompile(`>= *(-?\d+)`)

// reserved are parameter names the bot keeps for itself; a function's
// parameter of that name is declared with a whm_ prefix and sent under
// its own name.
var reserved = map[string]bool{"target": true, "help": true}

func declaredName(name string) string {
	if reserved[strings.ToLower(name)] {
		return "whm_" + name
	}
	return name
}

func wireName(declared string) string {
	if n, ok := strings.CutPrefix(declared, "whm_"); ok && reserved[strings.ToLower(n)] {
		return n
	}
	return declared
}

// paramOf turns a catalog parameter into a command parameter.
func paramOf(fn string, cp catalog.Param) sdk.Param {
	desc := cp.Type
	if cp.Deprecated {
		desc += ", deprecated"
	}
	if cp.Example != "" && !catalog.SecretParam(fn, cp) && len(cp.Example) < 80 {
		desc += ". Example: " + cp.Example
	}
	var p sdk.Param
	t := strings.ToLower(cp.Type)
	switch {
	case len(cp.Values) > 0:
		var vals []sdk.EnumValue
		for _, v := range cp.Values {
			ev := sdk.EnumValue{Value: v}
			if isBinary(cp.Values) {
				if v == "1" {
					ev.Aliases = []string{"yes", "true", "on"}
				} else {
					ev.Aliases = []string{"no", "false", "off"}
				}
			}
			vals = append(vals, ev)
		}
		p = sdk.EnumOf(declaredName(cp.Name), desc, vals...)
	case strings.HasPrefix(t, "integer") && !strings.Contains(t, " or "):
		p = sdk.Int(declaredName(cp.Name), desc)
		if m := rangeRE.FindStringSubmatch(t); m != nil {
			lo, _ := strconv.ParseInt(m[1], 10, 64)
			hi, _ := strconv.ParseInt(m[2], 10, 64)
			p = p.Between(lo, hi)
		} else if m := atLeastRE.FindStringSubmatch(t); m != nil {
			lo, _ := strconv.ParseInt(m[1], 10, 64)
			p = p.AtLeast(lo)
		}
	case t == "string <ipv4>":
		p = sdk.IP(declaredName(cp.Name), desc)
	case t == "string <email>":
		p = sdk.Email(declaredName(cp.Name), desc)
	default:
		p = sdk.String(declaredName(cp.Name), desc)
	}
	if cp.List != "" || strings.HasPrefix(t, "array") {
		p = p.AsRepeated()
	}
	// WHM applies its own defaults: a call sends only what was typed.
	if cp.Required {
		p = p.AsRequired()
	} else if cp.Default != "" {
		p.Description += ". WHM's default: " + cp.Default
	}
	if len(cp.Aliases) > 0 {
		p = p.WithAliases(cp.Aliases...)
	}
	if catalog.SecretParam(fn, cp) {
		p = p.AsSensitive()
	}
	return p
}

func isBinary(vs []string) bool {
	if len(vs) != 2 {
		return false
	}
	return vs[0] == "0" && vs[1] == "1" || vs[0] == "1" && vs[1] == "0"
}

// wire writes a call's arguments as WHM takes them: list parameters
// repeated (ip=a&ip=b) or numbered (user-0, user-1) as the reference
// shows; JSON-body functions get a JSON object.
func wire(f *catalog.Function, a sdk.Args) (url.Values, any, []string, error) {
	form := url.Values{}
	body := map[string]any{}
	var extra []string
	for _, k := range a.Keys() {
		v := a[k]
		cp, ok := f.Param(wireName(k))
		if !ok && !takesAnyKey(f) && !incomplete[f.Name] {
			return nil, nil, nil, sdk.BadArg(k, "%s has no parameter %q", f.Name, k)
		}
		name := k
		if ok && !cp.Wildcard && !cp.Free {
			name = cp.Name
		} else {
			extra = append(extra, k)
		}
		var vals []string
		switch x := v.(type) {
		case []string:
			vals = x
		default:
			vals = []string{sdk.FormatValue(v)}
		}
		if f.Body == "json" {
			if len(vals) == 1 && !(ok && cp.List != "") {
				body[name] = jsonValue(vals[0])
			} else {
				list := make([]any, len(vals))
				for i, s := range vals {
					list[i] = jsonValue(s)
				}
				body[name] = list
			}
			continue
		}
		if ok && cp.List == "numbered" && len(vals) > 1 {
			start := 1
			if strings.Contains(cp.Example, cp.Name+"-0") {
				start = 0
			}
			for i, s := range vals {
				form.Add(name+"-"+strconv.Itoa(start+i), s)
			}
			continue
		}
		for _, s := range vals {
			form.Add(name, s)
		}
	}
	if f.Body == "json" {
		return nil, body, extra, nil
	}
	return form, nil, extra, nil
}

// takesAnyKey reports whether a function takes names the caller chooses.
func takesAnyKey(f *catalog.Function) bool {
	for _, p := range f.Params {
		if p.Free {
			return true
		}
	}
	return false
}

// jsonValue keeps a value that is JSON (an object, a list, a number) as
// such and sends anything else as a string.
func jsonValue(s string) any {
	t := strings.TrimSpace(s)
	if t != "" && (t[0] == '{' || t[0] == '[') {
		var v any
		if json.Unmarshal([]byte(t), &v) == nil {
			return v
		}
	}
	return s
}

func registerGeneric(p *sdk.Plugin) {
	cat := catalog.MustLoad()
	// Hundreds of functions: each "call" command is built from the catalog
	// when Describe or a call asks for it, not held as a second copy.
	var names []string
	for _, f := range cat.Functions {
		if _, skip := notOffered[f.Name]; !skip {
			names = append(names, "call "+f.Name)
		}
	}
	p.CommandsOnDemand(names, func(s *sdk.Plugin, name string) {
		f, _ := cat.Get(strings.TrimPrefix(name, "call "))
		declareCall(s, f)
	})
	registerFunctions(p, cat)
}

// declareCall declares "call FUNCTION" for one catalog function.
func declareCall(p *sdk.Plugin, f *catalog.Function) {
	var params []sdk.Param
	for _, cp := range f.Params {
		if cp.Wildcard || cp.Free {
			continue
		}
		params = append(params, paramOf(f.Name, cp))
	}
	title := f.Title
	if f.Deprecated {
		title += " (deprecated)"
	}
	help := fmt.Sprintf("WHM API 1 function `%s`, in %s. Risk: %s.", f.Name, f.Category, catalog.RiskOf(f.Name))
	if f.OpenEnded() {
		var fam []string
		for _, cp := range f.Params {
			if cp.Wildcard || cp.Free {
				fam = append(fam, "`"+cp.Name+"`")
			}
		}
		help += " It also takes parameters you name: " + strings.Join(fam, ", ") + "."
	}
	if incomplete[f.Name] {
		help += " The reference leaves some of its parameters unnamed; undeclared key=value arguments are passed on and listed in the plan."
	}
	for _, rule := range catalog.RulesOf(f.Name) {
		help += "\n• Rated by the rule: " + rule.Says
	}
	for _, n := range f.Notes {
		help += "\n• " + n
	}
	if catalog.RiskOf(f.Name) > sdk.RiskReadOnly {
		markResource(params)
	}
	registerOps(p, op{
		Name: "call " + f.Name, Summary: title, Help: help, Hidden: true,
		Risk: catalog.RiskOf(f.Name), Params: params, ExtraArguments: f.OpenEnded() || incomplete[f.Name],
		SensitiveOutput: catalog.SensitiveOutput(f.Name),
		Examples:        []string{exampleOf(f)},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if f.Body == "multipart" {
				return nil, fmt.Errorf("%s takes a file upload, which chat cannot send", f.Name)
			}
			form, body, extra, err := wire(f, a)
			if err != nil {
				return nil, err
			}
			w := single(fmt.Sprintf("Call WHM API 1 %s (%s)", f.Name, title), callStep(c, f.Name, title, form, body))
			if len(extra) > 0 {
				sort.Strings(extra)
				w.Notes = append(w.Notes, "Parameters not in the reference, passed as given: "+strings.Join(extra, ", "))
			}
			if f.Deprecated {
				w.Notes = append(w.Notes, "This function is deprecated.")
			}
			return w, nil
		},
	})
}

// resourceNames are the parameter names that name what a WHM function
// acts on, most telling first.
var resourceNames = []string{"domain", "zone", "user", "username", "cpanel.user", "cpanel_jsonapi_user", "cpuser",
	"pkgname", "featurelist", "reseller", "token_name", "ip", "name", "hostname"}

// markResource marks the parameter that names what a function changes,
// for approvers to type: a required one of the usual names, else the
// first required one, else an optional one of the usual names. A secret
// is never it; a function with none of these acts on the server as a
// whole and marks nothing.
func markResource(ps []sdk.Param) {
	usable := func(p sdk.Param) bool { return !p.Sensitive }
	pick := -1
	for _, required := range []bool{true, false} {
		for _, n := range resourceNames {
			for i, p := range ps {
				if pick < 0 && usable(p) && p.Required == required && p.Name == n {
					pick = i
				}
			}
		}
		if pick < 0 && required {
			for i, p := range ps {
				if pick < 0 && usable(p) && p.Required {
					pick = i
				}
			}
		}
		if pick >= 0 {
			ps[pick] = ps[pick].AsResource()
			return
		}
	}
}

// registerFunctions declares "functions", the search over the catalog.
func registerFunctions(p *sdk.Plugin, cat *catalog.Catalog) {
	registerOps(p, op{
		Name: "functions", Summary: "Find WHM API 1 functions by name, title or category", Risk: sdk.RiskReadOnly,
		Help: "Lists the functions `/whm call` reaches. Then `/whm help call FUNCTION` shows one function's parameters.",
		Params: []sdk.Param{
			sdk.String("search", "Words to look for in the name, title or category").AsPositional(),
			sdk.EnumOf("risk", "Only functions of this risk level", sdk.EnumValue{Value: "read-only"}, sdk.EnumValue{Value: "low"}, sdk.EnumValue{Value: "high"}, sdk.EnumValue{Value: "critical"}),
		},
		Examples: []string{"/whm functions cphulk", "/whm functions dns risk=read-only"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "Search the function catalog (no call to the server)"}, nil
		},
		Show: func(c *client.Client, a sdk.Args, _ []*client.Result, r *sdk.Result) error {
			words := strings.Fields(strings.ToLower(a.String("search")))
			t := r.AddTable("", "function", "title", "category", "risk")
			n := 0
			for _, name := range cat.Names() {
				f, _ := cat.Get(name)
				if _, skip := notOffered[name]; skip {
					continue
				}
				hay := strings.ToLower(f.Name + " " + f.Title + " " + f.Category)
				ok := true
				for _, w := range words {
					ok = ok && strings.Contains(hay, w)
				}
				risk := catalog.RiskOf(name).String()
				if !ok || a.Has("risk") && a.String("risk") != risk {
					continue
				}
				t.Row(f.Name, f.Title, f.Category, risk)
				n++
			}
			if n == 0 {
				r.Parts = r.Parts[:0]
				r.AddText("No function matches %q.", a.String("search"))
				return nil
			}
			r.AddText("%d functions. Run one with `/whm call FUNCTION key=value ...`; `/whm help call FUNCTION` lists its parameters.", n)
			return nil
		},
	})
}

// exampleOf writes a plausible call from the reference's examples.
func exampleOf(f *catalog.Function) string {
	var b strings.Builder
	b.WriteString("/whm call " + f.Name)
	for _, cp := range f.Params {
		if !cp.Required || cp.Wildcard || cp.Free || catalog.SecretParam(f.Name, cp) {
			continue
		}
		v := cp.Example
		if i := strings.Index(v, "="); i >= 0 && strings.HasPrefix(v, cp.Name) {
			v = v[i+1:]
		}
		if v == "" || strings.ContainsAny(v, " &\"") || len(v) > 40 {
			v = "…"
		}
		b.WriteString(" " + cp.Name + "=" + v)
	}
	return b.String()
}
