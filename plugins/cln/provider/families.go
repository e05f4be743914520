package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/sdk"
)

func idParam(desc string) sdk.Param {
	return sdk.String("id", desc).AsRequired().AsPositional()
}

func keyParam(desc string) sdk.Param {
	return sdk.String("key", desc).AsRequired().AsPositional()
}

func limitParam() sdk.Param {
	return sdk.Int("limit", "How many servers the key may have; 0 is unlimited").AsRequired().AtLeast(0)
}

func noteParam() sdk.Param { return sdk.String("note", "A note on the key") }

func limitText(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

// --- v2 CloudLinux keys and servers (newer reference) ---------------------------

func registerCL(p *sdk.Plugin) {
	const ed = "\n\nNewer reference only (API v2)."
	product := sdk.EnumOf("product", "CloudLinux product", clProducts...).AsRequired().WithAliases("productType")
	register(p, op{name: "cl key create", summary: "Create a CloudLinux licence key", risk: sdk.RiskHigh, sensitive: true,
		help:   "Creates a key for CloudLinux Shared, Shared Pro, Solo or Admin. Billing: the account is charged for what the key registers." + ed,
		params: []sdk.Param{product, limitParam(), noteParam()}, examples: []string{"/cln cl key create product=CL limit=2 note=\"web cluster\""},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Create a %s key for %s servers", a.String("product"), limitText(a.Int("limit"))), c.EPCLKeyCreate(a.String("product"), a.Int("limit"), a.String("note")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			k, err := c.CLKeyCreate(ctx, a.String("product"), a.Int("limit"), a.String("note"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Key created", "key", k.Key, "product", k.ProductType, "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
			return nil
		}})
	register(p, op{name: "cl key update", summary: "Change a CloudLinux key's server limit", risk: sdk.RiskHigh, help: "Billing: a higher limit costs more." + ed,
		params: []sdk.Param{keyParam("The key"), limitParam(), noteParam()},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Set the key's limit to %s", limitText(a.Int("limit"))), c.EPCLKeyUpdate(a.String("key"), a.Int("limit"), a.String("note")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			k, err := c.CLKeyUpdate(ctx, a.String("key"), a.Int("limit"), a.String("note"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Key updated", "key", keyText(a, k.Key), "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
			return nil
		}})
	register(p, op{name: "cl key remove", summary: "Delete a CloudLinux key", risk: sdk.RiskHigh, help: "The key stops working for every server registered with it." + ed,
		params: []sdk.Param{keyParam("The key")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Delete the CloudLinux key "+keyText(nil, a.String("key")), c.EPCLKeyRemove(a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			k, err := c.CLKeyRemove(ctx, a.String("key"))
			if err != nil {
				return err
			}
			r.AddText("Deleted key %s.", keyText(a, k))
			return nil
		}})
	register(p, op{name: "cl key list", summary: "The account's CloudLinux keys of a product", risk: sdk.RiskReadOnly, help: ed,
		params: []sdk.Param{product, revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List "+a.String("product")+" keys", c.EPCLKeyList(a.String("product")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ks, err := c.CLKeyList(ctx, a.String("product"))
			if err != nil {
				return err
			}
			t := r.AddTable(a.String("product")+" keys", "key", "product", "limit", "note")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), k.ProductType, limitText(int64(k.UsageLimit)), string(k.Description))
			}
			return nil
		}})
	register(p, op{name: "cl server list", summary: "The account's CloudLinux servers of a product", risk: sdk.RiskReadOnly, help: ed,
		params: []sdk.Param{product, revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List "+a.String("product")+" servers", c.EPCLServerList(a.String("product")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.CLServerList(ctx, a.String("product"))
			if err != nil {
				return err
			}
			t := r.AddTable(a.String("product")+" servers", "id", "hostname", "ip", "key")
			for _, s := range ss {
				t.Row(strconv.FormatInt(int64(s.ID), 10), s.Hostname, s.IP, keyText(a, s.Key))
			}
			return nil
		}})
	register(p, op{name: "cl server remove", summary: "Remove a CloudLinux server", risk: sdk.RiskHigh, help: ed,
		params: []sdk.Param{sdk.Int("id", "The server's id").AsRequired().AsPositional().AtLeast(1)},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Remove CloudLinux server %d", a.Int("id")), c.EPCLServerRemove(a.Int("id")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			s, err := c.CLServerRemove(ctx, a.Int("id"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Server removed", "id", strconv.FormatInt(int64(s.ID), 10), "hostname", s.Hostname, "ip", s.IP)
			return nil
		}})
	register(p, op{name: "cl subaccount servers", summary: "Servers of the reseller's sub-accounts", risk: sdk.RiskReadOnly, help: ed,
		params: []sdk.Param{revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List sub-account servers", c.EPCLSubAccountServers())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.CLSubAccountServers(ctx)
			if err != nil {
				return err
			}
			t := r.AddTable("Sub-account servers", "sub-account", "email", "server id", "ip", "version", "key")
			for _, s := range ss {
				t.Row(s.SubAccountLogin, s.SubAccountEmail, strconv.FormatInt(int64(s.ServerID), 10), s.IP, strconv.FormatInt(int64(s.Version), 10), keyText(a, s.ServerKey))
			}
			return nil
		}})
}

// --- ELS ------------------------------------------------------------------------

func registerELS(p *sdk.Plugin) {
	const ed = "\n\nThe newer reference sends productType with POST, PUT and DELETE; the older one sends code with GET. The target's edition setting picks one."
	product := sdk.EnumOf("product", "ELS product", elsProducts...).AsRequired().WithAliases("productType", "code")
	register(p, op{name: "els key create", summary: "Create an ELS key", risk: sdk.RiskHigh, sensitive: true, help: "Billing." + ed,
		params: []sdk.Param{product, limitParam(), noteParam()}, examples: []string{"/cln els key create product=CELS limit=2"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Create a %s key for %s servers", a.String("product"), limitText(a.Int("limit"))), c.EPELSKeyCreate(a.String("product"), a.Int("limit"), a.String("note")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			k, err := c.ELSKeyCreate(ctx, a.String("product"), a.Int("limit"), a.String("note"))
			if err != nil {
				return err
			}
			r.AddKeyValues("ELS key created", "key", k.Key, "product", k.ProductCode, "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
			return nil
		}})
	register(p, op{name: "els key update", summary: "Change an ELS key's limit and note", risk: sdk.RiskHigh, help: "Billing." + ed,
		params: []sdk.Param{keyParam("The ELS key"), limitParam(), noteParam()},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Set the ELS key's limit to "+limitText(a.Int("limit")), c.EPELSKeyUpdate(a.String("key"), a.Int("limit"), a.String("note")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			k, err := c.ELSKeyUpdate(ctx, a.String("key"), a.Int("limit"), a.String("note"))
			if err != nil {
				return err
			}
			r.AddKeyValues("ELS key updated", "key", keyText(a, k.Key), "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
			return nil
		}})
	register(p, op{name: "els key remove", summary: "Delete an ELS key and all its servers", risk: sdk.RiskHigh, help: "Every server registered with the key loses ELS." + ed,
		params: []sdk.Param{keyParam("The ELS key")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Delete the ELS key "+keyText(nil, a.String("key"))+" with all its servers", c.EPELSKeyRemove(a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			removed, err := c.ELSKeyRemove(ctx, a.String("key"))
			if err != nil {
				return err
			}
			r.AddText("Deleted the ELS key (%d entries removed).", len(removed))
			return nil
		}})
	register(p, op{name: "els key list", summary: "The account's ELS keys of a product", risk: sdk.RiskReadOnly, help: ed,
		params: []sdk.Param{product, revealParam}, examples: []string{"/cln els key list product=CELS"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List "+a.String("product")+" keys", c.EPELSKeyList(a.String("product")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ks, err := c.ELSKeyList(ctx, a.String("product"))
			if err != nil {
				return err
			}
			t := r.AddTable(a.String("product")+" keys", "key", "product", "limit", "note")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), k.ProductCode, limitText(int64(k.UsageLimit)), string(k.Description))
			}
			return nil
		}})
	register(p, op{name: "els server list", summary: "ELS servers of a product, newest check-in first", risk: sdk.RiskReadOnly,
		help:   "The key filter exists in the newer reference only." + ed,
		params: []sdk.Param{product, sdk.String("key", "Only this key's servers"), revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List "+a.String("product")+" servers", c.EPELSServerList(a.String("product"), a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.ELSServerList(ctx, a.String("product"), a.String("key"))
			if err != nil {
				return err
			}
			t := r.AddTable(a.String("product")+" servers", "id", "hostname", "ip", "last check-in", "key")
			for _, s := range ss {
				t.Row(string(s.ID), s.Hostname, s.IP, s.LastCheckin, keyText(a, s.Key))
			}
			return nil
		}})
	register(p, op{name: "els server remove", summary: "Remove an ELS server", risk: sdk.RiskHigh,
		help:   "Both references' example URLs point at key/remove.json by mistake; this calls srv/remove.json with the server id." + ed,
		params: []sdk.Param{idParam("The server's id")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Remove ELS server "+a.String("id"), c.EPELSServerRemove(a.String("id")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			s, err := c.ELSServerRemove(ctx, a.String("id"))
			if err != nil {
				return err
			}
			r.AddKeyValues("ELS server removed", "id", string(s.ID), "hostname", s.Hostname, "ip", s.IP)
			return nil
		}})
}

// --- Imunify ----------------------------------------------------------------------

func registerIM(p *sdk.Plugin) {
	code := sdk.EnumOf("code", "Imunify licence", imCodes...).AsRequired().WithAliases("product")
	register(p, op{name: "im key create", summary: "Create an Imunify key", risk: sdk.RiskHigh, sensitive: true, help: "Billing.",
		params: []sdk.Param{code, limitParam(), noteParam()}, examples: []string{"/cln im key create code=360_1 limit=2"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Create a %s key for %s servers", a.String("code"), limitText(a.Int("limit"))), c.EPIMKeyCreate(a.String("code"), a.Int("limit"), a.String("note")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			k, err := c.IMKeyCreate(ctx, a.String("code"), a.Int("limit"), a.String("note"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Imunify key created", "key", k.Key, "code", k.Code, "limit", limitText(int64(k.Limit)))
			return nil
		}})
	register(p, op{name: "im key update", summary: "Change an Imunify key", risk: sdk.RiskHigh, help: "Billing. Only what is given changes.",
		params: []sdk.Param{keyParam("The Imunify key"), sdk.Int("limit", "New server limit; 0 is unlimited").AtLeast(0), noteParam(), sdk.Int("servers", "Number of servers registered with the key").AtLeast(0)},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			l, n, s := imUpdate(a)
			if l == nil && n == nil && s == nil {
				return "", nil, 0, sdk.BadArg("limit", "give limit, note or servers: there is nothing to change")
			}
			return planOf("Update the Imunify key", c.EPIMKeyUpdate(a.String("key"), l, n, s))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			l, n, s := imUpdate(a)
			if l == nil && n == nil && s == nil {
				return sdk.BadArg("limit", "give limit, note or servers: there is nothing to change")
			}
			k, err := c.IMKeyUpdate(ctx, a.String("key"), l, n, s)
			if err != nil {
				return err
			}
			r.AddKeyValues("Imunify key updated", "key", keyText(a, k.Key), "code", k.Code, "limit", limitText(int64(k.Limit)), "servers", strconv.FormatInt(int64(k.Servers), 10))
			return nil
		}})
	register(p, op{name: "im key remove", summary: "Delete an Imunify key and all its servers", risk: sdk.RiskHigh,
		params: []sdk.Param{keyParam("The Imunify key")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Delete the Imunify key "+keyText(nil, a.String("key"))+" with all its servers", c.EPIMKeyRemove(a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			removed, err := c.IMKeyRemove(ctx, a.String("key"))
			if err != nil {
				return err
			}
			t := r.AddTable(fmt.Sprintf("Key deleted with %d server(s)", len(removed)), "server id")
			for _, s := range removed {
				t.Row(s.ID)
			}
			return nil
		}})
	register(p, op{name: "im key list", summary: "The account's Imunify keys", risk: sdk.RiskReadOnly, params: []sdk.Param{revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List Imunify keys", c.EPIMKeyList())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ks, err := c.IMKeyList(ctx)
			if err != nil {
				return err
			}
			t := r.AddTable("Imunify keys", "key", "code", "limit", "servers")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), k.Code, limitText(int64(k.Limit)), strconv.FormatInt(int64(k.Servers), 10))
			}
			return nil
		}})
	register(p, op{name: "im server list", summary: "The servers of an Imunify key", risk: sdk.RiskReadOnly,
		params: []sdk.Param{keyParam("The Imunify key"), revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List the key's servers", c.EPIMServerList(a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.IMServerList(ctx, a.String("key"))
			if err != nil {
				return err
			}
			t := r.AddTable("Imunify servers of "+keyText(a, a.String("key")), "id", "ip", "last check-in")
			for _, s := range ss {
				t.Row(s.ID, s.IP, s.LastCheckin)
			}
			return nil
		}})
	register(p, op{name: "im server remove", summary: "Remove an Imunify server", risk: sdk.RiskHigh, params: []sdk.Param{idParam("The server's id")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Remove Imunify server "+a.String("id"), c.EPIMServerRemove(a.String("id")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			s, err := c.IMServerRemove(ctx, a.String("id"))
			if err != nil {
				return err
			}
			r.AddText("Removed Imunify server %s.", s.ID)
			return nil
		}})
	register(p, op{name: "im server convert", summary: "Move an Imunify server to another key (licence type)", risk: sdk.RiskHigh,
		help:     "To upgrade a server from single user to up to 30 users, move it to a key of that type. Billing.",
		params:   []sdk.Param{idParam("The server's id"), sdk.String("key", "The key to move it to").AsRequired()},
		examples: []string{"/cln im server convert SSERVER_ID_1 key=IMUNOTHERKEY"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Move Imunify server "+a.String("id")+" to key "+keyText(nil, a.String("key")), c.EPIMServerConvert(a.String("id"), a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			s, err := c.IMServerConvert(ctx, a.String("id"), a.String("key"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Server moved", "server", s.ID, "key", keyText(a, s.Key))
			return nil
		}})
}

func imUpdate(a sdk.Args) (limit *int64, note *string, servers *int64) {
	if a.Has("limit") {
		v := a.Int("limit")
		limit = &v
	}
	if a.Has("note") {
		v := a.String("note")
		note = &v
	}
	if a.Has("servers") {
		v := a.Int("servers")
		servers = &v
	}
	return
}

// --- IP licences ------------------------------------------------------------------------

func registerIPL(p *sdk.Plugin) {
	ip := sdk.IP("ip", "The server's IP address").AsRequired().AsPositional()
	typ := licenceParam("type", "Licence type, by code or name").AsRequired()
	register(p, op{name: "ipl availability", summary: "Which licence types an IP can take, and which the account holds", risk: sdk.RiskReadOnly,
		params: []sdk.Param{ip}, examples: []string{"/cln ipl availability 203.0.113.7"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Check licence availability on "+a.String("ip"), c.EPIPLAvailability(a.String("ip")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			av, err := c.IPLAvailability(ctx, a.String("ip"))
			if err != nil {
				return err
			}
			r.AddKeyValues(a.String("ip"), "available", typesText(av.Available), "held by this account", typesText(av.Owned))
			return nil
		}})
	register(p, op{name: "ipl check", summary: "The licence types registered on an IP, by anyone", risk: sdk.RiskReadOnly,
		params: []sdk.Param{ip}, examples: []string{"/cln ipl check 203.0.113.7"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Check the licences on "+a.String("ip"), c.EPIPLCheck(a.String("ip")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			types, err := c.IPLCheck(ctx, a.String("ip"))
			if err != nil {
				return err
			}
			if len(types) == 0 {
				r.AddText("%s has no IP licence.", a.String("ip"))
				return nil
			}
			r.AddKeyValues(a.String("ip"), "registered types", typesText(types))
			return nil
		}})
	register(p, op{name: "ipl register", summary: "Register an IP licence", risk: sdk.RiskHigh,
		help:     "If the IP already holds this type for the account, CLN returns the existing licence. Billing.",
		params:   []sdk.Param{ip, typ, sdk.Bool("els_allowed", "Allow CloudLinux 6 (ELS) registration")},
		examples: []string{"/cln ipl register 203.0.113.7 type=kernelcare"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			t, _ := strconv.Atoi(a.String("type"))
			return planOf(fmt.Sprintf("Register a %s licence (type %d) on %s", licenceName(t), t, a.String("ip")), c.EPIPLRegister(a.String("ip"), t, optBool(a, "els_allowed")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			t, _ := strconv.Atoi(a.String("type"))
			l, err := c.IPLRegister(ctx, a.String("ip"), t, optBool(a, "els_allowed"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Licence registered", "ip", l.IP, "type", fmt.Sprintf("%d (%s)", l.Type, licenceName(l.Type)), "server registered in CLN", yesNo(l.Registered), "created", l.Created)
			return nil
		}})
	register(p, op{name: "ipl convert", summary: "Change an Imunify IP licence's type", risk: sdk.RiskHigh,
		help:   "Upgrades only to Imunify360 IP licences; ImunifyIP licences go up or down. Billing.",
		params: []sdk.Param{ip, licenceParam("type", "The current type").AsRequired(), licenceParam("to", "The new type").AsRequired().WithAliases("type_to")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			from, _ := strconv.Atoi(a.String("type"))
			to, _ := strconv.Atoi(a.String("to"))
			return planOf(fmt.Sprintf("Change %s's licence from %s to %s", a.String("ip"), licenceName(from), licenceName(to)), c.EPIPLConvert(a.String("ip"), from, to))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			from, _ := strconv.Atoi(a.String("type"))
			to, _ := strconv.Atoi(a.String("to"))
			if err := c.IPLConvert(ctx, a.String("ip"), from, to); err != nil {
				return err
			}
			r.AddText("%s now holds a %s licence.", a.String("ip"), licenceName(to))
			return nil
		}})
	register(p, op{name: "ipl remove", summary: "Remove one licence type from an IP", risk: sdk.RiskHigh,
		help:   "The type is required: CLN removes every licence on the IP when it is left out, so this command never leaves it out.",
		params: []sdk.Param{ip, typ}, examples: []string{"/cln ipl remove 203.0.113.7 type=16"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			t, _ := strconv.Atoi(a.String("type"))
			return planOf(fmt.Sprintf("Remove the %s licence (type %d) from %s", licenceName(t), t, a.String("ip")), c.EPIPLRemove(a.String("ip"), t))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			t, _ := strconv.Atoi(a.String("type"))
			if err := c.IPLRemove(ctx, a.String("ip"), t); err != nil {
				return err
			}
			r.AddText("Removed the %s licence from %s.", licenceName(t), a.String("ip"))
			return nil
		}})
	register(p, op{name: "ipl list", summary: "The account's IP licences", risk: sdk.RiskReadOnly,
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List IP licences", c.EPIPLList())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ls, err := c.IPLList(ctx)
			if err != nil {
				return err
			}
			t := r.AddTable("IP licences", "ip", "type", "product", "registered", "created")
			for _, l := range ls {
				t.Row(l.IP, strconv.Itoa(l.Type), licenceName(l.Type), yesNo(l.Registered), l.Created)
			}
			return nil
		}})
	register(p, op{name: "ipl server", summary: "The account's licences on some IPs, with server information", risk: sdk.RiskReadOnly,
		help:   "Up to 100 IPs a call in the newer reference; the older one takes one IP a call, so one call is made per IP.",
		params: []sdk.Param{sdk.IP("ip", "IP addresses").AsRequired().AsPositional().AsRepeated()},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			ips := a.Strings("ip")
			var eps []client.Endpoint
			step := client.MaxServerIPs
			if c.Edition() == client.Older {
				step = 1
			}
			for i := 0; i < len(ips); i += step {
				eps = append(eps, c.EPIPLServer(ips[i:min(i+step, len(ips))]))
			}
			return fmt.Sprintf("Read server information for %d IP(s)", len(ips)), eps, 0, nil
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ls, err := c.IPLServer(ctx, a.Strings("ip"))
			if err != nil {
				return err
			}
			t := r.AddTable("Licences", "ip", "type", "product", "server", "last check-in", "created")
			for _, l := range ls {
				t.Row(l.IP, strconv.Itoa(l.Type), licenceName(l.Type), l.ServerInfo, l.LastCheckin, l.Created)
			}
			return nil
		}})
	register(p, op{name: "ipl update", summary: "Allow or forbid CloudLinux 6 (ELS) registration on an IP licence", risk: sdk.RiskLow,
		help:   "Without a type, every licence on the IP is updated.",
		params: []sdk.Param{ip, sdk.Bool("els_allowed", "Allow CloudLinux 6 registration").AsRequired(), licenceParam("type", "Only this licence type")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			t, _ := strconv.Atoi(a.String("type"))
			return planOf(fmt.Sprintf("Set els_allowed=%v on %s", a.Bool("els_allowed"), a.String("ip")), c.EPIPLUpdate(a.String("ip"), t, a.Bool("els_allowed")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			t, _ := strconv.Atoi(a.String("type"))
			if err := c.IPLUpdate(ctx, a.String("ip"), t, a.Bool("els_allowed")); err != nil {
				return err
			}
			r.AddText("Updated the licence on %s: ELS registration %s.", a.String("ip"), map[bool]string{true: "allowed", false: "not allowed"}[a.Bool("els_allowed")])
			return nil
		}})
}

func optBool(a sdk.Args, name string) *bool {
	if !a.Has(name) {
		return nil
	}
	v := a.Bool(name)
	return &v
}

// --- KernelCare -----------------------------------------------------------------------------

func registerKC(p *sdk.Plugin) {
	register(p, op{name: "kcare key create", summary: "Create a KernelCare key", risk: sdk.RiskHigh, sensitive: true, help: "Billing.",
		params:   []sdk.Param{limitParam(), sdk.String("note", "A description, up to 100 characters")},
		examples: []string{"/cln kcare key create limit=5 note=\"customer 42\""},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			if len([]rune(a.String("note"))) > 100 {
				return "", nil, 0, sdk.BadArg("note", "at most 100 characters")
			}
			return planOf("Create a KernelCare key for "+limitText(a.Int("limit"))+" servers", c.EPKCKeyCreate(a.Int("limit"), a.String("note")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			k, err := c.KCKeyCreate(ctx, a.Int("limit"), a.String("note"))
			if err != nil {
				return err
			}
			r.AddKeyValues("KernelCare key created", "key", k, "limit", limitText(a.Int("limit")), "note", a.String("note"))
			return nil
		}})
	register(p, op{name: "kcare key delete", summary: "Delete a KernelCare key", risk: sdk.RiskHigh, params: []sdk.Param{keyParam("The KernelCare key")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Delete the KernelCare key "+keyText(nil, a.String("key")), c.EPKCKeyDelete(a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			if err := c.KCKeyDelete(ctx, a.String("key")); err != nil {
				return err
			}
			r.AddText("Deleted the KernelCare key %s.", keyText(a, a.String("key")))
			return nil
		}})
	register(p, op{name: "kcare key list", summary: "The account's KernelCare keys", risk: sdk.RiskReadOnly, params: []sdk.Param{revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List KernelCare keys", c.EPKCKeyList())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ks, err := c.KCKeyList(ctx)
			if err != nil {
				return err
			}
			t := r.AddTable("KernelCare keys", "key", "enabled", "limit", "created", "note")
			for _, k := range ks {
				t.Row(keyText(a, k.Key), yesNo(k.Enabled), limitText(int64(k.Limit)), k.Created, string(k.Note))
			}
			return nil
		}})
	register(p, op{name: "kcare key servers", summary: "The servers registered with a KernelCare key", risk: sdk.RiskReadOnly,
		params: []sdk.Param{keyParam("The KernelCare key"), revealParam},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List the key's servers", c.EPKCKeyServers(a.String("key")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.KCKeyServers(ctx, a.String("key"))
			if err != nil {
				return err
			}
			t := r.AddTable("Servers of "+keyText(a, a.String("key")), "server id", "ip", "registered", "last check-in")
			for _, s := range ss {
				t.Row(s.ServerID, s.IP, s.Created, s.LastCheckin)
			}
			return nil
		}})
	register(p, op{name: "kcare key set-cidr", summary: "Set the networks a KernelCare key may register from", risk: sdk.RiskLow,
		params:   []sdk.Param{keyParam("The KernelCare key"), sdk.CIDR("cidr", "Allowed networks").AsRequired().AsRepeated()},
		examples: []string{"/cln kcare key set-cidr WsTs821nSAtiastD cidr=203.0.113.0/24,198.51.100.0/24"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Allow registration from "+strings.Join(a.Strings("cidr"), ", "), c.EPKCKeySetCIDR(a.String("key"), a.Strings("cidr")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			if err := c.KCKeySetCIDR(ctx, a.String("key"), a.Strings("cidr")); err != nil {
				return err
			}
			r.AddText("The key may now register servers from %s.", strings.Join(a.Strings("cidr"), ", "))
			return nil
		}})
	register(p, op{name: "kcare server remove", summary: "Remove a KernelCare server", risk: sdk.RiskHigh,
		params: []sdk.Param{sdk.String("server_id", "The server's id").AsRequired().AsPositional().WithAliases("id")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Remove KernelCare server "+a.String("server_id"), c.EPKCServerRemove(a.String("server_id")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			s, err := c.KCServerRemove(ctx, a.String("server_id"))
			if err != nil {
				return err
			}
			r.AddText("Removed KernelCare server %s (key %s).", s.ServerID, keyText(a, s.Key))
			return nil
		}})
	register(p, op{name: "kcare nagios", summary: "Whether every server of a monitoring key is up to date", risk: sdk.RiskReadOnly,
		help:   "Registering a monitoring key (nagios/register_key.plain) is not offered: it registers the caller's own IP, which would be the bot's.",
		params: []sdk.Param{sdk.String("key_id", "The monitoring key").AsRequired().AsPositional()},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Check the monitoring key's servers", c.EPKCNagios(a.String("key_id")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			text, good, err := c.KCNagios(ctx, a.String("key_id"))
			if err != nil {
				return err
			}
			nagiosResult(r, text, good)
			return nil
		}})
	register(p, op{name: "kcare nagios reseller", summary: "Whether every server of the reseller is up to date", risk: sdk.RiskReadOnly,
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Check all the reseller's KernelCare servers", c.EPKCNagiosReseller())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			text, good, err := c.KCNagiosReseller(ctx)
			if err != nil {
				return err
			}
			nagiosResult(r, text, good)
			return nil
		}})
}

func nagiosResult(r *sdk.Result, text string, good bool) {
	state := "all up to date"
	if !good {
		state = "ALERT"
	}
	r.AddKeyValues("KernelCare", "state", state, "report", text)
	if !good {
		r.Warn("some servers are out of date, unsupported or inactive")
	}
}
