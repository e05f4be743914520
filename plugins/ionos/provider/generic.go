package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/plugins/ionos/client"
	"github.com/deskbot/deskbot/sdk"
)

// secretNames are parameters whose values are secrets.
var secretNames = map[string]bool{"password": true, "api_key": true, "key": true, "user_data": true, "kerberos_content_file": true}

// bodyParam describes how a top-level body property became a parameter.
type bodyParam struct {
	declared, prop, kind string // kind: string, integer, number, boolean, array, json
}

type schemaProp struct {
	Type  any   `json:"type"`
	Enum  []any `json:"enum"`
	Items *struct {
		Type any `json:"type"`
	} `json:"items"`
	Minimum *float64 `json:"minimum"`
	Maximum *float64 `json:"maximum"`
}

type schemaDoc struct {
	Type       any                   `json:"type"`
	Required   []string              `json:"required"`
	Properties map[string]schemaProp `json:"properties"`
}

func typeName(t any) string {
	switch x := t.(type) {
	case string:
		return x
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}

// paramsOf declares an operation's parameters: path variables, query
// parameters, and the body's top-level properties (objects and lists of
// objects as JSON text), plus body=JSON for the whole body at once.
func paramsOf(o *catalog.Operation) ([]sdk.Param, []bodyParam) {
	var ps []sdk.Param
	taken := map[string]bool{"target": true, "help": true}
	for i, pp := range o.PathParams {
		p := sdk.String(pp.Name, "path").AsRequired()
		if i == len(o.PathParams)-1 {
			// The last path variable names what the call acts on
			// (/servers/{server_id}/ips/{ip_id}: the IP).
			p = p.AsResource()
		}
		ps = append(ps, p)
		taken[pp.Name] = true
	}
	for _, q := range o.Query {
		var p sdk.Param
		switch q.Type {
		case "integer":
			p = sdk.Int(q.Name, "query").AtLeast(0)
		case "boolean":
			p = sdk.Bool(q.Name, "query")
		case "enum":
			p = sdk.Enum(q.Name, "query", q.Values...)
		default:
			p = sdk.String(q.Name, "query, "+q.Type)
		}
		if q.Required {
			p = p.AsRequired()
		}
		ps = append(ps, p)
		taken[q.Name] = true
	}
	if len(o.Body) == 0 {
		return ps, nil
	}
	bodyPs, bps := bodyParamsOf(o, taken)
	ps = append(ps, bodyPs...)
	if !taken["body"] {
		ps = append(ps, sdk.String("body", "The whole request body as JSON, instead of its fields"))
	}
	return ps, bps
}

// bodyParamsOf declares the body's top-level properties as parameters, in
// name order; a name a path or query parameter took becomes body.NAME.
func bodyParamsOf(o *catalog.Operation, taken map[string]bool) ([]sdk.Param, []bodyParam) {
	var sd schemaDoc
	_ = json.Unmarshal(o.Body, &sd)
	names := make([]string, 0, len(sd.Properties))
	for n := range sd.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var ps []sdk.Param
	var bps []bodyParam
	for _, n := range names {
		sp := sd.Properties[n]
		declared := n
		if taken[n] {
			declared = "body." + n
		}
		taken[declared] = true
		var p sdk.Param
		kind := typeName(sp.Type)
		switch {
		case len(sp.Enum) > 0:
			var vals []string
			for _, e := range sp.Enum {
				vals = append(vals, fmt.Sprint(e))
			}
			p = sdk.Enum(declared, "body", vals...)
			kind = "string"
		case kind == "integer":
			p = sdk.Int(declared, "body")
			if sp.Minimum != nil && sp.Maximum != nil {
				p = p.Between(int64(*sp.Minimum), int64(*sp.Maximum))
			}
		case kind == "boolean":
			p = sdk.Bool(declared, "body")
		case kind == "number":
			p = sdk.String(declared, "body, a number")
		case kind == "array" && sp.Items != nil && typeName(sp.Items.Type) == "string":
			p = sdk.String(declared, "body, repeatable").AsRepeated()
			kind = "array"
		case kind == "string" || kind == "":
			p = sdk.String(declared, "body")
			kind = "string"
		default:
			p = sdk.String(declared, "body, JSON")
			kind = "json"
		}
		if secretNames[n] {
			p = p.AsSensitive()
		}
		ps = append(ps, p)
		bps = append(bps, bodyParam{declared: declared, prop: n, kind: kind})
	}
	return ps, bps
}

// request builds the call from the arguments and checks the body against
// the operation's schema.
func request(o *catalog.Operation, bps []bodyParam, a sdk.Args) (client.Request, error) {
	vars := map[string]string{}
	for _, pp := range o.PathParams {
		vars[pp.Name] = a.String(pp.Name)
	}
	path, err := client.Fill(o.Path, vars)
	if err != nil {
		return client.Request{}, err
	}
	r := client.Request{Method: o.Method, Path: path}
	if len(o.Query) > 0 {
		q := url.Values{}
		for _, p := range o.Query {
			if a.Has(p.Name) {
				q.Set(p.Name, sdk.FormatValue(a[p.Name]))
				if p.Type == "boolean" {
					q.Set(p.Name, strconv.FormatBool(a.Bool(p.Name)))
				}
			}
		}
		if len(q) > 0 {
			r.Query = q
		}
	}
	if o.EmptyBody {
		r.EmptyBody = true
	}
	if len(o.Body) == 0 {
		return r, nil
	}
	body := map[string]any{}
	if raw := a.String("body"); raw != "" {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return r, sdk.BadArg("body", "not a JSON object: %v", err)
		}
	}
	for _, bp := range bps {
		if !a.Has(bp.declared) {
			continue
		}
		if a.Has("body") {
			return r, sdk.BadArg(bp.declared, "give the body either whole (body=) or by fields, not both")
		}
		switch bp.kind {
		case "integer":
			body[bp.prop] = a.Int(bp.declared)
		case "boolean":
			body[bp.prop] = a.Bool(bp.declared)
		case "number":
			n, err := strconv.ParseFloat(a.String(bp.declared), 64)
			if err != nil {
				return r, sdk.BadArg(bp.declared, "%q is not a number", a.String(bp.declared))
			}
			body[bp.prop] = n
		case "array":
			body[bp.prop] = a.Strings(bp.declared)
		case "json":
			var v any
			if err := json.Unmarshal([]byte(a.String(bp.declared)), &v); err != nil {
				return r, sdk.BadArg(bp.declared, "not JSON: %v", err)
			}
			body[bp.prop] = v
		default:
			body[bp.prop] = a.String(bp.declared)
		}
	}
	if err := o.ValidateBody(jsonish(body)); err != nil {
		return r, sdk.BadArg("body", "%v", err)
	}
	r.Body, r.EmptyBody = body, false
	return r, nil
}

func registerGeneric(p *sdk.Plugin) {
	cat := catalog.MustLoad()
	// Each "call" command is built from the catalog when Describe or a
	// call asks for it, not held as a second copy of the catalog.
	names := make([]string, 0, len(cat.Operations))
	for _, o := range cat.Operations {
		names = append(names, "call "+o.Name)
	}
	p.CommandsOnDemand(names, func(s *sdk.Plugin, name string) {
		o, _ := cat.Get(strings.TrimPrefix(name, "call "))
		declareCall(s, o)
	})
	registerOperations(p, cat)
}

// declareCall declares "call OPERATION" for one catalog operation.
func declareCall(p *sdk.Plugin, o *catalog.Operation) {
	params, bps := paramsOf(o)
	help := fmt.Sprintf("%s %s. Risk: %s.", o.Method, o.Path, catalog.RiskOf(o))
	if o.Async() {
		help += " The work goes on after the answer; server operations are followed until done."
	}
	for _, n := range o.Notes {
		help += "\n• " + n
	}
	summary := o.Summary
	if summary == "" {
		summary = o.Method + " " + o.Path
	}
	rating := catalog.Rate(o)
	if rating.Sensitive {
		help += " Its answer holds a credential: it is shown to the requester only."
	}
	declare(p, op{Name: "call " + o.Name, Summary: summary, Help: help, Hidden: true, Risk: rating.Risk, SensitiveOutput: rating.Sensitive, Params: params,
		Examples: []string{exampleOf(o)},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			r, err := request(o, bps, a)
			if err != nil {
				return nil, err
			}
			id := a.String("server_id")
			w := &work{Summary: fmt.Sprintf("%s %s (%s)", o.Method, o.Path, summary), Steps: []step{callStep(c, o, summary, r, id)}}
			if w.Steps[0].Follows {
				w.CheckWith = checkWith(id)
			}
			return w, nil
		},
	})
}

// callStep is the call an operation makes. Asynchronous work on a server
// is followed: its state until steady, or a deleted server until it is
// gone.
func callStep(c *client.Client, o *catalog.Operation, what string, r client.Request, serverID string) step {
	if serverID == "" || !strings.HasPrefix(o.Path, "/servers/{server_id}") || !o.Async() {
		return call(c, what, r)
	}
	if o.Method == http.MethodDelete && o.Path == "/servers/{server_id}" {
		return followed(c, what, r, untilGone(c, serverID))
	}
	if o.Name == "put servers status action" {
		body, _ := r.Body.(map[string]any)
		action, _ := body["action"].(string)
		return followed(c, what, r, untilState(c, serverID, targetOf(action)))
	}
	return onServer(c, what, r, serverID)
}

// registerOperations declares "operations", the search over the catalog.
func registerOperations(p *sdk.Plugin, cat *catalog.Catalog) {
	declare(p, op{Name: "operations", Summary: "Find Cloud Panel API operations", Risk: sdk.RiskReadOnly,
		Help:     "Lists what `/ionos call` reaches. `/ionos help call OPERATION` shows one operation's parameters.",
		Params:   []sdk.Param{sdk.String("search", "Words to look for in the name, path or summary").AsPositional()},
		Examples: []string{"/ionos operations snapshot", "/ionos operations firewall"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "Search the operation catalog (no call to the API)"}, nil
		},
		Show: func(c *client.Client, a sdk.Args, _ []*client.Result, r *sdk.Result) error {
			words := strings.Fields(strings.ToLower(a.String("search")))
			t := r.AddTable("", "operation", "method", "path", "risk")
			n := 0
			for _, name := range cat.Names() {
				o, _ := cat.Get(name)
				hay := strings.ToLower(o.Name + " " + o.Path + " " + o.Summary)
				ok := true
				for _, w := range words {
					ok = ok && strings.Contains(hay, w)
				}
				if !ok {
					continue
				}
				t.Row(o.Name, o.Method, o.Path, catalog.RiskOf(o).String())
				n++
			}
			if n == 0 {
				r.Parts = r.Parts[:0]
				r.AddText("No operation matches %q.", a.String("search"))
				return nil
			}
			r.AddText("%d operations. Run one with `/ionos call OPERATION key=value ...`.", n)
			return nil
		},
	})
}

// exampleOf is a call as a user would type it: every path parameter, and
// each required query parameter (its first value when it has a list).
func exampleOf(o *catalog.Operation) string {
	s := "/ionos call " + o.Name
	for _, pp := range o.PathParams {
		s += " " + pp.Name + "=…"
	}
	for _, q := range o.Query {
		if !q.Required {
			continue
		}
		v := "…"
		if len(q.Values) > 0 {
			v = q.Values[0]
		}
		s += " " + q.Name + "=" + v
	}
	return s
}

// showGeneric renders answers without a dedicated view.
func showGeneric(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
	for _, d := range res {
		if d.Final != "" {
			r.AddText("Done: %s.", d.Final)
		}
		if len(bytes.TrimSpace(d.Body)) == 0 {
			if d.Final == "" {
				r.AddText("Done (HTTP %d).", d.Status)
			}
			continue
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(d.Body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			r.AddCode("Answer", c.Redactor().String(string(d.Body)))
			continue
		}
		r.AddJSON("", c.Redactor().Any(v))
	}
	return nil
}
