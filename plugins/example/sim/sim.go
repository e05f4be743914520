// Package sim simulates the counter API: the example plugin's sandbox
// serves it, and its tests run against it. It holds only the API's
// handlers and state; sdk/sandbox keeps its state file and call log.
package sim

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/deskbot/deskbot/sdk/sandbox"
)

// Options configure a simulator.
type Options struct {
	// Token is the API key it accepts.
	Token string
	// StateFile, if set, keeps the counter across restarts. It is read
	// again on every call, so that several processes serving the same
	// file (two bot replicas' sandboxes) share one counter.
	StateFile string
}

// Server is the simulator.
type Server struct {
	o     Options
	mux   *http.ServeMux
	mu    sync.Mutex // held while a call reads and writes the state
	state state
	calls sandbox.CallLog[string]
}

type state struct {
	Value int64 `json:"value"`
}

// New returns a simulator.
func New(o Options) *Server {
	s := &Server{o: o, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /counter", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.state) })
	s.mux.HandleFunc("POST /counter/add", s.add)
	s.mux.HandleFunc("POST /counter/reset", func(w http.ResponseWriter, r *http.Request) { s.change(w, 0) })
	return s
}

// ServeHTTP implements http.Handler: every call is logged, authenticated
// and served with the state as the state file has it now.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(r.Method + " " + r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer "+s.o.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid API key"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := sandbox.LoadState(s.o.StateFile, &s.state); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) add(w http.ResponseWriter, r *http.Request) {
	var body struct {
		N int64 `json:"n"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.N < 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "n must be a positive number"})
		return
	}
	s.change(w, s.state.Value+body.N)
}

// change sets the counter, saves it and answers with it.
func (s *Server) change(w http.ResponseWriter, value int64) {
	s.state.Value = value
	if err := sandbox.SaveState(s.o.StateFile, s.state); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, s.state)
}

// Value returns the counter.
func (s *Server) Value() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = sandbox.LoadState(s.o.StateFile, &s.state)
	return s.state.Value
}

// Calls returns the latest calls it answered ("POST /counter/add").
func (s *Server) Calls() []string { return s.calls.Calls() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
