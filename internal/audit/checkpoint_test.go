package audit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/audit/audittest"
	"github.com/deskbot/deskbot/internal/testbin"
)

// memSink keeps checkpoints, or fails while down.
type memSink struct {
	name string
	mu   sync.Mutex
	got  []audit.Checkpoint
	down bool
}

func (m *memSink) Name() string { return m.name }

func (m *memSink) WriteCheckpoint(_ context.Context, c audit.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errors.New("connection refused")
	}
	m.got = append(m.got, c)
	return nil
}

func (m *memSink) seqs() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for _, c := range m.got {
		out = append(out, c.Seq)
	}
	return out
}

func TestCheckpointsAreWrittenAtTheIntervalWhenTheLogGrew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := mustKey(t, secret)
	l := audit.NewLog(openStore(t), nil, audit.WithKey(k))
	clock := audittest.NewClock(t0)
	file := &audit.FileSink{Path: filepath.Join(t.TempDir(), "cp.jsonl")}
	mem := &memSink{name: "mem"}
	written := make(chan audit.Checkpoint, 10)
	cp, err := audit.NewCheckpointer(l, audit.CheckpointerOptions{Interval: time.Minute, Clock: clock, Sinks: []audit.CheckpointSink{file, mem},
		Written: func(c audit.Checkpoint, _ error) { written <- c }})
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); cp.Run(ctx) }()

	tick := func() {
		// The loop is asleep on its timer; wake it, and wait until it
		// sleeps again: it has then finished this round.
		require.True(t, clock.WaitForTimers(ctx, 1))
		clock.Advance(time.Minute)
		require.True(t, clock.WaitForTimers(ctx, 1))
	}
	record(t, l, 1, 3)
	tick()
	c := <-written
	assert.Equal(t, int64(3), c.Seq)
	assert.Equal(t, t0.Add(time.Minute), c.Time)
	assert.Equal(t, k.ID(), c.KeyID)

	tick() // nothing new: no checkpoint
	record(t, l, 4, 4)
	tick()
	assert.Equal(t, int64(4), (<-written).Seq)
	assert.Equal(t, []int64{3, 4}, mem.seqs())
	cancel()
	<-done

	record(t, l, 5, 6)
	require.NoError(t, cp.Close(context.Background()), "close writes the last one")
	require.NoError(t, cp.Close(context.Background()))
	assert.Equal(t, []int64{3, 4, 6}, mem.seqs(), "a second close has nothing new")

	f, err := os.Open(file.Path)
	require.NoError(t, err)
	defer f.Close()
	good, bad, err := audit.ReadCheckpoints(f, k.Public())
	require.NoError(t, err)
	assert.Empty(t, bad)
	require.Len(t, good, 3)
	assert.Equal(t, 3, good[2].Line)
	var anchors []audit.Anchor
	for _, g := range good {
		anchors = append(anchors, g.Anchor())
	}
	res, err := l.Verify(context.Background(), anchors...)
	require.NoError(t, err)
	assert.True(t, res.OK(), res.Problem)
}

func TestNoCheckpointForABrokenChain(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	l := audit.NewLog(s, nil, audit.WithKey(mustKey(t, secret)))
	mem := &memSink{name: "mem"}
	cp, err := audit.NewCheckpointer(l, audit.CheckpointerOptions{Clock: audittest.NewClock(t0), Sinks: []audit.CheckpointSink{mem}})
	require.NoError(t, err)
	record(t, l, 1, 3)
	_, ok, err := cp.Checkpoint(ctx)
	require.NoError(t, err)
	require.True(t, ok)

	record(t, l, 4, 5)
	require.NoError(t, s.Exec(ctx, `UPDATE audit_log SET detail = 'x' WHERE seq = 4`))
	_, ok, err = cp.Checkpoint(ctx)
	require.Error(t, err)
	assert.False(t, ok)
	assert.Contains(t, err.Error(), "entry 4 was altered")
	assert.Equal(t, []int64{3}, mem.seqs(), "nothing signed past the break")
}

// A sink that is down misses nothing for good: it gets the newest
// checkpoint once it is back, even if the log did not grow meanwhile.
func TestACheckpointSinkThatIsDownCatchesUp(t *testing.T) {
	ctx := context.Background()
	l := audit.NewLog(openStore(t), nil, audit.WithKey(mustKey(t, secret)))
	up, down := &memSink{name: "up"}, &memSink{name: "down", down: true}
	cp, err := audit.NewCheckpointer(l, audit.CheckpointerOptions{Clock: audittest.NewClock(t0), Sinks: []audit.CheckpointSink{up, down}})
	require.NoError(t, err)
	record(t, l, 1, 2)
	_, _, err = cp.Checkpoint(ctx)
	require.Error(t, err)
	assert.Equal(t, "down: connection refused", err.Error())
	down.mu.Lock()
	down.down = false
	down.mu.Unlock()
	_, ok, err := cp.Checkpoint(ctx)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []int64{2}, up.seqs(), "the sink that had it is not sent it twice")
	assert.Equal(t, []int64{2}, down.seqs())
}

func TestBadCheckpointLinesAreNamed(t *testing.T) {
	k := mustKey(t, secret)
	other := mustKey(t, "another-key-0123456789")
	good := k.SignCheckpoint(7, "v2:abc:def", t0)
	altered := strings.Replace(string(good.Line()), `"seq":7`, `"seq":9`, 1)
	forged := k.SignCheckpoint(7, "v2:abc:def", t0)
	forged.Sig = bytes.Repeat([]byte{1}, len(forged.Sig))
	input := string(good.Line()) + "\n" + altered + string(forged.Line()) + string(other.SignCheckpoint(7, "h", t0).Line()) +
		"hello world\n" + `{"type":"something else"}` + "\n" +
		"<14>1 2026-11-27T09:00:00Z host deskbot - checkpoint - " + string(good.Line())
	got, bad, err := audit.ReadCheckpoints(strings.NewReader(input), k.Public())
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, 1, got[0].Line)
	assert.Equal(t, 8, got[1].Line, "a checkpoint forwarded through syslog still reads")
	var lines []string
	for _, b := range bad {
		lines = append(lines, b.String())
	}
	assert.Equal(t, []string{
		"line 3: its signature does not verify: the line was altered or forged",
		"line 4: its signature does not verify: the line was altered or forged",
		"line 5: signed with audit key " + other.ID() + ", not with the configured one (" + k.ID() + ")",
		"line 6: not a checkpoint",
		"line 7: not a checkpoint",
	}, lines)
}

// syncBuffer collects output several goroutines write while the test reads it.
type syncBuffer = testbin.Buffer

// A cut tail followed by new entries reuses the cut sequence numbers: the
// chain of the new log is intact, so only the last checkpoint's head can
// tell. The checkpointer refuses to vouch for it, running or restarted.
func TestNoCheckpointOverACutTailFollowedByNewEntries(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		newEntries int
		want       string
	}{
		"more new entries than were cut":  {5, "entry 20 no longer has the hash the checkpoint vouched for"},
		"fewer new entries than were cut": {2, "the log ends at entry 18, but the checkpoint vouched for 20 entries"},
	} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			l := audit.NewLog(s, nil, audit.WithKey(mustKey(t, secret)))
			file := &audit.FileSink{Path: filepath.Join(t.TempDir(), "cp.jsonl")}
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			cp, err := audit.NewCheckpointer(l, audit.CheckpointerOptions{Clock: audittest.NewClock(t0), Sinks: []audit.CheckpointSink{file}, Logger: logger})
			require.NoError(t, err)
			record(t, l, 1, 20)
			c, ok, err := cp.Checkpoint(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, int64(20), c.Seq)

			require.NoError(t, s.Exec(ctx, `DELETE FROM audit_log WHERE seq >= 17`))
			record(t, l, 21, 20+tc.newEntries)
			res, err := l.Verify(ctx)
			require.NoError(t, err)
			require.True(t, res.OK(), "the new chain is intact on its own")

			for range 2 {
				_, ok, err = cp.Checkpoint(ctx)
				assert.False(t, ok, "no checkpoint over the rewritten log")
				require.Error(t, err)
				assert.Contains(t, err.Error(), "the audit log was cut or rewritten since checkpoint 20")
				assert.Contains(t, err.Error(), tc.want)
			}
			assert.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), logs.String())
			assert.Contains(t, logs.String(), "cut or rewritten since checkpoint 20")
			assert.NotContains(t, logs.String(), "does not link to entry", "not the misleading message")

			// Restarted: the file's last checkpoint is the anchor.
			var logs2 syncBuffer
			again, err := audit.NewCheckpointer(l, audit.CheckpointerOptions{Clock: audittest.NewClock(t0), Sinks: []audit.CheckpointSink{file},
				Logger: slog.New(slog.NewTextHandler(&logs2, nil))})
			require.NoError(t, err)
			_, ok, err = again.Checkpoint(ctx)
			assert.False(t, ok)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cut or rewritten since checkpoint 20")
			assert.Contains(t, logs2.String(), "level=ERROR")
			f, err := os.Open(file.Path)
			require.NoError(t, err)
			defer f.Close()
			good, _, err := audit.ReadCheckpoints(f, l.Key().Public())
			require.NoError(t, err)
			assert.Len(t, good, 1, "nothing signed after the cut")
		})
	}
}
