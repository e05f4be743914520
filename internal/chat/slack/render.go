package slack

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

// Slack's limits (docs.slack.dev, Block Kit reference).
const (
	maxBlocks      = 50   // blocks in one message
	maxSectionText = 3000 // characters in a section's text
	maxFields      = 10   // fields in one section
	maxFieldText   = 2000 // characters in one field
	maxHeader      = 150  // characters in a header
	maxTableRows   = 100  // rows in a table block, header included
	maxTableCols   = 20   // cells in a table row
	maxContextText = 2000 // characters in a context element

	// Beyond these, a part is shown in part and attached whole.
	inlineTableRows = 20
	inlineText      = 4 * maxSectionText
	inlineKeyValues = 60
)

// Message is one chat message: a fallback text for notifications and the
// blocks that show it.
type Message struct {
	Text   string          `json:"text"`
	Blocks []slackgo.Block `json:"blocks"`
}

// File is content attached to a reply because it does not fit in messages.
type File struct {
	Name      string `json:"name"`
	Title     string `json:"title"`
	MediaType string `json:"media_type"`
	Content   []byte `json:"-"`
	Size      int    `json:"size"`
}

// Rendered is a reply as Slack messages and attachments.
type Rendered struct {
	Messages []Message `json:"messages"`
	Files    []File    `json:"files,omitempty"`
}

// builder accumulates blocks into messages within Slack's limits.
type builder struct {
	out      Rendered
	blocks   []slackgo.Block
	hasTable bool
	fallback string
}

func (b *builder) add(bl slackgo.Block) {
	if len(b.blocks) >= maxBlocks {
		b.flush()
	}
	b.blocks = append(b.blocks, bl)
}

func (b *builder) addTable(t *slackgo.TableBlock) {
	// Slack allows one table per message.
	if b.hasTable {
		b.flush()
	}
	b.add(t)
	b.hasTable = true
}

func (b *builder) flush() {
	if len(b.blocks) == 0 {
		return
	}
	b.out.Messages = append(b.out.Messages, Message{Text: b.fallback, Blocks: b.blocks})
	b.blocks, b.hasTable = nil, false
}

func mrkdwn(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, false)
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, false, false)
}

// sections splits text into sections of at most maxSectionText runes,
// cutting at line ends where it can.
func (b *builder) sections(text string, wrap func(string) string, room int) {
	for _, chunk := range chunks(text, maxSectionText-room) {
		b.add(slackgo.NewSectionBlock(mrkdwn(wrap(chunk)), nil, nil))
	}
}

func chunks(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		r := []rune(s)
		cut := n
		if i := strings.LastIndex(string(r[:n]), "\n"); i > 0 {
			cut = utf8.RuneCountInString(string(r[:n])[:i])
		}
		out = append(out, string(r[:cut]))
		s = strings.TrimPrefix(string(r[cut:]), "\n")
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// Render turns a reply into Slack messages within Slack's limits. Content
// too big for messages is shown in part and attached as a file.
func Render(r engine.Reply) Rendered {
	b := &builder{fallback: fallbackText(r)}
	if r.Title != "" && r.Status != engine.StatusPending {
		b.add(slackgo.NewHeaderBlock(plain(truncate(r.Title, maxHeader))))
	}
	switch r.Status {
	case engine.StatusInvalid:
		b.sections(r.Error, func(s string) string { return ":warning: " + escape(s) }, 12)
	case engine.StatusDenied:
		b.sections(r.Error, func(s string) string { return ":no_entry: " + escape(s) }, 12)
	case engine.StatusFailed:
		b.sections(r.Error, func(s string) string { return ":x: " + escape(s) }, 6)
	case engine.StatusPending:
		if a := r.Approval; a != nil {
			b.add(slackgo.NewSectionBlock(mrkdwn(fmt.Sprintf(":hourglass_flowing_sand: `%s` needs approval (%s): %s.",
				truncate(escape(a.Command), 1500), a.ID, a.StateText())), nil, nil))
		}
	}
	if args := r.Arguments(); len(args) > 0 {
		b.add(slackgo.NewContextBlock("", mrkdwn(":point_right: "+truncate(argumentsText(args), maxContextText-20))))
	}
	if r.DryRun && r.Plan != nil {
		b.add(slackgo.NewSectionBlock(mrkdwn(planText(r.Plan)), nil, nil))
	}
	if r.Result != nil {
		b.parts(r.Result.Parts)
		for _, d := range r.Result.Diagnostics {
			if d.Severity == sdk.SeverityWarning {
				b.add(slackgo.NewContextBlock("", mrkdwn(":warning: "+truncate(escape(d.String()), maxContextText-10))))
			}
		}
	}
	if line := footer(r.Target, r.RequestID, r.Ticket, r.TicketURL); line != "" {
		b.add(slackgo.NewContextBlock("", mrkdwn(line)))
	}
	b.flush()
	if len(b.out.Messages) == 0 {
		b.out.Messages = []Message{{Text: b.fallback, Blocks: []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(escape(b.fallback)), nil, nil)}}}
	}
	return b.out
}

// footer is a reply's context line as mrkdwn: its target, its request
// id and its ticket, those it has.
func footer(target, requestID, ticket, ticketURL string) string {
	var ctx []string
	if target != "" {
		ctx = append(ctx, "target "+target)
	}
	if requestID != "" {
		ctx = append(ctx, "request "+requestID)
	}
	line := escape(strings.Join(ctx, " · "))
	if ticket != "" {
		if line != "" {
			line += " · "
		}
		line += "ticket " + ticketText(ticket, ticketURL)
	}
	return line
}

// argumentsText names the arguments a reply's errors are about, as
// mrkdwn: "about the argument `vm`".
func argumentsText(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "`" + strings.ReplaceAll(escape(a), "`", "'") + "`"
	}
	if len(args) == 1 {
		return "about the argument " + quoted[0]
	}
	return "about the arguments " + strings.Join(quoted, ", ")
}

func fallbackText(r engine.Reply) string {
	switch {
	case r.Error != "":
		return truncate(r.Error, 300)
	case r.Title != "":
		return truncate(r.Title, 300)
	case r.Command != "":
		return truncate(r.Command, 300)
	}
	return "deskbot"
}

func (b *builder) parts(parts []sdk.Part) {
	for _, p := range parts {
		if p.Title != "" && p.Table == nil {
			b.add(slackgo.NewSectionBlock(mrkdwn("*"+truncate(escape(p.Title), 200)+"*"), nil, nil))
		}
		switch {
		case p.Text != nil:
			b.text(p)
		case p.Table != nil:
			b.table(p.Title, p.Table)
		case p.File != nil:
			b.out.Files = append(b.out.Files, File{Name: p.File.Name, Title: p.File.Name, MediaType: p.File.MediaType, Content: p.File.Content, Size: len(p.File.Content)})
			b.add(slackgo.NewContextBlock("", mrkdwn(":paperclip: "+escape(p.File.Name)+" is attached")))
		default:
			b.keyValues(p.Title, p.KeyValues)
		}
	}
}

func (b *builder) text(p sdk.Part) {
	body := p.Text.Body
	whole := body
	if utf8.RuneCountInString(body) > inlineText {
		body = string([]rune(body)[:inlineText])
		name := "output.txt"
		b.out.Files = append(b.out.Files, File{Name: name, Title: titleOr(p.Title, "Full output"), MediaType: "text/plain", Content: []byte(whole), Size: len(whole)})
		defer b.add(slackgo.NewContextBlock("", mrkdwn(fmt.Sprintf(":paperclip: %d characters; the whole text is attached as %s", utf8.RuneCountInString(whole), name))))
	}
	switch p.Text.Format {
	case sdk.FormatCode:
		b.sections(body, func(s string) string { return "```" + escape(s) + "```" }, 6)
	case sdk.FormatMarkdown:
		b.sections(body, func(s string) string { return s }, 0)
	default:
		b.sections(body, escape, 0)
	}
}

func titleOr(t, def string) string {
	if t != "" {
		return t
	}
	return def
}

func (b *builder) keyValues(title string, kvs []sdk.KeyValue) {
	shown := kvs
	if len(kvs) > inlineKeyValues {
		shown = kvs[:inlineKeyValues]
		type pair struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		}
		var list []pair
		for _, kv := range kvs {
			list = append(list, pair{kv.Key, kv.Value})
		}
		js, _ := json.MarshalIndent(list, "", "  ")
		name := slug(titleOr(title, "values")) + ".json"
		b.out.Files = append(b.out.Files, File{Name: name, Title: titleOr(title, "Values"), MediaType: "application/json", Content: js, Size: len(js)})
		defer b.add(slackgo.NewContextBlock("", mrkdwn(fmt.Sprintf(":paperclip: %d values; all are attached as %s", len(kvs), name))))
	}
	for i := 0; i < len(shown); i += maxFields {
		end := min(i+maxFields, len(shown))
		var fields []*slackgo.TextBlockObject
		for _, kv := range shown[i:end] {
			fields = append(fields, mrkdwn(truncate("*"+escape(kv.Key)+"*\n"+escape(orDash(kv.Value)), maxFieldText)))
		}
		b.add(slackgo.NewSectionBlock(nil, fields, nil))
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (b *builder) table(title string, t *sdk.Table) {
	rows := t.Rows
	cols := t.Columns
	truncatedCols := len(cols) > maxTableCols
	big := len(rows)+1 > maxTableRows || truncatedCols
	if big {
		name := slug(titleOr(title, "table")) + ".csv"
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(cols)
		for _, row := range rows {
			_ = w.Write(row)
		}
		w.Flush()
		b.out.Files = append(b.out.Files, File{Name: name, Title: titleOr(title, "Table"), MediaType: "text/csv", Content: buf.Bytes(), Size: buf.Len()})
		if len(rows) > inlineTableRows {
			rows = rows[:inlineTableRows]
		}
		if truncatedCols {
			cols = cols[:maxTableCols]
		}
		// Say what was cut: rows, columns or both, never "4 of 4 rows".
		var cut []string
		if len(rows) < len(t.Rows) {
			cut = append(cut, fmt.Sprintf("%d of %d rows", len(rows), len(t.Rows)))
		}
		if len(cols) < len(t.Columns) {
			cut = append(cut, fmt.Sprintf("%d of %d columns", len(cols), len(t.Columns)))
		}
		defer b.add(slackgo.NewContextBlock("", mrkdwn(fmt.Sprintf(":paperclip: showing %s; the whole table is attached as %s", strings.Join(cut, " and "), name))))
	}
	if title != "" {
		b.add(slackgo.NewSectionBlock(mrkdwn(fmt.Sprintf("*%s* (%d rows)", truncate(escape(title), 200), len(t.Rows))), nil, nil))
	}
	if len(rows) == 0 {
		b.add(slackgo.NewSectionBlock(mrkdwn("_no rows_"), nil, nil))
		return
	}
	tb := &slackgo.TableBlock{Type: slackgo.MBTTable}
	header := make([]slackgo.TableCell, len(cols))
	for i, c := range cols {
		header[i] = slackgo.NewTableRichTextCell(slackgo.NewRichTextSection(slackgo.NewRichTextSectionTextElement(c, &slackgo.RichTextSectionTextStyle{Bold: true})))
	}
	tb.AddRow(header...)
	for _, row := range rows {
		cells := make([]slackgo.TableCell, len(cols))
		for i := range cols {
			v := ""
			if i < len(row) {
				v = row[i]
			}
			cells[i] = slackgo.NewTableRawTextCell(truncate(v, 500))
		}
		tb.AddRow(cells...)
	}
	b.addTable(tb)
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteRune('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "result"
	}
	return truncate(out, 40)
}
