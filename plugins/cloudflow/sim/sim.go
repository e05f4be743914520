// Package sim is a CloudFlow (OnApp) control panel simulator: virtual
// machines whose actions queue transactions that move over time (pending,
// running, complete) and lock the machine meanwhile; disks, backups,
// templates, hypervisors and users; HTTP Basic auth; OnApp's wrapped JSON
// and {"errors": ...} bodies. Tests and sandbox mode use it.
package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/sdk/sandbox"
)

// Options configure a simulator.
type Options struct {
	// User and Password (or API key) it accepts.
	User, Password string
	// StepTime is how long each transaction runs (1 s if zero).
	StepTime time.Duration
	// RootPassword is the initial_root_password of the seeded machines.
	RootPassword string
	StateFile    string
	// Clock moves transactions along (the wall clock if nil). A stepped
	// clock moves once per call answered, so a transaction takes a known
	// number of polls whatever the machine's speed.
	Clock *sandbox.Clock
}

// VM is a virtual machine.
type VM struct {
	ID            int       `json:"id"`
	Identifier    string    `json:"identifier"`
	Label         string    `json:"label"`
	Hostname      string    `json:"hostname"`
	Booted        bool      `json:"booted"`
	Built         bool      `json:"built"`
	Suspended     bool      `json:"suspended"`
	CPUs          int       `json:"cpus"`
	CPUShares     int       `json:"cpu_shares"`
	Memory        int       `json:"memory"`
	TemplateID    int       `json:"template_id"`
	HypervisorID  int       `json:"hypervisor_id"`
	UserID        int       `json:"user_id"`
	IPs           []string  `json:"ips"`
	RootPassword  string    `json:"initial_root_password"`
	RemotePass    string    `json:"remote_access_password"`
	RecoveryMode  bool      `json:"recovery_mode"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	DeletedTxDone bool      `json:"deleted,omitempty"`
}

// Disk is a virtual machine's disk.
type Disk struct {
	ID      int    `json:"id"`
	VM      int    `json:"virtual_machine_id"`
	Label   string `json:"label"`
	Size    int    `json:"disk_size"`
	Primary bool   `json:"primary"`
	IsSwap  bool   `json:"is_swap"`
}

// Backup is a disk backup.
type Backup struct {
	ID        int       `json:"id"`
	DiskID    int       `json:"disk_id"`
	VM        int       `json:"vm"`
	Note      string    `json:"note"`
	Built     bool      `json:"built"`
	Size      int       `json:"backup_size"`
	CreatedAt time.Time `json:"created_at"`
}

// Template is an OS image.
type Template struct {
	ID       int    `json:"id"`
	Label    string `json:"label"`
	OS       string `json:"operating_system"`
	Distro   string `json:"operating_system_distro"`
	MinDisk  int    `json:"min_disk_size"`
	MinMem   int    `json:"min_memory_size"`
	Version  string `json:"version"`
	Allowed  bool   `json:"allowed_swap"`
	Virtual  string `json:"virtualization"`
	Template string `json:"file_name"`
}

// Hypervisor is a compute resource.
type Hypervisor struct {
	ID       int    `json:"id"`
	Label    string `json:"label"`
	IP       string `json:"ip_address"`
	Online   bool   `json:"online"`
	Type     string `json:"hypervisor_type"`
	MemFree  int    `json:"free_memory"`
	MemTotal int    `json:"total_memory"`
}

// User is a control panel user.
type User struct {
	ID        int    `json:"id"`
	Login     string `json:"login"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Status    string `json:"status"`
	APIKey    string `json:"api_key"`
}

// Tx is a transaction; its status follows from the chain's start.
type Tx struct {
	ID       int       `json:"id"`
	VM       int       `json:"vm"`
	Action   string    `json:"action"`
	Start    time.Time `json:"start"` // when it begins running
	Created  time.Time `json:"created"`
	Status   string    `json:"status"`
	Applied  bool      `json:"applied"`
	Argument string    `json:"argument,omitempty"`
}

// State is everything the simulator holds.
type State struct {
	VMs         []*VM         `json:"virtual_machines"`
	Disks       []*Disk       `json:"disks"`
	Backups     []*Backup     `json:"backups"`
	Templates   []*Template   `json:"templates"`
	Hypervisors []*Hypervisor `json:"hypervisors"`
	Users       []*User       `json:"users"`
	Txs         []*Tx         `json:"transactions"`
	NextID      int           `json:"next_id"`
	// Clock is the simulator's time when the state was saved, so that a
	// stepped clock resumes where it stopped.
	Clock time.Time `json:"clock,omitzero"`
}

// Server is the simulator.
type Server struct {
	mu    sync.Mutex
	o     Options
	st    *State
	now   func() time.Time
	calls []string
}

// New returns a simulator.
func New(o Options) (*Server, error) {
	if o.StepTime == 0 {
		o.StepTime = time.Second
	}
	s := &Server{o: o, now: o.Clock.Now}
	if o.StateFile != "" {
		if b, err := os.ReadFile(o.StateFile); err == nil {
			var st State
			if err := json.Unmarshal(b, &st); err != nil {
				return nil, fmt.Errorf("simulator state %s: %w", o.StateFile, err)
			}
			s.st = &st
		} else if !os.IsNotExist(err) {
			return nil, err
		}
	}
	if s.st == nil {
		s.st = seed(o.RootPassword)
	}
	o.Clock.Resume(s.st.Clock)
	return s, nil
}

// Listen serves on loopback and returns the base URL and a stop.
func (s *Server) Listen() (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv.Close, nil
}

// Snapshot returns the state as JSON.
func (s *Server) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	b, _ := json.Marshal(s.st)
	return string(b)
}

// VM returns a copy of a machine.
func (s *Server) VM(id int) (VM, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if v := s.vm(id); v != nil {
		return *v, true
	}
	return VM{}, false
}

// Calls lists the requests served ("POST /virtual_machines/101/reboot.json").
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *Server) save() {
	if s.o.StateFile == "" {
		return
	}
	s.st.Clock = s.now()
	b, _ := json.MarshalIndent(s.st, "", " ")
	_ = os.MkdirAll(filepath.Dir(s.o.StateFile), 0o700)
	tmp := s.o.StateFile + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, s.o.StateFile)
	}
}

func (s *Server) id() int {
	s.st.NextID++
	return s.st.NextID
}

func (s *Server) vm(id int) *VM {
	for _, v := range s.st.VMs {
		if v.ID == id && !v.DeletedTxDone {
			return v
		}
	}
	return nil
}

func (s *Server) vmByRef(ref string) *VM {
	if n, err := strconv.Atoi(ref); err == nil {
		return s.vm(n)
	}
	for _, v := range s.st.VMs {
		if v.Identifier == ref && !v.DeletedTxDone {
			return v
		}
	}
	return nil
}

func (s *Server) locked(v *VM) bool {
	for _, t := range s.st.Txs {
		if t.VM == v.ID && (t.Status == "pending" || t.Status == "running") {
			return true
		}
	}
	return false
}

// queue adds a chain of transactions that run one after another.
func (s *Server) queue(v *VM, arg string, actions ...string) {
	now := s.now()
	start := now
	for _, t := range s.st.Txs {
		if t.VM == v.ID && !t.Start.IsZero() && t.Start.Add(s.o.StepTime).After(start) {
			start = t.Start.Add(s.o.StepTime)
		}
	}
	for i, a := range actions {
		s.st.Txs = append(s.st.Txs, &Tx{ID: s.id(), VM: v.ID, Action: a, Created: now, Start: start.Add(time.Duration(i) * s.o.StepTime), Status: "pending", Argument: arg})
	}
	v.UpdatedAt = now
}

// advance moves transactions to now and applies finished ones.
func (s *Server) advance() {
	now := s.now()
	for _, t := range s.st.Txs {
		if t.Status == "cancelled" || t.Status == "failed" || t.Applied {
			continue
		}
		switch {
		case now.Before(t.Start):
			t.Status = "pending"
		case now.Before(t.Start.Add(s.o.StepTime)):
			t.Status = "running"
		default:
			t.Status = "complete"
			t.Applied = true
			s.apply(t)
		}
	}
}

func (s *Server) apply(t *Tx) {
	v := s.vm(t.VM)
	if v == nil {
		return
	}
	switch t.Action {
	case "startup_virtual_machine":
		v.Booted = true
	case "reboot_in_recovery":
		v.Booted, v.RecoveryMode = true, true
	case "stop_virtual_machine", "shutdown_virtual_machine":
		v.Booted, v.RecoveryMode = false, false
	case "build_disk":
		if n, err := strconv.Atoi(t.Argument); err == nil {
			v.TemplateID = n
		}
		v.Built = true
	case "resize_virtual_machine":
		var r struct{ CPUs, Memory, Shares int }
		_ = json.Unmarshal([]byte(t.Argument), &r)
		if r.CPUs > 0 {
			v.CPUs = r.CPUs
		}
		if r.Memory > 0 {
			v.Memory = r.Memory
		}
		if r.Shares > 0 {
			v.CPUShares = r.Shares
		}
	case "take_backup":
		if n, err := strconv.Atoi(t.Argument); err == nil {
			for _, b := range s.st.Backups {
				if b.ID == n {
					b.Built, b.Size = true, 1_048_576
				}
			}
		}
	case "destroy_backup":
		if n, err := strconv.Atoi(t.Argument); err == nil {
			for i, b := range s.st.Backups {
				if b.ID == n {
					s.st.Backups = append(s.st.Backups[:i], s.st.Backups[i+1:]...)
					break
				}
			}
		}
	case "destroy_virtual_machine":
		v.DeletedTxDone = true
	}
	v.UpdatedAt = s.now()
	s.save()
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

var (
	vmPath     = regexp.MustCompile(`^/virtual_machines/([^/]+)(/[a-z_]+)?\.json$`)
	diskBackup = regexp.MustCompile(`^/settings/disks/(\d+)/backups\.json$`)
	backupPath = regexp.MustCompile(`^/backups/(\d+)(/restore)?\.json$`)
	txPath     = regexp.MustCompile(`^/transactions/(\d+)\.json$`)
	hvPath     = regexp.MustCompile(`^/settings/hypervisors/(\d+)\.json$`)
	userPath   = regexp.MustCompile(`^/users/(\d+)(/virtual_machines)?\.json$`)
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.o.Clock.Tick()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	if len(s.calls) > 2*keepCalls { // a long-running sandbox keeps the latest only
		s.calls = append(s.calls[:0:0], s.calls[len(s.calls)-keepCalls:]...)
	}
	u, p, ok := r.BasicAuth()
	if !ok || u != s.o.User || p != s.o.Password {
		w.Header().Set("WWW-Authenticate", `Basic realm="OnApp"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "You need to sign in or sign up before continuing."})
		return
	}
	s.advance()
	var body map[string]map[string]any
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(strings.TrimSpace(string(b))) > 0 && json.Unmarshal(b, &body) != nil {
			errs(http.StatusUnprocessableEntity, w, "base", "the body is not JSON of the expected shape")
			return
		}
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/version.json":
		writeJSON(w, 200, map[string]any{"version": "6.7.0-sim"})
	case r.Method == http.MethodGet && path == "/virtual_machines.json":
		var out []any
		for _, v := range s.st.VMs {
			if !v.DeletedTxDone {
				out = append(out, s.vmJSON(v))
			}
		}
		writeJSON(w, 200, page(out, r))
	case vmPath.MatchString(path):
		m := vmPath.FindStringSubmatch(path)
		v := s.vmByRef(m[1])
		if v == nil {
			errs(http.StatusNotFound, w, "base", "Virtual machine not found")
			return
		}
		s.vmRoute(w, r, v, strings.TrimPrefix(m[2], "/"), body)
	case r.Method == http.MethodPost && diskBackup.MatchString(path):
		id, _ := strconv.Atoi(diskBackup.FindStringSubmatch(path)[1])
		var d *Disk
		for _, x := range s.st.Disks {
			if x.ID == id {
				d = x
			}
		}
		if d == nil {
			errs(http.StatusNotFound, w, "base", "Disk not found")
			return
		}
		v := s.vm(d.VM)
		if s.locked(v) {
			errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is locked while its transactions run")
			return
		}
		note := ""
		if b, ok := body["backup"]; ok {
			note, _ = b["note"].(string)
		}
		bk := &Backup{ID: s.id(), DiskID: d.ID, VM: d.VM, Note: note, CreatedAt: s.now()}
		s.st.Backups = append(s.st.Backups, bk)
		s.queue(v, strconv.Itoa(bk.ID), "take_backup")
		s.save()
		writeJSON(w, http.StatusCreated, map[string]any{"backup": s.backupJSON(bk)})
	case backupPath.MatchString(path):
		m := backupPath.FindStringSubmatch(path)
		id, _ := strconv.Atoi(m[1])
		var bk *Backup
		for _, b := range s.st.Backups {
			if b.ID == id {
				bk = b
			}
		}
		if bk == nil {
			errs(http.StatusNotFound, w, "base", "Backup not found")
			return
		}
		v := s.vm(bk.VM)
		if v == nil {
			errs(http.StatusNotFound, w, "base", "Virtual machine not found")
			return
		}
		if s.locked(v) {
			errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is locked while its transactions run")
			return
		}
		switch {
		case m[2] == "/restore" && r.Method == http.MethodPost:
			if !bk.Built {
				errs(http.StatusUnprocessableEntity, w, "base", "The backup is not built yet")
				return
			}
			chain := []string{"stop_virtual_machine", "restore_backup"}
			if v.Booted {
				chain = append(chain, "startup_virtual_machine")
			}
			s.queue(v, strconv.Itoa(bk.ID), chain...)
			s.save()
			writeJSON(w, http.StatusCreated, map[string]any{"backup": s.backupJSON(bk)})
		case m[2] == "" && r.Method == http.MethodDelete:
			s.queue(v, strconv.Itoa(bk.ID), "destroy_backup")
			s.save()
			w.WriteHeader(http.StatusNoContent)
		case m[2] == "" && r.Method == http.MethodGet:
			writeJSON(w, 200, map[string]any{"backup": s.backupJSON(bk)})
		default:
			errs(http.StatusNotFound, w, "base", "No route")
		}
	case r.Method == http.MethodGet && path == "/transactions.json":
		var out []any
		for i := len(s.st.Txs) - 1; i >= 0; i-- {
			out = append(out, s.txJSON(s.st.Txs[i]))
		}
		writeJSON(w, 200, page(out, r))
	case r.Method == http.MethodGet && txPath.MatchString(path):
		id, _ := strconv.Atoi(txPath.FindStringSubmatch(path)[1])
		for _, t := range s.st.Txs {
			if t.ID == id {
				writeJSON(w, 200, s.txJSON(t))
				return
			}
		}
		errs(http.StatusNotFound, w, "base", "Transaction not found")
	case r.Method == http.MethodGet && path == "/templates.json":
		var out []any
		for _, t := range s.st.Templates {
			out = append(out, map[string]any{"image_template": t})
		}
		writeJSON(w, 200, page(out, r))
	case r.Method == http.MethodGet && path == "/settings/hypervisors.json":
		var out []any
		for _, h := range s.st.Hypervisors {
			out = append(out, map[string]any{"hypervisor": h})
		}
		writeJSON(w, 200, page(out, r))
	case r.Method == http.MethodGet && hvPath.MatchString(path):
		id, _ := strconv.Atoi(hvPath.FindStringSubmatch(path)[1])
		for _, h := range s.st.Hypervisors {
			if h.ID == id {
				writeJSON(w, 200, map[string]any{"hypervisor": h})
				return
			}
		}
		errs(http.StatusNotFound, w, "base", "Hypervisor not found")
	case r.Method == http.MethodGet && path == "/users.json":
		var out []any
		for _, u := range s.st.Users {
			out = append(out, map[string]any{"user": u})
		}
		writeJSON(w, 200, page(out, r))
	case r.Method == http.MethodGet && userPath.MatchString(path):
		m := userPath.FindStringSubmatch(path)
		id, _ := strconv.Atoi(m[1])
		for _, u := range s.st.Users {
			if u.ID != id {
				continue
			}
			if m[2] == "" {
				writeJSON(w, 200, map[string]any{"user": u})
				return
			}
			var out []any
			for _, v := range s.st.VMs {
				if v.UserID == id && !v.DeletedTxDone {
					out = append(out, s.vmJSON(v))
				}
			}
			writeJSON(w, 200, page(out, r))
			return
		}
		errs(http.StatusNotFound, w, "base", "User not found")
	default:
		errs(http.StatusNotFound, w, "base", "No route matches "+r.Method+" "+path)
	}
}

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

func (s *Server) vmRoute(w http.ResponseWriter, r *http.Request, v *VM, sub string, body map[string]map[string]any) {
	get := r.Method == http.MethodGet
	switch {
	case get && sub == "":
		writeJSON(w, 200, s.vmJSON(v))
		return
	case get && sub == "transactions":
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
		writeJSON(w, 200, page(out, r))
		return
	case get && sub == "disks":
		var out []any
		for _, d := range s.st.Disks {
			if d.VM == v.ID {
				out = append(out, map[string]any{"disk": d})
			}
		}
		writeJSON(w, 200, page(out, r))
		return
	case get && sub == "backups":
		var out []any
		for _, b := range s.st.Backups {
			if b.VM == v.ID {
				out = append(out, map[string]any{"backup": s.backupJSON(b)})
			}
		}
		writeJSON(w, 200, page(out, r))
		return
	case get:
		errs(http.StatusNotFound, w, "base", "No route")
		return
	}
	if sub == "unlock" && r.Method == http.MethodPost {
		for _, t := range s.st.Txs {
			if t.VM == v.ID && (t.Status == "pending" || t.Status == "running") {
				t.Status = "cancelled"
			}
		}
		s.save()
		writeJSON(w, 200, s.vmJSON(v))
		return
	}
	if s.locked(v) {
		errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is locked while its transactions run")
		return
	}
	if v.Suspended && sub != "suspend" && !(r.Method == http.MethodDelete) {
		errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is suspended")
		return
	}
	vb := body["virtual_machine"]
	switch {
	case r.Method == http.MethodPut && sub == "":
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
		return
	case r.Method == http.MethodDelete && sub == "":
		s.queue(v, "", "stop_virtual_machine", "destroy_virtual_machine")
		s.save()
		writeJSON(w, http.StatusCreated, s.vmJSON(v))
		return
	case r.Method != http.MethodPost:
		errs(http.StatusNotFound, w, "base", "No route")
		return
	}
	switch sub {
	case "startup":
		if v.Booted {
			errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is already booted")
			return
		}
		s.queue(v, "", "startup_virtual_machine")
	case "shutdown", "stop":
		if !v.Booted {
			errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is not booted")
			return
		}
		s.queue(v, "", sub+"_virtual_machine")
	case "reboot":
		if !v.Booted {
			errs(http.StatusUnprocessableEntity, w, "base", "Virtual machine is not booted")
			return
		}
		if r.URL.Query().Get("mode") == "recovery" {
			s.queue(v, "", "stop_virtual_machine", "reboot_in_recovery")
		} else {
			s.queue(v, "", "stop_virtual_machine", "startup_virtual_machine")
		}
	case "build":
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
		chain := []string{}
		if v.Booted {
			chain = append(chain, "stop_virtual_machine")
		}
		chain = append(chain, "format_disk", "build_disk", "configure_operating_system")
		if rs := fmt.Sprint(vb["required_startup"]); rs == "1" || rs == "true" {
			chain = append(chain, "startup_virtual_machine")
		}
		s.queue(v, tid, chain...)
	case "suspend":
		v.Suspended = !v.Suspended
		if v.Suspended && v.Booted {
			s.queue(v, "", "stop_virtual_machine")
		}
	default:
		errs(http.StatusNotFound, w, "base", "No route")
		return
	}
	s.save()
	writeJSON(w, http.StatusCreated, s.vmJSON(v))
}

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

func seed(rootPassword string) *State {
	if rootPassword == "" {
		rootPassword = "Zx81Qw!sim"
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	st := &State{NextID: 9000,
		Templates: []*Template{
			{ID: 1, Label: "CentOS 7 x64", OS: "linux", Distro: "rhel", MinDisk: 5, MinMem: 512, Version: "7.9", Virtual: "xen,kvm"},
			{ID: 12, Label: "Ubuntu 22.04 x64", OS: "linux", Distro: "ubuntu", MinDisk: 10, MinMem: 1024, Version: "22.04", Virtual: "kvm"},
			{ID: 20, Label: "Debian 12 x64", OS: "linux", Distro: "debian", MinDisk: 8, MinMem: 512, Version: "12", Virtual: "kvm"},
			{ID: 31, Label: "Windows 2022 Standard", OS: "windows", Distro: "2022", MinDisk: 40, MinMem: 4096, Version: "2022", Virtual: "kvm"},
		},
		Hypervisors: []*Hypervisor{
			{ID: 1, Label: "milan-hv01", IP: "10.0.0.11", Online: true, Type: "kvm", MemFree: 98304, MemTotal: 262144},
			{ID: 2, Label: "milan-hv02", IP: "10.0.0.12", Online: true, Type: "kvm", MemFree: 131072, MemTotal: 262144},
		},
		Users: []*User{
			{ID: 7, Login: "acme", Email: "ops@acme.example", FirstName: "Acme", LastName: "Ltd", Status: "active", APIKey: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"},
			{ID: 8, Login: "bakery", Email: "it@bakery.example", FirstName: "Corner", LastName: "Bakery", Status: "active", APIKey: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"},
		},
	}
	mk := func(id int, label string, booted bool, cpus, mem, tmpl, hv, user int, ip string, disks ...int) {
		v := &VM{ID: id, Identifier: fmt.Sprintf("vm%dabcdefghij", id)[:14], Label: label, Hostname: label + ".example.net", Booted: booted, Built: true,
			CPUs: cpus, CPUShares: 100, Memory: mem, TemplateID: tmpl, HypervisorID: hv, UserID: user, IPs: []string{ip},
			RootPassword: rootPassword, RemotePass: "vnc-" + rootPassword, CreatedAt: t0, UpdatedAt: t0}
		st.VMs = append(st.VMs, v)
		for i, size := range disks {
			st.Disks = append(st.Disks, &Disk{ID: id*10 + i, VM: id, Label: fmt.Sprintf("Disk %d", i+1), Size: size, Primary: i == 0})
		}
		st.Disks = append(st.Disks, &Disk{ID: id*10 + 9, VM: id, Label: "Swap", Size: 1, IsSwap: true})
	}
	mk(101, "shop-web", true, 2, 2048, 12, 1, 7, "198.51.100.21", 20)
	mk(102, "shop-db", true, 4, 8192, 20, 2, 7, "198.51.100.22", 40, 100)
	mk(103, "bakery-site", false, 1, 1024, 1, 1, 8, "198.51.100.23", 10)
	st.Backups = []*Backup{{ID: 5001, DiskID: 1020, VM: 102, Note: "before upgrade", Built: true, Size: 3_145_728, CreatedAt: t0.Add(240 * time.Hour)}}
	st.Txs = []*Tx{{ID: 8001, VM: 101, Action: "startup_virtual_machine", Created: t0, Start: t0, Status: "complete", Applied: true}}
	return st
}

// keepCalls is how many served calls the simulator remembers.
const keepCalls = 1000
