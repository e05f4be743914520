package audit

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/deskbot/deskbot/internal/store"
)

// The payload a seal covers must stay byte for byte what json.Marshal
// wrote when the log's entries were sealed, or every old entry would
// fail to verify.
func FuzzPayloadMatchesJSON(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\r\x00\x1f\x7f", "héllo", "\u2028\u2029", "bad \xff utf-8", `{"user":"shop0042"}`} {
		f.Add(s, int64(42))
	}
	f.Fuzz(func(t *testing.T, s string, seq int64) {
		// Odd sequence numbers carry a ticket: entries with one hash it
		// after the other fields, entries without hash as they always did.
		ticket := ""
		if seq%2 != 0 {
			ticket = s
		}
		r := store.AuditRecord{Seq: seq, PrevHash: s, At: time.UnixMicro(seq).UTC(), RequestID: s, Actor: "U0ALICE01", Action: "result",
			Provider: s, Command: "account suspend", Target: s, Channel: "C1", Args: s, Outcome: "succeeded", Detail: s, ApprovalID: s, Ticket: ticket}
		fields := []string{"deskbot-audit-v2", strconv.FormatInt(r.Seq, 10), r.PrevHash, strconv.FormatInt(r.At.UnixMicro(), 10),
			r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID}
		if ticket != "" {
			fields = append(fields, "ticket", ticket)
		}
		want, _ := json.Marshal(fields)
		if got := payload("deskbot-audit-v2", r); string(got) != string(want) {
			t.Fatalf("payload differs from json.Marshal:\n got %s\nwant %s", got, want)
		}
	})
}
