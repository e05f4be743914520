// Package provider holds the CLN plugin's commands: one per endpoint of
// the CloudLinux Network API, grouped by family, plus the composites a
// support desk asks for (ip info, key find).
package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/plugins/cln/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
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
// simulator on loopback, keeps its state in the target's state folder and
// shares its clock with the client, whose tokens it checks.
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
		s, err := sim.New(sim.Options{Accounts: map[string]string{o.Login: o.Secret}, StateFile: t.StateFile("cln.json"), Clock: t.Clock})
		if err != nil {
			return nil, err
		}
		if o.BaseURL, err = t.Serve(s, "/api"); err != nil {
			return nil, err
		}
		o.Now = t.Clock.Now
	}
	return client.New(o)
}

// The commands are API operations: their work is CLN calls, each answer
// (of a type the call names) shown by the command.
type (
	op   = apiop.Op[*client.Client, any]
	work = apiop.Work[any]
	step = apiop.Step[any]
)

var api = &apiop.API[*client.Client, any]{
	Name:     "CLN",
	Client:   sdk.EnvOf[*client.Client],
	Redactor: (*client.Client).Redactor,
}

// callStep is one CLN call as a step: the plan shows it as the client
// describes it, and the run makes that same call. A step of a one-call
// command says nothing in words (What): the plan's summary does.
func callStep[T any](k client.Call[T]) step {
	m, u := k.Describe()
	return step{Method: m, Endpoint: u, Do: func(ctx context.Context, _ *apiop.Run) (any, error) { return k.Do(ctx) }}
}

// one makes o a command of one call: plan gives the plan's summary and
// the call for the arguments, show renders the call's answer.
func one[T any](o op, plan func(c *client.Client, a sdk.Args) (string, client.Call[T], error), show func(a sdk.Args, v T, out *sdk.Result)) op {
	o.Work = func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
		summary, k, err := plan(c, a)
		if err != nil {
			return nil, err
		}
		return &work{Summary: summary, Steps: []step{callStep(k)}}, nil
	}
	o.Show = func(c *client.Client, a sdk.Args, res []any, out *sdk.Result) error {
		show(a, res[0].(T), out)
		return nil
	}
	return o
}

// amended returns o with its work amended once built: the state it is
// planned from (Work.Facts), a risk the arguments raise.
func amended(o op, amend func(ctx context.Context, c *client.Client, a sdk.Args, w *work) error) op {
	build := o.Work
	o.Work = func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
		w, err := build(ctx, c, a)
		if err != nil {
			return nil, err
		}
		if err := amend(ctx, c, a, w); err != nil {
			return nil, err
		}
		return w, nil
	}
	return o
}

// planningFrom returns o planned from a fact about CLN's state that its
// steps do not show (see apiop.Work.Facts): read says what it is now, and
// an approved plan is refused at run time if read says something else by
// then. A refusal from CLN (a key it does not know) is itself the fact,
// so that the command still fails in CLN's words when it runs.
func planningFrom(o op, read func(ctx context.Context, c *client.Client, a sdk.Args) (string, error)) op {
	return amended(o, func(ctx context.Context, c *client.Client, a sdk.Args, w *work) error {
		fact, err := read(ctx, c, a)
		var refused *client.APIError
		if errors.As(err, &refused) || errors.Is(err, client.ErrNotFound) {
			fact, err = err.Error(), nil
		}
		if err != nil {
			return err
		}
		w.Facts = append(w.Facts, fact)
		return nil
	})
}

// fixed is the plan of a command whose call and summary need no arguments.
func fixed[T any](summary string, call func(c *client.Client) client.Call[T]) func(*client.Client, sdk.Args) (string, client.Call[T], error) {
	return func(c *client.Client, _ sdk.Args) (string, client.Call[T], error) { return summary, call(c), nil }
}

var revealParam = sdk.Bool("reveal", "Show licence keys in full; the answer then goes to you only").WithDefault("no")

func reveal(a sdk.Args) bool { return a.Bool("reveal") }

// revealing sends an answer that shows licence keys in full to the
// requester only.
func revealing(o op) op {
	show := o.Show
	o.Show = func(c *client.Client, a sdk.Args, res []any, out *sdk.Result) error {
		if reveal(a) {
			out.Sensitive = true
		}
		return show(c, a, res, out)
	}
	return o
}

// keyText shows a licence key shortened unless the asker wants it whole.
func keyText(a sdk.Args, key string) string {
	if reveal(a) {
		return key
	}
	return redact.Partial(key)
}

// New returns the CLN provider.
func New() *sdk.Plugin {
	p := sdk.New("cln", Version).SetDisplayName("CloudLinux Network").SetDescription("CloudLinux Network: CloudLinux, ELS, Imunify and KernelCare licences, IP licences, server groups, backups")
	p.Settings(settings...).Secrets(secrets...)
	p.OnConfigure(Configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		_, err := env.(*client.Client).GroupList(ctx)
		return err
	})
	for _, family := range [][]op{
		statusCommands(), clCommands(), elsCommands(), imCommands(), iplCommands(), kcCommands(),
		groupCommands(), backupCommands(), billingCommands(), compositeCommands(),
	} {
		for _, o := range family {
			apiop.Register(p, api, revealing(o))
		}
	}
	return p
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func statusCommands() []op {
	return []op{status(), statusPlain()}
}

func status() op {
	return one(op{Name: "status", Summary: "Whether CloudLinux Network's services are up", Risk: sdk.RiskReadOnly, Examples: []string{"/cln status"}},
		fixed("Read CLN's service status", (*client.Client).EPStatus),
		func(a sdk.Args, s client.Status, out *sdk.Result) {
			out.AddKeyValues("CLN services",
				"clweb database", fmt.Sprintf("connected %s, online %s", yesNo(s.DBClwebConnected), yesNo(s.DBClwebOnline)),
				"rhn database", fmt.Sprintf("connected %s, online %s", yesNo(s.DBRHNConnected), yesNo(s.DBRHNOnline)),
				"registration overloaded", yesNo(s.RHNOverloaded), "registration queue full", yesNo(s.RHNQueueFull),
				"xmlrpc", yesNo(s.XMLRPC), "IP server registration allowed", yesNo(s.IPServerReg))
		})
}

func statusPlain() op {
	return one(op{Name: "status plain", Summary: "The same status, from the .plain endpoint", Risk: sdk.RiskReadOnly},
		fixed("Read CLN's service status as text", (*client.Client).EPStatusPlain),
		func(a sdk.Args, pl client.Plain, out *sdk.Result) {
			var kv []string
			for _, k := range pl.Order {
				kv = append(kv, k, pl.Fields[k])
			}
			out.AddKeyValues("CLN services", kv...)
		})
}
