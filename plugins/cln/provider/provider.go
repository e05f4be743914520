// Package provider holds the CLN plugin's commands: one per endpoint of
// the CloudLinux Network API, grouped by family, plus the composites a
// support desk asks for (ip info, key find).
package provider

import (
	"context"
	"fmt"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/plugins/cln/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Version is the plugin's version.
const Version = "1.0.0"

// Settings are what a CLN target is configured with.
var (
	settings = []sdk.Param{
		sdk.String("base_url", "The API's base URL (the CLN default if empty)"),
		sdk.String("login", "The reseller login (the account's e-mail)").AsRequired(),
		sdk.Enum("ipl_root", "Where the IP licence endpoints live: /ipl (newer) or /ip (older)", "/ipl", "/ip"),
		sdk.EnumOf("edition", "Which edition of the API the account is on",
			sdk.EnumValue{Value: "newer", Aliases: []string{"new"}}, sdk.EnumValue{Value: "older", Aliases: []string{"old"}}).WithDefault("newer"),
	}
	secrets = []sdk.Param{sdk.String("secret_key", "The reseller's secret key").AsRequired()}
)

// Configure builds a target's client; a sandbox target serves the
// simulator on loopback and keeps its state in the target's state folder.
func Configure(ctx context.Context, t *sdk.TargetConfig) (any, error) {
	o := client.Options{
		BaseURL: t.Settings.String("base_url"),
		Login:   t.Settings.String("login"),
		Secret:  t.Secrets["secret_key"],
		IPLRoot: t.Settings.String("ipl_root"),
	}
	if t.Settings.String("edition") == "older" {
		o.Edition = client.Older
	}
	if t.Sandbox {
		o.Login = "sandbox"
		s, err := sim.New(sim.Options{Accounts: map[string]string{o.Login: o.Secret}, StateFile: t.StateFile("cln.json")})
		if err != nil {
			return nil, err
		}
		if o.BaseURL, err = t.Serve(s, "/api"); err != nil {
			return nil, err
		}
	}
	return client.New(o)
}

func envOf(c *sdk.Call) (*client.Client, error) { return sdk.EnvOf[*client.Client](c) }

// op declares one command: its plan (the exact calls) and its run.
type op struct {
	name, summary, help string
	risk                sdk.Risk
	params              []sdk.Param
	sensitive           bool
	examples            []string
	plan                func(c *client.Client, a sdk.Args) (summary string, eps []client.Endpoint, risk sdk.Risk, err error)
	run                 func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error
}

func register(p *sdk.Plugin, o op) {
	b := p.Command(o.name, o.summary).Help(o.help).Params(o.params...).Risk(o.risk).Examples(o.examples...)
	if o.sensitive {
		b.SensitiveOutput()
	}
	b.Plan(func(ctx context.Context, call *sdk.Call) (*sdk.Plan, error) {
		c, err := envOf(call)
		if err != nil {
			return nil, err
		}
		summary, eps, risk, err := o.plan(c, call.Args)
		if err != nil {
			return nil, err
		}
		plan := &sdk.Plan{Summary: summary, Risk: risk}
		for _, e := range eps {
			m, u := c.Describe(e)
			plan.Steps = append(plan.Steps, sdk.PlanStep{Method: m, Endpoint: u})
		}
		return plan, nil
	})
	b.Run(func(ctx context.Context, call *sdk.Call) (*sdk.Result, error) {
		c, err := envOf(call)
		if err != nil {
			return nil, err
		}
		r := sdk.NewResult()
		if err := o.run(ctx, c, call.Args, r); err != nil {
			return nil, err
		}
		if reveal(call.Args) {
			r.Sensitive = true
		}
		return r, nil
	})
}

// planOf is a plan of one call with a summary.
func planOf(summary string, e client.Endpoint) (string, []client.Endpoint, sdk.Risk, error) {
	return summary, []client.Endpoint{e}, 0, nil
}

var revealParam = sdk.Bool("reveal", "Show licence keys in full; the answer then goes to you only").WithDefault("no")

func reveal(a sdk.Args) bool { return a.Bool("reveal") }

// keyText shows a licence key shortened unless the asker wants it whole.
func keyText(a sdk.Args, key string) string {
	if reveal(a) {
		return key
	}
	return redact.Partial(key)
}

// New returns the CLN provider.
func New() *sdk.Plugin {
	p := sdk.New("cln", Version).SetDescription("CloudLinux Network: CloudLinux, ELS, Imunify and KernelCare licences, IP licences, server groups, backups")
	p.Settings(settings...).Secrets(secrets...)
	p.OnConfigure(Configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		_, err := env.(*client.Client).GroupList(ctx)
		return err
	})
	registerStatus(p)
	registerCL(p)
	registerELS(p)
	registerIM(p)
	registerIPL(p)
	registerKC(p)
	registerGroups(p)
	registerBackups(p)
	registerBilling(p)
	registerComposites(p)
	return p
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func registerStatus(p *sdk.Plugin) {
	register(p, op{name: "status", summary: "Whether CloudLinux Network's services are up", risk: sdk.RiskReadOnly,
		examples: []string{"/cln status"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Read CLN's service status", c.EPStatus())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			s, err := c.Status(ctx)
			if err != nil {
				return err
			}
			r.AddKeyValues("CLN services",
				"clweb database", fmt.Sprintf("connected %s, online %s", yesNo(s.DBClwebConnected), yesNo(s.DBClwebOnline)),
				"rhn database", fmt.Sprintf("connected %s, online %s", yesNo(s.DBRHNConnected), yesNo(s.DBRHNOnline)),
				"registration overloaded", yesNo(s.RHNOverloaded), "registration queue full", yesNo(s.RHNQueueFull),
				"xmlrpc", yesNo(s.XMLRPC), "IP server registration allowed", yesNo(s.IPServerReg))
			return nil
		}})
	register(p, op{name: "status plain", summary: "The same status, from the .plain endpoint", risk: sdk.RiskReadOnly,
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Read CLN's service status as text", c.EPStatusPlain())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			pl, err := c.StatusPlain(ctx)
			if err != nil {
				return err
			}
			var kv []string
			for _, k := range pl.Order {
				kv = append(kv, k, pl.Fields[k])
			}
			r.AddKeyValues("CLN services", kv...)
			return nil
		}})
}
