// Package provider holds the CloudFlow plugin's commands: virtual machines
// (list, info, disks, backups, transactions; power; suspend; unlock;
// rebuild; resize), backups, templates, hypervisors and users. Actions are
// followed through their transactions, with progress, to their end.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
	"github.com/deskbot/deskbot/plugins/cloudflow/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Version is the plugin's version.
const Version = "1.0.0"

// Env is what a configured target holds.
type Env struct {
	Client *client.Client
	Poll   time.Duration
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

func envOf(c *sdk.Call) (*Env, error) { return sdk.EnvOf[*Env](c) }

// step is one call; follow names the machine whose transactions it
// queues, to be followed to their end.
type step struct {
	req    client.Request
	what   string
	follow string
}

type work struct {
	summary string
	steps   []step
	notes   []string
	label   string
}

type done struct {
	status int
	body   []byte
	txs    []client.Transaction
	still  bool
}

type op struct {
	name, summary, help string
	aliases             []string
	risk                sdk.Risk
	params              []sdk.Param
	examples            []string
	plan                func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error)
	show                func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error
}

func get(path string) client.Request { return client.Request{Method: http.MethodGet, Path: path} }

func register(p *sdk.Plugin, o op) {
	b := p.Command(o.name, o.summary).Help(o.help).Params(o.params...).Risk(o.risk).Examples(o.examples...)
	if len(o.aliases) > 0 {
		b.Aliases(o.aliases...)
	}
	b.Plan(func(ctx context.Context, call *sdk.Call) (*sdk.Plan, error) {
		e, err := envOf(call)
		if err != nil {
			return nil, err
		}
		w, err := o.plan(ctx, e.Client, call.Args)
		if err != nil {
			return nil, err
		}
		plan := &sdk.Plan{Summary: w.summary}
		if len(w.notes) > 0 {
			plan.Summary += "\n" + strings.Join(w.notes, "\n")
		}
		for _, s := range w.steps {
			m, u, body := e.Client.Describe(s.req)
			desc := s.what
			if s.follow != "" {
				desc += "; then its transactions are followed until done"
			}
			plan.Steps = append(plan.Steps, sdk.PlanStep{Description: desc, Method: m, Endpoint: u, Body: body})
		}
		return plan, nil
	})
	b.Run(func(ctx context.Context, call *sdk.Call) (*sdk.Result, error) {
		e, err := envOf(call)
		if err != nil {
			return nil, err
		}
		c := e.Client
		w, err := o.plan(ctx, c, call.Args)
		if err != nil {
			return nil, err
		}
		var res []done
		for _, s := range w.steps {
			after := 0
			if s.follow != "" {
				if after, err = c.LastTransaction(ctx, s.follow); err != nil {
					return nil, err
				}
			}
			var raw jsonRaw
			status, err := c.Do(ctx, s.req, &raw)
			if err != nil {
				return nil, err
			}
			d := done{status: status, body: raw}
			if s.follow != "" {
				d.txs, d.still, err = follow(ctx, e, call, s.follow, after)
				if err != nil {
					return nil, err
				}
			}
			res = append(res, d)
		}
		out := sdk.NewResult()
		for _, d := range res {
			if d.still {
				out.Warn("Still running at CloudFlow. Check with /cloudflow vm transactions %s.", w.label)
			}
		}
		if err := o.show(c, call.Args, res, out); err != nil {
			return nil, err
		}
		scrub(c.Redactor(), out)
		return out, nil
	})
}

// jsonRaw keeps an answer's (unwrapped) JSON.
type jsonRaw []byte

func (j *jsonRaw) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

func follow(ctx context.Context, e *Env, call *sdk.Call, vm string, after int) ([]client.Transaction, bool, error) {
	wctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, dl.Add(-min(3*time.Second, time.Until(dl)/10)))
		defer cancel()
	}
	txs, err := e.Client.Follow(wctx, vm, client.FollowOptions{After: after, Every: e.Poll, Progress: func(n, total int, cur client.Transaction) {
		pct := 100 * n / max(1, total)
		msg := fmt.Sprintf("%d of %d done", n, total)
		if !client.Final(cur.Status) {
			msg = fmt.Sprintf("%s %s (%d of %d done)", humanAction(cur.Action), cur.Status, n, total)
		}
		call.ProgressState(cur.Status, pct, msg)
	}})
	if errors.Is(err, client.ErrStillRunning) {
		if ctx.Err() != nil {
			return txs, false, ctx.Err()
		}
		return txs, true, nil
	}
	return txs, false, err
}

func humanAction(a string) string { return strings.ReplaceAll(a, "_", " ") }

// scrub masks secrets left in a result.
func scrub(red *redact.Redactor, r *sdk.Result) {
	for i := range r.Parts {
		p := &r.Parts[i]
		if p.Text != nil {
			p.Text.Body = red.String(p.Text.Body)
		}
		for j := range p.KeyValues {
			p.KeyValues[j].Value = red.Value(p.KeyValues[j].Key, p.KeyValues[j].Value)
		}
		if p.Table != nil {
			for ci, col := range p.Table.Columns {
				for _, row := range p.Table.Rows {
					if ci < len(row) {
						row[ci] = red.Value(col, row[ci])
					}
				}
			}
		}
	}
}

// New returns the CloudFlow provider.
func New() *sdk.Plugin {
	p := sdk.New("cloudflow", Version).SetDescription("CloudFlow (OnApp) virtual machines: power, rebuild, resize, backups, transactions; templates, hypervisors, users")
	p.Settings(settings...).Secrets(secrets...).SandboxSettings(sandboxSettings...)
	p.OnConfigure(Configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		_, err := env.(*Env).Client.Do(ctx, get("/version"), nil)
		return err
	})
	registerVMs(p)
	registerOthers(p)
	return p
}

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

func (v *vm) label() string { return fmt.Sprintf("%s (#%d, %s)", v.Label, v.ID, v.state()) }

// findVM resolves a machine by id, identifier, label or host name.
func findVM(ctx context.Context, c *client.Client, ref string) (*vm, error) {
	if _, err := strconv.Atoi(ref); err == nil || len(ref) == 14 && !strings.Contains(ref, ".") {
		var v vm
		_, err := c.Do(ctx, get("/virtual_machines/"+url.PathEscape(ref)), &v)
		if err == nil {
			return &v, nil
		}
		if !client.NotFound(err) {
			return nil, err
		}
	}
	var all []vm
	if err := c.List(ctx, "/virtual_machines", &all); err != nil {
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

var vmP = sdk.String("vm", "Virtual machine: label, host name, id or identifier").AsRequired().AsPositional()
