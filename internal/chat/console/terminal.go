package console

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/peterh/liner"
	"golang.org/x/term"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

// Completer completes a typed line at cursor (a byte offset) for a user
// in a channel, offering only what that user may run there: commands,
// parameter names, and the values a plugin suggests. *engine.Engine is
// one.
type Completer interface {
	Complete(ctx context.Context, user, channel, line string, cursor int) (engine.Completion, error)
}

// completeTimeout bounds one Tab: a plugin slow to suggest must not hold
// the prompt.
const completeTimeout = 3 * time.Second

// errInterrupt is a Ctrl-C at the prompt.
var errInterrupt = errors.New("interrupted")

// lineReader reads the lines the console runs.
type lineReader interface {
	// ReadLine shows prompt and returns the next line: io.EOF at the end
	// of the input, errInterrupt on Ctrl-C.
	ReadLine(prompt string) (string, error)
	// Remember offers a line to recall with Up later in this session.
	Remember(line string)
	Close() error
}

// plainReader reads lines from a pipe or a file: no line editing, no
// escape codes, just the prompt before each line.
type plainReader struct {
	sc  *bufio.Scanner
	out io.Writer
}

func newPlainReader(in io.Reader, out io.Writer) *plainReader {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &plainReader{sc: sc, out: out}
}

func (p *plainReader) ReadLine(prompt string) (string, error) {
	io.WriteString(p.out, prompt)
	if !p.sc.Scan() {
		io.WriteString(p.out, "\n")
		if err := p.sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return p.sc.Text(), nil
}

func (p *plainReader) Remember(string) {}
func (p *plainReader) Close() error    { return nil }

// isTerminal reports whether the console talks to a person at a
// terminal: its input and output are the process's own, and both are
// terminals. The line editor reads and writes those directly.
func isTerminal(in io.Reader, out io.Writer) bool {
	if in != io.Reader(os.Stdin) || out != io.Writer(os.Stdout) ||
		!term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return false
	}
	// The line editor quietly reads plain lines on a terminal it cannot
	// drive (TERM=dumb, or no size, as under `script` without a parent
	// terminal): Up would then type ^[[A. Say so up front instead, by
	// reading plain lines.
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err != nil || w <= 0 {
		return false
	}
	return liner.TerminalSupported()
}

// terminalReader is the line editor: Emacs-style editing keys, Up and
// Down through the history, Tab completion, Ctrl-R search. The terminal
// is in raw mode only while a line is read, so Ctrl-C during a command
// is a signal that cancels it.
type terminalReader struct {
	s *liner.State
}

func newTerminalReader(complete liner.WordCompleter) *terminalReader {
	s := liner.NewLiner()
	s.SetCtrlCAborts(true)
	s.SetTabCompletionStyle(liner.TabPrints)
	if complete != nil {
		s.SetWordCompleter(complete)
	}
	return &terminalReader{s: s}
}

func (t *terminalReader) ReadLine(prompt string) (string, error) {
	line, err := t.s.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errInterrupt
	}
	return line, err
}

func (t *terminalReader) Remember(line string) { t.s.AppendHistory(line) }
func (t *terminalReader) Close() error         { return t.s.Close() }

// wordCompleter adapts the console's Completer to the line editor, which
// counts the cursor in runes and replaces the text between head and tail.
func (c *Console) wordCompleter(ctx context.Context) liner.WordCompleter {
	return func(line string, pos int) (string, []string, string) {
		runes := []rune(line)
		pos = min(max(pos, 0), len(runes))
		cursor := len(string(runes[:pos]))
		var comp engine.Completion
		var err error
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), ":"):
			comp = c.completeMeta(line, cursor)
		case c.Completer != nil:
			cctx, cancel := context.WithTimeout(ctx, completeTimeout)
			comp, err = c.Completer.Complete(cctx, c.User, c.Channel, line, cursor)
			cancel()
		}
		if err != nil || len(comp.Suggestions) == 0 {
			return line[:cursor], nil, line[cursor:]
		}
		from, to := comp.From, comp.To
		if from < 0 || from > cursor || to < cursor || to > len(line) {
			from, to = cursor, cursor
		}
		head, tail := line[:from], line[to:]
		typed := line[from:cursor]
		values := make([]string, 0, len(comp.Suggestions))
		for _, s := range comp.Suggestions {
			values = append(values, s.Value)
		}
		if len(values) > 1 {
			// With several candidates the editor puts in what they
			// share. A plugin may match without regard to case; if what
			// they share were not what was typed, the typed word would
			// shrink or vanish, so the candidates that keep it are
			// offered alone, when there are.
			var keep []string
			for _, v := range values {
				if strings.HasPrefix(v, typed) {
					keep = append(keep, v)
				}
			}
			if len(keep) > 0 {
				values = keep
			}
		}
		out := make([]string, 0, len(values))
		for _, v := range values {
			if len(values) == 1 {
				v = quoteSuggestion(v)
			} else {
				// Quoted from its first odd character on, so that what
				// the candidates share still begins with what was typed.
				v = quoteFrom(v, strings.IndexAny(v, needQuote))
			}
			// A finished word is followed by a space, as a shell does;
			// a parameter name ("reason=") waits for its value.
			if !strings.HasSuffix(v, "=") && !strings.HasPrefix(tail, " ") {
				v += " "
			}
			out = append(out, v)
		}
		return head, out, tail
	}
}

// needQuote are the characters the command grammar splits on or reads
// as quotes.
const needQuote = " \t\"'\u201c\u201d\u2018\u2019\u201e"

// quoteSuggestion quotes a suggested value that the command grammar
// would otherwise split or misread, the whole value (or the whole value
// after "key="): "ré d'été", reason="customer request".
func quoteSuggestion(v string) string {
	i := strings.IndexAny(v, needQuote)
	if i < 0 {
		return v
	}
	if k := strings.Index(v, "="); k > 0 && k < i {
		return quoteFrom(v, k+1)
	}
	return quoteFrom(v, 0)
}

// quoteFrom puts v[i:] in double quotes, which the grammar reads
// anywhere in a word; i < 0 leaves v as it is.
func quoteFrom(v string, i int) string {
	if i < 0 {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return v[:i] + `"` + r.Replace(v[i:]) + `"`
}

// metaCommands are the console's own commands, for Tab.
var metaCommands = []string{":as", ":channel", ":help", ":quit"}

// completeMeta completes the console's own commands, and the user names
// :as takes.
func (c *Console) completeMeta(line string, cursor int) engine.Completion {
	head := line[:cursor]
	from := strings.LastIndexAny(head, " \t") + 1
	word := head[from:]
	out := engine.Completion{From: from, To: cursor}
	var candidates []string
	switch done := strings.Fields(head[:from]); {
	case len(done) == 0:
		candidates = metaCommands
	case len(done) == 1 && done[0] == ":as" && c.Users != nil:
		candidates = c.Users.Names()
		sort.Strings(candidates)
	}
	for _, v := range candidates {
		if strings.HasPrefix(v, word) {
			out.Suggestions = append(out.Suggestions, sdk.Suggestion{Value: v})
		}
	}
	return out
}
