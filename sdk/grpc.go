package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/deskbot/deskbot/proto/deskbot/provider/v1"
)

// Handshake is shared by the bot and every plugin. ProtocolVersion changes
// only with a new major contract (provider.v2).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "DESKBOT_PLUGIN",
	MagicCookieValue: "provider-v1-3f9a2c7e",
}

// PluginName is the name the provider service is dispensed under.
const PluginName = "provider"

// PluginSet returns the go-plugin plugin map. The bot passes a nil impl;
// a plugin passes its provider.
func PluginSet(impl Provider) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &grpcPlugin{impl: impl}}
}

type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Provider
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterProviderServiceServer(s, &grpcServer{impl: p.impl})
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewGRPCClient(c), nil
}

// grpcServer serves a Provider over gRPC.
type grpcServer struct {
	pb.UnimplementedProviderServiceServer
	impl Provider
}

func (s *grpcServer) GetMetadata(ctx context.Context, _ *pb.GetMetadataRequest) (*pb.GetMetadataResponse, error) {
	m, err := s.impl.Metadata(ctx, &MetadataRequest{})
	if err != nil {
		return nil, err
	}
	return &pb.GetMetadataResponse{
		Name:          m.Name,
		Version:       m.Version,
		Description:   m.Description,
		DisplayName:   m.DisplayName,
		ProtocolMinor: uint32(m.ProtocolMinor),
		Capabilities:  m.Capabilities,
	}, nil
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	cat, err := s.impl.Describe(ctx, &DescribeRequest{})
	if err != nil {
		return nil, err
	}
	out := catalogToProto(cat)
	// A large catalog is built and encoded once, at start: hand the memory
	// back once the answer is sent rather than idle with it.
	time.AfterFunc(500*time.Millisecond, debug.FreeOSMemory)
	return out, nil
}

func (s *grpcServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	targets := make([]Target, len(req.GetTargets()))
	for i, t := range req.GetTargets() {
		targets[i] = targetFromProto(t)
	}
	resp, err := s.impl.Configure(ctx, &ConfigureRequest{Targets: targets})
	if err != nil {
		return nil, err
	}
	return &pb.ConfigureResponse{Diagnostics: diagnosticsToProto(resp.Diagnostics)}, nil
}

func (s *grpcServer) Plan(ctx context.Context, req *pb.PlanRequest) (*pb.PlanResponse, error) {
	resp, err := s.impl.Plan(ctx, &PlanRequest{Request: *requestFromProto(req.GetContext(), req.GetCommand(), req.GetArguments())})
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.PlanResponse{Plan: planToProto(resp.Plan), Diagnostics: diagnosticsToProto(resp.Diagnostics)}, nil
}

func (s *grpcServer) Execute(req *pb.ExecuteRequest, stream grpc.ServerStreamingServer[pb.ExecuteResponse]) error {
	ctx := stream.Context()
	var mu sync.Mutex // handlers may report progress from several goroutines
	progress := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		_ = stream.Send(&pb.ExecuteResponse{Event: &pb.ExecuteResponse_Progress{Progress: &pb.Progress{
			Message: p.Message, Percent: int32(p.Percent), State: p.State,
		}}})
	}
	res, err := s.impl.Execute(ctx, &ExecuteRequest{Request: *requestFromProto(req.GetContext(), req.GetCommand(), req.GetArguments()), Progress: progress})
	if err != nil {
		return toStatus(ctx, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return stream.Send(&pb.ExecuteResponse{Event: &pb.ExecuteResponse_Result{Result: resultToProto(res)}})
}

// ExecuteUnary runs a command whose caller takes no progress: the result
// is the whole answer (protocol minor 7). The call's deadline comes in the
// request rather than as gRPC's (see GRPCClient.Execute); the command's
// ctx carries it all the same, and the bot cancels the call when it
// passes.
func (s *grpcServer) ExecuteUnary(ctx context.Context, req *pb.ExecuteUnaryRequest) (*pb.ExecuteUnaryResponse, error) {
	er := &ExecuteRequest{}
	fillRequest(&er.Request, req.GetContext(), req.GetCommand(), argsFromList(req.GetArguments()))
	if _, ok := ctx.Deadline(); !ok && !er.Deadline.IsZero() {
		ctx = withDeadline{ctx, er.Deadline}
	}
	res, err := s.impl.Execute(ctx, er)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.ExecuteUnaryResponse{Result: resultToProto(res)}, nil
}

func (s *grpcServer) CheckHealth(ctx context.Context, req *pb.CheckHealthRequest) (*pb.CheckHealthResponse, error) {
	h, err := s.impl.CheckHealth(ctx, &HealthRequest{Target: req.GetTarget()})
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return healthToProto(h), nil
}

func (s *grpcServer) Complete(ctx context.Context, req *pb.CompleteRequest) (*pb.CompleteResponse, error) {
	c, ok := s.impl.(Completer)
	if !ok {
		return &pb.CompleteResponse{}, nil
	}
	r := requestFromProto(req.GetContext(), req.GetCommand(), req.GetArguments())
	resp, err := c.Complete(ctx, &CompleteRequest{Request: *r, Param: req.GetParameter(), Prefix: req.GetPrefix()})
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	out := &pb.CompleteResponse{}
	for _, sg := range resp.Suggestions {
		out.Suggestions = append(out.Suggestions, &pb.Suggestion{Value: sg.Value, Description: sg.Description})
	}
	return out, nil
}

func toStatus(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled:
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// GRPCClient is a [Provider] that calls a plugin over gRPC. The bot gets one
// from go-plugin; tests and benchmarks may build one on any connection.
type GRPCClient struct {
	c pb.ProviderServiceClient
	// unary is set once the plugin has said (in Metadata) that it speaks
	// protocol minor 7, which has ExecuteUnary.
	unary atomic.Bool
}

var _ Provider = (*GRPCClient)(nil)
var _ Completer = (*GRPCClient)(nil)

// NewGRPCClient wraps a connection to a plugin.
func NewGRPCClient(conn grpc.ClientConnInterface) *GRPCClient {
	return &GRPCClient{c: pb.NewProviderServiceClient(conn)}
}

// Metadata implements [Provider].
func (c *GRPCClient) Metadata(ctx context.Context, _ *MetadataRequest) (*Metadata, error) {
	r, err := c.c.GetMetadata(ctx, &pb.GetMetadataRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	c.unary.Store(r.GetProtocolMinor() >= minorExecuteUnary)
	return &Metadata{
		Name:          r.GetName(),
		Version:       r.GetVersion(),
		Description:   r.GetDescription(),
		DisplayName:   r.GetDisplayName(),
		ProtocolMinor: int(r.GetProtocolMinor()),
		Capabilities:  r.GetCapabilities(),
	}, nil
}

// Describe implements [Provider].
func (c *GRPCClient) Describe(ctx context.Context, _ *DescribeRequest) (*Catalog, error) {
	r, err := c.c.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	if d := diagnosticsFromProto(r.GetDiagnostics()); d.HasError() {
		return nil, d.Err()
	}
	return catalogFromProto(r), nil
}

// Configure implements [Provider].
func (c *GRPCClient) Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error) {
	out := &pb.ConfigureRequest{}
	for _, t := range req.Targets {
		out.Targets = append(out.Targets, targetToProto(t))
	}
	r, err := c.c.Configure(ctx, out)
	if err != nil {
		return nil, fromStatus(err)
	}
	return &ConfigureResponse{Diagnostics: diagnosticsFromProto(r.GetDiagnostics())}, nil
}

// Plan implements [Provider].
func (c *GRPCClient) Plan(ctx context.Context, req *PlanRequest) (*PlanResponse, error) {
	args, err := argsToProto(req.Args)
	if err != nil {
		return nil, err
	}
	r, err := c.c.Plan(ctx, &pb.PlanRequest{Context: contextToProto(&req.Request), Command: req.Command, Arguments: args})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &PlanResponse{Plan: planFromProto(r.GetPlan()), Diagnostics: diagnosticsFromProto(r.GetDiagnostics())}, nil
}

// ErrNoResult is returned when a plugin ends Execute without a result.
var ErrNoResult = errors.New("plugin ended the call without a result")

// minorExecuteUnary is the protocol minor that added ExecuteUnary.
const minorExecuteUnary = 7

// Execute implements [Provider]. A call that takes no progress
// (req.Progress is nil) is one unary call when the plugin offers it
// (protocol minor 7): no stream to open, half-close and cancel, which is
// a good part of a quick command's cost on both sides. Otherwise, and
// with older plugins, it is a stream of progress ending in the result.
func (c *GRPCClient) Execute(ctx context.Context, req *ExecuteRequest) (*Result, error) {
	progress := req.Progress
	if progress == nil && c.unary.Load() {
		args, err := argsToList(req.Args)
		if err != nil {
			return nil, err
		}
		// The deadline travels once, in the request: the plugin's SDK
		// gives it to the command's ctx (grpcServer.ExecuteUnary), and the
		// cancellation when it passes comes from this side, whose ctx
		// ends then. Sent as gRPC's deadline as well, it would have the
		// plugin's gRPC server arm a timer of its own on every call.
		rc := contextToProto(&req.Request)
		if d, ok := ctx.Deadline(); ok && (req.Deadline.IsZero() || d.Before(req.Deadline)) {
			rc.Deadline = timestamppb.New(d)
		}
		r, err := c.c.ExecuteUnary(withoutDeadline{ctx}, &pb.ExecuteUnaryRequest{Context: rc, Command: req.Command, Arguments: args})
		switch {
		case err == nil:
			if r.GetResult() == nil {
				return nil, ErrNoResult
			}
			return resultFromProto(r.GetResult()), nil
		case status.Code(err) != codes.Unimplemented:
			return nil, fromStatus(err)
		}
		// The plugin says minor 7 but has no ExecuteUnary (written
		// against the contract by hand): nothing ran, so the stream is
		// safe to use, now and from now on.
		c.unary.Store(false)
	}
	args, err := argsToProto(req.Args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.c.Execute(ctx, &pb.ExecuteRequest{Context: contextToProto(&req.Request), Command: req.Command, Arguments: args})
	if err != nil {
		return nil, fromStatus(err)
	}
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return nil, ErrNoResult
		}
		if err != nil {
			return nil, fromStatus(err)
		}
		switch e := ev.GetEvent().(type) {
		case *pb.ExecuteResponse_Progress:
			if progress != nil {
				progress(Progress{Message: e.Progress.GetMessage(), Percent: int(e.Progress.GetPercent()), State: e.Progress.GetState()})
			}
		case *pb.ExecuteResponse_Result:
			return resultFromProto(e.Result), nil
		}
	}
}

// CheckHealth implements [Provider].
func (c *GRPCClient) CheckHealth(ctx context.Context, req *HealthRequest) (*Health, error) {
	r, err := c.c.CheckHealth(ctx, &pb.CheckHealthRequest{Target: req.Target})
	if err != nil {
		return nil, fromStatus(err)
	}
	return healthFromProto(r), nil
}

// Complete implements [Completer].
func (c *GRPCClient) Complete(ctx context.Context, req *CompleteRequest) (*CompleteResponse, error) {
	args, err := argsToProto(req.Args)
	if err != nil {
		return nil, err
	}
	r, err := c.c.Complete(ctx, &pb.CompleteRequest{Context: contextToProto(&req.Request), Command: req.Command, Parameter: req.Param, Prefix: req.Prefix, Arguments: args})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := &CompleteResponse{Suggestions: make([]Suggestion, len(r.GetSuggestions()))}
	for i, s := range r.GetSuggestions() {
		out.Suggestions[i] = Suggestion{Value: s.GetValue(), Description: s.GetDescription()}
	}
	return out, nil
}

// withoutDeadline is ctx without its deadline, for a call whose deadline
// travels in the request: it still ends when ctx does.
type withoutDeadline struct{ context.Context }

func (withoutDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }

// withDeadline is ctx with the deadline a request carries, for code that
// budgets by ctx.Deadline. It ends when ctx does: the caller cancels the
// call at its deadline, and a timer here would only repeat that.
type withDeadline struct {
	context.Context
	at time.Time
}

func (c withDeadline) Deadline() (time.Time, bool) { return c.at, true }

// ErrUnavailable wraps failures to reach the plugin process at all.
var ErrUnavailable = errors.New("plugin unavailable")

// fromStatus maps gRPC codes back to the errors callers test for.
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %s", context.DeadlineExceeded, st.Message())
	case codes.Canceled:
		return fmt.Errorf("%w: %s", context.Canceled, st.Message())
	case codes.Unavailable:
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	}
	return fmt.Errorf("plugin error (%s): %s", st.Code(), st.Message())
}
