// Package audit is the append-only record of everything the bot was asked
// and did: requests, decisions, approvals, executions and results, with
// secrets redacted, each entry chained to the one before by hash.
package audit

import (
	"context"
	"time"
)

// Action names what an entry records.
type Action string

const (
	ActionRequest  Action = "request"
	ActionDecision Action = "decision"
	ActionPlan     Action = "plan"
	ActionApproval Action = "approval"
	ActionExecute  Action = "execute"
	ActionResult   Action = "result"
	ActionAdmin    Action = "admin"
	// ActionDryRun records a plan shown on request (--plan): nothing was
	// approved or run.
	ActionDryRun Action = "dry-run"
)

// Entry is one audit record. Args and Detail are redacted before they
// get here.
type Entry struct {
	Seq       int64
	Time      time.Time
	RequestID string
	// Actor is the user id who caused the entry.
	Actor    string
	Action   Action
	Provider string
	Command  string
	Target   string
	Channel  string
	// Args is the canonical, redacted argument string.
	Args string
	// Outcome is short: allow, deny, pending, approved, succeeded, failed...
	Outcome string
	Detail  string
	// ApprovalID links entries of one approval.
	ApprovalID string
	// Ticket is the ticket reference the request was made for; the
	// entry's hash covers it, so changing it later is tampering.
	Ticket   string
	PrevHash string
	Hash     string
}

// Sink receives entries. Record must not fail silently: an entry that
// cannot be written is an error the caller reports.
type Sink interface {
	Record(ctx context.Context, e Entry) error
}

// Discard drops entries.
type Discard struct{}

// Record implements [Sink].
func (Discard) Record(context.Context, Entry) error { return nil }
