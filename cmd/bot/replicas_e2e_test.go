package main_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

// Two replicas of the bot (real bot serve processes) share one PostgreSQL
// database behind a round-robin load balancer; bot loadtest --url sends
// them signed slash commands as Slack does, while one replica is
// SIGKILLed and started again. No acknowledged command may go unanswered,
// and none may run twice.

// replicasPolicy lets alice run the example's reads and its counter
// (a high-risk change) without approval, so that a change that ran twice
// would show in the counter and the audit log.
const replicasPolicy = `version: 1
users:
  alice: U0ALICE01
roles:
  support:
    grants:
      - commands: ["example:*"]
        max_risk: high
bindings:
  - subjects: [alice]
    roles: [support]
approvals:
  by_risk:
    high: {approvers: 0}
    critical: {approvers: 0}
`

// replica is one bot serve process, started again on demand with the
// same configuration.
type replica struct {
	t    *testing.T
	name string
	dir  string
	cfg  string
	env  []string
	logs *syncBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	life int                    // 1 for the first process, 2 once started again
	addr atomic.Pointer[string] // "127.0.0.1:PORT" it serves on now
}

// process names the replica's current process: "a1", then "a2".
func (r *replica) process() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%s%d", r.name, r.life)
}

func (r *replica) start() {
	t := r.t
	t.Helper()
	c := botIn(t, r.dir, "serve", "--config", r.cfg, "--log-level", "warn")
	c.Env = append(c.Env, r.env...)
	stdout, err := c.StdoutPipe()
	require.NoError(t, err)
	c.Stderr = r.logs
	require.NoError(t, c.Start())
	r.mu.Lock()
	r.cmd = c
	r.life++
	r.mu.Unlock()
	sc := bufio.NewScanner(stdout)
	var base string
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "serving on "); ok {
			base = strings.Fields(rest)[0]
			break
		}
	}
	require.NotEmpty(t, base, "replica %s never said where it listens; log:\n%s", r.name, r.logs.String())
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	addr := strings.TrimPrefix(base, "http://")
	r.addr.Store(&addr)
}

// kill SIGKILLs the replica and waits for it to be gone.
func (r *replica) kill() {
	r.mu.Lock()
	c := r.cmd
	r.mu.Unlock()
	require.NoError(r.t, c.Process.Signal(syscall.SIGKILL))
	_ = c.Wait()
}

func (r *replica) stop() {
	r.mu.Lock()
	c := r.cmd
	r.mu.Unlock()
	if c == nil || c.ProcessState != nil {
		return
	}
	_ = c.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(testbin.Patience):
		_ = c.Process.Kill()
	}
}

func (r *replica) ready() bool {
	resp, err := http.Get("http://" + *r.addr.Load() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// balancer is a round-robin reverse proxy in front of the replicas. A
// replica that refuses the connection has not seen the request, so the
// balancer sends it to the next one (as nginx's proxy_next_upstream error
// and Envoy's connect-failure retry do); any other failure (the replica
// died with the request in hand) answers 502, since resending a POST the
// replica may have acted on is not the balancer's call. Slack's own retry
// (bot loadtest --retries) decides that.
type balancer struct {
	backends []*replica
	next     atomic.Uint64
	commands atomic.Int64 // slash commands received
	failover atomic.Int64 // sent on after a refused connection
	bad      atomic.Int64 // answered 502

	mu    sync.Mutex
	acked map[string]string // channel (the command's id) → the replica process that acked it
}

type pickKey struct{}

func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	start := b.next.Add(1)
	err := errors.New("no replica has started yet")
	for i := range b.backends {
		addr := b.backends[(int(start)+i)%len(b.backends)].addr.Load()
		if addr == nil {
			continue
		}
		rp := b.backends[(int(start)+i)%len(b.backends)]
		process := rp.process()
		out := req.Clone(req.Context())
		out.URL.Host = *addr
		out.Body = io.NopCloser(strings.NewReader(string(body)))
		out.ContentLength = int64(len(body))
		var resp *http.Response
		resp, err = http.DefaultTransport.RoundTrip(out)
		if err == nil {
			if resp.StatusCode == http.StatusOK && req.URL.Path == "/slack/commands" {
				form, _ := url.ParseQuery(string(body))
				b.mu.Lock()
				b.acked[form.Get("channel_id")] = process
				b.mu.Unlock()
			}
			return resp, nil
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			break
		}
		b.failover.Add(1)
	}
	return nil, err
}

func (b *balancer) handler() http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "replica" },
		Transport: b,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.URL.Path == "/slack/commands" {
				b.bad.Add(1)
			}
			http.Error(w, "bad gateway", http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slack/commands" {
			b.commands.Add(1)
		}
		rp.ServeHTTP(w, r)
	})
}

type loadReport struct {
	Sent             int     `json:"sent"`
	Acked            int     `json:"acked"`
	NotAcked         int     `json:"not_acked"`
	AnsweredNotAcked int     `json:"answered_not_acked"`
	Retried          int     `json:"retried_deliveries"`
	Answered         int     `json:"answered"`
	Lost             int     `json:"lost"`
	AnsweredTwice    int     `json:"answered_twice"`
	Rate             float64 `json:"rate_achieved"`
	Seconds          float64 `json:"send_seconds"`
	Ack              struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"ack_ms"`
	LostIDs  []string `json:"lost_ids"`
	TwiceIDs []string `json:"answered_twice_ids"`
}

type loadRecord struct {
	Channel   string `json:"channel"`
	Acked     bool   `json:"acked"`
	Succeeded int    `json:"succeeded"`
}

func TestTwoReplicasOneKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30-second load run")
	}
	dsn := testbin.PostgresDSN(t)
	testbin.Plugin(t, "example")
	root := t.TempDir()
	const secret = "replicas-signing-secret-0123456789abcdef"
	const mix = "/example echo text=replica-load;/example counter add 1"

	// The load generator first: the replicas' slack.api_url is its fake
	// Slack Web API. It waits for the balancer's /readyz before sending.
	replicas := []*replica{{t: t, name: "a"}, {t: t, name: "b"}}
	b := &balancer{backends: replicas, acked: map[string]string{}}
	lbLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	lb := &http.Server{Handler: b.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = lb.Serve(lbLn) }()
	t.Cleanup(func() { _ = lb.Close() })

	record := filepath.Join(root, "record.jsonl")
	lt := botIn(t, root, "loadtest", "--url", "http://"+lbLn.Addr().String()+"/slack/commands", "--signing-secret-env", "REPLICAS_SIGNING_SECRET",
		"--rate", "50", "--duration", "30s", "--retries", "3", "--as", "U0ALICE01", "--commands", mix, "--record", record, "--settle", "15s", "--json")
	lt.Env = append(lt.Env, "REPLICAS_SIGNING_SECRET="+secret)
	var ltOut syncBuffer
	lt.Stdout = &ltOut
	ltErr, err := lt.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, lt.Start())
	t.Cleanup(func() {
		if lt.ProcessState == nil {
			_ = lt.Process.Kill()
			_ = lt.Wait()
		}
	})
	sc := bufio.NewScanner(ltErr)
	var apiURL string
	var ltLog strings.Builder
	for sc.Scan() {
		ltLog.WriteString(sc.Text() + "\n")
		if _, rest, ok := strings.Cut(sc.Text(), "fake Slack Web API on "); ok {
			apiURL = strings.Fields(rest)[0]
			break
		}
	}
	require.NotEmpty(t, apiURL, "loadtest never served its fake Slack:\n%s", ltLog.String())
	var ltTail syncBuffer
	go func() { _, _ = io.Copy(&ltTail, ltErr) }()

	// Two replicas: one database, one approval key and audit key; each its
	// own data folder and sandbox state (the example's simulator reads and
	// writes its state file without a lock between processes, so two
	// replicas must not share one under load; the counters are added up).
	policy := filepath.Join(root, "policy.yaml")
	require.NoError(t, os.WriteFile(policy, []byte(replicasPolicy), 0o600))
	vars := []string{"REPLICAS_DSN=" + dsn, "REPLICAS_APPROVAL_KEY=replicas-approval-key-0123456789", "REPLICAS_AUDIT_KEY=replicas-audit-key-0123456789abc",
		"REPLICAS_SIGNING_SECRET=" + secret, "REPLICAS_BOT_TOKEN=xoxb-replicas-canary-token"}
	for _, r := range replicas {
		dir := filepath.Join(root, r.name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		cfg := config{Plugins: []installed{{Name: "example", Targets: []target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(dir, "sandbox")}}}},
			Top: map[string]any{"policy": policy, "listen": "127.0.0.1:0",
				"store":        map[string]any{"driver": "postgres", "dsn": env("REPLICAS_DSN")},
				"approval_key": env("REPLICAS_APPROVAL_KEY"), "audit_key": env("REPLICAS_AUDIT_KEY"),
				"slack": map[string]any{"signing_secret": env("REPLICAS_SIGNING_SECRET"), "bot_token": env("REPLICAS_BOT_TOKEN"), "api_url": apiURL}}}.write(t, dir)
		r.dir, r.cfg, r.env, r.logs = dir, cfg, vars, &syncBuffer{}
		t.Cleanup(func() {
			r.stop()
			if t.Failed() {
				t.Logf("replica %s log:\n%s", r.name, r.logs.String())
			}
			assert.NotContains(t, r.logs.String(), "xoxb-replicas-canary-token", "the bot token never reaches a log")
		})
	}
	// One after the other: the first creates the schema.
	for _, r := range replicas {
		r.start()
		waitFor(t, r.ready, "replica "+r.name+" never became ready")
	}

	// Kill replica a once a third of the load has gone through, and start
	// it again once another 250 commands (about five seconds) have.
	waitFor(t, func() bool { return b.commands.Load() >= 500 }, "the load never reached the balancer")
	replicas[0].kill()
	killedAt := b.commands.Load()
	waitFor(t, func() bool { return b.commands.Load() >= killedAt+250 }, "the load stopped after the kill")
	replicas[0].start()
	waitFor(t, replicas[0].ready, "the killed replica never became ready again")
	assert.Less(t, b.commands.Load(), int64(1500), "the replica came back while the load was still running")

	done := make(chan error, 1)
	go func() { done <- lt.Wait() }()
	var ltRunErr error
	select {
	case ltRunErr = <-done:
	case <-time.After(testbin.Patience):
		t.Fatalf("loadtest did not finish:\n%s%s", ltLog.String(), ltTail.String())
	}
	var rep loadReport
	require.NoError(t, json.Unmarshal([]byte(ltOut.String()), &rep), "loadtest: %v\n%s\n%s", ltRunErr, ltOut.String(), ltTail.String())
	t.Logf("two replicas, one killed: sent %d in %.1f s (%.1f/s), acked %d, not acked %d (answered anyway %d), deliveries retried %d, balancer failovers %d, 502s %d, answered %d, lost %d, answered twice %d, ack p50 %.2f ms p99 %.2f ms",
		rep.Sent, rep.Seconds, rep.Rate, rep.Acked, rep.NotAcked, rep.AnsweredNotAcked, rep.Retried, b.failover.Load(), b.bad.Load(), rep.Answered, rep.Lost, rep.AnsweredTwice, rep.Ack.P50, rep.Ack.P99)

	require.Equal(t, 1500, rep.Sent)
	// Every command acknowledged is answered, even those the killed
	// process had acknowledged: they were in the shared inbox before
	// their 200, and the other replica (or the same one, restarted) ran
	// those not begun and reported those begun as of unknown outcome.
	assert.Zero(t, rep.Lost, "acknowledged commands never answered: %v", rep.LostIDs)
	assert.Zero(t, rep.AnsweredTwice, "commands answered twice: %v", rep.TwiceIDs)
	if rep.Lost > 0 {
		b.mu.Lock()
		lostBy := map[string]string{}
		for _, id := range rep.LostIDs {
			lostBy[id] = b.acked[id]
		}
		b.mu.Unlock()
		t.Logf("lost, by the process that acked them: %v", lostBy)
	}
	assert.NoError(t, ltRunErr, "loadtest fails only for lost commands or commands answered twice")

	// The provider's side: the audit log (written before the provider is
	// called) holds at most one execution per command id, and the two
	// sandboxes' counters add up to no more than the counter commands
	// started, and no less than those answered with success.
	exp := botIn(t, replicas[1].dir, "audit", "export", "--config", replicas[1].cfg)
	exp.Env = append(exp.Env, vars...)
	out := runBot(t, exp)
	require.Equal(t, 0, out.code, out.stderr)
	started := map[string]int{}
	unknown := map[string]bool{}
	addsStarted := 0
	for _, line := range strings.Split(strings.TrimSpace(out.stdout), "\n") {
		var e struct{ Action, Outcome, Channel, Command string }
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		if e.Action == "result" && e.Outcome == "unknown" {
			unknown[e.Channel] = true
		}
		if e.Action == "execute" && e.Outcome == "started" {
			started[e.Channel]++
			if e.Command == "counter add" {
				addsStarted++
			}
		}
	}
	for ch, n := range started {
		assert.Equal(t, 1, n, "command %s ran %d times", ch, n)
	}
	f, err := os.Open(record)
	require.NoError(t, err)
	defer f.Close()
	addsOK, i := 0, 0
	for dec := json.NewDecoder(f); dec.More(); i++ {
		var r loadRecord
		require.NoError(t, dec.Decode(&r))
		switch {
		case unknown[r.Channel]:
			// Begun by the killed process: it may or may not have reached
			// the provider before the kill; it is never run again.
			assert.LessOrEqual(t, started[r.Channel], 1, "command %s of unknown outcome ran %d times", r.Channel, started[r.Channel])
		case r.Acked:
			assert.Equal(t, 1, started[r.Channel], "acknowledged command %s ran once", r.Channel)
		}
		if i%2 == 1 && r.Succeeded > 0 {
			addsOK++
		}
	}
	counters := 0
	for _, r := range replicas {
		var c struct{ Value int }
		b, err := os.ReadFile(filepath.Join(r.dir, "sandbox", "counter.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &c))
		counters += c.Value
	}
	t.Logf("commands the killed process had begun, reported as of unknown outcome: %d", len(unknown))
	for _, r := range replicas {
		logs := r.logs.String()
		t.Logf("replica %s: took over and ran %d commands, reported %d as of unknown outcome", r.name,
			strings.Count(logs, "stopped before running it is run here"), strings.Count(logs, "was running when its process stopped"))
	}
	t.Logf("counter commands: started %d, answered with success %d, counted by the sandboxes %d", addsStarted, addsOK, counters)
	assert.GreaterOrEqual(t, counters, addsOK, "every counter command answered as done was done")
	assert.LessOrEqual(t, counters, addsStarted, "nothing reached the provider without its audit entry, or twice")
	assert.Positive(t, addsOK)
}

// bot loadtest --url refuses what it cannot use, says which flag is
// wrong, and sends nothing.
func TestLoadtestURLRefusesBadInput(t *testing.T) {
	var hits atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	target := "http://" + ln.Addr().String() + "/slack/commands"
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--url", "not a url", "--signing-secret-env", "LT_SECRET"}, "LT_SECRET=x", `--url "not a url" is not an http(s) URL`},
		{[]string{"--url", target}, "", "--url needs --signing-secret-env NAME"},
		{[]string{"--url", target, "--signing-secret-env", "LT_UNSET_SECRET"}, "", "LT_UNSET_SECRET (--signing-secret-env) is empty or unset"},
		{[]string{"--url", target, "--signing-secret-env", "LT_SECRET", "--retries", "4"}, "LT_SECRET=loadtest-canary-secret", "--retries must be between 0 and 3"},
	} {
		cmd := botIn(t, t.TempDir(), append([]string{"loadtest", "--duration", "1s", "--rate", "1"}, tc.args...)...)
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		r := runBot(t, cmd)
		assert.Equal(t, 2, r.code, r.stdout+r.stderr)
		assert.Contains(t, r.stderr, tc.want)
		assert.NotContains(t, r.stdout+r.stderr, "loadtest-canary-secret")
	}
	assert.Zero(t, hits.Load(), "nothing was sent")
}
