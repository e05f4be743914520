package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Status describes the policy in force and the last reload attempt.
type Status struct {
	Path     string
	Hash     string
	LoadedAt time.Time
	// LastError is the most recent rejected reload, if any since the
	// policy in force was loaded.
	LastError   string
	LastErrorAt time.Time
	Reloads     int
}

// Holder keeps the policy in force and reloads it when the file changes or
// on request. A file that fails validation is rejected: the last good
// policy stays and the rejection is logged and reported by Status.
type Holder struct {
	path string
	log  *slog.Logger
	cur  atomic.Pointer[Policy]
	mu   sync.Mutex
	st   Status
}

var _ Authorizer = (*Holder)(nil)

// NewHolder loads the policy at path; it must be valid.
func NewHolder(path string, log *slog.Logger) (*Holder, error) {
	p, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	h := &Holder{path: path, log: log}
	h.cur.Store(p)
	h.st = Status{Path: path, Hash: p.Hash, LoadedAt: time.Now()}
	return h, nil
}

// Policy returns the policy in force.
func (h *Holder) Policy() *Policy { return h.cur.Load() }

// Authorize implements [Authorizer] with the policy in force.
func (h *Holder) Authorize(s Subject, a Action) Decision { return h.Policy().Authorize(s, a) }

// Status returns the holder's state.
func (h *Holder) Status() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st
}

// Reload reads the file again. An unchanged file is a no-op.
func (h *Holder) Reload() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := os.ReadFile(h.path)
	if err == nil {
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) == h.cur.Load().Hash {
			return nil
		}
		var p *Policy
		if p, err = Parse(h.path, b); err == nil {
			h.cur.Store(p)
			h.st.Hash, h.st.LoadedAt, h.st.LastError, h.st.LastErrorAt = p.Hash, time.Now(), "", time.Time{}
			h.st.Reloads++
			h.log.Info("policy reloaded", "path", h.path, "sha256", p.Hash[:12])
			return nil
		}
	}
	h.st.LastError, h.st.LastErrorAt = err.Error(), time.Now()
	h.log.Error("policy reload rejected; keeping the last good policy", "path", h.path, "error", err)
	return err
}

// Watch reloads whenever the file's contents change, checking every
// interval, until ctx ends.
func (h *Holder) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastMod time.Time
	var lastSize int64 = -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(h.path)
		if err != nil {
			continue
		}
		if fi.ModTime().Equal(lastMod) && fi.Size() == lastSize {
			continue
		}
		lastMod, lastSize = fi.ModTime(), fi.Size()
		_ = h.Reload()
	}
}

// CanApprove delegates to the policy in force.
func (h *Holder) CanApprove(s Subject, a Action, r Requirement) Decision {
	return h.Policy().CanApprove(s, a, r)
}

// Roles delegates to the policy in force.
func (h *Holder) Roles(s Subject, channel string) []string { return h.Policy().Roles(s, channel) }

// DisplayName delegates to the policy in force.
func (h *Holder) DisplayName(id string) string { return h.Policy().DisplayName(id) }
