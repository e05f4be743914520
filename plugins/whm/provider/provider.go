// Package provider holds the WHM plugin's commands: curated ones for the
// work a support desk does every day (accounts, packages, DNS, SSL,
// backups and restores, mail, cPHulk, services), and "call FUNCTION" for
// every other function of WHM API 1, checked against the catalog.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/plugins/whm/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Version is the plugin's version.
const Version = "1.0.0"

// Settings are what a WHM target is configured with.
var (
	settings = []sdk.Param{
		sdk.String("host", "The WHM server's host name or address").AsRequired(),
		sdk.Int("port", "WHM's port").Between(1, 65535).WithDefault("2087"),
		sdk.String("user", "The WHM user the API token belongs to").WithDefault("root"),
		sdk.String("ca_file", "A PEM file of the CA that signed the server's certificate, if not a public one"),
		sdk.String("fingerprint", "The SHA-256 fingerprint of the server's certificate, to pin it (a self-signed certificate)"),
		sdk.Duration("timeout", "How long one API call may take").WithDefault("60s"),
		sdk.Enum("scheme", "https, or http for a loopback host only (a local tunnel)", "https", "http").WithDefault("https"),
	}
	secrets         = []sdk.Param{sdk.String("token", "A WHM API token of the user").AsRequired()}
	sandboxSettings = []sdk.Param{sdk.String("hostname", "The simulated server's host name")}
)

// Configure builds a target's client; a sandbox target serves the
// simulator on loopback and keeps its state in the target's state folder.
func Configure(ctx context.Context, t *sdk.TargetConfig) (any, error) {
	o := client.Options{
		Host:        t.Settings.String("host"),
		Port:        int(t.Settings.Int("port")),
		User:        t.Settings.String("user"),
		Token:       t.Secrets["token"],
		CAFile:      t.Settings.String("ca_file"),
		Fingerprint: t.Settings.String("fingerprint"),
		Timeout:     t.Settings.Duration("timeout"),
	}
	if t.Settings.String("scheme") == "http" {
		// The token would travel in the clear: only to this machine (a
		// local tunnel or a test server).
		if ip := net.ParseIP(o.Host); o.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("scheme http is allowed only for a loopback host, not %q: the API token would cross the network in the clear", o.Host)
		}
		o.Scheme = "http"
	}
	if t.Sandbox {
		s, err := sim.New(sim.Options{User: o.User, Token: o.Token, Hostname: t.Settings.String("hostname"), StateFile: t.StateFile("whm-" + t.Name + ".json")})
		if err != nil {
			return nil, err
		}
		base, err := t.Serve(s, "")
		if err != nil {
			return nil, err
		}
		u, _ := url.Parse(base)
		o.Host, o.Scheme, o.CAFile, o.Fingerprint = u.Hostname(), "http", "", ""
		o.Port, _ = strconv.Atoi(u.Port())
	}
	return client.New(o)
}

func envOf(c *sdk.Call) (*client.Client, error) { return sdk.EnvOf[*client.Client](c) }

// wcall is one WHM function call a command makes.
type wcall struct {
	fn   string
	args url.Values
	json any
	// what says in words what the call does, for the plan.
	what string
}

func call(fn, what string, kv ...string) wcall {
	a := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			a.Add(kv[i], kv[i+1])
		}
	}
	return wcall{fn: fn, args: a, what: what}
}

// work is what a command will do: a summary, a risk for these arguments
// (zero keeps the catalog's), the calls in order.
type work struct {
	summary string
	risk    sdk.Risk
	calls   []wcall
	// notes are shown with the plan: what the approver should know.
	notes []string
}

// op declares one command.
type op struct {
	name, summary, help string
	aliases             []string
	risk                sdk.Risk
	params              []sdk.Param
	examples            []string
	extra               bool
	hidden              bool
	sensitive           bool
	// plan says what the command will do. It may read the server (an
	// account's current plan, a record's content), never change it.
	plan func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error)
	// explain turns WHM's refusal into a more helpful error (the names
	// the user probably meant).
	explain func(ctx context.Context, c *client.Client, a sdk.Args, err *client.APIError) error
	// show renders the answers, one per call; nil renders them generically.
	show func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error
}

func register(p *sdk.Plugin, o op) {
	b := p.Command(o.name, o.summary).Help(o.help).Params(o.params...).Risk(o.risk).Examples(o.examples...)
	if len(o.aliases) > 0 {
		b.Aliases(o.aliases...)
	}
	if o.sensitive {
		b.SensitiveOutput()
	}
	if o.extra {
		b.ExtraArguments()
	}
	if o.hidden {
		b.Hidden()
	}
	b.Plan(func(ctx context.Context, call *sdk.Call) (*sdk.Plan, error) {
		c, err := envOf(call)
		if err != nil {
			return nil, err
		}
		w, err := o.plan(ctx, c, call.Args)
		if err != nil {
			return nil, err
		}
		red := scrubber(c, o.params, call.Args)
		plan := &sdk.Plan{Summary: w.summary, Risk: w.risk}
		if len(w.notes) > 0 {
			plan.Summary += "\n" + strings.Join(w.notes, "\n")
		}
		plan.Summary = red.String(plan.Summary)
		for _, wc := range w.calls {
			m, u, body := c.Describe(wc.fn, wc.args, wc.json)
			plan.Steps = append(plan.Steps, sdk.PlanStep{Description: wc.what, Method: m, Endpoint: red.String(u), Body: red.String(body)})
		}
		return plan, nil
	})
	b.Run(func(ctx context.Context, call *sdk.Call) (*sdk.Result, error) {
		c, err := envOf(call)
		if err != nil {
			return nil, err
		}
		red := scrubber(c, o.params, call.Args)
		w, err := o.plan(ctx, c, call.Args)
		if err != nil {
			return nil, sdk.ScrubError(red, err)
		}
		var res []*client.Result
		for i, wc := range w.calls {
			if len(w.calls) > 1 {
				call.Progress(100*i/len(w.calls), "%s", wc.what)
			}
			r, err := c.Call(ctx, wc.fn, wc.args, wc.json)
			var ae *client.APIError
			if err != nil && o.explain != nil && errors.As(err, &ae) {
				err = o.explain(ctx, c, call.Args, ae)
			}
			if err != nil {
				if i > 0 {
					err = fmt.Errorf("%w (after %d of %d steps had succeeded: %s)", err, i, len(w.calls), doneSteps(w.calls[:i]))
				}
				return nil, sdk.ScrubError(red, err)
			}
			res = append(res, r)
		}
		out := sdk.NewResult()
		show := o.show
		if show == nil {
			show = func(c *client.Client, _ sdk.Args, res []*client.Result, r *sdk.Result) error {
				for _, x := range res {
					renderGeneric(c, x, r)
				}
				return nil
			}
		}
		if err := show(c, call.Args, res, out); err != nil {
			return nil, sdk.ScrubError(red, err)
		}
		scrubResult(red, out)
		return out, nil
	})
}

// scrubber is the client's redactor plus this request's sensitive
// values, as typed and as they travel URL-encoded: a function's "key"
// may be a private key that no key-name rule catches.
func scrubber(c *client.Client, params []sdk.Param, a sdk.Args) *redact.Redactor {
	return c.Redactor().With(sdk.SensitiveValues(params, a)...)
}

func doneSteps(cs []wcall) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.fn)
	}
	return strings.Join(s, ", ")
}

// New returns the WHM provider.
func New() *sdk.Plugin {
	p := sdk.New("whm", Version).SetDescription("cPanel & WHM servers: accounts, packages, DNS, SSL, backups and restores, mail, cPHulk, services; `call` reaches every WHM API 1 function")
	p.Settings(settings...).Secrets(secrets...).SandboxSettings(sandboxSettings...)
	p.OnConfigure(Configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		_, err := env.(*client.Client).Call(ctx, "version", nil, nil)
		return err
	})
	registerAccounts(p)
	registerPackages(p)
	registerDNS(p)
	registerSSL(p)
	registerBackups(p)
	registerMail(p)
	registerHulk(p)
	registerServer(p)
	registerGeneric(p)
	return p
}
