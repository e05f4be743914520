package console

import (
	"errors"
	"slices"
	"strings"

	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// SecretLines finds the lines that hold a secret, which the console's
// history never keeps. The console lets its user type a sensitive
// argument on the line (it is private to their terminal), but a history
// file outlives the session and may be read by someone else later.
//
// A line holds a secret when the redactor would change it (a configured
// secret, a private key), when it gives a value under a key name the
// redactor treats as secret (password=, token=), or when it gives a
// value to a parameter its plugin declares sensitive, by name or by
// position. The judgement errs towards keeping a line out: a command
// line that does not parse (a word too many, which may be a secret meant
// for a parameter given by name; a provider that is not here) counts as
// holding one. A line only missing required values is judged by what it
// gives: a command with a sensitive positional parameter and a word
// after it counts as holding one, since that word may fill it. The
// bot's own /ops lines are judged by any command inside them (/ops plan
// /example secret set ...).
type SecretLines struct {
	Providers engine.Registry
	Redactor  *redact.Redactor
}

// Holds reports whether line holds a secret.
func (s SecretLines) Holds(line string) bool {
	red := s.Redactor
	if red == nil {
		red = redact.New()
	}
	if red.String(line) != line {
		return true
	}
	toks, err := command.Tokenize(line)
	if err != nil {
		// An unclosed quote: judge the bare words.
		pos := 0
		for _, w := range strings.Fields(line) {
			pos += strings.Index(line[pos:], w)
			toks = append(toks, command.Token{Text: w, Raw: w, Pos: pos, Eq: strings.Index(w, "=")})
			pos += len(w)
		}
	}
	for i, t := range toks {
		key, _, ok := t.KeyValue()
		if !ok && !t.Quoted && strings.HasPrefix(t.Text, "--") {
			key, _, _ = strings.Cut(strings.TrimPrefix(t.Text, "--"), "=")
			ok = key != ""
		}
		if ok && red.IsSensitiveKey(key) {
			return true
		}
		// A whole command quoted inside another (/ops can-i "/whm ...").
		if i > 0 && t.Quoted && strings.HasPrefix(strings.TrimSpace(t.Text), "/") && s.Holds(t.Text) {
			return true
		}
	}
	name, rest, err := command.SplitProvider(line)
	if err != nil {
		// Not a command: a console word (:as carol).
		return false
	}
	if name == "ops" {
		// The bot's own commands take no secrets, but may carry a
		// provider's command unquoted (/ops plan /example secret set ...).
		for i, t := range toks {
			if i > 0 && !t.Quoted && strings.HasPrefix(t.Text, "/") && s.Holds(line[t.Pos:]) {
				return true
			}
		}
		return false
	}
	if s.Providers == nil {
		return false
	}
	p, ok := s.Providers.Provider(name)
	if !ok {
		// Nothing tells which of its words are secret.
		return true
	}
	parsed, err := command.Parse(p, rest)
	if err == nil {
		if parsed.Invocation == nil {
			return false
		}
		inv := parsed.Invocation
		for _, n := range inv.Given {
			if prm, ok := inv.Command.Param(n); ok && prm.Sensitive {
				return true
			}
		}
		return false
	}
	var ce *command.Error
	if !errors.As(err, &ce) || len(ce.Missing) == 0 || len(toks) == 0 {
		// A word that fits nowhere may be a secret typed without its
		// parameter's name.
		return true
	}
	// Every word was bound and typed; only required values are missing.
	return unparsedSecret(p.Catalog(), toks[1:])
}

// unparsedSecret judges a line whose words all fit but which misses
// required values: a sensitive parameter named in it, or a command with a
// sensitive positional parameter and words after its name.
func unparsedSecret(catalog []sdk.CommandSpec, toks []command.Token) bool {
	var words []string
	for _, t := range toks {
		if t.Quoted || t.Eq >= 0 || strings.HasPrefix(t.Text, "-") {
			break
		}
		words = append(words, strings.ToLower(t.Text))
	}
	var spec *sdk.CommandSpec
	best := 0
	for i := range catalog {
		for _, n := range append([]string{catalog[i].Name}, catalog[i].Aliases...) {
			nw := strings.Fields(n)
			if len(nw) > best && len(nw) <= len(words) && slices.Equal(nw, words[:len(nw)]) {
				spec, best = &catalog[i], len(nw)
			}
		}
	}
	if spec == nil {
		return false
	}
	for _, prm := range spec.Params {
		if !prm.Sensitive {
			continue
		}
		if prm.Positional && len(toks) > best {
			return true
		}
		for _, t := range toks[best:] {
			key, _, ok := t.KeyValue()
			if !ok && strings.HasPrefix(t.Text, "--") {
				key, _, _ = strings.Cut(strings.TrimPrefix(t.Text, "--"), "=")
				ok = true
			}
			if ok && (strings.EqualFold(key, prm.Name) || slices.ContainsFunc(prm.Aliases, func(a string) bool { return strings.EqualFold(a, key) })) {
				return true
			}
		}
	}
	return false
}
