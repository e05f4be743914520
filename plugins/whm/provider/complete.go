package provider

import (
	"context"
	"strings"
	"time"

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
	return o.CompleteByName(map[string]sdk.CompleteFunc{"user": completeAccounts(false), "account": completeAccounts(true)})
}

// completeAccounts suggests the accounts whose name (or, withDomains, main
// domain) begins with what is typed, each described by the other. The
// list is read from the server at most every listTTL.
func completeAccounts(withDomains bool) sdk.CompleteFunc {
	key := "accounts"
	if withDomains {
		key = "accounts and domains"
	}
	return sdk.CompleteFromList(key, listTTL, func(ctx context.Context, call *sdk.Call) ([]sdk.Suggestion, error) {
		c, err := api.Client(call)
		if err != nil {
			return nil, err
		}
		d, err := read[accounts](ctx, c, "listaccts", client.Args{"want": {"user,domain"}})
		if err != nil {
			return nil, err
		}
		var out []sdk.Suggestion
		for _, a := range d.Acct {
			out = append(out, sdk.Suggestion{Value: a.s("user"), Description: a.s("domain")})
		}
		if withDomains {
			for _, a := range d.Acct {
				out = append(out, sdk.Suggestion{Value: a.s("domain"), Description: "account " + a.s("user")})
			}
		}
		return out, nil
	})
}

// listTTL is how long a list of accounts is offered before it is read
// again: long enough that typing a name costs the server one call, short
// enough that a new account soon appears (and a value can always be
// typed in full).
const listTTL = 30 * time.Second
