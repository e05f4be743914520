package console

import (
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
// position. A line that does not parse is judged by what can be told of
// it: a command with a sensitive positional parameter counts as holding
// one, since the word that fills it cannot be told apart.
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
		for i, w := range strings.Fields(line) {
			toks = append(toks, command.Token{Text: w, Raw: w, Pos: i, Eq: strings.Index(w, "=")})
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
	if s.Providers == nil {
		return false
	}
	name, rest, err := command.SplitProvider(line)
	if err != nil {
		return false
	}
	p, ok := s.Providers.Provider(name)
	if !ok {
		return false
	}
	if parsed, err := command.Parse(p, rest); err == nil {
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
	if len(toks) == 0 {
		return false
	}
	return unparsedSecret(p.Catalog(), toks[1:])
}

// unparsedSecret judges a line that did not parse: a sensitive parameter
// named in it, or a command with a sensitive positional parameter.
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
