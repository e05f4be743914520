package pluginhost_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/internal/testbin"
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

type executor interface {
	Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error)
}

// BenchmarkExecute compares one trivial command through a real plugin
// process (gRPC over a Unix socket, mutual TLS) with the same provider
// function called in the bot's own process.
func BenchmarkExecute(b *testing.B) {
	bin := testbin.Plugin(b, "example")
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		b.Fatal(err)
	}
	cfg := pluginhost.Config{Name: "example", Path: "example", SHA256: sum, Targets: []sdk.Target{{Name: "sandbox", Sandbox: true}}}
	h := pluginhost.New(pluginhost.Options{Dir: testbin.PluginDir(b), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := h.Start(context.Background(), []pluginhost.Config{cfg}); err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	remote, _ := h.Get("example")
	local, err := pluginhost.NewLocal(context.Background(), provider.New(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ex   executor
	}{{"process", remote}, {"in-process", local}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				res, err := c.ex.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "bench", Command: "echo", Args: sdk.Args{"text": "ping"}}})
				if err != nil || res.Failed() {
					b.Fatal(err, res)
				}
			}
		})
		b.Run(c.name+"-parallel8", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			ctx := context.Background()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.ex.Execute(ctx, &sdk.ExecuteRequest{Request: sdk.Request{ID: "bench", Command: "echo", Args: sdk.Args{"text": "ping"}}}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
