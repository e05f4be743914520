package siem_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/octetcounting"
	"github.com/leodido/go-syslog/v4/rfc5424"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/audit/audittest"
	"github.com/deskbot/deskbot/internal/audit/siem"
	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/sqldb"
	"github.com/deskbot/deskbot/internal/store/sqlite"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

const tokenCanary = "webhook-token-canary-7f3a9c"

func openStore(t *testing.T) *sqldb.DB {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func newLog(t *testing.T, s store.Audit, opts ...audit.Option) *audit.Log {
	k, err := audit.NewKey([]byte("siem-test-audit-key-0123456789"))
	require.NoError(t, err)
	return audit.NewLog(s, nil, append([]audit.Option{audit.WithKey(k)}, opts...)...)
}

func record(t *testing.T, l *audit.Log, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		require.NoError(t, l.Record(context.Background(), audit.Entry{Time: t0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("r%d", i),
			Actor: "U0ALICE", Action: audit.ActionRequest, Provider: "whm", Command: "account suspend", Detail: fmt.Sprint("entry ", i)}))
	}
}

// receiver is a syslog server on loopback: it reads each connection to
// its end, parses the octet-counted RFC 5424 frames, then closes, as
// rsyslog does.
type receiver struct {
	ln    net.Listener
	mu    sync.Mutex
	msgs  []*rfc5424.SyslogMessage
	reset atomic.Bool
}

func listen(t *testing.T, cfg *tls.Config) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	r := &receiver{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go r.serve()
	return r
}

func (r *receiver) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if r.reset.Load() {
				// Die without reading: the sender must not count it.
				raw := c
				if tc, ok := c.(*tls.Conn); ok {
					raw = tc.NetConn()
				}
				_ = raw.(*net.TCPConn).SetLinger(0)
				return
			}
			b, err := io.ReadAll(c)
			if err != nil {
				return
			}
			var got []*rfc5424.SyslogMessage
			octetcounting.NewParser(syslog.WithListener(func(res *syslog.Result) {
				if res.Error == nil {
					got = append(got, res.Message.(*rfc5424.SyslogMessage))
				}
			})).Parse(bytes.NewReader(b))
			r.mu.Lock()
			r.msgs = append(r.msgs, got...)
			r.mu.Unlock()
		}()
	}
}

func (r *receiver) messages() []*rfc5424.SyslogMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*rfc5424.SyslogMessage(nil), r.msgs...)
}

func recordsOf(t *testing.T, s store.Audit) []store.AuditRecord {
	var out []store.AuditRecord
	require.NoError(t, s.ScanAudit(context.Background(), store.AuditFilter{}, func(r store.AuditRecord) error { out = append(out, r); return nil }))
	return out
}

func TestSyslogMessagesAreRFC5424WithEscapedStructuredData(t *testing.T) {
	ctx := context.Background()
	rcv := listen(t, nil)
	sl, err := siem.NewSyslog(siem.SyslogConfig{Address: rcv.ln.Addr().String(), Hostname: "bot-1", Facility: 13})
	require.NoError(t, err)
	s := openStore(t)
	l := newLog(t, s)
	require.NoError(t, l.Record(ctx, audit.Entry{Time: t0, RequestID: "r1", Actor: `U0"odd]\actor`, Action: audit.ActionResult, Outcome: "failed",
		Detail: "line one\nline two"}))
	record(t, l, 2, 3)
	recs := recordsOf(t, s)
	require.NoError(t, sl.Deliver(ctx, recs), "delivered means the receiver read it all and closed")
	msgs := rcv.messages()
	require.Len(t, msgs, 3)
	m := msgs[0]
	assert.Equal(t, uint8(13*8+6), *m.Priority)
	assert.Equal(t, "bot-1", *m.Hostname)
	assert.Equal(t, "deskbot", *m.Appname)
	assert.Equal(t, "audit", *m.MsgID)
	assert.Equal(t, t0, m.Timestamp.UTC())
	sd := (*m.StructuredData)[siem.SDID]
	assert.Equal(t, `U0"odd]\actor`, sd["actor"], "escaped, not dropped")
	assert.Equal(t, "1", sd["seq"])
	assert.Equal(t, "", sd["prev"])
	assert.Equal(t, recs[0].Hash, sd["hash"])
	var rec audit.Record
	require.NoError(t, json.Unmarshal([]byte(*m.Message), &rec))
	assert.Equal(t, "line one\nline two", rec.Detail)
	assert.Equal(t, recs[1].PrevHash, (*msgs[1].StructuredData)[siem.SDID]["prev"], "the receiver sees each link")
}

func TestSyslogRefusesWhatTheFormatWouldDrop(t *testing.T) {
	for name, cfg := range map[string]siem.SyslogConfig{
		"hostname with a space": {Address: "127.0.0.1:514", Hostname: "bad host"},
		"app name too long":     {Address: "127.0.0.1:514", AppName: strings.Repeat("a", 49)},
		"facility":              {Address: "127.0.0.1:514", Facility: 24},
		"no port":               {Address: "siem.example"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := siem.NewSyslog(cfg)
			assert.Error(t, err)
		})
	}
}

func TestSyslogReceiverThatDoesNotConfirmIsNotCountedDelivered(t *testing.T) {
	rcv := listen(t, nil)
	rcv.reset.Store(true)
	s := openStore(t)
	record(t, newLog(t, s), 1, 2)
	sl, err := siem.NewSyslog(siem.SyslogConfig{Address: rcv.ln.Addr().String()})
	require.NoError(t, err)
	assert.Error(t, sl.Deliver(context.Background(), recordsOf(t, s)))
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "siem.test"}, DNSNames: []string{"siem.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestSyslogOverTLS(t *testing.T) {
	ctx := context.Background()
	cert, pool := selfSigned(t)
	rcv := listen(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	s := openStore(t)
	record(t, newLog(t, s), 1, 4)
	sl, err := siem.NewSyslog(siem.SyslogConfig{Address: rcv.ln.Addr().String(), TLS: &tls.Config{RootCAs: pool, ServerName: "siem.test"}})
	require.NoError(t, err)
	require.NoError(t, sl.Deliver(ctx, recordsOf(t, s)))
	assert.Len(t, rcv.messages(), 4)

	untrusted, err := siem.NewSyslog(siem.SyslogConfig{Address: rcv.ln.Addr().String(), TLS: &tls.Config{ServerName: "siem.test"}})
	require.NoError(t, err)
	err = untrusted.Deliver(ctx, recordsOf(t, s))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tls")
	assert.Len(t, rcv.messages(), 4, "nothing more arrived")
}

// attempts wraps a destination and reports every attempt's outcome.
type attempts struct {
	siem.Destination
	ch chan error
}

func (a attempts) Deliver(ctx context.Context, recs []store.AuditRecord) error {
	err := a.Destination.Deliver(ctx, recs)
	a.ch <- err
	return err
}

// A webhook that is down: one warning, backoff on the fake clock, and
// when it is back every entry arrives, in order, each once its batch is
// confirmed; the token never reaches a log.
func TestAReceiverThatIsDownLosesNoEntry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var down atomic.Bool
	var mu sync.Mutex
	var got []audit.Record
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tokenCanary || r.Header.Get("Content-Type") != "application/x-ndjson" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		if down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		dec := json.NewDecoder(r.Body)
		mu.Lock()
		defer mu.Unlock()
		for {
			var rec audit.Record
			if err := dec.Decode(&rec); err != nil {
				break
			}
			got = append(got, rec)
		}
	}))
	defer srv.Close()
	wh, err := siem.NewWebhook(siem.WebhookConfig{URL: srv.URL + "/ingest?tenant=desk", Token: tokenCanary, Client: srv.Client()})
	require.NoError(t, err)
	assert.Equal(t, "webhook:"+srv.URL+"/ingest", wh.Name(), "no query in the name")

	s := openStore(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	clock := audittest.NewClock(t0)
	dest := attempts{Destination: wh, ch: make(chan error, 100)}
	delivered := make(chan int64, 100)
	type step struct {
		behind int64
		failed bool
	}
	var progMu sync.Mutex
	var progress []step
	// Only a report after the receiver is back counts as catching up:
	// the shipper's loop runs one attempt (and its report) at a time, so
	// none from before the outage can arrive after the failures seen.
	var recovered atomic.Bool
	caughtUp := make(chan struct{}, 1000)
	sh, err := siem.New(s, []siem.Destination{dest}, siem.Options{Batch: 3, Clock: clock, Logger: logger,
		Delivered: func(_ string, seq int64) { delivered <- seq },
		Progress: func(name string, behind int64, err error) {
			assert.Equal(t, wh.Name(), name)
			progMu.Lock()
			progress = append(progress, step{behind, err != nil})
			progMu.Unlock()
			if behind == 0 && err == nil && recovered.Load() {
				caughtUp <- struct{}{}
			}
		}})
	require.NoError(t, err)
	l := newLog(t, s, audit.WithNotify(sh.Notify))
	done := make(chan struct{})
	go func() { defer close(done); sh.Run(ctx) }()

	record(t, l, 1, 5)
	waitSeq(ctx, t, delivered, 5)
	for len(dest.ch) > 0 {
		require.NoError(t, <-dest.ch)
	}

	down.Store(true)
	record(t, l, 6, 10)
	for i := 0; i < 4; i++ {
		require.Error(t, <-dest.ch, "attempt %d while down", i)
		require.True(t, clock.WaitForTimers(ctx, 1), "backing off")
		if i == 3 {
			down.Store(false) // back before the next attempt
			recovered.Store(true)
		}
		clock.Advance(time.Minute)
	}
	waitSeq(ctx, t, delivered, 10)
	select {
	case <-caughtUp:
	case <-ctx.Done():
		t.Fatal("the shipper never reported it had caught up")
	}
	cancel()
	<-done

	cursor, err := s.AuditCursor(context.Background(), wh.Name())
	require.NoError(t, err)
	assert.Equal(t, int64(10), cursor.Seq)
	mu.Lock()
	var seqs []int64
	prev := ""
	for _, r := range got {
		seqs = append(seqs, r.Seq)
		assert.Equal(t, prev, r.PrevHash, "entry %d links to the one before", r.Seq)
		prev = r.Hash
	}
	mu.Unlock()
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, seqs)
	// What the metrics behind the shipping alerts saw: each failed
	// attempt counts the entries waiting (all five by the last one, some
	// may have been written after an early attempt), and the backlog
	// drained to nothing once the receiver was back.
	progMu.Lock()
	var failedBehind []int64
	for _, p := range progress {
		if p.failed {
			failedBehind = append(failedBehind, p.behind)
		}
	}
	progMu.Unlock()
	if assert.NotEmpty(t, failedBehind) {
		for _, n := range failedBehind {
			assert.True(t, n >= 1 && n <= 5, "%d waiting during the outage", n)
		}
		assert.Equal(t, int64(5), failedBehind[len(failedBehind)-1])
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	assert.Equal(t, 1, strings.Count(out, "audit shipping failed"), "one warning per outage:\n%s", out)
	assert.Contains(t, out, "503 Service Unavailable")
	assert.Equal(t, 1, strings.Count(out, "audit shipping recovered"), out)
	assert.NotContains(t, out, tokenCanary)
	assert.NotContains(t, out, "tenant=desk")
}

func waitSeq(ctx context.Context, t *testing.T, ch chan int64, want int64) {
	t.Helper()
	for {
		select {
		case seq := <-ch:
			if seq >= want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("entry %d was never delivered", want)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestWebhookURLsAreChecked(t *testing.T) {
	for _, u := range []string{"http://siem.example/x", "https://user:pw@siem.example/x", "siem.example", "ftp://127.0.0.1/"} {
		_, err := siem.NewWebhook(siem.WebhookConfig{URL: u})
		assert.Error(t, err, u)
		if err != nil {
			assert.NotContains(t, err.Error(), "pw", "the error does not repeat credentials")
		}
	}
	_, err := siem.NewWebhook(siem.WebhookConfig{URL: "http://127.0.0.1:9/x"})
	assert.NoError(t, err, "plain http to loopback is allowed")
}

func TestCheckpointsGoToSyslogAndWebhook(t *testing.T) {
	ctx := context.Background()
	k, err := audit.NewKey([]byte("siem-test-audit-key-0123456789"))
	require.NoError(t, err)
	cp := k.SignCheckpoint(7, "v2:x:y", t0)
	rcv := listen(t, nil)
	sl, err := siem.NewSyslog(siem.SyslogConfig{Address: rcv.ln.Addr().String()})
	require.NoError(t, err)
	require.NoError(t, sl.WriteCheckpoint(ctx, cp))
	msgs := rcv.messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "checkpoint", *msgs[0].MsgID)
	good, bad, err := audit.ReadCheckpoints(strings.NewReader(*msgs[0].Message), k.Public())
	require.NoError(t, err)
	assert.Empty(t, bad)
	require.Len(t, good, 1)
	assert.Equal(t, int64(7), good[0].Seq)

	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { body, _ = io.ReadAll(r.Body) }))
	defer srv.Close()
	wh, err := siem.NewWebhook(siem.WebhookConfig{URL: srv.URL})
	require.NoError(t, err)
	require.NoError(t, wh.WriteCheckpoint(ctx, cp))
	assert.Equal(t, string(cp.Line()), string(body))
}

// memDest keeps what it is sent.
type memDest struct {
	mu  sync.Mutex
	got []store.AuditRecord
}

func (m *memDest) Name() string { return "mem" }

func (m *memDest) Deliver(_ context.Context, recs []store.AuditRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, recs...)
	return nil
}

func (m *memDest) take() []store.AuditRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.got
	m.got = nil
	return out
}

func seqsOf(recs []store.AuditRecord) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

// Entries a minute apart, as a bot writes them over a while.
func recordMinutes(t *testing.T, l *audit.Log, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		require.NoError(t, l.Record(context.Background(), audit.Entry{Time: t0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("r%d", i),
			Actor: "U0ALICE", Action: audit.ActionRequest, Detail: fmt.Sprint("entry ", i)}))
	}
}

// The tail shipped, then cut, then new entries reusing its sequence
// numbers: they are shipped anyway, and the cut is logged as an error.
func TestACutUnderTheCursorIsReportedAndTheNewEntriesShipped(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		newEntries int
		want       string
		shipped    []int64
	}{
		"rewritten: more new entries than were cut": {5, "entry 20 no longer has the hash that was shipped", []int64{17, 18, 19, 20, 21}},
		"cut: the log now ends below the cursor":    {2, "the log now ends at entry 18", []int64{17, 18}},
		"cut, and nothing written since":            {0, "the log now ends at entry 16", nil},
	} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			l := newLog(t, s)
			dest := &memDest{}
			var logs bytes.Buffer
			var mu sync.Mutex
			sh, err := siem.New(s, []siem.Destination{dest}, siem.Options{Clock: audittest.NewClock(t0),
				Logger: slog.New(slog.NewTextHandler(&lockedWriter{&logs, &mu}, nil))})
			require.NoError(t, err)
			recordMinutes(t, l, 1, 20)
			require.NoError(t, sh.Flush(ctx))
			require.Len(t, dest.take(), 20)

			require.NoError(t, s.Exec(ctx, `DELETE FROM audit_log WHERE seq >= 17`))
			recordMinutes(t, l, 30, 29+tc.newEntries) // later than anything shipped
			require.NoError(t, sh.Flush(ctx))
			got := dest.take()
			assert.Equal(t, tc.shipped, seqsOf(got), "the new entries are shipped")
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			assert.Equal(t, 1, strings.Count(out, "level=ERROR"), out)
			assert.Contains(t, out, "the audit log was cut or rewritten after entries up to 20 were shipped to mem: "+tc.want)

			recordMinutes(t, l, 40, 40)
			require.NoError(t, sh.Flush(ctx))
			assert.Equal(t, []int64{int64(17 + tc.newEntries)}, seqsOf(dest.take()), "then shipping goes on as usual")
			mu.Lock()
			assert.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), "said once")
			mu.Unlock()
		})
	}
}
