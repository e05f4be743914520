package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Log is the audit log on a store: each entry carries the hash of the one
// before, so changing, inserting or deleting a row breaks the chain at
// that row. With a key, entries are sealed with an HMAC ("v2:KEYID:HEX")
// that nobody without the key can recompute; without one (tests, logs
// written before keys) with plain SHA-256 (v1).
type Log struct {
	store    store.Audit
	redactor *redact.Redactor
	key      *Key
	// previous are keys the log was sealed with before a rotation: their
	// entries still verify, but only before the newer key's.
	previous []*Key
	notify   func()
}

var _ Sink = (*Log)(nil)

// Option configures a [Log].
type Option func(*Log)

// WithKey seals new entries with the audit key and verifies keyed ones.
func WithKey(k *Key) Option { return func(l *Log) { l.key = k } }

// WithPreviousKeys accepts entries sealed with keys the log used before
// the audit key was rotated. Once the log moves on from a key, an entry
// sealed with it again is tampering (a leaked old key cannot append).
func WithPreviousKeys(ks ...*Key) Option {
	return func(l *Log) { l.previous = append(l.previous, ks...) }
}

// WithNotify calls fn after every entry is stored (the SIEM shipper
// wakes up on it).
func WithNotify(fn func()) Option { return func(l *Log) { l.notify = fn } }

// NewLog returns a log writing to s. Everything recorded is scrubbed with
// r (configured secrets, key-name rules) as a last line of defence.
func NewLog(s store.Audit, r *redact.Redactor, opts ...Option) *Log {
	if r == nil {
		r = redact.New()
	}
	l := &Log{store: s, redactor: r}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Key is the log's audit key, nil if it has none.
func (l *Log) Key() *Key { return l.key }

// PublicKeys are the public keys of the audit key and the previous ones:
// checkpoints signed with any of them are accepted.
func (l *Log) PublicKeys() []PublicKey {
	var out []PublicKey
	if l.key != nil {
		out = append(out, l.key.Public())
	}
	for _, k := range l.previous {
		out = append(out, k.Public())
	}
	return out
}

func (l *Log) newChain() *chain {
	c := &chain{key: l.key, keys: map[string]*Key{}, retired: map[string]bool{}}
	for _, k := range l.previous {
		c.keys[k.ID()] = k
	}
	if l.key != nil {
		c.keys[l.key.ID()] = l.key
	}
	return c
}

// KeyMismatchError says the newest entry was sealed with a key that is
// neither the configured one nor a previous one: the key was changed by
// mistake (or the log is another deployment's).
type KeyMismatchError struct {
	Seq               int64
	SealedWith, KeyID string
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("the audit log's newest entry (%d) was sealed with audit key %s; the configured audit_key is %s: "+
		"restore the key that sealed it, or, to rotate the key on purpose, keep the old one under audit.previous_keys "+
		"(see \"Rotating the audit key\" in docs/policy.md)", e.Seq, e.SealedWith, e.KeyID)
}

// CheckKey reads the newest entry and returns a *KeyMismatchError if it
// was sealed with neither the audit key nor a previous one. rotated is
// the previous key's id when the newest entry was sealed with one (the
// next entry starts the new key's part), "" otherwise.
func (l *Log) CheckKey(ctx context.Context) (rotated string, err error) {
	if l.key == nil {
		return "", nil
	}
	var newest *store.AuditRecord
	err = l.store.ScanAudit(ctx, store.AuditFilter{Newest: true, Limit: 1}, func(r store.AuditRecord) error {
		newest = &r
		return nil
	})
	if err != nil || newest == nil {
		return "", err
	}
	id := HashKeyID(newest.Hash)
	if id == "" || id == l.key.ID() {
		return "", nil
	}
	for _, k := range l.previous {
		if k.ID() == id {
			return id, nil
		}
	}
	return "", &KeyMismatchError{Seq: newest.Seq, SealedWith: id, KeyID: l.key.ID()}
}

// Record implements [Sink].
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	rec := toRecord(e)
	rec.Args = l.redactor.String(rec.Args)
	rec.Detail = l.redactor.String(rec.Detail)
	seal := Seal
	if l.key != nil {
		seal = l.key.Seal
	}
	_, err := l.store.AppendAudit(ctx, rec, seal)
	if err == nil && l.notify != nil {
		l.notify()
	}
	return err
}

func toRecord(e Entry) store.AuditRecord {
	return store.AuditRecord{
		// The store keeps microseconds; hash what is stored.
		At:        e.Time.UTC().Truncate(time.Microsecond),
		RequestID: e.RequestID, Actor: e.Actor, Action: string(e.Action), Provider: e.Provider, Command: e.Command,
		Target: e.Target, Channel: e.Channel, Args: e.Args, Outcome: e.Outcome, Detail: e.Detail, ApprovalID: e.ApprovalID,
		Ticket: e.Ticket,
	}
}

// FromRecord converts a stored record to an entry.
func FromRecord(r store.AuditRecord) Entry {
	return Entry{
		Seq: r.Seq, Time: r.At, RequestID: r.RequestID, Actor: r.Actor, Action: Action(r.Action), Provider: r.Provider,
		Command: r.Command, Target: r.Target, Channel: r.Channel, Args: r.Args, Outcome: r.Outcome, Detail: r.Detail,
		ApprovalID: r.ApprovalID, Ticket: r.Ticket, PrevHash: r.PrevHash, Hash: r.Hash,
	}
}

// payload is a record's content and link, unambiguously framed: the
// fields as a JSON array of strings.
func payload(version string, r store.AuditRecord) []byte {
	return appendPayload(nil, version, r)
}

// appendPayload appends payload's bytes to b. It writes the strings
// encoding/json would write unchanged as they are and hands the others
// to encoding/json, so the bytes are exactly json.Marshal's: verifying
// a long log spends its time hashing, not reflecting.
func appendPayload(b []byte, version string, r store.AuditRecord) []byte {
	b = append(b, '[')
	b = appendJSONString(b, version)
	b = append(b, ',', '"')
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, '"', ',')
	b = appendJSONString(b, r.PrevHash)
	b = append(b, ',', '"')
	b = strconv.AppendInt(b, r.At.UnixMicro(), 10)
	b = append(b, '"')
	for _, f := range [...]string{r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID} {
		b = append(b, ',')
		b = appendJSONString(b, f)
	}
	if r.Ticket != "" {
		// Only entries with a ticket hash one, so every entry written
		// before tickets existed keeps its hash and verifies.
		b = append(b, ',')
		b = appendJSONString(b, "ticket")
		b = append(b, ',')
		b = appendJSONString(b, r.Ticket)
	}
	return append(b, ']')
}

// appendJSONString appends s as encoding/json encodes a string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		// What json.Marshal escapes or replaces: quotes, backslashes,
		// control characters, <, > and & (HTML-safe), and anything
		// beyond ASCII (invalid UTF-8, U+2028, U+2029).
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Hash computes a record's unkeyed (v1) hash from its content and the
// previous hash. Anyone can recompute it: only entries written before the
// audit key existed carry it.
func Hash(r store.AuditRecord) string {
	sum := sha256.Sum256(payload("deskbot-audit-v1", r))
	return hex.EncodeToString(sum[:])
}

// Seal sets a record's unkeyed (v1) hash.
func Seal(r *store.AuditRecord) { r.Hash = Hash(*r) }

// Seal sets a record's keyed (v2) hash: "v2:KEYID:HEX".
func (k *Key) Seal(r *store.AuditRecord) { r.Hash = k.seal(payload("deskbot-audit-v2", *r)) }

// HashKeyID returns the key id of a keyed hash, "" for an unkeyed one.
func HashKeyID(h string) string {
	rest, ok := strings.CutPrefix(h, "v2:")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return id
}

// chain checks records one after another: sequence, link and seal.
type chain struct {
	key *Key
	// keys are the audit key and the previous ones, by id; retired are
	// those the log has moved on from.
	keys    map[string]*Key
	retired map[string]bool
	// ranges are the keyed parts of the log, by key, oldest first.
	ranges []KeyRange
	// seq and head are the last good record's.
	seq  int64
	head string
	// keyedFrom is the first keyed entry seen (0: none yet).
	keyedFrom int64
	keyID     string

	// macs, buf, sum and hexSum are reused from one record to the next:
	// a keyed MAC's setup and the buffers cost more than its hashing.
	macs   map[string]hash.Hash
	buf    []byte
	sum    []byte
	hexSum []byte
}

// sealOK reports whether hash is the record's seal under k (keyed) or,
// with k nil, its unkeyed hash.
func (c *chain) sealOK(k *Key, r store.AuditRecord) bool {
	if k == nil {
		c.buf = appendPayload(c.buf[:0], "deskbot-audit-v1", r)
		sum := sha256.Sum256(c.buf)
		c.hexSum = hex.AppendEncode(c.hexSum[:0], sum[:])
		return r.Hash == string(c.hexSum)
	}
	m := c.macs[k.id]
	if m == nil {
		if c.macs == nil {
			c.macs = map[string]hash.Hash{}
		}
		m = hmac.New(sha256.New, k.mac)
		c.macs[k.id] = m
	}
	m.Reset()
	c.buf = appendPayload(c.buf[:0], "deskbot-audit-v2", r)
	m.Write(c.buf)
	c.sum = m.Sum(c.sum[:0])
	c.hexSum = hex.AppendEncode(c.hexSum[:0], c.sum)
	rest, ok := strings.CutPrefix(r.Hash, "v2:"+k.id+":")
	return ok && hmac.Equal([]byte(rest), c.hexSum)
}

// clone copies the chain's state, so a failed round leaves it as it was.
func (c *chain) clone() *chain {
	n := *c
	n.retired = make(map[string]bool, len(c.retired))
	for k, v := range c.retired {
		n.retired[k] = v
	}
	n.ranges = append([]KeyRange(nil), c.ranges...)
	// The MACs and buffers are scratch space: a clone gets its own.
	n.macs, n.buf, n.sum, n.hexSum = nil, nil, nil, nil
	return &n
}

// check returns what is wrong with r as the next record, "" if nothing.
func (c *chain) check(r store.AuditRecord) string {
	switch {
	case r.Seq != c.seq+1:
		if r.Seq <= c.seq {
			return fmt.Sprintf("entry %d appears again after entry %d: entries were inserted or renumbered", r.Seq, c.seq)
		}
		if c.seq+1 == r.Seq-1 {
			return fmt.Sprintf("entry %d follows entry %d: entries are missing (entry %d)", r.Seq, c.seq, c.seq+1)
		}
		return fmt.Sprintf("entry %d follows entry %d: entries are missing (%d to %d)", r.Seq, c.seq, c.seq+1, r.Seq-1)
	case r.PrevHash != c.head:
		return fmt.Sprintf("entry %d does not link to entry %d (its previous-hash field was changed, or entry %d was)", r.Seq, r.Seq-1, r.Seq-1)
	}
	if strings.HasPrefix(r.Hash, "v2:") {
		id := HashKeyID(r.Hash)
		k := c.keys[id]
		switch {
		case c.key == nil:
			return fmt.Sprintf("entry %d is sealed with audit key %s, and no audit key is configured to check it", r.Seq, id)
		case k == nil && len(c.keys) > 1:
			return fmt.Sprintf("entry %d was sealed with audit key %s, neither the configured one (%s) nor a previous one", r.Seq, id, c.key.ID())
		case k == nil:
			return fmt.Sprintf("entry %d was sealed with audit key %s, not with the configured one (%s)", r.Seq, id, c.key.ID())
		case c.retired[id]:
			last := c.ranges[len(c.ranges)-1]
			return fmt.Sprintf("entry %d was sealed with audit key %s, which the log had already moved on from (to key %s at entry %d): only someone holding the old key wrote it", r.Seq, id, last.KeyID, last.From)
		}
		if !c.sealOK(k, r) {
			return fmt.Sprintf("entry %d was altered: its content does not match its keyed hash", r.Seq)
		}
		if c.keyedFrom == 0 {
			c.keyedFrom, c.keyID = r.Seq, id
		}
		if n := len(c.ranges); n == 0 || c.ranges[n-1].KeyID != id {
			if n > 0 {
				c.retired[c.ranges[n-1].KeyID] = true
			}
			c.ranges = append(c.ranges, KeyRange{From: r.Seq, KeyID: id})
		}
		c.ranges[len(c.ranges)-1].To = r.Seq
	} else {
		if c.keyedFrom != 0 {
			return fmt.Sprintf("entry %d is unkeyed but follows keyed entries (keyed from entry %d): it was rewritten by someone without the audit key", r.Seq, c.keyedFrom)
		}
		if !c.sealOK(nil, r) {
			return fmt.Sprintf("entry %d was altered: its content does not match its hash", r.Seq)
		}
	}
	c.seq, c.head = r.Seq, r.Hash
	return ""
}

// Anchor is a hash the log must still have at a sequence number, recorded
// outside the database: a signed checkpoint, or a head an operator noted.
type Anchor struct {
	Seq  int64
	Hash string
	// Source names the anchor in messages ("checkpoint line 4 (...)").
	Source string
}

// VerifyResult is the outcome of checking the chain.
type VerifyResult struct {
	Entries int64
	// FirstBad is the sequence number of the first entry that fails, 0 if
	// none does. When the log was cut short, it is the first missing one.
	FirstBad int64
	Problem  string
	// Where says between which anchors the change lies, when anchors
	// were given.
	Where string
	// Head is the last entry's hash and HeadSeq its number: record them
	// elsewhere to detect the log being cut short.
	Head    string
	HeadSeq int64
	// KeyedFrom is the first entry sealed with the audit key (0: none);
	// KeyID names the key.
	KeyedFrom int64
	KeyID     string
	// Keys are the keyed parts of the log, oldest first: more than one
	// after the audit key was rotated.
	Keys []KeyRange
	// Anchors is how many anchors were checked.
	Anchors int
}

// KeyRange is a run of entries sealed with one audit key.
type KeyRange struct {
	From, To int64
	KeyID    string
}

// OK reports whether the chain is intact.
func (v VerifyResult) OK() bool { return v.FirstBad == 0 }

// Verify walks the whole log and reports the first entry whose hash, link
// or sequence number is wrong, or the first anchor the log no longer
// matches.
func (l *Log) Verify(ctx context.Context, anchors ...Anchor) (VerifyResult, error) {
	var res VerifyResult
	sort.SliceStable(anchors, func(i, j int) bool { return anchors[i].Seq < anchors[j].Seq })
	want := map[int64]bool{}
	for _, a := range anchors {
		want[a.Seq] = true
	}
	seen := map[int64]string{}
	c := l.newChain()
	// The store reads the next records while the chain checks these: on
	// two cores reading and hashing overlap. The records in flight are
	// bounded (verifyBatches of verifyBatch), so memory stays flat however
	// long the log.
	batches := make(chan []store.AuditRecord, verifyBatches)
	free := make(chan []store.AuditRecord, verifyBatches+2)
	var broken atomic.Bool
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for batch := range batches {
			for _, r := range batch {
				if broken.Load() {
					break
				}
				res.Entries++
				if p := c.check(r); p != "" {
					res.FirstBad, res.Problem = r.Seq, p
					broken.Store(true)
					break
				}
				if want[r.Seq] {
					seen[r.Seq] = r.Hash
				}
			}
			select {
			case free <- batch[:0]:
			default:
			}
		}
	}()
	var batch []store.AuditRecord
	err := l.store.ScanAudit(ctx, store.AuditFilter{}, func(r store.AuditRecord) error {
		if broken.Load() {
			return errStop
		}
		if batch == nil {
			select {
			case batch = <-free:
			default:
				batch = make([]store.AuditRecord, 0, verifyBatch)
			}
		}
		batch = append(batch, r)
		if len(batch) == verifyBatch {
			batches <- batch
			batch = nil
		}
		return nil
	})
	if len(batch) > 0 && err == nil {
		batches <- batch
	}
	close(batches)
	<-checked
	if err == errStop {
		err = nil
	}
	if err != nil {
		return res, err
	}
	res.Head, res.HeadSeq, res.KeyedFrom, res.KeyID, res.Keys, res.Anchors = c.head, c.seq, c.keyedFrom, c.keyID, c.ranges, len(anchors)

	// The anchors up to the break (or the head) must match what the walk
	// saw; the first that does not is the earliest evidence.
	var good *Anchor
	for i := range anchors {
		a := &anchors[i]
		if a.Seq > c.seq {
			break
		}
		if seen[a.Seq] != a.Hash {
			res.FirstBad = a.Seq
			res.Problem = fmt.Sprintf("entry %d no longer has the hash recorded by %s: the log was rewritten with its chain recomputed, or entries were deleted or inserted and renumbered", a.Seq, a.Source)
			res.Where = where(good, a)
			return res, nil
		}
		good = a
	}
	if res.FirstBad != 0 {
		// A broken chain: say which anchors bracket it.
		var next *Anchor
		for i := range anchors {
			if anchors[i].Seq >= res.FirstBad {
				next = &anchors[i]
				break
			}
		}
		if len(anchors) > 0 {
			res.Where = where(good, next)
		}
		return res, nil
	}
	// Every entry checks out; an anchor beyond the head means the tail
	// was deleted.
	if n := len(anchors); n > 0 && anchors[n-1].Seq > c.seq {
		last := anchors[n-1]
		res.FirstBad = c.seq + 1
		res.Problem = fmt.Sprintf("the log ends at entry %d, but %s vouches for %d entries: entries %d to %d were deleted (the log was cut short)", c.seq, last.Source, last.Seq, c.seq+1, last.Seq)
		res.Where = where(good, &last)
	}
	return res, nil
}

// where describes the range of entries between two anchors (either may
// be missing).
func where(before, after *Anchor) string {
	from, to := "entry 1", "the end of the log"
	if before != nil {
		from = fmt.Sprintf("entry %d (after %s, which still matches)", before.Seq+1, before.Source)
	}
	if after != nil {
		to = fmt.Sprintf("entry %d (%s)", after.Seq, after.Source)
	}
	return "the change lies between " + from + " and " + to
}

var errStop = fmt.Errorf("stop")

// Verify hands records from the store to the chain check in batches of
// verifyBatch, at most verifyBatches waiting.
const (
	verifyBatch   = 256
	verifyBatches = 4
)

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

// Record is an entry as it leaves the bot, exported (bot audit export) or
// shipped to a SIEM: stable lower-case keys, with its place in the chain.
type Record struct {
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
	Ticket     string    `json:"ticket,omitempty"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// RecordOf is a stored entry as it leaves the bot.
func RecordOf(r store.AuditRecord) Record {
	return Record{Seq: r.Seq, Time: r.At.UTC(), RequestID: r.RequestID, Actor: r.Actor, Action: r.Action, Provider: r.Provider,
		Command: r.Command, Target: r.Target, Channel: r.Channel, Args: r.Args, Outcome: r.Outcome, Detail: r.Detail,
		ApprovalID: r.ApprovalID, Ticket: r.Ticket, PrevHash: r.PrevHash, Hash: r.Hash}
}

// Export writes matching entries as JSON lines ("jsonl") or CSV ("csv").
func (l *Log) Export(ctx context.Context, f Filter, format string, w io.Writer) (int, error) {
	n := 0
	switch format {
	case "jsonl", "":
		enc := json.NewEncoder(w)
		err := l.store.ScanAudit(ctx, f, func(r store.AuditRecord) error {
			n++
			return enc.Encode(RecordOf(r))
		})
		return n, err
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"seq", "time", "request_id", "actor", "action", "provider", "command", "target", "channel", "args", "outcome", "detail", "approval_id", "prev_hash", "hash", "ticket"})
		err := l.store.ScanAudit(ctx, f, func(r store.AuditRecord) error {
			n++
			return cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.At.Format(time.RFC3339Nano), r.RequestID, r.Actor, r.Action, r.Provider, r.Command, r.Target, r.Channel, r.Args, r.Outcome, r.Detail, r.ApprovalID, r.PrevHash, r.Hash, r.Ticket})
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		return n, err
	}
	return 0, fmt.Errorf("unknown format %q (want jsonl or csv)", format)
}
