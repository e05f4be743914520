// Package provider holds the WHM plugin's commands: curated ones for the
// work a support desk does every day (accounts, packages, DNS, SSL,
// backups and restores, mail, cPHulk, services), and "call FUNCTION" for
// every other function of WHM API 1, checked against the catalog.
package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/plugins/whm/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
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
		sdk.Duration("long_timeout", "How long a call WHM takes long over may take (creating, removing, restoring an account)").WithDefault("10m"),
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
		LongTimeout: t.Settings.Duration("long_timeout"),
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
		s, err := sim.New(sim.Options{User: o.User, Token: o.Token, Hostname: t.Settings.String("hostname"), StateFile: t.StateFile("whm-" + t.Name + ".json"), Clock: t.Clock})
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

// op is one WHM command, work what it will do, step one WHM function
// call it makes.
type (
	op   = apiop.Op[*client.Client, *client.Result]
	work = apiop.Work[*client.Result]
	step = apiop.Step[*client.Result]
)

// api is what every WHM command shares: the target's client, WHM's
// secret keys for masking, and the generic rendering of answers for
// commands that have none of their own.
var api = &apiop.API[*client.Client, *client.Result]{
	Name:     "WHM",
	Client:   sdk.EnvOf[*client.Client],
	Redactor: (*client.Client).Redactor,
	Show: func(c *client.Client, _ sdk.Args, res []*client.Result, r *sdk.Result) error {
		for _, x := range res {
			renderGeneric(c, x, r)
		}
		return nil
	},
}

// registerOps declares ops as commands of p.
func registerOps(p *sdk.Plugin, ops ...op) {
	for _, o := range ops {
		apiop.Register(p, api, withCompletions(o))
	}
}

// callStep is one WHM function call as a step: the plan shows it the way
// the client sends it (method, URL, form or JSON body), and doing it
// sends it.
func callStep(c *client.Client, fn, what string, args client.Args, body any) step {
	method, endpoint, form := c.Describe(fn, args, body)
	return step{What: what, Method: method, Endpoint: endpoint, Body: form,
		Do: func(ctx context.Context, _ *apiop.Run) (*client.Result, error) {
			return c.Call(ctx, fn, args, body)
		}}
}

// call is a step calling fn with the key-value pairs of kv that have a
// value: WHM applies its own defaults to what is left out.
func call(c *client.Client, fn, what string, kv ...string) step {
	a := client.Args{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			a.Add(kv[i], kv[i+1])
		}
	}
	return callStep(c, fn, what, a, nil)
}

// read calls a WHM function that reads, and decodes its answer's data
// into a T.
func read[T any](ctx context.Context, c *client.Client, fn string, args client.Args) (T, error) {
	var d T
	res, err := c.Call(ctx, fn, args, nil)
	if err != nil {
		return d, err
	}
	return d, res.Decode(&d)
}

// single is the work of a command that makes one call.
func single(summary string, s step) *work {
	return &work{Summary: summary, Steps: []step{s}}
}

// reads is the work of a command that calls one WHM function, without
// arguments, to read something.
func reads(summary, fn, what string) func(context.Context, *client.Client, sdk.Args) (*work, error) {
	return func(_ context.Context, c *client.Client, _ sdk.Args) (*work, error) {
		return single(summary, call(c, fn, what)), nil
	}
}

// New returns the WHM provider.
func New() *sdk.Plugin {
	p := sdk.New("whm", Version).SetDisplayName("WHM").SetDescription("cPanel & WHM servers: accounts, packages, DNS, SSL, backups and restores, mail, cPHulk, services; `call` reaches every WHM API 1 function")
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
