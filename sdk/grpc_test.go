package sdk

import (
	"context"
	"errors"
	"net"
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
	p.Command("refuse", "A domain failure").Run(func(ctx context.Context, c *Call) (*Result, error) {
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
