// Package store persists approvals, the audit log and deduplication keys
// behind small interfaces. Two implementations share one contract test:
// SQLite (the default, one process) and PostgreSQL (several replicas).
// State changes are conditional updates, so two clicks or two replicas
// never both act on one approval.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict means the row is not in a state that allows the change.
	ErrConflict = errors.New("state conflict")
	// ErrDuplicateVote means the user has already approved.
	ErrDuplicateVote = errors.New("already approved by this user")
)

// State is where an approval request is in its life.
type State string

const (
	StatePending   State = "pending"
	StateApproved  State = "approved"
	StateExecuting State = "executing"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateDenied    State = "denied"
	StateExpired   State = "expired"
	StateCancelled State = "cancelled"
	// StateUnknown marks an execution whose process died mid-way: the
	// outcome is unknown and it is never re-run automatically.
	StateUnknown State = "unknown"
	// StatePlanChanged marks an approved request that was not run: what
	// it would do changed between the approval and the run.
	StatePlanChanged State = "plan_changed"
)

// Terminal reports whether nothing more can happen to a request.
func (s State) Terminal() bool {
	switch s {
	case StateSucceeded, StateFailed, StateDenied, StateExpired, StateCancelled, StateUnknown, StatePlanChanged:
		return true
	}
	return false
}

// Vote is one approval by one user.
type Vote struct {
	User string
	At   time.Time
	// Code authenticates the vote (see approval.Service); a vote without
	// a valid one does not count.
	Code string
}

// Approval is a request waiting for (or past) approval.
type Approval struct {
	ID        string
	RequestID string
	Requester string
	Channel   string
	Provider  string
	Command   string
	Target    string
	// Args is the canonical JSON of the arguments, sensitive values
	// replaced by a marker: secrets are never stored.
	Args string
	// ArgsHash binds approvals to the exact command, target and args.
	ArgsHash    string
	CommandLine string
	Risk        int
	Plan        string // JSON
	// PlanDigest is the approved plan's fingerprint: the work may run
	// only while planning it again gives the same digest.
	PlanDigest    string
	Required      int
	ApproverRoles []string
	ConfirmTarget bool
	// ConfirmValue is what approvers type to confirm: the name of the
	// resource the command acts on (or the target's, if it names none).
	ConfirmValue string
	Rule         string
	State        State
	Votes        []Vote
	// DecidedBy is who denied or cancelled; Reason says why.
	DecidedBy string
	Reason    string
	// Result is a short outcome of the execution.
	Result string
	// Ticket is the ticket reference the request was made for ("" for none).
	Ticket string
	// Meta holds adapter references (a Slack channel and message ts).
	Meta       map[string]string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UpdatedAt  time.Time
	LeaseUntil time.Time
	// Executor identifies the process running an approved request: a
	// random instance id, judged only by its lease.
	Executor string
	// DispatchedAt is when the executor handed the command to its
	// provider; zero means it never did.
	DispatchedAt time.Time
	// Sealed holds the request's secret arguments, encrypted; it is
	// written with the request and kept in its own table, deleted when
	// the request ends. GetApproval leaves it empty (see Secrets).
	Sealed string
}

// Claim is an execution claim: who runs an approved request, and until
// when they must renew.
type Claim struct {
	Executor   string
	LeaseUntil time.Time
}

// ApprovalFilter selects approvals. Zero fields match everything.
type ApprovalFilter struct {
	States    []State
	Requester string
	Limit     int
}

// Update holds the fields a transition may set; nil fields are unchanged.
type Update struct {
	DecidedBy  *string
	Reason     *string
	Result     *string
	LeaseUntil *time.Time
	Executor   *string
	// Dispatched sets DispatchedAt to the transition's time.
	Dispatched bool
	Meta       map[string]string
	// If adds conditions on an executing request's claim.
	If *Guard
}

// Guard conditions a transition on who holds an execution and how.
type Guard struct {
	// Executor must hold the claim.
	Executor string
	// LapsedBy, when set, requires the lease to have lapsed by then.
	LapsedBy time.Time
	// NotDispatched requires that nothing was handed to the provider yet.
	NotDispatched bool
}

// Approvals persists approval requests.
type Approvals interface {
	CreateApproval(ctx context.Context, a *Approval) error
	GetApproval(ctx context.Context, id string) (*Approval, error)
	ListApprovals(ctx context.Context, f ApprovalFilter) ([]*Approval, error)
	// Vote records user's approval of a pending, unexpired request. When
	// the votes reach the required count the request becomes approved in
	// the same transaction, or, with a claim, executing under that claim:
	// no crash can leave an approved request nobody runs. It returns the
	// request as it now stands.
	Vote(ctx context.Context, id string, v Vote, claim *Claim) (*Approval, error)
	// Transition moves a request from one of from to to, setting u's
	// fields. It reports false (and changes nothing) if the request is
	// not in one of from.
	Transition(ctx context.Context, id string, from []State, to State, at time.Time, u Update) (bool, error)
	// SetMeta merges keys into a request's adapter references.
	SetMeta(ctx context.Context, id string, meta map[string]string) error
	// ExpirePending marks pending requests past their expiry expired.
	ExpirePending(ctx context.Context, now time.Time) ([]string, error)
	// Secrets returns a request's sealed secrets ("" if it has none).
	Secrets(ctx context.Context, id string) (string, error)
	// DeleteSecrets forgets a request's sealed secrets.
	DeleteSecrets(ctx context.Context, id string) error
	// PurgeSecrets deletes the sealed secrets of requests that ended or
	// expired by now.
	PurgeSecrets(ctx context.Context, now time.Time) error
}

// AuditRecord is one stored audit entry.
type AuditRecord struct {
	Seq        int64
	At         time.Time
	RequestID  string
	Actor      string
	Action     string
	Provider   string
	Command    string
	Target     string
	Channel    string
	Args       string
	Outcome    string
	Detail     string
	ApprovalID string
	// Ticket is the ticket reference the request was made for ("" for
	// none); the hash covers it when it is set.
	Ticket   string
	PrevHash string
	Hash     string
}

// AuditFilter selects audit records. Zero fields match everything.
type AuditFilter struct {
	Since, Until time.Time
	Actor        string
	// Command matches "provider:command" by prefix or "provider" alone.
	Command   string
	RequestID string
	Action    string
	// Ticket matches the ticket reference in any case (abc-123 finds
	// ABC-123).
	Ticket string
	// Target matches the target exactly.
	Target string
	// Text matches entries whose detail, arguments, target or command
	// contain it, ignoring case.
	Text     string
	AfterSeq int64
	// Newest returns the last Limit matches (still oldest first).
	Newest bool
	// ByTime orders matches by time (then sequence) instead of by
	// sequence alone, which differ only for entries written in the same
	// instant: an index on the searched column (user, target, time) then
	// yields the first Limit matches of a window without reading the rest
	// of it. For people searching; verifying and shipping need sequence
	// order.
	ByTime bool
	Limit  int
}

// Audit is the append-only audit log.
type Audit interface {
	// AppendAudit assigns the next sequence number and the previous
	// record's hash, lets seal compute the record's own hash, and stores
	// it; appends are serialized so the chain has no forks.
	AppendAudit(ctx context.Context, r AuditRecord, seal func(*AuditRecord)) (AuditRecord, error)
	// AppendAuditBatch appends rs in order, in one transaction, chained
	// and sealed exactly as len(rs) calls of AppendAudit would: for
	// importing or seeding a large log, where a round trip per record
	// is the cost. It returns the stored records.
	AppendAuditBatch(ctx context.Context, rs []AuditRecord, seal func(*AuditRecord)) ([]AuditRecord, error)
	// ScanAudit calls fn for matching records in sequence order (or by
	// time, with ByTime).
	ScanAudit(ctx context.Context, f AuditFilter, fn func(AuditRecord) error) error
}

// AuditCursors remembers, per shipping destination (a SIEM), the last
// audit entry it has received, so shipping resumes where it stopped after
// a restart and delivers every entry at least once.
type AuditCursors interface {
	// AuditCursor returns the last entry delivered to the destination,
	// the zero position if none yet.
	AuditCursor(ctx context.Context, dest string) (AuditPosition, error)
	// AdvanceAuditCursor moves the destination's cursor to pos. A cursor
	// never moves backwards: a seq at or below the stored one changes
	// nothing (a slower replica finishing an older batch).
	AdvanceAuditCursor(ctx context.Context, dest string, pos AuditPosition, at time.Time) error
	// ResetAuditCursor moves the destination's cursor from from to to,
	// even backwards, if it is still at from (the log was cut or
	// rewritten under it); it reports whether it moved it.
	ResetAuditCursor(ctx context.Context, dest string, from, to AuditPosition, at time.Time) (bool, error)
}

// AuditPosition is an entry a destination received: its sequence
// number, hash and time (Hash and At are empty for cursors stored before
// they were kept).
type AuditPosition struct {
	Seq  int64
	Hash string
	At   time.Time
}

// PositionOf is the position of r.
func PositionOf(r AuditRecord) AuditPosition {
	return AuditPosition{Seq: r.Seq, Hash: r.Hash, At: r.At}
}

// Dedup remembers keys for a while, so retried deliveries run once.
type Dedup interface {
	// Claim returns true the first time key is seen within ttl.
	Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error)
}

// InboxState is where an accepted slash command is in its life.
type InboxState string

const (
	// InboxReceived: acknowledged to Slack, not yet begun; nothing of it
	// reached a provider, so another process may run it.
	InboxReceived InboxState = "received"
	// InboxStarted: a process began running it; it is never run again.
	InboxStarted InboxState = "started"
	// InboxDone: answered (or refused at once, as when the bot was busy);
	// the row stays, without its payload, so a retry is a duplicate.
	InboxDone InboxState = "done"
	// InboxUnknown: its process died after starting it; the outcome is
	// unknown.
	InboxUnknown InboxState = "unknown"
	// InboxDropped: its process died before starting it, and it was too
	// old to answer when found; it never ran.
	InboxDropped InboxState = "dropped"
)

// InboxItem is one accepted slash command.
type InboxItem struct {
	// Key identifies the delivery (Slack's team and trigger id): a retry
	// of the same command has the same key.
	Key   string
	State InboxState
	// Owner is the instance id of the process that holds the command;
	// it holds it while LeaseUntil is ahead.
	Owner      string
	LeaseUntil time.Time
	ReceivedAt time.Time
	UpdatedAt  time.Time
	// Payload is what is needed to run and answer the command (what the
	// user typed and where to answer, a capability): adapter-defined,
	// never logged, and emptied once the command is answered.
	Payload string
}

// Inbox keeps the slash commands the bot has acknowledged until they are
// answered, so a process that dies loses none: another takes over the
// ones it had not begun, and reports the ones it had.
type Inbox interface {
	// InboxAdd stores item unless its key is already there; it reports
	// whether it did (false: a duplicate delivery). It returns once the
	// row is committed; adds that arrive together share a transaction.
	InboxAdd(ctx context.Context, item InboxItem) (bool, error)
	// InboxGet returns one item (ErrNotFound if there is none).
	InboxGet(ctx context.Context, key string) (InboxItem, error)
	// InboxMove moves owner's item from state from to to at at, and
	// empties its payload when scrub is set; it reports false (changing
	// nothing) if the item is not owner's or not in from.
	InboxMove(ctx context.Context, key, owner string, from, to InboxState, at time.Time, scrub bool) (bool, error)
	// InboxRenew extends the lease of owner's received and started items
	// to until: the owner's heartbeat.
	InboxRenew(ctx context.Context, owner string, until time.Time) error
	// InboxLapsed lists up to limit received and started items whose
	// lease lapsed by now, oldest first.
	InboxLapsed(ctx context.Context, now time.Time, limit int) ([]InboxItem, error)
	// InboxTakeOver gives a lapsed item to owner under a new lease and
	// state, if it is still as it was listed (same owner and state, lease
	// lapsed by now); it reports whether it did. Of several replicas
	// sweeping at once, one wins.
	InboxTakeOver(ctx context.Context, it InboxItem, owner string, to InboxState, now, lease time.Time, scrub bool) (bool, error)
	// InboxPurge deletes items received before cutoff that are no longer
	// received or started, and empties the payload of any item received
	// before cutoff; it returns how many it deleted.
	InboxPurge(ctx context.Context, cutoff time.Time) (int, error)
}

// Store is everything the bot persists.
type Store interface {
	Approvals
	Audit
	AuditCursors
	Dedup
	Inbox
	// Ping checks the database answers.
	Ping(ctx context.Context) error
	Close() error
}
