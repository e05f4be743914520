package pluginhost

import (
	"context"
	"fmt"

	"github.com/deskbot/deskbot/sdk"
)

// Local runs a provider in the bot's own process: for tests and for
// measuring what the process boundary costs. It offers the same methods
// as a supervised Process.
type Local struct {
	cfg     Config
	prov    sdk.Provider
	meta    sdk.Metadata
	catalog *sdk.Catalog
}

// NewLocal describes and configures prov.
func NewLocal(ctx context.Context, prov sdk.Provider, cfg Config) (*Local, error) {
	meta, err := prov.Metadata(ctx, &sdk.MetadataRequest{})
	if err != nil {
		return nil, err
	}
	catalog, err := prov.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		return nil, err
	}
	resp, err := prov.Configure(ctx, &sdk.ConfigureRequest{Targets: cfg.Targets})
	if err != nil {
		return nil, err
	}
	if resp.Diagnostics.HasError() {
		return nil, fmt.Errorf("configure %s: %w", meta.Name, resp.Diagnostics.Err())
	}
	if cfg.Name == "" {
		cfg.Name = meta.Name
	}
	return &Local{cfg: cfg, prov: prov, meta: *meta, catalog: catalog}, nil
}

func (l *Local) Name() string               { return l.cfg.Name }
func (l *Local) Catalog() []sdk.CommandSpec { return l.catalog.Commands }
func (l *Local) Metadata() sdk.Metadata     { return l.meta }
func (l *Local) Targets() []string          { return (&Process{cfg: l.cfg}).Targets() }
func (l *Local) DefaultTarget() string      { return (&Process{cfg: l.cfg}).DefaultTarget() }
func (l *Local) Secrets() []string          { return (&Process{cfg: l.cfg}).Secrets() }
func (l *Local) Provider() sdk.Provider     { return l.prov }

// Plan calls the provider directly.
func (l *Local) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	return l.prov.Plan(ctx, req)
}

// Complete calls the provider directly; one that does not suggest
// values gives none.
func (l *Local) Complete(ctx context.Context, req *sdk.CompleteRequest) (*sdk.CompleteResponse, error) {
	c, ok := l.prov.(sdk.Completer)
	if !ok {
		return &sdk.CompleteResponse{}, nil
	}
	return c.Complete(ctx, req)
}

// Execute calls the provider directly.
func (l *Local) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.Result, error) {
	return l.prov.Execute(ctx, req)
}
