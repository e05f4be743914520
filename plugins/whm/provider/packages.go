package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

// plans is how listpkgs answers.
type plans struct {
	Pkg []record `json:"pkg"`
}

// packageNames lists the hosting plans on the server.
func packageNames(ctx context.Context, c *client.Client) ([]string, error) {
	d, err := read[plans](ctx, c, "listpkgs", nil)
	if err != nil {
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
	registerOps(p, packageList(), packageInfo(), packageRemove())
}

func packageList() op {
	return op{Name: "package list", Summary: "Hosting plans and their limits", Risk: sdk.RiskReadOnly,
		Aliases:  []string{"plan list"},
		Examples: []string{"/whm package list"},
		Work:     reads("List hosting plans", "listpkgs", "List plans"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d plans
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			t := r.AddTable("", "plan", "disk (MB)", "bandwidth (MB)", "mailboxes", "databases", "addon domains", "features")
			for _, x := range d.Pkg {
				t.Row(x.s("name"), x.s("QUOTA"), x.s("BWLIMIT"), x.s("MAXPOP"), x.s("MAXSQL"), x.s("MAXADDON"), x.s("FEATURELIST"))
			}
			return nil
		},
	}
}

func packageInfo() op {
	return op{Name: "package info", Summary: "One hosting plan's settings", Risk: sdk.RiskReadOnly,
		Aliases:  []string{"plan info"},
		Params:   []sdk.Param{sdk.String("plan", "The plan").AsRequired().AsPositional().AsResource()},
		Examples: []string{"/whm package info basic"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return single("Show plan "+a.String("plan"), call(c, "getpkginfo", "Read the plan", "pkg", a.String("plan"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func packageRemove() op {
	return op{Name: "package remove", Summary: "Delete a hosting plan", Risk: sdk.RiskCritical,
		Aliases:  []string{"plan remove"},
		Help:     "Accounts on the plan keep their limits but lose the plan they refer to.",
		Params:   []sdk.Param{sdk.String("plan", "The plan").AsRequired().AsPositional().AsResource()},
		Examples: []string{"/whm package remove oldplan"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			name := a.String("plan")
			if err := checkPackage(ctx, c, name); err != nil {
				return nil, err
			}
			users, err := accountsOn(ctx, c, name)
			if err != nil {
				return nil, err
			}
			w := single("Delete plan "+name, call(c, "killpkg", "Delete the plan", "pkgname", name))
			if len(users) > 0 {
				w.Notes = append(w.Notes, fmt.Sprintf("%d accounts are on it: %s.", len(users), strings.Join(users, ", ")))
			} else {
				w.Notes = append(w.Notes, "No account is on it.")
			}
			// The accounts the approver saw lose their plan; one moved
			// onto it since is a change they did not approve.
			w.Facts = []string{"accounts on plan " + name + ": " + strings.Join(users, ", ")}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Plan %s is deleted.", a.String("plan"))
			return nil
		},
	}
}

// accountsOn lists the accounts on a hosting plan.
func accountsOn(ctx context.Context, c *client.Client, plan string) ([]string, error) {
	d, err := read[accounts](ctx, c, "listaccts", client.Args{"search": {"^" + plan + "$"}, "searchtype": {"package"}, "want": {"user"}})
	if err != nil {
		return nil, err
	}
	var users []string
	for _, x := range d.Acct {
		users = append(users, x.s("user"))
	}
	return users, nil
}
