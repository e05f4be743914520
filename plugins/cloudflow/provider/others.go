package provider

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
	"github.com/deskbot/deskbot/sdk"
)

type backup struct {
	ID         int    `json:"id"`
	DiskID     int    `json:"disk_id"`
	Note       string `json:"note"`
	Built      bool   `json:"built"`
	Size       int    `json:"backup_size"`
	CreatedAt  string `json:"created_at"`
	TargetID   int    `json:"target_id"`
	TargetType string `json:"target_type"`
}

type template struct {
	ID      int    `json:"id"`
	Label   string `json:"label"`
	OS      string `json:"operating_system"`
	Distro  string `json:"operating_system_distro"`
	Version string `json:"version"`
	MinDisk int    `json:"min_disk_size"`
	MinMem  int    `json:"min_memory_size"`
}

func findTemplate(ctx context.Context, c *client.Client, ref string) (*template, error) {
	var all []template
	if err := c.List(ctx, "/templates", &all); err != nil {
		return nil, err
	}
	var labels []string
	for i := range all {
		if strconv.Itoa(all[i].ID) == ref || strings.EqualFold(all[i].Label, ref) {
			return &all[i], nil
		}
		labels = append(labels, all[i].Label)
	}
	msg := fmt.Sprintf("there is no template %q", ref)
	if s := sdk.Suggest(ref, labels); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	} else {
		msg += "; see /cloudflow templates"
	}
	return nil, sdk.BadArg("template", "%s", msg)
}

// findBackup finds a backup by id among the machines' backups.
func findBackup(ctx context.Context, c *client.Client, id string) (*backup, *vm, error) {
	var b backup
	_, err := c.Do(ctx, get("/backups/"+id), &b)
	if client.NotFound(err) {
		return nil, nil, sdk.BadArg("backup", "there is no backup %s", id)
	}
	if err != nil {
		return nil, nil, err
	}
	v, err := findVM(ctx, c, strconv.Itoa(b.TargetID))
	if err != nil {
		return nil, nil, err
	}
	return &b, v, nil
}

func registerOthers(p *sdk.Plugin) {
	register(p, op{name: "backup create", summary: "Back up a machine's disk", risk: sdk.RiskLow,
		params:   []sdk.Param{vmP, sdk.Int("disk", "Disk id (the primary disk if left out)"), sdk.String("note", "A note to find it by")},
		examples: []string{"/cloudflow backup create shop-db note=\"before upgrade\""},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v, err := findVM(ctx, c, a.String("vm"))
			if err != nil {
				return nil, err
			}
			if v.Locked {
				return nil, sdk.BadArg("vm", "%s is locked while a transaction runs", v.Label)
			}
			var disks []struct {
				ID      int  `json:"id"`
				Primary bool `json:"primary"`
				IsSwap  bool `json:"is_swap"`
			}
			if _, err := c.Do(ctx, get("/virtual_machines/"+v.ref()+"/disks"), &disks); err != nil {
				return nil, err
			}
			disk := 0
			for _, d := range disks {
				if a.Has("disk") && int64(d.ID) == a.Int("disk") || !a.Has("disk") && d.Primary {
					disk = d.ID
				}
			}
			if disk == 0 {
				return nil, sdk.BadArg("disk", "%s has no such disk; see /cloudflow vm disks %s", v.Label, v.Label)
			}
			body := map[string]any{}
			if n := a.String("note"); n != "" {
				body["note"] = n
			}
			return &work{summary: fmt.Sprintf("Back up disk %d of %s", disk, v.label()), label: v.Label, notes: []string{"Backups take storage, which is billed."},
				steps: []step{{req: client.Request{Method: http.MethodPost, Path: fmt.Sprintf("/settings/disks/%d/backups", disk), Root: "backup", Body: body}, what: "Take a backup", follow: v.ref()}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var b backup
			if err := decode(res[0], &b); err != nil {
				return err
			}
			if !res[0].still {
				r.AddText("Backup %d of %s is taken.", b.ID, a.String("vm"))
			}
			return nil
		},
	})
	register(p, op{name: "backup restore", summary: "Restore a machine's disk from a backup", risk: sdk.RiskCritical,
		params:   []sdk.Param{sdk.Int("backup", "Backup id (see /cloudflow vm backups VM)").AsRequired().AsPositional()},
		examples: []string{"/cloudflow backup restore 5001"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			b, v, err := findBackup(ctx, c, strconv.FormatInt(a.Int("backup"), 10))
			if err != nil {
				return nil, err
			}
			if !b.Built {
				return nil, sdk.BadArg("backup", "backup %d is not built yet", b.ID)
			}
			if v.Locked {
				return nil, sdk.BadArg("backup", "%s is locked while a transaction runs", v.Label)
			}
			return &work{summary: fmt.Sprintf("Restore disk %d of %s from backup %d taken %s (%s)", b.DiskID, v.label(), b.ID, b.CreatedAt, b.Note), label: v.Label,
				notes: []string{"The machine is stopped; everything written to the disk since the backup is lost."},
				steps: []step{{req: client.Request{Method: http.MethodPost, Path: fmt.Sprintf("/backups/%d/restore", b.ID)}, what: "Restore", follow: v.ref()}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			if !res[0].still {
				r.AddText("Backup %d is restored.", a.Int("backup"))
			}
			return nil
		},
	})
	register(p, op{name: "backup delete", summary: "Delete a backup", risk: sdk.RiskHigh,
		params:   []sdk.Param{sdk.Int("backup", "Backup id").AsRequired().AsPositional()},
		examples: []string{"/cloudflow backup delete 5001"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			b, v, err := findBackup(ctx, c, strconv.FormatInt(a.Int("backup"), 10))
			if err != nil {
				return nil, err
			}
			return &work{summary: fmt.Sprintf("Delete backup %d of %s, taken %s (%s)", b.ID, v.Label, b.CreatedAt, b.Note), label: v.Label,
				steps: []step{{req: client.Request{Method: http.MethodDelete, Path: fmt.Sprintf("/backups/%d", b.ID)}, what: "Delete the backup", follow: v.ref()}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			if !res[0].still {
				r.AddText("Backup %d is deleted.", a.Int("backup"))
			}
			return nil
		},
	})
	register(p, op{name: "templates", summary: "Templates machines can be built from", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Part of a label").AsPositional()},
		examples: []string{"/cloudflow templates", "/cloudflow templates ubuntu"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List templates", steps: []step{{req: get("/templates"), what: "List templates"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []template
			if err := decode(res[0], &list); err != nil {
				return err
			}
			q := strings.ToLower(a.String("search"))
			t := r.AddTable("", "id", "label", "os", "version", "min disk", "min memory")
			for _, x := range list {
				if q != "" && !strings.Contains(strings.ToLower(x.Label), q) {
					continue
				}
				t.Row(strconv.Itoa(x.ID), x.Label, x.OS+"/"+x.Distro, x.Version, fmt.Sprintf("%d GB", x.MinDisk), mb(x.MinMem))
			}
			return nil
		},
	})
	register(p, op{name: "hypervisors", summary: "Compute resources (administrators only)", risk: sdk.RiskReadOnly,
		examples: []string{"/cloudflow hypervisors"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List hypervisors", steps: []step{{req: get("/settings/hypervisors"), what: "List hypervisors"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []struct {
				ID       int    `json:"id"`
				Label    string `json:"label"`
				IP       string `json:"ip_address"`
				Online   bool   `json:"online"`
				Type     string `json:"hypervisor_type"`
				MemFree  int    `json:"free_memory"`
				MemTotal int    `json:"total_memory"`
			}
			if err := decode(res[0], &list); err != nil {
				return err
			}
			t := r.AddTable("", "id", "label", "ip", "online", "type", "free memory")
			for _, h := range list {
				t.Row(strconv.Itoa(h.ID), h.Label, h.IP, yesNo(h.Online), h.Type, mb(h.MemFree)+" of "+mb(h.MemTotal))
			}
			return nil
		},
	})
	register(p, op{name: "users", summary: "Control panel users", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Part of a login, e-mail or name").AsPositional()},
		examples: []string{"/cloudflow users", "/cloudflow users acme"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List users", steps: []step{{req: get("/users"), what: "List users"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []user
			if err := decode(res[0], &list); err != nil {
				return err
			}
			q := strings.ToLower(a.String("search"))
			t := r.AddTable("", "id", "login", "email", "name", "status")
			for _, u := range list {
				if q != "" && !strings.Contains(strings.ToLower(u.Login+" "+u.Email+" "+u.FirstName+" "+u.LastName), q) {
					continue
				}
				t.Row(strconv.Itoa(u.ID), u.Login, u.Email, strings.TrimSpace(u.FirstName+" "+u.LastName), u.Status)
			}
			return nil
		},
	})
	register(p, op{name: "user vms", summary: "A user's virtual machines", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("user", "Login, e-mail or id").AsRequired().AsPositional()},
		examples: []string{"/cloudflow user vms acme"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			var list []user
			if err := c.List(ctx, "/users", &list); err != nil {
				return nil, err
			}
			ref := a.String("user")
			var logins []string
			for _, u := range list {
				if strconv.Itoa(u.ID) == ref || strings.EqualFold(u.Login, ref) || strings.EqualFold(u.Email, ref) {
					return &work{summary: fmt.Sprintf("List the machines of %s (#%d)", u.Login, u.ID), steps: []step{{req: get(fmt.Sprintf("/users/%d/virtual_machines", u.ID)), what: "List the user's machines"}}}, nil
				}
				logins = append(logins, u.Login)
			}
			msg := fmt.Sprintf("there is no user %q", ref)
			if s := sdk.Suggest(ref, logins); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return nil, sdk.BadArg("user", "%s", msg)
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []vm
			if err := decode(res[0], &list); err != nil {
				return err
			}
			if len(list) == 0 {
				r.AddText("%s has no virtual machines.", a.String("user"))
				return nil
			}
			t := r.AddTable("", "label", "id", "state", "cpus", "memory", "ips")
			for _, v := range list {
				t.Row(v.Label, v.ref(), v.state(), strconv.Itoa(v.CPUs), mb(v.Memory), v.ips())
			}
			return nil
		},
	})
}

// user is what the commands read of a user: never the API key.
type user struct {
	ID        int    `json:"id"`
	Login     string `json:"login"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Status    string `json:"status"`
}
