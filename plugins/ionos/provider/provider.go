// Package provider holds the IONOS plugin's commands: curated ones for the
// desk (servers, power, snapshots, IPs and reverse DNS, firewalls, DVDs,
// monitoring, logs) that follow asynchronous work to its end with live
// progress, and "call OPERATION" for every operation of the Cloud Panel
// API v1, checked against the catalog and its JSON Schemas.
package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/deskbot/deskbot/plugins/ionos/client"
	"github.com/deskbot/deskbot/plugins/ionos/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
)

// Version is the plugin's version.
const Version = "1.0.0"

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
	o := client.Options{BaseURL: t.Settings.String("base_url"), Token: t.Secrets["api_key"], Timeout: t.Settings.Duration("timeout"),
		MaxInFlight: int(t.Settings.Int("max_in_flight")), Poll: t.Settings.Duration("poll")}
	if t.Sandbox {
		s, err := sim.New(sim.Options{Token: o.Token, Clock: t.Clock, ActionTime: t.Settings.Duration("action_time"), StateFile: t.StateFile("ionos-" + t.Name + ".json")})
		if err != nil {
			return nil, err
		}
		if o.BaseURL, err = t.Serve(s, "/v1"); err != nil {
			return nil, err
		}
		if o.Poll == 0 {
			o.Poll = 500 * time.Millisecond
		}
	}
	c, err := client.New(o)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// api is what every IONOS command has in common: a target's client, its
// redactor, and the generic view of answers.
var api = &apiop.API[*client.Client, *client.Result]{
	Name:     "IONOS",
	Client:   sdk.EnvOf[*client.Client],
	Redactor: (*client.Client).Redactor,
	Show:     showGeneric,
}

type (
	op   = apiop.Op[*client.Client, *client.Result]
	work = apiop.Work[*client.Result]
	step = apiop.Step[*client.Result]
)

func get(path string, q url.Values) client.Request {
	return client.Request{Method: http.MethodGet, Path: path, Query: q}
}

// call is a step that makes one call, described as the plan shows it.
func call(c *client.Client, what string, r client.Request) step {
	method, endpoint, body := c.Describe(r)
	return step{What: what, Method: method, Endpoint: endpoint, Body: body,
		Do: func(ctx context.Context, _ *apiop.Run) (*client.Result, error) {
			resp, err := c.Do(ctx, r, nil)
			if err != nil {
				return nil, err
			}
			return &client.Result{Response: resp}, nil
		}}
}

// everyPage is a step that reads every page of a list (until a short page)
// and answers them as one. Paging is the provider's own for now.
func everyPage(c *client.Client, what, path string, q url.Values) step {
	s := call(c, what+", every page", get(path, q))
	s.Do = func(ctx context.Context, _ *apiop.Run) (*client.Result, error) {
		var items []json.RawMessage
		if err := c.List(ctx, path, q, 100, &items); err != nil {
			return nil, err
		}
		if items == nil {
			items = []json.RawMessage{}
		}
		body, _ := json.Marshal(items)
		return &client.Result{Response: &client.Response{Status: http.StatusOK, Body: body}}, nil
	}
	return s
}

// watch reads work going on at IONOS once: how it goes, whether it has
// ended, and the state it ended in.
type watch func(ctx context.Context) (now sdk.Progress, ended bool, final string, err error)

// followed is a step whose call may start work at IONOS: once the call is
// accepted (202), the work is watched until it ends, each state reported
// as it changes, or until the answer is due.
func followed(c *client.Client, what string, r client.Request, w watch) step {
	s := call(c, what, r)
	s.Follows = true
	s.Do = func(ctx context.Context, run *apiop.Run) (*client.Result, error) {
		resp, err := c.Do(ctx, r, nil)
		if err != nil {
			return nil, err
		}
		res := &client.Result{Response: resp}
		if resp.Status != http.StatusAccepted {
			return res, nil
		}
		var final string
		res.Still, err = run.Follow(ctx, c.Poll(), func(ctx context.Context) (sdk.Progress, bool, error) {
			now, ended, f, err := w(ctx)
			final = f
			return now, ended, err
		})
		if err != nil {
			return nil, err
		}
		if !res.Still {
			res.Final = final
		}
		return res, nil
	}
	return s
}

// onServer is a step that changes a server and follows its state until
// it is steady.
func onServer(c *client.Client, what string, r client.Request, serverID string) step {
	return followed(c, what, r, untilSteady(c, statusPath(serverID)))
}

// untilSteady watches a status path (/servers/ID/status) until its state
// is a resting one.
func untilSteady(c *client.Client, status string) watch {
	return func(ctx context.Context) (sdk.Progress, bool, string, error) {
		st, err := c.Status(ctx, status)
		if err != nil {
			return sdk.Progress{}, false, "", err
		}
		return progressOf(st), client.Steady(st.State), st.State, nil
	}
}

// untilGone watches a deletion until gone answers 404, reading the status
// path meanwhile for progress. When the thing is gone, the state last read
// is reported again: the thread shows no state it never had.
func untilGone(c *client.Client, gone, status string) watch {
	last := sdk.Progress{State: "REMOVED", Percent: -1, Message: "REMOVED"}
	return func(ctx context.Context) (sdk.Progress, bool, string, error) {
		_, err := c.Do(ctx, get(gone, nil), nil)
		if client.NotFound(err) {
			return last, true, "REMOVED", nil
		}
		if err != nil {
			return sdk.Progress{}, false, "", err
		}
		if st, err := c.Status(ctx, status); err == nil {
			last = progressOf(st)
		}
		return last, false, "", nil
	}
}

// statusPath is where a server's state is read while work on it goes on.
func statusPath(serverID string) string { return "/servers/" + serverID + "/status" }

// checkWith is the command that shows how work on a server goes on.
func checkWith(server string) string { return "/ionos server status " + server }

func progressOf(st client.Status) sdk.Progress {
	p := sdk.Progress{State: st.State, Percent: -1, Message: statusText(st)}
	if st.Percent != nil {
		p.Percent = *st.Percent
	}
	return p
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

// New returns the IONOS provider.
func New() *sdk.Plugin {
	p := sdk.New("ionos", Version).SetDisplayName("IONOS").SetDescription("IONOS Cloud Panel: servers, power, snapshots, IPs and reverse DNS, firewalls, DVDs, monitoring and logs; `call` reaches every API operation")
	p.Settings(settings...).Secrets(secrets...).SandboxSettings(sandboxSettings...)
	p.OnConfigure(Configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		_, err := env.(*client.Client).Do(ctx, get("/ping_auth", nil), nil)
		return err
	})
	registerServers(p)
	registerOthers(p)
	registerGeneric(p)
	return p
}

// declare declares each of ops as a command of p.
func declare(p *sdk.Plugin, ops ...op) {
	for _, o := range ops {
		apiop.Register(p, api, o)
	}
}
