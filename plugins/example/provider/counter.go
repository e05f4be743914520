package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/deskbot/deskbot/plugins/example/client"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
)

// The counter commands are written in the API-operation layer: each says
// what calls its work makes; the layer plans, runs, follows and masks.

type op = apiop.Op[*client.Client, client.Counter]

type work = apiop.Work[client.Counter]

var api = &apiop.API[*client.Client, client.Counter]{
	Name:     "the counter API",
	Client:   sdk.EnvOf[*client.Client],
	Redactor: (*client.Client).Redactor,
	// Every counter command answers with the counter as its last call
	// left it.
	Show: func(c *client.Client, a sdk.Args, res []client.Counter, out *sdk.Result) error {
		if len(res) > 0 {
			out.AddKeyValues("", "counter", strconv.FormatInt(res[len(res)-1].Value, 10))
		}
		return nil
	},
}

// step turns one of the client's requests into a step of work: described
// as the client would send it, done by sending it.
func step(c *client.Client, what string, r *client.Request) apiop.Step[client.Counter] {
	method, endpoint, body := c.Describe(r)
	return apiop.Step[client.Counter]{What: what, Method: method, Endpoint: endpoint, Body: body,
		Do: func(ctx context.Context, run *apiop.Run) (client.Counter, error) { return c.Counter(ctx, r) }}
}

func registerCounter(p *sdk.Plugin) {
	apiop.Register(p, api, counterShow())
	apiop.Register(p, api, counterAdd())
	apiop.Register(p, api, counterReset())
}

func counterShow() op {
	return op{Name: "counter show", Summary: "Show the counter",
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "Read the counter", Steps: []apiop.Step[client.Counter]{step(c, "Read the counter", client.Get())}}, nil
		}}
}

func counterAdd() op {
	return op{Name: "counter add", Summary: "Add to the counter", Risk: sdk.RiskHigh,
		Params: []sdk.Param{
			sdk.Int("n", "How much to add").WithDefault("1").Between(1, 1000000).AsPositional(),
			sdk.Duration("delay", "Wait this long before writing (to test work in flight)").WithDefault("0s"),
		},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			add := step(c, "Add to the counter", client.Add(a.Int("n")))
			if d := a.Duration("delay"); d > 0 {
				send := add.Do
				add.Do = func(ctx context.Context, run *apiop.Run) (client.Counter, error) {
					run.Progress(-1, "waiting %s before writing", d)
					if err := sleep(ctx, d); err != nil {
						return client.Counter{}, err
					}
					return send(ctx, run)
				}
			}
			return &work{Summary: fmt.Sprintf("Add %d to the counter", a.Int("n")), Steps: []apiop.Step[client.Counter]{add}}, nil
		}}
}

// counterReset is planned from the counter's value now: it is a fact of
// the plan, so a reset approved at 7 is refused if the counter has moved
// on by the time it runs.
func counterReset() op {
	return op{Name: "counter reset", Summary: "Set the counter back to zero", Risk: sdk.RiskCritical,
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			now, err := c.Counter(ctx, client.Get())
			if err != nil {
				return nil, err
			}
			return &work{Summary: "Reset the counter to 0",
				Notes: []string{fmt.Sprintf("It is at %d now.", now.Value)},
				Facts: []string{"value=" + strconv.FormatInt(now.Value, 10)},
				Steps: []apiop.Step[client.Counter]{step(c, "Reset the counter", client.Reset())}}, nil
		}}
}
