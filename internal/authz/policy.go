package authz

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"github.com/deskbot/deskbot/sdk"
)

// Policy is a loaded, validated policy. It is immutable: a reload builds
// a new one.
type Policy struct {
	// Users maps names to user ids.
	Users map[string]string
	// names maps user ids back to names, for display.
	names  map[string]string
	groups map[string][]string // static group → user ids
	// memberOf maps a user id to its static groups, sorted: a decision
	// looks a user up rather than scanning every group's members.
	memberOf map[string][]string
	roles    map[string]*role
	bindings []*binding
	denies   []*denyRule
	approval approvalConfig
	tickets  ticketConfig
	// Hash is the sha256 of the file the policy was read from.
	Hash string

	// byCommand caches, per provider:command, the rules whose command
	// patterns match it (see commandRules): a decision then looks only at
	// the rules that can apply, however large the policy.
	byCommand sync.Map // string → *commandRules
	// cached counts byCommand's entries, to bound it.
	cached atomic.Int64
}

type pattern struct {
	src string
	re  *regexp.Regexp
}

func (p pattern) match(s string) bool { return p.re.MatchString(strings.ToLower(s)) }

type patterns []pattern

// matchAll is true for an empty list: an absent scope does not restrict.
func (ps patterns) matchAll(s string) bool {
	if len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if p.match(s) {
			return true
		}
	}
	return false
}

func (ps patterns) String() string {
	var s []string
	for _, p := range ps {
		s = append(s, p.src)
	}
	return strings.Join(s, ", ")
}

type grant struct {
	line     int
	commands patterns
	targets  patterns
	channels patterns
	maxRisk  sdk.Risk
	when     *condition
}

type role struct {
	name        string
	description string
	line        int
	grants      []*grant
	approves    []*grant
}

type binding struct {
	line     int
	subjects []string // "*", user ids, "group:NAME", "slack:S..."
	roles    []string
	channels patterns
}

type denyRule struct {
	line     int
	commands patterns
	targets  patterns
	channels patterns
	subjects []string
	when     *condition
	reason   string
}

type approvalRule struct {
	line           int
	commands       patterns
	targets        patterns
	requesterRoles []string
	approvers      int
	approverRoles  []string
	confirm        bool
	ttl            time.Duration
}

type approvalConfig struct {
	ttl    time.Duration
	byRisk map[sdk.Risk]approvalRule
	rules  []*approvalRule
}

// ValidationError lists every problem found in a policy file, each with
// its line.
type ValidationError struct {
	File     string
	Problems []Problem
}

// Problem is one thing wrong with a policy.
type Problem struct {
	Line int
	Msg  string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		if p.Line > 0 {
			fmt.Fprintf(&b, "%s:%d: %s", e.File, p.Line, p.Msg)
		} else {
			fmt.Fprintf(&b, "%s: %s", e.File, p.Msg)
		}
	}
	return b.String()
}

// LoadFile reads and validates a policy file.
func LoadFile(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

var (
	userIDRE  = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	slackGrRE = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	globRE    = regexp.MustCompile(`^[a-z0-9_.*?-]+(:[a-z0-9_.*? -]+)?$`)
)

type loader struct {
	file     string
	problems []Problem
	env      *cel.Env
	p        *Policy
}

func (l *loader) errf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.problems = append(l.problems, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
}

type pair struct {
	key   string
	value *yaml.Node
}

// pairs returns a mapping's entries in document order, reporting keys
// given twice.
func (l *loader) pairs(n *yaml.Node, what string) []pair {
	if n.Kind != yaml.MappingNode {
		l.errf(n, "%s must be a mapping of keys to values", what)
		return nil
	}
	var out []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			l.errf(k, "%q appears twice in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		out = append(out, pair{k.Value, v})
	}
	return out
}

// fields checks a mapping node's keys against allowed and returns them.
func (l *loader) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for _, kv := range l.pairs(n, what) {
		ok := false
		for _, a := range allowed {
			ok = ok || a == kv.key
		}
		if !ok {
			l.errf(keyNode(n, kv.key), "unknown key %q in %s (allowed: %s)", kv.key, what, strings.Join(allowed, ", "))
			continue
		}
		out[kv.key] = kv.value
	}
	return out
}

func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return n
}

func (l *loader) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		l.errf(n, "%s must be a single value", what)
		return ""
	}
	return n.Value
}

func (l *loader) list(n *yaml.Node, what string) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []*yaml.Node{n}
	}
	if n.Kind != yaml.SequenceNode {
		if n.Tag != "!!null" {
			l.errf(n, "%s must be a list", what)
		}
		return nil
	}
	return n.Content
}

func (l *loader) compilePattern(n *yaml.Node, what string, command bool) (pattern, bool) {
	src := strings.ToLower(strings.TrimSpace(n.Value))
	if n.Kind != yaml.ScalarNode || src == "" {
		l.errf(n, "%s: a pattern must be a non-empty string", what)
		return pattern{}, false
	}
	if command {
		if !strings.Contains(src, ":") {
			l.errf(n, "%s: command pattern %q needs the form provider:command (e.g. whm:account suspend, cln:*, *:* list)", what, n.Value)
			return pattern{}, false
		}
		if !globRE.MatchString(src) || strings.HasPrefix(src, ":") || strings.HasSuffix(src, ":") {
			l.errf(n, "%s: command pattern %q may use only lower-case letters, digits, spaces, - _ . and the wildcards * and ?", what, n.Value)
			return pattern{}, false
		}
	} else if strings.ContainsAny(src, " :") || !regexp.MustCompile(`^[a-z0-9_.*?#-]+$`).MatchString(src) {
		l.errf(n, "%s: pattern %q may use only letters, digits, - _ . # and the wildcards * and ?", what, n.Value)
		return pattern{}, false
	}
	var re strings.Builder
	re.WriteString("^")
	for _, r := range src {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	return pattern{src: src, re: regexp.MustCompile(re.String())}, true
}

func (l *loader) patterns(n *yaml.Node, what string, command bool) patterns {
	var out patterns
	for _, item := range l.list(n, what) {
		if p, ok := l.compilePattern(item, what, command); ok {
			out = append(out, p)
		}
	}
	return out
}

func (l *loader) risk(n *yaml.Node, what string) sdk.Risk {
	if n == nil {
		return sdk.RiskCritical
	}
	r, err := riskOf(n.Value)
	if err != nil {
		l.errf(n, "%s: %v", what, err)
		return sdk.RiskReadOnly
	}
	return r
}

func (l *loader) duration(n *yaml.Node, what string) time.Duration {
	if n == nil {
		return 0
	}
	d, err := sdk.ParseDuration(n.Value)
	if err != nil || d <= 0 {
		l.errf(n, "%s: %q is not a positive duration (like 30m, 1h, 2d)", what, n.Value)
		return 0
	}
	return d
}

func (l *loader) count(n *yaml.Node, what string) int {
	if n == nil {
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < 0 || v > 10 {
		l.errf(n, "%s: %q is not a whole number from 0 to 10", what, n.Value)
		return 0
	}
	return v
}

func (l *loader) boolean(n *yaml.Node, what string) bool {
	if n == nil {
		return false
	}
	b, err := strconv.ParseBool(n.Value)
	if err != nil {
		l.errf(n, "%s: %q is not true or false", what, n.Value)
	}
	return b
}

// subject resolves a subject as written to its canonical form.
func (l *loader) subject(n *yaml.Node) (string, bool) {
	s := strings.TrimSpace(n.Value)
	switch {
	case s == "*":
		return s, true
	case strings.HasPrefix(s, "group:"):
		g := strings.TrimPrefix(s, "group:")
		if _, ok := l.p.groups[g]; !ok {
			l.errf(n, "unknown group %q (define it under groups, or write a Slack user group as slack:S0123ABCD)", g)
			return "", false
		}
		return s, true
	case strings.HasPrefix(s, "slack:"):
		if !slackGrRE.MatchString(strings.TrimPrefix(s, "slack:")) {
			l.errf(n, "%q is not a Slack user group id (slack:S0123ABCD)", s)
			return "", false
		}
		return s, true
	case userIDRE.MatchString(s):
		return s, true
	}
	if id, ok := l.p.Users[s]; ok {
		return id, true
	}
	l.errf(n, "unknown subject %q: use a name from users, a Slack user id (U0123ABCD), group:NAME, slack:S0123ABCD or *", s)
	return "", false
}

// Parse validates a policy document; name is used in error messages.
func Parse(name string, data []byte) (*Policy, error) {
	sum := sha256.Sum256(data)
	l := &loader{file: name, p: &Policy{Users: map[string]string{}, names: map[string]string{}, groups: map[string][]string{}, roles: map[string]*role{}, Hash: hex.EncodeToString(sum[:])}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line := 0
		msg := err.Error()
		if m := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = regexp.MustCompile(`^yaml: (line \d+: )?`).ReplaceAllString(msg, "")
		}
		if errors.Is(err, io.EOF) {
			msg = "the file is empty"
		}
		return nil, &ValidationError{File: name, Problems: []Problem{{Line: line, Msg: "not valid YAML: " + msg}}}
	}
	if len(doc.Content) == 0 {
		return nil, &ValidationError{File: name, Problems: []Problem{{Msg: "the file is empty"}}}
	}
	env, err := newCELEnv()
	if err != nil {
		return nil, err
	}
	l.env = env
	l.load(doc.Content[0])
	if len(l.problems) > 0 {
		sort.SliceStable(l.problems, func(i, j int) bool { return l.problems[i].Line < l.problems[j].Line })
		return nil, &ValidationError{File: name, Problems: l.problems}
	}
	return l.p, nil
}

func (l *loader) load(root *yaml.Node) {
	top := l.fields(root, "the policy", "version", "users", "groups", "roles", "bindings", "deny", "approvals", "tickets")
	if v := top["version"]; v == nil {
		l.errf(root, "version is missing (write version: 1)")
	} else if v.Value != "1" {
		l.errf(v, "unsupported version %q (this bot reads version 1)", v.Value)
	}

	if n := top["users"]; n != nil {
		for _, kv := range l.pairs(n, "users") {
			name, v := kv.key, kv.value
			id := l.str(v, "user "+name)
			if !nameRE.MatchString(name) {
				l.errf(v, "user name %q must be lower-case letters, digits, - _ .", name)
			}
			if !userIDRE.MatchString(id) {
				l.errf(v, "user %s: %q is not a Slack user id (U0123ABCD)", name, id)
				continue
			}
			if other, dup := l.p.names[id]; dup {
				l.errf(v, "user id %s is given to both %s and %s", id, other, name)
			}
			l.p.Users[name] = id
			l.p.names[id] = name
		}
	}

	if n := top["groups"]; n != nil {
		// Declare every group first so members may be checked in any order.
		gs := l.pairs(n, "groups")
		for _, kv := range gs {
			l.p.groups[kv.key] = nil
		}
		for _, kv := range gs {
			g, v := kv.key, kv.value
			members := l.list(v, "group "+g)
			if len(members) == 0 {
				l.errf(v, "group %s has no members", g)
			}
			for _, m := range members {
				if strings.HasPrefix(m.Value, "group:") || strings.HasPrefix(m.Value, "slack:") || m.Value == "*" {
					l.errf(m, "group %s: members are users, not %q", g, m.Value)
					continue
				}
				if id, ok := l.subject(m); ok {
					l.p.groups[g] = append(l.p.groups[g], id)
				}
			}
		}
	}

	if n := top["roles"]; n == nil {
		l.errf(root, "roles is missing: without roles nobody may do anything")
	} else {
		for _, kv := range l.pairs(n, "roles") {
			name, v := kv.key, kv.value
			r := &role{name: name, line: v.Line}
			f := l.fields(v, "role "+name, "description", "grants", "approve")
			r.description = l.str(f["description"], "description")
			for _, g := range l.list(f["grants"], "grants of role "+name) {
				r.grants = append(r.grants, l.grant(g, "role "+name+" grant", true))
			}
			for _, g := range l.list(f["approve"], "approve of role "+name) {
				r.approves = append(r.approves, l.grant(g, "role "+name+" approve", false))
			}
			if len(r.grants) == 0 && len(r.approves) == 0 {
				l.errf(v, "role %s grants nothing and approves nothing", name)
			}
			l.p.roles[name] = r
		}
	}

	for _, b := range l.list(top["bindings"], "bindings") {
		f := l.fields(b, "binding", "subjects", "roles", "channels")
		bd := &binding{line: b.Line, channels: l.patterns(f["channels"], "binding channels", false)}
		for _, s := range l.list(f["subjects"], "binding subjects") {
			if id, ok := l.subject(s); ok {
				bd.subjects = append(bd.subjects, id)
			}
		}
		for _, r := range l.list(f["roles"], "binding roles") {
			if _, ok := l.p.roles[r.Value]; !ok {
				l.errf(r, "unknown role %q (roles: %s)", r.Value, strings.Join(roleNames(l.p.roles), ", "))
				continue
			}
			bd.roles = append(bd.roles, r.Value)
		}
		if f["subjects"] == nil || f["roles"] == nil {
			l.errf(b, "a binding needs subjects and roles")
		}
		l.p.bindings = append(l.p.bindings, bd)
	}

	for _, d := range l.list(top["deny"], "deny") {
		f := l.fields(d, "deny rule", "commands", "targets", "channels", "subjects", "when", "reason")
		dr := &denyRule{line: d.Line, commands: l.patterns(f["commands"], "deny commands", true),
			targets: l.patterns(f["targets"], "deny targets", false), channels: l.patterns(f["channels"], "deny channels", false),
			reason: l.str(f["reason"], "reason")}
		if f["commands"] == nil {
			l.errf(d, "a deny rule needs commands")
		}
		for _, s := range l.list(f["subjects"], "deny subjects") {
			if id, ok := l.subject(s); ok {
				dr.subjects = append(dr.subjects, id)
			}
		}
		if w := f["when"]; w != nil {
			c, err := compileCondition(l.env, w.Value)
			if err != nil {
				l.errf(w, "deny rule: condition %q: %s", w.Value, oneLine(err.Error()))
			} else {
				dr.when = c
			}
		}
		l.p.denies = append(l.p.denies, dr)
	}

	l.approvals(top["approvals"])
	l.tickets(top["tickets"])
	l.checkSatisfiable()
	l.p.memberOf = map[string][]string{}
	for g, members := range l.p.groups {
		for _, u := range members {
			if !slices.Contains(l.p.memberOf[u], g) {
				l.p.memberOf[u] = append(l.p.memberOf[u], g)
			}
		}
	}
	for _, gs := range l.p.memberOf {
		sort.Strings(gs)
	}
}

func roleNames(m map[string]*role) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (l *loader) grant(n *yaml.Node, what string, withWhen bool) *grant {
	allowed := []string{"commands", "targets", "channels", "max_risk"}
	if withWhen {
		allowed = append(allowed, "when")
	}
	f := l.fields(n, what, allowed...)
	g := &grant{line: n.Line,
		commands: l.patterns(f["commands"], what+" commands", true),
		targets:  l.patterns(f["targets"], what+" targets", false),
		channels: l.patterns(f["channels"], what+" channels", false),
		maxRisk:  l.risk(f["max_risk"], what+" max_risk"),
	}
	if f["commands"] == nil {
		l.errf(n, "%s needs commands (e.g. commands: [\"whm:account *\"])", what)
	}
	if w := f["when"]; w != nil {
		c, err := compileCondition(l.env, w.Value)
		if err != nil {
			l.errf(w, "%s: condition %q: %s", what, w.Value, oneLine(err.Error()))
		} else {
			g.when = c
		}
	}
	return g
}

func oneLine(s string) string {
	s = strings.TrimPrefix(s, "ERROR: <input>:")
	return strings.Join(strings.Fields(strings.Split(s, "\n")[0]), " ")
}

func (l *loader) approvals(n *yaml.Node) {
	cfg := approvalConfig{ttl: time.Hour, byRisk: map[sdk.Risk]approvalRule{
		sdk.RiskReadOnly: {approvers: 0},
		sdk.RiskLow:      {approvers: 0},
		sdk.RiskHigh:     {approvers: 1},
		sdk.RiskCritical: {approvers: 2, confirm: true},
	}}
	if n != nil {
		f := l.fields(n, "approvals", "ttl", "by_risk", "rules")
		if d := l.duration(f["ttl"], "approvals ttl"); d > 0 {
			cfg.ttl = d
		}
		if br := f["by_risk"]; br != nil {
			f := l.fields(br, "by_risk", "read-only", "low", "high", "critical")
			for _, k := range []string{"read-only", "low", "high", "critical"} {
				if v, ok := f[k]; ok {
					r, _ := riskOf(k)
					cfg.byRisk[r] = l.approvalRule(v, "by_risk "+k, false)
				}
			}
		}
		for _, rn := range l.list(f["rules"], "approval rules") {
			r := l.approvalRule(rn, "approval rule", true)
			cfg.rules = append(cfg.rules, &r)
		}
	}
	l.p.approval = cfg
}

func (l *loader) approvalRule(n *yaml.Node, what string, withCommands bool) approvalRule {
	allowed := []string{"approvers", "approver_roles", "confirm_target", "ttl"}
	if withCommands {
		allowed = append(allowed, "commands", "targets", "requester_roles")
	}
	f := l.fields(n, what, allowed...)
	r := approvalRule{line: n.Line,
		approvers: l.count(f["approvers"], what+" approvers"),
		confirm:   l.boolean(f["confirm_target"], what+" confirm_target"),
		ttl:       l.duration(f["ttl"], what+" ttl"),
	}
	if withCommands {
		r.commands = l.patterns(f["commands"], what+" commands", true)
		r.targets = l.patterns(f["targets"], what+" targets", false)
		if f["commands"] == nil {
			l.errf(n, "%s needs commands", what)
		}
		if f["approvers"] == nil {
			l.errf(n, "%s needs approvers (0 to run without approval)", what)
		}
	}
	for _, rn := range l.list(f["requester_roles"], what+" requester_roles") {
		if _, ok := l.p.roles[rn.Value]; !ok {
			l.errf(rn, "%s: unknown role %q", what, rn.Value)
			continue
		}
		r.requesterRoles = append(r.requesterRoles, rn.Value)
	}
	for _, rn := range l.list(f["approver_roles"], what+" approver_roles") {
		rl, ok := l.p.roles[rn.Value]
		if !ok {
			l.errf(rn, "%s: unknown role %q", what, rn.Value)
			continue
		}
		if len(rl.approves) == 0 {
			l.errf(rn, "%s: role %s approves nothing, so it cannot be an approver role", what, rn.Value)
		}
		r.approverRoles = append(r.approverRoles, rn.Value)
	}
	if r.confirm && r.approvers == 0 {
		l.errf(n, "%s: confirm_target needs at least one approver", what)
	}
	return r
}

// checkSatisfiable reports approval requirements that the users the
// policy names could never meet. Requirements that open groups (*, Slack
// groups) could meet are left alone.
func (l *loader) checkSatisfiable() {
	if len(l.problems) > 0 {
		return // the roles and bindings are not trustworthy yet
	}
	check := func(r approvalRule, line int, what string, risk sdk.Risk, cmds patterns) {
		if r.approvers == 0 {
			return
		}
		users, open := l.p.approversFor(r.approverRoles, risk, cmds)
		if open {
			return
		}
		if len(users) < r.approvers {
			names := make([]string, len(users))
			for i, u := range users {
				names[i] = l.p.DisplayName(u)
			}
			who := "nobody may approve it"
			if len(users) > 0 {
				who = fmt.Sprintf("only %s may approve it", strings.Join(names, ", "))
			}
			l.problems = append(l.problems, Problem{Line: line, Msg: fmt.Sprintf("%s needs %d approver(s), but %s", what, r.approvers, who)})
		}
	}
	for _, risk := range []sdk.Risk{sdk.RiskReadOnly, sdk.RiskLow, sdk.RiskHigh, sdk.RiskCritical} {
		check(l.p.approval.byRisk[risk], l.p.approval.byRisk[risk].line, "the default approval for "+risk.String()+" risk", risk, nil)
	}
	for _, r := range l.p.approval.rules {
		check(*r, r.line, "approval rule for "+r.commands.String(), sdk.RiskReadOnly, r.commands)
	}
}

// approversFor lists the users who hold a role (limited to roles, if
// given) that may approve commands matching cmds at risk; open is true if
// an unbounded subject (*, a Slack group) holds such a role.
func (p *Policy) approversFor(roles []string, risk sdk.Risk, cmds patterns) (users []string, open bool) {
	can := map[string]bool{}
	for name, r := range p.roles {
		if len(roles) > 0 && !slices.Contains(roles, name) {
			continue
		}
		for _, a := range r.approves {
			if a.maxRisk < risk {
				continue
			}
			if len(cmds) == 0 || overlaps(a.commands, cmds) {
				can[name] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, b := range p.bindings {
		holds := false
		for _, r := range b.roles {
			holds = holds || can[r]
		}
		if !holds {
			continue
		}
		for _, s := range b.subjects {
			switch {
			case s == "*" || strings.HasPrefix(s, "slack:"):
				open = true
			case strings.HasPrefix(s, "group:"):
				for _, u := range p.groups[strings.TrimPrefix(s, "group:")] {
					seen[u] = true
				}
			default:
				seen[s] = true
			}
		}
	}
	for u := range seen {
		users = append(users, u)
	}
	sort.Strings(users)
	return users, open
}

// overlaps is a conservative check that some command could match both:
// true when either side's pattern matches the other's source text.
func overlaps(a, b patterns) bool {
	for _, x := range a {
		for _, y := range b {
			if x.match(y.src) || y.match(x.src) {
				return true
			}
		}
	}
	return false
}

// DisplayName returns the policy's name for a user id, or the id.
func (p *Policy) DisplayName(id string) string {
	if n, ok := p.names[id]; ok {
		return n
	}
	return id
}

// UserID resolves a name or id to a user id.
func (p *Policy) UserID(nameOrID string) (string, bool) {
	if id, ok := p.Users[nameOrID]; ok {
		return id, true
	}
	if userIDRE.MatchString(nameOrID) {
		return nameOrID, true
	}
	return "", false
}

// UserNames lists the policy's user names, sorted.
func (p *Policy) UserNames() []string {
	out := make([]string, 0, len(p.Users))
	for n := range p.Users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
