package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/deskbot/deskbot/proto/deskbot/provider/v1"
)

// dial serves p over an in-memory gRPC connection and returns a client.
func dial(t *testing.T, p Provider) *GRPCClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	pb.RegisterProviderServiceServer(s, &grpcServer{impl: p})
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return NewGRPCClient(conn)
}

func testPlugin() *Plugin {
	p := New("demo", "2.1.0").SetDescription("demo plugin")
	p.OnConfigure(func(ctx context.Context, t *TargetConfig) (any, error) {
		if t.Settings.String("fail") == "yes" {
			return nil, errors.New("cannot reach the API")
		}
		return t.Secrets["key"], nil
	})
	p.OnHealth(func(ctx context.Context, t *TargetConfig, env any) error {
		if t.Name == "bad" {
			return errors.New("401 from API")
		}
		return nil
	})
	p.Command("everything", "Every kind of part").
		Params(
			EnumOf("kind", "a kind", EnumValue{Value: "a", Description: "first", Aliases: []string{"alpha"}}).AsRequired().AsPositional(),
			Int("n", "count").Between(1, 9).WithDefault("2"),
			String("secret", "hidden").AsSensitive(),
			IP("ips", "addresses").AsRepeated(),
			String("who", "the account").AsResource(),
			FreeText("reason", "why"),
		).
		Risk(RiskHigh).
		Examples("/demo everything a").
		Aliases("all").
		SensitiveOutput().
		Plan(func(ctx context.Context, c *Call) (*Plan, error) {
			return &Plan{Summary: "do " + c.Args.String("kind"), Steps: []PlanStep{{Description: "call", Method: "POST", Endpoint: "/x", Body: "{}"}}, Risk: RiskCritical}, nil
		}).
		Complete("kind", func(ctx context.Context, c *Call, prefix string) ([]Suggestion, error) {
			return []Suggestion{{Value: prefix + "1", Description: "one"}}, nil
		}).
		Run(func(ctx context.Context, c *Call) (*Result, error) {
			c.Progress(50, "half of %d", c.Args.Int("n"))
			c.ProgressState("DONE", 100, "all")
			r := NewResult().AddText("env=%v ips=%v", c.Env, c.Args.Strings("ips")).AddCode("raw", "x\ny").AddKeyValues("kv", "a", "1").AddFile("f.csv", "text/csv", []byte("a,b"))
			r.AddTable("t", "c1", "c2").Row("1", "2").Row("3")
			return r.Warn("careful"), nil
		})
	p.Command("refuse", "A domain failure").NoProgress().Run(func(ctx context.Context, c *Call) (*Result, error) {
		return nil, BadArg("who", "no such account %q", "bob")
	})
	p.Command("panic", "A bug").Run(func(ctx context.Context, c *Call) (*Result, error) { panic("boom") })
	p.Command("wait", "Wait for cancel").Run(func(ctx context.Context, c *Call) (*Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	return p
}

func TestGRPCRoundTripKeepsEveryField(t *testing.T) {
	local := testPlugin()
	remote := dial(t, local)
	ctx := context.Background()

	m, err := remote.Metadata(ctx, &MetadataRequest{})
	require.NoError(t, err)
	assert.Equal(t, &Metadata{Name: "demo", Version: "2.1.0", Description: "demo plugin", ProtocolMinor: ProtocolMinor, Capabilities: []string{CapabilityComplete}}, m)

	want, _ := local.Describe(ctx, &DescribeRequest{})
	got, err := remote.Describe(ctx, &DescribeRequest{})
	require.NoError(t, err)
	assert.Equal(t, want, got, "the catalog survives the wire unchanged")
	assert.Equal(t, "who", got.Commands[0].ResourceParam(), "the resource mark survives the wire")
	reason, _ := got.Commands[0].Param("reason")
	require.NotNil(t, reason)
	assert.Equal(t, TypeText, reason.Type, "free text survives the wire")
	wire := paramsToProto([]Param{FreeText("reason", "why")})[0]
	assert.Equal(t, pb.ParameterType_PARAMETER_TYPE_STRING, wire.GetType(), "a host that predates free text reads a string")
	assert.True(t, wire.GetFreeText())

	cr, err := remote.Configure(ctx, &ConfigureRequest{Targets: []Target{{Name: "main", Secrets: map[string]string{"key": "K"}, Settings: map[string]string{"a": "b"}}, {Name: "bad"}}})
	require.NoError(t, err)
	assert.Empty(t, cr.Diagnostics)

	req := &Request{ID: "r1", Invoker: "U1", Channel: "C1", Target: "main", Deadline: time.Now().Add(time.Minute).Truncate(time.Second), Command: "everything",
		Args: Args{"kind": "a", "n": int64(3), "secret": "s", "ips": []string{"192.0.2.1", "192.0.2.2"}}}
	pr, err := remote.Plan(ctx, &PlanRequest{Request: *req})
	require.NoError(t, err)
	steps := []PlanStep{{Description: "call", Method: "POST", Endpoint: "/x", Body: "{}"}}
	assert.Equal(t, &Plan{Summary: "do a", Steps: steps, Risk: RiskCritical, Digest: PlanDigest(RiskCritical, steps, nil)}, pr.Plan)

	var prog []Progress
	res, err := remote.Execute(ctx, &ExecuteRequest{Request: *req, Progress: func(p Progress) { prog = append(prog, p) }})
	require.NoError(t, err)
	assert.Equal(t, []Progress{{Message: "half of 3", Percent: 50}, {Message: "all", Percent: 100, State: "DONE"}}, prog)
	wantRes, err := local.Execute(ctx, &ExecuteRequest{Request: *req})
	require.NoError(t, err)
	assert.Equal(t, wantRes, res, "the result survives the wire unchanged")
	assert.True(t, res.Sensitive)
	assert.Equal(t, "env=K ips=[192.0.2.1 192.0.2.2]", res.Parts[0].Text.Body)

	h, err := remote.CheckHealth(ctx, &HealthRequest{})
	require.NoError(t, err)
	assert.Equal(t, HealthDegraded, h.Status)
	assert.Equal(t, []TargetHealth{{Target: "bad", Status: HealthDown, Message: "401 from API"}, {Target: "main", Status: HealthOK}}, h.Targets)

	sugg, err := remote.Complete(ctx, &CompleteRequest{Request: Request{Command: "everything", Target: "main"}, Param: "kind", Prefix: "x"})
	require.NoError(t, err)
	assert.Equal(t, []Suggestion{{Value: "x1", Description: "one"}}, sugg.Suggestions)
}

func TestDomainFailuresAreDiagnosticsNotErrors(t *testing.T) {
	remote := dial(t, testPlugin())
	ctx := context.Background()
	res, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "refuse"}})
	require.NoError(t, err)
	assert.Equal(t, Diagnostics{{Severity: SeverityError, Summary: `no such account "bob"`, Attribute: "who"}}, res.Diagnostics)

	res, err = remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "panic"}})
	require.NoError(t, err, "a handler panic must not kill the call or the process")
	assert.Equal(t, "internal error in demo panic", res.Diagnostics[0].Summary)

	res, err = remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "nope"}})
	require.NoError(t, err)
	assert.Contains(t, res.Diagnostics.Err().Error(), `demo has no command "nope"`)

	res, err = remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "everything", Args: Args{"bogus": "1"}}})
	require.NoError(t, err)
	assert.Contains(t, res.Diagnostics.Err().Error(), "missing required argument kind")
	assert.Contains(t, res.Diagnostics.Err().Error(), `takes no argument "bogus"`)
}

func TestConfigureIsAllOrNothing(t *testing.T) {
	p := testPlugin()
	ctx := context.Background()
	_, _ = p.Configure(ctx, &ConfigureRequest{Targets: []Target{{Name: "main", Secrets: map[string]string{"key": "old"}}}})
	resp, err := p.Configure(ctx, &ConfigureRequest{Targets: []Target{{Name: "main", Secrets: map[string]string{"key": "new"}}, {Name: "x", Settings: map[string]string{"fail": "yes"}}}})
	require.NoError(t, err)
	assert.Contains(t, resp.Diagnostics.Err().Error(), `target "x": cannot reach the API`)
	res, _ := p.Execute(ctx, &ExecuteRequest{Request: Request{Command: "everything", Target: "main", Args: Args{"kind": "a"}}})
	assert.Equal(t, "env=old ips=[]", res.Parts[0].Text.Body, "a failed Configure leaves the old targets in place")
}

func TestCancellationCrossesTheWire(t *testing.T) {
	remote := dial(t, testPlugin())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "wait"}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// methodLog records the gRPC methods a server was called with.
type methodLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *methodLog) add(m string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, m[strings.LastIndexByte(m, '/')+1:])
}

func (l *methodLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// dialServer serves srv over an in-memory connection, recording every
// method called, and returns a client.
func dialServer(t *testing.T, srv pb.ProviderServiceServer) (*GRPCClient, *methodLog) {
	t.Helper()
	log := &methodLog{}
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			log.add(info.FullMethod)
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			log.add(info.FullMethod)
			return h(srv, ss)
		}))
	pb.RegisterProviderServiceServer(s, srv)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return NewGRPCClient(conn), log
}

// minor4Plugin is a plugin built before ExecuteUnary: it serves only the
// RPCs of protocol minor 4, and reports minor.
type minor4Plugin struct {
	pb.UnimplementedProviderServiceServer
	s     *grpcServer
	minor uint32
}

func (o *minor4Plugin) GetMetadata(ctx context.Context, req *pb.GetMetadataRequest) (*pb.GetMetadataResponse, error) {
	m, err := o.s.GetMetadata(ctx, req)
	if m != nil {
		m.ProtocolMinor = o.minor
	}
	return m, err
}

func (o *minor4Plugin) Execute(req *pb.ExecuteRequest, stream grpc.ServerStreamingServer[pb.ExecuteResponse]) error {
	return o.s.Execute(req, stream)
}

// countingPlugin counts the runs of its one command, "count", which
// reports no progress.
func countingPlugin(runs *atomic.Int32) *Plugin {
	p := New("counting", "1.0.0")
	p.Command("count", "Count a run").NoProgress().Run(func(ctx context.Context, c *Call) (*Result, error) {
		n := runs.Add(1)
		c.Progress(50, "never seen") // a command marked NoProgress reports nothing
		return NewResult().AddText("run %d", n), nil
	})
	return p
}

// A call that takes no progress, to a plugin of protocol minor 7, is one
// unary call; with progress it is the stream as before.
func TestACallWithoutProgressIsOneUnaryCall(t *testing.T) {
	var runs atomic.Int32
	remote, log := dialServer(t, &grpcServer{impl: countingPlugin(&runs)})
	ctx := context.Background()
	_, err := remote.Metadata(ctx, &MetadataRequest{})
	require.NoError(t, err)

	res, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{ID: "r1", Command: "count", Deadline: time.Now().Add(time.Minute)}})
	require.NoError(t, err)
	assert.Equal(t, "run 1", res.Parts[0].Text.Body)

	var told []Progress
	res, err = remote.Execute(ctx, &ExecuteRequest{Request: Request{ID: "r2", Command: "count"}, Progress: func(p Progress) { told = append(told, p) }})
	require.NoError(t, err)
	assert.Equal(t, "run 2", res.Parts[0].Text.Body)
	assert.Empty(t, told, "a command marked NoProgress reports no progress, whichever way it is called")
	assert.Equal(t, []string{"GetMetadata", "ExecuteUnary", "Execute"}, log.list())
}

// A host of this SDK calling a plugin built before ExecuteUnary (minor 4)
// uses the stream, which that plugin serves; the command runs once.
func TestANewHostCallsAnOldPluginWithTheStream(t *testing.T) {
	var runs atomic.Int32
	remote, log := dialServer(t, &minor4Plugin{s: &grpcServer{impl: countingPlugin(&runs)}, minor: 4})
	ctx := context.Background()
	m, err := remote.Metadata(ctx, &MetadataRequest{})
	require.NoError(t, err)
	assert.Equal(t, 4, m.ProtocolMinor)
	for i := 1; i <= 2; i++ {
		res, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "count"}})
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("run %d", i), res.Parts[0].Text.Body)
	}
	assert.Equal(t, int32(2), runs.Load())
	assert.Equal(t, []string{"GetMetadata", "Execute", "Execute"}, log.list())
}

// A plugin that claims minor 7 but has no ExecuteUnary (written against
// the contract by hand) is refused by gRPC before anything runs: the
// client falls back to the stream, runs the command once, and keeps to
// the stream afterwards.
func TestAPluginWithoutExecuteUnaryIsCalledWithTheStream(t *testing.T) {
	var runs atomic.Int32
	remote, log := dialServer(t, &minor4Plugin{s: &grpcServer{impl: countingPlugin(&runs)}, minor: 7})
	ctx := context.Background()
	_, err := remote.Metadata(ctx, &MetadataRequest{})
	require.NoError(t, err)
	for i := 1; i <= 2; i++ {
		res, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "count"}})
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("run %d", i), res.Parts[0].Text.Body)
	}
	assert.Equal(t, int32(2), runs.Load(), "the refused unary call ran nothing")
	assert.Equal(t, []string{"GetMetadata", "ExecuteUnary", "Execute", "Execute"}, log.list())
}

// A host built before ExecuteUnary calls a plugin of this SDK with the
// stream, as it always did, for every command, NoProgress or not.
func TestAnOldHostCallsANewPluginWithTheStream(t *testing.T) {
	var runs atomic.Int32
	remote, log := dialServer(t, &grpcServer{impl: countingPlugin(&runs)})
	// The old host's client: the generated stub, as the SDK before minor
	// 5 used it.
	stream, err := remote.c.Execute(context.Background(), &pb.ExecuteRequest{Context: &pb.RequestContext{RequestId: "r1"}, Command: "count"})
	require.NoError(t, err)
	ev, err := stream.Recv()
	require.NoError(t, err)
	require.NotNil(t, ev.GetResult(), "the stream's first and only event is the result")
	assert.Equal(t, "run 1", ev.GetResult().GetParts()[0].GetText().GetBody())
	_, err = stream.Recv()
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, []string{"Execute"}, log.list())
}

// A unary call's deadline reaches the command's ctx from the request, and
// when it passes the command is cancelled and the caller told so.
func TestAUnaryCallsDeadlineReachesTheCommand(t *testing.T) {
	seen := make(chan time.Time, 1)
	ended := make(chan struct{})
	p := New("waiting", "1.0.0")
	p.Command("wait", "Wait for the end").NoProgress().Run(func(ctx context.Context, c *Call) (*Result, error) {
		d, _ := ctx.Deadline()
		seen <- d
		<-ctx.Done()
		close(ended)
		return nil, ctx.Err()
	})
	remote, log := dialServer(t, &grpcServer{impl: p})
	_, err := remote.Metadata(context.Background(), &MetadataRequest{})
	require.NoError(t, err)

	ctx, cue := testDeadline(context.Background(), time.Now().Add(time.Hour))
	errc := make(chan error, 1)
	go func() {
		_, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "wait"}})
		errc <- err
	}()
	want, _ := ctx.Deadline()
	assert.True(t, want.Equal(<-seen), "the command's ctx has the caller's deadline")
	cue()
	err = <-errc
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	<-ended // the command was cancelled
	assert.Equal(t, []string{"GetMetadata", "ExecuteUnary"}, log.list())
}

// testDeadline is a ctx whose deadline is at but passes when cue is
// called, so that a test need not wait for a clock.
func testDeadline(parent context.Context, at time.Time) (context.Context, func()) {
	c := &cuedCtx{Context: parent, at: at, done: make(chan struct{})}
	return c, func() { c.once.Do(func() { close(c.done) }) }
}

type cuedCtx struct {
	context.Context
	at   time.Time
	done chan struct{}
	once sync.Once
}

func (c *cuedCtx) Deadline() (time.Time, bool) { return c.at, true }
func (c *cuedCtx) Done() <-chan struct{}       { return c.done }

func (c *cuedCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// Every kind of argument crosses a unary call as it crosses the stream.
func TestAUnaryCallCarriesEveryKindOfArgument(t *testing.T) {
	p := New("args", "1.0.0")
	p.Command("show", "Show the arguments").ExtraArguments().NoProgress().Run(func(ctx context.Context, c *Call) (*Result, error) {
		keys := slices.Sorted(maps.Keys(c.Args))
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%#v ", k, c.Args[k])
		}
		return NewResult().AddText("%s", b.String()), nil
	})
	remote, log := dialServer(t, &grpcServer{impl: p})
	ctx := context.Background()
	args := Args{"s": "text", "i": int64(-7), "n": 3, "b": true, "l": []string{"a", "b"}}
	stream, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "show", Args: args}})
	require.NoError(t, err)
	_, err = remote.Metadata(ctx, &MetadataRequest{})
	require.NoError(t, err)
	unary, err := remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "show", Args: args}})
	require.NoError(t, err)
	assert.Equal(t, `b=true i=-7 l=[]string{"a", "b"} n=3 s="text" `, unary.Parts[0].Text.Body)
	assert.Equal(t, stream, unary)
	assert.Equal(t, []string{"Execute", "GetMetadata", "ExecuteUnary"}, log.list())

	_, err = remote.Execute(ctx, &ExecuteRequest{Request: Request{Command: "show", Args: Args{"f": 1.5}}})
	assert.ErrorContains(t, err, "argument f: unsupported type float64")
}
