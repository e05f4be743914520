package sdktest

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deskbot/deskbot/sdk"
)

// broken are plugins with one fault each, and the kit's options for them.
// TestBrokenPlugin runs one in a child process; TestKitRejectsBrokenPlugins
// checks the kit failed it, naming the fault.
var broken = map[string]func(t *testing.T) (*sdk.Plugin, Options){
	// Examples users would copy from help, each refused by the bot.
	"bad examples": func(t *testing.T) (*sdk.Plugin, Options) {
		p := sdk.New("broken", "1")
		p.Command("record add", "Add a DNS record").
			Params(sdk.String("name", "").AsRequired().AsPositional(),
				sdk.Enum("type", "", "A", "AAAA", "CNAME"),
				sdk.Int("ttl", "").Between(60, 86400)).
			Risk(sdk.RiskLow).
			Examples("/broken record add www type=MX", "/broken record add www ttl=5", "/broken record add www extra").
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
		return p, Options{}
	},
	// A suggestion function for a parameter the command does not have.
	"completion of no parameter": func(t *testing.T) (*sdk.Plugin, Options) {
		p := sdk.New("broken", "1")
		p.Command("greet", "Greet").
			Params(sdk.String("name", "").AsRequired().AsPositional()).
			Complete("nmae", func(ctx context.Context, c *sdk.Call, prefix string) ([]sdk.Suggestion, error) { return nil, nil }).
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
		return p, Options{}
	},
	// A Plan that refuses every argument the kit makes up, and would
	// write if it got further: the side-effect check tested nothing.
	"plan refuses the kit's arguments": func(t *testing.T) (*sdk.Plugin, Options) {
		p := sdk.New("broken", "1")
		p.Command("account suspend", "Suspend an account").
			Params(sdk.String("user", "").AsRequired().AsPositional()).
			Risk(sdk.RiskHigh).
			Plan(func(ctx context.Context, c *sdk.Call) (*sdk.Plan, error) {
				return nil, sdk.BadArg("user", "no account %q", c.Args.String("user"))
			}).
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
		return p, Options{Snapshot: func() (string, error) { return "nothing changes", nil }}
	},
	// A plugin that logs what the user typed for a password, past the
	// call's log (which masks it), as a provider's echoed error might.
	"logs a sensitive argument": func(t *testing.T) (*sdk.Plugin, Options) {
		p := sdk.New("broken", "1")
		p.Command("password set", "Set a password").
			Params(sdk.String("user", "").AsRequired().AsPositional(), sdk.String("pw", "").AsSensitive()).
			Risk(sdk.RiskLow).
			Plan(func(ctx context.Context, c *sdk.Call) (*sdk.Plan, error) {
				slog.Warn("the provider answered", "body", "bad password "+c.Args.String("pw"))
				return &sdk.Plan{Summary: "Set a password"}, nil
			}).
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
		return p, Options{ThroughHost: true}
	},
	// Two plugins checked through the host in one test: the second one,
	// whose Plan writes, must be the one its checks reach.
	"second plugin through the host": func(t *testing.T) (*sdk.Plugin, Options) {
		good := sdk.New("good", "1")
		good.Command("status", "Show the status").
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
		Run(t, good, Options{ThroughHost: true})
		p, opts := counterPlugin(t)
		opts.ThroughHost = true
		return p, opts
	},
	// A command that writes, left at the default read-only risk: it
	// would run with no approval.
	"read-only command writes": func(t *testing.T) (*sdk.Plugin, Options) {
		var n int
		p := sdk.New("broken", "1")
		p.Command("counter bump", "Add one").
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { n++; return sdk.NewResult(), nil })
		return p, Options{Snapshot: func() (string, error) { return "counter=" + strconv.Itoa(n), nil }}
	},
	// A plugin whose name is a path, run through the host: the kit must
	// refuse it before it writes the launcher, which would land outside
	// its folder.
	"a path for a name through the host": func(t *testing.T) (*sdk.Plugin, Options) {
		p := sdk.New("../../"+filepath.Base(os.Getenv(escapeEnv)), "1")
		p.Command("status", "Show the status").
			Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
		return p, Options{ThroughHost: true}
	},
	// A Plan that changes the provider's state.
	"plan writes": func(t *testing.T) (*sdk.Plugin, Options) {
		return counterPlugin(t)
	},
	// The same, found through the bot's plugin host, over gRPC, in a
	// plugin process of its own.
	"plan writes through the host": func(t *testing.T) (*sdk.Plugin, Options) {
		p, opts := counterPlugin(t)
		opts.ThroughHost = true
		return p, opts
	},
}

// counterPlugin is a plugin whose "counter add" writes the counter (a
// file in the target's state folder) when it is planned, and which
// process did.
func counterPlugin(t *testing.T) (*sdk.Plugin, Options) {
	dir := t.TempDir()
	file := filepath.Join(dir, "counter")
	read := func() (int, error) {
		b, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		n, _, _ := strings.Cut(string(b), "\n")
		return strconv.Atoi(n)
	}
	p := sdk.New("broken", "1")
	p.Command("counter add", "Add one").
		Risk(sdk.RiskLow).
		Plan(func(ctx context.Context, c *sdk.Call) (*sdk.Plan, error) {
			path := c.TargetConfig.StateFile("counter")
			b, _ := os.ReadFile(path)
			n, _, _ := strings.Cut(string(b), "\n")
			i, _ := strconv.Atoi(n)
			where := "the test process"
			if os.Getenv(serveEnv) != "" {
				where = "a plugin process"
			}
			if err := os.WriteFile(path, []byte(strconv.Itoa(i+1)+"\n"+where), 0o600); err != nil {
				return nil, err
			}
			return &sdk.Plan{Summary: "Add one"}, nil
		}).
		Run(func(ctx context.Context, c *sdk.Call) (*sdk.Result, error) { return sdk.NewResult(), nil })
	return p, Options{
		Targets: []sdk.Target{{Name: "main", Sandbox: true, StateDir: dir}},
		Snapshot: func() (string, error) {
			n, err := read()
			b, _ := os.ReadFile(file)
			_, where, _ := strings.Cut(string(b), "\n")
			return "plugin=broken\ncounter=" + strconv.Itoa(n) + "\nunit=each\nwritten by=" + where, err
		},
	}
}

// escapeEnv names the file a plugin named by a path would write.
const escapeEnv = "SDKTEST_ESCAPE"

// brokenEnv names the broken plugin a child process runs the kit on.
const brokenEnv = "SDKTEST_BROKEN"

// TestBrokenPlugin runs the kit on the broken plugin a parent test names;
// alone, it does nothing.
func TestBrokenPlugin(t *testing.T) {
	if os.Getenv(brokenEnv) == "" && os.Getenv(serveEnv) == "" {
		t.Skip("runs in a child process of TestKitRejectsBrokenPlugins")
	}
	for name, make := range broken {
		t.Run(name, func(t *testing.T) {
			p, opts := make(t)
			Run(t, p, opts)
		})
	}
}

func TestKitRejectsBrokenPlugins(t *testing.T) {
	cases := map[string][]string{
		"bad examples": {
			`example "/broken record add www type=MX" is refused by the bot's parser`, `"MX" is not one of A, AAAA, CNAME`,
			`example "/broken record add www ttl=5" is refused by the bot's parser`, `5 is below the minimum of 60`,
			`example "/broken record add www extra" is refused by the bot's parser`,
		},
		"completion of no parameter": {`command "greet": Complete("nmae", ...) names no parameter of the command (it has: name)`},
		"plan refuses the kit's arguments": {
			`Plan account suspend map[user:sample] answered only with diagnostics (no account "sample")`,
			`give arguments its Plan accepts in Options.Args["account suspend"], or name it in Options.SkipPlan`,
		},
		"logs a sensitive argument":          {"the plugin's log holds a sensitive argument: ", "body=\"bad password " + Canary},
		"second plugin through the host":     {"- counter=0\n+ counter=1\n  unit=each\n- written by=\n+ written by=a plugin process\n"},
		"read-only command writes":           {"read-only command counter bump map[] changed the provider's state; declare its risk", "- counter=0\n+ counter=1\n"},
		"a path for a name through the host": {`ThroughHost: plugin name "../../`},
		"plan writes": {
			"Plan counter add map[] changed the provider's state: a Plan only reads; move the write into Run (or an apiop step's Do), which runs once approved (Snapshot before -, after +):\n",
			"  plugin=broken\n- counter=0\n+ counter=1\n  unit=each\n- written by=\n+ written by=the test process\n",
		},
		"plan writes through the host": {
			"Plan counter add map[] changed the provider's state: a Plan only reads; move the write into Run (or an apiop step's Do), which runs once approved (Snapshot before -, after +):\n",
			"- counter=0\n+ counter=1\n  unit=each\n- written by=\n+ written by=a plugin process\n",
		},
	}
	if len(cases) != len(broken) {
		t.Fatalf("%d broken plugins, %d cases", len(broken), len(cases))
	}
	for name, wants := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenPlugin$/^"+strings.ReplaceAll(name, " ", "_")+"$", "-test.v")
			// The file a plugin named by a path would write, two folders
			// above the kit's temporary folder for it: a name of its own.
			escape := "sdktest-escape-" + strconv.Itoa(os.Getpid())
			cmd.Env = append(os.Environ(), brokenEnv+"=1", escapeEnv+"="+escape)
			out, err := cmd.CombinedOutput()
			if _, serr := os.Stat(filepath.Join(os.TempDir(), escape)); serr == nil {
				_ = os.Remove(filepath.Join(os.TempDir(), escape))
				t.Errorf("the kit wrote %s outside its folder", escape)
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the kit passed a plugin that is broken (%v):\n%s", err, out)
			}
			text := strings.ReplaceAll(string(out), "\n        ", "\n") // the test log's indent
			for _, want := range wants {
				if !strings.Contains(text, want) {
					t.Errorf("the kit's report does not say %q:\n%s", want, out)
				}
			}
		})
	}
}
