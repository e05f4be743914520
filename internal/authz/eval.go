package authz

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

var _ Authorizer = (*Policy)(nil)

// subjectKeys are the forms under which bindings may name s.
func (p *Policy) subjectKeys(s Subject) map[string]bool {
	keys := make(map[string]bool, 2+len(p.memberOf[s.User])+len(s.Groups))
	keys["*"], keys[s.User] = true, true
	for _, g := range p.memberOf[s.User] {
		keys["group:"+g] = true
	}
	for _, g := range s.Groups {
		keys["slack:"+g] = true
	}
	return keys
}

// Roles returns the roles bound to s in channel, in binding order.
func (p *Policy) Roles(s Subject, channel string) []string {
	keys := p.subjectKeys(s)
	var out []string
	for _, b := range p.bindings {
		if !b.channels.matchAll(channel) {
			continue
		}
		for _, sub := range b.subjects {
			if keys[sub] {
				for _, r := range b.roles {
					if !slices.Contains(out, r) {
						out = append(out, r)
					}
				}
				break
			}
		}
	}
	return out
}

func commandKey(a Action) string { return a.Provider + ":" + a.Command }

// commandRules are the rules whose command patterns match one
// provider:command, as indexes into the policy's lists, in policy order:
// a decision checks only these, so its cost grows with the rules that
// can apply to the command, not with the whole policy.
type commandRules struct {
	denies    []int
	approvals []int
	// grants and approves map a role to its grants (approve grants)
	// that cover the command; a role with none is absent.
	grants   map[string][]int
	approves map[string][]int
}

// maxCachedCommands bounds the per-command cache. The commands a bot
// decides on come from its plugins' catalogs, a few thousand at most;
// past the bound a key's rules are worked out each time instead.
const maxCachedCommands = 10_000

// rulesFor returns the rules that can apply to key, working them out on
// the key's first decision. The policy is immutable, so they never go
// stale; a reload builds a new policy with an empty cache.
func (p *Policy) rulesFor(key string) *commandRules {
	if v, ok := p.byCommand.Load(key); ok {
		return v.(*commandRules)
	}
	r := &commandRules{grants: map[string][]int{}, approves: map[string][]int{}}
	for i, d := range p.denies {
		if d.commands.matchAll(key) {
			r.denies = append(r.denies, i)
		}
	}
	for i, ar := range p.approval.rules {
		if ar.commands.matchAll(key) {
			r.approvals = append(r.approvals, i)
		}
	}
	for name, role := range p.roles {
		for i, g := range role.grants {
			if g.commands.matchAll(key) {
				r.grants[name] = append(r.grants[name], i)
			}
		}
		for i, g := range role.approves {
			if g.commands.matchAll(key) {
				r.approves[name] = append(r.approves[name], i)
			}
		}
	}
	if p.cached.Load() >= maxCachedCommands {
		return r
	}
	if v, loaded := p.byCommand.LoadOrStore(key, r); loaded {
		return v.(*commandRules)
	}
	p.cached.Add(1)
	return r
}

// Authorize implements [Authorizer]: explicit denies first, then the
// first grant of the subject's roles that covers the action, then the
// approval rule for it.
func (p *Policy) Authorize(s Subject, a Action) Decision {
	key := commandKey(a)
	rules := p.rulesFor(key)
	keys := p.subjectKeys(s)
	for _, i := range rules.denies {
		d := p.denies[i]
		if !d.targets.matchAll(a.Target) || !d.channels.matchAll(a.Channel) {
			continue
		}
		if len(d.subjects) > 0 {
			hit := false
			for _, sub := range d.subjects {
				hit = hit || keys[sub]
			}
			if !hit {
				continue
			}
		}
		if d.when != nil {
			// A deny condition that cannot be checked denies: fail closed.
			if ok, err := d.when.eval(s, a); err == nil && !ok {
				continue
			}
		}
		reason := d.reason
		if reason == "" {
			reason = "the policy forbids it"
		}
		return Decision{Effect: Deny, Rule: fmt.Sprintf("deny rule %d (line %d)", i+1, d.line), Reason: reason}
	}

	roles := p.Roles(s, a.Channel)
	if len(roles) == 0 {
		return Decision{Effect: Deny, Rule: "default deny", Reason: "you have no role in this channel"}
	}
	var near string // the most helpful explanation of a miss
	for _, rn := range roles {
		r := p.roles[rn]
		for _, gi := range rules.grants[rn] {
			g := r.grants[gi]
			where := fmt.Sprintf("role %s grant %d (line %d)", rn, gi+1, g.line)
			switch {
			case !g.targets.matchAll(a.Target):
				near = fmt.Sprintf("%s covers %s only on targets %s", where, key, g.targets)
				continue
			case !g.channels.matchAll(a.Channel):
				near = fmt.Sprintf("%s covers %s only in channels %s", where, key, g.channels)
				continue
			case a.Risk > g.maxRisk:
				near = fmt.Sprintf("%s covers commands up to %s risk, and this one is %s", where, g.maxRisk, a.Risk)
				continue
			}
			if g.when != nil {
				ok, err := g.when.eval(s, a)
				if err != nil {
					near = fmt.Sprintf("%s has a condition (%s) that cannot be checked for these arguments: %v", where, g.when.src, err)
					continue
				}
				if !ok {
					near = fmt.Sprintf("%s allows it only when %s", where, g.when.src)
					continue
				}
			}
			return p.withApproval(s, a, Decision{Effect: Allow, Rule: where})
		}
	}
	reason := fmt.Sprintf("none of your roles (%s) grants %s", strings.Join(roles, ", "), key)
	if near != "" {
		reason = near
	}
	return Decision{Effect: Deny, Rule: "default deny", Reason: reason}
}

// Requirement returns the approval s needs for a: the first approval rule
// that covers the command (and the requester's roles, if it names any),
// else the default for the action's risk.
func (p *Policy) Requirement(s Subject, a Action) Requirement {
	key := commandKey(a)
	var roles []string
	for _, i := range p.rulesFor(key).approvals {
		r := p.approval.rules[i]
		if !r.targets.matchAll(a.Target) {
			continue
		}
		if len(r.requesterRoles) > 0 {
			if roles == nil {
				roles = p.Roles(s, a.Channel)
			}
			if !overlapStrings(roles, r.requesterRoles) {
				continue
			}
		}
		return p.requirement(*r, fmt.Sprintf("approval rule %d (line %d)", i+1, r.line))
	}
	return p.requirement(p.approval.byRisk[a.Risk], "default for "+a.Risk.String()+" risk")
}

func (p *Policy) requirement(r approvalRule, name string) Requirement {
	ttl := r.ttl
	if ttl == 0 {
		ttl = p.approval.ttl
	}
	return Requirement{Approvers: r.approvers, ApproverRoles: r.approverRoles, ConfirmTarget: r.confirm, TTL: ttl, Rule: name}
}

func overlapStrings(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func (p *Policy) withApproval(s Subject, a Action, d Decision) Decision {
	req := p.Requirement(s, a)
	if req.Approvers == 0 {
		d.Rule += "; " + req.Rule + ": no approval needed"
		return d
	}
	d.Effect = NeedsApproval
	d.Requirement = &req
	d.Rule += fmt.Sprintf("; %s: %d approver(s)", req.Rule, req.Approvers)
	return d
}

// CanApprove decides whether s may approve a with requirement req. The
// caller checks that s is not the requester.
func (p *Policy) CanApprove(s Subject, a Action, req Requirement) Decision {
	key := commandKey(a)
	rules := p.rulesFor(key)
	roles := p.Roles(s, a.Channel)
	var near string
	for _, rn := range roles {
		if len(req.ApproverRoles) > 0 && !slices.Contains(req.ApproverRoles, rn) {
			continue
		}
		for _, gi := range rules.approves[rn] {
			g := p.roles[rn].approves[gi]
			if !g.targets.matchAll(a.Target) || !g.channels.matchAll(a.Channel) {
				continue
			}
			where := fmt.Sprintf("role %s approve %d (line %d)", rn, gi+1, g.line)
			if a.Risk > g.maxRisk {
				near = fmt.Sprintf("%s covers approvals up to %s risk, and this one is %s", where, g.maxRisk, a.Risk)
				continue
			}
			return Decision{Effect: Allow, Rule: where}
		}
	}
	reason := "you may not approve " + key
	if len(req.ApproverRoles) > 0 {
		reason += " (it needs an approver with role " + strings.Join(req.ApproverRoles, " or ") + ")"
	}
	if near != "" {
		reason = near
	}
	return Decision{Effect: Deny, Rule: "default deny", Reason: reason}
}

// Explanation is a readable account of a decision.
type Explanation struct {
	Subject  string
	Roles    []string
	Decision Decision
}

func (e Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "decision: %s\n", e.Decision.Effect)
	fmt.Fprintf(&b, "subject:  %s\n", e.Subject)
	roles := "none"
	if len(e.Roles) > 0 {
		roles = strings.Join(e.Roles, ", ")
	}
	fmt.Fprintf(&b, "roles:    %s\n", roles)
	fmt.Fprintf(&b, "rule:     %s\n", e.Decision.Rule)
	if e.Decision.Reason != "" {
		fmt.Fprintf(&b, "reason:   %s\n", e.Decision.Reason)
	}
	if r := e.Decision.Requirement; r != nil {
		fmt.Fprintf(&b, "approval: %d approver(s)", r.Approvers)
		if len(r.ApproverRoles) > 0 {
			fmt.Fprintf(&b, " with role %s", strings.Join(r.ApproverRoles, " or "))
		}
		if r.ConfirmTarget {
			b.WriteString(", each typing the name of what it acts on")
		}
		fmt.Fprintf(&b, ", within %s\n", r.TTL)
	}
	return b.String()
}

// Explain decides and says why.
func (p *Policy) Explain(s Subject, a Action) Explanation {
	return Explanation{Subject: p.DisplayName(s.User) + " (" + s.User + ")", Roles: p.Roles(s, a.Channel), Decision: p.Authorize(s, a)}
}

// RoleDescriptions maps the subject's roles to their descriptions.
func (p *Policy) RoleDescriptions(names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		if r, ok := p.roles[n]; ok {
			out[n] = r.description
		}
	}
	return out
}

// SlackGroups lists the Slack user group ids the policy names.
func (p *Policy) SlackGroups() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if g, ok := strings.CutPrefix(s, "slack:"); ok && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, b := range p.bindings {
		for _, s := range b.subjects {
			add(s)
		}
	}
	for _, d := range p.denies {
		for _, s := range d.subjects {
			add(s)
		}
	}
	sort.Strings(out)
	return out
}

// UserIDs lists, sorted, every user id the policy names: its users, the
// members of its groups, and the ids its bindings name directly. Members
// of Slack user groups and everyone a "*" binding covers are not among
// them: only Slack knows those.
func (p *Policy) UserIDs() []string {
	seen := map[string]bool{}
	for _, id := range p.Users {
		seen[id] = true
	}
	for _, members := range p.groups {
		for _, id := range members {
			seen[id] = true
		}
	}
	for _, b := range p.bindings {
		for _, s := range b.subjects {
			if userIDRE.MatchString(s) {
				seen[s] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// GroupsOf lists the static groups a user belongs to.
func (p *Policy) GroupsOf(user string) []string {
	return slices.Clone(p.memberOf[user])
}

// MayRun reports whether s may run a (perhaps after approval); help uses
// it to hide what a user may not run.
func (p *Policy) MayRun(s Subject, a Action) bool {
	return p.Authorize(s, a).Effect != Deny
}
