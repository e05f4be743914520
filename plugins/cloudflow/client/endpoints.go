package client

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/deskbot/deskbot/sdk/httpapi"
)

// Every request the plugin sends is made here, declared reading or
// changing by what it does at the panel (not by its method), and, for a
// change, with the command that shows whether it was carried out when its
// answer is lost. A change is sent once: a gateway's 502 or a reset after
// the panel did the work never makes the bot start, stop, rebuild or back
// up a machine twice (suspend.json toggles: a second one would undo the
// first).

// read is a reading request to the path made of segs.
func read(segs ...string) Request {
	p, err := httpapi.Path(segs...)
	return Request{Method: http.MethodGet, Path: p, Effect: httpapi.Reads, Err: err}
}

// change is a changing request; check is how a user sees whether it was
// carried out.
func change(method, check string, segs ...string) Request {
	p, err := httpapi.Path(segs...)
	return Request{Method: method, Path: p, Effect: httpapi.Changes, Check: check, Err: err}
}

// vmCheck is the check of an action on machine vm: its state and its
// transactions.
func vmCheck(vm string) string {
	return "`/cloudflow vm info " + vm + "` and `/cloudflow vm transactions " + vm + "`"
}

// --- Reads ---------------------------------------------------------------

// EPVersion is GET /version.json (the health check).
func (c *Client) EPVersion() Request { return read("version") }

// EPVMs is GET /virtual_machines.json (a list: see List).
func (c *Client) EPVMs() Request { return read("virtual_machines") }

// EPVM is GET /virtual_machines/:id.json; id may be the identifier.
func (c *Client) EPVM(vm string) Request { return read("virtual_machines", vm) }

// EPVMDisks is GET /virtual_machines/:id/disks.json.
func (c *Client) EPVMDisks(vm string) Request { return read("virtual_machines", vm, "disks") }

// EPVMBackups is GET /virtual_machines/:id/backups.json.
func (c *Client) EPVMBackups(vm string) Request { return read("virtual_machines", vm, "backups") }

// EPVMTransactions is GET /virtual_machines/:id/transactions.json, the
// newest 50.
func (c *Client) EPVMTransactions(vm string) Request {
	r := read("virtual_machines", vm, "transactions")
	r.Query = url.Values{"per_page": {"50"}}
	return r
}

// EPBackup is GET /backups/:id.json.
func (c *Client) EPBackup(id int) Request { return read("backups", strconv.Itoa(id)) }

// EPTemplates is GET /templates.json (a list).
func (c *Client) EPTemplates() Request { return read("templates") }

// EPHypervisors is GET /settings/hypervisors.json (a list; administrators
// only).
func (c *Client) EPHypervisors() Request { return read("settings", "hypervisors") }

// EPUsers is GET /users.json (a list).
func (c *Client) EPUsers() Request { return read("users") }

// EPUserVMs is GET /users/:id/virtual_machines.json (a list).
func (c *Client) EPUserVMs(user int) Request {
	return read("users", strconv.Itoa(user), "virtual_machines")
}

// --- Changes -------------------------------------------------------------

// EPStartup is POST /virtual_machines/:id/startup.json.
func (c *Client) EPStartup(vm string) Request {
	return change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "startup")
}

// EPShutdown is POST /virtual_machines/:id/shutdown.json (graceful).
func (c *Client) EPShutdown(vm string) Request {
	return change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "shutdown")
}

// EPStop is POST /virtual_machines/:id/stop.json (power off at once).
func (c *Client) EPStop(vm string) Request {
	return change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "stop")
}

// EPReboot is POST /virtual_machines/:id/reboot.json, with ?mode=recovery
// to boot into the recovery system.
func (c *Client) EPReboot(vm string, recovery bool) Request {
	r := change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "reboot")
	if recovery {
		r.Query = url.Values{"mode": {"recovery"}}
	}
	return r
}

// EPSuspend is POST /virtual_machines/:id/suspend.json, which toggles:
// it suspends a running machine and lifts a suspension.
func (c *Client) EPSuspend(vm string) Request {
	return change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "suspend")
}

// EPUnlock is POST /virtual_machines/:id/unlock.json.
func (c *Client) EPUnlock(vm string) Request {
	return change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "unlock")
}

// EPBuild is POST /virtual_machines/:id/build.json: a rebuild from
// template, which wipes the disk.
func (c *Client) EPBuild(vm string, template int, start bool) Request {
	r := change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "build")
	startup := "0"
	if start {
		startup = "1"
	}
	r.Root, r.Body = "virtual_machine", map[string]any{"template_id": strconv.Itoa(template), "required_startup": startup}
	return r
}

// EPResize is PUT /virtual_machines/:id.json with the new cpus, memory
// or cpu_shares: the seed's form (PUT alters an object's properties and
// answers 204), which OnApp's own API tests use. OnApp's Ruby client
// (squall) resizes with POST /virtual_machines/:id/resize.json instead
// (EPResizeByAction): the sources disagree, so the PUT carries the POST
// as its Fallback, sent only when the panel answers the PUT 404 or 405
// (no such route: nothing was done). After any other failure, a lost
// answer above all, nothing more is sent.
func (c *Client) EPResize(vm string, body map[string]any) Request {
	r := change(http.MethodPut, vmCheck(vm), "virtual_machines", vm)
	r.Root, r.Body = "virtual_machine", body
	fb := c.EPResizeByAction(vm, body)
	r.Fallback = &fb
	return r
}

// EPResizeByAction is POST /virtual_machines/:id/resize.json, the form
// OnApp's Ruby client (squall) uses.
func (c *Client) EPResizeByAction(vm string, body map[string]any) Request {
	r := change(http.MethodPost, vmCheck(vm), "virtual_machines", vm, "resize")
	r.Root, r.Body = "virtual_machine", body
	return r
}

// EPBackupCreate is POST /settings/disks/:disk_id/backups.json, a backup
// of a disk of machine vm.
func (c *Client) EPBackupCreate(vm string, disk int, note string) Request {
	r := change(http.MethodPost, "`/cloudflow vm backups "+vm+"`", "settings", "disks", strconv.Itoa(disk), "backups")
	body := map[string]any{}
	if note != "" {
		body["note"] = note
	}
	r.Root, r.Body = "backup", body
	return r
}

// EPBackupRestore is POST /backups/:id/restore.json, which overwrites a
// disk of machine vm.
func (c *Client) EPBackupRestore(vm string, backup int) Request {
	return change(http.MethodPost, vmCheck(vm), "backups", strconv.Itoa(backup), "restore")
}

// EPBackupDelete is DELETE /backups/:id.json, a backup of machine vm.
func (c *Client) EPBackupDelete(vm string, backup int) Request {
	return change(http.MethodDelete, "`/cloudflow vm backups "+vm+"` and `/cloudflow vm transactions "+vm+"`", "backups", strconv.Itoa(backup))
}
