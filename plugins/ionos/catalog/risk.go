package catalog

import (
	"encoding/json"
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// Risk is rated by written rules, not by example: every operation starts
// from its method, and each rule that applies can only raise it (the
// relabel rule alone lowers a change to low, and only when no raising
// rule applies). docs/ionos.md lists the rules; risk_test.go enumerates
// the catalog against them.
//
//  1. reads: a GET is read-only.
//  2. changes: any other method is high.
//  3. relabels: a change that only renames, relabels or sets reverse DNS
//     (the relabel table) is low.
//  4. deletes: a DELETE is critical.
//  5. secrets: an operation whose documented answer carries a credential
//     (an API key, a Kerberos keytab, a VPN key bundle) is critical, and
//     its output is for the requester only (sensitive). first_password,
//     which every server answer carries, is not counted: the client masks
//     it by name in every answer, so no command can show it.
//  6. access: a change to who can reach the account (users, roles and
//     their permissions, API keys and API IP allow-lists, the shared
//     storages' access password) is critical.
//  7. destroys: a change that wipes, rolls back or resizes a server or a
//     disk is critical (the destroy table).
//  8. outbound: an operation that makes IONOS fetch from, or send to, an
//     address the caller gives (an image imported from a URL, monitoring
//     alerts mailed to an address) is high at least.

// lowChanges are the relabel table: changes that only rename, relabel or
// set a reverse DNS name.
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
	"put monitoring_policies": true, // but it sets the alert e-mail: rule 8 raises it
	"put roles":               true, // but it is a role: rule 6 raises it
}

// destroys is the destroy table (rule 7).
var destroys = map[string]bool{
	"put servers image":         true, // reinstall: wipes the disk
	"put servers snapshots":     true, // restore: rolls the disk back
	"put servers hardware":      true, // resize: may reboot, changes the bill
	"put servers hardware hdds": true,
}

// credentialFields are answer fields that hold a credential (rule 5).
var credentialFields = map[string]bool{"key": true, "api_key": true, "kerberos_content_file": true, "config_zip_file": true,
	"password": true, "secret": true, "token": true, "private_key": true}

// outboundFields are body fields that name an address IONOS fetches from
// or sends to (rule 8).
var outboundFields = map[string]bool{"url": true, "email": true}

// Rule is one of the written rules.
type Rule struct {
	Name string
	Risk sdk.Risk
	// Sensitive marks the operation's output for the requester only.
	Sensitive bool
	Applies   func(o *Operation) bool
}

// Rules are the rules in the order docs/ionos.md lists them.
var Rules = []Rule{
	{Name: "reads", Risk: sdk.RiskReadOnly, Applies: func(o *Operation) bool { return o.Method == "GET" }},
	{Name: "changes", Risk: sdk.RiskHigh, Applies: func(o *Operation) bool { return o.Method != "GET" }},
	{Name: "relabels", Risk: sdk.RiskLow, Applies: func(o *Operation) bool { return lowChanges[o.Name] }},
	{Name: "deletes", Risk: sdk.RiskCritical, Applies: func(o *Operation) bool { return o.Method == "DELETE" }},
	{Name: "secrets", Risk: sdk.RiskCritical, Sensitive: true, Applies: returnsCredential},
	{Name: "access", Risk: sdk.RiskCritical, Applies: func(o *Operation) bool {
		return o.Method != "GET" && (o.Group == "users" || o.Group == "roles" || o.Path == "/shared_storages/access")
	}},
	{Name: "destroys", Risk: sdk.RiskCritical, Applies: func(o *Operation) bool { return destroys[o.Name] }},
	{Name: "outbound", Risk: sdk.RiskHigh, Applies: func(o *Operation) bool { return bodyHas(o, outboundFields) }},
}

// Rating is what the rules make of an operation.
type Rating struct {
	Risk      sdk.Risk
	Sensitive bool
	// Rules are the names of the rules that applied.
	Rules []string
}

// Rate applies the rules to o.
func Rate(o *Operation) Rating {
	var r Rating
	low := false
	for _, rule := range Rules {
		if !rule.Applies(o) {
			continue
		}
		r.Rules = append(r.Rules, rule.Name)
		r.Sensitive = r.Sensitive || rule.Sensitive
		if rule.Name == "relabels" {
			low = true
			continue
		}
		r.Risk = max(r.Risk, rule.Risk)
	}
	if low && r.Risk == sdk.RiskHigh && len(r.Rules) == 2 { // changes + relabels only
		r.Risk = sdk.RiskLow
	}
	return r
}

// RiskOf returns an operation's risk level.
func RiskOf(o *Operation) sdk.Risk { return Rate(o).Risk }

// SensitiveOf reports whether an operation's output is for the requester
// only.
func SensitiveOf(o *Operation) bool { return Rate(o).Sensitive }

// returnsCredential reports whether a documented 2xx answer of o carries
// a credential field with a value.
func returnsCredential(o *Operation) bool {
	c := MustLoad()
	for _, resp := range o.Responses {
		if resp.Code < 200 || resp.Code > 299 {
			continue
		}
		var v any
		if json.Unmarshal(c.Example(o.Name, resp.Code), &v) == nil && hasField(v, credentialFields) {
			return true
		}
	}
	return false
}

func hasField(v any, names map[string]bool) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if names[strings.ToLower(k)] {
				return true
			}
			if hasField(e, names) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasField(e, names) {
				return true
			}
		}
	}
	return false
}

// bodyHas reports whether o's body schema has a property named in names,
// at any depth.
func bodyHas(o *Operation, names map[string]bool) bool {
	if len(o.Body) == 0 {
		return false
	}
	var schema any
	if json.Unmarshal(o.Body, &schema) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for k := range props {
					if names[strings.ToLower(k)] {
						return true
					}
				}
			}
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(schema)
}
