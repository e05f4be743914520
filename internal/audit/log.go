package audit

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Log is the audit log on a store: each entry carries the hash of the one
// before, so changing, inserting or deleting a row breaks the chain at
// that row.
type Log struct {
	store    store.Audit
	redactor *redact.Redactor
}

var _ Sink = (*Log)(nil)

// NewLog returns a log writing to s. Everything recorded is scrubbed with
// r (configured secrets, key-name rules) as a last line of defence.
func NewLog(s store.Audit, r *redact.Redactor) *Log {
	if r == nil {
		r = redact.New()
	}
	return &Log{store: s, redactor: r}
}

// Record implements [Sink].
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	rec := toRecord(e)
	rec.Args = l.redactor.String(rec.Args)
	rec.Detail = l.redactor.String(rec.Detail)
	_, err := l.store.AppendAudit(ctx, rec, Seal)
	return err
}

func toRecord(e Entry) store.AuditRecord {
	return store.AuditRecord{
		// The store keeps microseconds; hash what is stored.
		At:        e.Time.UTC().Truncate(time.Microsecond),
		RequestID: e.RequestID, Actor: e.Actor, Action: string(e.Action), Provider: e.Provider, Command: e.Command,
		Target: e.Target, Channel: e.Channel, Args: e.Args, Outcome: e.Outcome, Detail: e.Detail, ApprovalID: e.ApprovalID,
	}
}

// FromRecord converts a stored record to an entry.
func FromRecord(r store.AuditRecord) Entry {
	return Entry{
		Seq: r.Seq, Time: r.At, RequestID: r.RequestID, Actor: r.Actor, Action: Action(r.Action), Provider: r.Provider,
		Command: r.Command, Target: r.Target, Channel: r.Channel, Args: r.Args, Outcome: r.Outcome, Detail: r.Detail,
		ApprovalID: r.ApprovalID, PrevHash: r.PrevHash, Hash: r.Hash,
	}
}

// Hash computes a record's hash from its content and the previous hash.
func Hash(r store.AuditRecord) string {
	fields := []string{
		"deskbot-audit-v1", strconv.FormatInt(r.Seq, 10), r.PrevHash, strconv.FormatInt(r.At.UnixMicro(), 10),
		r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID,
	}
	b, _ := json.Marshal(fields) // unambiguous framing of the fields
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Seal sets a record's hash.
func Seal(r *store.AuditRecord) { r.Hash = Hash(*r) }

// VerifyResult is the outcome of checking the chain.
type VerifyResult struct {
	Entries int64
	// FirstBad is the sequence number of the first entry that fails, 0 if
	// none does.
	FirstBad int64
	Problem  string
	// Head is the last entry's hash: record it elsewhere to detect the
	// log being cut short.
	Head string
}

// OK reports whether the chain is intact.
func (v VerifyResult) OK() bool { return v.FirstBad == 0 }

// Verify walks the whole log and reports the first entry whose hash, link
// or sequence number is wrong.
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	prev := ""
	var expect int64 = 1
	err := l.store.ScanAudit(ctx, store.AuditFilter{}, func(r store.AuditRecord) error {
		res.Entries++
		switch {
		case r.Seq != expect:
			res.FirstBad, res.Problem = r.Seq, fmt.Sprintf("entry %d follows entry %d: entries are missing", r.Seq, expect-1)
		case r.PrevHash != prev:
			res.FirstBad, res.Problem = r.Seq, fmt.Sprintf("entry %d does not link to entry %d (its previous-hash field was changed, or entry %d was)", r.Seq, r.Seq-1, r.Seq-1)
		case Hash(r) != r.Hash:
			res.FirstBad, res.Problem = r.Seq, fmt.Sprintf("entry %d was altered: its content does not match its hash", r.Seq)
		}
		if res.FirstBad != 0 {
			return errStop
		}
		prev, expect = r.Hash, r.Seq+1
		res.Head = r.Hash
		return nil
	})
	if err == errStop {
		err = nil
	}
	return res, err
}

var errStop = fmt.Errorf("stop")

// Filter selects entries for search and export.
type Filter = store.AuditFilter

// Search returns matching entries, oldest first, at most f.Limit (100 if 0).
func (l *Log) Search(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	var out []Entry
	err := l.store.ScanAudit(ctx, f, func(r store.AuditRecord) error {
		out = append(out, FromRecord(r))
		return nil
	})
	return out, err
}

// jsonEntry is the export format: stable lower-case keys.
type jsonEntry struct {
	Seq        int64     `json:"seq"`
	Time       time.Time `json:"time"`
	RequestID  string    `json:"request_id"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Provider   string    `json:"provider,omitempty"`
	Command    string    `json:"command,omitempty"`
	Target     string    `json:"target,omitempty"`
	Channel    string    `json:"channel,omitempty"`
	Args       string    `json:"args,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	ApprovalID string    `json:"approval_id,omitempty"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// Export writes matching entries as JSON lines ("jsonl") or CSV ("csv").
func (l *Log) Export(ctx context.Context, f Filter, format string, w io.Writer) (int, error) {
	n := 0
	switch format {
	case "jsonl", "":
		enc := json.NewEncoder(w)
		err := l.store.ScanAudit(ctx, f, func(r store.AuditRecord) error {
			n++
			return enc.Encode(jsonEntry{r.Seq, r.At, r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID, r.PrevHash, r.Hash})
		})
		return n, err
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"seq", "time", "request_id", "actor", "action", "provider", "command", "target", "channel", "args", "outcome", "detail", "approval_id", "prev_hash", "hash"})
		err := l.store.ScanAudit(ctx, f, func(r store.AuditRecord) error {
			n++
			return cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.At.Format(time.RFC3339Nano), r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID, r.PrevHash, r.Hash})
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		return n, err
	}
	return 0, fmt.Errorf("unknown format %q (want jsonl or csv)", format)
}
