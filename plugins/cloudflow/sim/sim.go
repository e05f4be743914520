// Package sim is a CloudFlow (OnApp) control panel simulator: virtual
// machines whose actions queue transactions that move over time (pending,
// running, complete) and lock the machine meanwhile; disks, backups,
// templates, hypervisors and users; HTTP Basic auth; OnApp's wrapped JSON
// and {"errors": ...} bodies. Tests and sandbox mode use it.
package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
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
	// Machines adds that many machines (load-001, load-002, …, off) to
	// the seeded three, for tests of long lists.
	Machines int
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
	mux   *http.ServeMux
	calls sandbox.CallLog[string]
}

// New returns a simulator, with the state saved in Options.StateFile if
// there is one, or seeded.
func New(o Options) (*Server, error) {
	if o.StepTime == 0 {
		o.StepTime = time.Second
	}
	st := &State{}
	found, err := sandbox.LoadState(o.StateFile, st)
	if err != nil {
		return nil, err
	}
	if !found {
		st = seed(o.RootPassword, o.Machines)
	}
	o.Clock.Resume(st.Clock)
	s := &Server{o: o, st: st}
	s.mux = s.routes()
	return s, nil
}

// Listen serves the simulator on loopback and returns the base URL and a
// stop: sandbox.Listen(s), for callers that hold only the simulator.
func (s *Server) Listen() (string, func() error, error) { return sandbox.Listen(s) }

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

// Calls lists the latest requests served ("POST /virtual_machines/101/reboot.json").
func (s *Server) Calls() []string { return s.calls.Calls() }

func (s *Server) now() time.Time { return s.o.Clock.Now() }

// save keeps the state, with the clock's time so that a stepped clock
// resumes where it stopped.
func (s *Server) save() {
	if s.o.StateFile == "" {
		return
	}
	s.st.Clock = s.now()
	_ = sandbox.SaveState(s.o.StateFile, s.st)
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
		if b := s.backup(t.Argument); b != nil {
			b.Built, b.Size = true, 1_048_576
		}
	case "destroy_backup":
		s.st.Backups = slices.DeleteFunc(s.st.Backups, func(b *Backup) bool { return strconv.Itoa(b.ID) == t.Argument })
	case "destroy_virtual_machine":
		v.DeletedTxDone = true
	}
	v.UpdatedAt = s.now()
	s.save()
}

func (s *Server) backup(ref string) *Backup {
	for _, b := range s.st.Backups {
		if strconv.Itoa(b.ID) == ref {
			return b
		}
	}
	return nil
}

func seed(rootPassword string, machines int) *State {
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
	for i := 1; i <= machines; i++ {
		mk(1000+i, fmt.Sprintf("load-%03d", i), false, 1, 1024, 1, 1, 8, fmt.Sprintf("198.51.%d.%d", 101+i/250, 1+i%250), 10)
	}
	st.Backups = []*Backup{{ID: 5001, DiskID: 1020, VM: 102, Note: "before upgrade", Built: true, Size: 3_145_728, CreatedAt: t0.Add(240 * time.Hour)}}
	st.Txs = []*Tx{{ID: 8001, VM: 101, Action: "startup_virtual_machine", Created: t0, Start: t0, Status: "complete", Applied: true}}
	return st
}
