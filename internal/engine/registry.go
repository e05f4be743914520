package engine

// StaticRegistry is a fixed set of providers (tests, in-process providers).
type StaticRegistry map[string]Provider

// Provider implements [Registry].
func (r StaticRegistry) Provider(name string) (Provider, bool) {
	p, ok := r[name]
	return p, ok
}

// ProviderNames implements [Registry].
func (r StaticRegistry) ProviderNames() []string {
	out := make([]string, 0, len(r))
	for n := range r {
		out = append(out, n)
	}
	return out
}
