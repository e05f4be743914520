// Package provider holds the CloudFlow plugin's commands: virtual machines
// (list, info, disks, backups, transactions; power; suspend; unlock;
// rebuild; resize), backups, templates, hypervisors and users. Actions are
// followed through their transactions, with progress, to their end.
package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
	"github.com/deskbot/deskbot/plugins/cloudflow/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Version is the plugin's version.
const Version = "1.0.0"

// Env is what a configured target holds.
type Env struct {
	Client *client.Client
	// Poll is how often an action's transactions are read until they end.
	Poll time.Duration
}

// Settings are what a CloudFlow target is configured with.
var (
	settings = []sdk.Param{
		sdk.String("base_url", "The control panel's address (https://cloud.example.net)").AsRequired(),
		sdk.String("user", "The account's e-mail address, or its login").AsRequired(),
		sdk.Duration("poll", "How often transactions are checked until they end (5s; 300ms in a sandbox)"),
		sdk.Duration("timeout", "How long one API call may take"),
	}
	secrets = []sdk.Param{
		sdk.String("api_key", "The user's API key (or give password)"),
		sdk.String("password", "The user's password, if no API key"),
	}
	sandboxSettings = []sdk.Param{sdk.Duration("step_time", "How long each transaction runs").WithDefault("1s")}
)

// Configure builds a target's client; a sandbox target serves the
// simulator on loopback and keeps its state in the target's state folder.
func Configure(ctx context.Context, t *sdk.TargetConfig) (any, error) {
	o := client.Options{BaseURL: t.Settings.String("base_url"), User: t.Settings.String("user"), Password: t.Secrets["api_key"], Timeout: t.Settings.Duration("timeout")}
	if o.Password == "" {
		o.Password = t.Secrets["password"]
	}
	env := &Env{Poll: t.Settings.Duration("poll")}
	if t.Sandbox {
		o.User = "desk@cloudflow.example"
		s, err := sim.New(sim.Options{User: o.User, Password: o.Password, Clock: t.Clock, StepTime: t.Settings.Duration("step_time"), StateFile: t.StateFile("cloudflow-" + t.Name + ".json")})
		if err != nil {
			return nil, err
		}
		if o.BaseURL, err = t.Serve(s, ""); err != nil {
			return nil, err
		}
		if env.Poll == 0 {
			env.Poll = 300 * time.Millisecond
		}
	}
	if o.Password == "" {
		return nil, errors.New("secret api_key (or password) is required")
	}
	if env.Poll == 0 {
		env.Poll = 5 * time.Second
	}
	c, err := client.New(o)
	if err != nil {
		return nil, err
	}
	env.Client = c
	return env, nil
}

// New returns the CloudFlow provider.
func New() *sdk.Plugin {
	p := sdk.New("cloudflow", Version).SetDisplayName("CloudFlow").SetDescription("CloudFlow (OnApp) virtual machines: power, rebuild, resize, backups, transactions; templates, hypervisors, users")
	p.Settings(settings...).Secrets(secrets...).SandboxSettings(sandboxSettings...)
	p.OnConfigure(Configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		c := env.(*Env).Client
		_, err := c.Do(ctx, c.EPVersion(), nil)
		return err
	})
	for _, o := range append(vmOps(), otherOps()...) {
		apiop.Register(p, api, o)
	}
	return p
}

// api is what every command shares: the target's client and its
// redactor (OnApp's sensitive keys, the API key).
var api = &apiop.API[*Env, *client.Result]{
	Name:     "CloudFlow",
	Client:   sdk.EnvOf[*Env],
	Redactor: func(e *Env) *redact.Redactor { return e.Client.Redactor() },
}

type (
	op   = apiop.Op[*Env, *client.Result]
	work = apiop.Work[*client.Result]
	step = apiop.Step[*client.Result]
	// show renders a command's results.
	show = func(e *Env, a sdk.Args, res []*client.Result, out *sdk.Result) error
)

// call is a step that sends r: the plan shows r as the client would send
// it.
func call(c *client.Client, what string, r client.Request) step {
	method, endpoint, body := c.Describe(r)
	return step{What: what, Method: method, Endpoint: endpoint, Body: body,
		Do: func(ctx context.Context, _ *apiop.Run) (*client.Result, error) { return c.Call(ctx, r) }}
}

// listCall is a step that reads a whole list (client.List): the plan
// shows its first request without the paging.
func listCall(c *client.Client, what string, r client.Request) step {
	s := call(c, what, r)
	s.Do = func(ctx context.Context, _ *apiop.Run) (*client.Result, error) { return c.ListResult(ctx, r) }
	return s
}

// quietReads is how many reads of a machine's transactions without a new
// one end the following of an action: some actions queue nothing
// (unsuspending a machine that is off).
const quietReads = 3

// reached reports whether an action whose request was accepted has had
// its effect, read from the panel (the machine's state, a backup): ok,
// or the state now and the state the action leads to.
type reached func(ctx context.Context, res *client.Result) (ok bool, now, want string, err error)

// action is a step that queues transactions on machine vm: it notes the
// machine's newest transaction, sends r, then follows the transactions r
// queued until they end. A failed or cancelled one fails the step. If no
// transaction appears, done reads whether the action had its effect; if
// it cannot tell (nil) or it did not, the outcome is unknown, and the
// error says so and how to check: an accepted request and a quiet queue
// are not a success.
func action(e *Env, what, vm string, r client.Request, done reached) step {
	s := call(e.Client, what, r)
	s.Follows = true
	s.Do = func(ctx context.Context, run *apiop.Run) (*client.Result, error) {
		after, err := e.Client.LastTransaction(ctx, vm)
		if err != nil {
			return nil, err
		}
		res, err := e.Client.Call(ctx, r)
		if err != nil {
			return nil, err
		}
		var q client.Queue
		reads := 0
		res.StillRunning, err = run.Follow(ctx, e.Poll, func(ctx context.Context) (sdk.Progress, bool, error) {
			var err error
			if q, err = e.Client.Queued(ctx, vm, after); err != nil {
				return sdk.Progress{}, false, err
			}
			reads++
			nothing := len(q) == 0 && reads > quietReads
			return progress(q), q.Ended() || q.Failed() != nil || nothing, nil
		})
		res.Transactions = q
		if err == nil {
			err = q.Failed()
		}
		if err == nil && !res.StillRunning && len(q) == 0 {
			err = quiet(ctx, what, r.Check, reads, res, done)
		}
		return res, err
	}
	return s
}

// quiet is the end of an action that queued no transaction: nil if done
// reads that it had its effect; otherwise an error wrapping
// httpapi.ErrOutcomeUnknown that says what is known and how to check.
func quiet(ctx context.Context, what, check string, reads int, res *client.Result, done reached) error {
	if done == nil {
		return fmt.Errorf("CloudFlow: %s was accepted, but no transaction appeared in %d reads, and the bot cannot read whether it was done: %w; check with %s", what, reads, httpapi.ErrOutcomeUnknown, check)
	}
	ok, now, want, err := done(ctx, res)
	if err != nil {
		return fmt.Errorf("CloudFlow: %s was accepted, but no transaction appeared in %d reads, and reading the result failed (%v): %w; check with %s", what, reads, err, httpapi.ErrOutcomeUnknown, check)
	}
	if !ok {
		return fmt.Errorf("CloudFlow: %s was accepted, but no transaction appeared in %d reads, and CloudFlow shows it %s, not %s: %w; check with %s", what, reads, now, want, httpapi.ErrOutcomeUnknown, check)
	}
	return nil
}

// vmIs is a reached that reads machine ref and asks is: want names the
// state it looks for.
func vmIs(c *client.Client, ref, want string, is func(v *vm) bool) reached {
	return func(ctx context.Context, _ *client.Result) (bool, string, string, error) {
		var v vm
		if _, err := c.Do(ctx, c.EPVM(ref), &v); err != nil {
			return false, "", want, err
		}
		return is(&v), v.describe(), want, nil
	}
}

// progress says how far an action's transactions are: "build disk running
// (1 of 4 done)".
func progress(q client.Queue) sdk.Progress {
	if len(q) == 0 {
		return sdk.Progress{Message: "no transaction queued yet"}
	}
	n, cur := q.Done(), q.Current()
	p := sdk.Progress{State: cur.Status, Percent: 100 * n / len(q), Message: fmt.Sprintf("%d of %d done", n, len(q))}
	if !client.Final(cur.Status) {
		p.Message = fmt.Sprintf("%s %s (%d of %d done)", humanAction(cur.Action), cur.Status, n, len(q))
	}
	return p
}

func humanAction(a string) string { return strings.ReplaceAll(a, "_", " ") }

// checkWith is how to follow a machine's transactions after the answer.
func checkWith(v *vm) string { return "/cloudflow vm transactions " + v.Label }

// vm is what the commands read of a virtual machine. The root and remote
// access passwords are not decoded at all.
type vm struct {
	ID            int    `json:"id"`
	Identifier    string `json:"identifier"`
	Label         string `json:"label"`
	Hostname      string `json:"hostname"`
	Booted        bool   `json:"booted"`
	Built         bool   `json:"built"`
	Locked        bool   `json:"locked"`
	Suspended     bool   `json:"suspended"`
	CPUs          int    `json:"cpus"`
	CPUShares     int    `json:"cpu_shares"`
	Memory        int    `json:"memory"`
	TotalDiskSize int    `json:"total_disk_size"`
	TemplateID    int    `json:"template_id"`
	TemplateLabel string `json:"template_label"`
	HypervisorID  int    `json:"hypervisor_id"`
	UserID        int    `json:"user_id"`
	RecoveryMode  bool   `json:"recovery_mode"`
	CreatedAt     string `json:"created_at"`
	IPAddresses   []struct {
		IPAddress struct {
			Address string `json:"address"`
		} `json:"ip_address"`
	} `json:"ip_addresses"`
}

func (v *vm) ref() string { return strconv.Itoa(v.ID) }

func (v *vm) ips() string {
	var out []string
	for _, ip := range v.IPAddresses {
		out = append(out, ip.IPAddress.Address)
	}
	return strings.Join(out, ", ")
}

func (v *vm) state() string {
	switch {
	case v.Locked:
		return "locked (a transaction runs)"
	case v.Suspended:
		return "suspended"
	case v.RecoveryMode && v.Booted:
		return "running in recovery"
	case v.Booted:
		return "running"
	}
	return "off"
}

// describe is the machine's state and size, as a quiet action's error
// states it.
func (v *vm) describe() string {
	return fmt.Sprintf("%s with %d CPUs (%d%% shares), %d MB, template #%d", v.state(), v.CPUs, v.CPUShares, v.Memory, v.TemplateID)
}

func (v *vm) label() string { return fmt.Sprintf("%s (#%d, %s)", v.Label, v.ID, v.state()) }

// fact is the machine's state as a plan made from it states it: an
// approved plan is refused if the machine is no longer so.
func (v *vm) fact() string {
	return fmt.Sprintf("virtual machine #%d %s is %s", v.ID, v.Label, v.state())
}

// findVM resolves a machine by id, identifier, label or host name.
func findVM(ctx context.Context, c *client.Client, ref string) (*vm, error) {
	if _, err := strconv.Atoi(ref); err == nil || len(ref) == 14 && !strings.Contains(ref, ".") {
		var v vm
		_, err := c.Do(ctx, c.EPVM(ref), &v)
		if err == nil {
			return &v, nil
		}
		if !client.NotFound(err) {
			return nil, err
		}
	}
	var all []vm
	if err := c.List(ctx, c.EPVMs(), &all); err != nil {
		return nil, err
	}
	var hits []vm
	var names []string
	for _, v := range all {
		names = append(names, v.Label)
		if strings.EqualFold(v.Label, ref) || strings.EqualFold(v.Hostname, ref) || v.Identifier == ref {
			hits = append(hits, v)
		}
	}
	switch len(hits) {
	case 1:
		return &hits[0], nil
	case 0:
		msg := fmt.Sprintf("there is no virtual machine %q", ref)
		if s := sdk.Suggest(ref, names); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return nil, sdk.BadArg("vm", "%s", msg)
	}
	var ids []string
	for _, v := range hits {
		ids = append(ids, "#"+v.ref())
	}
	return nil, sdk.BadArg("vm", "%d machines are called %q; name one by id: %s", len(hits), ref, strings.Join(ids, ", "))
}

var vmP = sdk.String("vm", "Virtual machine: label, host name, id or identifier").AsRequired().AsPositional().AsResource()
