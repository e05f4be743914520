package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
	"github.com/deskbot/deskbot/sdk"
)

func decode(d done, v any) error {
	if len(d.body) == 0 {
		return nil
	}
	return json.Unmarshal(d.body, v)
}

func mb(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d GB", n/1024)
	}
	return fmt.Sprintf("%d MB", n)
}

// finished reports how followed work ended.
func finished(what string) func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
	return func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
		d := res[len(res)-1]
		if d.still {
			return nil
		}
		var steps []string
		for _, t := range d.txs {
			steps = append(steps, humanAction(t.Action))
		}
		msg := fmt.Sprintf(what, a.String("vm"))
		if len(steps) > 0 {
			msg += fmt.Sprintf(" (%d transactions complete: %s)", len(steps), strings.Join(steps, ", "))
		}
		r.AddText("%s", msg)
		return nil
	}
}

func registerVMs(p *sdk.Plugin) {
	register(p, op{name: "vm list", summary: "Virtual machines, with state, size and IPs", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Part of a label, host name or IP").AsPositional()},
		examples: []string{"/cloudflow vm list", "/cloudflow vm list shop"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List virtual machines", steps: []step{{req: get("/virtual_machines"), what: "List machines"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []vm
			if err := decode(res[0], &list); err != nil {
				return err
			}
			q := strings.ToLower(a.String("search"))
			t := r.AddTable("", "label", "id", "state", "cpus", "memory", "disk", "template", "ips")
			n := 0
			for _, v := range list {
				if q != "" && !strings.Contains(strings.ToLower(v.Label+" "+v.Hostname+" "+v.ips()), q) {
					continue
				}
				n++
				t.Row(v.Label, v.ref(), v.state(), strconv.Itoa(v.CPUs), mb(v.Memory), fmt.Sprintf("%d GB", v.TotalDiskSize), v.TemplateLabel, v.ips())
			}
			if n == 0 {
				r.Parts = r.Parts[:0]
				r.AddText("No virtual machine matches.")
			}
			return nil
		},
	})
	register(p, op{name: "vm info", summary: "One virtual machine", risk: sdk.RiskReadOnly, params: []sdk.Param{vmP},
		examples: []string{"/cloudflow vm info shop-web"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v, err := findVM(ctx, c, a.String("vm"))
			if err != nil {
				return nil, err
			}
			return &work{summary: "Show " + v.label(), steps: []step{{req: get("/virtual_machines/" + v.ref()), what: "Read the machine"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var v vm
			if err := decode(res[0], &v); err != nil {
				return err
			}
			r.AddKeyValues("Virtual machine "+v.Label, "Id", v.ref(), "Identifier", v.Identifier, "Host name", v.Hostname, "State", v.state(),
				"CPUs", fmt.Sprintf("%d (%d%% shares)", v.CPUs, v.CPUShares), "Memory", mb(v.Memory), "Disk", fmt.Sprintf("%d GB", v.TotalDiskSize),
				"Template", v.TemplateLabel, "IPs", v.ips(), "Hypervisor", strconv.Itoa(v.HypervisorID), "User", strconv.Itoa(v.UserID), "Created", v.CreatedAt)
			return nil
		},
	})
	sub := func(name, path, summary string, show func(d done, r *sdk.Result) error) {
		register(p, op{name: name, summary: summary, risk: sdk.RiskReadOnly, params: []sdk.Param{vmP},
			examples: []string{"/cloudflow " + name + " shop-db"},
			plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
				v, err := findVM(ctx, c, a.String("vm"))
				if err != nil {
					return nil, err
				}
				return &work{summary: summary + ": " + v.label(), steps: []step{{req: get("/virtual_machines/" + v.ref() + "/" + path), what: summary}}}, nil
			},
			show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error { return show(res[0], r) },
		})
	}
	sub("vm disks", "disks", "A machine's disks", func(d done, r *sdk.Result) error {
		var disks []struct {
			ID      int    `json:"id"`
			Label   string `json:"label"`
			Size    int    `json:"disk_size"`
			Primary bool   `json:"primary"`
			IsSwap  bool   `json:"is_swap"`
		}
		if err := decode(d, &disks); err != nil {
			return err
		}
		t := r.AddTable("Disks", "id", "label", "size", "primary", "swap")
		for _, x := range disks {
			t.Row(strconv.Itoa(x.ID), x.Label, fmt.Sprintf("%d GB", x.Size), yesNo(x.Primary), yesNo(x.IsSwap))
		}
		return nil
	})
	sub("vm backups", "backups", "A machine's backups", func(d done, r *sdk.Result) error {
		var list []backup
		if err := decode(d, &list); err != nil {
			return err
		}
		if len(list) == 0 {
			r.AddText("No backups.")
			return nil
		}
		t := r.AddTable("Backups", "id", "disk", "taken", "built", "size", "note")
		for _, b := range list {
			t.Row(strconv.Itoa(b.ID), strconv.Itoa(b.DiskID), b.CreatedAt, yesNo(b.Built), kb(b.Size), b.Note)
		}
		return nil
	})
	sub("vm transactions", "transactions", "A machine's recent transactions", func(d done, r *sdk.Result) error {
		var txs []client.Transaction
		if err := decode(d, &txs); err != nil {
			return err
		}
		if len(txs) == 0 {
			r.AddText("No transactions.")
			return nil
		}
		t := r.AddTable("Transactions", "id", "action", "status", "created", "started")
		for _, x := range txs {
			t.Row(strconv.Itoa(x.ID), humanAction(x.Action), x.Status, x.CreatedAt, x.StartedAt)
		}
		return nil
	})

	action := func(name, path, summary, done string, risk sdk.Risk, check func(v *vm) error, note string, aliases ...string) {
		register(p, op{name: name, summary: summary, risk: risk, params: []sdk.Param{vmP}, aliases: aliases,
			examples: []string{"/cloudflow " + name + " shop-web"},
			plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
				v, err := findVM(ctx, c, a.String("vm"))
				if err != nil {
					return nil, err
				}
				if err := check(v); err != nil {
					return nil, err
				}
				w := &work{summary: summary + ": " + v.label(), label: v.Label,
					steps: []step{{req: client.Request{Method: http.MethodPost, Path: "/virtual_machines/" + v.ref() + "/" + path}, what: summary, follow: v.ref()}}}
				if note != "" {
					w.notes = append(w.notes, note)
				}
				return w, nil
			},
			show: finished(done),
		})
	}
	notLocked := func(v *vm) error {
		if v.Locked {
			return sdk.BadArg("vm", "%s is locked while a transaction runs; see /cloudflow vm transactions %s", v.Label, v.Label)
		}
		if v.Suspended {
			return sdk.BadArg("vm", "%s is suspended; unsuspend it first", v.Label)
		}
		return nil
	}
	booted := func(want bool) func(v *vm) error {
		return func(v *vm) error {
			if err := notLocked(v); err != nil {
				return err
			}
			if v.Booted != want {
				if want {
					return sdk.BadArg("vm", "%s is off", v.Label)
				}
				return sdk.BadArg("vm", "%s is already running", v.Label)
			}
			return nil
		}
	}
	action("vm start", "startup", "Start", "%s is running.", sdk.RiskLow, booted(false), "", "vm startup")
	action("vm shutdown", "shutdown", "Shut down gracefully", "%s is shut down.", sdk.RiskHigh, booted(true), "The system is asked to stop; services stop with it.")
	action("vm stop", "stop", "Power off at once", "%s is powered off.", sdk.RiskHigh, booted(true), "Like pulling the plug: unsaved data is lost.")
	register(p, op{name: "vm reboot", summary: "Reboot a virtual machine", risk: sdk.RiskHigh,
		params:   []sdk.Param{vmP, sdk.Bool("recovery", "Boot into the recovery system").WithDefault("no")},
		examples: []string{"/cloudflow vm reboot shop-web", "/cloudflow vm reboot shop-web recovery=yes"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v, err := findVM(ctx, c, a.String("vm"))
			if err != nil {
				return nil, err
			}
			if err := booted(true)(v); err != nil {
				return nil, err
			}
			var q url.Values
			what := "Reboot"
			if a.Bool("recovery") {
				q, what = url.Values{"mode": {"recovery"}}, "Reboot into recovery"
			}
			return &work{summary: what + ": " + v.label(), label: v.Label, notes: []string{"It is unreachable while it restarts."},
				steps: []step{{req: client.Request{Method: http.MethodPost, Path: "/virtual_machines/" + v.ref() + "/reboot", Query: q}, what: what, follow: v.ref()}}}, nil
		},
		show: finished("%s is back up."),
	})
	suspend := func(name, summary, doneMsg string, want bool) {
		register(p, op{name: name, summary: summary, risk: sdk.RiskHigh, params: []sdk.Param{vmP},
			examples: []string{"/cloudflow " + name + " bakery-site"},
			plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
				v, err := findVM(ctx, c, a.String("vm"))
				if err != nil {
					return nil, err
				}
				// The API toggles; the command only goes one way.
				if v.Suspended == want {
					if want {
						return nil, sdk.BadArg("vm", "%s is already suspended", v.Label)
					}
					return nil, sdk.BadArg("vm", "%s is not suspended", v.Label)
				}
				if v.Locked {
					return nil, sdk.BadArg("vm", "%s is locked while a transaction runs", v.Label)
				}
				w := &work{summary: summary + ": " + v.label(), label: v.Label,
					steps: []step{{req: client.Request{Method: http.MethodPost, Path: "/virtual_machines/" + v.ref() + "/suspend"}, what: summary, follow: v.ref()}}}
				if want {
					w.notes = append(w.notes, "It is stopped and cannot be started until unsuspended.")
				}
				return w, nil
			},
			show: finished(doneMsg),
		})
	}
	suspend("vm suspend", "Suspend", "%s is suspended.", true)
	suspend("vm unsuspend", "Unsuspend", "%s is no longer suspended.", false)
	register(p, op{name: "vm unlock", summary: "Clear a machine's lock", risk: sdk.RiskHigh, params: []sdk.Param{vmP},
		help:     "For a machine stuck locked after a transaction failed. Unlocking while a transaction really runs can leave the machine inconsistent: check /cloudflow vm transactions first.",
		examples: []string{"/cloudflow vm unlock shop-db"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v, err := findVM(ctx, c, a.String("vm"))
			if err != nil {
				return nil, err
			}
			if !v.Locked {
				return nil, sdk.BadArg("vm", "%s is not locked", v.Label)
			}
			w := &work{summary: "Unlock " + v.label(), label: v.Label,
				steps: []step{{req: client.Request{Method: http.MethodPost, Path: "/virtual_machines/" + v.ref() + "/unlock"}, what: "Unlock"}}}
			if txs, err := c.Transactions(ctx, v.ref()); err == nil {
				for _, t := range txs {
					if !client.Final(t.Status) {
						w.notes = append(w.notes, fmt.Sprintf("Transaction %d (%s) is %s and will be abandoned.", t.ID, humanAction(t.Action), t.Status))
					}
				}
			}
			return w, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			r.AddText("%s is unlocked.", a.String("vm"))
			return nil
		},
	})
	register(p, op{name: "vm rebuild", summary: "Rebuild a machine from a template: its disk is wiped", risk: sdk.RiskCritical,
		params: []sdk.Param{vmP, sdk.String("template", "Template id or label (see /cloudflow templates)").AsRequired(),
			sdk.Bool("start", "Start it when built").WithDefault("yes")},
		examples: []string{"/cloudflow vm rebuild bakery-site template=20"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v, err := findVM(ctx, c, a.String("vm"))
			if err != nil {
				return nil, err
			}
			if err := notLocked(v); err != nil {
				return nil, err
			}
			t, err := findTemplate(ctx, c, a.String("template"))
			if err != nil {
				return nil, err
			}
			start := "0"
			if a.Bool("start") {
				start = "1"
			}
			body := map[string]any{"template_id": strconv.Itoa(t.ID), "required_startup": start}
			return &work{summary: fmt.Sprintf("Rebuild %s from %s (now %s)", v.label(), t.Label, v.TemplateLabel), label: v.Label,
				notes: []string{"Everything on its disks is lost; its IPs stay."},
				steps: []step{{req: client.Request{Method: http.MethodPost, Path: "/virtual_machines/" + v.ref() + "/build", Root: "virtual_machine", Body: body}, what: "Rebuild", follow: v.ref()}}}, nil
		},
		show: finished("%s is rebuilt."),
	})
	register(p, op{name: "vm resize", summary: "Change a machine's CPUs and memory", risk: sdk.RiskHigh,
		params: []sdk.Param{vmP, sdk.Int("cpus", "CPUs").Between(1, 64), sdk.Size("memory", "Memory, like 4GB or 2048MB"),
			sdk.Int("shares", "CPU priority in percent").Between(1, 100)},
		examples: []string{"/cloudflow vm resize shop-web cpus=4 memory=4GB"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v, err := findVM(ctx, c, a.String("vm"))
			if err != nil {
				return nil, err
			}
			if err := notLocked(v); err != nil {
				return nil, err
			}
			body := map[string]any{"allow_cold_resize": "1", "allow_migration": "0"}
			var to []string
			if a.Has("cpus") {
				body["cpus"] = a.Int("cpus")
				to = append(to, fmt.Sprintf("%d CPUs (now %d)", a.Int("cpus"), v.CPUs))
			}
			if a.Has("memory") {
				m := a.Int("memory") / (1 << 20)
				if m < 128 || m%4 != 0 {
					return nil, sdk.BadArg("memory", "give at least 128 MB, in a multiple of 4 MB")
				}
				body["memory"] = m
				to = append(to, fmt.Sprintf("%s memory (now %s)", mb(int(m)), mb(v.Memory)))
			}
			if a.Has("shares") {
				body["cpu_shares"] = a.Int("shares")
				to = append(to, fmt.Sprintf("%d%% CPU shares", a.Int("shares")))
			}
			if len(to) == 0 {
				return nil, sdk.BadArg("cpus", "give cpus, memory or shares")
			}
			w := &work{summary: "Resize " + v.label() + " to " + strings.Join(to, ", "), label: v.Label,
				steps: []step{{req: client.Request{Method: http.MethodPut, Path: "/virtual_machines/" + v.ref(), Root: "virtual_machine", Body: body}, what: "Resize", follow: v.ref()}}}
			if v.Booted {
				w.notes = append(w.notes, "It may be stopped and started again to apply the change; the bill changes.")
			}
			return w, nil
		},
		show: finished("%s is resized."),
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func kb(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d KB", n)
}
