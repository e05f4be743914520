package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ServeOption changes how [Serve] runs a plugin.
type ServeOption func(*serveConfig)

type serveConfig struct {
	debug    context.Context
	reattach io.Writer
}

// WithDebug serves the plugin outside the bot's control, for running it
// under a debugger: Serve starts at once, writes to out the environment
// line that tells a bot to attach to it instead of starting it
// (DESKBOT_REATTACH_NAME='{...}'), and serves until ctx ends. Only for a
// developer's machine: the connection is not authenticated.
func WithDebug(ctx context.Context, out io.Writer) ServeOption {
	return func(c *serveConfig) { c.debug, c.reattach = ctx, out }
}

// Reattach says where a plugin served with [WithDebug] listens; it travels
// as JSON in the variable [ReattachEnv] names.
type Reattach struct {
	Protocol        string `json:"protocol"`
	ProtocolVersion int    `json:"protocol_version"`
	Pid             int    `json:"pid"`
	Network         string `json:"network"`
	Addr            string `json:"addr"`
}

// ParseReattach reads a Reattach from its JSON form into what go-plugin
// attaches with.
func ParseReattach(v string) (*plugin.ReattachConfig, error) {
	var r Reattach
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("not a plugin's reattach line: %w", err)
	}
	if r.Network == "" || r.Addr == "" || r.Pid == 0 {
		return nil, fmt.Errorf("not a plugin's reattach line: network, addr and pid are required")
	}
	var addr net.Addr
	switch r.Network {
	case "unix":
		addr = &net.UnixAddr{Net: "unix", Name: r.Addr}
	case "tcp":
		a, err := net.ResolveTCPAddr("tcp", r.Addr)
		if err != nil {
			return nil, err
		}
		addr = a
	default:
		return nil, fmt.Errorf("network %q: want unix or tcp", r.Network)
	}
	return &plugin.ReattachConfig{Protocol: plugin.Protocol(r.Protocol), ProtocolVersion: r.ProtocolVersion, Pid: r.Pid, Addr: addr, Test: true}, nil
}

// ReattachEnv is the environment variable a bot reads to attach to the
// plugin called name, served with [WithDebug], instead of starting it.
func ReattachEnv(name string) string {
	return "DESKBOT_REATTACH_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// Serve runs p as a plugin process and returns when the bot ends it. Call
// it from main and nothing else: stdout belongs to the plugin protocol.
//
// Serve sets slog's default logger to one the bot reads back and files
// under the plugin's name, and exits if the bot goes away. It returns an
// error only if the plugin could not be served at all.
func Serve(p Provider, opts ...ServeOption) error {
	var cfg serveConfig
	for _, o := range opts {
		o(&cfg)
	}
	slog.SetDefault(NewPluginLogger(os.Stderr, slog.LevelDebug))
	if pl, ok := p.(*Plugin); ok {
		pl.SetLogger(slog.Default())
		defer pl.Close()
	}
	if cfg.debug != nil {
		return serveDebug(p, cfg)
	}
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		return fmt.Errorf("this is a deskbot plugin: the bot starts it (see the bot's plugins configuration); to run it by hand under a debugger, serve it with sdk.WithDebug")
	}
	go exitWithParent(os.Getppid(), time.Second)
	// DESKBOT_PLUGIN_CPUPROFILE=FILE profiles the plugin until it is shut
	// down, for finding where a plugin's time goes (go tool pprof FILE).
	if path := os.Getenv("DESKBOT_PLUGIN_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				_ = f.Close()
			}
		}
		if err != nil {
			// The host logs a plugin's standard error: say it there
			// rather than leave whoever asked waiting for a file.
			fmt.Fprintf(os.Stderr, "DESKBOT_PLUGIN_CPUPROFILE: no CPU profile written: %v\n", err)
		} else {
			defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
		}
	}
	// DESKBOT_PLUGIN_MEMPROFILE=FILE writes what the plugin holds on the
	// heap when it is shut down: what an idle plugin keeps alive.
	if path := os.Getenv("DESKBOT_PLUGIN_MEMPROFILE"); path != "" {
		defer writeHeapProfile(path)
	}
	// Building a catalog leaves garbage (parsed reference data, schemas):
	// give it back before idling, so an idle plugin holds only what it uses.
	debug.FreeOSMemory()
	// A plugin keeps a few megabytes live and allocates a little on every
	// call, so at Go's default (GOGC=100) a busy one collects garbage
	// every few hundred calls: a fifth of its CPU under load. Let the heap
	// grow to four times what is live before collecting: a few megabytes
	// more under load, nothing more at rest. GOGC in the plugin's env
	// (plugins.list[].env) decides instead when it is set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(pluginGCPercent)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         PluginSet(p),
		GRPCServer:      newGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Level:      hclog.Info,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
	return nil
}

// serveDebug serves p for a bot to attach to, until cfg.debug ends.
// pluginGCPercent is a plugin's GOGC unless its environment sets one.
const pluginGCPercent = 300

func serveDebug(p Provider, cfg serveConfig) error {
	meta, err := p.Metadata(cfg.debug, &MetadataRequest{})
	if err != nil {
		return err
	}
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         PluginSet(p),
		GRPCServer:      newGRPCServer,
		Logger:          hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: os.Stderr, JSONFormat: true}),
		Test:            &plugin.ServeTestConfig{Context: cfg.debug, ReattachConfigCh: reattach, CloseCh: closed},
	})
	select {
	case rc := <-reattach:
		b, err := json.Marshal(Reattach{Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid, Network: rc.Addr.Network(), Addr: rc.Addr.String()})
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.reattach, "%s='%s'\n", ReattachEnv(meta.Name), b)
	case <-closed:
		return fmt.Errorf("the plugin stopped before it was served")
	}
	<-closed
	return nil
}

// exitWithParent ends the process when its parent dies (the plugin is
// re-parented), so a killed bot leaves no orphans behind.
func exitWithParent(ppid int, every time.Duration) {
	if ppid <= 1 {
		return
	}
	for range time.Tick(every) {
		if os.Getppid() != ppid {
			slog.Warn("bot process went away; exiting")
			os.Exit(3)
		}
	}
}

// hclogTime is the timestamp layout go-plugin's host parses.
const hclogTime = "2006-01-02T15:04:05.000000Z07:00"

// NewPluginLogger returns a slog logger writing JSON lines that go-plugin
// on the bot's side understands (hclog's @level/@message/@timestamp keys),
// so plugin logs arrive as structured bot logs.
func NewPluginLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().UTC().Format(hclogTime))
			case slog.LevelKey:
				return slog.String("@level", hclogLevel(a.Value.Any().(slog.Level)))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}

func hclogLevel(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// With a heap profile asked for, record every allocation from the start
// (the default samples one per 512 KiB, too coarse for a small process).
func init() {
	if os.Getenv("DESKBOT_PLUGIN_MEMPROFILE") != "" {
		runtime.MemProfileRate = 1
	}
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		runtime.GC()
		err = errors.Join(pprof.WriteHeapProfile(f), f.Close())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "DESKBOT_PLUGIN_MEMPROFILE: no heap profile written: %v\n", err)
	}
}

// newGRPCServer is go-plugin's server with a pool of stream workers: a
// call is served by a goroutine whose stack has already grown, instead of
// a new one that grows its stack on every call (about a tenth of a trivial
// call's CPU). A call that finds every worker busy still gets its own
// goroutine, so long-running commands never queue behind each other.
// Sixteen workers cover a busy desk's concurrent calls (with 8 callers, 4
// workers left half the calls to fresh goroutines: 3-4% of throughput);
// an idle worker's stack is small until it first serves.
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return plugin.DefaultGRPCServer(append(opts, grpc.NumStreamWorkers(uint32(max(16, runtime.GOMAXPROCS(0))))))
}
