// Package provider holds the example plugin's commands. Read it as the
// plugin authors' tutorial: the counter commands (counter.go) are a
// provider's commands as they are written, over a typed client (../client)
// with a simulator (../sim) for sandbox mode; the others show one feature
// of the contract each.
package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/example/client"
	"github.com/deskbot/deskbot/plugins/example/sim"
	"github.com/deskbot/deskbot/sdk"
)

// Version is the plugin's version.
const Version = "1.0.0"

// New returns the example provider.
func New() *sdk.Plugin {
	p := sdk.New("example", Version).SetDisplayName("Example").SetDescription("A tutorial provider: a counter API, and a command per feature of the contract")

	// What a target is configured with. A sandbox target needs neither:
	// it serves the simulator and makes up its key.
	p.Settings(sdk.String("base_url", "The counter API's address").AsRequired())
	p.Secrets(sdk.String("api_key", "The counter API's key").AsRequired())
	p.OnConfigure(configure)
	p.OnHealth(func(ctx context.Context, t *sdk.TargetConfig, env any) error {
		_, err := env.(*client.Client).Counter(ctx, client.Get())
		return err
	})

	registerCounter(p)
	registerContract(p)
	return p
}

// configure builds a target's client; a sandbox target first serves the
// simulator, keeping its state in the target's state folder.
func configure(ctx context.Context, t *sdk.TargetConfig) (any, error) {
	base := t.Settings.String("base_url")
	if t.Sandbox {
		var err error
		if base, err = t.Serve(sim.New(sim.Options{Token: t.Secrets["api_key"], StateFile: t.StateFile("counter.json")}), ""); err != nil {
			return nil, err
		}
	}
	return client.New(base, t.Secrets["api_key"])
}

// registerContract declares the commands that show one feature of the
// contract each (progress, cancellation, crashes, secrets, big results),
// with no API behind them.
func registerContract(p *sdk.Plugin) {
	p.Command("echo", "Repeat the text back").
		Params(sdk.String("text", "What to say").AsRequired().AsPositional()).
		Examples("/example echo \"hello world\"").
		NoProgress().
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			return sdk.NewResult().AddText("%s", c.Args.String("text")), nil
		})

	p.Command("greet", "Greet someone by name").
		Params(sdk.String("name", "Who to greet").AsRequired().AsPositional()).
		Complete("name", func(ctx context.Context, c *sdk.Call, prefix string) ([]sdk.Suggestion, error) {
			var out []sdk.Suggestion
			for _, n := range []string{"alice", "bob", "carol", "dan", "erin"} {
				if strings.HasPrefix(n, prefix) {
					out = append(out, sdk.Suggestion{Value: n})
				}
			}
			return out, nil
		}).
		NoProgress().
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			return sdk.NewResult().AddText("Hello, %s!", c.Args.String("name")), nil
		})

	p.Command("progress", "Report progress a few times, then finish").
		Params(
			sdk.Int("steps", "How many updates").WithDefault("3").Between(1, 100),
			sdk.Duration("delay", "Time between updates").WithDefault("200ms"),
		).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			steps := c.Args.Int("steps")
			for i := int64(1); i <= steps; i++ {
				if err := sleep(ctx, c.Args.Duration("delay")); err != nil {
					return nil, err
				}
				c.ProgressState("WORKING", int(i*100/steps), fmt.Sprintf("step %d of %d", i, steps))
			}
			return sdk.NewResult().AddKeyValues("Done", "steps", strconv.FormatInt(steps, 10)), nil
		})

	p.Command("slow", "Wait, honouring cancellation").
		Params(sdk.Int("seconds", "How long to wait").WithDefault("5").Between(0, 3600)).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			d := time.Duration(c.Args.Int("seconds")) * time.Second
			// Said at once, so that a test (or a user) knows the wait has
			// begun before it interrupts it.
			c.Log.Info("slow call started", "for", d)
			c.Progress(0, "waiting %s", d)
			if err := sleep(ctx, d); err != nil {
				// This line is how the host's tests see the plugin noticed.
				c.Log.Warn("slow call cancelled", "after", d, "reason", err.Error())
				return nil, err
			}
			return sdk.NewResult().AddText("waited %s", d), nil
		})

	// For the host's tests: a call queued behind a request limit, as far
	// as the bot can tell. It reports sdk.ProgressQueued, waits until the
	// file named by EXAMPLE_QUEUE_RELEASE exists (forever if unset), then
	// reports the wait over and answers with its context's deadline.
	p.Command("queued", "Wait as if queued behind a request limit (for testing)").
		Hidden().
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			c.ProgressState(sdk.ProgressQueued, -1, "queued behind the example's request limit")
			release := os.Getenv("EXAMPLE_QUEUE_RELEASE")
			for {
				if release != "" {
					if _, err := os.Stat(release); err == nil {
						break
					}
				}
				if err := sleep(ctx, 10*time.Millisecond); err != nil {
					return nil, err
				}
			}
			c.Progress(-1, "out of the queue")
			dl, _ := ctx.Deadline()
			return sdk.NewResult().AddKeyValues("Queue", "deadline", dl.Format(time.RFC3339Nano)), nil
		})

	p.Command("crash", "Exit the plugin process at once (for testing restarts)").
		Risk(sdk.RiskLow).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			c.Log.Error("crashing on request")
			os.Exit(7)
			return nil, nil
		})

	p.Command("fail", "Fail the way a provider API refusal does").
		Params(
			sdk.Enum("about", "The argument the refusal names, as a provider's \"no such account\" does (the bot then calls it invalid input)", "reason"),
			sdk.FreeText("reason", "What to say").WithDefault("the provider said no"),
		).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			if c.Args.String("about") != "" {
				return nil, sdk.BadArg(c.Args.String("about"), "%s", c.Args.String("reason"))
			}
			return nil, fmt.Errorf("%s", c.Args.String("reason"))
		})

	p.Command("secret check", "Check a secret without ever showing it").
		Params(sdk.String("value", "The secret").AsRequired().AsSensitive()).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			sum := sha256.Sum256([]byte(c.Args.String("value")))
			return sdk.NewResult().AddKeyValues("Secret",
				"length", strconv.Itoa(len(c.Args.String("value"))),
				"sha256 prefix", hex.EncodeToString(sum[:4])), nil
		})

	p.Command("secret set", "Store a secret's fingerprint (a change that needs approval)").
		Params(
			sdk.String("name", "What the secret is for").AsRequired().AsPositional().AsResource(),
			sdk.String("value", "The secret").AsRequired().AsSensitive(),
		).
		Risk(sdk.RiskHigh).
		Plan(func(ctx context.Context, c *sdk.Call) (*sdk.Plan, error) {
			return &sdk.Plan{Summary: fmt.Sprintf("Replace the secret %q", c.Args.String("name"))}, nil
		}).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			sum := sha256.Sum256([]byte(c.Args.String("value")))
			return sdk.NewResult().AddKeyValues("Stored", "name", c.Args.String("name"), "fingerprint", hex.EncodeToString(sum[:4])), nil
		})

	p.Command("env", "Say whether an environment variable is set in the plugin").
		Params(sdk.String("name", "Variable name").AsRequired().AsPositional()).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			_, set := os.LookupEnv(c.Args.String("name"))
			state := "absent"
			if set {
				state = "set"
			}
			return sdk.NewResult().AddKeyValues("Environment", "variable", c.Args.String("name"), "state", state), nil
		})

	p.Command("table", "Return a table of generated rows").
		Params(sdk.Int("rows", "How many rows").WithDefault("10").Between(0, 100000)).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) {
			res := sdk.NewResult()
			t := res.AddTable("Servers", "id", "name", "ip", "state")
			for i := int64(1); i <= c.Args.Int("rows"); i++ {
				t.Row(strconv.FormatInt(i, 10), fmt.Sprintf("web%03d", i), fmt.Sprintf("203.0.%d.%d", i/250%250, i%250+1), "running")
			}
			return res, nil
		})

}

// Count reads a target's counter; the conformance test uses it to check
// that Plan changes nothing.
func Count(p *sdk.Plugin, target string) (int64, error) {
	res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{Request: sdk.Request{Command: "counter show", Target: target}})
	if err != nil {
		return 0, err
	}
	if res.Failed() {
		return 0, res.Diagnostics.Err()
	}
	return strconv.ParseInt(res.Parts[0].KeyValues[0].Value, 10, 64)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
