// Package sim is a WHM API 1 simulator: stateful for the functions a
// support desk uses (accounts, suspensions, packages, DNS zones, cPHulk
// lists, the restore queue, mail holds, services), the reference's
// response sample for every other function, and a check of the
// Authorization header. Tests and sandbox mode use it.
package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

// Account is a cPanel account.
type Account struct {
	User          string   `json:"user"`
	Domain        string   `json:"domain"`
	Plan          string   `json:"plan"`
	Email         string   `json:"email"`
	IP            string   `json:"ip"`
	Owner         string   `json:"owner"`
	Suspended     bool     `json:"suspended"`
	SuspendReason string   `json:"suspendreason"`
	SuspendTime   int64    `json:"suspendtime"`
	DiskUsedMB    int64    `json:"diskused_mb"`
	QuotaMB       int64    `json:"quota_mb"` // 0 is unlimited
	BWLimitMB     int64    `json:"bwlimit_mb"`
	BWUsedBytes   int64    `json:"bw_used"`
	StartDate     int64    `json:"startdate"`
	MailHold      bool     `json:"mail_hold"`
	MailSuspended bool     `json:"mail_suspended"`
	Mailboxes     []string `json:"mailboxes"`
	// PasswordSHA256 is all the simulator keeps of a password.
	PasswordSHA256 string `json:"password_sha256"`
}

// Package is a hosting plan.
type Package struct {
	Name    string `json:"name"`
	QuotaMB int64  `json:"quota_mb"`
	BWMB    int64  `json:"bw_mb"`
	MaxPOP  string `json:"maxpop"`
	MaxSQL  string `json:"maxsql"`
}

// Record is a DNS zone record.
type Record struct {
	Line int      `json:"line"`
	Name string   `json:"name"`
	Type string   `json:"type"`
	TTL  int      `json:"ttl"`
	Data []string `json:"data"`
}

// Brute is a cPHulk block.
type Brute struct {
	IP        string `json:"ip"`
	LoginTime string `json:"logintime"`
	ExpTime   string `json:"exptime"`
	Notes     string `json:"notes"`
}

// RestoreJob is a queued account restoration.
type RestoreJob struct {
	User         string         `json:"user"`
	RestorePoint string         `json:"restore_point"`
	Options      map[string]int `json:"options"`
}

// Service is a system service.
type Service struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Running     bool   `json:"running"`
	Restarts    int    `json:"restarts"`
}

// State is everything the simulator holds.
type State struct {
	Hostname  string               `json:"hostname"`
	Accounts  []*Account           `json:"accounts"`
	Packages  []*Package           `json:"packages"`
	Zones     map[string][]*Record `json:"zones"`
	Serials   map[string]int       `json:"serials"`
	White     map[string]string    `json:"hulk_white"`
	Black     map[string]string    `json:"hulk_black"`
	Brutes    []Brute              `json:"brutes"`
	Pending   []RestoreJob         `json:"restore_pending"`
	Active    []RestoreJob         `json:"restore_active"`
	Completed []RestoreJob         `json:"restore_completed"`
	Backups   map[string][]string  `json:"backups"` // restore point → users
	Services  []*Service           `json:"services"`
	SSLProbs  map[string]string    `json:"ssl_problems"` // domain → problem
	Resellers []string             `json:"resellers"`
	// Load is the load average the simulator reports.
	Load [3]float64 `json:"load"`
	// Clock is the simulator's time when the state was saved.
	Clock time.Time `json:"clock,omitzero"`
}

// Server is the simulator.
type Server struct {
	mu    sync.Mutex
	st    *State
	user  string
	token string
	cat   *catalog.Catalog
	path  string
	calls sandbox.CallLog[Call]
	h     map[string]handler
	clock *sandbox.Clock
}

// handler serves one function; it reports whether the state changed.
type handler func(w http.ResponseWriter, fn string, args url.Values) bool

// Call is one function call the simulator served.
type Call struct {
	Method   string
	Function string
	Args     url.Values
}

// Options configure a simulator.
type Options struct {
	User, Token string
	// StateFile, if set, keeps state across restarts.
	StateFile string
	// Hostname is what gethostname answers.
	Hostname string
	// Clock is the simulator's time (suspensions, new accounts, this
	// month's bandwidth); nil follows the wall clock.
	Clock *sandbox.Clock
}

// New returns a simulator with a few demo accounts, or the state a
// previous run left in the state file.
func New(o Options) (*Server, error) {
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{user: o.User, token: o.Token, cat: cat, path: o.StateFile, clock: o.Clock}
	if s.user == "" {
		s.user = "root"
	}
	var st State
	found, err := sandbox.LoadState(s.path, &st)
	if err != nil {
		return nil, err
	}
	if found {
		s.st = &st
		s.clock.Resume(st.Clock)
	} else {
		s.st = seed(o.Hostname)
	}
	s.h = s.handlers()
	return s, nil
}

// Snapshot returns the state as JSON.
func (s *Server) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(s.st)
	return string(b)
}

// Calls returns the latest calls served, oldest first.
func (s *Server) Calls() []Call { return s.calls.Calls() }

// Account returns a copy of an account.
func (s *Server) Account(user string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.account(user); a != nil {
		return *a, true
	}
	return Account{}, false
}

// now is the simulator's time.
func (s *Server) now() time.Time { return s.clock.Now() }

// save keeps the state, with the time it was saved at for a stepped
// clock to resume from.
func (s *Server) save() {
	s.st.Clock = s.now()
	_ = sandbox.SaveState(s.path, s.st)
}

// Listen serves on a loopback port; it returns the host:port and a stop.
func (s *Server) Listen() (hostport string, stop func() error, err error) {
	base, stop, err := sandbox.Listen(s)
	return strings.TrimPrefix(base, "http://"), stop, err
}

// answer writes a WHM envelope.
func answer(w http.ResponseWriter, fn string, data any, reason string, raw string) {
	meta := map[string]any{"command": fn, "reason": reason, "result": 1, "version": 1}
	if raw != "" {
		meta["output"] = map[string]string{"raw": raw}
	}
	body := map[string]any{"metadata": meta}
	if data != nil {
		body["data"] = data
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// refuse writes a failure envelope (metadata.result 0).
func refuse(w http.ResponseWriter, fn, reason string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"metadata": map[string]any{"command": fn, "reason": reason, "result": 0, "version": 1}})
}

// ServeHTTP implements http.Handler: /json-api/FUNCTION?api.version=1.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fn := strings.TrimPrefix(r.URL.Path, "/json-api/")
	if fn == r.URL.Path || fn == "" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "whm "+s.user+":"+s.token {
		w.WriteHeader(http.StatusForbidden)
		refuse(w, fn, "Access denied")
		return
	}
	args := r.URL.Query()
	var jsonBody json.RawMessage
	switch {
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		jsonBody, _ = io.ReadAll(io.LimitReader(r.Body, 10<<20))
	case r.Method == http.MethodPost:
		_ = r.ParseForm()
		for k, vs := range r.PostForm {
			args[k] = append(args[k], vs...)
		}
	}
	if args.Get("api.version") != "1" {
		refuse(w, fn, "This simulator speaks WHM API 1: add api.version=1")
		return
	}
	args.Del("api.version")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.Add(Call{Method: r.Method, Function: fn, Args: args})
	s.clock.Tick()
	if fn == "batch" {
		s.batch(w, args)
		return
	}
	if h, ok := s.h[fn]; ok {
		if h(w, fn, args) {
			s.save()
		}
		return
	}
	f, ok := s.cat.Get(fn)
	if !ok {
		refuse(w, fn, fmt.Sprintf("Unknown app (%s) requested for this version (1) of the API.", fn))
		return
	}
	if len(jsonBody) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(jsonBody, &m) != nil {
			refuse(w, fn, "The request body is not a JSON object.")
			return
		}
		for k, v := range m {
			args.Set(k, string(v))
		}
	}
	for _, p := range f.Params {
		if p.Required && !present(args, p.Name, p.List != "") {
			refuse(w, fn, fmt.Sprintf("The “%s” parameter is required.", p.Name))
			return
		}
	}
	// Everything else answers with the reference's sample.
	w.Header().Set("Content-Type", "application/json")
	sample := s.cat.Sample(fn)
	if len(sample) == 0 || string(sample) == "{}" {
		answer(w, fn, nil, "OK", "")
		return
	}
	_, _ = w.Write(sample)
}

func present(args url.Values, name string, list bool) bool {
	if args.Get(name) != "" {
		return true
	}
	if list {
		for k := range args {
			if strings.HasPrefix(k, name+"-") {
				return true
			}
		}
	}
	return false
}

// list collects a list parameter given repeated (ip=a&ip=b) or numbered
// (ip-1=a&ip-2=b).
func list(args url.Values, name string) []string {
	out := append([]string(nil), args[name]...)
	var keys []string
	for k := range args {
		if strings.HasPrefix(k, name+"-") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, args[k]...)
	}
	return out
}

func (s *Server) batch(w http.ResponseWriter, args url.Values) {
	var results []json.RawMessage
	for _, cmd := range args["command"] {
		fn, q, _ := strings.Cut(cmd, "?")
		sub, _ := url.ParseQuery(q)
		rec := &recorder{header: http.Header{}}
		if h, ok := s.h[fn]; ok {
			if h(rec, fn, sub) {
				s.save()
			}
		} else if sample := s.cat.Sample(fn); len(sample) > 0 {
			_, _ = rec.Write(sample)
		} else {
			refuse(rec, fn, "Unknown app ("+fn+")")
		}
		results = append(results, json.RawMessage(rec.body))
		var m struct {
			Metadata struct {
				Result int `json:"result"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(rec.body, &m)
		if m.Metadata.Result != 1 && args.Get("abort_on_error") == "1" {
			break
		}
	}
	answer(w, "batch", map[string]any{"result": results}, "OK", "")
}

type recorder struct {
	header http.Header
	body   []byte
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { r.body = append(r.body, b...); return len(b), nil }
func (r *recorder) WriteHeader(int)             {}

func (s *Server) account(user string) *Account {
	for _, a := range s.st.Accounts {
		if a.User == user {
			return a
		}
	}
	return nil
}

func (s *Server) accountByDomain(domain string) *Account {
	for _, a := range s.st.Accounts {
		if a.Domain == domain {
			return a
		}
	}
	return nil
}

func mb(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10) + "M"
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func hashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}
