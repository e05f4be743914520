// Package sim is a stateful simulator of the CloudLinux Network REST API,
// faithful to its reference: the token algorithm with a timestamp window,
// the {success,message,data} envelope, the .plain form, bare v2 answers,
// and the failures that look like successes (data:false, data:null,
// set_cidr codes). Tests and sandbox mode use it.
package sim

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/sdk/sandbox"
)

// State is everything the simulator holds; it is what Snapshot dumps and
// the state file keeps.
type State struct {
	NextID     int64                  `json:"next_id"`
	CLKeys     []*CLKey               `json:"cl_keys"`
	CLServers  []*CLServer            `json:"cl_servers"`
	SubServers []SubServer            `json:"sub_servers"`
	ELSKeys    []*ELSKey              `json:"els_keys"`
	ELSServers []*ELSServer           `json:"els_servers"`
	IMKeys     []*IMKey               `json:"im_keys"`
	IMServers  []*IMServer            `json:"im_servers"`
	IPL        []*IPLicense           `json:"ipl"`
	KCKeys     []*KCKey               `json:"kc_keys"`
	KCServers  []*KCServer            `json:"kc_servers"`
	Groups     []*Group               `json:"groups"`
	Backups    []*Backup              `json:"backups"`
	AWP        map[string][]AWPEntry  `json:"awp"`
	Features   map[string]string      `json:"features"`
	Monitoring map[string]string      `json:"monitoring"` // nagios key → KC key
	Extra      map[string]interface{} `json:"-"`
}

// CLKey is a v2 CloudLinux key.
type CLKey struct {
	Key         string `json:"key"`
	ProductType string `json:"product_type"`
	UsageLimit  int64  `json:"usage_limit"`
	Description string `json:"description"`
}

// CLServer is a v2 CloudLinux server.
type CLServer struct {
	ID          int64  `json:"id"`
	Key         string `json:"key"`
	IP          string `json:"ip"`
	Hostname    string `json:"hostname"`
	ProductType string `json:"-"`
}

// SubServer is a sub-account's server.
type SubServer struct {
	SubAccountLogin string `json:"sub_account_login"`
	SubAccountEmail string `json:"sub_account_email"`
	ServerID        int64  `json:"server_id"`
	ServerKey       string `json:"server_key"`
	Version         int    `json:"version"`
	IP              string `json:"ip"`
}

// ELSKey is an ELS key.
type ELSKey struct {
	Key         string `json:"key"`
	ProductCode string `json:"productCode"`
	UsageLimit  string `json:"usageLimit"`
	Description string `json:"description"`
}

// ELSServer is an ELS server.
type ELSServer struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	IP          string `json:"ip"`
	Hostname    string `json:"hostname"`
	LastCheckin string `json:"lastCheckin"`
	Product     string `json:"product"`
}

// IMKey is an Imunify key.
type IMKey struct {
	Key   string `json:"key"`
	Limit string `json:"limit"`
	Code  string `json:"code"`
	Note  string `json:"note"`
}

// IMServer is an Imunify server.
type IMServer struct {
	ID          string `json:"id"`
	IP          string `json:"ip"`
	Key         string `json:"key"`
	LastCheckin string `json:"last_checkin"`
}

// IPLicense is an IP licence. Owner "" is the simulated account; others
// belong to other customers.
type IPLicense struct {
	IP          string `json:"ip"`
	Type        int    `json:"type"`
	Registered  bool   `json:"registered"`
	Created     string `json:"created"`
	ServerInfo  string `json:"server_info"`
	LastCheckin string `json:"last_checkin"`
	ElsAllowed  bool   `json:"els_allowed"`
	Owner       string `json:"owner,omitempty"`
}

// KCKey is a KernelCare key.
type KCKey struct {
	Key     string   `json:"key"`
	Enabled bool     `json:"enabled"`
	Created string   `json:"created"`
	Limit   int64    `json:"limit"`
	Note    string   `json:"note"`
	CIDRs   []string `json:"cidrs,omitempty"`
}

// KCServer is a KernelCare server.
type KCServer struct {
	ServerID    string `json:"server_id"`
	Key         string `json:"key"`
	IP          string `json:"ip"`
	Created     string `json:"created"`
	LastCheckin string `json:"last_checkin"`
	UpToDate    bool   `json:"up_to_date"`
}

// Group is a server group.
type Group struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Servers     []string `json:"servers"`
}

// Backup is a CloudLinux Backup.
type Backup struct {
	ServerID   string `json:"serverId"`
	Size       int64  `json:"size"`
	BackupID   int64  `json:"backupId"`
	Datacenter string `json:"datacenter"`
}

// AWPEntry is a billable AccelerateWP entity.
type AWPEntry struct {
	Product       string  `json:"product"`
	PrimaryDomain string  `json:"primary_domain"`
	Username      *string `json:"username"`
	CDNLimitType  string  `json:"cdn_limit_type,omitempty"`
}

// Server is the simulator.
type Server struct {
	mu       sync.Mutex
	st       *State
	accounts map[string]string
	// Window is how far a token's timestamp may be from the clock.
	Window time.Duration
	clock  *sandbox.Clock
	path   string
	calls  sandbox.CallLog[Call]
}

// Call is one request the simulator served.
type Call struct {
	Method string
	Path   string
	Query  string
}

// Options configure a simulator.
type Options struct {
	// Accounts maps logins to secret keys.
	Accounts map[string]string
	// StateFile, if set, keeps the state across restarts.
	StateFile string
	// Empty starts without the demo data.
	Empty bool
	// Clock is the simulator's time (the wall clock if nil): it checks
	// tokens' timestamps and dates what is created. A client sharing a
	// stepped clock makes tokens the simulator accepts.
	Clock *sandbox.Clock
}

// New returns a simulator.
func New(o Options) (*Server, error) {
	s := &Server{accounts: o.Accounts, Window: 5 * time.Minute, clock: o.Clock, path: o.StateFile}
	var st State
	loaded, err := sandbox.LoadState(s.path, &st)
	if err != nil {
		return nil, err
	}
	s.st = &st
	if !loaded && !o.Empty {
		seed(s.st)
	}
	if s.st.AWP == nil {
		s.st.AWP = map[string][]AWPEntry{}
	}
	if s.st.Features == nil {
		s.st.Features = map[string]string{}
	}
	if s.st.Monitoring == nil {
		s.st.Monitoring = map[string]string{}
	}
	return s, nil
}

// Snapshot returns the whole state as JSON: Plan must not change it.
func (s *Server) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(s.st)
	return string(b)
}

// Calls returns the latest calls served, oldest first.
func (s *Server) Calls() []Call { return s.calls.Calls() }

// Update changes the state directly (tests set up odd cases with it).
func (s *Server) Update(f func(*State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.st)
	s.save()
}

// save keeps the state in the state file, if there is one. A state that
// cannot be written leaves the previous one whole; the simulator goes on
// answering from memory, as it always has.
func (s *Server) save() { _ = sandbox.SaveState(s.path, s.st) }

// Listen serves the simulator on a loopback port (sandbox.Listen) and
// returns its base URL, ending in /api as CLN's does, and a function that
// stops it.
func (s *Server) Listen() (baseURL string, stop func() error, err error) {
	base, stop, err := sandbox.Listen(s)
	return base + "/api", stop, err
}

const timeLayout = "2006-01-02T15:04-0700"

func (s *Server) stamp() string { return s.clock.Now().UTC().Format(timeLayout) }

func (s *Server) id(prefix string) string {
	s.st.NextID++
	return fmt.Sprintf("%s%s", prefix, strings.ToUpper(strconv.FormatInt(s.st.NextID*7919+104729, 36)))
}

// ok writes the envelope.
func ok(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "message": "", "data": data})
}

// okMsg writes a success envelope with a message (kcare srv/remove).
func okMsg(w http.ResponseWriter, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "message": msg, "type": nil, "data": data})
}

func fail(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "message": msg, "data": nil})
}

// bare writes a v2 answer without the envelope.
func bare(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(data)
}

// authorize checks the token: login|ts|sha1(secret+ts), ts within the window.
func (s *Server) authorize(token string) (string, bool) {
	parts := strings.Split(token, "|")
	if len(parts) != 3 {
		return "", false
	}
	secret, known := s.accounts[parts[0]]
	if !known {
		return "", false
	}
	ts, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", false
	}
	if math.Abs(float64(s.clock.Now().Unix()-ts)) > s.Window.Seconds() {
		return "", false
	}
	sum := sha1.Sum([]byte(secret + parts[1]))
	return parts[0], hex.EncodeToString(sum[:]) == parts[2]
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api")
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.Add(Call{Method: r.Method, Path: path, Query: r.URL.RawQuery})
	defer s.clock.Tick() // the call is answered at the clock's time, then time moves on

	switch {
	case path == "/status.json":
		ok(w, map[string]bool{"db_clweb_connected": true, "db_clweb_online": true, "db_rhn_connected": true, "db_rhn_online": true,
			"rhn_overloaded": false, "rhn_queue_full": false, "xmlrpc": true, "ip_server_reg": true})
		return
	case path == "/status.plain":
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "success:true\ndb_clweb_connected:true\ndb_clweb_online:true\ndb_rhn_connected:true\ndb_rhn_online:true\nrhn_overloaded:false\nrhn_queue_full:false\nxmlrpc:true\nip_server_reg:true\n")
		return
	case strings.HasPrefix(path, "/kcare/nagios/"):
		s.nagiosKey(w, strings.TrimPrefix(path, "/kcare/nagios/"))
		return
	case strings.HasPrefix(path, "/kcare/nagios-res/"):
		rest := strings.Split(strings.TrimPrefix(path, "/kcare/nagios-res/"), "/")
		if len(rest) != 2 {
			http.NotFound(w, r)
			return
		}
		if login, good := s.authorize(rest[1]); !good || login != rest[0] {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "KernelCare UNKNOWN - authorization failed")
			return
		}
		s.nagiosAll(w)
		return
	}
	if _, good := s.authorize(q.Get("token")); !good {
		fail(w, "Authorization failed")
		return
	}
	h, found := s.routes()[path]
	if !found {
		w.WriteHeader(http.StatusNotFound)
		fail(w, "Unknown API method "+path)
		return
	}
	if h(w, r, q) {
		s.save()
	}
}

// handler answers a request; it reports whether the state changed.
type handler func(w http.ResponseWriter, r *http.Request, q map[string][]string) bool

func get(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) routes() map[string]handler {
	rt := map[string]handler{
		"/v2/cl/keys":                s.clKeys,
		"/v2/cl/servers":             s.clServers,
		"/v2/cl/sub-account/servers": s.clSubServers,
		"/els/key/create.json":       s.elsKeyCreate,
		"/els/key/update.json":       s.elsKeyUpdate,
		"/els/key/remove.json":       s.elsKeyRemove,
		"/els/key/list.json":         s.elsKeyList,
		"/els/srv/list.json":         s.elsServerList,
		"/els/srv/remove.json":       s.elsServerRemove,
		"/im/key/create.json":        s.imKeyCreate,
		"/im/key/update.json":        s.imKeyUpdate,
		"/im/key/remove.json":        s.imKeyRemove,
		"/im/key/list.json":          s.imKeyList,
		"/im/srv/list.json":          s.imServerList,
		"/im/srv/remove.json":        s.imServerRemove,
		"/im/srv/convert.json":       s.imServerConvert,
		"/kcare/key/create.json":     s.kcKeyCreate,
		"/kcare/key/delete.json":     s.kcKeyDelete,
		"/kcare/key/list.json":       s.kcKeyList,
		"/kcare/key/servers.json":    s.kcKeyServers,
		"/kcare/key/set_cidr.json":   s.kcSetCIDR,
		"/kcare/srv/remove.json":     s.kcServerRemove,
		"/group/create.json":         s.groupCreate,
		"/group/list.json":           s.groupList,
		"/group/servers/list.json":   s.groupServers,
		"/group/servers/put.json":    s.groupPut,
		"/group/servers/remove.json": s.groupRemove,
		"/ab/list.json":              s.abList,
		"/ab/im/create.json":         s.abCreate,
		"/ab/resize.json":            s.abResize,
		"/ab/remove.json":            s.abRemove,
		"/cl/awp":                    s.awp,
		"/v2/features":               s.features,
		"/v2/features/account":       s.accountFeatures,
	}
	// The IP-licence family answers under both roots the references use.
	for _, root := range []string{"/ipl", "/ip"} {
		rt[root+"/availability.json"] = s.iplAvailability
		rt[root+"/check.json"] = s.iplCheck
		rt[root+"/register.json"] = s.iplRegister
		rt[root+"/convert.json"] = s.iplConvert
		rt[root+"/remove.json"] = s.iplRemove
		rt[root+"/list.json"] = s.iplList
		rt[root+"/server.json"] = s.iplServer
		rt[root+"/update.json"] = s.iplUpdate
	}
	return rt
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
