package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/deskbot/deskbot/internal/apperr"
	"github.com/deskbot/deskbot/internal/authz"
	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/sdk"
)

// Command is a command given as fields rather than typed: what a form (the
// Slack command builder, the private secret form) hands the engine. Its
// values are taken whole; nothing is split into words or unquoted.
type Command struct {
	// Provider is the plugin's name ("whm").
	Provider string `json:"provider"`
	// Name is the command's full name ("account suspend").
	Name string `json:"name"`
	// Target is the target's name; "" is the plugin's default.
	Target string `json:"target,omitempty"`
	// Args are each parameter's values; a repeated parameter may have
	// several. Sensitive values belong in Request.Secrets instead.
	Args map[string][]string `json:"args,omitempty"`
	// Ticket is the ticket reference the command is for ("" for none),
	// as ticket=REF on a typed line.
	Ticket string `json:"ticket,omitempty"`
}

// Line writes c as a command line for people to read (a status message,
// a form's title). It is never parsed again.
func (c Command) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "/%s %s", c.Provider, c.Name)
	keys := make([]string, 0, len(c.Args))
	for k := range c.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range c.Args[k] {
			b.WriteString(" " + k + "=" + quoteValue(v))
		}
	}
	if c.Target != "" {
		b.WriteString(" --target " + c.Target)
	}
	if c.Ticket != "" {
		b.WriteString(" " + command.TicketWord + "=" + c.Ticket)
	}
	return b.String()
}

// completer is a provider that suggests argument values:
// *pluginhost.Process and *pluginhost.Local are.
type completer interface {
	Complete(ctx context.Context, req *sdk.CompleteRequest) (*sdk.CompleteResponse, error)
}

// CommandChoice is one command a user may run, for a picker.
type CommandChoice struct {
	Provider string
	// Name is the command's full name ("account suspend").
	Name    string
	Summary string
	Risk    sdk.Risk
}

// Commands lists the provider commands user may run from channel (those
// the policy does not deny; some may still need approval), by provider
// and then by name. Hidden commands (WHM's hundreds of "call FUNCTION")
// are left out: a picker offers them through [Engine.CommandsMatching].
func (e *Engine) Commands(ctx context.Context, user, channel string) []CommandChoice {
	return e.commands(ctx, user, channel, func(c *sdk.CommandSpec) bool { return !c.Hidden })
}

// CommandsMatching is [Engine.Commands] for the commands whose
// "provider name" has a word beginning with each word of query (a
// leading "/" is ignored: "/whm account" is "whm account"), best first:
// the command named exactly, then those whose name begins with the
// query, then those whose name holds every word, then the rest (matched
// by their provider's name). A hidden family (WHM's and IONOS's "call
// FUNCTION") is in only when a word of the query is its first word
// ("call susp"): hundreds of raw API calls would bury the commands
// searched for. It returns at most limit of them (all if limit ≤ 0).
func (e *Engine) CommandsMatching(ctx context.Context, user, channel, query string, limit int) []CommandChoice {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if w = strings.TrimLeft(w, "/"); w != "" {
			words = append(words, w)
		}
	}
	out := e.commands(ctx, user, channel, func(c *sdk.CommandSpec) bool {
		if !c.Hidden {
			return true
		}
		first, _, _ := strings.Cut(strings.ToLower(c.Name), " ")
		return slices.Contains(words, first)
	})
	if len(words) > 0 {
		out = slices.DeleteFunc(out, func(c CommandChoice) bool {
			hay := strings.Fields(strings.ToLower(c.Provider + " " + c.Name))
			for _, w := range words {
				if !slices.ContainsFunc(hay, func(h string) bool { return strings.HasPrefix(h, w) }) {
					return true
				}
			}
			return false
		})
		rank := make(map[CommandChoice]int, len(out))
		for _, c := range out {
			rank[c] = matchRank(c, words)
		}
		// Stable: within a rank, by provider and name as listed.
		sort.SliceStable(out, func(i, j int) bool { return rank[out[i]] < rank[out[j]] })
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// matchRank is how well c's name answers the query words (lower case):
// 0 named exactly, 1 its name begins with them, 2 its name holds each,
// 3 matched only through its provider's name. A word that begins no
// word of the name but the provider's ("whm" in "whm account") names
// the provider and is left out of the comparison.
func matchRank(c CommandChoice, words []string) int {
	name := strings.ToLower(c.Name)
	nameWords := strings.Fields(name)
	var q []string
	for _, w := range words {
		inName := slices.ContainsFunc(nameWords, func(h string) bool { return strings.HasPrefix(h, w) })
		if inName || !strings.HasPrefix(strings.ToLower(c.Provider), w) {
			q = append(q, w)
		}
	}
	query := strings.Join(q, " ")
	switch {
	case query == "":
		return 3
	case name == query:
		return 0
	case strings.HasPrefix(name, query):
		return 1
	case len(q) == len(words):
		return 2
	}
	return 3
}

func (e *Engine) commands(ctx context.Context, user, channel string, keep func(*sdk.CommandSpec) bool) []CommandChoice {
	s := e.subject(ctx, user)
	names := e.opts.Plugins.ProviderNames()
	sort.Strings(names)
	var out []CommandChoice
	for _, name := range names {
		p, ok := e.opts.Plugins.Provider(name)
		if !ok {
			continue
		}
		cat := p.Catalog()
		for i := range cat {
			c := &cat[i]
			if !keep(c) || !e.mayRun(s, p, c, channel) {
				continue
			}
			out = append(out, CommandChoice{Provider: p.Name(), Name: c.Name, Summary: c.Summary, Risk: c.Risk})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// mayRun reports whether the policy lets s run c at all (perhaps after
// approval), before any argument is known: as help decides what to list.
func (e *Engine) mayRun(s authz.Subject, p Provider, c *sdk.CommandSpec, channel string) bool {
	return e.mayRunOn(s, p, c, channel, p.DefaultTarget())
}

// mayRunOn reports whether the policy lets s run c on target at all
// (perhaps after approval), before any argument is known.
func (e *Engine) mayRunOn(s authz.Subject, p Provider, c *sdk.CommandSpec, channel, target string) bool {
	d := e.opts.Policy.Authorize(s, authz.Action{Provider: p.Name(), Command: c.Name, Risk: c.Risk, Channel: channel, Target: target})
	return d.Effect != authz.Deny
}

// errNotOffered is the one answer for a command a user may not run and a
// command that does not exist: a form learns nothing from the difference.
var errNotOffered = apperr.New(apperr.NotFound, "there is no such command you may run")

// CommandSpec returns the catalog entry of a command user may run from
// channel: the parameters a form asks for.
func (e *Engine) CommandSpec(ctx context.Context, user, channel, provider, name string) (*sdk.CommandSpec, error) {
	_, spec, err := e.offered(ctx, user, channel, provider, name)
	return spec, err
}

func (e *Engine) offered(ctx context.Context, user, channel, provider, name string) (Provider, *sdk.CommandSpec, error) {
	p, ok := e.opts.Plugins.Provider(provider)
	if !ok {
		return nil, nil, errNotOffered
	}
	spec, ok := command.Find(p, name)
	if !ok || !e.mayRun(e.subject(ctx, user), p, spec, channel) {
		return nil, nil, errNotOffered
	}
	return p, spec, nil
}

// Targets returns a provider's targets and its default ("" when it has
// none), for a form's target field.
func (e *Engine) Targets(provider string) (targets []string, def string) {
	p, ok := e.opts.Plugins.Provider(provider)
	if !ok {
		return nil, ""
	}
	return p.Targets(), p.DefaultTarget()
}

// TargetsFor returns the targets of provider user may run command on from
// channel (those the policy does not deny), for a form's target field,
// and the default when it is one of them.
func (e *Engine) TargetsFor(ctx context.Context, user, channel, provider, command string) (targets []string, def string) {
	p, spec, err := e.offered(ctx, user, channel, provider, command)
	if err != nil {
		return nil, ""
	}
	s := e.subject(ctx, user)
	for _, t := range p.Targets() {
		if e.mayRunOn(s, p, spec, channel, t) {
			targets = append(targets, t)
		}
	}
	if d := p.DefaultTarget(); slices.Contains(targets, d) {
		def = d
	}
	return targets, def
}

// completionTarget is the target a completion asks the plugin about:
// the one chosen, by its configured name, or the default. The policy is
// asked again for it: a command offered on the default target may be
// denied on another, whose live names are not for this user.
func (e *Engine) completionTarget(s authz.Subject, p Provider, spec *sdk.CommandSpec, channel, chosen string) (string, error) {
	target := p.DefaultTarget()
	if chosen != "" {
		i := slices.IndexFunc(p.Targets(), func(t string) bool { return strings.EqualFold(t, chosen) })
		if i < 0 {
			return "", apperr.New(apperr.Invalid, "no such target for /%s: %s", p.Name(), chosen)
		}
		target = p.Targets()[i]
	}
	if chosen != "" && !e.mayRunOn(s, p, spec, channel, target) {
		return "", apperr.New(apperr.Denied, "you may not run /%s %s on %s", p.Name(), spec.Name, target)
	}
	return target, nil
}

// CompleteRequest asks for values of one parameter of a command being
// built.
type CompleteRequest struct {
	User, Channel string
	Provider      string
	// Command is the command's full name ("account suspend").
	Command string
	Param   string
	Prefix  string
	// Target is the chosen target; "" is the default.
	Target string
	// Args are the other values given so far, as typed; values that do
	// not yet check out are left out of what the plugin is told.
	Args map[string][]string
}

// maxSuggestions bounds what one completion returns: Slack shows 100
// options at most, and nobody reads more.
const maxSuggestions = 100

// CompleteValue suggests values for a parameter of a command the user may
// run: an enum's values, a yes/no's two, or what the plugin's Complete
// offers (the plugin is asked only for parameters its catalog marks as
// completing). It takes at most the engine's CompleteTimeout. A plugin's
// failure is an error that names the plugin and nothing else: no detail
// it returned, which could hold a secret, reaches the user.
func (e *Engine) CompleteValue(ctx context.Context, r CompleteRequest) ([]sdk.Suggestion, error) {
	p, spec, err := e.offered(ctx, r.User, r.Channel, r.Provider, r.Command)
	if err != nil {
		return nil, err
	}
	prm, ok := spec.Param(r.Param)
	if !ok {
		return nil, apperr.New(apperr.Invalid, "/%s %s has no parameter %q", p.Name(), spec.Name, r.Param)
	}
	if prm.Sensitive {
		// Nothing about a secret is offered, not even its shape.
		return nil, nil
	}
	prefix := r.Prefix
	switch {
	case prm.Type == sdk.TypeEnum:
		var out []sdk.Suggestion
		for _, v := range prm.Enum {
			if hasPrefixFold(v.Value, prefix) {
				out = append(out, sdk.Suggestion{Value: v.Value, Description: v.Description})
			}
		}
		return out, nil
	case prm.Type == sdk.TypeBool:
		var out []sdk.Suggestion
		for _, v := range []string{"true", "false"} {
			if hasPrefixFold(v, prefix) {
				out = append(out, sdk.Suggestion{Value: v})
			}
		}
		return out, nil
	case !prm.Completes:
		return nil, nil
	}
	c, ok := p.(completer)
	if !ok {
		return nil, nil
	}
	target, err := e.completionTarget(e.subject(ctx, r.User), p, spec, r.Channel, r.Target)
	if err != nil {
		return nil, err
	}
	creq := &sdk.CompleteRequest{
		Request: sdk.Request{ID: NewRequestID(), Invoker: r.User, Channel: r.Channel, Target: target, Command: spec.Name, Args: partialArgs(spec, r.Args, prm.Name)},
		Param:   prm.Name, Prefix: prefix,
	}
	cctx, cancel := context.WithTimeout(ctx, e.opts.CompleteTimeout)
	defer cancel()
	began := e.opts.Now()
	resp, err := c.Complete(cctx, creq)
	e.opts.Observer.PluginCall(p.Name(), "complete", e.opts.Now().Sub(began), err)
	if err != nil {
		e.log.Warn("completion failed", "plugin", p.Name(), "command", spec.Name, "param", prm.Name, "error", e.redactor.String(err.Error()))
		if errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return nil, apperr.New(apperr.Timeout, "%s did not suggest values in time; type the value", p.Name())
		}
		return nil, apperr.New(apperr.Unavailable, "%s could not suggest values; type the value", p.Name())
	}
	return e.scrubSuggestions(resp.Suggestions), nil
}

// scrubSuggestions drops any suggestion that shows a configured secret
// (masking it would offer a value that means nothing) and keeps at most
// maxSuggestions.
func (e *Engine) scrubSuggestions(in []sdk.Suggestion) []sdk.Suggestion {
	out := make([]sdk.Suggestion, 0, min(len(in), maxSuggestions))
	for _, s := range in {
		if len(out) == maxSuggestions {
			break
		}
		if e.redactor.String(s.Value) != s.Value {
			continue
		}
		s.Description = e.redactor.String(s.Description)
		out = append(out, s)
	}
	return out
}

// partialArgs types the values of a command being built that check out,
// leaving out the one being completed, sensitive ones and any that do not
// parse yet: the plugin may narrow its suggestions by them.
func partialArgs(spec *sdk.CommandSpec, given map[string][]string, skip string) sdk.Args {
	out := sdk.Args{}
	for k, vs := range given {
		prm, ok := spec.Param(k)
		if !ok || prm.Name == skip || prm.Sensitive || len(vs) == 0 {
			continue
		}
		if prm.Repeated {
			var list []string
			for _, v := range vs {
				if t, err := prm.Parse(v); err == nil {
					list = append(list, sdk.FormatValue(t))
				}
			}
			if len(list) > 0 {
				out[prm.Name] = list
			}
			continue
		}
		if t, err := prm.Parse(vs[0]); err == nil {
			out[prm.Name] = t
		}
	}
	return out
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Completion is what may replace the word at a cursor: From and To are the
// byte offsets of that word in the line, and each suggestion's Value is a
// whole replacement for it ("/whm", "account", "reason=", "user=demo1").
type Completion struct {
	From, To    int
	Suggestions []sdk.Suggestion
}

// Complete completes a typed command line at cursor (a byte offset), as a
// console's Tab does: provider names, command words, parameter names and
// values, all limited to what user may run from channel. Values come from
// [Engine.CompleteValue], with its deadline.
func (e *Engine) Complete(ctx context.Context, user, channel, line string, cursor int) (Completion, error) {
	if cursor < 0 || cursor > len(line) {
		cursor = len(line)
	}
	head := line[:cursor]
	from := strings.LastIndexAny(head, " \t") + 1
	word := head[from:]
	done := strings.Fields(head[:from])
	out := Completion{From: from, To: cursor}
	s := e.subject(ctx, user)

	if len(done) == 0 {
		for _, c := range e.Commands(ctx, user, channel) {
			name := "/" + c.Provider
			if strings.HasPrefix(name, word) && (len(out.Suggestions) == 0 || out.Suggestions[len(out.Suggestions)-1].Value != name) {
				out.Suggestions = append(out.Suggestions, sdk.Suggestion{Value: name})
			}
		}
		if strings.HasPrefix("/ops", word) {
			out.Suggestions = append(out.Suggestions, sdk.Suggestion{Value: "/ops", Description: "the bot's own commands"})
		}
		return out, nil
	}
	provName := strings.ToLower(strings.TrimPrefix(done[0], "/"))
	var prov command.Provider
	var visible func(*sdk.CommandSpec) bool
	if provName == "ops" {
		prov = e.ops
		visible = func(c *sdk.CommandSpec) bool {
			return !opsGated[c.Name] || e.opts.Policy.Authorize(s, authz.Action{Provider: "ops", Command: c.Name, Risk: c.Risk, Channel: channel}).Effect != authz.Deny
		}
	} else {
		p, ok := e.opts.Plugins.Provider(provName)
		if !ok {
			return out, nil
		}
		prov = p
		visible = func(c *sdk.CommandSpec) bool { return e.mayRun(s, p, c, channel) }
	}

	// The command's words: the longest catalog name the typed words spell.
	words := make([]string, 0, len(done)-1)
	for _, w := range done[1:] {
		words = append(words, strings.ToLower(w))
	}
	var spec *sdk.CommandSpec
	n := 0
	cat := prov.Catalog()
	for i := range cat {
		cw := strings.Fields(cat[i].Name)
		if len(cw) > n && len(cw) <= len(words) && slices.Equal(cw, words[:len(cw)]) && visible(&cat[i]) {
			spec, n = &cat[i], len(cw)
		}
	}
	if spec == nil {
		// Still choosing the command: offer the next word of those that
		// begin with the words typed. Hidden ones only once a word of
		// their own has been typed ("call ...").
		seen := map[string]bool{}
		for i := range cat {
			c := &cat[i]
			cw := strings.Fields(c.Name)
			if len(cw) <= len(words) || !slices.Equal(cw[:len(words)], words) || c.Hidden && len(words) == 0 && word == "" {
				continue
			}
			next := cw[len(words)]
			if !strings.HasPrefix(next, strings.ToLower(word)) || seen[next] || !visible(c) {
				continue
			}
			seen[next] = true
			sg := sdk.Suggestion{Value: next}
			if len(cw) == len(words)+1 {
				sg.Description = c.Summary
			}
			out.Suggestions = append(out.Suggestions, sg)
		}
		sort.Slice(out.Suggestions, func(i, j int) bool { return out.Suggestions[i].Value < out.Suggestions[j].Value })
		return out, nil
	}

	// Arguments: what is given so far, then the word at the cursor.
	given := map[string][]string{}
	positional := 0
	target := ""
	rest := done[1+n:]
	for i := 0; i < len(rest); i++ {
		w := rest[i]
		if w == "--target" && i+1 < len(rest) {
			target = rest[i+1]
			i++
			continue
		}
		if k, v, ok := strings.Cut(w, "="); ok {
			given[k] = append(given[k], v)
			continue
		}
		positional++
	}
	if provName == "ops" {
		// The bot's own commands suggest no values.
		if k, _, isKV := strings.Cut(word, "="); !isKV {
			out.Suggestions = paramNameSuggestions(spec, given, k)
		}
		return out, nil
	}
	values := func(param, prefix, keyPrefix string) (Completion, error) {
		sugg, err := e.CompleteValue(ctx, CompleteRequest{User: user, Channel: channel, Provider: provName, Command: spec.Name, Param: param, Prefix: prefix, Target: target, Args: given})
		for i := range sugg {
			sugg[i].Value = keyPrefix + sugg[i].Value
		}
		out.Suggestions = sugg
		return out, err
	}
	if k, v, ok := strings.Cut(word, "="); ok {
		if prm, ok := spec.Param(k); ok {
			return values(prm.Name, v, k+"=")
		}
		return out, nil
	}
	// A bare word: the next positional parameter's values, then the
	// names of the parameters not given yet.
	var slots []*sdk.Param
	for i := range spec.Params {
		prm := &spec.Params[i]
		if prm.Positional && len(given[prm.Name]) == 0 {
			slots = append(slots, prm)
		}
	}
	var sugg []sdk.Suggestion
	var err error
	if positional < len(slots) {
		var c Completion
		c, err = values(slots[positional].Name, word, "")
		sugg = c.Suggestions
	}
	out.Suggestions = append(sugg, paramNameSuggestions(spec, given, word)...)
	return out, err
}

// paramNameSuggestions offers "name=" for each parameter not given yet
// whose name begins with prefix.
func paramNameSuggestions(spec *sdk.CommandSpec, given map[string][]string, prefix string) []sdk.Suggestion {
	var out []sdk.Suggestion
	for _, prm := range spec.Params {
		if _, ok := given[prm.Name]; ok && !prm.Repeated {
			continue
		}
		if strings.HasPrefix(prm.Name, strings.ToLower(prefix)) {
			out = append(out, sdk.Suggestion{Value: prm.Name + "=", Description: prm.Description})
		}
	}
	return out
}

// completeTimeout is the default bound of one plugin completion: well
// inside the 3 s Slack gives an options request, with room for the rest.
const completeTimeout = 1500 * time.Millisecond

// CheckCommand binds c as running it would, without running anything or
// asking a plugin, for a form to show a mistake beside its field. It
// returns the parameter the mistake is about ("" when it is about the
// command, "ticket" when about its ticket reference). Missing sensitive values are no mistake: they are asked for
// privately.
func (e *Engine) CheckCommand(ctx context.Context, user, channel string, c Command) (param string, err error) {
	p, spec, err := e.offered(ctx, user, channel, c.Provider, c.Name)
	if err != nil {
		return "", err
	}
	values := make(map[string][]string, len(spec.Params))
	for k, v := range c.Args {
		values[k] = v
	}
	for _, prm := range spec.Params {
		if _, given := values[prm.Name]; prm.Sensitive && !given {
			values[prm.Name] = []string{placeholderFor(prm)}
		}
	}
	inv, err := command.Bind(p, spec.Name, c.Target, values)
	if err == nil {
		// The ticket last, as the engine checks it after the arguments:
		// its shape, then what the policy asks of it.
		if c.Ticket != "" {
			if err := command.CheckTicket(c.Ticket); err != nil {
				return command.TicketWord, err
			}
		}
		inv.Ticket = c.Ticket
		action := authz.Action{Provider: p.Name(), Command: spec.Name, Args: inv.Args, Target: inv.Target, Channel: channel, Risk: spec.Risk}
		if r, ok := e.ticketRule(action); ok && r.Required && c.Ticket == "" {
			// Said for a form: there is no command line to add ticket= to.
			return command.TicketWord, apperr.New(apperr.Invalid, "/%s %s needs a ticket reference: %s. Enter the ticket it is for (like ABC-123)", p.Name(), spec.Name, r.Rule)
		}
		if msg := e.checkTicket(action, inv); msg != "" {
			return command.TicketWord, apperr.New(apperr.Invalid, "%s", msg)
		}
		return "", nil
	}
	var ce *command.Error
	if !errors.As(err, &ce) {
		return "", err
	}
	if len(ce.Missing) > 0 {
		return ce.Missing[0], err
	}
	if k, _, ok := strings.Cut(ce.Token, "="); ok {
		if prm, ok := spec.Param(k); ok {
			return prm.Name, err
		}
	}
	if ce.Token == c.Target || ce.Token == "--target" {
		return "--target", err
	}
	return "", err
}

// placeholderFor is a value a parameter accepts, standing in for a secret
// not collected yet.
func placeholderFor(p sdk.Param) string {
	if p.Type == sdk.TypeEnum && len(p.Enum) > 0 {
		return p.Enum[0].Value
	}
	if p.Min != nil {
		return fmt.Sprint(*p.Min)
	}
	switch p.Type {
	case sdk.TypeInt:
		return "1"
	case sdk.TypeBool:
		return "true"
	}
	return "x"
}
