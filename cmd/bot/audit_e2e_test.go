package main_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/store"
)

// auditedDir runs three commands in a fresh working directory (12 audit
// entries; each bot exec leaves a checkpoint as it exits) and opens its
// database for tampering.
func auditedDir(t *testing.T) (string, *sql.DB) {
	t.Helper()
	dir := workDir(t)
	for _, line := range []string{"/example echo one", "/example echo two", "/example counter show"} {
		_, r := execIn(t, dir, "alice", line)
		require.Equal(t, 0, r.code, r.stderr)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "deskbot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return dir, db
}

func verifyIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runBot(t, botIn(t, dir, append([]string{"audit", "verify"}, args...)...))
}

const checkpointFile = "data/audit-checkpoints.jsonl"

// reseal rewrites every entry from seq from on with seal, as an insider
// with the database (and, for the keyed seal, the audit key) would.
func reseal(t *testing.T, db *sql.DB, from int64, seal func(*store.AuditRecord)) {
	t.Helper()
	rows, err := db.Query(`SELECT seq, at, request_id, actor, action, provider, command, target, channel, args, outcome, detail, approval_id, prev_hash, hash FROM audit_log ORDER BY seq`)
	require.NoError(t, err)
	var recs []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var at int64
		require.NoError(t, rows.Scan(&r.Seq, &at, &r.RequestID, &r.Actor, &r.Action, &r.Provider, &r.Command, &r.Target, &r.Channel, &r.Args, &r.Outcome, &r.Detail, &r.ApprovalID, &r.PrevHash, &r.Hash))
		r.At = fromMicros(at)
		recs = append(recs, r)
	}
	require.NoError(t, rows.Close())
	prev := ""
	for _, r := range recs {
		if r.Seq >= from {
			r.PrevHash = prev
			seal(&r)
			_, err := db.Exec(`UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, r.PrevHash, r.Hash, r.Seq)
			require.NoError(t, err)
		}
		prev = r.Hash
	}
}

func dirKey(t *testing.T, dir string) *audit.Key {
	t.Helper()
	secret, err := os.ReadFile(filepath.Join(dir, "data", "audit.key"))
	require.NoError(t, err)
	k, err := audit.NewKey(secret)
	require.NoError(t, err)
	return k
}

// The acceptance: the tail deleted, a middle entry deleted, an entry
// rewritten with the chain recomputed: the chain alone says ok to each
// (the insider has the key), and audit verify with the checkpoints finds
// each and says where.
func TestAuditVerifyWithCheckpointsFindsWhatTheChainCannot(t *testing.T) {
	for name, tc := range map[string]struct {
		tamper func(t *testing.T, dir string, db *sql.DB)
		want   []string
	}{
		"tail deleted": {
			tamper: func(t *testing.T, _ string, db *sql.DB) {
				_, err := db.Exec(`DELETE FROM audit_log WHERE seq > 10`)
				require.NoError(t, err)
			},
			want: []string{
				"TAMPERED: the log ends at entry 10, but checkpoint line 3 (",
				"entries 11 to 12 were deleted (the log was cut short)",
				"where: the change lies between entry 9 (after checkpoint line 2 (",
				"first bad entry: 11",
			},
		},
		"middle entry deleted, the rest renumbered and resealed": {
			tamper: func(t *testing.T, dir string, db *sql.DB) {
				_, err := db.Exec(`DELETE FROM audit_log WHERE seq = 6`)
				require.NoError(t, err)
				_, err = db.Exec(`UPDATE audit_log SET seq = seq - 1 WHERE seq > 6`)
				require.NoError(t, err)
				reseal(t, db, 6, dirKey(t, dir).Seal)
			},
			want: []string{
				"TAMPERED: entry 8 no longer has the hash recorded by checkpoint line 2 (",
				"where: the change lies between entry 5 (after checkpoint line 1 (",
				"and entry 8 (checkpoint line 2 (",
				"first bad entry: 8",
			},
		},
		"entry rewritten and the chain recomputed": {
			tamper: func(t *testing.T, dir string, db *sql.DB) {
				_, err := db.Exec(`UPDATE audit_log SET outcome = 'nothing to see' WHERE seq = 10`)
				require.NoError(t, err)
				reseal(t, db, 10, dirKey(t, dir).Seal)
			},
			want: []string{
				"TAMPERED: entry 12 no longer has the hash recorded by checkpoint line 3 (",
				"where: the change lies between entry 9 (after checkpoint line 2 (",
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir, db := auditedDir(t)
			ok := verifyIn(t, dir, "--checkpoints", checkpointFile)
			require.Equal(t, 0, ok.code, ok.stdout+ok.stderr)
			assert.Contains(t, ok.stdout, "checkpoints: the log matches all 3 signed checkpoints")

			tc.tamper(t, dir, db)
			alone := verifyIn(t, dir)
			assert.Equal(t, 0, alone.code, "the chain alone cannot tell: %s", alone.stdout)
			bad := verifyIn(t, dir, "--checkpoints", checkpointFile)
			assert.Equal(t, 1, bad.code, bad.stdout+bad.stderr)
			for _, w := range tc.want {
				assert.Contains(t, bad.stdout, w)
			}
		})
	}
}

// Without the key, a rewrite cannot be resealed: the unkeyed entry after
// keyed ones gives it away, checkpoints or not.
func TestAuditVerifyFindsARewriteWithoutTheKey(t *testing.T) {
	dir, db := auditedDir(t)
	_, err := db.Exec(`UPDATE audit_log SET outcome = 'nothing to see' WHERE seq = 5`)
	require.NoError(t, err)
	reseal(t, db, 5, audit.Seal)
	bad := verifyIn(t, dir)
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stdout, "TAMPERED: entry 5 is unkeyed but follows keyed entries (keyed from entry 1)")

	head := verifyIn(t, dir, "--expect-head", "3:v2:nope:00")
	assert.Equal(t, 1, head.code)
	assert.Contains(t, head.stdout, "entry 3 no longer has the hash recorded by the expected head (--expect-head)")
}

func TestAuditVerifyNamesBadCheckpointLines(t *testing.T) {
	dir, _ := auditedDir(t)
	path := filepath.Join(dir, checkpointFile)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 3)
	other, err := audit.NewKey([]byte("some-other-deployment-key-0123"))
	require.NoError(t, err)
	altered := strings.Replace(lines[1], `"seq":8`, `"seq":7`, 1)
	require.NotEqual(t, lines[1], altered)
	mixed := strings.Join([]string{lines[0], altered, "not json", string(other.SignCheckpoint(4, "v2:x:y", t0()).Line())}, "\n")
	require.NoError(t, os.WriteFile(path, []byte(mixed), 0o600))
	r := verifyIn(t, dir, "--checkpoints", checkpointFile)
	assert.Equal(t, 3, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "line 2: its signature does not verify: the line was altered or forged")
	assert.Contains(t, r.stdout, "line 3: not a checkpoint")
	assert.Contains(t, r.stdout, "line 4: signed with audit key "+other.ID()+", not with the configured one (")
	assert.Contains(t, r.stdout, "ok: 12 entries", "the log itself still checks out against line 1")
	assert.Contains(t, r.stderr, "3 line(s) cannot be trusted")

	require.NoError(t, os.WriteFile(path, other.SignCheckpoint(4, "v2:x:y", t0()).Line(), 0o600))
	r = verifyIn(t, dir, "--checkpoints", checkpointFile)
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "holds no checkpoint signed with the configured audit key")

	r = verifyIn(t, dir, "--checkpoints", "missing.jsonl")
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "checkpoint file: open missing.jsonl: no such file or directory")

	r = verifyIn(t, dir, "--expect-head", "twelve")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "want SEQ:HASH")

	key := runBot(t, botIn(t, dir, "audit", "key"))
	require.Equal(t, 0, key.code, key.stderr)
	assert.Contains(t, key.stdout, "key id:     "+dirKey(t, dir).ID())
	assert.Contains(t, key.stdout, "public key: "+dirKey(t, dir).Public().String())
}

// The audit key is a secret: it never shows in what the bot prints or
// logs, in the audit log, or in any file the bot writes.
func TestAuditKeyNeverLeaks(t *testing.T) {
	const canary = "audit-key-canary-5f1e2d3c4b5a6978"
	dir := workDir(t)
	cfg := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"audit_key": env("CANARY_AUDIT_KEY"),
		// A checkpoint sink that is down: the bot says so and goes on.
		"audit": map[string]any{"checkpoints": map[string]any{"file": "data/cp.jsonl", "syslog": map[string]any{"address": "127.0.0.1:1", "timeout": "2s"}}}}}.write(t, dir)
	t.Setenv("CANARY_AUDIT_KEY", canary) // for every bot run, audit export too
	var vars []string
	out := transcript(t, dir, cfg, vars, as{"alice", "/example echo " + canary}, as{"alice", "/example counter show"})
	for _, args := range [][]string{{"audit", "verify", "--config", cfg, "--checkpoints", "data/cp.jsonl"}, {"audit", "key", "--config", cfg}} {
		cmd := botIn(t, dir, args...)
		cmd.Env = append(cmd.Env, vars...)
		r := runBot(t, cmd)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		out += r.stdout + r.stderr
	}
	assert.NotContains(t, out, canary)
	assert.Contains(t, out, "audit checkpoint not written", "the sink that is down is named")
	assert.Contains(t, out, "syslog:127.0.0.1:1")
	assert.Contains(t, out, "checkpoints: the log matches all 2 signed checkpoints", "the file sink lost nothing")

	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasPrefix(path, filepath.Join(dir, "plugins")) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		assert.NotContains(t, string(b), canary, "in %s", path)
		return nil
	}))

	short := botIn(t, dir, "audit", "verify", "--config", cfg)
	short.Env = append(short.Env, "CANARY_AUDIT_KEY=tooShortKey1")
	r := runBot(t, short)
	assert.NotEqual(t, 0, r.code)
	assert.Contains(t, r.stderr, "audit_key: use at least 16 characters")
	assert.NotContains(t, r.stdout+r.stderr, "tooShortKey1")
}

func TestBadAuditSinksAreRefusedAtLoad(t *testing.T) {
	dir := workDir(t)
	for name, tc := range map[string]struct {
		audit map[string]any
		want  string
	}{
		"plain http webhook": {map[string]any{"ship": map[string]any{"webhook": map[string]any{"url": "http://siem.example/in", "token": env("T")}}},
			"audit.ship.webhook: webhook url: want https"},
		"webhook without a token": {map[string]any{"ship": map[string]any{"webhook": map[string]any{"url": "https://siem.example/in"}}},
			"audit.ship.webhook: token is required"},
		"syslog without a port": {map[string]any{"ship": map[string]any{"syslog": map[string]any{"address": "siem.example"}}},
			`audit.ship.syslog: syslog address "siem.example": want host:port`},
		"unknown facility": {map[string]any{"checkpoints": map[string]any{"syslog": map[string]any{"address": "siem.example:514", "facility": "local9"}}},
			`audit.checkpoints.syslog: facility "local9"`},
		"missing CA file": {map[string]any{"ship": map[string]any{"syslog": map[string]any{"address": "siem.example:6514", "tls": map[string]any{"ca_file": "nope.pem"}}}},
			"audit.ship.syslog: tls.ca_file: open"},
		"hostname the format would drop": {map[string]any{"ship": map[string]any{"syslog": map[string]any{"address": "siem.example:514", "hostname": "bot one"}}},
			`syslog hostname "bot one" is not valid in RFC 5424`},
		"interval": {map[string]any{"checkpoints": map[string]any{"interval": "10ms"}}, "audit.checkpoints.interval 10ms is too short"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"audit": tc.audit}}.write(t, dir)
			r := runBot(t, botIn(t, dir, "audit", "verify", "--config", cfg))
			assert.NotEqual(t, 0, r.code)
			assert.Contains(t, r.stderr, tc.want)
		})
	}
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func t0() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }
