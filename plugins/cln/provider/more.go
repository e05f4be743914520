package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/cln/client"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
)

// --- Server groups -----------------------------------------------------------------------

var (
	groupName    = sdk.String("name", "The group's name").AsRequired().AsPositional().AsResource()
	groupServers = sdk.String("servers", "Server ids").AsRequired().AsRepeated().WithAliases("server_ids")
)

func groupCommands() []op {
	return []op{groupCreate(), groupList(), groupServerList(), groupAdd(), groupRemove()}
}

func groupCreate() op {
	return one(op{Name: "group create", Summary: "Create a server group for Imunify and KernelCare servers", Risk: sdk.RiskLow,
		Params: []sdk.Param{groupName, sdk.FreeText("description", "What the group is for")}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Group], error) {
			return "Create the group " + a.String("name"), c.EPGroupCreate(a.String("name"), a.String("description")), nil
		},
		func(a sdk.Args, g client.Group, out *sdk.Result) {
			out.AddKeyValues("Group created", "name", g.Name, "description", string(g.Description))
		})
}

func groupList() op {
	return one(op{Name: "group list", Summary: "The account's server groups", Risk: sdk.RiskReadOnly},
		fixed("List server groups", (*client.Client).EPGroupList),
		func(a sdk.Args, gs []client.Group, out *sdk.Result) {
			t := out.AddTable("Server groups", "name", "description")
			for _, g := range gs {
				t.Row(g.Name, string(g.Description))
			}
		})
}

func groupServerList() op {
	return one(op{Name: "group servers", Summary: "The servers in a group", Risk: sdk.RiskReadOnly, Params: []sdk.Param{groupName}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.GroupServer], error) {
			return "List the servers in " + a.String("name"), c.EPGroupServers(a.String("name")), nil
		},
		groupTable("Servers in "))
}

func groupAdd() op {
	return one(op{Name: "group add", Summary: "Add servers to a group", Risk: sdk.RiskLow, Params: []sdk.Param{groupName, groupServers},
		Examples: []string{"/cln group add web servers=SERVER-1,SERVER-2"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.GroupServer], error) {
			return fmt.Sprintf("Add %d server(s) to %s", len(a.Strings("servers")), a.String("name")), c.EPGroupPut(a.String("name"), a.Strings("servers")), nil
		},
		groupTable("Added to "))
}

func groupRemove() op {
	return one(op{Name: "group remove", Summary: "Take servers out of a group (the servers stay)", Risk: sdk.RiskLow, Params: []sdk.Param{groupName, groupServers}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.GroupServer], error) {
			return fmt.Sprintf("Take %d server(s) out of %s", len(a.Strings("servers")), a.String("name")), c.EPGroupRemove(a.String("name"), a.Strings("servers")), nil
		},
		groupTable("Taken out of "))
}

// groupTable shows a group's servers under a title naming the group.
func groupTable(title string) func(sdk.Args, []client.GroupServer, *sdk.Result) {
	return func(a sdk.Args, ss []client.GroupServer, out *sdk.Result) {
		t := out.AddTable(title+a.String("name"), "id", "host", "ip", "type")
		for _, s := range ss {
			t.Row(s.ID, s.HostName, s.IP, s.Type)
		}
	}
}

// --- CloudLinux Backups ------------------------------------------------------------------

const backupsOlderOnly = "\n\nCloudLinux Backups appear in the older reference only."

var backupID = sdk.Int("backup", "The backup's id").AsRequired().AsPositional().AtLeast(1).WithAliases("backup_id").AsResource()

func backupCommands() []op {
	return []op{abList(), abCreate(), abResize(), abRemove()}
}

func abList() op {
	return one(op{Name: "ab list", Summary: "The account's CloudLinux Backups", Risk: sdk.RiskReadOnly, Help: backupsOlderOnly},
		fixed("List backups", (*client.Client).EPABList),
		func(a sdk.Args, bs []client.Backup, out *sdk.Result) {
			t := out.AddTable("Backups", "backup", "server", "size (GB)", "datacenter")
			for _, b := range bs {
				t.Row(itoa(b.BackupID), b.ServerID, itoa(b.Size), b.Datacenter)
			}
		})
}

func abCreate() op {
	return one(op{Name: "ab create", Summary: "Create a CloudLinux Backup for an Imunify360 server", Risk: sdk.RiskHigh, Help: "Billing." + backupsOlderOnly,
		Params: []sdk.Param{sdk.String("server", "The Imunify360 server's id").AsRequired().WithAliases("server_id"),
			sdk.Int("size", "Size in GB, a multiple of ten").AsRequired().AtLeast(10), sdk.String("datacenter", "Datacenter alias (EU2, ...)").AsRequired()}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Backup], error) {
			if a.Int("size")%10 != 0 {
				return "", client.Call[client.Backup]{}, sdk.BadArg("size", "%d is not a multiple of ten", a.Int("size"))
			}
			return fmt.Sprintf("Create a %d GB backup for %s in %s", a.Int("size"), a.String("server"), a.String("datacenter")), c.EPABCreate(a.String("server"), a.Int("size"), a.String("datacenter")), nil
		},
		func(a sdk.Args, b client.Backup, out *sdk.Result) {
			out.AddKeyValues("Backup created", "backup", itoa(b.BackupID), "server", b.ServerID, "size (GB)", itoa(b.Size), "datacenter", b.Datacenter)
		})
}

// abResize is planned from the backup's size now: a delta approved for a
// 10 GB backup means something else for a 100 GB one. Shrinking may lose
// data, so it is critical.
func abResize() op {
	o := one(op{Name: "ab resize", Summary: "Grow or shrink a backup", Risk: sdk.RiskHigh,
		Help:   "delta is in GB, a multiple of ten; a negative delta shrinks the backup and may lose data, so it is critical. Billing." + backupsOlderOnly,
		Params: []sdk.Param{backupID, sdk.Int("delta", "GB to add (negative to shrink), a multiple of ten").AsRequired()}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Backup], error) {
			b, d := a.Int("backup"), a.Int("delta")
			if d == 0 || d%10 != 0 {
				return "", client.Call[client.Backup]{}, sdk.BadArg("delta", "%d is not a non-zero multiple of ten", d)
			}
			summary := fmt.Sprintf("Grow backup %d by %d GB", b, d)
			if d < 0 {
				summary = fmt.Sprintf("SHRINK backup %d by %d GB: data beyond the new size may be lost", b, -d)
			}
			return summary, c.EPABResize(b, d), nil
		},
		func(a sdk.Args, b client.Backup, out *sdk.Result) {
			out.AddKeyValues("Backup resized", "backup", itoa(b.BackupID), "size (GB)", itoa(b.Size))
		})
	o = amended(o, func(ctx context.Context, c *client.Client, a sdk.Args, w *work) error {
		if a.Int("delta") < 0 {
			w.Risk = sdk.RiskCritical
		}
		return nil
	})
	return planningFrom(o, backupNow)
}

// abRemove is planned from the backup as it is: its server and size.
func abRemove() op {
	return planningFrom(one(op{Name: "ab remove", Summary: "Remove a backup", Risk: sdk.RiskHigh, Help: backupsOlderOnly, Params: []sdk.Param{backupID}},
		func(c *client.Client, a sdk.Args) (string, client.Call[client.Backup], error) {
			return fmt.Sprintf("Remove backup %d and its data", a.Int("backup")), c.EPABRemove(a.Int("backup")), nil
		},
		func(a sdk.Args, b client.Backup, out *sdk.Result) {
			out.AddText("Removed backup %d of server %s.", int64(b.BackupID), b.ServerID)
		}), backupNow)
}

// backupNow says what the backup of the arguments is now.
func backupNow(ctx context.Context, c *client.Client, a sdk.Args) (string, error) {
	bs, err := c.ABList(ctx)
	if err != nil {
		return "", err
	}
	for _, b := range bs {
		if int64(b.BackupID) == a.Int("backup") {
			return fmt.Sprintf("backup %d: server %s, %d GB in %s", b.BackupID, b.ServerID, b.Size, b.Datacenter), nil
		}
	}
	return fmt.Sprintf("backup %d: none", a.Int("backup")), nil
}

// --- AccelerateWP and features -------------------------------------------------------------

const newerOnly = "\n\nNewer reference only."

var yearMonthRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

func billingCommands() []op {
	return []op{awpBilling(), featuresList(), featuresAccount(), featuresSet()}
}

func awpBilling() op {
	return one(op{Name: "awp billing", Summary: "What AccelerateWP bills for a month", Risk: sdk.RiskReadOnly, Help: newerOnly,
		Params: []sdk.Param{
			sdk.Enum("products", "Products", "AWP_PREMIUM", "AWP_CDN").AsRepeated().WithDefault("AWP_PREMIUM").WithAliases("product"),
			sdk.String("month", "The month, yyyy-MM").AsRequired().AsPositional().WithAliases("yearMonth"),
		},
		Examples: []string{"/cln awp billing 2023-12 products=AWP_PREMIUM,AWP_CDN"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[[]client.AWPEntry], error) {
			if !yearMonthRE.MatchString(a.String("month")) {
				return "", client.Call[[]client.AWPEntry]{}, sdk.BadArg("month", "%q is not a month like 2023-12", a.String("month"))
			}
			return "Read AccelerateWP billing for " + a.String("month"), c.EPAWPBilling(a.Strings("products"), a.String("month")), nil
		},
		func(a sdk.Args, es []client.AWPEntry, out *sdk.Result) {
			t := out.AddTable("AccelerateWP "+a.String("month"), "product", "domain", "user", "CDN limit")
			for _, e := range es {
				user := ""
				if e.Username != nil {
					user = *e.Username
				}
				t.Row(e.Product, e.PrimaryDomain, user, e.CDNLimitType)
			}
		})
}

func featuresList() op {
	return one(op{Name: "features list", Summary: "The account-level features CLN supports", Risk: sdk.RiskReadOnly, Help: newerOnly},
		fixed("List features", (*client.Client).EPFeatures),
		func(a sdk.Args, fs []client.Feature, out *sdk.Result) {
			t := out.AddTable("Features", "feature", "applies to products")
			for _, f := range fs {
				var ids []string
				for _, id := range f.ApplicableProductIDs {
					ids = append(ids, strconv.Itoa(id))
				}
				t.Row(strconv.Itoa(f.FeatureID), strings.Join(ids, ", "))
			}
		})
}

func featuresAccount() op {
	return one(op{Name: "features account", Summary: "The account's feature settings (Imunify Email)", Risk: sdk.RiskReadOnly, Help: newerOnly},
		fixed("Read the account's features", (*client.Client).EPAccountFeatures),
		func(a sdk.Args, fs map[string]string, out *sdk.Result) {
			var kv []string
			for _, id := range slices.Sorted(maps.Keys(fs)) {
				kv = append(kv, id, fs[id])
			}
			out.AddKeyValues("Account features", kv...)
		})
}

func featuresSet() op {
	return one(op{Name: "features set", Summary: "Enable, disable or unset an account-level feature", Risk: sdk.RiskLow, Help: "Other features are left as they are." + newerOnly,
		Params: []sdk.Param{
			sdk.Int("feature", "The feature's id (4600 is Imunify Email)").AsRequired().AsPositional().AtLeast(1).AsResource(),
			sdk.Enum("state", "The new setting", "ENABLED", "DISABLED", "UNSET").AsRequired().AsPositional(),
		},
		Examples: []string{"/cln features set 4600 enabled"}},
		func(c *client.Client, a sdk.Args) (string, client.Call[map[string]string], error) {
			return fmt.Sprintf("Set feature %d to %s", a.Int("feature"), a.String("state")), c.EPSetAccountFeatures(map[string]string{itoa(a.Int("feature")): a.String("state")}), nil
		},
		func(a sdk.Args, fs map[string]string, out *sdk.Result) {
			id := itoa(a.Int("feature"))
			out.AddKeyValues("Feature set", "feature", id, "now", fs[id])
		})
}

// --- Composites ------------------------------------------------------------------------------

func compositeCommands() []op {
	return []op{ipInfo(), keyFind()}
}

// ipInfo reads three answers about one IP, each a step of its own.
func ipInfo() op {
	return op{Name: "ip info", Summary: "Everything about an IP: who holds which licences, what is available, the server", Risk: sdk.RiskReadOnly,
		Params: []sdk.Param{sdk.IP("ip", "The IP address").AsRequired().AsPositional()}, Examples: []string{"/cln ip info 203.0.113.10"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ip := a.String("ip")
			return &work{Summary: "Read the licences, availability and server of " + ip, Steps: []step{
				named("read the licence types registered on "+ip, callStep(c.EPIPLCheck(ip))),
				named("read which types "+ip+" can take and which this account holds", callStep(c.EPIPLAvailability(ip))),
				named("read this account's licences on "+ip+" with their server", callStep(c.EPIPLServer([]string{ip}))),
			}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []any, out *sdk.Result) error {
			ip, types, av, mine := a.String("ip"), res[0].([]int), res[1].(client.Availability), res[2].([]client.IPLicense)
			var others []int
			for _, t := range types {
				if !containsInt(av.Owned, t) {
					others = append(others, t)
				}
			}
			out.AddKeyValues(ip, "held by this account", typesText(av.Owned), "held by other customers", typesText(others), "available to register", typesText(av.Available))
			if len(mine) > 0 {
				t := out.AddTable("This account's licences on "+ip, "type", "product", "server", "last check-in", "created")
				for _, l := range mine {
					t.Row(strconv.Itoa(l.Type), licenceName(l.Type), l.ServerInfo, l.LastCheckin, l.Created)
				}
			}
			return nil
		}}
}

func named(what string, s step) step {
	s.What = what
	return s
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

func keyFind() op {
	return op{Name: "key find", Summary: "Which product a licence key belongs to, and its servers", Risk: sdk.RiskReadOnly,
		Help: "Searches KernelCare, Imunify and CloudLinux (v2) keys, and ELS keys when the key's prefix names the product (CELS-…). " +
			"The API cannot search ELS keys of unknown product.",
		Params: []sdk.Param{keyParam("The licence key"), revealParam}, Examples: []string{"/cln key find WsTs821nSAtiastD"},
		Work: keyFindWork,
		Show: func(c *client.Client, a sdk.Args, res []any, out *sdk.Result) error {
			for _, r := range res {
				if h, ok := r.(*keyHit); ok && h != nil {
					out.AddKeyValues(h.title, h.kv...)
					return nil
				}
			}
			return fmt.Errorf("no key %s in this account's KernelCare, Imunify, CloudLinux or ELS keys", keyText(a, a.String("key")))
		}}
}

// keyHit is the key found: the part that shows it.
type keyHit struct {
	title string
	kv    []string
}

// keySearch is one run of key find. Its steps look in one product's keys
// each, in order; once the key is found, the steps after make no call.
// The plan shows every call the search may make.
type keySearch struct {
	a     sdk.Args
	key   string
	kc    *client.KCKey // the key, when it is a KernelCare key: its servers are counted next
	found bool
}

func keyFindWork(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
	s := &keySearch{a: a, key: a.String("key")}
	w := &work{Summary: "Look for the key in each product's key list", Steps: []step{
		searchStep(s.seeking, "look among the KernelCare keys", c.EPKCKeyList(), s.kernelCare),
		searchStep(s.kernelCareFound, "count the servers of the key, if it is a KernelCare key", c.EPKCKeyServers(s.key), s.kernelCareServers),
		searchStep(s.seeking, "look among the Imunify keys", c.EPIMKeyList(), s.imunify),
	}}
	for _, p := range clProducts {
		w.Steps = append(w.Steps, searchStep(s.seeking, "look among the "+p.Value+" keys", c.EPCLKeyList(p.Value), s.cloudLinux(p)))
	}
	if prod := elsPrefix(s.key); prod != "" {
		w.Steps = append(w.Steps, searchStep(s.seeking, "look among the "+prod+" keys", c.EPELSKeyList(prod), s.els))
	}
	return w, nil
}

// searchStep is a step of a key search: it makes its call only while
// wanted, and look reads the answer (or the failure) for the key. The key
// found ends the search.
func searchStep[T any](wanted func() bool, what string, k client.Call[T], look func(T, error) (*keyHit, error)) step {
	s := named(what, callStep(k))
	s.Do = func(ctx context.Context, _ *apiop.Run) (any, error) {
		if !wanted() {
			return nil, nil
		}
		h, err := look(k.Do(ctx))
		return h, err
	}
	return s
}

func (s *keySearch) seeking() bool         { return !s.found && s.kc == nil }
func (s *keySearch) kernelCareFound() bool { return !s.found && s.kc != nil }

// hit ends the search with the key found.
func (s *keySearch) hit(title string, kv ...string) (*keyHit, error) {
	s.found = true
	return &keyHit{title: title, kv: append([]string{"key", keyText(s.a, s.key)}, kv...)}, nil
}

func (s *keySearch) kernelCare(ks []client.KCKey, err error) (*keyHit, error) {
	for _, k := range ks {
		if k.Key == s.key {
			s.kc = &k
		}
	}
	return nil, err
}

func (s *keySearch) kernelCareServers(ss []client.KCServer, err error) (*keyHit, error) {
	if err != nil {
		return nil, err
	}
	k := s.kc
	return s.hit("KernelCare key", "enabled", yesNo(k.Enabled), "limit", limitText(int64(k.Limit)), "servers", strconv.Itoa(len(ss)), "note", string(k.Note))
}

func (s *keySearch) imunify(ks []client.IMKey, err error) (*keyHit, error) {
	for _, k := range ks {
		if k.Key == s.key {
			return s.hit("Imunify key", "licence", k.Code, "limit", limitText(int64(k.Limit)), "servers", itoa(k.Servers))
		}
	}
	return nil, err
}

func (s *keySearch) cloudLinux(p sdk.EnumValue) func([]client.CLKey, error) (*keyHit, error) {
	return func(ks []client.CLKey, err error) (*keyHit, error) {
		var ae *client.APIError
		if errors.As(err, &ae) {
			return nil, nil // a product the account cannot list
		}
		for _, k := range ks {
			if k.Key == s.key {
				return s.hit("CloudLinux key", "product", p.Value+" ("+p.Description+")", "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
			}
		}
		return nil, err
	}
}

func (s *keySearch) els(ks []client.ELSKey, err error) (*keyHit, error) {
	for _, k := range ks {
		if k.Key == s.key {
			return s.hit("ELS key", "product", k.ProductCode, "limit", limitText(int64(k.UsageLimit)), "note", string(k.Description))
		}
	}
	return nil, err
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
