// Package provider holds the IONOS plugin's commands: curated ones for the
// desk (servers, power, snapshots, IPs and reverse DNS, firewalls, DVDs,
// monitoring, logs) that follow asynchronous work to its end with live
// progress, and "call OPERATION" for every operation of the Cloud Panel
// API v1, checked against the catalog and its JSON Schemas.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/ionos/client"
	"github.com/deskbot/deskbot/plugins/ionos/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Version is the plugin's version.
const Version = "1.0.0"

// Env is what a configured target holds.
type Env struct {
	Client *client.Client
	// Poll is how often asynchronous work is checked.
	Poll time.Duration
}

// Settings are what an IONOS target is configured with.
var (
	settings = []sdk.Param{
		sdk.String("base_url", "The Cloud Panel API's base URL (IONOS's if empty)"),
		sdk.Duration("poll", "How often work at IONOS is checked until it is done (5s; 500ms in a sandbox)"),
		sdk.Duration("timeout", "How long one API call may take"),
		sdk.Int("max_in_flight", "How many calls may be under way at once for the API key").AtLeast(1),
	}
	secrets         = []sdk.Param{sdk.String("api_key", "An IONOS Cloud Panel API key").AsRequired()}
	sandboxSettings = []sdk.Param{sdk.Duration("action_time", "How long a power action, reinstall or snapshot takes").WithDefault("3s")}
)

// Configure builds a target's client; a sandbox target serves the
// simulator on loopback and keeps its state in the target's state folder.
func Configure(ctx context.Context, t *sdk.TargetConfig) (any, error) {
	o := client.Options{BaseURL: t.Settings.String("base_url"), Token: t.Secrets["api_key"], Timeout: t.Settings.Duration("timeout"), MaxInFlight: int(t.Settings.Int("max_in_flight"))}
	env := &Env{Poll: t.Settings.Duration("poll")}
	if t.Sandbox {
		s, err := sim.New(sim.Options{Token: o.Token, Clock: t.Clock, ActionTime: t.Settings.Duration("action_time"), StateFile: t.StateFile("ionos-" + t.Name + ".json")})
		if err != nil {
			return nil, err
		}
		if o.BaseURL, err = t.Serve(s, "/v1"); err != nil {
			return nil, err
		}
		if env.Poll == 0 {
			env.Poll = 500 * time.Millisecond
		}
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

// step is one API call a command makes, and how to follow it.
type step struct {
	req  client.Request
	what string
	// follow is the status path to poll after a 202 (/servers/ID/status);
	// gone is a path that answers 404 once the work is done (a delete).
	follow, gone string
	// all reads every page of a list (until a short page).
	all bool
}

type work struct {
	summary string
	risk    sdk.Risk
	steps   []step
	notes   []string
	// label names the thing followed, for "still running" answers.
	label string
}

// done is one step's outcome.
type done struct {
	resp *client.Response
	// final is the steady state reached, or "" if not followed.
	final  string
	still  bool
	status client.Status
}

type op struct {
	name, summary, help string
	aliases             []string
	risk                sdk.Risk
	params              []sdk.Param
	examples            []string
	hidden, extra       bool
	plan                func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error)
	show                func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error
}

func get(path string, q url.Values) client.Request {
	return client.Request{Method: http.MethodGet, Path: path, Query: q}
}

func register(p *sdk.Plugin, o op) {
	b := p.Command(o.name, o.summary).Help(o.help).Params(o.params...).Risk(o.risk).Examples(o.examples...)
	if len(o.aliases) > 0 {
		b.Aliases(o.aliases...)
	}
	if o.hidden {
		b.Hidden()
	}
	if o.extra {
		b.ExtraArguments()
	}
	b.Plan(func(ctx context.Context, call *sdk.Call) (*sdk.Plan, error) {
		e, err := envOf(call)
		if err != nil {
			return nil, err
		}
		red := scrubber(e.Client, o.params, call.Args)
		w, err := o.plan(ctx, e.Client, call.Args)
		if err != nil {
			return nil, sdk.ScrubError(red, err)
		}
		plan := &sdk.Plan{Summary: w.summary, Risk: w.risk}
		if len(w.notes) > 0 {
			plan.Summary += "\n" + strings.Join(w.notes, "\n")
		}
		plan.Summary = red.String(plan.Summary)
		for _, s := range w.steps {
			m, u, body := e.Client.Describe(s.req)
			desc := s.what
			if s.follow != "" || s.gone != "" {
				desc += "; then followed until done"
			}
			if s.all {
				desc += ", every page"
			}
			plan.Steps = append(plan.Steps, sdk.PlanStep{Description: desc, Method: m, Endpoint: red.String(u), Body: red.String(body)})
		}
		return plan, nil
	})
	b.Run(func(ctx context.Context, call *sdk.Call) (*sdk.Result, error) {
		e, err := envOf(call)
		if err != nil {
			return nil, err
		}
		c := e.Client
		red := scrubber(c, o.params, call.Args)
		w, err := o.plan(ctx, c, call.Args)
		if err != nil {
			return nil, sdk.ScrubError(red, err)
		}
		var res []done
		for i, s := range w.steps {
			var resp *client.Response
			if s.all {
				var items []json.RawMessage
				err = c.List(ctx, s.req.Path, s.req.Query, 100, &items)
				if items == nil {
					items = []json.RawMessage{}
				}
				body, _ := json.Marshal(items)
				resp = &client.Response{Status: http.StatusOK, Body: body}
			} else {
				resp, err = c.Do(ctx, s.req, nil)
			}
			if err != nil {
				if i > 0 {
					err = fmt.Errorf("%w (after %d of %d steps had succeeded)", err, i, len(w.steps))
				}
				return nil, sdk.ScrubError(red, err)
			}
			d := done{resp: resp}
			if resp.Status == http.StatusAccepted && (s.follow != "" || s.gone != "") {
				d, err = follow(ctx, e, call, s, d)
				if err != nil {
					return nil, sdk.ScrubError(red, err)
				}
			}
			res = append(res, d)
		}
		out := sdk.NewResult()
		for _, d := range res {
			if d.still {
				out.Warn("Still running at IONOS (%s). Check with /ionos server status %s.", statusText(d.status), orDash(w.label))
			}
		}
		show := o.show
		if show == nil {
			show = showGeneric
		}
		if err := show(c, call.Args, res, out); err != nil {
			return nil, sdk.ScrubError(red, err)
		}
		scrubResult(red, out)
		return out, nil
	})
}

// follow polls until the work is done, streaming each state and percent;
// it stops a little before the bot's deadline and says the work goes on.
func follow(ctx context.Context, e *Env, call *sdk.Call, s step, d done) (done, error) {
	wctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		margin := min(3*time.Second, time.Until(dl)/10)
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	progress := func(st client.Status) {
		p := -1
		if st.Percent != nil {
			p = *st.Percent
		}
		call.ProgressState(st.State, p, statusText(st))
	}
	if s.gone != "" {
		for {
			_, err := e.Client.Do(wctx, get(s.gone, nil), nil)
			if client.NotFound(err) {
				d.final = "REMOVED"
				return d, nil
			}
			if err != nil && wctx.Err() == nil {
				return d, err
			}
			var st client.Status
			if s.follow != "" {
				_, _ = e.Client.Do(wctx, get(s.follow, nil), &st)
				progress(st)
			}
			t := time.NewTimer(e.Poll)
			select {
			case <-wctx.Done():
				t.Stop()
				if ctx.Err() != nil {
					return d, ctx.Err()
				}
				d.still, d.status = true, st
				return d, nil
			case <-t.C:
			}
		}
	}
	st, err := e.Client.Wait(wctx, s.follow, client.WaitOptions{Every: e.Poll, Progress: progress})
	if errors.Is(err, client.ErrStillRunning) {
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		d.still, d.status = true, st
		return d, nil
	}
	if err != nil {
		return d, err
	}
	d.final, d.status = st.State, st
	return d, nil
}

func statusText(s client.Status) string {
	if s.Percent != nil {
		return fmt.Sprintf("%s %d%%", s.State, *s.Percent)
	}
	return s.State
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// scrubber is the client's redactor plus this request's sensitive values.
func scrubber(c *client.Client, params []sdk.Param, a sdk.Args) *redact.Redactor {
	return c.Redactor().With(sdk.SensitiveValues(params, a)...)
}

// scrubResult masks any secret left in a result.
func scrubResult(red *redact.Redactor, r *sdk.Result) {
	for i := range r.Parts {
		p := &r.Parts[i]
		p.Title = red.String(p.Title)
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
		if p.File != nil {
			p.File.Content = red.JSON(p.File.Content)
		}
	}
}

// New returns the IONOS provider.
func New() *sdk.Plugin {
	p := sdk.New("ionos", Version).SetDescription("IONOS Cloud Panel: servers, power, snapshots, IPs and reverse DNS, firewalls, DVDs, monitoring and logs; `call` reaches every API operation")
	p.Settings(settings...).Secrets(secrets...).SandboxSettings(sandboxSettings...)
	p.OnConfigure(Configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		_, err := env.(*Env).Client.Do(ctx, get("/ping_auth", nil), nil)
		return err
	})
	registerServers(p)
	registerOthers(p)
	registerGeneric(p)
	return p
}
