package siem

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/store"
)

// SDID is the structured-data element of every message; 32473 is the
// private enterprise number RFC 5612 sets aside for examples.
const SDID = "deskbot@32473"

// SyslogConfig is a syslog receiver.
type SyslogConfig struct {
	// Address is host:port.
	Address string
	// TLS, when set, wraps the connection (RFC 5425).
	TLS *tls.Config
	// Facility is the syslog facility number (0-23; default 13, log audit).
	Facility int
	// Hostname and AppName fill the header (default: the machine's name
	// and "deskbot").
	Hostname, AppName string
	// Timeout bounds one batch: connect, write, and the receiver's
	// confirmation (default 10s).
	Timeout time.Duration
}

// Syslog writes RFC 5424 messages over TCP or TLS with octet-counted
// framing. Each batch goes on its own connection: the writer closes its
// side when the batch is written, and counts the batch delivered when the
// receiver closes its side after reading it all (rsyslog does), so a
// receiver that died mid-batch is noticed and the batch sent again.
type Syslog struct {
	cfg SyslogConfig
}

var (
	_ Destination          = (*Syslog)(nil)
	_ audit.CheckpointSink = (*Syslog)(nil)
)

// NewSyslog checks cfg and returns the writer.
func NewSyslog(cfg SyslogConfig) (*Syslog, error) {
	if _, port, err := net.SplitHostPort(cfg.Address); err != nil || port == "" {
		return nil, fmt.Errorf("syslog address %q: want host:port", cfg.Address)
	}
	if cfg.Facility == 0 {
		cfg.Facility = 13
	}
	if cfg.Facility < 0 || cfg.Facility > 23 {
		return nil, fmt.Errorf("syslog facility %d: want 0 to 23", cfg.Facility)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
		if cfg.Hostname == "" {
			cfg.Hostname = "-"
		}
	}
	if cfg.AppName == "" {
		cfg.AppName = "deskbot"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	s := &Syslog{cfg: cfg}
	// Refuse a hostname or app name the format would drop, now rather
	// than at the first entry.
	if _, err := s.message(5, time.Now(), "checkpoint", nil, []byte("{}")); err != nil {
		return nil, err
	}
	return s, nil
}

// Name implements [Destination] and [audit.CheckpointSink].
func (s *Syslog) Name() string { return "syslog:" + s.cfg.Address }

// Deliver implements [Destination].
func (s *Syslog) Deliver(ctx context.Context, recs []store.AuditRecord) error {
	msgs := make([][]byte, 0, len(recs))
	for _, r := range recs {
		sd := [][2]string{{"seq", strconv.FormatInt(r.Seq, 10)}, {"prev", r.PrevHash}, {"hash", r.Hash}, {"action", r.Action}, {"actor", r.Actor}, {"outcome", r.Outcome}}
		m, err := s.message(6, r.At, "audit", sd, recordJSON(r))
		if err != nil {
			return fmt.Errorf("entry %d: %w", r.Seq, err)
		}
		msgs = append(msgs, m)
	}
	return s.send(ctx, msgs)
}

// WriteCheckpoint implements [audit.CheckpointSink]: one message whose
// text is the checkpoint's JSON line.
func (s *Syslog) WriteCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	line, _ := c.MarshalJSON()
	m, err := s.message(5, c.Time, "checkpoint", [][2]string{{"seq", strconv.FormatInt(c.Seq, 10)}, {"hash", c.Head}}, line)
	if err != nil {
		return err
	}
	return s.send(ctx, [][]byte{m})
}

// escapeSD escapes a parameter value as RFC 5424 requires (\, " and ]):
// the builder takes values in their escaped form and drops any other.
var escapeSD = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)

// message builds one RFC 5424 message with the go-syslog builder. The
// builder silently drops a value it rejects; this refuses instead, so a
// message never leaves without a field it was meant to carry.
func (s *Syslog) message(severity int, at time.Time, msgID string, sd [][2]string, text []byte) ([]byte, error) {
	m := &rfc5424.SyslogMessage{}
	m.SetPriority(uint8(s.cfg.Facility*8 + severity))
	m.SetVersion(1)
	m.SetTimestamp(at.UTC().Format("2006-01-02T15:04:05.999999Z07:00"))
	m.SetHostname(s.cfg.Hostname)
	m.SetAppname(s.cfg.AppName)
	m.SetMsgID(msgID)
	switch {
	case s.cfg.Hostname != "-" && (m.Hostname == nil || *m.Hostname != s.cfg.Hostname):
		return nil, fmt.Errorf("syslog hostname %q is not valid in RFC 5424 (printable ASCII, no spaces, at most 255)", s.cfg.Hostname)
	case m.Appname == nil || *m.Appname != s.cfg.AppName:
		return nil, fmt.Errorf("syslog app name %q is not valid in RFC 5424 (printable ASCII, no spaces, at most 48)", s.cfg.AppName)
	case m.MsgID == nil || m.Timestamp == nil:
		return nil, errors.New("syslog: the message header was refused")
	}
	for _, p := range sd {
		m.SetParameter(SDID, p[0], escapeSD.Replace(p[1]))
		if m.StructuredData == nil {
			return nil, fmt.Errorf("syslog: structured data %s refused", SDID)
		}
		if got, ok := (*m.StructuredData)[SDID][p[0]]; !ok || got != p[1] {
			return nil, fmt.Errorf("syslog: the value of %s was refused by the RFC 5424 builder", p[0])
		}
	}
	m.SetMessage(string(text))
	if m.Message == nil || *m.Message != string(text) {
		return nil, errors.New("syslog: the message text was refused by the RFC 5424 builder")
	}
	out, err := m.String()
	if err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return []byte(out), nil
}

// send writes msgs on a new connection and waits for the receiver to
// close it: only then are they delivered.
func (s *Syslog) send(ctx context.Context, msgs [][]byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	d := net.Dialer{}
	raw, err := d.DialContext(ctx, "tcp", s.cfg.Address)
	if err != nil {
		return err
	}
	defer raw.Close()
	deadline, _ := ctx.Deadline()
	_ = raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var conn net.Conn = raw
	var tconn *tls.Conn
	if s.cfg.TLS != nil {
		cfg := s.cfg.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(s.cfg.Address)
		}
		tconn = tls.Client(raw, cfg)
		if err := tconn.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tconn
	}
	var buf []byte
	for _, m := range msgs {
		buf = strconv.AppendInt(buf, int64(len(m)), 10)
		buf = append(buf, ' ')
		buf = append(buf, m...)
	}
	if _, err := conn.Write(buf); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if tconn != nil {
		if err := tconn.CloseWrite(); err != nil {
			return fmt.Errorf("close: %w", err)
		}
	}
	if err := raw.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	// The receiver answers nothing; it closes its side once it has read
	// everything. A reset or a timeout means the batch may be lost.
	if _, err := io.Copy(io.Discard, conn); err != nil {
		return fmt.Errorf("waiting for the receiver to confirm: %w", err)
	}
	return nil
}
