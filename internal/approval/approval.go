// Package approval is the approval state machine:
//
//	pending → approved → executing → succeeded | failed
//	pending → denied | expired | cancelled
//	executing → unknown (the executing process died)
//
// Every transition is a conditional update in the store, so two clicks or
// two replicas act once. A request is bound to an HMAC of its provider,
// command, target, arguments, command line and plan: what approvers saw is
// what runs. Secret arguments are never stored; they wait in memory and a
// restart loses them (the request must then be made again).
package approval

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk"
)

// Service runs the state machine on a store.
type Service struct {
	store store.Approvals
	key   []byte
	now   func() time.Time
	// Lease is how long an execution may go without renewing its claim
	// before it is presumed dead.
	Lease time.Duration

	mu      sync.Mutex
	secrets map[string]map[string]string // approval id → sensitive args
}

// New returns a service. key authenticates stored requests; replicas
// sharing a database must share it.
func New(s store.Approvals, key []byte, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: s, key: key, now: now, Lease: 30 * time.Second, secrets: map[string]map[string]string{}}
}

// NewID returns a short approval id people can type: "A" and 7 letters or digits.
func NewID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "A" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:7]
}

// Request is what a new approval request records.
type Request struct {
	RequestID   string
	Requester   string
	Channel     string
	Provider    string
	Command     string
	Target      string
	Args        sdk.Args
	Sensitive   []string // names of sensitive arguments
	CommandLine string   // redacted
	Risk        sdk.Risk
	Plan        *sdk.Plan
	Approvers   int
	Roles       []string
	Confirm     bool
	TTL         time.Duration
	Rule        string
	Meta        map[string]string
}

// storedValue tags each argument with its type so it comes back typed.
type storedValue struct {
	Str    *string  `json:"s,omitempty"`
	Int    *int64   `json:"i,omitempty"`
	Bool   *bool    `json:"b,omitempty"`
	List   []string `json:"l,omitempty"`
	Secret bool     `json:"secret,omitempty"`
}

func encodeArgs(args sdk.Args, sensitive []string) (string, map[string]string, error) {
	out := map[string]storedValue{}
	secrets := map[string]string{}
	for k, v := range args {
		if slices.Contains(sensitive, k) {
			out[k] = storedValue{Secret: true}
			secrets[k] = sdk.FormatValue(v)
			continue
		}
		switch x := v.(type) {
		case string:
			out[k] = storedValue{Str: &x}
		case int64:
			out[k] = storedValue{Int: &x}
		case bool:
			out[k] = storedValue{Bool: &x}
		case []string:
			out[k] = storedValue{List: append([]string{}, x...)}
		default:
			return "", nil, fmt.Errorf("argument %s has unsupported type %T", k, v)
		}
	}
	b, err := json.Marshal(out) // map keys are sorted: canonical
	return string(b), secrets, err
}

func (s *Service) mac(a *store.Approval) string {
	m := hmac.New(sha256.New, s.key)
	for _, f := range []string{a.ID, a.Requester, a.Provider, a.Command, a.Target, a.Args, a.CommandLine, a.Plan, fmt.Sprint(a.Risk)} {
		fmt.Fprintf(m, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Create records a pending request.
func (s *Service) Create(ctx context.Context, r Request) (*store.Approval, error) {
	args, secrets, err := encodeArgs(r.Args, r.Sensitive)
	if err != nil {
		return nil, err
	}
	plan := []byte("null")
	if r.Plan != nil {
		plan, _ = json.Marshal(r.Plan)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	roles := append([]string(nil), r.Roles...)
	sort.Strings(roles)
	a := &store.Approval{
		ID: NewID(), RequestID: r.RequestID, Requester: r.Requester, Channel: r.Channel, Provider: r.Provider,
		Command: r.Command, Target: r.Target, Args: args, CommandLine: r.CommandLine, Risk: int(r.Risk), Plan: string(plan),
		Required: r.Approvers, ApproverRoles: roles, ConfirmTarget: r.Confirm, Rule: r.Rule, State: store.StatePending,
		Meta: r.Meta, CreatedAt: now, ExpiresAt: now.Add(r.TTL), UpdatedAt: now,
	}
	a.ArgsHash = s.mac(a)
	if err := s.store.CreateApproval(ctx, a); err != nil {
		return nil, fmt.Errorf("record approval request: %w", err)
	}
	if len(secrets) > 0 {
		s.mu.Lock()
		s.secrets[a.ID] = secrets
		s.mu.Unlock()
	}
	return a, nil
}

// Get returns a request, or a clear error if there is none.
func (s *Service) Get(ctx context.Context, id string) (*store.Approval, error) {
	a, err := s.store.GetApproval(ctx, strings.ToUpper(strings.TrimSpace(id)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "there is no approval request %s", id)
	}
	return a, err
}

// List returns requests matching f.
func (s *Service) List(ctx context.Context, f store.ApprovalFilter) ([]*store.Approval, error) {
	return s.store.ListApprovals(ctx, f)
}

// Args returns the request's arguments, typed, with secrets restored, after
// checking the stored request was not altered.
func (s *Service) Args(a *store.Approval) (sdk.Args, error) {
	if !hmac.Equal([]byte(s.mac(a)), []byte(a.ArgsHash)) {
		return nil, apperr.New(apperr.Conflict, "approval %s does not match what was approved (the stored request was altered); it will not run", a.ID)
	}
	var stored map[string]storedValue
	if err := json.Unmarshal([]byte(a.Args), &stored); err != nil {
		return nil, fmt.Errorf("approval %s: arguments: %w", a.ID, err)
	}
	s.mu.Lock()
	secrets := s.secrets[a.ID]
	s.mu.Unlock()
	out := sdk.Args{}
	for k, v := range stored {
		switch {
		case v.Secret:
			sv, ok := secrets[k]
			if !ok {
				return nil, apperr.New(apperr.Conflict, "the secret %s given with request %s is no longer held (the bot restarted); make the request again", k, a.ID)
			}
			out[k] = sv
		case v.Int != nil:
			out[k] = *v.Int
		case v.Bool != nil:
			out[k] = *v.Bool
		case v.List != nil:
			out[k] = v.List
		case v.Str != nil:
			out[k] = *v.Str
		default:
			out[k] = ""
		}
	}
	return out, nil
}

// Plan decodes the plan approvers saw.
func Plan(a *store.Approval) *sdk.Plan {
	var p *sdk.Plan
	_ = json.Unmarshal([]byte(a.Plan), &p)
	return p
}

// Vote records an approval. The caller has checked the approver's rights.
func (s *Service) Vote(ctx context.Context, id, user string) (*store.Approval, error) {
	a, err := s.store.Vote(ctx, id, user, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, apperr.New(apperr.NotFound, "there is no approval request %s", id)
	case errors.Is(err, store.ErrDuplicateVote):
		return a, apperr.New(apperr.Conflict, "you have already approved %s; it needs %d more approver(s)", id, a.Required-len(a.Votes))
	case errors.Is(err, store.ErrConflict):
		if a != nil && a.State == store.StatePending {
			return a, apperr.New(apperr.Conflict, "approval %s has expired", id)
		}
		state := "is no longer pending"
		if a != nil {
			state = "is " + describe(a.State)
		}
		return a, apperr.New(apperr.Conflict, "approval %s %s", id, state)
	}
	return a, err
}

func describe(s store.State) string {
	switch s {
	case store.StateApproved, store.StateExecuting:
		return "already approved and running"
	case store.StateSucceeded:
		return "already done"
	case store.StateFailed:
		return "already done (it failed)"
	case store.StateUnknown:
		return "in an unknown state: it was running when the bot stopped"
	}
	return string(s)
}

// Claim moves an approved request to executing. Only one caller wins.
func (s *Service) Claim(ctx context.Context, id string) (bool, error) {
	lease := s.now().Add(s.Lease)
	me := processID()
	return s.store.Transition(ctx, id, []store.State{store.StateApproved}, store.StateExecuting, s.now(), store.Update{LeaseUntil: &lease, Executor: &me})
}

// KeepAlive renews an execution's lease until ctx ends.
func (s *Service) KeepAlive(ctx context.Context, id string) {
	t := time.NewTicker(s.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			lease := s.now().Add(s.Lease)
			_, _ = s.store.Transition(context.WithoutCancel(ctx), id, []store.State{store.StateExecuting}, store.StateExecuting, s.now(), store.Update{LeaseUntil: &lease})
		}
	}
}

// Finish records an execution's outcome and forgets its secrets.
func (s *Service) Finish(ctx context.Context, id string, ok bool, result string) error {
	to := store.StateFailed
	if ok {
		to = store.StateSucceeded
	}
	if len(result) > 500 {
		result = result[:500] + "…"
	}
	_, err := s.store.Transition(ctx, id, []store.State{store.StateExecuting}, to, s.now(), store.Update{Result: &result})
	s.forget(id)
	return err
}

func (s *Service) forget(id string) {
	s.mu.Lock()
	delete(s.secrets, id)
	s.mu.Unlock()
}

// SetMeta records adapter references (where the approval card is).
func (s *Service) SetMeta(ctx context.Context, id string, meta map[string]string) error {
	return s.store.SetMeta(ctx, id, meta)
}

// Deny refuses a pending request.
func (s *Service) Deny(ctx context.Context, id, by, reason string) (*store.Approval, error) {
	return s.end(ctx, id, store.StateDenied, by, reason)
}

// Cancel withdraws a pending request.
func (s *Service) Cancel(ctx context.Context, id, by, reason string) (*store.Approval, error) {
	return s.end(ctx, id, store.StateCancelled, by, reason)
}

func (s *Service) end(ctx context.Context, id string, to store.State, by, reason string) (*store.Approval, error) {
	ok, err := s.store.Transition(ctx, id, []store.State{store.StatePending}, to, s.now(), store.Update{DecidedBy: &by, Reason: &reason})
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "there is no approval request %s", id)
	}
	if err != nil {
		return nil, err
	}
	a, err := s.store.GetApproval(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return a, apperr.New(apperr.Conflict, "approval %s %s", id, stateWords(a.State))
	}
	s.forget(id)
	return a, nil
}

func stateWords(st store.State) string {
	if st == store.StatePending {
		return "is pending"
	}
	return "is " + describe(st)
}

// Sweep expires requests overdue at now and marks unknown the executions
// whose process died: at once when it ran on this host, else when its
// lease lapses.
func (s *Service) Sweep(ctx context.Context, now time.Time) (expired, abandoned []string, err error) {
	expired, err = s.store.ExpirePending(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range expired {
		s.forget(id)
	}
	running, err := s.store.ListApprovals(ctx, store.ApprovalFilter{States: []store.State{store.StateExecuting}})
	if err != nil {
		return expired, nil, err
	}
	for _, a := range running {
		if !deadHere(a.Executor) {
			continue
		}
		ok, err := s.store.Transition(ctx, a.ID, []store.State{store.StateExecuting}, store.StateUnknown, now, store.Update{})
		if err != nil {
			return expired, abandoned, err
		}
		if ok {
			abandoned = append(abandoned, a.ID)
		}
	}
	lapsed, err := s.store.AbandonExecutions(ctx, now)
	return expired, append(abandoned, lapsed...), err
}

// Expired reports whether a pending request is past its time.
func (s *Service) Expired(a *store.Approval) bool {
	return a.State == store.StatePending && !s.now().Before(a.ExpiresAt)
}

// Now returns the service's clock.
func (s *Service) Now() time.Time { return s.now() }
