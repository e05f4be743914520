package provider

import (
	"context"
	"maps"
	"net/url"
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// withCompletions gives an op's server parameters suggestions from the
// account's servers, unless it has its own: "server" (a name or an id)
// gets names, and the "call" family's "server_id" gets ids.
func withCompletions(o op) op {
	if strings.Contains(o.Name, "create") {
		// A new server's name is not one that exists.
		return o
	}
	for _, prm := range o.Params {
		if prm.Sensitive || o.Complete[prm.Name] != nil {
			continue
		}
		var fn sdk.CompleteFunc
		switch prm.Name {
		case "server":
			fn = completeServers(false)
		case "server_id":
			fn = completeServers(true)
		default:
			continue
		}
		o.Complete = maps.Clone(o.Complete)
		if o.Complete == nil {
			o.Complete = map[string]sdk.CompleteFunc{}
		}
		o.Complete[prm.Name] = fn
	}
	return o
}

// completeServers suggests the servers whose name (or, byID, id) begins
// with prefix, each described by the other.
func completeServers(byID bool) sdk.CompleteFunc {
	return func(ctx context.Context, call *sdk.Call, prefix string) ([]sdk.Suggestion, error) {
		c, err := api.Client(call)
		if err != nil {
			return nil, err
		}
		var all []server
		if err := c.List(ctx, "/servers", url.Values{"fields": {"name"}}, sdk.MaxSuggestions, &all); err != nil {
			return nil, err
		}
		var cands []sdk.Suggestion
		for _, s := range all {
			if byID {
				cands = append(cands, sdk.Suggestion{Value: s.ID, Description: s.Name})
			} else {
				cands = append(cands, sdk.Suggestion{Value: s.Name, Description: s.ID})
			}
		}
		return sdk.SuggestPrefix(prefix, cands), nil
	}
}
