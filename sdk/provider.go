package sdk

import "context"

// Provider is the interface between the bot and a plugin. The bot holds one
// per plugin process (a gRPC client behind it); a plugin implements it, most
// often through [Plugin].
//
// Domain failures are diagnostics in the returned values; a non-nil error
// means the call itself failed (crash, cancellation, transport).
type Provider interface {
	Metadata(ctx context.Context) (Metadata, error)
	Describe(ctx context.Context) ([]CommandSpec, error)
	Configure(ctx context.Context, targets []Target) (Diagnostics, error)
	Plan(ctx context.Context, req *Request) (*PlanResponse, error)
	// Execute calls progress zero or more times, then returns the result.
	Execute(ctx context.Context, req *Request, progress func(Progress)) (*Result, error)
	CheckHealth(ctx context.Context, target string) (Health, error)
}

// Completer is implemented by providers that suggest argument values. It is
// optional: new capabilities arrive as extra interfaces so that existing
// plugins keep compiling.
type Completer interface {
	Complete(ctx context.Context, req *CompleteRequest) ([]Suggestion, error)
}
