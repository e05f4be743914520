package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/internal/store"
)

// Checkpoint vouches, outside the database, for the log's head at a
// moment: its sequence number and hash, signed with the Ed25519 key
// derived from the audit key. Deleting the tail, deleting a middle entry
// or rewriting entries with the chain recomputed all change what the log
// holds at a checkpoint's sequence number.
type Checkpoint struct {
	Seq   int64
	Head  string
	Time  time.Time
	KeyID string
	Sig   []byte
}

// CheckpointType marks a checkpoint's JSON line.
const CheckpointType = "deskbot.audit.checkpoint"

type checkpointJSON struct {
	Type  string `json:"type"`
	Seq   int64  `json:"seq"`
	Head  string `json:"head"`
	Time  string `json:"time"`
	KeyID string `json:"key_id"`
	Sig   string `json:"sig"`
}

func signedBytes(seq int64, head, at, keyID string) []byte {
	b, _ := json.Marshal([]any{"deskbot-audit-checkpoint-v1", seq, head, at, keyID})
	return b
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// SignCheckpoint makes a checkpoint of the head seq/head at t.
func (k *Key) SignCheckpoint(seq int64, head string, t time.Time) Checkpoint {
	t = t.UTC().Truncate(time.Microsecond)
	sig := ed25519.Sign(k.sign, signedBytes(seq, head, formatTime(t), k.id))
	return Checkpoint{Seq: seq, Head: head, Time: t, KeyID: k.id, Sig: sig}
}

// MarshalJSON writes the checkpoint's line (without the newline).
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointJSON{Type: CheckpointType, Seq: c.Seq, Head: c.Head, Time: formatTime(c.Time), KeyID: c.KeyID,
		Sig: base64.StdEncoding.EncodeToString(c.Sig)})
}

// Line is the checkpoint as one JSON line, newline included.
func (c Checkpoint) Line() []byte {
	b, _ := c.MarshalJSON()
	return append(b, '\n')
}

// Source names a checkpoint in messages: its line in the file and time.
func checkpointSource(line int, c Checkpoint) string {
	return fmt.Sprintf("checkpoint line %d (%s, entry %d)", line, c.Time.Format("2006-01-02 15:04:05Z07:00"), c.Seq)
}

// CheckedCheckpoint is a checkpoint read from a file whose signature
// verified, with its line number.
type CheckedCheckpoint struct {
	Line int
	Checkpoint
}

// Anchor is what the log must hold at the checkpoint.
func (c CheckedCheckpoint) Anchor() Anchor {
	return Anchor{Seq: c.Seq, Hash: c.Head, Source: checkpointSource(c.Line, c.Checkpoint)}
}

// BadLine is a line of a checkpoint file that cannot be trusted.
type BadLine struct {
	Line    int
	Problem string
}

func (b BadLine) String() string { return fmt.Sprintf("line %d: %s", b.Line, b.Problem) }

// ReadCheckpoints reads checkpoint lines (JSON lines; a line may carry a
// prefix such as a syslog header before the JSON) and checks each one's
// signature with pub, or with one of the previous keys' older (after a
// rotation). Lines that fail are returned as bad, by number.
func ReadCheckpoints(r io.Reader, pub PublicKey, older ...PublicKey) ([]CheckedCheckpoint, []BadLine, error) {
	var good []CheckedCheckpoint
	var bad []BadLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if i := strings.Index(line, `{"type":"`+CheckpointType+`"`); i > 0 {
			line = line[i:]
		}
		cp, problem := parseCheckpoint(line, pub, older)
		if problem != "" {
			bad = append(bad, BadLine{Line: n, Problem: problem})
			continue
		}
		good = append(good, CheckedCheckpoint{Line: n, Checkpoint: cp})
	}
	if err := sc.Err(); err != nil {
		return good, bad, fmt.Errorf("line %d: %w", n+1, err)
	}
	return good, bad, nil
}

func parseCheckpoint(line string, pub PublicKey, older []PublicKey) (Checkpoint, string) {
	var j checkpointJSON
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil || j.Type != CheckpointType {
		return Checkpoint{}, "not a checkpoint"
	}
	at, err := time.Parse(time.RFC3339Nano, j.Time)
	if j.Seq <= 0 || j.Head == "" || j.KeyID == "" || err != nil {
		return Checkpoint{}, "not a checkpoint: its sequence, head, time or key id is missing or malformed"
	}
	key, ok := pub, j.KeyID == pub.ID()
	for _, o := range older {
		if !ok && j.KeyID == o.ID() {
			key, ok = o, true
		}
	}
	if !ok && len(older) > 0 {
		return Checkpoint{}, fmt.Sprintf("signed with audit key %s, neither the configured one (%s) nor a previous one", j.KeyID, pub.ID())
	}
	if !ok {
		return Checkpoint{}, fmt.Sprintf("signed with audit key %s, not with the configured one (%s)", j.KeyID, pub.ID())
	}
	sig, err := base64.StdEncoding.DecodeString(j.Sig)
	if err != nil || !ed25519.Verify(key.key, signedBytes(j.Seq, j.Head, j.Time, j.KeyID), sig) {
		return Checkpoint{}, "its signature does not verify: the line was altered or forged"
	}
	return Checkpoint{Seq: j.Seq, Head: j.Head, Time: at, KeyID: j.KeyID, Sig: sig}, ""
}

// CheckpointSink keeps checkpoints somewhere the database's users cannot
// rewrite: a file, a syslog server, a webhook.
type CheckpointSink interface {
	// Name identifies the sink in logs (never with a secret).
	Name() string
	WriteCheckpoint(ctx context.Context, c Checkpoint) error
}

// FileSink appends checkpoints to a file as JSON lines.
type FileSink struct {
	Path string
	mu   sync.Mutex
}

// Name implements [CheckpointSink].
func (f *FileSink) Name() string { return "file " + f.Path }

// WriteCheckpoint implements [CheckpointSink]: one line, appended and
// synced before it returns.
func (f *FileSink) WriteCheckpoint(_ context.Context, c Checkpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return err
	}
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	if _, err := file.Write(c.Line()); err != nil {
		file.Close()
		return err
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// LastCheckpoint returns the file's last checkpoint signed with one of
// pubs (false if none), read from the file's end, so a restarted bot
// does not write the same checkpoint again and can check that the log
// still holds what it vouched for.
func (f *FileSink) LastCheckpoint(pubs ...PublicKey) (Checkpoint, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(pubs) == 0 {
		return Checkpoint{}, false
	}
	file, err := os.Open(f.Path)
	if err != nil {
		return Checkpoint{}, false
	}
	defer file.Close()
	const tail = 64 << 10
	if st, err := file.Stat(); err == nil && st.Size() > tail {
		_, _ = file.Seek(st.Size()-tail, io.SeekStart)
	}
	good, _, _ := ReadCheckpoints(file, pubs[0], pubs[1:]...)
	var last Checkpoint
	for _, g := range good {
		if g.Seq >= last.Seq {
			last = g.Checkpoint
		}
	}
	return last, last.Seq > 0
}

// CheckpointerOptions configures a [Checkpointer].
type CheckpointerOptions struct {
	// Interval between checkpoints (default 5m).
	Interval time.Duration
	Sinks    []CheckpointSink
	Clock    Clock
	Logger   *slog.Logger
	// Written, if set, is called after each checkpoint is signed, with the
	// sinks' joined error (tests wait on it).
	Written func(Checkpoint, error)
}

// Checkpointer signs a checkpoint of the log's head at an interval and on
// Close, when the log grew. Before signing it checks the entries since
// its last checkpoint (all of them, the first time), so it never vouches
// for a broken chain.
type Checkpointer struct {
	log  *Log
	opts CheckpointerOptions

	mu sync.Mutex
	// verified is the chain checked so far.
	verified *chain
	// written is the last sequence number each sink holds.
	written map[string]int64
	broken  string
	// last is the newest checkpoint signed (or found in a file sink at
	// start): the log must still hold its head before another is signed.
	last *Checkpoint
	// cut, once the log no longer holds last's head, is why no checkpoint
	// is signed again.
	cut error
}

// NewCheckpointer returns a checkpointer of l, which must have a key.
func NewCheckpointer(l *Log, o CheckpointerOptions) (*Checkpointer, error) {
	if l.key == nil {
		return nil, errors.New("checkpoints need an audit key")
	}
	if len(o.Sinks) == 0 {
		return nil, errors.New("checkpoints need at least one sink")
	}
	if o.Interval <= 0 {
		o.Interval = 5 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Checkpointer{log: l, opts: o, written: map[string]int64{}}
	for _, s := range o.Sinks {
		if r, ok := s.(interface {
			LastCheckpoint(...PublicKey) (Checkpoint, bool)
		}); ok {
			if cp, ok := r.LastCheckpoint(l.PublicKeys()...); ok {
				c.written[s.Name()] = cp.Seq
				if c.last == nil || cp.Seq > c.last.Seq {
					c.last = &cp
				}
			}
		}
	}
	return c, nil
}

// Run checks at once that the log still holds the last checkpoint's
// head, then writes checkpoints every interval until ctx ends.
func (c *Checkpointer) Run(ctx context.Context) {
	c.mu.Lock()
	_ = c.checkLast(ctx) // logged
	c.mu.Unlock()
	for sleep(c.opts.Clock, ctx.Done(), c.opts.Interval) {
		_, _, _ = c.Checkpoint(ctx)
	}
}

// Close writes a last checkpoint if the log grew since the one before.
func (c *Checkpointer) Close(ctx context.Context) error {
	_, _, err := c.Checkpoint(ctx)
	return err
}

// Checkpoint checks the new entries and, if the log grew, signs its head
// and writes it to every sink that does not hold it yet. It reports
// whether a checkpoint was signed.
func (c *Checkpointer) Checkpoint(ctx context.Context) (Checkpoint, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkLast(ctx); err != nil {
		return Checkpoint{}, false, err
	}
	ch := c.verified
	if ch == nil {
		ch = c.log.newChain()
	}
	next := ch.clone()
	problem := ""
	err := c.log.store.ScanAudit(ctx, store.AuditFilter{AfterSeq: next.seq}, func(r store.AuditRecord) error {
		if p := next.check(r); p != "" {
			problem = p
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return Checkpoint{}, false, fmt.Errorf("audit checkpoint: read the log: %w", err)
	}
	if problem != "" {
		if problem != c.broken {
			c.opts.Logger.Error("audit chain is broken: no checkpoint signed", "problem", problem)
			c.broken = problem
		}
		return Checkpoint{}, false, fmt.Errorf("audit chain is broken, no checkpoint signed: %s", problem)
	}
	c.broken = ""
	c.verified = next
	if next.seq == 0 {
		return Checkpoint{}, false, nil
	}
	var due []CheckpointSink
	for _, s := range c.opts.Sinks {
		if c.written[s.Name()] < next.seq {
			due = append(due, s)
		}
	}
	if len(due) == 0 {
		return Checkpoint{}, false, nil // the log did not grow
	}
	cp := c.log.key.SignCheckpoint(next.seq, next.head, c.opts.Clock.Now())
	c.last = &cp
	var errs []error
	for _, s := range due {
		if err := s.WriteCheckpoint(ctx, cp); err != nil {
			c.opts.Logger.Warn("audit checkpoint not written: the sink will get the next one", "sink", s.Name(), "seq", cp.Seq, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
			continue
		}
		c.written[s.Name()] = cp.Seq
	}
	err = errors.Join(errs...)
	if c.opts.Written != nil {
		c.opts.Written(cp, err)
	}
	return cp, true, err
}

// checkLast checks that the log still holds the head of the last
// checkpoint (and of the chain checked since): if the entry at its
// sequence number is gone or has another hash, the log was cut short or
// rewritten, and signing its new head would vouch for the change. The
// checkpointer then refuses to sign, for good, and says so once.
func (c *Checkpointer) checkLast(ctx context.Context) error {
	if c.cut != nil {
		return c.cut
	}
	if c.last == nil {
		return nil
	}
	type anchor struct {
		seq  int64
		head string
	}
	anchors := []anchor{{c.last.Seq, c.last.Head}}
	if v := c.verified; v != nil && v.seq != c.last.Seq && v.seq > 0 {
		anchors = append(anchors, anchor{v.seq, v.head})
	}
	for _, a := range anchors {
		var found *store.AuditRecord
		var headSeq int64
		err := c.log.store.ScanAudit(ctx, store.AuditFilter{AfterSeq: a.seq - 1, Limit: 1}, func(r store.AuditRecord) error {
			found = &r
			return nil
		})
		if err != nil {
			return fmt.Errorf("audit checkpoint: read the log: %w", err)
		}
		problem := ""
		switch {
		case found == nil || found.Seq != a.seq:
			err := c.log.store.ScanAudit(ctx, store.AuditFilter{Newest: true, Limit: 1}, func(r store.AuditRecord) error {
				headSeq = r.Seq
				return nil
			})
			if err != nil {
				return fmt.Errorf("audit checkpoint: read the log: %w", err)
			}
			if headSeq < a.seq {
				problem = fmt.Sprintf("the log ends at entry %d, but the checkpoint vouched for %d entries", headSeq, a.seq)
			} else {
				problem = fmt.Sprintf("entry %d is gone", a.seq)
			}
		case found.Hash != a.head:
			problem = fmt.Sprintf("entry %d no longer has the hash the checkpoint vouched for", a.seq)
		}
		if problem != "" {
			c.cut = fmt.Errorf("the audit log was cut or rewritten since checkpoint %d (signed %s): %s; no checkpoint will be signed over it: run bot audit verify",
				c.last.Seq, c.last.Time.Format("2006-01-02 15:04:05Z07:00"), problem)
			c.opts.Logger.Error(c.cut.Error(), "checkpoint", c.last.Seq)
			return c.cut
		}
	}
	return nil
}
