package catalog

import "github.com/deskbot/deskbot/sdk"

// Risk levels follow the method, with a reviewed table of exceptions:
// reads are read-only; deletes are critical; a change is high unless it
// only renames or relabels (low), or wipes, rolls back, resizes or hands
// out a credential (critical).
var lowChanges = map[string]bool{
	"put servers":             true, // name and description
	"put servers dvd":         true, // mount an ISO; takes effect at the next boot
	"put public_ips":          true, // reverse DNS
	"put images":              true,
	"put ssh_keys":            true,
	"put block_storages":      true,
	"put shared_storages":     true,
	"put private_networks":    true,
	"put vpns":                true,
	"put firewall_policies":   true,
	"put load_balancers":      true,
	"put monitoring_policies": true,
	"put roles":               true,
}

var criticalChanges = map[string]bool{
	"put servers image":          true, // reinstall: wipes the disk
	"put servers snapshots":      true, // restore: rolls the disk back
	"put servers hardware":       true, // resize: may reboot, changes the bill
	"put servers hardware hdds":  true,
	"put users api key":          true, // a new API key; the old one stops working
	"put users api":              true, // turns API access on or off
	"put shared_storages access": true, // sets the access password
	"put roles permissions":      true,
	"post users":                 true,
	"post roles users":           true,
}

// RiskOf returns an operation's risk level.
func RiskOf(o *Operation) sdk.Risk {
	switch o.Method {
	case "GET":
		return sdk.RiskReadOnly
	case "DELETE":
		return sdk.RiskCritical
	}
	switch {
	case criticalChanges[o.Name]:
		return sdk.RiskCritical
	case lowChanges[o.Name]:
		return sdk.RiskLow
	}
	return sdk.RiskHigh
}
