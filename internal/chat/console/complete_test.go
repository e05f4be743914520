package console

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

// fakeCompleter answers from a fixed table and remembers who asked.
type fakeCompleter struct {
	users []string
	comp  engine.Completion
}

func (f *fakeCompleter) Complete(_ context.Context, user, _, line string, cursor int) (engine.Completion, error) {
	f.users = append(f.users, user)
	return f.comp, nil
}

func TestTabAsksForTheCurrentUserAndQuotesWhatNeedsIt(t *testing.T) {
	f := &fakeCompleter{}
	c := &Console{Completer: f, User: "U1"}
	complete := c.wordCompleter(context.Background())

	line := "/whm account suspend ré reason=x"
	cursor := strings.Index(line, "ré") + len("ré")
	f.comp = engine.Completion{From: cursor - len("ré"), To: cursor, Suggestions: []sdk.Suggestion{{Value: "réseau"}, {Value: "ré d'été"}}}
	// The line editor counts the cursor in runes.
	head, words, tail := complete(line, len([]rune(line[:cursor])))
	assert.Equal(t, "/whm account suspend ", head)
	assert.Equal(t, []string{"réseau", `ré" d'été"`}, words, "a finished word before more text takes no space; one with spaces is quoted after what all share")
	f.comp.Suggestions = f.comp.Suggestions[1:]
	_, words, _ = complete(line, len([]rune(line[:cursor])))
	assert.Equal(t, []string{`"ré d'été"`}, words, "one candidate alone is quoted whole")
	assert.Equal(t, " reason=x", tail)

	c.User = "U2" // after :as
	f.comp = engine.Completion{From: 13, To: 13, Suggestions: []sdk.Suggestion{{Value: "reason="}, {Value: `note=say "hi"`}}}
	head, words, tail = complete("/ops deny A1 ", 13)
	assert.Equal(t, "/ops deny A1 ", head)
	assert.Equal(t, []string{"reason=", `note=say" \"hi\"" `}, words, "a parameter name waits for its value")
	f.comp.Suggestions = f.comp.Suggestions[1:]
	_, words, _ = complete("/ops deny A1 ", 13)
	assert.Equal(t, []string{`note="say \"hi\"" `}, words)
	assert.Equal(t, "", tail)
	assert.Equal(t, []string{"U1", "U1", "U2", "U2"}, f.users, "asked for the user of the moment")

	// A plugin matching without regard to case: the typed word stays.
	f.comp = engine.Completion{From: 21, To: 23, Suggestions: []sdk.Suggestion{{Value: "DEMO9"}, {Value: "demo1"}, {Value: "demo2"}}}
	_, words, _ = complete("/whm account suspend de", 23)
	assert.Equal(t, []string{"demo1 ", "demo2 "}, words)
}

type names map[string]string

func (n names) Lookup(name string) (string, bool) { id, ok := n[name]; return id, ok }
func (n names) Names() []string {
	var out []string
	for k := range n {
		out = append(out, k)
	}
	return out
}

func TestTabCompletesTheConsolesOwnCommandsAndUserNames(t *testing.T) {
	f := &fakeCompleter{}
	c := &Console{Completer: f, Users: names{"alice": "U1", "carol": "U3", "dan": "U4"}}
	complete := c.wordCompleter(context.Background())
	_, words, _ := complete(":", 1)
	assert.Equal(t, []string{":as ", ":channel ", ":help ", ":quit "}, words)
	head, words, _ := complete(":as c", 5)
	assert.Equal(t, ":as ", head)
	assert.Equal(t, []string{"carol "}, words)
	assert.Empty(t, f.users, "the console's own commands are not the engine's to complete")
}

func TestQuotedSuggestionsReadBackAsTheValue(t *testing.T) {
	for _, v := range []string{"plain", "ré d'été", `say "hi"`, `back\slash and space`, "o’brien"} {
		for _, q := range []string{quoteSuggestion(v), quoteFrom(v, strings.IndexAny(v, needQuote))} {
			toks, err := command.Tokenize(q)
			if assert.NoError(t, err, q) && assert.Len(t, toks, 1, q) {
				assert.Equal(t, v, toks[0].Text, q)
			}
		}
		toks, err := command.Tokenize(quoteSuggestion("reason=" + v))
		if assert.NoError(t, err) && assert.Len(t, toks, 1) {
			k, val, ok := toks[0].KeyValue()
			assert.True(t, ok)
			assert.Equal(t, "reason", k)
			assert.Equal(t, v, val)
		}
	}
}
