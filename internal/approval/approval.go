// Package approval is the approval state machine:
//
//	pending → approved → executing → succeeded | failed
//	pending → denied | expired | cancelled
//	executing → unknown (the executing process died)
//
// Every transition is a conditional update in the store, so two clicks or
// two replicas act once. The last vote claims the execution in the same
// transaction, under a random instance id and a lease the executor renews:
// a crash leaves nothing approved that nobody runs, and a claim is judged
// dead only when its lease lapses.
//
// A request is bound by an HMAC of everything that decides or limits its
// execution (requester, command, target, arguments, plan and its digest,
// required approvals, approver roles, confirmation, expiry): a stored row
// whose code does not verify never runs. Secret arguments are stored
// sealed (AES-GCM, with a key derived from the approval key), so any
// replica that shares the key can run the request; they are deleted when
// it ends.
package approval

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk"
)

// Service runs the state machine on a store.
type Service struct {
	store store.Approvals
	key   []byte
	aead  cipher.AEAD
	now   func() time.Time
	// Lease is how long an execution may go without renewing its claim
	// before it is presumed dead.
	Lease time.Duration
	// instance names this process's claims: random, so no two processes
	// (on any host, in any pid namespace) share one.
	instance string
}

// DefaultLease is how long a claim holds without renewal.
const DefaultLease = 30 * time.Second

// New returns a service. key authenticates stored requests and seals their
// secrets; replicas sharing a database must share it.
func New(s store.Approvals, key []byte, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	sealKey, err := hkdf.Key(sha256.New, key, nil, "deskbot approval secrets v1", 32)
	if err != nil {
		panic(fmt.Sprintf("approval: deriving the sealing key: %v", err))
	}
	block, _ := aes.NewCipher(sealKey)
	aead, _ := cipher.NewGCM(block)
	var id [12]byte
	_, _ = rand.Read(id[:])
	return &Service{store: s, key: key, aead: aead, now: now, Lease: DefaultLease, instance: hex.EncodeToString(id[:])}
}

// Instance is the id this process's execution claims carry.
func (s *Service) Instance() string { return s.instance }

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
	// PlanDigest fingerprints the plan's work; execution is refused if
	// planning again gives another.
	PlanDigest string
	Approvers  int
	Roles      []string
	Confirm    bool
	// ConfirmValue is what approvers type when Confirm is set.
	ConfirmValue string
	TTL          time.Duration
	Rule         string
	Meta         map[string]string
	// Ticket is the ticket reference the request was made for.
	Ticket string
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

// macVersion prefixes every integrity code, so a code made under other
// rules is recognised and refused rather than misread.
const macVersion = "v2:"

func (s *Service) mac(a *store.Approval) string {
	m := hmac.New(sha256.New, s.key)
	roles := append([]string(nil), a.ApproverRoles...)
	sort.Strings(roles)
	for _, f := range []string{
		"deskbot approval v2", a.ID, a.RequestID, a.Requester, a.Channel, a.Provider, a.Command, a.Target, a.Args, a.CommandLine,
		strconv.Itoa(a.Risk), a.Plan, a.PlanDigest, strconv.Itoa(a.Required), strings.Join(roles, "\x00"),
		strconv.FormatBool(a.ConfirmTarget), a.ConfirmValue, strconv.FormatInt(a.ExpiresAt.UnixMicro(), 10), a.Rule,
	} {
		fmt.Fprintf(m, "%d:%s;", len(f), f)
	}
	if a.Ticket != "" {
		// Bound only when set, so requests made before tickets verify.
		fmt.Fprintf(m, "ticket;%d:%s;", len(a.Ticket), a.Ticket)
	}
	return macVersion + hex.EncodeToString(m.Sum(nil))
}

// voteCode authenticates one vote on one request.
func (s *Service) voteCode(id string, v store.Vote) string {
	m := hmac.New(sha256.New, s.key)
	for _, f := range []string{"deskbot vote v1", id, v.User, strconv.FormatInt(v.At.UnixMicro(), 10)} {
		fmt.Fprintf(m, "%d:%s;", len(f), f)
	}
	return "v1:" + hex.EncodeToString(m.Sum(nil))
}

// VerifyQuorum checks that a request about to run was approved as stored:
// the request verifies, and enough distinct people other than the
// requester voted, each vote carrying a valid code. A request moved to
// approved or executing in the database, or given votes there, fails.
func (s *Service) VerifyQuorum(a *store.Approval) error {
	if err := s.Verify(a); err != nil {
		return err
	}
	voters := map[string]bool{}
	for _, v := range a.Votes {
		if v.User != a.Requester && hmac.Equal([]byte(s.voteCode(a.ID, v)), []byte(v.Code)) {
			voters[v.User] = true
		}
	}
	if len(voters) < a.Required {
		return apperr.Wrap(ErrTampered, apperr.Conflict,
			"approval %s has %d valid approval(s) of the %d it needs (its stored state or votes were altered); it will not run, and an administrator has been told",
			a.ID, len(voters), a.Required)
	}
	return nil
}

// Runnable reports whether a request whose executor died may still be run
// by another: not long after it expired (a reboot approved on Friday does
// not run whenever a replica next starts).
func (s *Service) Runnable(a *store.Approval) bool {
	return s.now().Before(a.ExpiresAt.Add(2 * s.Lease))
}

// ErrTampered is the error of a stored request whose integrity code does
// not verify.
var ErrTampered = errors.New("the stored request does not match its integrity code")

// Verify checks a stored request against its integrity code: anything
// that decides or limits its execution altered since it was made (or a
// code made by an older version) fails.
func (s *Service) Verify(a *store.Approval) error {
	if !hmac.Equal([]byte(s.mac(a)), []byte(a.ArgsHash)) {
		return apperr.Wrap(ErrTampered, apperr.Conflict,
			"approval %s does not match what was approved (the stored request was altered); it will not run, and an administrator has been told", a.ID)
	}
	return nil
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
		PlanDigest: r.PlanDigest, Required: r.Approvers, ApproverRoles: roles, ConfirmTarget: r.Confirm, ConfirmValue: r.ConfirmValue,
		Rule: r.Rule, State: store.StatePending, Meta: r.Meta, Ticket: r.Ticket, CreatedAt: now, ExpiresAt: now.Add(r.TTL), UpdatedAt: now,
	}
	a.ArgsHash = s.mac(a)
	if len(secrets) > 0 {
		a.Sealed = s.seal(a.ID, secrets)
	}
	if err := s.store.CreateApproval(ctx, a); err != nil {
		return nil, fmt.Errorf("record approval request: %w", err)
	}
	a.Sealed = ""
	return a, nil
}

// seal encrypts a request's secrets, bound to its id: a sealed value
// copied to another request does not open.
func (s *Service) seal(id string, secrets map[string]string) string {
	plain, _ := json.Marshal(secrets)
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return "v1:" + base64.RawStdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(id)))
}

func (s *Service) unseal(id, sealed string) (map[string]string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("malformed")
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	return out, json.Unmarshal(plain, &out)
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

// Args returns the request's arguments, typed, with secrets unsealed,
// after checking the stored request was not altered.
func (s *Service) Args(ctx context.Context, a *store.Approval) (sdk.Args, error) {
	if err := s.Verify(a); err != nil {
		return nil, err
	}
	out, secret, err := decodeArgs(a)
	if err != nil || len(secret) == 0 {
		return out, err
	}
	sealed, err := s.store.Secrets(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("approval %s: reading its secrets: %w", a.ID, err)
	}
	if sealed == "" {
		return nil, apperr.New(apperr.Conflict, "the secrets given with request %s are no longer held (it ended, or it was made by an older version); make the request again", a.ID)
	}
	secrets, err := s.unseal(a.ID, sealed)
	if err != nil {
		return nil, apperr.New(apperr.Conflict, "the secrets given with request %s cannot be opened with this bot's approval key (replicas must share it); make the request again", a.ID)
	}
	for _, k := range secret {
		v, ok := secrets[k]
		if !ok {
			return nil, apperr.New(apperr.Conflict, "the secret %s given with request %s is no longer held; make the request again", k, a.ID)
		}
		out[k] = v
	}
	return out, nil
}

// PublicArgs returns the request's arguments without its secrets (for
// policy conditions, which never see secrets), or none if it does not
// verify.
func (s *Service) PublicArgs(a *store.Approval) sdk.Args {
	if s.Verify(a) != nil {
		return sdk.Args{}
	}
	out, _, err := decodeArgs(a)
	if err != nil {
		return sdk.Args{}
	}
	return out
}

// decodeArgs reads the stored arguments; secret names the sensitive ones,
// left out.
func decodeArgs(a *store.Approval) (sdk.Args, []string, error) {
	var stored map[string]storedValue
	if err := json.Unmarshal([]byte(a.Args), &stored); err != nil {
		return nil, nil, fmt.Errorf("approval %s: arguments: %w", a.ID, err)
	}
	out := sdk.Args{}
	var secret []string
	for k, v := range stored {
		switch {
		case v.Secret:
			secret = append(secret, k)
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
	sort.Strings(secret)
	return out, secret, nil
}

// Plan decodes the plan approvers saw.
func Plan(a *store.Approval) *sdk.Plan {
	var p *sdk.Plan
	_ = json.Unmarshal([]byte(a.Plan), &p)
	return p
}

// Vote records an approval. The caller has checked the approver's rights.
// The vote that completes the quorum also claims the execution for this
// process, in the same transaction (see Claimed).
func (s *Service) Vote(ctx context.Context, id, user string) (*store.Approval, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	v := store.Vote{User: user, At: now}
	v.Code = s.voteCode(id, v)
	a, err := s.store.Vote(ctx, id, v, &store.Claim{Executor: s.instance, LeaseUntil: now.Add(s.Lease)})
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
	case store.StatePlanChanged:
		return "not run: what it would do changed after it was approved; make a new request"
	}
	return string(s)
}

// Claimed reports whether this process holds a's execution claim.
func (s *Service) Claimed(a *store.Approval) bool {
	return a.State == store.StateExecuting && a.Executor == s.instance
}

// Claim moves an approved request (one left by an older version, which
// approved without claiming) to executing. Only one caller wins.
func (s *Service) Claim(ctx context.Context, id string) (bool, error) {
	lease := s.now().Add(s.Lease)
	return s.store.Transition(ctx, id, []store.State{store.StateApproved}, store.StateExecuting, s.now(), store.Update{LeaseUntil: &lease, Executor: &s.instance})
}

// TakeOver claims an execution whose holder's lease lapsed before it
// handed anything to the provider: it never ran, so it may run here. Only
// one caller wins, and never once the command was dispatched.
func (s *Service) TakeOver(ctx context.Context, a *store.Approval) (bool, error) {
	now := s.now()
	lease := now.Add(s.Lease)
	return s.store.Transition(ctx, a.ID, []store.State{store.StateExecuting}, store.StateExecuting, now,
		store.Update{LeaseUntil: &lease, Executor: &s.instance, If: &store.Guard{Executor: a.Executor, LapsedBy: now, NotDispatched: true}})
}

// Dispatch records that this process is about to hand the command to its
// provider. It fails (false) if the claim is no longer this process's: a
// request is dispatched at most once.
func (s *Service) Dispatch(ctx context.Context, id string) (bool, error) {
	return s.store.Transition(ctx, id, []store.State{store.StateExecuting}, store.StateExecuting, s.now(),
		store.Update{Dispatched: true, If: &store.Guard{Executor: s.instance, NotDispatched: true}})
}

// KeepAlive renews this process's claim on an execution until ctx ends.
func (s *Service) KeepAlive(ctx context.Context, id string) {
	t := time.NewTicker(s.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			lease := s.now().Add(s.Lease)
			_, _ = s.store.Transition(context.WithoutCancel(ctx), id, []store.State{store.StateExecuting}, store.StateExecuting, s.now(),
				store.Update{LeaseUntil: &lease, If: &store.Guard{Executor: s.instance}})
		}
	}
}

// Finish records the outcome of this process's execution and deletes the
// request's secrets.
func (s *Service) Finish(ctx context.Context, id string, ok bool, result string) error {
	to := store.StateFailed
	if ok {
		to = store.StateSucceeded
	}
	return s.settle(ctx, id, s.instance, time.Time{}, to, result)
}

// Abandon settles an execution whose holder died after dispatching it:
// to is unknown unless the audit log shows how it ended.
func (s *Service) Abandon(ctx context.Context, a *store.Approval, to store.State, result string) (bool, error) {
	now := s.now()
	ok, err := s.store.Transition(ctx, a.ID, []store.State{store.StateExecuting}, to, now,
		store.Update{Result: &result, If: &store.Guard{Executor: a.Executor, LapsedBy: now}})
	if ok {
		s.forget(ctx, a.ID)
	}
	return ok, err
}

// NotRun ends this process's execution without running it: its plan
// changed since the approval.
func (s *Service) NotRun(ctx context.Context, id, result string) error {
	return s.settle(ctx, id, s.instance, time.Time{}, store.StatePlanChanged, result)
}

func (s *Service) settle(ctx context.Context, id, executor string, lapsed time.Time, to store.State, result string) error {
	if len(result) > 500 {
		result = result[:500] + "…"
	}
	// A stalled process whose lease lapsed may find its request marked
	// unknown by another; it still holds the claim and knows the
	// outcome, so it settles that too.
	_, err := s.store.Transition(ctx, id, []store.State{store.StateExecuting, store.StateUnknown}, to, s.now(),
		store.Update{Result: &result, If: &store.Guard{Executor: executor, LapsedBy: lapsed}})
	s.forget(ctx, id)
	return err
}

func (s *Service) forget(ctx context.Context, id string) {
	_ = s.store.DeleteSecrets(context.WithoutCancel(ctx), id)
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
	s.forget(ctx, id)
	return a, nil
}

func stateWords(st store.State) string {
	if st == store.StatePending {
		return "is pending"
	}
	return "is " + describe(st)
}

// Stranded is what a sweep found that a dead process left behind.
type Stranded struct {
	// Expired were pending past their expiry; they are now expired.
	Expired []string
	// Lapsed are executions whose claim's lease ran out: their process
	// died (or stalled). Undispatched ones may be taken over; dispatched
	// ones must be settled (Abandon).
	Lapsed []*store.Approval
	// Approved were approved without a claim (by an older version) and
	// never ran.
	Approved []*store.Approval
}

// Sweep expires requests overdue at now, purges the secrets of ended
// requests, and finds the executions a dead process left behind.
func (s *Service) Sweep(ctx context.Context, now time.Time) (Stranded, error) {
	var st Stranded
	var err error
	st.Expired, err = s.store.ExpirePending(ctx, now)
	if err != nil {
		return st, err
	}
	if err := s.store.PurgeSecrets(ctx, now); err != nil {
		return st, err
	}
	list, err := s.store.ListApprovals(ctx, store.ApprovalFilter{States: []store.State{store.StateExecuting, store.StateApproved}})
	if err != nil {
		return st, err
	}
	for _, a := range list {
		switch {
		case a.State == store.StateExecuting && !a.LeaseUntil.After(now):
			st.Lapsed = append(st.Lapsed, a)
		case a.State == store.StateApproved && a.Executor == "":
			st.Approved = append(st.Approved, a)
		}
	}
	return st, nil
}

// Expired reports whether a pending request is past its time.
func (s *Service) Expired(a *store.Approval) bool {
	return a.State == store.StatePending && !s.now().Before(a.ExpiresAt)
}

// Now returns the service's clock.
func (s *Service) Now() time.Time { return s.now() }
