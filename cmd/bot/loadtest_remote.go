package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
)

// bot loadtest --url: send signed slash commands to a bot that runs
// elsewhere (one replica, or a load balancer in front of several) and act
// as Slack does. Each command has an id of its own, carried in its
// channel (CLOAD0000042) and trigger id; the fake Slack Web API this mode
// serves (point the bot's slack.api_url at it) sees every answer and
// counts it against the command's id.
//
// What it counts, per command:
//   - acked: an HTTP 200 came back, on the first delivery or a retry;
//   - not acked: none did (the connection died, a 5xx, or no answer in
//     Slack's 3 s), after the retries asked for: Slack shows the user an
//     error, and the command may or may not have run;
//   - answered: its result reached Slack (the ✅ or ❌ on its thread, or a
//     private answer through its response_url);
//   - lost: acked, yet never answered within --settle of the last send;
//   - answered twice: more than one thread or result for one command.
//
// Slack does not retry a slash command (the user sees an error and may
// type it again); it retries an event delivery that failed (connection
// failed, HTTP error, no answer in 3 s) up to three times, marked with
// X-Slack-Retry-Num and X-Slack-Retry-Reason. --retries N sends a failed
// delivery again the way Slack retries events: at once the first time,
// then after a second (Slack waits a minute, then five). The default,
// 0, is what Slack does for slash commands.

type remoteCmd struct {
	id       int
	channel  string
	first    time.Time
	ack      time.Duration
	acked    bool
	attempts int
	status   int    // of the last delivery; -1 if it failed without one
	reason   string // why the last failed delivery failed
	results  int    // ✅ or ❌ on its thread
	ok       int    // ✅ on its thread
	private  int    // answers through its response_url
	roots    int    // threads opened for it
	answered time.Duration
}

type remoteLoad struct {
	stdout, stderr io.Writer
	rate, n        int
	cmds           []string
	user           string
	secret         string
	url            string
	apiBase        string
	retries        int
	settle         time.Duration

	mu        sync.Mutex
	byChannel map[string]*remoteCmd
	all       []*remoteCmd
	roots     map[string]string // root message ts → channel
	ts        atomic.Int64
	retried   atomic.Int64
}

type remoteOptions struct {
	url, secretEnv, apiListen, record string
	retries                           int
	settle, readyWait                 time.Duration
}

func runRemoteLoadtest(ctx context.Context, o remoteOptions, rate, n int, cmds []string, user string, asJSON bool, stdout, stderr io.Writer) error {
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("--url %q is not an http(s) URL", o.url)}
	}
	if o.secretEnv == "" {
		return &exitError{code: exitInvalid, msg: "--url needs --signing-secret-env NAME: the environment variable that holds the bot's Slack signing secret"}
	}
	secret := os.Getenv(o.secretEnv)
	if secret == "" {
		return &exitError{code: exitInvalid, msg: fmt.Sprintf("the environment variable %s (--signing-secret-env) is empty or unset", o.secretEnv)}
	}
	if o.retries < 0 || o.retries > 3 {
		return &exitError{code: exitInvalid, msg: "--retries must be between 0 and 3 (Slack retries a delivery at most three times)"}
	}
	ln, err := net.Listen("tcp", o.apiListen)
	if err != nil {
		return fmt.Errorf("fake Slack Web API: %w", err)
	}
	rl := &remoteLoad{stdout: stdout, stderr: stderr, rate: rate, n: n, cmds: cmds, user: user, secret: secret,
		url: o.url, retries: o.retries, settle: o.settle, byChannel: map[string]*remoteCmd{}, roots: map[string]string{}}
	rl.apiBase = "http://" + ln.Addr().String() + "/api/"
	srv := &http.Server{Handler: rl.api(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(stderr, "fake Slack Web API on %s (the bot's slack.api_url)\n", rl.apiBase)

	ready := (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
	if _, err := waitReady(ctx, ready, o.readyWait); err != nil {
		return fmt.Errorf("%s/readyz: %w", ready, err)
	}
	fmt.Fprintf(stderr, "sending %d commands at %d/s to %s\n", n, rate, o.url)
	sendTime := rl.send(ctx)
	// Wait for the answers still coming.
	deadline := time.Now().Add(o.settle)
	for time.Now().Before(deadline) && rl.unanswered() > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	if o.record != "" {
		if err := rl.writeRecord(o.record); err != nil {
			return err
		}
	}
	return rl.report(sendTime, asJSON)
}

func (rl *remoteLoad) api() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, v map[string]any) {
		v["ok"] = true
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	form := func(r *http.Request) url.Values {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			v := url.Values{}
			for k, x := range m {
				if s, isStr := x.(string); isStr {
					v.Set(k, s)
				}
			}
			return v
		}
		v, _ := url.ParseQuery(string(b))
		return v
	}
	next := func() string {
		n := rl.ts.Add(1)
		return fmt.Sprintf("%d.%06d", 1_700_000_000+n/1_000_000, n%1_000_000)
	}
	since := func(c *remoteCmd) {
		if c.results+c.private == 1 {
			c.answered = time.Since(c.first)
		}
	}
	mux.HandleFunc("/api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		v := form(r)
		ts := next()
		if v.Get("thread_ts") == "" {
			rl.mu.Lock()
			rl.roots[ts] = v.Get("channel")
			if c := rl.byChannel[v.Get("channel")]; c != nil {
				c.roots++
			}
			rl.mu.Unlock()
		}
		ok(w, map[string]any{"channel": v.Get("channel"), "ts": ts})
	})
	mux.HandleFunc("/api/chat.update", func(w http.ResponseWriter, r *http.Request) {
		v := form(r)
		ok(w, map[string]any{"channel": v.Get("channel"), "ts": v.Get("ts")})
	})
	mux.HandleFunc("/api/chat.postEphemeral", func(w http.ResponseWriter, r *http.Request) {
		v := form(r)
		rl.mu.Lock()
		if c := rl.byChannel[v.Get("channel")]; c != nil {
			c.private++
			since(c)
		}
		rl.mu.Unlock()
		ok(w, map[string]any{"message_ts": next()})
	})
	mux.HandleFunc("/api/reactions.add", func(w http.ResponseWriter, r *http.Request) {
		v := form(r)
		if name := v.Get("name"); name == "white_check_mark" || name == "x" {
			rl.mu.Lock()
			if c := rl.byChannel[rl.roots[v.Get("timestamp")]]; c != nil {
				c.results++
				if name == "white_check_mark" {
					c.ok++
				}
				since(c)
			}
			rl.mu.Unlock()
		}
		ok(w, map[string]any{})
	})
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		ok(w, map[string]any{"user_id": "U0DESKBOT", "team_id": "T0LOAD"})
	})
	mux.HandleFunc("/api/_response/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rl.mu.Lock()
		if c := rl.byChannel[strings.TrimPrefix(r.URL.Path, "/api/_response/")]; c != nil {
			c.private++
			since(c)
		}
		rl.mu.Unlock()
		ok(w, map[string]any{})
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		ok(w, map[string]any{})
	})
	return mux
}

// send sends the commands at the rate asked and returns how long that took.
func (rl *remoteLoad) send(ctx context.Context) time.Duration {
	// Slack gives up on a slash command after 3 seconds.
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	defer client.CloseIdleConnections()
	interval := time.Second / time.Duration(rl.rate)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	start := time.Now()
	next := start
	for i := 0; i < rl.n && ctx.Err() == nil; i++ {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			rl.deliver(ctx, client, i)
		}(i)
	}
	took := time.Since(start)
	wg.Wait()
	return took
}

// deliver sends command i, and sends it again (as Slack retries a
// delivery) while it fails and retries are left.
func (rl *remoteLoad) deliver(ctx context.Context, client *http.Client, i int) {
	text := rl.cmds[i%len(rl.cmds)]
	cmd, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	c := &remoteCmd{id: i, channel: fmt.Sprintf("CLOAD%07d", i), first: time.Now()}
	rl.mu.Lock()
	rl.byChannel[c.channel] = c
	rl.all = append(rl.all, c)
	rl.mu.Unlock()
	form := url.Values{
		"token": {"x"}, "team_id": {"T0LOAD"}, "channel_id": {c.channel}, "user_id": {rl.user}, "command": {cmd}, "text": {rest},
		"response_url": {rl.apiBase + "_response/" + c.channel}, "trigger_id": {fmt.Sprintf("%d.load.%d", c.first.UnixNano(), i)},
	}
	body := []byte(form.Encode())
	for attempt := 0; attempt <= rl.retries; attempt++ {
		if attempt > 0 {
			rl.retried.Add(1)
			if attempt > 1 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
		}
		// Each delivery is signed anew, with its own timestamp.
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rl.url, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slackchat.Sign(rl.secret, ts, body))
		rl.mu.Lock()
		reason := c.reason
		c.attempts++
		rl.mu.Unlock()
		if attempt > 0 {
			req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(attempt))
			req.Header.Set("X-Slack-Retry-Reason", reason)
		}
		resp, err := client.Do(req)
		status, why := -1, ""
		switch {
		case err != nil:
			var ne net.Error
			why = "connection_failed"
			if errors.As(err, &ne) && ne.Timeout() {
				why = "http_timeout"
			}
		default:
			status = resp.StatusCode
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if status != http.StatusOK {
				why = "http_error"
			}
		}
		rl.mu.Lock()
		c.status, c.reason = status, why
		if status == http.StatusOK {
			c.acked, c.ack = true, time.Since(c.first)
		}
		rl.mu.Unlock()
		// Slack retries what failed on the way or on the server's side;
		// a refusal (4xx) is an answer.
		if status == http.StatusOK || (status > 0 && status < 500) {
			return
		}
	}
}

func (rl *remoteLoad) unanswered() int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	n := 0
	for _, c := range rl.all {
		if c.acked && c.results+c.private == 0 {
			n++
		}
	}
	return n
}

func (rl *remoteLoad) writeRecord(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	rl.mu.Lock()
	for _, c := range rl.all {
		_ = enc.Encode(map[string]any{"id": c.id, "channel": c.channel, "acked": c.acked, "deliveries": c.attempts, "status": c.status,
			"results": c.results, "succeeded": c.ok, "private_answers": c.private, "threads": c.roots})
	}
	rl.mu.Unlock()
	return f.Close()
}

func (rl *remoteLoad) report(sendTime time.Duration, asJSON bool) error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	var acks, dels []time.Duration
	acked, notAcked, answered, lost, twice, answeredNotAcked := 0, 0, 0, 0, 0, 0
	var lostIDs, twiceIDs []string
	for _, c := range rl.all {
		got := c.results + c.private
		if got > 0 {
			answered++
			dels = append(dels, c.answered)
		}
		if c.results > 1 || c.roots > 1 {
			twice++
			twiceIDs = append(twiceIDs, c.channel)
		}
		if !c.acked {
			notAcked++
			if got > 0 {
				answeredNotAcked++
			}
			continue
		}
		acked++
		acks = append(acks, c.ack)
		if got == 0 {
			lost++
			lostIDs = append(lostIDs, c.channel)
		}
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	sort.Slice(dels, func(i, j int) bool { return dels[i] < dels[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rep := map[string]any{
		"url": rl.url, "rate_asked": rl.rate, "rate_achieved": float64(len(rl.all)) / sendTime.Seconds(), "send_seconds": sendTime.Seconds(),
		"sent": len(rl.all), "acked": acked, "not_acked": notAcked, "answered_not_acked": answeredNotAcked,
		"retried_deliveries": rl.retried.Load(), "answered": answered, "lost": lost, "answered_twice": twice,
		"lost_ids": nonNil(lostIDs), "answered_twice_ids": nonNil(twiceIDs),
		"ack_ms":      map[string]float64{"p50": ms(pct(acks, .5)), "p95": ms(pct(acks, .95)), "p99": ms(pct(acks, .99)), "max": ms(pct(acks, 1))},
		"delivery_ms": map[string]float64{"p50": ms(pct(dels, .5)), "p95": ms(pct(dels, .95)), "p99": ms(pct(dels, .99)), "max": ms(pct(dels, 1))},
	}
	if asJSON {
		enc := json.NewEncoder(rl.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		w := rl.stdout
		fmt.Fprintf(w, "sent %d commands in %.1f s (%.0f/s asked %d/s) to %s\n", len(rl.all), sendTime.Seconds(), rep["rate_achieved"], rl.rate, rl.url)
		fmt.Fprintf(w, "acked %d; not acked %d (of which answered anyway %d); deliveries retried %d\n", acked, notAcked, answeredNotAcked, rl.retried.Load())
		fmt.Fprintf(w, "answered %d; lost (acked, never answered) %d; answered twice %d\n", answered, lost, twice)
		fmt.Fprintf(w, "ack (HTTP 200)      p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", ms(pct(acks, .5)), ms(pct(acks, .95)), ms(pct(acks, .99)), ms(pct(acks, 1)))
		fmt.Fprintf(w, "result delivered    p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", ms(pct(dels, .5)), ms(pct(dels, .95)), ms(pct(dels, .99)), ms(pct(dels, 1)))
		if lost > 0 {
			fmt.Fprintf(w, "lost: %s\n", strings.Join(lostIDs, " "))
		}
		if twice > 0 {
			fmt.Fprintf(w, "answered twice: %s\n", strings.Join(twiceIDs, " "))
		}
	}
	if lost > 0 || twice > 0 {
		return &exitError{code: exitFailed}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
