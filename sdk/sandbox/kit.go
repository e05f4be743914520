package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Listen serves h on a loopback port and returns its base URL
// ("http://127.0.0.1:PORT") and a function that stops it.
func Listen(h http.Handler) (base string, stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv.Close, nil
}

// LoadState reads a simulator's state saved by SaveState into v. It
// reports false, with no error, when there is no such file yet (or path is
// ""): the simulator then seeds its state.
func LoadState(path string, v any) (bool, error) {
	if path == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("simulator state %s: %w", path, err)
	}
	return true, nil
}

// SaveState writes v to path ("" saves nothing) so that a crash mid-write
// leaves the previous state whole: a temporary file, then a rename.
func SaveState(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// CallLog keeps a simulator's latest calls, so that tests can see what a
// client sent while a long-running sandbox's memory stays flat.
type CallLog[T any] struct {
	mu    sync.Mutex
	calls []T
	// Keep is how many calls it keeps (1000 if zero).
	Keep int
}

// Add records a call.
func (l *CallLog[T]) Add(c T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keep := l.Keep
	if keep <= 0 {
		keep = 1000
	}
	l.calls = append(l.calls, c)
	if len(l.calls) > 2*keep {
		l.calls = append(l.calls[:0:0], l.calls[len(l.calls)-keep:]...)
	}
}

// Calls returns the calls kept, oldest first.
func (l *CallLog[T]) Calls() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	keep := l.Keep
	if keep <= 0 {
		keep = 1000
	}
	return append([]T(nil), l.calls[max(0, len(l.calls)-keep):]...)
}

// Hang wraps a simulator's handler with a switch that makes it take
// requests and never answer them, as a provider that has stopped
// responding does: only the client giving up ends such a call.
type Hang struct {
	next http.Handler
	on   atomic.Bool
}

// NewHang wraps h; it answers normally until Set(true).
func NewHang(h http.Handler) *Hang { return &Hang{next: h} }

// Set turns hanging on or off.
func (h *Hang) Set(on bool) { h.on.Store(on) }

// ServeHTTP implements http.Handler.
func (h *Hang) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.on.Load() {
		<-r.Context().Done()
		return
	}
	h.next.ServeHTTP(w, r)
}
