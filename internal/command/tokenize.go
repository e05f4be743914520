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
// escapes the next character. An unclosed quote is an error naming where
// it opened.
func Tokenize(line string) ([]Token, error) {
	var toks []Token
	var cur strings.Builder
	in := false // inside a word
	start := 0
	quoted := false
	eq := -1
	// offsets[i] is the byte offset of runes[i] in line; invalid UTF-8
	// bytes decode as one replacement rune each but keep their own width.
	var runes []rune
	var offsets []int
	for i, r := range line {
		runes = append(runes, r)
		offsets = append(offsets, i)
	}
	offsets = append(offsets, len(line))
	flush := func(end int) {
		if !in {
			return
		}
		toks = append(toks, Token{Text: cur.String(), Raw: line[start:end], Pos: start, Quoted: quoted, Eq: eq})
		cur.Reset()
		in, quoted, eq = false, false, -1
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
		if closer, ok := quoteOf[r]; ok {
			quoted = true
			open := offsets[i]
			j := i + 1
			for ; j < len(runes); j++ {
				c := runes[j]
				if c == closer || (closer == '"' && c == '\u201d') || (closer == '\u201d' && c == '"') || (closer == '\'' && c == '\u2019') || (closer == '\u2019' && c == '\'') {
					break
				}
				if c == '\\' && (r == '"' || r == '\u201c') && j+1 < len(runes) {
					j++
					c = runes[j]
				}
				cur.WriteRune(c)
			}
			if j >= len(runes) {
				return nil, &Error{Token: line[open:], Msg: "this quote is never closed"}
			}
			i = j
			continue
		}
		if r == '=' && eq < 0 && !quoted {
			eq = cur.Len()
		}
		cur.WriteRune(r)
	}
	flush(len(line))
	return toks, nil
}
