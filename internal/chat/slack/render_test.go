package slack

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares v, as indented JSON, with testdata/name.golden.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.JSONEq(t, string(want), string(got))
}

// checkLimits asserts every message is within Slack's limits.
func checkLimits(t *testing.T, r Rendered) {
	t.Helper()
	for i, m := range r.Messages {
		assert.LessOrEqual(t, len(m.Blocks), maxBlocks, "message %d has too many blocks", i)
		b, err := json.Marshal(m.Blocks)
		require.NoError(t, err)
		var blocks []map[string]any
		require.NoError(t, json.Unmarshal(b, &blocks))
		tables := 0
		for _, bl := range blocks {
			switch bl["type"] {
			case "section":
				if txt, ok := bl["text"].(map[string]any); ok {
					assert.LessOrEqual(t, len([]rune(txt["text"].(string))), maxSectionText)
				}
				if f, ok := bl["fields"].([]any); ok {
					assert.LessOrEqual(t, len(f), maxFields)
				}
			case "header":
				assert.LessOrEqual(t, len([]rune(bl["text"].(map[string]any)["text"].(string))), maxHeader)
			case "table":
				tables++
				rows := bl["rows"].([]any)
				assert.LessOrEqual(t, len(rows), maxTableRows)
				for _, row := range rows {
					assert.LessOrEqual(t, len(row.([]any)), maxTableCols)
				}
			}
		}
		assert.LessOrEqual(t, tables, 1, "one table per message")
	}
}

func table(rows int) *sdk.Result {
	res := sdk.NewResult()
	tb := res.AddTable("Servers", "id", "name", "ip", "state")
	for i := 1; i <= rows; i++ {
		tb.Row(fmt.Sprint(i), fmt.Sprintf("web%04d", i), fmt.Sprintf("203.0.%d.%d", i/250%250, i%250+1), "running")
	}
	return res
}

func TestRenderGolden(t *testing.T) {
	exp := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	cases := map[string]engine.Reply{
		"result_mixed": {RequestID: "r1", Status: engine.StatusOK, Title: "/whm account info bob", Command: "/whm account info bob", Provider: "whm", Target: "web01",
			Result: sdk.NewResult().AddKeyValues("Account", "user", "bob", "domain", "bob.example", "plan", "gold", "suspended", "no", "disk", "1.2 GB <of> 10 GB").
				AddCode("Log", "line 1\nline 2 & <3>").AddText("Plain text with *stars* & <angles>").Warn("quota nearly full")},
		"result_table":     {RequestID: "r2", Status: engine.StatusOK, Title: "/example table rows=3", Command: "/example table rows=3", Provider: "example", Result: table(3)},
		"result_5000_rows": {RequestID: "r3", Status: engine.StatusOK, Title: "/example table rows=5000", Command: "/example table rows=5000", Provider: "example", Result: table(5000)},
		"invalid":          {RequestID: "r4", Status: engine.StatusInvalid, Error: "`chek`: /cln ipl has no command \"chek\"; did you mean `check`?\nusage: /cln ipl check IP"},
		"invalid_argument": {RequestID: "r7", Status: engine.StatusInvalid, Title: "/cloudflow vm info shopweb", Error: "there is no virtual machine \"shopweb\"; did you mean shop-web?",
			Diagnostics: sdk.Diagnostics{{Severity: sdk.SeverityError, Summary: "there is no virtual machine \"shopweb\"; did you mean shop-web?", Attribute: "vm"}}},
		"denied": {RequestID: "r5", Status: engine.StatusDenied, Error: "You may not run /example counter reset: covers commands up to high risk"},
		"pending": {RequestID: "r6", Status: engine.StatusPending, Command: "/example counter add n=5", Provider: "example",
			Approval: &engine.ApprovalView{ID: "AABCDEFG", Command: "/example counter add n=5", Required: 1, State: "pending", ExpiresAt: exp}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			out := Render(r)
			checkLimits(t, out)
			golden(t, "render_"+name, out)
		})
	}
}

func TestFiveThousandRowsAreSplitAndAttached(t *testing.T) {
	out := Render(engine.Reply{Status: engine.StatusOK, Title: "t", Command: "/example table", Provider: "example", Result: table(5000)})
	require.Len(t, out.Files, 1)
	f := out.Files[0]
	assert.Equal(t, "servers.csv", f.Name)
	assert.Equal(t, 5001, strings.Count(string(f.Content), "\n"), "header and every row are in the file")
	assert.True(t, strings.HasPrefix(string(f.Content), "id,name,ip,state\n1,web0001,"))
	checkLimits(t, out)
}

// A table cut only by its columns says so, not "showing 4 of 4 rows";
// one cut both ways names both.
func TestATableCutByColumnsSaysColumns(t *testing.T) {
	wide := func(rows int) *sdk.Result {
		res := sdk.NewResult()
		cols := make([]string, maxTableCols+5)
		for i := range cols {
			cols[i] = fmt.Sprint("c", i)
		}
		tb := res.AddTable("Wide", cols...)
		for r := 0; r < rows; r++ {
			row := make([]string, len(cols))
			for i := range row {
				row[i] = fmt.Sprint(r, "/", i)
			}
			tb.Row(row...)
		}
		return res
	}
	note := func(res *sdk.Result) string {
		out := Render(engine.Reply{Status: engine.StatusOK, Title: "t", Command: "/x wide", Provider: "x", Result: res})
		b, err := json.Marshal(out.Messages)
		require.NoError(t, err)
		return string(b)
	}
	got := note(wide(4))
	assert.Contains(t, got, "showing 20 of 25 columns; the whole table is attached as wide.csv")
	assert.NotContains(t, got, "4 of 4 rows")
	assert.Contains(t, note(wide(30)), "showing 20 of 30 rows and 20 of 25 columns")
}

func TestLongTextIsChunkedWithinLimits(t *testing.T) {
	long := strings.Repeat("0123456789 abcdefghij\n", 1000) // 22,000 characters
	out := Render(engine.Reply{Status: engine.StatusOK, Title: "t", Command: "/x y", Provider: "x", Result: sdk.NewResult().AddCode("", long)})
	checkLimits(t, out)
	require.Len(t, out.Files, 1)
	assert.Equal(t, long, string(out.Files[0].Content))
	many := sdk.NewResult()
	for i := 0; i < 70; i++ {
		many.AddText("part %d", i)
	}
	out = Render(engine.Reply{Status: engine.StatusOK, Title: "t", Result: many})
	checkLimits(t, out)
	assert.Len(t, out.Messages, 2, "over 50 blocks become two messages")
}

func TestApprovalCardGolden(t *testing.T) {
	v := engine.ApprovalView{ID: "AABCDEFG", RequestID: "r7", Requester: "U0BOB0001", RequesterName: "bob", Command: "/cloudflow vm rebuild web01 template=12",
		Provider: "cloudflow", Target: "sandbox", Channel: "C0SUPPORT", Risk: sdk.RiskCritical, Required: 2, Confirm: true, ConfirmValue: "web01", State: "pending",
		ExpiresAt: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC), Rule: "default for critical risk",
		Plan: &sdk.Plan{Summary: "Rebuild web01 from template 12, wiping its disk", Steps: []sdk.PlanStep{{Description: "rebuild", Method: "POST", Endpoint: "https://cp.example/virtual_machines/42/build.json", Body: `{"virtual_machine":{"template_id":12}}`}},
			Facts: []string{"web01 is machine 42", "web01 is running"}}}
	golden(t, "card_pending_critical", ApprovalCard(v))
	v.Confirm, v.Risk, v.Required = false, sdk.RiskHigh, 1
	golden(t, "card_pending_high", ApprovalCard(v))
	v.State, v.Approvers, v.ApproverIDs = "succeeded", []string{"carol"}, []string{"U0CAROL01"}
	golden(t, "card_succeeded", ApprovalCard(v))
	v.State, v.DecidedBy, v.Reason = "denied", "carol", "not during the freeze"
	golden(t, "card_denied", ApprovalCard(v))
	golden(t, "modal_confirm", confirmModal(v))
	golden(t, "modal_deny", denyModal(v))
	v.State, v.Ticket, v.TicketURL = "pending", "OPS-42", "https://desk.example/browse/OPS-42"
	golden(t, "card_pending_ticket", ApprovalCard(v))
}

// A decided card's header names the request's outcome; it never reads
// "Approval approved".
func TestApprovalCardHeaderNamesTheOutcome(t *testing.T) {
	for state, want := range map[string]string{
		"pending": "Approval needed: /x y", "approved": "Request approved: /x y", "executing": "Request approved, running: /x y",
		"succeeded": "Request succeeded: /x y", "failed": "Request failed: /x y", "denied": "Request denied: /x y",
		"expired": "Request expired: /x y", "cancelled": "Request cancelled: /x y", "unknown": "Request approved, outcome unknown: /x y",
	} {
		m := ApprovalCard(engine.ApprovalView{ID: "A1", Command: "/x y", State: state, Risk: sdk.RiskHigh, Required: 1})
		assert.Equal(t, want, m.Text, state)
		hb, ok := m.Blocks[0].(*slackgo.HeaderBlock)
		require.True(t, ok, state)
		assert.Equal(t, want, hb.Text.Text, state)
		assert.NotContains(t, m.Text, "Approval approved")
	}
}

// A plan asked for with --plan shows its steps, and a ticket is a link
// when the desk's address is configured.
func TestDryRunAndTicketRender(t *testing.T) {
	r := engine.Reply{Status: engine.StatusOK, Title: "Plan of /whm account suspend demo1 reason=abuse", Provider: "whm", Target: "web01", RequestID: "r9",
		DryRun: true, Ticket: "OPS-42", TicketURL: "https://desk.example/browse/OPS-42",
		Plan:   &sdk.Plan{Summary: "Suspend demo1 (demo1.example). Reason: abuse", Steps: []sdk.PlanStep{{Method: "POST", Endpoint: "/json-api/suspendacct?user=demo1&reason=abuse"}}},
		Result: sdk.NewResult().AddText("Plan only: nothing was approved or run; you may run it without approval. Run it without --plan to go ahead.")}
	golden(t, "reply_dry_run", Render(r).Messages)
	text := func(r engine.Reply) string {
		var b strings.Builder
		for _, m := range Render(r).Messages {
			for _, bl := range m.Blocks {
				switch bl := bl.(type) {
				case *slackgo.SectionBlock:
					b.WriteString(bl.Text.Text + "\n")
				case *slackgo.ContextBlock:
					for _, el := range bl.ContextElements.Elements {
						if tx, ok := el.(*slackgo.TextBlockObject); ok {
							b.WriteString(tx.Text + "\n")
						}
					}
				}
			}
		}
		return b.String()
	}
	assert.Contains(t, text(r), "<https://desk.example/browse/OPS-42|OPS-42>")
	assert.Contains(t, text(r), "POST /json-api/suspendacct?user=demo1&amp;reason=abuse", "the plan's steps are shown, escaped once")

	r.TicketURL = ""
	assert.Contains(t, text(r), "ticket `OPS-42`")
}

// BenchmarkRender renders a typical answer: a few values and a 50-row
// table, into Block Kit.
func BenchmarkRender(b *testing.B) {
	res := table(50)
	res.AddKeyValues("Account", "user", "demo1", "domain", "demo1.example", "plan", "basic")
	r := engine.Reply{Status: engine.StatusOK, Title: "/whm account list", Command: "/whm account list", Provider: "whm", Target: "web01", RequestID: "r1", Result: res}
	b.ReportAllocs()
	for b.Loop() {
		if out := Render(r); len(out.Messages) == 0 {
			b.Fatal("nothing rendered")
		}
	}
}

func TestACardSaysWhenItCutsTheCommandOrThePlan(t *testing.T) {
	v := engine.ApprovalView{ID: "AABCDEFG", Requester: "U0BOB0001", Command: "/whm account suspend shopco lock=true reason=abuse", Risk: sdk.RiskHigh, Required: 1, State: "pending",
		Plan: &sdk.Plan{Summary: "Suspend shopco"}}
	raw, _ := json.Marshal(ApprovalCard(v))
	assert.NotContains(t, string(raw), "cut to fit")

	v.Command = "/whm account suspend shopco lock=true note=" + strings.Repeat("n", 1900)
	v.Plan.Summary = strings.Repeat("s", 3500)
	card := ApprovalCard(v)
	raw, _ = json.Marshal(card)
	assert.Contains(t, string(raw), "The command is cut to fit the card: it has 1943 characters")
	assert.Contains(t, string(raw), "the plan is cut to fit the card")
	assert.Contains(t, string(raw), "lock=true")
	checkLimits(t, Rendered{Messages: []Message{card}})
}

// The thread's status line says each thing once.
func TestProgressStatusSaysEachThingOnce(t *testing.T) {
	assert.Equal(t, ":gear: *POWERING_OFF*  ▰▱▱▱▱▱▱▱▱▱ 16%", statusText(sdk.Progress{State: "POWERING_OFF", Percent: 16, Message: "POWERING_OFF 16%"}))
	assert.Equal(t, ":gear: queued behind IONOS's request limit, about 40 s",
		statusText(sdk.Progress{State: sdk.ProgressQueued, Percent: -1, Message: "queued behind IONOS's request limit, about 40 s"}))
}
