// Package authz decides who may run what: a deny-by-default RBAC policy
// with roles granting provider:command patterns, scoped to targets and
// channels, with conditions on arguments, and approval rules by risk.
package authz

import (
	"time"

	"github.com/deskbot/deskbot/sdk"
)

// Effect is the outcome of an authorization.
type Effect int

const (
	Deny Effect = iota
	Allow
	NeedsApproval
)

func (e Effect) String() string {
	return [...]string{"deny", "allow", "needs-approval"}[e]
}

// Subject is who is asking.
type Subject struct {
	// User is the stable user id.
	User string
	// Groups are the user's group ids, resolved by the caller.
	Groups []string
}

// Action is what is asked for.
type Action struct {
	Provider string
	Command  string
	Args     sdk.Args
	Target   string
	Channel  string
	// Risk is the effective risk: the catalog's, raised by the plan.
	Risk sdk.Risk
}

// Requirement says what an approval needs.
type Requirement struct {
	// Approvers is how many distinct approvers must approve.
	Approvers int
	// ApproverRoles may approve; empty means any role that grants approve.
	ApproverRoles []string
	// ConfirmTarget asks each approver to type the name of what the command acts on (its resource parameter's value, or the target's name).
	ConfirmTarget bool
	// TTL is how long the request waits for approvals.
	TTL time.Duration
	// Rule names the approval rule that applied.
	Rule string
}

// Decision is an authorization's answer and the rule that made it.
type Decision struct {
	Effect Effect
	// Rule names what decided ("role tier2, grant 3" or "default deny").
	Rule string
	// Reason explains a denial in words a user understands.
	Reason string
	// Requirement is set when Effect is NeedsApproval.
	Requirement *Requirement
}

// Authorizer decides requests.
type Authorizer interface {
	Authorize(s Subject, a Action) Decision
}

// AllowAll lets everyone run everything: for development only.
type AllowAll struct{}

// Authorize implements [Authorizer].
func (AllowAll) Authorize(Subject, Action) Decision {
	return Decision{Effect: Allow, Rule: "allow-all (development)"}
}

// CanApprove lets anyone approve anything: for development only.
func (AllowAll) CanApprove(Subject, Action, Requirement) Decision {
	return Decision{Effect: Allow, Rule: "allow-all (development)"}
}

// Roles reports the single pretend role.
func (AllowAll) Roles(Subject, string) []string { return []string{"allow-all"} }

// DisplayName returns the id.
func (AllowAll) DisplayName(id string) string { return id }
