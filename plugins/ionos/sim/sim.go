// Package sim is an IONOS Cloud Panel API v1 simulator: stateful servers
// whose state moves over time (POWERING_OFF with a percent, then
// POWERED_OFF), their hardware, image, IPs, DVD and snapshots, public IPs
// with reverse DNS, firewall policies; rate-limit headers and 429s; the
// API's error bodies; and the reference's example for every other
// operation. Tests and sandbox mode use it.
package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/sdk/sandbox"
)

// Options configure a simulator.
type Options struct {
	// Token is the API key it accepts.
	Token string
	// Limit calls per Window (25 a minute if zero).
	Limit  int
	Window time.Duration
	// ActionTime is how long power actions, reinstalls and the like take
	// (3 s if zero).
	ActionTime time.Duration
	// FirstPassword is the first_password of the seeded servers.
	FirstPassword string
	// StateFile, if set, keeps state across restarts.
	StateFile string
	// Clock moves actions along (the wall clock if nil). A stepped clock
	// moves once per call answered, so an action takes a known number of
	// polls whatever the machine's speed. The rate-limit window always
	// follows the wall clock, as the client's limiter does.
	Clock *sandbox.Clock
}

// Server is the simulator.
type Server struct {
	mu    sync.Mutex
	o     Options
	st    *State
	cat   *catalog.Catalog
	h     map[string]handler
	now   func() time.Time
	calls sandbox.CallLog[Call]

	winStart  time.Time
	winCount  int
	maxInWin  int
	throttled int
	seq       int
}

// Call is one request the simulator answered.
type Call struct {
	Method, Path, Operation string
	Status                  int
	Query                   url.Values
	Body                    string
}

type handler func(r *req) (int, any)

type req struct {
	op    *catalog.Operation
	vars  map[string]string
	query url.Values
	body  map[string]any
}

// New returns a simulator.
func New(o Options) (*Server, error) {
	if o.Limit == 0 {
		o.Limit = 25
	}
	if o.Window == 0 {
		o.Window = time.Minute
	}
	if o.ActionTime == 0 {
		o.ActionTime = 3 * time.Second
	}
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, cat: cat, now: o.Clock.Now}
	var st State
	loaded, err := sandbox.LoadState(o.StateFile, &st)
	if err != nil {
		return nil, err
	}
	s.st = &st
	if !loaded {
		s.st = seed(o.FirstPassword)
	}
	o.Clock.Resume(s.st.Clock)
	s.h = s.handlers()
	return s, nil
}

// Listen serves on loopback (sandbox.Listen) and returns the API's base
// URL, /v1 included, and a stop.
func (s *Server) Listen() (base string, stop func() error, err error) {
	base, stop, err = sandbox.Listen(s)
	return base + "/v1", stop, err
}

// Stateful lists the operations the simulator serves from its state; it
// answers every other one with the reference's example.
func (s *Server) Stateful() []string {
	out := make([]string, 0, len(s.h))
	for n := range s.h {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Calls returns the latest requests answered, oldest first.
func (s *Server) Calls() []Call { return s.calls.Calls() }

// RateStats reports the most calls that arrived in one window (refused
// or not) and how many were refused with 429.
func (s *Server) RateStats() (maxInWindow, throttled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInWin, s.throttled
}

// Snapshot returns the state as JSON (after moving it to now).
func (s *Server) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	b, _ := json.Marshal(s.st)
	return string(b)
}

// ServerState returns a server's state word, "" if there is none.
func (s *Server) ServerState(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if v := s.vm(id); v != nil {
		return v.State
	}
	return ""
}

// save keeps the state, and the clock's time, for the next start. A
// failed save costs only persistence: the answer already reflects it.
func (s *Server) save() {
	s.st.Clock = s.now()
	_ = sandbox.SaveState(s.o.StateFile, s.st)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// apiErr is the API's error body (its keys capitalised, as most examples).
func apiErr(typ, msg string) map[string]any {
	return map[string]any{"Type": typ, "Message": msg, "Errors": nil}
}

// rate applies the fixed window; it returns false when the call is refused.
func (s *Server) rate(w http.ResponseWriter) bool {
	now := time.Now()
	if s.winStart.IsZero() || !now.Before(s.winStart.Add(s.o.Window)) {
		s.winStart, s.winCount = now, 0
	}
	// Every call that arrives counts, refused or not: the allowance is of
	// calls sent, and a client that overruns it is seen overrunning it.
	s.winCount++
	s.maxInWin = max(s.maxInWin, s.winCount)
	reset := s.winStart.Add(s.o.Window).Sub(now)
	var resetText string
	if s.o.Window%time.Second == 0 {
		resetText = strconv.Itoa(int(math.Ceil(reset.Seconds())))
	} else {
		// Rounded up, as whole seconds are: never sooner than the truth.
		resetText = strconv.FormatFloat(math.Ceil(reset.Seconds()*1000)/1000, 'f', 3, 64)
	}
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(s.o.Limit))
	w.Header().Set("X-Rate-Limit-Reset", resetText)
	if s.winCount > s.o.Limit {
		s.throttled++
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		writeJSON(w, http.StatusTooManyRequests, apiErr("TOO_MANY_REQUESTS", "The maximum number of requests has been exceeded"))
		return false
	}
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(s.o.Limit-s.winCount))
	return true
}

// ServeHTTP implements http.Handler for /v1/...
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.o.Clock.Tick()
	call := Call{Method: r.Method, Path: path, Query: r.URL.Query()}
	defer func() { s.calls.Add(call) }()
	if path != "/ping" && r.Header.Get("X-TOKEN") != s.o.Token {
		call.Status = http.StatusUnauthorized
		writeJSON(w, call.Status, apiErr("UNAUTHORIZED", "Invalid token"))
		return
	}
	if !s.rate(w) {
		call.Status = http.StatusTooManyRequests
		return
	}
	op, vars, ok := s.cat.Match(r.Method, path)
	if !ok {
		call.Status = http.StatusNotFound
		if _, _, any := s.cat.Match("GET", path); any {
			call.Status = http.StatusMethodNotAllowed
		}
		writeJSON(w, call.Status, apiErr("NOT_FOUND", "No such method or resource"))
		return
	}
	call.Operation = op.Name
	rq := &req{op: op, vars: vars, query: r.URL.Query()}
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		var problem any
		call.Body, rq.body, problem = readBody(r, op)
		if problem != nil {
			call.Status = http.StatusBadRequest
			writeJSON(w, call.Status, problem)
			return
		}
	}
	s.advance()
	h, ok := s.h[op.Name]
	if !ok {
		call.Status = s.example(w, op, rq.query)
		return
	}
	status, v := h(rq)
	call.Status = status
	if status < 300 && r.Method != http.MethodGet {
		s.save()
	}
	if list, isList := v.([]map[string]any); isList && status == 200 {
		v = s.listing(list, rq.query)
	}
	writeJSON(w, status, v)
}

// readBody reads a request's JSON body and checks it against the
// operation's schema; problem is the API's error body if it is not valid.
func readBody(r *http.Request, op *catalog.Operation) (raw string, body map[string]any, problem any) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			return string(b), nil, apiErr("INVALID_PARAMETERS", "The body is not a JSON object")
		}
	}
	if body == nil {
		body = map[string]any{}
	}
	if err := op.ValidateBody(body); err != nil {
		return string(b), nil, map[string]any{"type": "VALIDATION_ERROR", "message": err.Error(), "errors": nil}
	}
	return string(b), body, nil
}

// example answers an operation the state does not serve with the
// reference's example (a list paged and filtered like the real ones), and
// returns the status it answered with.
func (s *Server) example(w http.ResponseWriter, op *catalog.Operation, q url.Values) int {
	resp, ok := op.Success()
	if !ok {
		writeJSON(w, 200, map[string]any{})
		return 200
	}
	var v any
	_ = json.Unmarshal(s.cat.Example(op.Name, resp.Code), &v)
	if arr, isArr := v.([]any); isArr && len(op.Query) > 0 {
		list := make([]map[string]any, 0, len(arr))
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				list = append(list, m)
			}
		}
		if len(list) == len(arr) {
			v = s.listing(list, q)
		}
	}
	writeJSON(w, resp.Code, v)
	return resp.Code
}

// listing applies q, sort, fields, page and per_page to a list.
func (s *Server) listing(list []map[string]any, q url.Values) []map[string]any {
	if term := strings.ToLower(q.Get("q")); term != "" {
		kept := list[:0:0]
		for _, m := range list {
			b, _ := json.Marshal(m)
			if strings.Contains(strings.ToLower(string(b)), term) {
				kept = append(kept, m)
			}
		}
		list = kept
	}
	if key := q.Get("sort"); key != "" {
		desc := strings.HasPrefix(key, "-")
		key = strings.TrimPrefix(key, "-")
		sort.SliceStable(list, func(i, j int) bool {
			a, b := fmt.Sprint(list[i][key]), fmt.Sprint(list[j][key])
			if desc {
				return a > b
			}
			return a < b
		})
	}
	if f := q.Get("fields"); f != "" {
		out := make([]map[string]any, len(list))
		for i, m := range list {
			pm := map[string]any{"id": m["id"]}
			for _, field := range strings.Split(f, ",") {
				project(pm, m, strings.Split(strings.TrimSpace(field), "."))
			}
			out[i] = pm
		}
		list = out
	}
	page, _ := strconv.Atoi(q.Get("page"))
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per > 0 {
		if page < 1 {
			page = 1
		}
		start := min((page-1)*per, len(list))
		end := min(start+per, len(list))
		list = list[start:end]
	}
	return list
}

func project(dst, src map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return
	}
	d, _ := dst[path[0]].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[path[0]] = d
	}
	project(d, sub, path[1:])
}

func (s *Server) newID() string {
	s.seq++
	return fmt.Sprintf("%032X", uint64(s.now().UnixNano())^uint64(s.seq)<<40)
}
