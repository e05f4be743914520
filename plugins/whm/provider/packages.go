package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

// packageNames lists the hosting plans on the server.
func packageNames(ctx context.Context, c *client.Client) ([]string, error) {
	res, err := c.Call(ctx, "listpkgs", nil, nil)
	if err != nil {
		return nil, err
	}
	var d struct {
		Pkg []record `json:"pkg"`
	}
	if err := res.Decode(&d); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range d.Pkg {
		out = append(out, p.s("name"))
	}
	return out, nil
}

// checkPackage fails with the closest names when a plan does not exist.
func checkPackage(ctx context.Context, c *client.Client, name string) error {
	_, err := c.Call(ctx, "getpkginfo", client.Args{"pkg": {name}}, nil)
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := fmt.Sprintf("there is no plan %q on this server", name)
	if names, lerr := packageNames(ctx, c); lerr == nil {
		if s := sdk.Suggest(name, names); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		} else if len(names) > 0 {
			msg += "; plans: " + strings.Join(names, ", ")
		}
	}
	return sdk.BadArg("plan", "%s", msg)
}

func registerPackages(p *sdk.Plugin) {
	register(p, op{name: "package list", summary: "Hosting plans and their limits", risk: sdk.RiskReadOnly,
		aliases:  []string{"plan list"},
		examples: []string{"/whm package list"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List hosting plans", calls: []wcall{call("listpkgs", "List plans")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Pkg []record `json:"pkg"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			t := r.AddTable("", "plan", "disk (MB)", "bandwidth (MB)", "mailboxes", "databases", "addon domains", "features")
			for _, x := range d.Pkg {
				t.Row(x.s("name"), x.s("QUOTA"), x.s("BWLIMIT"), x.s("MAXPOP"), x.s("MAXSQL"), x.s("MAXADDON"), x.s("FEATURELIST"))
			}
			return nil
		},
	})
	register(p, op{name: "package info", summary: "One hosting plan's settings", risk: sdk.RiskReadOnly,
		aliases:  []string{"plan info"},
		params:   []sdk.Param{sdk.String("plan", "The plan").AsRequired().AsPositional()},
		examples: []string{"/whm package info basic"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Show plan " + a.String("plan"), calls: []wcall{call("getpkginfo", "Read the plan", "pkg", a.String("plan"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Pkg record `json:"pkg"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			var kv []sdk.KeyValue
			for _, k := range sortedKeys(d.Pkg) {
				kv = append(kv, sdk.KeyValue{Key: k, Value: d.Pkg.s(k)})
			}
			r.AddPairs("Plan "+a.String("plan"), kv)
			return nil
		},
	})
	register(p, op{name: "package remove", summary: "Delete a hosting plan", risk: sdk.RiskCritical,
		aliases:  []string{"plan remove"},
		help:     "Accounts on the plan keep their limits but lose the plan they refer to.",
		params:   []sdk.Param{sdk.String("plan", "The plan").AsRequired().AsPositional()},
		examples: []string{"/whm package remove oldplan"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			name := a.String("plan")
			if err := checkPackage(ctx, c, name); err != nil {
				return nil, err
			}
			w := &work{summary: "Delete plan " + name, calls: []wcall{call("killpkg", "Delete the plan", "pkgname", name)}}
			res, err := c.Call(ctx, "listaccts", client.Args{"search": {"^" + name + "$"}, "searchtype": {"package"}, "want": {"user"}}, nil)
			if err != nil {
				return nil, err
			}
			var d struct {
				Acct []record `json:"acct"`
			}
			if err := res.Decode(&d); err != nil {
				return nil, err
			}
			if len(d.Acct) > 0 {
				var us []string
				for _, x := range d.Acct {
					us = append(us, x.s("user"))
				}
				w.notes = append(w.notes, fmt.Sprintf("%d accounts are on it: %s.", len(us), strings.Join(us, ", ")))
			} else {
				w.notes = append(w.notes, "No account is on it.")
			}
			return w, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Plan %s is deleted.", a.String("plan"))
			return nil
		},
	})
}
