package provider

import (
	"context"
	"maps"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

// withCompletions gives an op's account parameters ("user", "account")
// suggestions from the server's accounts, unless it has its own. The
// "call" family gets them too: its functions name an account "user".
func withCompletions(o op) op {
	if strings.Contains(o.Name, "create") {
		// A new account's name is not one that exists.
		return o
	}
	for _, prm := range o.Params {
		if prm.Sensitive || o.Complete[prm.Name] != nil {
			continue
		}
		var fn sdk.CompleteFunc
		switch prm.Name {
		case "user":
			fn = completeAccounts(false)
		case "account":
			fn = completeAccounts(true)
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

// completeAccounts suggests the accounts whose name (or, withDomains, main
// domain) begins with prefix, each described by the other.
func completeAccounts(withDomains bool) sdk.CompleteFunc {
	return func(ctx context.Context, call *sdk.Call, prefix string) ([]sdk.Suggestion, error) {
		c, err := api.Client(call)
		if err != nil {
			return nil, err
		}
		d, err := read[accounts](ctx, c, "listaccts", client.Args{"want": {"user,domain"}})
		if err != nil {
			return nil, err
		}
		var cands []sdk.Suggestion
		for _, a := range d.Acct {
			cands = append(cands, sdk.Suggestion{Value: a.s("user"), Description: a.s("domain")})
		}
		if withDomains {
			for _, a := range d.Acct {
				cands = append(cands, sdk.Suggestion{Value: a.s("domain"), Description: "account " + a.s("user")})
			}
		}
		return sdk.SuggestPrefix(prefix, cands), nil
	}
}
