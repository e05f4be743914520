// Package command is the slash-command grammar:
//
//	/<provider> <command words> [positional...] [key=value...] [--flag value] [--target NAME]
//
// Commands are checked against the catalog their plugin declared: names,
// typed parameters, required ones, enums. A bad command gets an error that
// names the offending word and suggests what was probably meant; it never
// reaches a plugin. "help" works at every level.
package command

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/deskbot/deskbot/sdk"
)

// Provider is what the parser needs to know of a plugin.
type Provider interface {
	Name() string
	Catalog() []sdk.CommandSpec
	Targets() []string
	DefaultTarget() string
}

// Error is a parse error. Token is the word at fault, as typed.
type Error struct {
	Token       string
	Msg         string
	Suggestions []string
	// Usage is the command's usage line, when the command is known.
	Usage string
	// Missing lists required parameters that were not given.
	Missing []string
	// Rewrite is the whole command line quoted so that it parses, when
	// the fault is one of quoting.
	Rewrite string
	// stray is the word no parameter took, for the rewrite.
	stray *Token
	// Command is the command the missing parameters belong to.
	Command string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Token != "" {
		fmt.Fprintf(&b, "%s: ", quote(e.Token))
	}
	b.WriteString(e.Msg)
	if len(e.Suggestions) == 1 {
		fmt.Fprintf(&b, "; did you mean %s?", quote(e.Suggestions[0]))
	} else if len(e.Suggestions) > 1 {
		qs := make([]string, len(e.Suggestions))
		for i, s := range e.Suggestions {
			qs[i] = quote(s)
		}
		fmt.Fprintf(&b, "; did you mean one of %s?", strings.Join(qs, ", "))
	}
	if e.Rewrite != "" {
		fmt.Fprintf(&b, "\nquoted, it would read: %s", quote(e.Rewrite))
	}
	if e.Usage != "" {
		fmt.Fprintf(&b, "\nusage: %s", e.Usage)
	}
	return b.String()
}

func quote(s string) string { return "`" + s + "`" }

// Invocation is a parsed, validated command.
type Invocation struct {
	Provider string
	Command  *sdk.CommandSpec
	// Args hold every given argument and every defaulted one, typed.
	Args sdk.Args
	// Target is the chosen target ("" when the plugin has none).
	Target string
	// Given lists the argument names the user typed (not defaulted).
	Given []string
	// Ticket is the ticket reference given with the reserved ticket=
	// word ("" when none); the policy decides whether it is required.
	Ticket string
	// Plan asks only for the plan (--plan): nothing is approved or run.
	Plan bool
}

// Help is a request for help at some level.
type Help struct {
	Provider string
	// Path is the command words asked about; empty for the whole plugin.
	Path []string
}

// Parsed is either an invocation or a help request.
type Parsed struct {
	Invocation *Invocation
	Help       *Help
}

// SplitProvider returns the provider name of a line ("/whm ..." → "whm")
// and the rest of the line.
func SplitProvider(line string) (name, rest string, err error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", &Error{Msg: "type a command, like /example help"}
	}
	if !strings.HasPrefix(line, "/") {
		first, _, _ := strings.Cut(line, " ")
		return "", "", &Error{Token: first, Msg: "commands start with a slash, like /example help"}
	}
	name, rest, _ = strings.Cut(line[1:], " ")
	name = strings.ToLower(name)
	if name == "" {
		return "", "", &Error{Token: "/", Msg: "a slash must be followed by a command name"}
	}
	return name, strings.TrimSpace(rest), nil
}

var keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// ticketRE is what any ticket reference looks like, whatever the policy
// adds: it goes into links and messages as it is.
var ticketRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_./#:-]{0,62}[A-Za-z0-9])?$`)

// CheckTicket checks that ref looks like a ticket reference, whatever the
// policy adds, as ticket=REF on a typed line is checked: for a form's
// ticket field.
func CheckTicket(ref string) error {
	if !ticketRE.MatchString(ref) {
		return &Error{Token: TicketWord + "=" + ref, Msg: ticketShape}
	}
	return nil
}

const ticketShape = "a ticket reference is letters and digits, with - _ . / # : between them, up to 64 characters (like ticket=ABC-123)"

// TicketWord is the reserved argument that carries a ticket reference
// on any command (ticket=ABC-123); no plugin parameter may take its name.
const TicketWord = "ticket"

// MaxTextLength is the most characters a free-text value (a reason, a
// note) may have. Approvers read it on a card of bounded size, and prose
// longer than this would crowd out the arguments that decide what runs.
const MaxTextLength = 500

// checkTextLength refuses a free-text value longer than MaxTextLength.
// The error names the parameter, not the value, which may be long.
func checkTextLength(prm *sdk.Param, value, usage string) error {
	if prm.Type != sdk.TypeText {
		return nil
	}
	if n := utf8.RuneCountInString(value); n > MaxTextLength {
		return &Error{Token: prm.Name + "=", Msg: fmt.Sprintf("%s is %d characters; at most %d", prm.Name, n, MaxTextLength), Usage: usage}
	}
	return nil
}

// PlanFlag asks for a command's plan instead of running it.
const PlanFlag = "--plan"

// Parse parses the text after the provider name against p's catalog.
func Parse(p Provider, text string) (*Parsed, error) {
	toks, _ := tokenize(text)
	// Free text (reasons, notes) takes the rest of the line, quotes and
	// all, so it is gathered before anything else reads the words.
	toks = gatherFreeText(p, text, toks)
	all := toks
	for _, t := range toks {
		if t.unclosed != nil {
			e := *t.unclosed
			e.Rewrite = rewriteUnclosed(p, text, toks)
			return nil, &e
		}
	}
	// --target, --help, --plan and ticket= may appear anywhere.
	var target, ticket string
	targetGiven, ticketGiven := false, false
	help, plan := false, false
	rest := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if v, ok := ticketValue(t, toks, i); ok {
			if ticketGiven {
				return nil, &Error{Token: t.Raw, Msg: "ticket given twice"}
			}
			if strings.TrimSpace(v.value) == "" {
				return nil, &Error{Token: t.Raw, Msg: "ticket needs a reference after it, like ticket=ABC-123"}
			}
			ticket, ticketGiven = strings.TrimSpace(v.value), true
			if !ticketRE.MatchString(ticket) {
				return nil, &Error{Token: t.Raw, Msg: ticketShape}
			}
			i += v.used - 1
			continue
		}
		if t.Quoted {
			rest = append(rest, t)
			continue
		}
		switch {
		case t.Text == "--help" || t.Text == "-h":
			help = true
		case t.Text == PlanFlag:
			plan = true
		case t.Text == "--target":
			if i+1 >= len(toks) {
				return nil, &Error{Token: t.Raw, Msg: "needs a target name after it", Suggestions: p.Targets()}
			}
			if targetGiven {
				return nil, &Error{Token: toks[i+1].Raw, Msg: "--target given twice"}
			}
			target, targetGiven = toks[i+1].Text, true
			i++
		case strings.HasPrefix(t.Text, "--target="):
			if targetGiven {
				return nil, &Error{Token: t.Raw, Msg: "--target given twice"}
			}
			target, targetGiven = strings.TrimPrefix(t.Text, "--target="), true
		default:
			rest = append(rest, t)
		}
	}
	toks = rest

	if len(toks) == 0 || isHelpWord(toks[0]) {
		var path []string
		if len(toks) > 0 {
			for _, t := range toks[1:] {
				path = append(path, strings.ToLower(t.Text))
			}
			if len(path) > 0 {
				if _, err := resolvePath(p, path); err != nil {
					return nil, err
				}
			}
		}
		if len(toks) == 0 && !help {
			return nil, &Error{Msg: fmt.Sprintf("/%s needs a command; type /%s help to see them", p.Name(), p.Name())}
		}
		return &Parsed{Help: &Help{Provider: p.Name(), Path: path}}, nil
	}

	spec, n, err := matchCommand(p, toks)
	if err != nil {
		if help {
			// "/x ipl --help": help for the group, if it is one.
			var words []string
			for _, t := range toks {
				words = append(words, strings.ToLower(t.Text))
			}
			if _, perr := resolvePath(p, words); perr == nil {
				return &Parsed{Help: &Help{Provider: p.Name(), Path: words}}, nil
			}
		}
		return nil, err
	}
	toks = toks[n:]
	if help || len(toks) > 0 && isHelpWord(toks[0]) {
		return &Parsed{Help: &Help{Provider: p.Name(), Path: strings.Fields(spec.Name)}}, nil
	}

	inv := &Invocation{Provider: p.Name(), Command: spec, Args: sdk.Args{}, Ticket: ticket, Plan: plan}
	if err := resolveTarget(p, inv, target, targetGiven); err != nil {
		return nil, err
	}
	if err := bindArgs(p, spec, toks, inv); err != nil {
		var ce *Error
		if errors.As(err, &ce) && ce.stray != nil && ce.Rewrite == "" {
			ce.Rewrite = rewriteStray(p, text, spec, all, *ce.stray)
		}
		return nil, err
	}
	return &Parsed{Invocation: inv}, nil
}

func isHelpWord(t Token) bool {
	return !t.Quoted && (strings.EqualFold(t.Text, "help") || t.Text == "--help" || t.Text == "-h" || t.Text == "?")
}

func resolveTarget(p Provider, inv *Invocation, target string, given bool) error {
	targets := p.Targets()
	if !given {
		inv.Target = p.DefaultTarget()
		if inv.Target == "" && len(targets) > 1 {
			return &Error{Token: "--target", Msg: fmt.Sprintf("/%s has several targets and no default; pick one with --target NAME", p.Name()), Suggestions: targets}
		}
		return nil
	}
	for _, t := range targets {
		if strings.EqualFold(t, target) {
			inv.Target = t
			return nil
		}
	}
	if len(targets) == 0 {
		return &Error{Token: target, Msg: fmt.Sprintf("/%s has no targets to choose from", p.Name())}
	}
	return &Error{Token: target, Msg: fmt.Sprintf("no such target for /%s (targets: %s)", p.Name(), strings.Join(targets, ", ")), Suggestions: Suggest(target, targets)}
}

// matchCommand finds the longest command name (or alias) the leading words
// spell, and returns it with the number of words used.
func matchCommand(p Provider, toks []Token) (*sdk.CommandSpec, int, error) {
	catalog := p.Catalog()
	var words []string
	for _, t := range toks {
		if t.Quoted || t.Eq >= 0 || strings.HasPrefix(t.Text, "-") {
			break
		}
		words = append(words, strings.ToLower(t.Text))
	}
	best, bestN := -1, 0
	if len(words) > 0 {
		for _, n := range namesOf(catalog)[words[0]] {
			if len(n.words) > len(words) || len(n.words) <= bestN {
				continue
			}
			if equalWords(n.words, words[:len(n.words)]) {
				best, bestN = n.index, len(n.words)
			}
		}
	}
	if best >= 0 {
		return &catalog[best], bestN, nil
	}
	return nil, 0, unknownCommand(p, toks, words)
}

// catalogName is one name (or alias) of a catalog's command, in words.
type catalogName struct {
	index int
	words []string
}

type catalogKey struct {
	first *sdk.CommandSpec
	n     int
}

// catalogIndex is a catalog's names by first word, with the names it was
// built from.
type catalogIndex struct {
	byFirst map[string][]catalogName
	// names are every command's name then aliases, in catalog order;
	// ends[i] is where command i's names end.
	names []string
	ends  []int
}

// builtFrom reports whether catalog still has the names ix was built
// from: the slice a provider returns may be refilled in place (same
// address, same length) with another catalog. Comparing the strings
// costs a fraction of splitting them, and nothing when they are the very
// strings the index was built from.
func (ix *catalogIndex) builtFrom(catalog []sdk.CommandSpec) bool {
	if len(ix.ends) != len(catalog) {
		return false
	}
	k := 0
	for i := range catalog {
		c := &catalog[i]
		if ix.ends[i]-k != 1+len(c.Aliases) || ix.names[k] != c.Name {
			return false
		}
		k++
		for _, a := range c.Aliases {
			if ix.names[k] != a {
				return false
			}
			k++
		}
	}
	return true
}

// catalogNames caches each catalog's names by first word: splitting every
// name of a large catalog into words on every command was most of what
// parsing cost. An entry is used only while the catalog at its address
// still has the names it was built from.
var catalogNames sync.Map // catalogKey → *catalogIndex

// namesOf returns catalog's names by first word, in catalog order.
func namesOf(catalog []sdk.CommandSpec) map[string][]catalogName {
	if len(catalog) == 0 {
		return nil
	}
	key := catalogKey{&catalog[0], len(catalog)}
	if v, ok := catalogNames.Load(key); ok {
		if ix := v.(*catalogIndex); ix.builtFrom(catalog) {
			return ix.byFirst
		}
	}
	ix := &catalogIndex{byFirst: map[string][]catalogName{}, ends: make([]int, len(catalog))}
	for i := range catalog {
		c := &catalog[i]
		ix.names = append(ix.names, c.Name)
		ix.names = append(ix.names, c.Aliases...)
		ix.ends[i] = len(ix.names)
		for _, name := range ix.names[len(ix.names)-1-len(c.Aliases):] {
			if nw := strings.Fields(name); len(nw) > 0 {
				ix.byFirst[nw[0]] = append(ix.byFirst[nw[0]], catalogName{i, nw})
			}
		}
	}
	// A plugin that restarts declares its catalog anew: forget old ones
	// now and then rather than keep them all.
	if catalogCount.Add(1)%64 == 0 {
		catalogNames.Clear()
	}
	catalogNames.Store(key, ix)
	return ix.byFirst
}

var catalogCount atomic.Int64

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// unknownCommand explains why no command matched: a group missing its
// subcommand, or a word that is not known at its level.
func unknownCommand(p Provider, toks []Token, words []string) error {
	if len(words) == 0 {
		return &Error{Token: toks[0].Raw, Msg: fmt.Sprintf("expected a command name; type /%s help to see them", p.Name())}
	}
	// Walk down the command tree as far as the words go.
	names := visibleNames(p.Catalog())
	for depth := 0; depth < len(words); depth++ {
		prefix := words[:depth]
		next := nextWords(names, prefix)
		if len(next) == 0 {
			break
		}
		if !slices.Contains(next, words[depth]) {
			level := "/" + p.Name()
			if depth > 0 {
				level += " " + strings.Join(prefix, " ")
			}
			return &Error{
				Token:       toks[depth].Raw,
				Msg:         fmt.Sprintf("%s has no command %q", level, words[depth]),
				Suggestions: Suggest(words[depth], next),
			}
		}
	}
	// Every word is known but they stop short of a command: a group.
	group := strings.Join(words, " ")
	next := nextWords(names, words)
	if len(next) > 12 {
		return &Error{
			Token: toks[len(words)-1].Raw,
			Msg:   fmt.Sprintf("/%s %s needs one more word, one of %d (%s, …); type /%s help %s", p.Name(), group, len(next), strings.Join(next[:5], ", "), p.Name(), group),
		}
	}
	return &Error{
		Token: toks[len(words)-1].Raw,
		Msg:   fmt.Sprintf("/%s %s needs one more word: %s", p.Name(), group, strings.Join(next, ", ")),
	}
}

func visibleNames(catalog []sdk.CommandSpec) [][]string {
	var out [][]string
	for _, c := range catalog {
		out = append(out, strings.Fields(c.Name))
		for _, a := range c.Aliases {
			out = append(out, strings.Fields(a))
		}
	}
	return out
}

// nextWords lists the distinct words that follow prefix in command names.
func nextWords(names [][]string, prefix []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if len(n) > len(prefix) && equalWords(prefix, n[:len(prefix)]) && !seen[n[len(prefix)]] {
			seen[n[len(prefix)]] = true
			out = append(out, n[len(prefix)])
		}
	}
	sort.Strings(out)
	return out
}

// resolvePath checks that words name a command or a group of commands.
func resolvePath(p Provider, words []string) (*sdk.CommandSpec, error) {
	catalog := p.Catalog()
	for i := range catalog {
		for _, name := range append([]string{catalog[i].Name}, catalog[i].Aliases...) {
			if strings.Join(words, " ") == name {
				return &catalog[i], nil
			}
		}
	}
	names := visibleNames(catalog)
	if len(nextWords(names, words)) > 0 {
		return nil, nil
	}
	toks := make([]Token, len(words))
	for i, w := range words {
		toks[i] = Token{Text: w, Raw: w, Eq: -1}
	}
	return nil, unknownCommand(p, toks, words)
}

// bindArgs assigns the remaining tokens to parameters and types them.
func bindArgs(p Provider, c *sdk.CommandSpec, toks []Token, inv *Invocation) error {
	b := &binder{p: p, c: c, inv: inv, usage: Usage(p.Name(), c), raw: map[string][]string{}, rawTok: map[string]string{}}
	for _, phase := range []func() error{
		func() error { return b.named(toks) },
		b.positional,
		b.typed,
		b.defaults,
	} {
		if err := phase(); err != nil {
			return err
		}
	}
	return nil
}

// binder binds a command's words to its parameters, in four phases:
// named arguments, positional words, types, defaults.
type binder struct {
	p     Provider
	c     *sdk.CommandSpec
	inv   *Invocation
	usage string
	// raw holds each parameter's values as typed, rawTok the word that
	// gave it (for errors), words the positional words in order.
	raw    map[string][]string
	rawTok map[string]string
	words  []Token
}

// named takes key=value and --key value arguments; anything else is a
// positional word for the next phase.
func (b *binder) named(toks []Token) error {
	c, inv := b.c, b.inv
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		var key, val string
		var named bool
		switch {
		case !t.Quoted && strings.HasPrefix(t.Text, "--") && len(t.Text) > 2:
			named = true
			key = strings.TrimPrefix(t.Text, "--")
			if k, v, ok := strings.Cut(key, "="); ok {
				key, val = k, v
			} else if prm, ok := c.Param(key); ok && prm.Type == sdk.TypeBool {
				val = "true"
				if i+1 < len(toks) && isBoolWord(toks[i+1].Text) {
					val = toks[i+1].Text
					i++
				}
			} else if i+1 < len(toks) {
				val = toks[i+1].Text
				i++
			} else {
				return &Error{Token: t.Raw, Msg: "needs a value after it", Usage: b.usage}
			}
		default:
			if k, v, ok := t.KeyValue(); ok && keyRE.MatchString(k) {
				named, key, val = true, k, v
			}
		}
		if !named {
			b.words = append(b.words, t)
			continue
		}
		prm, ok := c.Param(key)
		if !ok && c.ExtraArguments && !strings.HasPrefix(t.Text, "--") {
			// The plugin checks undeclared arguments itself.
			if _, dup := inv.Args[key]; dup {
				return &Error{Token: t.Raw, Msg: fmt.Sprintf("%s is given more than once", key), Usage: b.usage}
			}
			inv.Args[key] = val
			inv.Given = append(inv.Given, key)
			continue
		}
		if !ok {
			return &Error{
				Token:       t.Raw,
				Msg:         fmt.Sprintf("/%s %s has no parameter %q", b.p.Name(), c.Name, key),
				Suggestions: Suggest(key, paramNames(c)),
				Usage:       b.usage,
			}
		}
		if len(b.raw[prm.Name]) > 0 && !prm.Repeated {
			return &Error{Token: t.Raw, Msg: fmt.Sprintf("%s is given more than once", prm.Name), Usage: b.usage}
		}
		b.raw[prm.Name] = append(b.raw[prm.Name], val)
		b.rawTok[prm.Name] = t.Raw
	}
	return nil
}

// positional fills the positional parameters not already named with the
// positional words, in order.
func (b *binder) positional() error {
	c := b.c
	var slots []*sdk.Param
	for i := range c.Params {
		prm := &c.Params[i]
		if prm.Positional && (len(b.raw[prm.Name]) == 0 || prm.Repeated) {
			slots = append(slots, prm)
		}
	}
	for _, t := range b.words {
		if len(slots) == 0 {
			msg := fmt.Sprintf("unexpected word; /%s %s", b.p.Name(), c.Name)
			if n := countPositional(c); n == 0 {
				msg += " takes only key=value arguments"
			} else {
				msg += fmt.Sprintf(" takes %d positional argument(s)", n)
			}
			var sugg []string
			if !t.Quoted {
				sugg = Suggest(t.Text, paramNames(c))
				for i := range sugg {
					sugg[i] += "=" + "…"
				}
			}
			return &Error{Token: t.Raw, Msg: msg, Suggestions: sugg, Usage: b.usage, stray: &t}
		}
		prm := slots[0]
		b.raw[prm.Name] = append(b.raw[prm.Name], t.Text)
		b.rawTok[prm.Name] = t.Raw
		if !prm.Repeated {
			slots = slots[1:]
		}
	}
	return nil
}

// typed checks every given value against its parameter's type.
func (b *binder) typed() error {
	c, inv := b.c, b.inv
	for i := range c.Params {
		prm := &c.Params[i]
		vals, given := b.raw[prm.Name]
		if !given {
			continue
		}
		inv.Given = append(inv.Given, prm.Name)
		if prm.Repeated {
			var list []string
			for _, v := range vals {
				for _, item := range strings.Split(v, ",") {
					item = strings.TrimSpace(item)
					if item == "" {
						continue
					}
					if err := checkTextLength(prm, item, b.usage); err != nil {
						return err
					}
					typed, err := prm.Parse(item)
					if err != nil {
						return &Error{Token: b.rawTok[prm.Name], Msg: valueError(prm, item, err), Usage: b.usage}
					}
					list = append(list, sdk.FormatValue(typed))
				}
			}
			if len(list) == 0 {
				return &Error{Token: b.rawTok[prm.Name], Msg: fmt.Sprintf("%s needs at least one value", prm.Name), Usage: b.usage}
			}
			inv.Args[prm.Name] = list
			continue
		}
		if vals[0] == "" && prm.Type != sdk.TypeString {
			return &Error{Token: b.rawTok[prm.Name], Msg: fmt.Sprintf("%s needs a value", prm.Name), Usage: b.usage}
		}
		if err := checkTextLength(prm, vals[0], b.usage); err != nil {
			return err
		}
		typed, err := prm.Parse(vals[0])
		if err != nil {
			e := &Error{Token: b.rawTok[prm.Name], Msg: valueError(prm, vals[0], err), Usage: b.usage}
			if prm.Type == sdk.TypeEnum {
				e.Suggestions = Suggest(vals[0], enumWords(prm))
			}
			return e
		}
		inv.Args[prm.Name] = typed
	}
	return nil
}

// defaults fills what was not given with the declared defaults, as the
// SDK does for any caller, and names what is required and missing.
func (b *binder) defaults() error {
	c, inv := b.c, b.inv
	var missing []string
	for i := range c.Params {
		prm := &c.Params[i]
		if inv.Args.Has(prm.Name) {
			continue
		}
		if prm.Required {
			missing = append(missing, prm.Name)
			continue
		}
		v, ok, err := prm.DefaultValue()
		if err != nil {
			return &Error{Token: prm.Name, Msg: fmt.Sprintf("the plugin's default for %s is invalid: %v", prm.Name, err)}
		}
		if ok {
			inv.Args[prm.Name] = v
		}
	}
	if len(missing) > 0 {
		return &Error{Msg: fmt.Sprintf("/%s %s is missing %s", b.p.Name(), c.Name, strings.Join(missing, ", ")), Usage: b.usage, Missing: missing, Command: c.Name}
	}
	return nil
}

// valueError says why a value does not fit its parameter; a sensitive
// value is not repeated in it (a secret collected privately must not come
// back in a message).
func valueError(prm *sdk.Param, value string, err error) string {
	msg := err.Error()
	if prm.Sensitive && value != "" {
		msg = strings.ReplaceAll(strings.ReplaceAll(msg, strconv.Quote(value), "…"), value, "…")
	}
	return prm.Name + ": " + msg
}

func isBoolWord(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off":
		return true
	}
	return false
}

func countPositional(c *sdk.CommandSpec) int {
	n := 0
	for _, p := range c.Params {
		if p.Positional {
			n++
		}
	}
	return n
}

func paramNames(c *sdk.CommandSpec) []string {
	var out []string
	for _, p := range c.Params {
		out = append(out, p.Name)
		out = append(out, p.Aliases...)
	}
	return out
}

func enumWords(p *sdk.Param) []string {
	var out []string
	for _, e := range p.Enum {
		out = append(out, e.Value)
		out = append(out, e.Aliases...)
	}
	return out
}
