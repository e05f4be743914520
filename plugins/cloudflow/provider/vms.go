package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
	"github.com/deskbot/deskbot/sdk"
)

// vmOps are the virtual machine commands, in the order help lists them.
func vmOps() []op {
	return []op{
		vmList(),
		vmInfo(),
		vmRead("vm disks", (*client.Client).EPVMDisks, "A machine's disks", showDisks),
		vmRead("vm backups", (*client.Client).EPVMBackups, "A machine's backups", showBackups),
		vmRead("vm transactions", (*client.Client).EPVMTransactions, "A machine's recent transactions", showTransactions),
		power(powerAction{name: "vm start", req: (*client.Client).EPStartup, summary: "Start", done: "%s is running.", risk: sdk.RiskLow,
			check: booted(false), aliases: []string{"vm startup"}, boots: true}),
		power(powerAction{name: "vm shutdown", req: (*client.Client).EPShutdown, summary: "Shut down gracefully", done: "%s is shut down.", risk: sdk.RiskHigh,
			check: booted(true), note: "The system is asked to stop; services stop with it."}),
		power(powerAction{name: "vm stop", req: (*client.Client).EPStop, summary: "Power off at once", done: "%s is powered off.", risk: sdk.RiskHigh,
			check: booted(true), note: "Like pulling the plug: unsaved data is lost."}),
		vmReboot(),
		vmSuspend("vm suspend", "Suspend", "%s is suspended.", true),
		vmSuspend("vm unsuspend", "Unsuspend", "%s is no longer suspended.", false),
		vmUnlock(),
		vmRebuild(),
		vmResize(),
	}
}

// buildOn builds a command's work on the machine its vm argument names.
type buildOn func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error)

// onVM resolves the command's machine, refuses it if check says so (nil
// checks nothing), and builds the work on it.
func onVM(check func(v *vm) error, build buildOn) func(context.Context, *Env, sdk.Args) (*work, error) {
	return func(ctx context.Context, e *Env, a sdk.Args) (*work, error) {
		v, err := findVM(ctx, e.Client, a.String("vm"))
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(v); err != nil {
				return nil, err
			}
		}
		w, err := build(ctx, e, a, v)
		if w != nil {
			// Approvers confirm with the machine's name, however the
			// requester named it (#103, a host name).
			w.Resource = v.Label
		}
		return w, err
	}
}

// actionOn is the work of one action on machine v, followed through its
// transactions; done reads whether it had its effect if it queues none.
// The plan was made from the machine's state: it is a fact.
func actionOn(e *Env, v *vm, summary, what string, r client.Request, done reached) *work {
	return &work{Summary: summary, Facts: []string{v.fact()}, CheckWith: checkWith(v),
		Steps: []step{action(e, what, v.ref(), r, done)}}
}

func vmList() op {
	return op{Name: "vm list", Summary: "Virtual machines, with state, size and IPs", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Part of a label, host name or IP").AsPositional()},
		Examples: []string{"/cloudflow vm list", "/cloudflow vm list shop"},
		Work: func(ctx context.Context, e *Env, a sdk.Args) (*work, error) {
			return &work{Summary: "List virtual machines", Steps: []step{listCall(e.Client, "List machines", e.Client.EPVMs())}}, nil
		},
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []vm
			if err := res[0].Decode(&list); err != nil {
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
	}
}

func vmInfo() op {
	return op{Name: "vm info", Summary: "One virtual machine", Risk: sdk.RiskReadOnly, Params: []sdk.Param{vmP},
		Examples: []string{"/cloudflow vm info shop-web"},
		Work: onVM(nil, func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			return &work{Summary: "Show " + v.label(), Steps: []step{call(e.Client, "Read the machine", e.Client.EPVM(v.ref()))}}, nil
		}),
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var v vm
			if err := res[0].Decode(&v); err != nil {
				return err
			}
			r.AddKeyValues("Virtual machine "+v.Label, "Id", v.ref(), "Identifier", v.Identifier, "Host name", v.Hostname, "State", v.state(),
				"CPUs", fmt.Sprintf("%d (%d%% shares)", v.CPUs, v.CPUShares), "Memory", mb(v.Memory), "Disk", fmt.Sprintf("%d GB", v.TotalDiskSize),
				"Template", v.TemplateLabel, "IPs", v.ips(), "Hypervisor", strconv.Itoa(v.HypervisorID), "User", strconv.Itoa(v.UserID), "Created", v.CreatedAt)
			return nil
		},
	}
}

// vmRead is a command that reads a list under a machine
// (/virtual_machines/ID/...).
func vmRead(name string, req func(c *client.Client, vm string) client.Request, summary string, show func(res *client.Result, r *sdk.Result) error) op {
	return op{Name: name, Summary: summary, Risk: sdk.RiskReadOnly, Params: []sdk.Param{vmP},
		Examples: []string{"/cloudflow " + name + " shop-db"},
		Work: onVM(nil, func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			return &work{Summary: summary + ": " + v.label(), Steps: []step{call(e.Client, summary, req(e.Client, v.ref()))}}, nil
		}),
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error { return show(res[0], r) },
	}
}

func showDisks(res *client.Result, r *sdk.Result) error {
	var disks []struct {
		ID      int    `json:"id"`
		Label   string `json:"label"`
		Size    int    `json:"disk_size"`
		Primary bool   `json:"primary"`
		IsSwap  bool   `json:"is_swap"`
	}
	if err := res.Decode(&disks); err != nil {
		return err
	}
	t := r.AddTable("Disks", "id", "label", "size", "primary", "swap")
	for _, x := range disks {
		t.Row(strconv.Itoa(x.ID), x.Label, fmt.Sprintf("%d GB", x.Size), yesNo(x.Primary), yesNo(x.IsSwap))
	}
	return nil
}

func showBackups(res *client.Result, r *sdk.Result) error {
	var list []backup
	if err := res.Decode(&list); err != nil {
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
}

func showTransactions(res *client.Result, r *sdk.Result) error {
	var txs []client.Transaction
	if err := res.Decode(&txs); err != nil {
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
}

// finished reports how an action's transactions ended: done is the
// sentence, with the machine as given for %s. Nothing while they still
// run (the answer says so).
func finished(done string) show {
	return func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
		last := res[len(res)-1]
		if last.StillRunning {
			return nil
		}
		var steps []string
		for _, t := range last.Transactions {
			steps = append(steps, humanAction(t.Action))
		}
		msg := fmt.Sprintf(done, a.String("vm"))
		if len(steps) > 0 {
			msg += fmt.Sprintf(" (%d transactions complete: %s)", len(steps), strings.Join(steps, ", "))
		}
		r.AddText("%s", msg)
		return nil
	}
}

// notLocked refuses a machine that a transaction holds, or a suspended one.
func notLocked(v *vm) error {
	if v.Locked {
		return sdk.BadArg("vm", "%s is locked while a transaction runs; see /cloudflow vm transactions %s", v.Label, v.Label)
	}
	if v.Suspended {
		return sdk.BadArg("vm", "%s is suspended; unsuspend it first", v.Label)
	}
	return nil
}

// booted refuses a machine that is not free to change, or whose power is
// not as want.
func booted(want bool) func(v *vm) error {
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

// powerAction is a start, a shutdown or a stop: req on a machine that
// check allows, which leaves it running if boots, or off.
type powerAction struct {
	name, summary, done, note string
	req                       func(c *client.Client, vm string) client.Request
	risk                      sdk.Risk
	check                     func(v *vm) error
	aliases                   []string
	boots                     bool
}

// powered is a reached: machine v is running (on) or off.
func powered(c *client.Client, v *vm, on bool) reached {
	want := "off"
	if on {
		want = "running"
	}
	return vmIs(c, v.ref(), want, func(x *vm) bool { return x.Booted == on })
}

func power(pa powerAction) op {
	return op{Name: pa.name, Summary: pa.summary, Risk: pa.risk, Params: []sdk.Param{vmP}, Aliases: pa.aliases,
		Examples: []string{"/cloudflow " + pa.name + " shop-web"},
		Work: onVM(pa.check, func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			w := actionOn(e, v, pa.summary+": "+v.label(), pa.summary, pa.req(e.Client, v.ref()), powered(e.Client, v, pa.boots))
			if pa.note != "" {
				w.Notes = append(w.Notes, pa.note)
			}
			return w, nil
		}),
		Show: finished(pa.done),
	}
}

func vmReboot() op {
	return op{Name: "vm reboot", Summary: "Reboot a virtual machine", Risk: sdk.RiskHigh,
		Params:   []sdk.Param{vmP, sdk.Bool("recovery", "Boot into the recovery system").WithDefault("no")},
		Examples: []string{"/cloudflow vm reboot shop-web", "/cloudflow vm reboot shop-web recovery=yes"},
		Work: onVM(booted(true), func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			what := "Reboot"
			if a.Bool("recovery") {
				what = "Reboot into recovery"
			}
			// A reboot that queued nothing cannot be told from one that did
			// not happen by the power alone: running is the least it needs.
			w := actionOn(e, v, what+": "+v.label(), what, e.Client.EPReboot(v.ref(), a.Bool("recovery")), powered(e.Client, v, true))
			w.Notes = []string{"It is unreachable while it restarts."}
			return w, nil
		}),
		Show: finished("%s is back up."),
	}
}

// vmSuspend suspends (want) or unsuspends a machine. The API toggles; the
// command only goes the way asked.
func vmSuspend(name, summary, done string, want bool) op {
	return op{Name: name, Summary: summary, Risk: sdk.RiskHigh, Params: []sdk.Param{vmP},
		Examples: []string{"/cloudflow " + name + " bakery-site"},
		Work: onVM(suspended(!want), func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			state := "not suspended"
			if want {
				state = "suspended"
			}
			w := actionOn(e, v, summary+": "+v.label(), summary, e.Client.EPSuspend(v.ref()),
				vmIs(e.Client, v.ref(), state, func(x *vm) bool { return x.Suspended == want }))
			if want {
				w.Notes = append(w.Notes, "It is stopped and cannot be started until unsuspended.")
			}
			return w, nil
		}),
		Show: finished(done),
	}
}

// suspended refuses a machine whose suspension is not as want, or that a
// transaction holds.
func suspended(want bool) func(v *vm) error {
	return func(v *vm) error {
		if v.Suspended != want {
			if want {
				return sdk.BadArg("vm", "%s is not suspended", v.Label)
			}
			return sdk.BadArg("vm", "%s is already suspended", v.Label)
		}
		if v.Locked {
			return sdk.BadArg("vm", "%s is locked while a transaction runs", v.Label)
		}
		return nil
	}
}

// vmUnlock clears a lock. The transactions it abandons are facts: if
// others hold the machine by the time it runs, it is refused.
func vmUnlock() op {
	return op{Name: "vm unlock", Summary: "Clear a machine's lock", Risk: sdk.RiskHigh, Params: []sdk.Param{vmP},
		Help:     "For a machine stuck locked after a transaction failed. Unlocking while a transaction really runs can leave the machine inconsistent: check /cloudflow vm transactions first.",
		Examples: []string{"/cloudflow vm unlock shop-db"},
		Work: onVM(nil, func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			if !v.Locked {
				return nil, sdk.BadArg("vm", "%s is not locked", v.Label)
			}
			w := &work{Summary: "Unlock " + v.label(), Facts: []string{v.fact()},
				Steps: []step{call(e.Client, "Unlock", e.Client.EPUnlock(v.ref()))}}
			if txs, err := e.Client.Transactions(ctx, v.ref()); err == nil {
				for _, t := range txs {
					if !client.Final(t.Status) {
						w.Notes = append(w.Notes, fmt.Sprintf("Transaction %d (%s) is %s and will be abandoned.", t.ID, humanAction(t.Action), t.Status))
						w.Facts = append(w.Facts, fmt.Sprintf("transaction %d (%s) is open", t.ID, t.Action))
					}
				}
			}
			return w, nil
		}),
		Show: func(e *Env, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("%s is unlocked.", a.String("vm"))
			return nil
		},
	}
}

// vmRebuild wipes a machine and builds it from a template. What it runs
// now and its power are facts: the body does not show them.
func vmRebuild() op {
	return op{Name: "vm rebuild", Summary: "Rebuild a machine from a template: its disk is wiped", Risk: sdk.RiskCritical,
		Params: []sdk.Param{vmP, sdk.String("template", "Template id or label (see /cloudflow templates)").AsRequired(),
			sdk.Bool("start", "Start it when built").WithDefault("yes")},
		Examples: []string{"/cloudflow vm rebuild bakery-site template=20"},
		Work: onVM(notLocked, func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			t, err := findTemplate(ctx, e.Client, a.String("template"))
			if err != nil {
				return nil, err
			}
			start := a.Bool("start")
			want := fmt.Sprintf("built from template #%d", t.ID)
			if start {
				want += " and running"
			}
			w := actionOn(e, v, fmt.Sprintf("Rebuild %s from %s (now %s)", v.label(), t.Label, v.TemplateLabel), "Rebuild",
				e.Client.EPBuild(v.ref(), t.ID, start),
				vmIs(e.Client, v.ref(), want, func(x *vm) bool { return x.Built && x.TemplateID == t.ID && (!start || x.Booted) }))
			w.Notes = []string{"Everything on its disks is lost; its IPs stay."}
			w.Facts = append(w.Facts, fmt.Sprintf("it runs template #%d %s", v.TemplateID, v.TemplateLabel))
			return w, nil
		}),
		Show: finished("%s is rebuilt."),
	}
}

// vmResize changes CPUs, memory or CPU shares. The size it has now is a
// fact: the summary says "(now ...)".
func vmResize() op {
	return op{Name: "vm resize", Summary: "Change a machine's CPUs and memory", Risk: sdk.RiskHigh,
		Params: []sdk.Param{vmP, sdk.Int("cpus", "CPUs").Between(1, 64), sdk.Size("memory", "Memory, like 4GB or 2048MB"),
			sdk.Int("shares", "CPU priority in percent").Between(1, 100)},
		Examples: []string{"/cloudflow vm resize shop-web cpus=4 memory=4GB"},
		Work: onVM(notLocked, func(ctx context.Context, e *Env, a sdk.Args, v *vm) (*work, error) {
			body, to, err := resizeTo(a, v)
			if err != nil {
				return nil, err
			}
			w := actionOn(e, v, "Resize "+v.label()+" to "+strings.Join(to, ", "), "Resize",
				e.Client.EPResize(v.ref(), body), resized(e.Client, v, body))
			if v.Booted {
				w.Notes = append(w.Notes, "It may be stopped and started again to apply the change; the bill changes.")
			}
			w.Facts = append(w.Facts, fmt.Sprintf("it has %d CPUs (%d%% shares) and %d MB", v.CPUs, v.CPUShares, v.Memory))
			return w, nil
		}),
		Show: finished("%s is resized."),
	}
}

// resized is a reached: machine v has the size body asks for.
func resized(c *client.Client, v *vm, body map[string]any) reached {
	var want []string
	cpus, hasCPUs := body["cpus"].(int64)
	mem, hasMem := body["memory"].(int64)
	shares, hasShares := body["cpu_shares"].(int64)
	if hasCPUs {
		want = append(want, fmt.Sprintf("%d CPUs", cpus))
	}
	if hasMem {
		want = append(want, fmt.Sprintf("%d MB", mem))
	}
	if hasShares {
		want = append(want, fmt.Sprintf("%d%% shares", shares))
	}
	return vmIs(c, v.ref(), "of "+strings.Join(want, ", "), func(x *vm) bool {
		return (!hasCPUs || int64(x.CPUs) == cpus) && (!hasMem || int64(x.Memory) == mem) && (!hasShares || int64(x.CPUShares) == shares)
	})
}

// resizeTo is the body of a resize of v, and the change in words.
func resizeTo(a sdk.Args, v *vm) (body map[string]any, to []string, err error) {
	body = map[string]any{"allow_cold_resize": "1", "allow_migration": "0"}
	if a.Has("cpus") {
		body["cpus"] = a.Int("cpus")
		to = append(to, fmt.Sprintf("%d CPUs (now %d)", a.Int("cpus"), v.CPUs))
	}
	if a.Has("memory") {
		m := a.Int("memory") / (1 << 20)
		if m < 128 || m%4 != 0 {
			return nil, nil, sdk.BadArg("memory", "give at least 128 MB, in a multiple of 4 MB")
		}
		body["memory"] = m
		to = append(to, fmt.Sprintf("%s memory (now %s)", mb(int(m)), mb(v.Memory)))
	}
	if a.Has("shares") {
		body["cpu_shares"] = a.Int("shares")
		to = append(to, fmt.Sprintf("%d%% CPU shares", a.Int("shares")))
	}
	if len(to) == 0 {
		return nil, nil, sdk.BadArg("cpus", "give cpus, memory or shares")
	}
	return body, to, nil
}

func mb(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d GB", n/1024)
	}
	return fmt.Sprintf("%d MB", n)
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
