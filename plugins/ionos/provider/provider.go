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
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/ionos/client"
	"github.com/deskbot/deskbot/plugins/ionos/sim"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
	"github.com/deskbot/deskbot/sdk/httpapi"
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
		sdk.Duration("max_queue_wait", "How long a call may wait for the API key's request limit to reset (2m); a longer wait fails at once with the reset time"),
	}
	secrets         = []sdk.Param{sdk.String("api_key", "An IONOS Cloud Panel API key").AsRequired()}
	sandboxSettings = []sdk.Param{sdk.Duration("action_time", "How long a power action, reinstall or snapshot takes").WithDefault("3s")}
)

// Configure builds a target's client; a sandbox target serves the
// simulator on loopback and keeps its state in the target's state folder.
func Configure(ctx context.Context, t *sdk.TargetConfig) (any, error) {
	o := client.Options{BaseURL: t.Settings.String("base_url"), Token: t.Secrets["api_key"], Timeout: t.Settings.Duration("timeout"),
		MaxInFlight: int(t.Settings.Int("max_in_flight")), Poll: t.Settings.Duration("poll"),
		MaxQueueWait: t.Settings.Duration("max_queue_wait")}
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

// queued tells the user, as progress, when the step's calls wait behind
// the API key's request limit, and for about how long: a command that
// waits says so instead of going quiet until the bot gives up on it. The
// report's state is sdk.ProgressQueued, and the wait's end is reported
// too: the bot does not count the wait against the call's deadline.
func queued(ctx context.Context, run *apiop.Run) context.Context {
	if run == nil || run.Call == nil {
		return ctx
	}
	ctx = httpapi.WithQueueNotice(ctx, func(wait time.Duration) {
		run.ProgressState(sdk.ProgressQueued, -1, fmt.Sprintf("queued behind IONOS's request limit, about %d s", int(max(time.Second, wait.Round(time.Second))/time.Second)))
	})
	return httpapi.WithQueueLeft(ctx, func() {
		run.Progress(-1, "out of the queue behind IONOS's request limit")
	})
}

// call is a step that makes one call, described as the plan shows it.
func call(c *client.Client, what string, r client.Request) step {
	method, endpoint, body := c.Describe(r)
	return step{What: what, Method: method, Endpoint: endpoint, Body: body,
		Do: func(ctx context.Context, run *apiop.Run) (*client.Result, error) {
			ctx = queued(ctx, run)
			resp, err := c.Do(ctx, r, nil)
			if err != nil {
				return nil, err
			}
			return &client.Result{Response: resp}, nil
		}}
}

// everyPage is a step that reads every page of a list with the SDK's
// pager and answers them as one.
func everyPage(c *client.Client, what, path string, q url.Values) step {
	s := call(c, what+", every page", get(path, q))
	s.Do = func(ctx context.Context, run *apiop.Run) (*client.Result, error) {
		ctx = queued(ctx, run)
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
		ctx = queued(ctx, run)
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
// it is steady again.
func onServer(c *client.Client, what string, r client.Request, serverID string) step {
	return followed(c, what, r, untilState(c, serverID, target{}))
}

// target is where work on a server ends.
type target struct {
	// state is the steady state the work ends in; "" is any steady state
	// (a resize or a reinstall returns the server to the state it was in).
	state string
	// through says the target is also the state before the work (a
	// reboot ends POWERED_ON, as it began): it counts only once a state
	// in between has been read.
	through bool
}

// targetOf is where a power action ends: POWERED_OFF after POWER_OFF, as
// the 1&1 Go SDK waits for (WaitForState(srv, "POWERED_OFF")), and
// POWERED_ON after POWER_ON, or after a REBOOT once the server was seen
// rebooting (the SDK waits for REBOOTING, then POWERED_ON).
func targetOf(action string) target {
	switch strings.ToUpper(action) {
	case "POWER_OFF":
		return target{state: "POWERED_OFF"}
	case "POWER_ON":
		return target{state: "POWERED_ON"}
	case "REBOOT":
		return target{state: "POWERED_ON", through: true}
	}
	return target{}
}

// untilState watches a server's state until the work reaches its target.
// Right after IONOS accepts a power action, the status can still show the
// state from before it (POWERED_ON just after a POWER_OFF): a steady state
// that is not the target is not the end of the work.
func untilState(c *client.Client, serverID string, t target) watch {
	moved := false
	return func(ctx context.Context) (sdk.Progress, bool, string, error) {
		path, err := statusPath(serverID)
		if err != nil {
			return sdk.Progress{}, false, "", err
		}
		st, err := c.Status(ctx, path)
		if err != nil {
			return sdk.Progress{}, false, "", err
		}
		steady := client.Steady(st.State)
		if !steady {
			moved = true
		}
		done := steady && (t.state == "" || strings.EqualFold(st.State, t.state)) && (!t.through || moved)
		return progressOf(st), done, st.State, nil
	}
}

// untilGone watches a deletion until the server's GET answers 404, reading
// its status meanwhile for progress. When it is gone, the state last read
// is reported again: the thread shows no state it never had.
func untilGone(c *client.Client, serverID string) watch {
	last := sdk.Progress{State: "REMOVED", Percent: -1, Message: "REMOVED"}
	return func(ctx context.Context) (sdk.Progress, bool, string, error) {
		gone, err := client.Path("servers", serverID)
		if err != nil {
			return sdk.Progress{}, false, "", err
		}
		_, err = c.Do(ctx, get(gone, nil), nil)
		if client.NotFound(err) {
			return last, true, "REMOVED", nil
		}
		if err != nil {
			return sdk.Progress{}, false, "", err
		}
		status, _ := statusPath(serverID)
		if st, err := c.Status(ctx, status); err == nil {
			last = progressOf(st)
		}
		return last, false, "", nil
	}
}

// statusPath is where a server's state is read while work on it goes on.
func statusPath(serverID string) (string, error) { return client.Path("servers", serverID, "status") }

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
		apiop.Register(p, api, withCompletions(o))
	}
}
