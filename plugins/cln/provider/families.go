package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/sdk"
)

func idParam(desc string) sdk.Param {
	return sdk.String("id", desc).AsRequired().AsPositional().AsResource()
}

func keyParam(desc string) sdk.Param {
	return sdk.String("key", desc).AsRequired().AsPositional().AsResource()
}

func limitParam() sdk.Param {
	return sdk.Int("limit", "How many servers the key may have; 0 is unlimited").AsRequired().AtLeast(0)
}

func noteParam() sdk.Param { return sdk.FreeText("note", "A note on the key") }

func limitText(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

func itoa[N ~int | ~int64](n N) string { return strconv.FormatInt(int64(n), 10) }

// createSummary is the plan of a key creation.
func createSummary(product string, limit int64) string {
	return fmt.Sprintf("Create a %s key for %s servers", product, limitText(limit))
}

// --- v2 CloudLinux keys and servers (newer reference) ---------------------------

const clOnly = "\n\nNewer reference only (API v2)."

var clProduct = sdk.EnumOf("product", "CloudLinux product", clProducts...).AsRequired().WithAliases("productType")

func clCommands() []op {
	return []op{clKeyCreate(), clKeyUpdate(), clKeyRemove(), clKeyList(), clServerList(), clServerRemove(), clSubAccountServers()}
}

func clKeyCreate() op {
	return one(op{Name: "cl key create", Summary: "Create a CloudLinux licence key", Risk: sdk.RiskHigh, SensitiveOutput: true,
		Help:   "Creates a key for CloudLinux Shared, Shared Pro, Solo or Admin. Billing: the account is charged for what the key registers." + clOnly,
		Params: []sdk.Param{clProduct, limitParam(), noteParam()}, Examples: []string{"/cln cl key create product=CL limit=2 note=\"web cluster\""}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.CLKey], error) {
			return createSummary(a.String("product"), a.Int("limit")), c.EPCLKeyCreate(a.String("product"), a.Int("limit"), a.String("note")), nil
		},
		func(a sdk.Args, k client.CLKey, out *sdk.Result) {
			out.AddKeyValues("Key created", "key", k.Key, "product", k.ProductType, "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
		})
}

func clKeyUpdate() op {
	return one(op{Name: "cl key update", Summary: "Change a CloudLinux key's server limit", Risk: sdk.RiskHigh, Help: "Billing: a higher limit costs more." + clOnly,
		Params: []sdk.Param{keyParam("The key"), limitParam(), noteParam()}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.CLKey], error) {
			return "Set the key's limit to " + limitText(a.Int("limit")), c.EPCLKeyUpdate(a.String("key"), a.Int("limit"), a.String("note")), nil
		},
		func(a sdk.Args, k client.CLKey, out *sdk.Result) {
			out.AddKeyValues("Key updated", "key", keyText(a, k.Key), "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
		})
}

func clKeyRemove() op {
	return one(op{Name: "cl key remove", Summary: "Delete a CloudLinux key", Risk: sdk.RiskHigh, Help: "The key stops working for every server registered with it." + clOnly,
		Params: []sdk.Param{keyParam("The key")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[string], error) {
			return "Delete the CloudLinux key " + keyText(nil, a.String("key")), c.EPCLKeyRemove(a.String("key")), nil
		},
		func(a sdk.Args, key string, out *sdk.Result) { out.AddText("Deleted key %s.", keyText(a, key)) })
}

func clKeyList() op {
	return one(op{Name: "cl key list", Summary: "The account's CloudLinux keys of a product", Risk: sdk.RiskReadOnly, Help: clOnly,
		Params: []sdk.Param{clProduct, revealParam}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.CLKey], error) {
			return "List " + a.String("product") + " keys", c.EPCLKeyList(a.String("product")), nil
		},
		func(a sdk.Args, ks []client.CLKey, out *sdk.Result) {
			t := out.AddTable(a.String("product")+" keys", "key", "product", "limit", "note")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), k.ProductType, limitText(int64(k.UsageLimit)), string(k.Description))
			}
		})
}

func clServerList() op {
	return one(op{Name: "cl server list", Summary: "The account's CloudLinux servers of a product", Risk: sdk.RiskReadOnly, Help: clOnly,
		Params: []sdk.Param{clProduct, revealParam}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.CLServer], error) {
			return "List " + a.String("product") + " servers", c.EPCLServerList(a.String("product")), nil
		},
		func(a sdk.Args, ss []client.CLServer, out *sdk.Result) {
			t := out.AddTable(a.String("product")+" servers", "id", "hostname", "ip", "key")
			for _, s := range ss {
				t.Row(itoa(s.ID), s.Hostname, s.IP, keyText(a, s.Key))
			}
		})
}

func clServerRemove() op {
	return one(op{Name: "cl server remove", Summary: "Remove a CloudLinux server", Risk: sdk.RiskHigh, Help: clOnly,
		Params: []sdk.Param{sdk.Int("id", "The server's id").AsRequired().AsPositional().AtLeast(1).AsResource()}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.CLServer], error) {
			return fmt.Sprintf("Remove CloudLinux server %d", a.Int("id")), c.EPCLServerRemove(a.Int("id")), nil
		},
		func(a sdk.Args, s client.CLServer, out *sdk.Result) {
			out.AddKeyValues("Server removed", "id", itoa(s.ID), "hostname", s.Hostname, "ip", s.IP)
		})
}

func clSubAccountServers() op {
	return one(op{Name: "cl subaccount servers", Summary: "Servers of the reseller's sub-accounts", Risk: sdk.RiskReadOnly, Help: clOnly,
		Params: []sdk.Param{revealParam}},
		fixed("List sub-account servers", (*client.Client).EPCLSubAccountServers),
		func(a sdk.Args, ss []client.SubAccountServer, out *sdk.Result) {
			t := out.AddTable("Sub-account servers", "sub-account", "email", "server id", "ip", "version", "key")
			for _, s := range ss {
				t.Row(s.SubAccountLogin, s.SubAccountEmail, itoa(s.ServerID), s.IP, itoa(s.Version), keyText(a, s.ServerKey))
			}
		})
}

// --- ELS ------------------------------------------------------------------------

const elsEditions = "\n\nThe newer reference sends productType with POST, PUT and DELETE; the older one sends code with GET. The target's edition setting picks one."

var elsProduct = sdk.EnumOf("product", "ELS product", elsProducts...).AsRequired().WithAliases("productType", "code")

func elsCommands() []op {
	return []op{elsKeyCreate(), elsKeyUpdate(), elsKeyRemove(), elsKeyList(), elsServerList(), elsServerRemove()}
}

func elsKeyCreate() op {
	return one(op{Name: "els key create", Summary: "Create an ELS key", Risk: sdk.RiskHigh, SensitiveOutput: true, Help: "Billing." + elsEditions,
		Params: []sdk.Param{elsProduct, limitParam(), noteParam()}, Examples: []string{"/cln els key create product=CELS limit=2"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.ELSKey], error) {
			return createSummary(a.String("product"), a.Int("limit")), c.EPELSKeyCreate(a.String("product"), a.Int("limit"), a.String("note")), nil
		},
		func(a sdk.Args, k client.ELSKey, out *sdk.Result) {
			out.AddKeyValues("ELS key created", "key", k.Key, "product", k.ProductCode, "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
		})
}

func elsKeyUpdate() op {
	return one(op{Name: "els key update", Summary: "Change an ELS key's limit and note", Risk: sdk.RiskHigh, Help: "Billing." + elsEditions,
		Params: []sdk.Param{keyParam("The ELS key"), limitParam(), noteParam()}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.ELSKey], error) {
			return "Set the ELS key's limit to " + limitText(a.Int("limit")), c.EPELSKeyUpdate(a.String("key"), a.Int("limit"), a.String("note")), nil
		},
		func(a sdk.Args, k client.ELSKey, out *sdk.Result) {
			out.AddKeyValues("ELS key updated", "key", keyText(a, k.Key), "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
		})
}

func elsKeyRemove() op {
	return one(op{Name: "els key remove", Summary: "Delete an ELS key and all its servers", Risk: sdk.RiskHigh, Help: "Every server registered with the key loses ELS." + elsEditions,
		Params: []sdk.Param{keyParam("The ELS key")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.ELSServer], error) {
			return "Delete the ELS key " + keyText(nil, a.String("key")) + " with all its servers", c.EPELSKeyRemove(a.String("key")), nil
		},
		func(a sdk.Args, removed []client.ELSServer, out *sdk.Result) {
			out.AddText("Deleted the ELS key (%d entries removed).", len(removed))
		})
}

func elsKeyList() op {
	return one(op{Name: "els key list", Summary: "The account's ELS keys of a product", Risk: sdk.RiskReadOnly, Help: elsEditions,
		Params: []sdk.Param{elsProduct, revealParam}, Examples: []string{"/cln els key list product=CELS"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.ELSKey], error) {
			return "List " + a.String("product") + " keys", c.EPELSKeyList(a.String("product")), nil
		},
		func(a sdk.Args, ks []client.ELSKey, out *sdk.Result) {
			t := out.AddTable(a.String("product")+" keys", "key", "product", "limit", "note")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), k.ProductCode, limitText(int64(k.UsageLimit)), string(k.Description))
			}
		})
}

func elsServerList() op {
	return one(op{Name: "els server list", Summary: "ELS servers of a product, newest check-in first", Risk: sdk.RiskReadOnly,
		Help:   "The key filter exists in the newer reference only." + elsEditions,
		Params: []sdk.Param{elsProduct, sdk.String("key", "Only this key's servers"), revealParam}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.ELSServer], error) {
			return "List " + a.String("product") + " servers", c.EPELSServerList(a.String("product"), a.String("key")), nil
		},
		func(a sdk.Args, ss []client.ELSServer, out *sdk.Result) {
			t := out.AddTable(a.String("product")+" servers", "id", "hostname", "ip", "last check-in", "key")
			for _, s := range ss {
				t.Row(string(s.ID), s.Hostname, s.IP, s.LastCheckin, keyText(a, s.Key))
			}
		})
}

func elsServerRemove() op {
	return one(op{Name: "els server remove", Summary: "Remove an ELS server", Risk: sdk.RiskHigh,
		Help:   "Both references' example URLs point at key/remove.json by mistake; this calls srv/remove.json with the server id." + elsEditions,
		Params: []sdk.Param{idParam("The server's id")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.ELSServer], error) {
			return "Remove ELS server " + a.String("id"), c.EPELSServerRemove(a.String("id")), nil
		},
		func(a sdk.Args, s client.ELSServer, out *sdk.Result) {
			out.AddKeyValues("ELS server removed", "id", string(s.ID), "hostname", s.Hostname, "ip", s.IP)
		})
}

// --- Imunify ----------------------------------------------------------------------

func imCommands() []op {
	return []op{imKeyCreate(), imKeyUpdate(), imKeyRemove(), imKeyList(), imServerList(), imServerRemove(), imServerConvert()}
}

func imKeyCreate() op {
	code := sdk.EnumOf("code", "Imunify licence", imCodes...).AsRequired().WithAliases("product")
	return one(op{Name: "im key create", Summary: "Create an Imunify key", Risk: sdk.RiskHigh, SensitiveOutput: true, Help: "Billing.",
		Params: []sdk.Param{code, limitParam(), noteParam()}, Examples: []string{"/cln im key create code=360_1 limit=2"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.IMKey], error) {
			return createSummary(a.String("code"), a.Int("limit")), c.EPIMKeyCreate(a.String("code"), a.Int("limit"), a.String("note")), nil
		},
		func(a sdk.Args, k client.IMKey, out *sdk.Result) {
			out.AddKeyValues("Imunify key created", "key", k.Key, "code", k.Code, "limit", limitText(int64(k.Limit)))
		})
}

func imKeyUpdate() op {
	return one(op{Name: "im key update", Summary: "Change an Imunify key", Risk: sdk.RiskHigh, Help: "Billing. Only what is given changes.",
		Params: []sdk.Param{keyParam("The Imunify key"), sdk.Int("limit", "New server limit; 0 is unlimited").AtLeast(0), noteParam(), sdk.Int("servers", "Number of servers registered with the key").AtLeast(0)}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.IMKey], error) {
			l, n, s := optInt(a, "limit"), optString(a, "note"), optInt(a, "servers")
			if l == nil && n == nil && s == nil {
				return "", client.Call[client.IMKey]{}, sdk.BadArg("limit", "give limit, note or servers: there is nothing to change")
			}
			return "Update the Imunify key", c.EPIMKeyUpdate(a.String("key"), l, n, s), nil
		},
		func(a sdk.Args, k client.IMKey, out *sdk.Result) {
			out.AddKeyValues("Imunify key updated", "key", keyText(a, k.Key), "code", k.Code, "limit", limitText(int64(k.Limit)), "servers", itoa(k.Servers))
		})
}

// imKeyRemove is planned from the key's servers: they go with it, and an
// approval was given for those.
func imKeyRemove() op {
	o := one(op{Name: "im key remove", Summary: "Delete an Imunify key and all its servers", Risk: sdk.RiskHigh,
		Params: []sdk.Param{keyParam("The Imunify key")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Removed[client.IMServer]], error) {
			return "Delete the Imunify key " + keyText(nil, a.String("key")) + " with all its servers", c.EPIMKeyRemove(a.String("key")), nil
		},
		func(a sdk.Args, removed client.Removed[client.IMServer], out *sdk.Result) {
			if !removed.Listed {
				// CLN may answer only true (see client.removal).
				out.AddText("Deleted the Imunify key %s with its servers; CLN did not list them.", keyText(a, a.String("key")))
				return
			}
			t := out.AddTable(fmt.Sprintf("Key deleted with %d server(s)", len(removed.Items)), "server id")
			for _, s := range removed.Items {
				t.Row(s.ID)
			}
		})
	return planningFrom(o, func(ctx context.Context, c *client.Client, a sdk.Args) (string, error) {
		ss, err := c.IMServerList(ctx, a.String("key"))
		var ids []string
		for _, s := range ss {
			ids = append(ids, s.ID)
		}
		return "servers of the key: " + sortedList(ids), err
	})
}

func imKeyList() op {
	return one(op{Name: "im key list", Summary: "The account's Imunify keys", Risk: sdk.RiskReadOnly, Params: []sdk.Param{revealParam}},
		fixed("List Imunify keys", (*client.Client).EPIMKeyList),
		func(a sdk.Args, ks []client.IMKey, out *sdk.Result) {
			t := out.AddTable("Imunify keys", "key", "code", "limit", "servers")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), k.Code, limitText(int64(k.Limit)), itoa(k.Servers))
			}
		})
}

func imServerList() op {
	return one(op{Name: "im server list", Summary: "The servers of an Imunify key", Risk: sdk.RiskReadOnly,
		Params: []sdk.Param{keyParam("The Imunify key"), revealParam}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.IMServer], error) {
			return "List the key's servers", c.EPIMServerList(a.String("key")), nil
		},
		func(a sdk.Args, ss []client.IMServer, out *sdk.Result) {
			t := out.AddTable("Imunify servers of "+keyText(a, a.String("key")), "id", "ip", "last check-in")
			for _, s := range ss {
				t.Row(s.ID, s.IP, s.LastCheckin)
			}
		})
}

// imServerRemove is planned from the key and IP the server has now: the
// id an approver saw named that licence on that machine.
func imServerRemove() op {
	o := one(op{Name: "im server remove", Summary: "Remove an Imunify server", Risk: sdk.RiskHigh, Params: []sdk.Param{idParam("The server's id")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.IMServer], error) {
			return "Remove Imunify server " + a.String("id"), c.EPIMServerRemove(a.String("id")), nil
		},
		func(a sdk.Args, s client.IMServer, out *sdk.Result) { out.AddText("Removed Imunify server %s.", s.ID) })
	return planningFrom(o, imKeyOf)
}

// imServerConvert is planned from the key the server is on now: moving
// it changes its licence from that key's type to the new key's.
func imServerConvert() op {
	o := one(op{Name: "im server convert", Summary: "Move an Imunify server to another key (licence type)", Risk: sdk.RiskHigh,
		Help:     "To upgrade a server from single user to up to 30 users, move it to a key of that type. Billing.",
		Params:   []sdk.Param{idParam("The server's id"), sdk.String("key", "The key to move it to").AsRequired()},
		Examples: []string{"/cln im server convert SSERVER_ID_1 key=IMUNOTHERKEY"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.IMServer], error) {
			return "Move Imunify server " + a.String("id") + " to key " + keyText(nil, a.String("key")), c.EPIMServerConvert(a.String("id"), a.String("key")), nil
		},
		func(a sdk.Args, s client.IMServer, out *sdk.Result) {
			out.AddKeyValues("Server moved", "server", s.ID, "key", keyText(a, s.Key))
		})
	return planningFrom(o, imKeyOf)
}

// imKeyOf says which of the account's Imunify keys the server is on now,
// and the key's licence. CLN has no call that answers it directly: each
// key's servers are read until the server turns up.
func imKeyOf(ctx context.Context, c *client.Client, a sdk.Args) (string, error) {
	ks, err := c.IMKeyList(ctx)
	if err != nil {
		return "", err
	}
	for _, k := range ks {
		ss, err := c.IMServerList(ctx, k.Key)
		if err != nil {
			return "", err
		}
		for _, s := range ss {
			if s.ID == a.String("id") {
				return "the server (IP " + s.IP + ") is on key " + k.Key + " (" + k.Code + ")", nil
			}
		}
	}
	return "the server is on none of the account's keys", nil
}

func optInt(a sdk.Args, name string) *int64 {
	if !a.Has(name) {
		return nil
	}
	v := a.Int(name)
	return &v
}

func optString(a sdk.Args, name string) *string {
	if !a.Has(name) {
		return nil
	}
	v := a.String(name)
	return &v
}

func optBool(a sdk.Args, name string) *bool {
	if !a.Has(name) {
		return nil
	}
	v := a.Bool(name)
	return &v
}

// sortedList is a fact's list: in one order, whatever order CLN answers in.
func sortedList(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(slices.Values(items)), ", ")
}

// --- IP licences ------------------------------------------------------------------------

var (
	ipParam   = sdk.IP("ip", "The server's IP address").AsRequired().AsPositional().AsResource()
	typeParam = licenceParam("type", "Licence type, by code or name").AsRequired()
)

func iplCommands() []op {
	return []op{iplAvailability(), iplCheck(), iplRegister(), iplConvert(), iplRemove(), iplList(), iplServer(), iplUpdate()}
}

// licenceType is a licence-type argument as its code.
func licenceType(a sdk.Args, name string) int {
	t, _ := strconv.Atoi(a.String(name))
	return t
}

// heldOn is planned from the licences the account holds on the IP: a
// change to them is approved for those, and one that finds others is
// refused (an IP licence's type converted, removed or added meanwhile).
func heldOn(o op) op {
	return planningFrom(o, func(ctx context.Context, c *client.Client, a sdk.Args) (string, error) {
		av, err := c.IPLAvailability(ctx, a.String("ip"))
		var types []string
		for _, t := range av.Owned {
			types = append(types, strconv.Itoa(t))
		}
		return "licence types the account holds on " + a.String("ip") + ": " + sortedList(types), err
	})
}

func iplAvailability() op {
	return one(op{Name: "ipl availability", Summary: "Which licence types an IP can take, and which the account holds", Risk: sdk.RiskReadOnly,
		Params: []sdk.Param{ipParam}, Examples: []string{"/cln ipl availability 203.0.113.7"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Availability], error) {
			return "Check licence availability on " + a.String("ip"), c.EPIPLAvailability(a.String("ip")), nil
		},
		func(a sdk.Args, av client.Availability, out *sdk.Result) {
			out.AddKeyValues(a.String("ip"), "available", typesText(av.Available), "held by this account", typesText(av.Owned))
		})
}

func iplCheck() op {
	return one(op{Name: "ipl check", Summary: "The licence types registered on an IP, by anyone", Risk: sdk.RiskReadOnly,
		Params: []sdk.Param{ipParam}, Examples: []string{"/cln ipl check 203.0.113.7"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]int], error) {
			return "Check the licences on " + a.String("ip"), c.EPIPLCheck(a.String("ip")), nil
		},
		func(a sdk.Args, types []int, out *sdk.Result) {
			if len(types) == 0 {
				out.AddText("%s has no IP licence.", a.String("ip"))
				return
			}
			out.AddKeyValues(a.String("ip"), "registered types", typesText(types))
		})
}

func iplRegister() op {
	return heldOn(one(op{Name: "ipl register", Summary: "Register an IP licence", Risk: sdk.RiskHigh,
		Help:     "If the IP already holds this type for the account, CLN returns the existing licence. Billing.",
		Params:   []sdk.Param{ipParam, typeParam, sdk.Bool("els_allowed", "Allow CloudLinux 6 (ELS) registration")},
		Examples: []string{"/cln ipl register 203.0.113.7 type=kernelcare"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.IPLicense], error) {
			t := licenceType(a, "type")
			return fmt.Sprintf("Register a %s licence (type %d) on %s", licenceName(t), t, a.String("ip")), c.EPIPLRegister(a.String("ip"), t, optBool(a, "els_allowed")), nil
		},
		func(a sdk.Args, l client.IPLicense, out *sdk.Result) {
			out.AddKeyValues("Licence registered", "ip", l.IP, "type", fmt.Sprintf("%d (%s)", l.Type, licenceName(l.Type)), "server registered in CLN", yesNo(l.Registered), "created", l.Created)
		}))
}

func iplConvert() op {
	return heldOn(one(op{Name: "ipl convert", Summary: "Change an Imunify IP licence's type", Risk: sdk.RiskHigh,
		Help:   "Upgrades only to Imunify360 IP licences; ImunifyIP licences go up or down. Billing.",
		Params: []sdk.Param{ipParam, licenceParam("type", "The current type").AsRequired(), licenceParam("to", "The new type").AsRequired().WithAliases("type_to")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Done], error) {
			from, to := licenceType(a, "type"), licenceType(a, "to")
			return fmt.Sprintf("Change %s's licence from %s to %s", a.String("ip"), licenceName(from), licenceName(to)), c.EPIPLConvert(a.String("ip"), from, to), nil
		},
		func(a sdk.Args, _ client.Done, out *sdk.Result) {
			out.AddText("%s now holds a %s licence.", a.String("ip"), licenceName(licenceType(a, "to")))
		}))
}

func iplRemove() op {
	return heldOn(one(op{Name: "ipl remove", Summary: "Remove one licence type from an IP", Risk: sdk.RiskHigh,
		Help:   "The type is required: CLN removes every licence on the IP when it is left out, so this command never leaves it out.",
		Params: []sdk.Param{ipParam, typeParam}, Examples: []string{"/cln ipl remove 203.0.113.7 type=16"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Done], error) {
			t := licenceType(a, "type")
			return fmt.Sprintf("Remove the %s licence (type %d) from %s", licenceName(t), t, a.String("ip")), c.EPIPLRemove(a.String("ip"), t), nil
		},
		func(a sdk.Args, _ client.Done, out *sdk.Result) {
			out.AddText("Removed the %s licence from %s.", licenceName(licenceType(a, "type")), a.String("ip"))
		}))
}

func iplList() op {
	return one(op{Name: "ipl list", Summary: "The account's IP licences", Risk: sdk.RiskReadOnly},
		fixed("List IP licences", (*client.Client).EPIPLList),
		func(a sdk.Args, ls []client.IPLicense, out *sdk.Result) {
			t := out.AddTable("IP licences", "ip", "type", "product", "registered", "created")
			for _, l := range ls {
				t.Row(l.IP, strconv.Itoa(l.Type), licenceName(l.Type), yesNo(l.Registered), l.Created)
			}
		})
}

// iplServer makes as many calls as the edition needs for the IPs (one
// per IP in the older one), each said in words when there are several.
func iplServer() op {
	return op{Name: "ipl server", Summary: "The account's licences on some IPs, with server information", Risk: sdk.RiskReadOnly,
		Help:   "Up to 100 IPs a call in the newer reference; the older one takes one IP a call, so one call is made per IP.",
		Params: []sdk.Param{sdk.IP("ip", "IP addresses").AsRequired().AsPositional().AsRepeated()},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ips := a.Strings("ip")
			calls := c.EPIPLServers(ips)
			w := &work{Summary: fmt.Sprintf("Read server information for %d IP(s)", len(ips))}
			for _, k := range calls {
				s := callStep(k)
				if len(calls) > 1 {
					s.What = "read the licences on " + k.Query.Get("ip")
				}
				w.Steps = append(w.Steps, s)
			}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []any, out *sdk.Result) error {
			t := out.AddTable("Licences", "ip", "type", "product", "server", "last check-in", "created")
			for _, r := range res {
				for _, l := range r.([]client.IPLicense) {
					t.Row(l.IP, strconv.Itoa(l.Type), licenceName(l.Type), l.ServerInfo, l.LastCheckin, l.Created)
				}
			}
			return nil
		}}
}

func iplUpdate() op {
	return heldOn(one(op{Name: "ipl update", Summary: "Allow or forbid CloudLinux 6 (ELS) registration on an IP licence", Risk: sdk.RiskLow,
		Help:   "Without a type, every licence on the IP is updated.",
		Params: []sdk.Param{ipParam, sdk.Bool("els_allowed", "Allow CloudLinux 6 registration").AsRequired(), licenceParam("type", "Only this licence type")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Done], error) {
			return fmt.Sprintf("Set els_allowed=%v on %s", a.Bool("els_allowed"), a.String("ip")), c.EPIPLUpdate(a.String("ip"), licenceType(a, "type"), a.Bool("els_allowed")), nil
		},
		func(a sdk.Args, _ client.Done, out *sdk.Result) {
			out.AddText("Updated the licence on %s: ELS registration %s.", a.String("ip"), map[bool]string{true: "allowed", false: "not allowed"}[a.Bool("els_allowed")])
		}))
}

// --- KernelCare -----------------------------------------------------------------------------

func kcCommands() []op {
	return []op{kcKeyCreate(), kcKeyDelete(), kcKeyList(), kcKeyServers(), kcKeySetCIDR(), kcServerRemove(), kcNagios(), kcNagiosReseller()}
}

func kcKeyCreate() op {
	return one(op{Name: "kcare key create", Summary: "Create a KernelCare key", Risk: sdk.RiskHigh, SensitiveOutput: true, Help: "Billing.",
		Params:   []sdk.Param{limitParam(), sdk.FreeText("note", "A description, up to 100 characters")},
		Examples: []string{"/cln kcare key create limit=5 note=\"customer 42\""}},
		func(c *client.Client, a sdk.Args) (string, client.Call[string], error) {
			if len([]rune(a.String("note"))) > 100 {
				return "", client.Call[string]{}, sdk.BadArg("note", "at most 100 characters")
			}
			return "Create a KernelCare key for " + limitText(a.Int("limit")) + " servers", c.EPKCKeyCreate(a.Int("limit"), a.String("note")), nil
		},
		func(a sdk.Args, key string, out *sdk.Result) {
			out.AddKeyValues("KernelCare key created", "key", key, "limit", limitText(a.Int("limit")), "note", a.String("note"))
		})
}

// kcKeyDelete is planned from the key's servers: they lose KernelCare
// with it, and an approval was given for those.
func kcKeyDelete() op {
	o := one(op{Name: "kcare key delete", Summary: "Delete a KernelCare key", Risk: sdk.RiskHigh, Params: []sdk.Param{keyParam("The KernelCare key")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Removed[client.KCServer]], error) {
			return "Delete the KernelCare key " + keyText(nil, a.String("key")), c.EPKCKeyDelete(a.String("key")), nil
		},
		func(a sdk.Args, _ client.Removed[client.KCServer], out *sdk.Result) {
			out.AddText("Deleted the KernelCare key %s.", keyText(a, a.String("key")))
		})
	return planningFrom(o, func(ctx context.Context, c *client.Client, a sdk.Args) (string, error) {
		ss, err := c.KCKeyServers(ctx, a.String("key"))
		var ids []string
		for _, s := range ss {
			ids = append(ids, s.ServerID)
		}
		return "servers of the key: " + sortedList(ids), err
	})
}

func kcKeyList() op {
	return one(op{Name: "kcare key list", Summary: "The account's KernelCare keys", Risk: sdk.RiskReadOnly, Params: []sdk.Param{revealParam}},
		fixed("List KernelCare keys", (*client.Client).EPKCKeyList),
		func(a sdk.Args, ks []client.KCKey, out *sdk.Result) {
			t := out.AddTable("KernelCare keys", "key", "enabled", "limit", "created", "note")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), yesNo(k.Enabled), limitText(int64(k.Limit)), k.Created, string(k.Note))
			}
		})
}

func kcKeyServers() op {
	return one(op{Name: "kcare key servers", Summary: "The servers registered with a KernelCare key", Risk: sdk.RiskReadOnly,
		Params: []sdk.Param{keyParam("The KernelCare key"), revealParam}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.KCServer], error) {
			return "List the key's servers", c.EPKCKeyServers(a.String("key")), nil
		},
		func(a sdk.Args, ss []client.KCServer, out *sdk.Result) {
			t := out.AddTable("Servers of "+keyText(a, a.String("key")), "server id", "ip", "registered", "last check-in")
			for _, s := range ss {
				t.Row(s.ServerID, s.IP, s.Created, s.LastCheckin)
			}
		})
}

func kcKeySetCIDR() op {
	return one(op{Name: "kcare key set-cidr", Summary: "Set the networks a KernelCare key may register from", Risk: sdk.RiskLow,
		Params:   []sdk.Param{keyParam("The KernelCare key"), sdk.CIDR("cidr", "Allowed networks").AsRequired().AsRepeated()},
		Examples: []string{"/cln kcare key set-cidr WsTs821nSAtiastD cidr=203.0.113.0/24,198.51.100.0/24"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Done], error) {
			return "Allow registration from " + strings.Join(a.Strings("cidr"), ", "), c.EPKCKeySetCIDR(a.String("key"), a.Strings("cidr")), nil
		},
		func(a sdk.Args, _ client.Done, out *sdk.Result) {
			out.AddText("The key may now register servers from %s.", strings.Join(a.Strings("cidr"), ", "))
		})
}

func kcServerRemove() op {
	return one(op{Name: "kcare server remove", Summary: "Remove a KernelCare server", Risk: sdk.RiskHigh,
		Params: []sdk.Param{sdk.String("server_id", "The server's id").AsRequired().AsPositional().WithAliases("id").AsResource()}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.KCRemoved], error) {
			return "Remove KernelCare server " + a.String("server_id"), c.EPKCServerRemove(a.String("server_id")), nil
		},
		func(a sdk.Args, s client.KCRemoved, out *sdk.Result) {
			out.AddText("Removed KernelCare server %s (key %s).", s.ServerID, keyText(a, s.Key))
		})
}

func kcNagios() op {
	return one(op{Name: "kcare nagios", Summary: "Whether every server of a monitoring key is up to date", Risk: sdk.RiskReadOnly,
		Help:   "Registering a monitoring key (nagios/register_key.plain) is not offered: it registers the caller's own IP, which would be the bot's.",
		Params: []sdk.Param{sdk.String("key_id", "The monitoring key").AsRequired().AsPositional()}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Nagios], error) {
			return "Check the monitoring key's servers", c.EPKCNagios(a.String("key_id")), nil
		},
		nagiosResult)
}

func kcNagiosReseller() op {
	return one(op{Name: "kcare nagios reseller", Summary: "Whether every server of the reseller is up to date", Risk: sdk.RiskReadOnly},
		fixed("Check all the reseller's KernelCare servers", (*client.Client).EPKCNagiosReseller),
		nagiosResult)
}

func nagiosResult(a sdk.Args, n client.Nagios, out *sdk.Result) {
	state := "all up to date"
	if !n.OK {
		state = "ALERT"
	}
	out.AddKeyValues("KernelCare", "state", state, "report", n.Text)
	if !n.OK {
		out.Warn("some servers are out of date, unsupported or inactive")
	}
}
