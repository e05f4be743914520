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
			assert.Contains(t, ok.stdout, "checkpoints: checked against 3 signed checkpoints from "+checkpointFile+"; the log matches all 3")

			tc.tamper(t, dir, db)
			alone := verifyIn(t, dir, "--no-checkpoints")
			assert.Equal(t, 0, alone.code, "the chain alone cannot tell: %s", alone.stdout)
			assert.Contains(t, alone.stdout, "checkpoints not checked: --no-checkpoints")
			for _, bad := range []result{verifyIn(t, dir, "--checkpoints", checkpointFile), verifyIn(t, dir)} {
				assert.Equal(t, 1, bad.code, bad.stdout+bad.stderr)
				for _, w := range tc.want {
					assert.Contains(t, bad.stdout, w)
				}
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

	head := verifyIn(t, dir, "--no-checkpoints", "--expect-head", "3:v2:"+dirKey(t, dir).ID()+":"+strings.Repeat("0", 64))
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

	for _, bad := range []string{"twelve", "5:bogus", "5:v2:nope:00", "5:"} {
		r = verifyIn(t, dir, "--expect-head", bad)
		assert.Equal(t, 2, r.code, "a malformed head is a usage error, not tampering: %s", bad)
		assert.Contains(t, r.stderr, "want SEQ:HASH")
		assert.NotContains(t, r.stdout, "TAMPERED")
	}

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
	assert.Contains(t, out, "checked against 2 signed checkpoints from data/cp.jsonl; the log matches all 2", "the file sink lost nothing")

	// Plain verify finds the configured file by itself.
	plain := botIn(t, dir, "audit", "verify", "--config", cfg)
	r := runBot(t, plain)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "checkpoints: checked against 2 signed checkpoints from "+filepath.Join(dir, "data", "cp.jsonl"))
	out += r.stdout + r.stderr

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
	r = runBot(t, short)
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

// Plain audit verify uses the checkpoint file the bot writes, or says
// plainly that it checked none.
func TestAuditVerifyUsesTheBotsOwnCheckpointFile(t *testing.T) {
	dir, db := auditedDir(t)
	r := verifyIn(t, dir)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "checkpoints: checked against 3 signed checkpoints from "+filepath.Join(dir, checkpointFile)+"; the log matches all 3")

	_, err := db.Exec(`DELETE FROM audit_log WHERE seq > 10`)
	require.NoError(t, err)
	r = verifyIn(t, dir)
	assert.Equal(t, 1, r.code, "the cut tail is found without --checkpoints: %s", r.stdout)
	assert.Contains(t, r.stdout, "TAMPERED: the log ends at entry 10")
	assert.Contains(t, r.stdout, "(checked 10 entries)")

	require.NoError(t, os.Remove(filepath.Join(dir, checkpointFile)))
	r = verifyIn(t, dir)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "checkpoints not checked: "+filepath.Join(dir, checkpointFile)+" does not exist yet")

	// Checkpoints sent only to syslog: nothing to read.
	cfg := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"audit": map[string]any{"checkpoints": map[string]any{"syslog": map[string]any{"address": "127.0.0.1:1"}}}}}.write(t, dir)
	r = runBot(t, botIn(t, dir, "audit", "verify", "--config", cfg))
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "checkpoints not checked: checkpoints go to syslog or a webhook only; give --checkpoints FILE")
}

// audit verify reads the log: the shipping sinks' secrets are not needed.
func TestAuditVerifyNeedsNoShippingSecrets(t *testing.T) {
	dir, _ := auditedDir(t)
	cfg := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"audit": map[string]any{
		"ship":        map[string]any{"webhook": map[string]any{"url": "https://siem.example/in", "token": env("UNSET_SIEM_TOKEN_FOR_TEST")}},
		"checkpoints": map[string]any{"file": checkpointFile, "webhook": map[string]any{"url": "https://siem.example/cp", "token": env("UNSET_SIEM_TOKEN_FOR_TEST")}},
	}}}.write(t, dir)
	for _, args := range [][]string{{"audit", "verify", "--config", cfg}, {"audit", "export", "--config", cfg}} {
		r := runBot(t, botIn(t, dir, args...))
		assert.Equal(t, 0, r.code, "%v: %s", args, r.stdout+r.stderr)
	}
}

// Each audit command lists its own flags; -h is help, on stdout, exit 0;
// another command's flag is refused.
func TestAuditHelpIsPerCommand(t *testing.T) {
	dir := workDir(t)
	v := runBot(t, botIn(t, dir, "audit", "verify", "-h"))
	assert.Equal(t, 0, v.code, v.stderr)
	assert.Contains(t, v.stdout, "usage: bot audit verify")
	assert.Contains(t, v.stdout, "-checkpoints")
	assert.Contains(t, v.stdout, "-expect-head")
	assert.NotContains(t, v.stdout, "-format")
	assert.NotContains(t, v.stdout, "-user")

	assert.Empty(t, v.stderr, "the usage is printed once, on stdout")

	e := runBot(t, botIn(t, dir, "audit", "export", "--help"))
	assert.Equal(t, 0, e.code, e.stderr)
	assert.Empty(t, e.stderr, "the usage is printed once, on stdout")
	assert.Contains(t, e.stdout, "usage: bot audit export")
	assert.Contains(t, e.stdout, "-format")
	assert.NotContains(t, e.stdout, "-checkpoints")
	assert.NotContains(t, e.stdout, "-expect-head")

	a := runBot(t, botIn(t, dir, "audit", "-h"))
	assert.Equal(t, 0, a.code)
	assert.Contains(t, a.stdout, "bot audit verify")

	bad := runBot(t, botIn(t, dir, "audit", "verify", "--format", "csv", "--user", "bob"))
	assert.Equal(t, 2, bad.code, bad.stdout+bad.stderr)
	assert.Contains(t, bad.stderr, "flag provided but not defined: -format")
	assert.Equal(t, 1, strings.Count(bad.stderr, "usage: bot audit verify"), bad.stderr)
	assert.Empty(t, bad.stdout)

	bad = runBot(t, botIn(t, dir, "audit", "export", "--checkpoints", "x"))
	assert.Equal(t, 2, bad.code)
	bad = runBot(t, botIn(t, dir, "audit", "export", "--format", "xml"))
	assert.Equal(t, 2, bad.code)
	assert.Contains(t, bad.stderr, "want jsonl or csv")
}

// One entry is "1 entry"; a file signed with another key is summed up in
// one line, not one per line.
func TestAuditVerifyWordsItsCounts(t *testing.T) {
	dir := workDir(t)
	_, r := execIn(t, dir, "alice", "/example counter show")
	require.Equal(t, 0, r.code, r.stderr)
	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "deskbot.db"))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`DELETE FROM audit_log WHERE seq > 1`)
	require.NoError(t, err)
	v := verifyIn(t, dir, "--no-checkpoints")
	require.Equal(t, 0, v.code, v.stdout+v.stderr)
	assert.Contains(t, v.stdout, "ok: 1 entry, chain intact")
	_, err = db.Exec(`UPDATE audit_log SET outcome = 'nothing' WHERE seq = 1`)
	require.NoError(t, err)
	v = verifyIn(t, dir, "--no-checkpoints")
	assert.Equal(t, 1, v.code)
	assert.Contains(t, v.stdout, "(checked 1 entry)")

	other, err := audit.NewKey([]byte("some-other-deployment-key-0123"))
	require.NoError(t, err)
	var lines []string
	lines = append(lines, "not json", "not json")
	for i := 1; i <= 18; i++ {
		lines = append(lines, string(other.SignCheckpoint(int64(i), "v2:x:y", t0()).Line()))
	}
	path := filepath.Join(dir, "other.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600))
	require.NoError(t, os.WriteFile(path, []byte("not json\nnot json\n"+strings.Join(lines[2:], "")), 0o600))
	v = verifyIn(t, dir, "--checkpoints", path)
	assert.Equal(t, 3, v.code)
	assert.Equal(t, "checkpoint file "+path+": lines 1–2: not a checkpoint\ncheckpoint file "+path+": lines 3–20: signed with audit key "+other.ID()+
		", not with the configured one ("+dirKey(t, dir).ID()+")\n", v.stdout)
}

// Changing audit_key by mistake stops the bot with what to do; keeping
// the old key under audit.previous_keys rotates it: the old entries and
// checkpoints still verify, the new ones are sealed with the new key.
func TestAuditKeyChangeIsRefusedUnlessRotated(t *testing.T) {
	const newKey = "the-new-audit-key-canary-0123456789"
	dir, _ := auditedDir(t)
	old := dirKey(t, dir)
	next, err := audit.NewKey([]byte(newKey))
	require.NoError(t, err)
	changed := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"audit_key": env("NEW_AUDIT_KEY")}}.write(t, dir)
	run := func(args ...string) result {
		cmd := botIn(t, dir, args...)
		cmd.Env = append(cmd.Env, "NEW_AUDIT_KEY="+newKey)
		r := runBot(t, cmd)
		assert.NotContains(t, r.stdout+r.stderr, newKey)
		return r
	}
	r := run("exec", "--config", changed, "--as", "alice", "/example echo hi")
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "the audit log's newest entry (12) was sealed with audit key "+old.ID()+"; the configured audit_key is "+next.ID()+": restore the key")
	assert.Contains(t, r.stderr, "audit.previous_keys")

	rotated := config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"audit_key": env("NEW_AUDIT_KEY"),
		"audit": map[string]any{"previous_keys": []any{map[string]string{"file": "data/audit.key"}}}}}.write(t, dir)
	r = run("exec", "--config", rotated, "--as", "alice", "/example echo hi")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = run("audit", "verify", "--config", rotated)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "keyed: entries 1 to 12 are sealed with previous audit key "+old.ID()+"; entries 13 to 16 are sealed with audit key "+next.ID())
	assert.Contains(t, r.stdout, "checked against 4 signed checkpoints from", "the old key's checkpoints and the new one's")
	r = run("audit", "key", "--config", rotated)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "previous:   "+old.ID())

	// Once rotated, dropping the old key is fine for the bot, but verify
	// says the old part can no longer be checked.
	changed = config{Plugins: []installed{exampleSandbox("")}, Top: map[string]any{"audit_key": env("NEW_AUDIT_KEY")}}.write(t, dir)
	r = run("exec", "--config", changed, "--as", "alice", "/example echo again")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = run("audit", "verify", "--config", changed, "--no-checkpoints")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "entry 1 was sealed with audit key "+old.ID()+", not with the configured one")
}
