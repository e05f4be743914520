package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ServeHTTP implements http.Handler: every call moves the clock, is
// logged, must sign in, and sees the transactions moved to now; then its
// route answers it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.o.Clock.Tick()
	s.calls.Add(r.Method + " " + r.URL.Path)
	if u, p, ok := r.BasicAuth(); !ok || u != s.o.User || p != s.o.Password {
		w.Header().Set("WWW-Authenticate", `Basic realm="OnApp"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "You need to sign in or sign up before continuing."})
		return
	}
	s.advance()
	in, ok := readBody(r)
	if !ok {
		errs(http.StatusUnprocessableEntity, w, "base", "the body is not JSON of the expected shape")
		return
	}
	// Every path ends in .json; the routes are written without it.
	path, ok := strings.CutSuffix(r.URL.Path, ".json")
	if !ok {
		noRoute(w, r.Method, r.URL.Path)
		return
	}
	u := *r.URL
	u.Path, u.RawPath = path, ""
	routed := r.WithContext(context.WithValue(r.Context(), bodyKey{}, in))
	routed.URL = &u
	s.mux.ServeHTTP(w, routed)
}

// routes are the API's calls, by method and path (without .json).
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"version": "6.7.0-sim"})
	})

	m.HandleFunc("GET /virtual_machines", s.listVMs)
	m.HandleFunc("GET /virtual_machines/{vm}", s.onVM(s.showVM))
	m.HandleFunc("GET /virtual_machines/{vm}/transactions", s.onVM(s.vmTransactions))
	m.HandleFunc("GET /virtual_machines/{vm}/disks", s.onVM(s.vmDisks))
	m.HandleFunc("GET /virtual_machines/{vm}/backups", s.onVM(s.vmBackups))
	m.HandleFunc("POST /virtual_machines/{vm}/unlock", s.onVM(s.unlock))
	m.HandleFunc("PUT /virtual_machines/{vm}", s.onVM(s.changing(s.resize)))
	m.HandleFunc("DELETE /virtual_machines/{vm}", s.onVM(s.unlocked(s.destroy)))
	m.HandleFunc("POST /virtual_machines/{vm}/startup", s.onVM(s.changing(s.startup)))
	m.HandleFunc("POST /virtual_machines/{vm}/shutdown", s.onVM(s.changing(s.powerOff("shutdown_virtual_machine"))))
	m.HandleFunc("POST /virtual_machines/{vm}/stop", s.onVM(s.changing(s.powerOff("stop_virtual_machine"))))
	m.HandleFunc("POST /virtual_machines/{vm}/reboot", s.onVM(s.changing(s.reboot)))
	m.HandleFunc("POST /virtual_machines/{vm}/build", s.onVM(s.changing(s.build)))
	m.HandleFunc("POST /virtual_machines/{vm}/suspend", s.onVM(s.unlocked(s.suspend)))

	m.HandleFunc("POST /settings/disks/{disk}/backups", s.takeBackup)
	m.HandleFunc("GET /backups/{backup}", s.onBackup(s.showBackup))
	m.HandleFunc("POST /backups/{backup}/restore", s.onBackup(s.restore))
	m.HandleFunc("DELETE /backups/{backup}", s.onBackup(s.deleteBackup))

	m.HandleFunc("GET /transactions", s.listTransactions)
	m.HandleFunc("GET /transactions/{tx}", s.showTransaction)
	m.HandleFunc("GET /templates", s.listTemplates)
	m.HandleFunc("GET /settings/hypervisors", s.listHypervisors)
	m.HandleFunc("GET /settings/hypervisors/{hv}", s.showHypervisor)
	m.HandleFunc("GET /users", s.listUsers)
	m.HandleFunc("GET /users/{user}", s.onUser(s.showUser))
	m.HandleFunc("GET /users/{user}/virtual_machines", s.onUser(s.userVMs))

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { noRoute(w, r.Method, r.URL.Path+".json") })
	return m
}

// body is a request's JSON by its root: {"virtual_machine": {...}}.
type body map[string]map[string]any

type bodyKey struct{}

// readBody reads a POST's or PUT's JSON; false if it is not of OnApp's
// shape.
func readBody(r *http.Request) (body, bool) {
	var in body
	if r.Body == nil || r.Method != http.MethodPost && r.Method != http.MethodPut {
		return in, true
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(strings.TrimSpace(string(b))) > 0 && json.Unmarshal(b, &in) != nil {
		return nil, false
	}
	return in, true
}

// bodyOf is the part of a request's body under root.
func bodyOf(r *http.Request, root string) map[string]any {
	in, _ := r.Context().Value(bodyKey{}).(body)
	return in[root]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func errs(status int, w http.ResponseWriter, field string, msgs ...string) {
	writeJSON(w, status, map[string]any{"errors": map[string][]string{field: msgs}})
}

func notFound(w http.ResponseWriter, what string) {
	errs(http.StatusNotFound, w, "base", what+" not found")
}

func noRoute(w http.ResponseWriter, method, path string) {
	errs(http.StatusNotFound, w, "base", "No route matches "+method+" "+path)
}

// page answers a list as OnApp does: page and per_page, everything if
// per_page is not given.
func page(list []any, r *http.Request) []any {
	if list == nil {
		list = []any{}
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if per <= 0 {
		return list
	}
	if p < 1 {
		p = 1
	}
	start := min((p-1)*per, len(list))
	return list[start:min(start+per, len(list))]
}

// wrapped is a list as OnApp sends it: each item under its type's name.
func wrapped[T any](root string, items []*T, keep func(*T) bool) []any {
	var out []any
	for _, x := range items {
		if keep == nil || keep(x) {
			out = append(out, map[string]any{root: x})
		}
	}
	return out
}

// pathID is the path's numeric value called name.
func pathID(r *http.Request, name string) (int, bool) {
	n, err := strconv.Atoi(r.PathValue(name))
	return n, err == nil
}

// Virtual machines.

type vmHandler func(w http.ResponseWriter, r *http.Request, v *VM)

// onVM finds the machine the path names (by id or identifier).
func (s *Server) onVM(h vmHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.vmByRef(r.PathValue("vm"))
		if v == nil {
			notFound(w, "Virtual machine")
			return
		}
		h(w, r, v)
	}
}

// unlocked refuses a change while the machine's transactions run.
func (s *Server) unlocked(h vmHandler) vmHandler {
	return func(w http.ResponseWriter, r *http.Request, v *VM) {
		if !s.refuseLocked(w, v) {
			h(w, r, v)
		}
	}
}

// refuseLocked answers that the machine is locked, if it is.
func (s *Server) refuseLocked(w http.ResponseWriter, v *VM) bool {
	if s.locked(v) {
		errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is locked while its transactions run")
		return true
	}
	return false
}

// changing refuses a change while the machine is locked or suspended.
func (s *Server) changing(h vmHandler) vmHandler {
	return s.unlocked(func(w http.ResponseWriter, r *http.Request, v *VM) {
		if v.Suspended {
			errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is suspended")
			return
		}
		h(w, r, v)
	})
}

// queued saves the transactions a call queued and answers with the machine.
func (s *Server) queued(w http.ResponseWriter, v *VM) {
	s.save()
	writeJSON(w, http.StatusCreated, s.vmJSON(v))
}

func (s *Server) listVMs(w http.ResponseWriter, r *http.Request) {
	s.writeVMs(w, r, func(v *VM) bool { return true })
}

func (s *Server) writeVMs(w http.ResponseWriter, r *http.Request, keep func(*VM) bool) {
	var out []any
	for _, v := range s.st.VMs {
		if !v.DeletedTxDone && keep(v) {
			out = append(out, s.vmJSON(v))
		}
	}
	writeJSON(w, http.StatusOK, page(out, r))
}

func (s *Server) showVM(w http.ResponseWriter, r *http.Request, v *VM) {
	writeJSON(w, http.StatusOK, s.vmJSON(v))
}

func (s *Server) vmTransactions(w http.ResponseWriter, r *http.Request, v *VM) {
	var txs []*Tx
	for _, t := range s.st.Txs {
		if t.VM == v.ID {
			txs = append(txs, t)
		}
	}
	sort.Slice(txs, func(i, j int) bool { return txs[i].ID > txs[j].ID })
	var out []any
	for _, t := range txs {
		out = append(out, s.txJSON(t))
	}
	writeJSON(w, http.StatusOK, page(out, r))
}

func (s *Server) vmDisks(w http.ResponseWriter, r *http.Request, v *VM) {
	writeJSON(w, http.StatusOK, page(wrapped("disk", s.st.Disks, func(d *Disk) bool { return d.VM == v.ID }), r))
}

func (s *Server) vmBackups(w http.ResponseWriter, r *http.Request, v *VM) {
	var out []any
	for _, b := range s.st.Backups {
		if b.VM == v.ID {
			out = append(out, map[string]any{"backup": s.backupJSON(b)})
		}
	}
	writeJSON(w, http.StatusOK, page(out, r))
}

// unlock cancels what is pending or running: the lock goes with it.
func (s *Server) unlock(w http.ResponseWriter, r *http.Request, v *VM) {
	for _, t := range s.st.Txs {
		if t.VM == v.ID && (t.Status == "pending" || t.Status == "running") {
			t.Status = "cancelled"
		}
	}
	s.save()
	writeJSON(w, http.StatusOK, s.vmJSON(v))
}

func (s *Server) resize(w http.ResponseWriter, r *http.Request, v *VM) {
	vb := bodyOf(r, "virtual_machine")
	cpus, _ := vb["cpus"].(float64)
	mem, _ := vb["memory"].(float64)
	shares, _ := vb["cpu_shares"].(float64)
	if cpus == 0 && mem == 0 && shares == 0 {
		errs(http.StatusUnprocessableEntity, w, "base", "Nothing to change")
		return
	}
	if mem != 0 && (int(mem) < 128 || int(mem)%4 != 0) {
		errs(http.StatusUnprocessableEntity, w, "memory", "must be at least 128 MB and a multiple of 4")
		return
	}
	arg, _ := json.Marshal(map[string]int{"CPUs": int(cpus), "Memory": int(mem), "Shares": int(shares)})
	if v.Booted {
		s.queue(v, string(arg), "stop_virtual_machine", "resize_virtual_machine", "startup_virtual_machine")
	} else {
		s.queue(v, string(arg), "resize_virtual_machine")
	}
	s.save()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) destroy(w http.ResponseWriter, r *http.Request, v *VM) {
	s.queue(v, "", "stop_virtual_machine", "destroy_virtual_machine")
	s.queued(w, v)
}

func (s *Server) startup(w http.ResponseWriter, r *http.Request, v *VM) {
	if v.Booted {
		errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is already booted")
		return
	}
	s.queue(v, "", "startup_virtual_machine")
	s.queued(w, v)
}

// powerOff is a shutdown or a stop: action is its transaction.
func (s *Server) powerOff(action string) vmHandler {
	return func(w http.ResponseWriter, r *http.Request, v *VM) {
		if !v.Booted {
			errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is not booted")
			return
		}
		s.queue(v, "", action)
		s.queued(w, v)
	}
}

func (s *Server) reboot(w http.ResponseWriter, r *http.Request, v *VM) {
	if !v.Booted {
		errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is not booted")
		return
	}
	if r.URL.Query().Get("mode") == "recovery" {
		s.queue(v, "", "stop_virtual_machine", "reboot_in_recovery")
	} else {
		s.queue(v, "", "stop_virtual_machine", "startup_virtual_machine")
	}
	s.queued(w, v)
}

func (s *Server) build(w http.ResponseWriter, r *http.Request, v *VM) {
	vb := bodyOf(r, "virtual_machine")
	tid := fmt.Sprint(vb["template_id"])
	n, err := strconv.Atoi(tid)
	found := false
	for _, t := range s.st.Templates {
		found = found || t.ID == n
	}
	if err != nil || !found {
		errs(http.StatusUnprocessableEntity, w, "template_id", "is not a template you may use")
		return
	}
	var chain []string
	if v.Booted {
		chain = append(chain, "stop_virtual_machine")
	}
	chain = append(chain, "format_disk", "build_disk", "configure_operating_system")
	if rs := fmt.Sprint(vb["required_startup"]); rs == "1" || rs == "true" {
		chain = append(chain, "startup_virtual_machine")
	}
	s.queue(v, tid, chain...)
	s.queued(w, v)
}

// suspend toggles, as OnApp's does; suspending stops a running machine.
func (s *Server) suspend(w http.ResponseWriter, r *http.Request, v *VM) {
	v.Suspended = !v.Suspended
	if v.Suspended && v.Booted {
		s.queue(v, "", "stop_virtual_machine")
	}
	s.queued(w, v)
}

// Backups.

func (s *Server) takeBackup(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "disk")
	var d *Disk
	for _, x := range s.st.Disks {
		if x.ID == id {
			d = x
		}
	}
	if d == nil {
		notFound(w, "Disk")
		return
	}
	v := s.vm(d.VM)
	if s.refuseLocked(w, v) {
		return
	}
	note, _ := bodyOf(r, "backup")["note"].(string)
	bk := &Backup{ID: s.id(), DiskID: d.ID, VM: d.VM, Note: note, CreatedAt: s.now()}
	s.st.Backups = append(s.st.Backups, bk)
	s.queue(v, strconv.Itoa(bk.ID), "take_backup")
	s.save()
	writeJSON(w, http.StatusCreated, map[string]any{"backup": s.backupJSON(bk)})
}

type backupHandler func(w http.ResponseWriter, r *http.Request, b *Backup, v *VM)

// onBackup finds the backup the path names, and its machine.
func (s *Server) onBackup(h backupHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		bk := s.backup(r.PathValue("backup"))
		if bk == nil {
			notFound(w, "Backup")
			return
		}
		v := s.vm(bk.VM)
		if v == nil {
			notFound(w, "Virtual machine")
			return
		}
		h(w, r, bk, v)
	}
}

func (s *Server) showBackup(w http.ResponseWriter, r *http.Request, b *Backup, v *VM) {
	writeJSON(w, http.StatusOK, map[string]any{"backup": s.backupJSON(b)})
}

// restore stops the machine, restores the disk and starts the machine
// again if it ran.
func (s *Server) restore(w http.ResponseWriter, r *http.Request, b *Backup, v *VM) {
	if s.refuseLocked(w, v) {
		return
	}
	if !b.Built {
		errs(http.StatusUnprocessableEntity, w, "base", "The backup is not built yet")
		return
	}
	chain := []string{"stop_virtual_machine", "restore_backup"}
	if v.Booted {
		chain = append(chain, "startup_virtual_machine")
	}
	s.queue(v, strconv.Itoa(b.ID), chain...)
	s.save()
	writeJSON(w, http.StatusCreated, map[string]any{"backup": s.backupJSON(b)})
}

func (s *Server) deleteBackup(w http.ResponseWriter, r *http.Request, b *Backup, v *VM) {
	if s.refuseLocked(w, v) {
		return
	}
	s.queue(v, strconv.Itoa(b.ID), "destroy_backup")
	s.save()
	w.WriteHeader(http.StatusNoContent)
}

// Transactions, templates, hypervisors, users.

func (s *Server) listTransactions(w http.ResponseWriter, r *http.Request) {
	var out []any
	for i := len(s.st.Txs) - 1; i >= 0; i-- {
		out = append(out, s.txJSON(s.st.Txs[i]))
	}
	writeJSON(w, http.StatusOK, page(out, r))
}

func (s *Server) showTransaction(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "tx")
	for _, t := range s.st.Txs {
		if t.ID == id {
			writeJSON(w, http.StatusOK, s.txJSON(t))
			return
		}
	}
	notFound(w, "Transaction")
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, page(wrapped("image_template", s.st.Templates, nil), r))
}

func (s *Server) listHypervisors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, page(wrapped("hypervisor", s.st.Hypervisors, nil), r))
}

func (s *Server) showHypervisor(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "hv")
	for _, h := range s.st.Hypervisors {
		if h.ID == id {
			writeJSON(w, http.StatusOK, map[string]any{"hypervisor": h})
			return
		}
	}
	notFound(w, "Hypervisor")
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, page(wrapped("user", s.st.Users, nil), r))
}

// onUser finds the user the path names.
func (s *Server) onUser(h func(w http.ResponseWriter, r *http.Request, u *User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _ := pathID(r, "user")
		for _, u := range s.st.Users {
			if u.ID == id {
				h(w, r, u)
				return
			}
		}
		notFound(w, "User")
	}
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, u *User) {
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) userVMs(w http.ResponseWriter, r *http.Request, u *User) {
	s.writeVMs(w, r, func(v *VM) bool { return v.UserID == u.ID })
}

// Answers, as OnApp shapes them.

func (s *Server) vmJSON(v *VM) map[string]any {
	tmpl := ""
	for _, t := range s.st.Templates {
		if t.ID == v.TemplateID {
			tmpl = t.Label
		}
	}
	var ips []any
	for _, ip := range v.IPs {
		ips = append(ips, map[string]any{"ip_address": map[string]any{"address": ip, "netmask": "255.255.255.0", "gateway": ip[:strings.LastIndex(ip, ".")] + ".1"}})
	}
	disk := 0
	for _, d := range s.st.Disks {
		if d.VM == v.ID && !d.IsSwap {
			disk += d.Size
		}
	}
	return map[string]any{"virtual_machine": map[string]any{
		"id": v.ID, "identifier": v.Identifier, "label": v.Label, "hostname": v.Hostname, "booted": v.Booted, "built": v.Built,
		"locked": s.locked(v), "suspended": v.Suspended, "cpus": v.CPUs, "cpu_shares": v.CPUShares, "memory": v.Memory,
		"total_disk_size": disk, "template_id": v.TemplateID, "template_label": tmpl, "hypervisor_id": v.HypervisorID,
		"user_id": v.UserID, "ip_addresses": ips, "initial_root_password": v.RootPassword,
		"initial_root_password_encryption_key": nil, "remote_access_password": v.RemotePass, "recovery_mode": v.RecoveryMode,
		"created_at": v.CreatedAt.UTC().Format(time.RFC3339), "updated_at": v.UpdatedAt.UTC().Format(time.RFC3339),
	}}
}

func (s *Server) txJSON(t *Tx) map[string]any {
	m := map[string]any{"id": t.ID, "action": t.Action, "status": t.Status, "parent_id": t.VM, "parent_type": "VirtualMachine",
		"created_at": t.Created.UTC().Format(time.RFC3339), "updated_at": s.now().UTC().Format(time.RFC3339)}
	if t.Status != "pending" {
		m["started_at"] = t.Start.UTC().Format(time.RFC3339)
	}
	return map[string]any{"transaction": m}
}

func (s *Server) backupJSON(b *Backup) map[string]any {
	return map[string]any{"id": b.ID, "disk_id": b.DiskID, "note": b.Note, "built": b.Built, "backup_size": b.Size,
		"backup_type": "normal", "target_type": "VirtualMachine", "target_id": b.VM, "created_at": b.CreatedAt.UTC().Format(time.RFC3339)}
}
