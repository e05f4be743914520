package sdk

import "context"

// Provider is the interface between the bot and a plugin. The bot holds one
// per plugin process (a gRPC client behind it); a plugin implements it, most
// often through [Plugin].
//
// Every method takes a request struct and returns a response struct, so
// that a field added to the contract later breaks no implementation.
// Domain failures are diagnostics in the responses; a non-nil error means
// the call itself failed (crash, cancellation, transport).
type Provider interface {
	Metadata(ctx context.Context, req *MetadataRequest) (*Metadata, error)
	Describe(ctx context.Context, req *DescribeRequest) (*Catalog, error)
	Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error)
	Plan(ctx context.Context, req *PlanRequest) (*PlanResponse, error)
	// Execute calls req.Progress zero or more times, then returns the
	// result.
	Execute(ctx context.Context, req *ExecuteRequest) (*Result, error)
	CheckHealth(ctx context.Context, req *HealthRequest) (*Health, error)
}

// Completer is implemented by providers that suggest argument values. It is
// optional: new capabilities arrive as extra interfaces so that existing
// plugins keep compiling.
type Completer interface {
	Complete(ctx context.Context, req *CompleteRequest) (*CompleteResponse, error)
}

// MetadataRequest asks a plugin who it is.
type MetadataRequest struct{}

// DescribeRequest asks a plugin for its catalog.
type DescribeRequest struct{}

// Catalog is what a plugin offers: its commands, and what a target of it
// is configured with.
type Catalog struct {
	Commands []CommandSpec
	// Settings and Secrets are what a target takes; SandboxSettings apply
	// to a sandbox target only (protocol minor 3). The bot checks its
	// configuration against them when it loads.
	Settings        []Param
	Secrets         []Param
	SandboxSettings []Param
}

// Command returns the command called name, if the catalog has it.
func (c *Catalog) Command(name string) (*CommandSpec, bool) {
	for i := range c.Commands {
		if c.Commands[i].Name == name {
			return &c.Commands[i], true
		}
	}
	return nil, false
}

// ConfigureRequest gives a plugin its targets, once, when it starts.
type ConfigureRequest struct {
	Targets []Target
}

// ConfigureResponse says what was wrong with the targets, if anything.
type ConfigureResponse struct {
	Diagnostics Diagnostics
}

// PlanRequest asks what a command would do.
type PlanRequest struct {
	Request
}

// ExecuteRequest runs a command.
type ExecuteRequest struct {
	Request
	// Progress, if set, is told how the work goes (any goroutine may call
	// it, never two at once).
	Progress func(Progress)
}

// HealthRequest asks about one target, or every target when Target is "".
type HealthRequest struct {
	Target string
}

// CompleteRequest asks for suggestions for one parameter.
type CompleteRequest struct {
	Request
	Param  string
	Prefix string
}

// CompleteResponse carries the suggestions, best first.
type CompleteResponse struct {
	Suggestions []Suggestion
}
