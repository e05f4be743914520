package siem_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/audit/audittest"
	"github.com/deskbot/deskbot/internal/audit/siem"
)

// rsyslog is a real rsyslogd on loopback, in the foreground, with its
// configuration, state and output in a temporary folder.
type rsyslog struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	out  string
	cmd  *exec.Cmd
}

func findRsyslog(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"rsyslogd", "/usr/sbin/rsyslogd"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("DESKBOT_REQUIRE_RSYSLOG") == "1" {
		t.Fatal("rsyslogd is not installed (apt-get install rsyslog) and DESKBOT_REQUIRE_RSYSLOG=1")
	}
	t.Skip("rsyslogd is not installed (apt-get install rsyslog; DESKBOT_REQUIRE_RSYSLOG=1 makes this a failure)")
	return ""
}

func newRsyslog(t *testing.T) *rsyslog {
	bin := findRsyslog(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &rsyslog{t: t, bin: bin, dir: dir, port: port, out: filepath.Join(dir, "received.log")}
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d")
template(name="raw" type="string" string="%%rawmsg%%\n")
*.* action(type="omfile" file=%q template="raw")
`, dir, port, r.out)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(conf), 0o600))
	t.Cleanup(r.stop)
	return r
}

func (r *rsyslog) start(ctx context.Context) {
	r.t.Helper()
	cmd := exec.Command(r.bin, "-n", "-f", filepath.Join(r.dir, "rsyslog.conf"), "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	log, err := os.OpenFile(filepath.Join(r.dir, "rsyslogd.out"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(r.t, err)
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(r.t, cmd.Start())
	r.cmd = cmd
	exited := make(chan struct{})
	go func() { _, _ = cmd.Process.Wait(); close(exited) }()
	// Ready when it accepts connections (an empty one carries nothing).
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(filepath.Join(r.dir, "rsyslogd.out"))
			r.t.Fatalf("rsyslogd exited at start: %s", out)
		case <-ctx.Done():
			r.t.Fatal("rsyslogd never listened")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop ends rsyslogd and waits: once it has exited, what it accepted is
// in its output file.
func (r *rsyslog) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	_ = r.cmd.Wait()
	r.cmd = nil
}

// received parses the output file.
func (r *rsyslog) received() []*rfc5424.SyslogMessage {
	r.t.Helper()
	f, err := os.Open(r.out)
	require.NoError(r.t, err)
	defer f.Close()
	var out []*rfc5424.SyslogMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	p := rfc5424.NewParser()
	for sc.Scan() {
		m, err := p.Parse(sc.Bytes())
		require.NoError(r.t, err, "line %q", sc.Text())
		out = append(out, m.(*rfc5424.SyslogMessage))
	}
	require.NoError(r.t, sc.Err())
	return out
}

// Shipping to a real rsyslog that is stopped mid-stream and started
// again: every entry arrives, each linked to the one before.
func TestRsyslogReceivesEveryEntryAcrossARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs := newRsyslog(t)
	rs.start(ctx)

	s := openStore(t)
	clock := audittest.NewClock(t0)
	sl, err := siem.NewSyslog(siem.SyslogConfig{Address: fmt.Sprintf("127.0.0.1:%d", rs.port), Hostname: "bot-1"})
	require.NoError(t, err)
	dest := attempts{Destination: sl, ch: make(chan error, 100)}
	delivered := make(chan int64, 100)
	sh, err := siem.New(s, []siem.Destination{dest}, siem.Options{Batch: 4, Clock: clock,
		Delivered: func(_ string, seq int64) { delivered <- seq }})
	require.NoError(t, err)
	l := newLog(t, s, audit.WithNotify(sh.Notify))
	runCtx, stopShipper := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sh.Run(runCtx) }()
	defer func() { stopShipper(); <-done }()

	record(t, l, 1, 10)
	waitSeq(ctx, t, delivered, 4)
	rs.stop() // mid-stream: later batches may be on their way
	record(t, l, 11, 20)
	for failed := false; !failed; {
		select {
		case err := <-dest.ch:
			failed = err != nil
		case <-ctx.Done():
			t.Fatal("shipping never noticed rsyslog was down")
		}
	}
	rs.start(ctx)
	var cursor int64
	for {
		// The shipper is asleep (backing off, or idle once caught up):
		// whatever it delivered is reported by now.
		require.True(t, clock.WaitForTimers(ctx, 1))
		for len(delivered) > 0 {
			cursor = max(cursor, <-delivered)
		}
		for len(dest.ch) > 0 {
			<-dest.ch
		}
		if cursor >= 20 {
			break
		}
		clock.Advance(time.Minute) // end the backoff
		select {
		case <-dest.ch: // the next attempt, whatever its outcome
		case <-ctx.Done():
			t.Fatal("no attempt after the backoff")
		}
	}
	rs.stop()

	byseq := map[int64]map[string]string{}
	for _, m := range rs.received() {
		require.NotNil(t, m.StructuredData)
		sd := (*m.StructuredData)[siem.SDID]
		seq, err := strconv.ParseInt(sd["seq"], 10, 64)
		require.NoError(t, err)
		byseq[seq] = sd
		assert.Equal(t, "bot-1", *m.Hostname)
	}
	for seq := int64(1); seq <= 20; seq++ {
		sd, ok := byseq[seq]
		if !assert.True(t, ok, "entry %d arrived", seq) {
			continue
		}
		if seq > 1 && byseq[seq-1] != nil {
			assert.Equal(t, byseq[seq-1]["hash"], sd["prev"], "entry %d links to entry %d", seq, seq-1)
		}
	}
}
