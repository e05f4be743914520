package command

import (
	"strings"
	"unicode"
)

// Token is one word of a command line.
type Token struct {
	// Text is the word with quotes removed.
	Text string
	// Raw is the word as typed, for error messages.
	Raw string
	// Pos is the byte offset of the word in the line.
	Pos int
	// Quoted is true if any part of the word was quoted.
	Quoted bool
	// Eq is the offset in Text of the first "=" typed outside quotes, or -1.
	Eq int
	// unclosed is the error of a quote this word opens and never closes;
	// the word then holds the quote character as typed.
	unclosed *Error
}

// Key and Value split a key=value token; ok is false for other tokens.
func (t Token) KeyValue() (key, value string, ok bool) {
	if t.Eq <= 0 {
		return "", "", false
	}
	return t.Text[:t.Eq], t.Text[t.Eq+1:], true
}

// quoteOf maps opening quote characters to their closers. Chat clients
// turn straight quotes into typographic ones; both work.
var quoteOf = map[rune]rune{
	'"':      '"',
	'\'':     '\'',
	'\u201c': '\u201d', // “ ”
	'\u201d': '\u201d',
	'\u201e': '\u201d', // „ ”
	'\u2018': '\u2019', // ‘ ’
	'\u2019': '\u2019',
}

// Tokenize splits a command line into words. Single and double quotes
// (straight or typographic) group words; inside double quotes a backslash
// escapes the next character. An apostrophe inside a word (customer's) is
// part of the word, never an opening quote. An unclosed quote is an error
// naming where it opened.
func Tokenize(line string) ([]Token, error) {
	toks, bad := tokenize(line)
	if bad >= 0 {
		return nil, toks[bad].unclosed
	}
	return toks, nil
}

// tokenize is Tokenize that reads on past an unclosed quote, taking the
// quote character literally: the parser forgives it inside free text and
// suggests quoting that works elsewhere. bad is the index of the first
// token with an unclosed quote, or -1.
func tokenize(line string) (toks []Token, bad int) {
	bad = -1
	var cur strings.Builder
	in := false // inside a word
	start := 0
	quoted := false
	eq := -1
	var unclosed *Error
	// offsets[i] is the byte offset of runes[i] in line; invalid UTF-8
	// bytes decode as one replacement rune each but keep their own width.
	var runes []rune
	var offsets []int
	for i, r := range line {
		runes = append(runes, r)
		offsets = append(offsets, i)
	}
	offsets = append(offsets, len(line))
	wordy := func(i int) bool {
		return i >= 0 && i < len(runes) && (unicode.IsLetter(runes[i]) || unicode.IsDigit(runes[i]))
	}
	flush := func(end int) {
		if !in {
			return
		}
		if unclosed != nil && bad < 0 {
			bad = len(toks)
		}
		toks = append(toks, Token{Text: cur.String(), Raw: line[start:end], Pos: start, Quoted: quoted, Eq: eq, unclosed: unclosed})
		cur.Reset()
		in, quoted, eq, unclosed = false, false, -1, nil
	}
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		if unicode.IsSpace(r) {
			flush(offsets[i])
			continue
		}
		if !in {
			in, start = true, offsets[i]
		}
		closer, ok := quoteOf[r]
		if ok && isApostrophe(r) && in && offsets[i] > start && wordy(i-1) {
			// customer's, O'Brien, customer’s: an apostrophe, not a quote.
			ok = false
		}
		if ok {
			open := offsets[i]
			j := i + 1
			var val strings.Builder
			for ; j < len(runes); j++ {
				c := runes[j]
				if closes(closer, c) && !(isApostrophe(c) && wordy(j-1) && wordy(j+1)) {
					break
				}
				if c == '\\' && (r == '"' || r == '\u201c') && j+1 < len(runes) {
					j++
					c = runes[j]
				}
				val.WriteRune(c)
			}
			if j >= len(runes) {
				// Read the quote as a plain character and go on.
				if unclosed == nil {
					unclosed = &Error{Token: line[open:], Msg: "this quote is never closed"}
				}
				cur.WriteRune(r)
				continue
			}
			quoted = true
			cur.WriteString(val.String())
			i = j
			continue
		}
		if r == '=' && eq < 0 && !quoted {
			eq = cur.Len()
		}
		cur.WriteRune(r)
	}
	flush(len(line))
	return toks, bad
}

// closes reports whether c ends a quote opened with closer's opener;
// straight and typographic quotes pair either way.
func closes(closer, c rune) bool {
	return c == closer || (closer == '"' && c == '\u201d') || (closer == '\u201d' && c == '"') || (closer == '\'' && c == '\u2019') || (closer == '\u2019' && c == '\'')
}

// isApostrophe: a straight or typographic single quote, which inside a
// word is an apostrophe.
func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' }
