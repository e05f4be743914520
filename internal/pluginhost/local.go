package pluginhost

import (
	"context"
	"fmt"

	"github.com/deskbot/deskbot/sdk"
)

// Local runs a provider in the bot's own process: for tests and for
// measuring what the process boundary costs. It offers the same methods
// as a supervised Plugin.
type Local struct {
	cfg     Config
	prov    sdk.Provider
	meta    sdk.Metadata
	catalog []sdk.CommandSpec
}

// NewLocal describes and configures prov.
func NewLocal(ctx context.Context, prov sdk.Provider, cfg Config) (*Local, error) {
	meta, err := prov.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	catalog, err := prov.Describe(ctx)
	if err != nil {
		return nil, err
	}
	diags, err := prov.Configure(ctx, cfg.Targets)
	if err != nil {
		return nil, err
	}
	if diags.HasError() {
		return nil, fmt.Errorf("configure %s: %w", meta.Name, diags.Err())
	}
	if cfg.Name == "" {
		cfg.Name = meta.Name
	}
	return &Local{cfg: cfg, prov: prov, meta: meta, catalog: catalog}, nil
}

func (l *Local) Name() string               { return l.cfg.Name }
func (l *Local) Catalog() []sdk.CommandSpec { return l.catalog }
func (l *Local) Metadata() sdk.Metadata     { return l.meta }
func (l *Local) Targets() []string          { return (&Plugin{cfg: l.cfg}).Targets() }
func (l *Local) DefaultTarget() string      { return (&Plugin{cfg: l.cfg}).DefaultTarget() }
func (l *Local) Secrets() []string          { return (&Plugin{cfg: l.cfg}).Secrets() }
func (l *Local) Provider() sdk.Provider     { return l.prov }

// Plan calls the provider directly.
func (l *Local) Plan(ctx context.Context, req *sdk.Request) (*sdk.PlanResponse, error) {
	return l.prov.Plan(ctx, req)
}

// Execute calls the provider directly.
func (l *Local) Execute(ctx context.Context, req *sdk.Request, progress func(sdk.Progress)) (*sdk.Result, error) {
	return l.prov.Execute(ctx, req, progress)
}
