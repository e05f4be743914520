package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/sdk"
)

func registerGroups(p *sdk.Plugin) {
	name := sdk.String("name", "The group's name").AsRequired().AsPositional()
	servers := sdk.String("servers", "Server ids").AsRequired().AsRepeated().WithAliases("server_ids")
	register(p, op{name: "group create", summary: "Create a server group for Imunify and KernelCare servers", risk: sdk.RiskLow,
		params: []sdk.Param{name, sdk.String("description", "What the group is for")},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Create the group "+a.String("name"), c.EPGroupCreate(a.String("name"), a.String("description")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			g, err := c.GroupCreate(ctx, a.String("name"), a.String("description"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Group created", "name", g.Name, "description", string(g.Description))
			return nil
		}})
	register(p, op{name: "group list", summary: "The account's server groups", risk: sdk.RiskReadOnly,
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List server groups", c.EPGroupList())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			gs, err := c.GroupList(ctx)
			if err != nil {
				return err
			}
			t := r.AddTable("Server groups", "name", "description")
			for _, g := range gs {
				t.Row(g.Name, string(g.Description))
			}
			return nil
		}})
	register(p, op{name: "group servers", summary: "The servers in a group", risk: sdk.RiskReadOnly, params: []sdk.Param{name},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List the servers in "+a.String("name"), c.EPGroupServers(a.String("name")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.GroupServers(ctx, a.String("name"))
			if err != nil {
				return err
			}
			groupTable(r, "Servers in "+a.String("name"), ss)
			return nil
		}})
	register(p, op{name: "group add", summary: "Add servers to a group", risk: sdk.RiskLow, params: []sdk.Param{name, servers},
		examples: []string{"/cln group add web servers=SERVER-1,SERVER-2"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Add %d server(s) to %s", len(a.Strings("servers")), a.String("name")), c.EPGroupPut(a.String("name"), a.Strings("servers")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.GroupPut(ctx, a.String("name"), a.Strings("servers"))
			if err != nil {
				return err
			}
			groupTable(r, "Added to "+a.String("name"), ss)
			return nil
		}})
	register(p, op{name: "group remove", summary: "Take servers out of a group (the servers stay)", risk: sdk.RiskLow, params: []sdk.Param{name, servers},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Take %d server(s) out of %s", len(a.Strings("servers")), a.String("name")), c.EPGroupRemove(a.String("name"), a.Strings("servers")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ss, err := c.GroupRemove(ctx, a.String("name"), a.Strings("servers"))
			if err != nil {
				return err
			}
			groupTable(r, "Taken out of "+a.String("name"), ss)
			return nil
		}})
}

func groupTable(r *sdk.Result, title string, ss []client.GroupServer) {
	t := r.AddTable(title, "id", "host", "ip", "type")
	for _, s := range ss {
		t.Row(s.ID, s.HostName, s.IP, s.Type)
	}
}

func registerBackups(p *sdk.Plugin) {
	const ed = "\n\nCloudLinux Backups appear in the older reference only."
	backupID := sdk.Int("backup", "The backup's id").AsRequired().AsPositional().AtLeast(1).WithAliases("backup_id")
	register(p, op{name: "ab list", summary: "The account's CloudLinux Backups", risk: sdk.RiskReadOnly, help: ed,
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List backups", c.EPABList())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			bs, err := c.ABList(ctx)
			if err != nil {
				return err
			}
			t := r.AddTable("Backups", "backup", "server", "size (GB)", "datacenter")
			for _, b := range bs {
				t.Row(strconv.FormatInt(int64(b.BackupID), 10), b.ServerID, strconv.FormatInt(int64(b.Size), 10), b.Datacenter)
			}
			return nil
		}})
	register(p, op{name: "ab create", summary: "Create a CloudLinux Backup for an Imunify360 server", risk: sdk.RiskHigh, help: "Billing." + ed,
		params: []sdk.Param{sdk.String("server", "The Imunify360 server's id").AsRequired().WithAliases("server_id"),
			sdk.Int("size", "Size in GB, a multiple of ten").AsRequired().AtLeast(10), sdk.String("datacenter", "Datacenter alias (EU2, ...)").AsRequired()},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			if a.Int("size")%10 != 0 {
				return "", nil, 0, sdk.BadArg("size", "%d is not a multiple of ten", a.Int("size"))
			}
			return planOf(fmt.Sprintf("Create a %d GB backup for %s in %s", a.Int("size"), a.String("server"), a.String("datacenter")), c.EPABCreate(a.String("server"), a.Int("size"), a.String("datacenter")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			b, err := c.ABCreate(ctx, a.String("server"), a.Int("size"), a.String("datacenter"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Backup created", "backup", strconv.FormatInt(int64(b.BackupID), 10), "server", b.ServerID, "size (GB)", strconv.FormatInt(int64(b.Size), 10), "datacenter", b.Datacenter)
			return nil
		}})
	register(p, op{name: "ab resize", summary: "Grow or shrink a backup", risk: sdk.RiskHigh,
		help:   "delta is in GB, a multiple of ten; a negative delta shrinks the backup and may lose data, so it is critical. Billing." + ed,
		params: []sdk.Param{backupID, sdk.Int("delta", "GB to add (negative to shrink), a multiple of ten").AsRequired()},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			d := a.Int("delta")
			if d == 0 || d%10 != 0 {
				return "", nil, 0, sdk.BadArg("delta", "%d is not a non-zero multiple of ten", d)
			}
			if d < 0 {
				return fmt.Sprintf("SHRINK backup %d by %d GB: data beyond the new size may be lost", a.Int("backup"), -d),
					[]client.Endpoint{c.EPABResize(a.Int("backup"), d)}, sdk.RiskCritical, nil
			}
			return planOf(fmt.Sprintf("Grow backup %d by %d GB", a.Int("backup"), d), c.EPABResize(a.Int("backup"), d))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			b, err := c.ABResize(ctx, a.Int("backup"), a.Int("delta"))
			if err != nil {
				return err
			}
			r.AddKeyValues("Backup resized", "backup", strconv.FormatInt(int64(b.BackupID), 10), "size (GB)", strconv.FormatInt(int64(b.Size), 10))
			return nil
		}})
	register(p, op{name: "ab remove", summary: "Remove a backup", risk: sdk.RiskHigh, help: ed, params: []sdk.Param{backupID},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Remove backup %d and its data", a.Int("backup")), c.EPABRemove(a.Int("backup")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			b, err := c.ABRemove(ctx, a.Int("backup"))
			if err != nil {
				return err
			}
			r.AddText("Removed backup %d of server %s.", int64(b.BackupID), b.ServerID)
			return nil
		}})
}

var yearMonthRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

func registerBilling(p *sdk.Plugin) {
	const ed = "\n\nNewer reference only."
	register(p, op{name: "awp billing", summary: "What AccelerateWP bills for a month", risk: sdk.RiskReadOnly, help: ed,
		params: []sdk.Param{
			sdk.Enum("products", "Products", "AWP_PREMIUM", "AWP_CDN").AsRepeated().WithDefault("AWP_PREMIUM").WithAliases("product"),
			sdk.String("month", "The month, yyyy-MM").AsRequired().AsPositional().WithAliases("yearMonth"),
		},
		examples: []string{"/cln awp billing 2023-12 products=AWP_PREMIUM,AWP_CDN"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			if !yearMonthRE.MatchString(a.String("month")) {
				return "", nil, 0, sdk.BadArg("month", "%q is not a month like 2023-12", a.String("month"))
			}
			return planOf("Read AccelerateWP billing for "+a.String("month"), c.EPAWPBilling(a.Strings("products"), a.String("month")))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			if !yearMonthRE.MatchString(a.String("month")) {
				return sdk.BadArg("month", "%q is not a month like 2023-12", a.String("month"))
			}
			es, err := c.AWPBilling(ctx, a.Strings("products"), a.String("month"))
			if err != nil {
				return err
			}
			t := r.AddTable("AccelerateWP "+a.String("month"), "product", "domain", "user", "CDN limit")
			for _, e := range es {
				user := ""
				if e.Username != nil {
					user = *e.Username
				}
				t.Row(e.Product, e.PrimaryDomain, user, e.CDNLimitType)
			}
			return nil
		}})
	register(p, op{name: "features list", summary: "The account-level features CLN supports", risk: sdk.RiskReadOnly, help: ed,
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("List features", c.EPFeatures())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			fs, err := c.Features(ctx)
			if err != nil {
				return err
			}
			t := r.AddTable("Features", "feature", "applies to products")
			for _, f := range fs {
				var ids []string
				for _, id := range f.ApplicableProductIDs {
					ids = append(ids, strconv.Itoa(id))
				}
				t.Row(strconv.Itoa(f.FeatureID), strings.Join(ids, ", "))
			}
			return nil
		}})
	register(p, op{name: "features account", summary: "The account's feature settings (Imunify Email)", risk: sdk.RiskReadOnly, help: ed,
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf("Read the account's features", c.EPAccountFeatures())
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			fs, err := c.AccountFeatures(ctx)
			if err != nil {
				return err
			}
			ids := make([]string, 0, len(fs))
			for id := range fs {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			var kv []string
			for _, id := range ids {
				kv = append(kv, id, fs[id])
			}
			r.AddKeyValues("Account features", kv...)
			return nil
		}})
	register(p, op{name: "features set", summary: "Enable, disable or unset an account-level feature", risk: sdk.RiskLow, help: "Other features are left as they are." + ed,
		params: []sdk.Param{
			sdk.Int("feature", "The feature's id (4600 is Imunify Email)").AsRequired().AsPositional().AtLeast(1),
			sdk.Enum("state", "The new setting", "ENABLED", "DISABLED", "UNSET").AsRequired().AsPositional(),
		},
		examples: []string{"/cln features set 4600 enabled"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			return planOf(fmt.Sprintf("Set feature %d to %s", a.Int("feature"), a.String("state")), c.EPSetAccountFeatures(map[string]string{strconv.FormatInt(a.Int("feature"), 10): a.String("state")}))
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			id := strconv.FormatInt(a.Int("feature"), 10)
			fs, err := c.SetAccountFeatures(ctx, map[string]string{id: a.String("state")})
			if err != nil {
				return err
			}
			r.AddKeyValues("Feature set", "feature", id, "now", fs[id])
			return nil
		}})
}

// --- Composites ------------------------------------------------------------------------------

func registerComposites(p *sdk.Plugin) {
	register(p, op{name: "ip info", summary: "Everything about an IP: who holds which licences, what is available, the server", risk: sdk.RiskReadOnly,
		params: []sdk.Param{sdk.IP("ip", "The IP address").AsRequired().AsPositional()}, examples: []string{"/cln ip info 203.0.113.10"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			ip := a.String("ip")
			return "Read the licences, availability and server of " + ip, []client.Endpoint{c.EPIPLCheck(ip), c.EPIPLAvailability(ip), c.EPIPLServer([]string{ip})}, 0, nil
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			ip := a.String("ip")
			types, err := c.IPLCheck(ctx, ip)
			if err != nil {
				return err
			}
			av, err := c.IPLAvailability(ctx, ip)
			if err != nil {
				return err
			}
			mine, err := c.IPLServer(ctx, []string{ip})
			if err != nil {
				return err
			}
			var others []int
			for _, t := range types {
				owned := false
				for _, o := range av.Owned {
					owned = owned || o == t
				}
				if !owned {
					others = append(others, t)
				}
			}
			r.AddKeyValues(ip, "held by this account", typesText(av.Owned), "held by other customers", typesText(others), "available to register", typesText(av.Available))
			if len(mine) > 0 {
				t := r.AddTable("This account's licences on "+ip, "type", "product", "server", "last check-in", "created")
				for _, l := range mine {
					t.Row(strconv.Itoa(l.Type), licenceName(l.Type), l.ServerInfo, l.LastCheckin, l.Created)
				}
			}
			return nil
		}})
	register(p, op{name: "key find", summary: "Which product a licence key belongs to, and its servers", risk: sdk.RiskReadOnly,
		help: "Searches KernelCare, Imunify and CloudLinux (v2) keys, and ELS keys when the key's prefix names the product (CELS-…). " +
			"The API cannot search ELS keys of unknown product.",
		params: []sdk.Param{keyParam("The licence key"), revealParam}, examples: []string{"/cln key find WsTs821nSAtiastD"},
		plan: func(c *client.Client, a sdk.Args) (string, []client.Endpoint, sdk.Risk, error) {
			eps := []client.Endpoint{c.EPKCKeyList(), c.EPIMKeyList()}
			for _, p := range clProducts {
				eps = append(eps, c.EPCLKeyList(p.Value))
			}
			if prod := elsPrefix(a.String("key")); prod != "" {
				eps = append(eps, c.EPELSKeyList(prod))
			}
			return "Look for the key in each product's key list", eps, 0, nil
		},
		run: func(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
			return findKey(ctx, c, a, r)
		}})
}

// elsPrefix returns the ELS product a key's prefix names ("CELS-abc").
func elsPrefix(key string) string {
	prefix, _, found := strings.Cut(key, "-")
	if !found {
		return ""
	}
	for _, p := range elsProducts {
		if strings.EqualFold(p.Value, prefix) {
			return p.Value
		}
	}
	return ""
}

func findKey(ctx context.Context, c *client.Client, a sdk.Args, r *sdk.Result) error {
	key := a.String("key")
	shown := keyText(a, key)
	kcs, err := c.KCKeyList(ctx)
	if err != nil {
		return err
	}
	for _, k := range kcs {
		if k.Key == key {
			ss, err := c.KCKeyServers(ctx, key)
			if err != nil {
				return err
			}
			r.AddKeyValues("KernelCare key", "key", shown, "enabled", yesNo(k.Enabled), "limit", limitText(int64(k.Limit)), "servers", strconv.Itoa(len(ss)), "note", string(k.Note))
			return nil
		}
	}
	ims, err := c.IMKeyList(ctx)
	if err != nil {
		return err
	}
	for _, k := range ims {
		if k.Key == key {
			r.AddKeyValues("Imunify key", "key", shown, "licence", k.Code, "limit", limitText(int64(k.Limit)), "servers", strconv.FormatInt(int64(k.Servers), 10))
			return nil
		}
	}
	for _, p := range clProducts {
		ks, err := c.CLKeyList(ctx, p.Value)
		if err != nil {
			var ae *client.APIError
			if errors.As(err, &ae) {
				continue // a product the account cannot list
			}
			return err
		}
		for _, k := range ks {
			if k.Key == key {
				r.AddKeyValues("CloudLinux key", "key", shown, "product", p.Value+" ("+p.Description+")", "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
				return nil
			}
		}
	}
	if prod := elsPrefix(key); prod != "" {
		ks, err := c.ELSKeyList(ctx, prod)
		if err != nil {
			return err
		}
		for _, k := range ks {
			if k.Key == key {
				r.AddKeyValues("ELS key", "key", shown, "product", k.ProductCode, "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
				return nil
			}
		}
	}
	return fmt.Errorf("no key %s in this account's KernelCare, Imunify, CloudLinux or ELS keys", shown)
}
