package sdk

// ResourceParam is replaced by the resource-parameter change.
func (c CommandSpec) ResourceParam() string { return "" }
