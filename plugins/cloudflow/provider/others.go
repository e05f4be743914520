package provider

import (
	"context"
	"fmt"
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
	if err := c.List(ctx, c.EPTemplates(), &all); err != nil {
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
func findBackup(ctx context.Context, c *client.Client, id int) (*backup, *vm, error) {
	var b backup
	_, err := c.Do(ctx, c.EPBackup(id), &b)
	if client.NotFound(err) {
		return nil, nil, sdk.BadArg("backup", "there is no backup %d", id)
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

// otherOps are the backup, template, hypervisor and user commands, in the
// order help lists them.
func otherOps() []op {
	return []op{backupCreate(), backupRestore(), backupDelete(), templates(), hypervisors(), users(), userVMs()}
}

// backupCreate backs up a disk, the primary one unless named. The disk is
// a fact with its machine: the endpoint names the disk only.
func backupCreate() op {
	return op{Name: "backup create", Summary: "Back up a machine's disk", Risk: sdk.RiskLow,
		Params:   []sdk.Param{vmP, sdk.Int("disk", "Disk id (the primary disk if left out)"), sdk.FreeText("note", "A note to find it by")},
		Examples: []string{"/cloudflow backup create shop-db note=\"before upgrade\""},
		Work: onVM(unlocked("vm"), func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			disk, err := diskToBackUp(ctx, e.Client, a, v)
			if err != nil {
				return nil, err
			}
			w := actionOn(e, v, fmt.Sprintf("Back up disk %d of %s", disk, v.label()), "Take a backup",
				e.Client.EPBackupCreate(v.ref(), disk, a.String("note")), backupBuilt(e.Client))
			w.Notes = []string{"Backups take storage, which is billed."}
			// The disk and its machine are the facts, not the machine's power.
			w.Facts = []string{fmt.Sprintf("disk %d is of virtual machine #%d %s", disk, v.ID, v.Label)}
			return w, nil
		}),
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var b backup
			if err := res[0].Decode(&b); err != nil {
				return err
			}
			if !res[0].StillRunning {
				r.AddText("Backup %d of %s is taken.", b.ID, a.String("vm"))
			}
			return nil
		},
	}
}

// diskToBackUp is the disk argument's disk of v, or v's primary disk.
func diskToBackUp(ctx context.Context, c *client.Client, a sdk.Args, v *vm) (int, error) {
	var disks []struct {
		ID      int  `json:"id"`
		Primary bool `json:"primary"`
		IsSwap  bool `json:"is_swap"`
	}
	if _, err := c.Do(ctx, c.EPVMDisks(v.ref()), &disks); err != nil {
		return 0, err
	}
	disk := 0
	for _, d := range disks {
		if a.Has("disk") && int64(d.ID) == a.Int("disk") || !a.Has("disk") && d.Primary {
			disk = d.ID
		}
	}
	if disk == 0 {
		return 0, sdk.BadArg("disk", "%s has no such disk; see /cloudflow vm disks %s", v.Label, v.Label)
	}
	return disk, nil
}

// backupBuilt is a reached: the backup the answer names is built.
func backupBuilt(c *client.Client) reached {
	return func(ctx context.Context, res *client.Result) (bool, string, string, error) {
		var b backup
		if err := res.Decode(&b); err != nil || b.ID == 0 {
			return false, "", "backed up", fmt.Errorf("the answer names no backup")
		}
		if _, err := c.Do(ctx, c.EPBackup(b.ID), &b); err != nil {
			return false, "", "backed up", err
		}
		return b.Built, fmt.Sprintf("with backup %d not built", b.ID), fmt.Sprintf("with backup %d built", b.ID), nil
	}
}

// backupGone is a reached: backup id is no more.
func backupGone(c *client.Client, id int) reached {
	return func(ctx context.Context, _ *client.Result) (bool, string, string, error) {
		_, err := c.Do(ctx, c.EPBackup(id), nil)
		if client.NotFound(err) {
			return true, "", "", nil
		}
		if err != nil {
			return false, "", "", err
		}
		return false, fmt.Sprintf("still with backup %d", id), fmt.Sprintf("without backup %d", id), nil
	}
}

// unlocked refuses a machine that a transaction holds, naming param.
func unlocked(param string) func(v *vm) error {
	return func(v *vm) error {
		if v.Locked {
			return sdk.BadArg(param, "%s is locked while a transaction runs", v.Label)
		}
		return nil
	}
}

// onBackup resolves the command's backup and its machine, and builds the
// work on them. The backup, and the machine's state, are facts: the
// endpoint names the backup by id only.
func onBackup(build func(e *Env, b *backup, v *vm) (*work, error)) func(context.Context, *Env, sdk.Args) (*work, error) {
	return func(ctx context.Context, e *Env, a sdk.Args) (*work, error) {
		b, v, err := findBackup(ctx, e.Client, int(a.Int("backup")))
		if err != nil {
			return nil, err
		}
		w, err := build(e, b, v)
		if err != nil {
			return nil, err
		}
		w.Facts = append(w.Facts, fmt.Sprintf("backup %d is of disk %d, taken %s (%s), built %t", b.ID, b.DiskID, b.CreatedAt, b.Note, b.Built))
		return w, nil
	}
}

func backupRestore() op {
	return op{Name: "backup restore", Summary: "Restore a machine's disk from a backup", Risk: sdk.RiskCritical,
		Params:   []sdk.Param{sdk.Int("backup", "Backup id (see /cloudflow vm backups VM)").AsRequired().AsPositional().AsResource()},
		Examples: []string{"/cloudflow backup restore 5001"},
		Work: onBackup(func(e *Env, b *backup, v *vm) (*work, error) {
			if !b.Built {
				return nil, sdk.BadArg("backup", "backup %d is not built yet", b.ID)
			}
			if err := unlocked("backup")(v); err != nil {
				return nil, err
			}
			w := actionOn(e, v, fmt.Sprintf("Restore disk %d of %s from backup %d taken %s (%s)", b.DiskID, v.label(), b.ID, b.CreatedAt, b.Note), "Restore",
				e.Client.EPBackupRestore(v.ref(), b.ID), nil)
			w.Notes = []string{"The machine is stopped; everything written to the disk since the backup is lost."}
			return w, nil
		}),
		Show: unlessStillRunning("Backup %d is restored."),
	}
}

func backupDelete() op {
	return op{Name: "backup delete", Summary: "Delete a backup", Risk: sdk.RiskHigh,
		Params:   []sdk.Param{sdk.Int("backup", "Backup id").AsRequired().AsPositional().AsResource()},
		Examples: []string{"/cloudflow backup delete 5001"},
		Work: onBackup(func(e *Env, b *backup, v *vm) (*work, error) {
			// Whether the machine runs does not matter to the deletion:
			// the backup alone is a fact.
			return &work{Summary: fmt.Sprintf("Delete backup %d of %s, taken %s (%s)", b.ID, v.Label, b.CreatedAt, b.Note), CheckWith: checkWith(v),
				Steps: []step{action(e, "Delete the backup", v.ref(), e.Client.EPBackupDelete(v.ref(), b.ID), backupGone(e.Client, b.ID))}}, nil
		}),
		Show: unlessStillRunning("Backup %d is deleted."),
	}
}

// unlessStillRunning says done, with the backup argument for %d, once the
// work has ended.
func unlessStillRunning(done string) show {
	return func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
		if !res[0].StillRunning {
			r.AddText(done, a.Int("backup"))
		}
		return nil
	}
}

func templates() op {
	return op{Name: "templates", Summary: "Templates machines can be built from", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Part of a label").AsPositional()},
		Examples: []string{"/cloudflow templates", "/cloudflow templates ubuntu"},
		Work: func(ctx context.Context, e *Env, a sdk.Args) (*work, error) {
			return &work{Summary: "List templates", Steps: []step{listCall(e.Client, "List templates", e.Client.EPTemplates())}}, nil
		},
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []template
			if err := res[0].Decode(&list); err != nil {
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
	}
}

func hypervisors() op {
	return op{Name: "hypervisors", Summary: "Compute resources (administrators only)", Risk: sdk.RiskReadOnly,
		Examples: []string{"/cloudflow hypervisors"},
		Work: func(ctx context.Context, e *Env, a sdk.Args) (*work, error) {
			return &work{Summary: "List hypervisors", Steps: []step{listCall(e.Client, "List hypervisors", e.Client.EPHypervisors())}}, nil
		},
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []struct {
				ID       int    `json:"id"`
				Label    string `json:"label"`
				IP       string `json:"ip_address"`
				Online   bool   `json:"online"`
				Type     string `json:"hypervisor_type"`
				MemFree  int    `json:"free_memory"`
				MemTotal int    `json:"total_memory"`
			}
			if err := res[0].Decode(&list); err != nil {
				return err
			}
			t := r.AddTable("", "id", "label", "ip", "online", "type", "free memory")
			for _, h := range list {
				t.Row(strconv.Itoa(h.ID), h.Label, h.IP, yesNo(h.Online), h.Type, mb(h.MemFree)+" of "+mb(h.MemTotal))
			}
			return nil
		},
	}
}

func users() op {
	return op{Name: "users", Summary: "Control panel users", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Part of a login, e-mail or name").AsPositional()},
		Examples: []string{"/cloudflow users", "/cloudflow users acme"},
		Work: func(ctx context.Context, e *Env, a sdk.Args) (*work, error) {
			return &work{Summary: "List users", Steps: []step{listCall(e.Client, "List users", e.Client.EPUsers())}}, nil
		},
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []user
			if err := res[0].Decode(&list); err != nil {
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
	}
}

func userVMs() op {
	return op{Name: "user vms", Summary: "A user's virtual machines", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("user", "Login, e-mail or id").AsRequired().AsPositional()},
		Examples: []string{"/cloudflow user vms acme"},
		Work: func(ctx context.Context, e *Env, a sdk.Args) (*work, error) {
			u, err := findUser(ctx, e.Client, a.String("user"))
			if err != nil {
				return nil, err
			}
			return &work{Summary: fmt.Sprintf("List the machines of %s (#%d)", u.Login, u.ID),
				Steps: []step{listCall(e.Client, "List the user's machines", e.Client.EPUserVMs(u.ID))}}, nil
		},
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []vm
			if err := res[0].Decode(&list); err != nil {
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
	}
}

// findUser resolves a user by id, login or e-mail.
func findUser(ctx context.Context, c *client.Client, ref string) (*user, error) {
	var list []user
	if err := c.List(ctx, c.EPUsers(), &list); err != nil {
		return nil, err
	}
	var logins []string
	for i, u := range list {
		if strconv.Itoa(u.ID) == ref || strings.EqualFold(u.Login, ref) || strings.EqualFold(u.Email, ref) {
			return &list[i], nil
		}
		logins = append(logins, u.Login)
	}
	msg := fmt.Sprintf("there is no user %q", ref)
	if s := sdk.Suggest(ref, logins); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return nil, sdk.BadArg("user", "%s", msg)
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
