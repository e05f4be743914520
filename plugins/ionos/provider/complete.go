package provider

import (
	"context"
	"net/url"
	"strings"
	"time"

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
	return o.CompleteByName(map[string]sdk.CompleteFunc{"server": completeServers(false), "server_id": completeServers(true)})
}

// completeServers suggests the servers whose name (or, byID, id) begins
// with what is typed, each described by the other. The list is read at
// most every listTTL: IONOS allows few requests a minute, and real work
// shares them.
func completeServers(byID bool) sdk.CompleteFunc {
	key := "server names"
	if byID {
		key = "server ids"
	}
	return sdk.CompleteFromList(key, listTTL, func(ctx context.Context, call *sdk.Call) ([]sdk.Suggestion, error) {
		c, err := api.Client(call)
		if err != nil {
			return nil, err
		}
		var all []server
		if err := c.List(ctx, "/servers", url.Values{"fields": {"name"}}, sdk.MaxSuggestions, &all); err != nil {
			return nil, err
		}
		var out []sdk.Suggestion
		for _, s := range all {
			if byID {
				out = append(out, sdk.Suggestion{Value: s.ID, Description: s.Name})
			} else {
				out = append(out, sdk.Suggestion{Value: s.Name, Description: s.ID})
			}
		}
		return out, nil
	})
}

// listTTL is how long a list of servers is offered before it is read
// again; a value can always be typed in full.
const listTTL = 30 * time.Second
