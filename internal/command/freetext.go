package command

import (
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// gatherFreeText merges each free-text argument (a parameter of type
// text given by name) and the words after it into one token whose value
// is the line as typed, up to the next word that is one of the command's
// arguments, ticket=, --target or --plan. Quotes and apostrophes in it are
// kept as typed, and an unclosed quote there is no error. Lines whose
// command is unknown or has no free text are returned unchanged.
func gatherFreeText(p Provider, text string, toks []Token) []Token {
	var words []Token
	var at []int
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.Quoted && (t.Text == "--target" || t.Text == "--ticket") {
			i++
			continue
		}
		if anywhereFlag(t) {
			continue
		}
		words, at = append(words, t), append(at, i)
	}
	if len(words) == 0 {
		return toks
	}
	spec, n, err := matchCommand(p, words)
	if err != nil || !hasFreeText(spec) {
		return toks
	}
	first := at[n-1] + 1
	out := append([]Token(nil), toks[:first]...)
	for i := first; i < len(toks); i++ {
		t := toks[i]
		key, valStart, next, ok := freeTextStart(spec, toks, i)
		if !ok {
			out = append(out, t)
			continue
		}
		j := next
		for j < len(toks) && !stopsFreeText(spec, toks[j]) {
			j++
		}
		if j == next && (next == i+1 || toks[i+1].unclosed == nil) && t.unclosed == nil {
			// One word: it is read as before, quotes and all.
			out = append(out, toks[i:j]...)
			i = j - 1
			continue
		}
		end := len(text)
		if j < len(toks) {
			end = toks[j].Pos
		}
		value := strings.TrimSpace(text[valStart:end])
		out = append(out, Token{
			Text:   key + "=" + value,
			Raw:    strings.TrimSpace(text[t.Pos:end]),
			Pos:    t.Pos,
			Quoted: true, // nothing inside is a flag
			Eq:     len(key),
		})
		i = j - 1
	}
	return out
}

// freeTextStart recognises a free-text argument at toks[i]: reason=...,
// --reason=... or --reason .... It returns the key, the byte offset of
// the value in the line and the index of the first token after the one
// the value starts in.
func freeTextStart(c *sdk.CommandSpec, toks []Token, i int) (key string, valStart, next int, ok bool) {
	t := toks[i]
	isText := func(name string) bool {
		prm, found := c.Param(name)
		return found && prm.Type == sdk.TypeText
	}
	if t.Eq > 0 {
		// The text before an unquoted "=" is the same as typed, so its
		// offset in Text is its offset in the line.
		k := strings.TrimPrefix(t.Text[:t.Eq], "--")
		if keyRE.MatchString(k) && isText(k) {
			return k, t.Pos + t.Eq + 1, i + 1, true
		}
		return "", 0, 0, false
	}
	if !t.Quoted && strings.HasPrefix(t.Text, "--") && isText(t.Text[2:]) && i+1 < len(toks) {
		return t.Text[2:], toks[i+1].Pos, i + 2, true
	}
	return "", 0, 0, false
}

// stopsFreeText reports whether t ends a free-text value: another of the
// command's arguments, or a word that may come anywhere.
func stopsFreeText(c *sdk.CommandSpec, t Token) bool {
	if t.Eq > 0 {
		k := strings.TrimPrefix(t.Text[:t.Eq], "--")
		if strings.EqualFold(k, TicketWord) || strings.EqualFold(k, "target") {
			return true
		}
		_, known := c.Param(k)
		return known && keyRE.MatchString(k)
	}
	if t.Quoted || !strings.HasPrefix(t.Text, "--") {
		return false
	}
	if t.Text == "--target" || t.Text == PlanFlag || t.Text == "--"+TicketWord {
		return true
	}
	_, known := c.Param(t.Text[2:])
	return known
}

// anywhereFlag is a word that may come anywhere in a line and is not part
// of the command's name.
func anywhereFlag(t Token) bool {
	if t.Eq > 0 && strings.EqualFold(t.Text[:t.Eq], TicketWord) {
		return true
	}
	if t.Quoted {
		return false
	}
	return t.Text == "--help" || t.Text == "-h" || t.Text == PlanFlag ||
		strings.HasPrefix(t.Text, "--target=") || strings.HasPrefix(t.Text, "--"+TicketWord+"=")
}

func hasFreeText(c *sdk.CommandSpec) bool {
	for _, p := range c.Params {
		if p.Type == sdk.TypeText {
			return true
		}
	}
	return false
}

type ticketArg struct {
	value string
	used  int // words taken
}

// ticketValue reads the reserved ticket argument at toks[i]: ticket=X,
// --ticket=X or --ticket X.
func ticketValue(t Token, toks []Token, i int) (ticketArg, bool) {
	switch {
	case t.Eq > 0 && strings.EqualFold(strings.TrimPrefix(t.Text[:t.Eq], "--"), TicketWord):
		return ticketArg{value: t.Text[t.Eq+1:], used: 1}, true
	case !t.Quoted && t.Text == "--"+TicketWord:
		if i+1 < len(toks) {
			return ticketArg{value: toks[i+1].Text, used: 2}, true
		}
		return ticketArg{used: 1}, true
	}
	return ticketArg{}, false
}

var wordQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\u201d", "\\\u201d")

// QuoteWord quotes a value so that the tokenizer reads it back unchanged.
func QuoteWord(v string) string {
	return `"` + wordQuoter.Replace(v) + `"`
}

// requoteUnclosed rewrites the word holding an unclosed quote so that it
// parses, and returns the byte offset in text where the rewrite ends. A
// double quote opening a value most likely meant to quote the rest of
// the line; any other stray quote is taken as a character.
func requoteUnclosed(text string, t Token) (string, int) {
	key, value, valueAt := "", t.Text, t.Pos
	if t.Eq > 0 && keyRE.MatchString(strings.TrimPrefix(t.Text[:t.Eq], "--")) {
		key, value, valueAt = t.Text[:t.Eq+1], t.Text[t.Eq+1:], t.Pos+t.Eq+1
	}
	open := len(text) - len(t.unclosed.Token)
	if open == valueAt {
		for _, q := range []string{`"`, "\u201c", "\u201e"} {
			if strings.HasPrefix(text[open:], q) {
				return key + QuoteWord(strings.TrimSpace(text[open+len(q):])), len(text)
			}
		}
	}
	return key + QuoteWord(value), t.Pos + len(t.Raw)
}

// rewriteUnclosed is the whole line with every word holding an unclosed
// quote requoted.
func rewriteUnclosed(p Provider, text string, toks []Token) string {
	var b strings.Builder
	at := 0
	for _, t := range toks {
		if t.unclosed == nil || t.Pos < at {
			continue
		}
		with, end := requoteUnclosed(text, t)
		b.WriteString(text[at:t.Pos])
		b.WriteString(with)
		at = end
	}
	b.WriteString(text[at:])
	return rewrite(p, b.String(), 0, 0, "")
}

// rewrite is the whole command line with text[from:to] replaced.
func rewrite(p Provider, text string, from, to int, with string) string {
	return strings.TrimSpace("/" + p.Name() + " " + text[:from] + with + text[to:])
}

// rewriteStray suggests the line with a word no parameter took quoted
// together with the named value before it (note=spam complaint →
// note="spam complaint"); "" when there is no such value.
func rewriteStray(p Provider, text string, c *sdk.CommandSpec, toks []Token, stray Token) string {
	k := -1
	for i, t := range toks {
		if t.Pos == stray.Pos {
			k = i
			break
		}
	}
	h := -1
	for i := k - 1; i >= 0; i-- {
		t := toks[i]
		if t.Eq > 0 {
			if prm, ok := c.Param(t.Text[:t.Eq]); ok && !prm.Repeated && (prm.Type == sdk.TypeString || prm.Type == sdk.TypeText) {
				h = i
			}
			break
		}
		if strings.HasPrefix(t.Text, "-") {
			break
		}
	}
	if k < 0 || h < 0 {
		return ""
	}
	m := k + 1
	for m < len(toks) && toks[m].Eq <= 0 && !strings.HasPrefix(toks[m].Text, "-") {
		m++
	}
	key := toks[h].Text[:toks[h].Eq]
	parts := []string{toks[h].Text[toks[h].Eq+1:]}
	for _, t := range toks[h+1 : m] {
		parts = append(parts, t.Text)
	}
	last := toks[m-1]
	return rewrite(p, text, toks[h].Pos, last.Pos+len(last.Raw), key+"="+QuoteWord(strings.Join(parts, " ")))
}
