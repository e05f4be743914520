// Command bot is the ChatOps bot: one binary with the chat adapters, the
// pipeline and the tools operators need.
//
//	bot console            a local REPL over the real pipeline
//	bot exec --as USER CMD run one command and exit
//	bot policy ...         check, explain and test the RBAC policy
//	bot audit ...          verify and export the audit log
//	bot loadtest           measure a bot under signed slash commands
//	bot plugin sum PATH    print a plugin's sha256 for the config file
//	bot plugin new NAME    write a new provider plugin in plugins/NAME
//	bot config check FILE  validate a configuration file
//	bot version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// Version is set at build time.
var Version = "dev"

// With a heap profile asked for, record every allocation from the start
// (the default samples one per 512 KiB, too coarse for an idle bot).
func init() {
	if os.Getenv("DESKBOT_MEMPROFILE") != "" {
		runtime.MemProfileRate = 1
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	// DESKBOT_CPUPROFILE=FILE profiles the bot until it exits (go tool
	// pprof FILE): for finding where time goes under load.
	stopProfile := func() {}
	if path := os.Getenv("DESKBOT_CPUPROFILE"); path != "" {
		stopProfile = startCPUProfile(path, os.Stderr)
	}
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	stopProfile()
	// DESKBOT_MEMPROFILE=FILE writes what the bot holds on its heap when
	// it exits (go tool pprof -sample_index=inuse_space FILE).
	if path := os.Getenv("DESKBOT_MEMPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			runtime.GC()
			err = errors.Join(pprof.WriteHeapProfile(f), f.Close())
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "DESKBOT_MEMPROFILE: no heap profile written: %v\n", err)
		}
	}
	os.Exit(code)
}

// startCPUProfile profiles the process into path until the function it
// returns is called. A profile that cannot be written is said on w, not
// skipped in silence: whoever asked for it is waiting for the file.
func startCPUProfile(path string, w io.Writer) func() {
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(w, "DESKBOT_CPUPROFILE: no CPU profile written: %v\n", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}

// exitConfig is the exit status of a command that cannot start because
// of its configuration: sysexits.h's EX_CONFIG, which service managers
// and scripts already know, and far from the outcomes 0 to 5 of bot exec.
const exitConfig = 78

// exitError carries an exit status out of a subcommand.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

const usage = `usage: bot COMMAND [flags]

commands:
  serve                   the Slack endpoints (HTTP or Socket Mode), /healthz, /readyz, /metrics;
                          --playground serves a local Slack in the browser instead
  console                 interactive console over the real pipeline: line editing,
                          Tab completion, history in the data directory
  exec --as USER "/cmd"   run one command; exit status tells the outcome
  policy check FILE       validate a policy file
  policy explain --as U "/cmd"   the decision on a command and the rule that made it
  policy test FILE CASES  check a policy against a table of expected decisions
  audit verify            check the audit log's keyed hash chain, and against the bot's
                          checkpoint file (or --checkpoints FILE, --expect-head SEQ:HASH)
                          to find a cut tail or a recomputed chain
  audit key               print the audit key's id and public key (never the key)
  audit export            write audit entries as JSON lines or CSV
  plugin sum PATH...      print sha256 digests for the config file
  plugin sum --update FILE  rewrite the plugin pins in a config file (or its plugins.sums)
  plugin sum --sums FILE NAME...  set the pins of the executables NAME (next to FILE)
                          in the sha256sum file FILE, other lines kept
  plugin new NAME         write a provider plugin in plugins/NAME (--dir DIR elsewhere):
                          client, simulator, commands and tests that pass as written
  config check FILE       validate a configuration: keys, secrets (present or missing, never
                          shown), plugin pins, the policy, each target's settings; exit 0 ok,
                          1 problems found, 2 usage
  loadtest                start a bot with sandbox plugins and send it signed slash
                          commands at a set rate; report latencies, errors, memory
  version                 print the version

Run "bot COMMAND -h" for a command's flags. With no --config, the bot uses
development defaults: the plugins next to it in sandbox mode, ./data, and
examples/policy.yaml. A configuration the bot cannot start with (the file,
the policy, a secret it names) exits 78.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "console":
		err = runConsole(ctx, args[1:], stdin, stdout, stderr)
	case "exec":
		err = runExec(ctx, args[1:], stdout, stderr)
	case "plugin":
		err = runPlugin(args[1:], stdout)
	case "policy":
		err = runPolicy(ctx, args[1:], stdout, stderr)
	case "config":
		err = runConfig(ctx, args[1:], stdout)
	case "audit":
		err = runAudit(ctx, args[1:], stdout, stderr)
	case "loadtest":
		err = runLoadtest(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "bot", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "bot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "bot:", ee.msg)
		}
		return ee.code
	}
	var ce *configError
	if errors.As(err, &ce) {
		fmt.Fprintln(stderr, "bot: configuration:", err)
		return exitConfig
	}
	fmt.Fprintln(stderr, "bot:", err)
	return 1
}
