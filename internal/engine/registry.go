package engine

import "github.com/deskbot/deskbot/internal/pluginhost"

// HostRegistry exposes a plugin host's plugins to the engine.
func HostRegistry(h *pluginhost.Host) Registry { return hostRegistry{h} }

type hostRegistry struct{ h *pluginhost.Host }

func (r hostRegistry) Plugin(name string) (Plugin, bool) {
	p, ok := r.h.Get(name)
	if !ok {
		return nil, false
	}
	return p, true
}

func (r hostRegistry) PluginNames() []string {
	var out []string
	for _, p := range r.h.Plugins() {
		out = append(out, p.Name())
	}
	return out
}

// StaticRegistry is a fixed set of plugins (tests, in-process providers).
type StaticRegistry map[string]Plugin

// Plugin implements [Registry].
func (r StaticRegistry) Plugin(name string) (Plugin, bool) {
	p, ok := r[name]
	return p, ok
}

// PluginNames implements [Registry].
func (r StaticRegistry) PluginNames() []string {
	out := make([]string, 0, len(r))
	for n := range r {
		out = append(out, n)
	}
	return out
}
