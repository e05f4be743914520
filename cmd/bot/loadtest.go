package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/pluginhost"
)

// defaultMix is what the load generator sends: read-only commands that
// reach the simulators of three providers, and the example plugin.
const defaultMix = "/whm account list;/cln ipl check 203.0.113.10;/cloudflow vm info shop-web;/example echo text=load"

// runLoadtest starts a bot (bot serve, with every plugin in sandbox mode
// and its Slack Web API pointed at a fake served here), sends it signed
// slash commands at a set rate for a set time, and reports ack and
// delivery latencies, errors, startup time and memory.
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rate := fs.Int("rate", 500, "slash commands per second")
	duration := fs.Duration("duration", 60*time.Second, "how long to send")
	maxN := fs.Int("max", 0, "stop after this many commands (default rate × duration)")
	mix := fs.String("commands", defaultMix, "commands to send, separated by ;")
	as := fs.String("as", "U0ALICE01", "the Slack user id that sends them")
	pluginDir := fs.String("plugins", "", "the plugin directory (default: next to this binary, else bin/plugins)")
	policy := fs.String("policy", "", "policy file (default: examples/policy.yaml when present)")
	kill := fs.String("kill-plugin", "", "after the load, SIGKILL this plugin and time its return")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	ramp := fs.String("ramp", "", "find the knee: FROM:TO:STEP commands a second (e.g. 500:2000:250), each rate for --duration, raised until a step breaks (ack p99 over --knee-ack-p99, an HTTP error, a lost command, or the rate not reached)")
	kneeAck := fs.Duration("knee-ack-p99", 5*time.Millisecond, "with --ramp: the ack p99 a step must stay within")
	pgEnv := fs.String("postgres-dsn-env", "", "store the bot's approvals and audit log in PostgreSQL, at the DSN in this environment variable (default: SQLite in a temporary folder)")
	var ro remoteOptions
	fs.StringVar(&ro.url, "url", "", "send to this bot (or load balancer) instead of starting one, e.g. http://127.0.0.1:8080/slack/commands")
	fs.StringVar(&ro.secretEnv, "signing-secret-env", "", "with --url: the environment variable holding the bot's Slack signing secret")
	fs.StringVar(&ro.apiListen, "api-listen", "127.0.0.1:0", "with --url: where the fake Slack Web API listens (point the bot's slack.api_url at it)")
	fs.IntVar(&ro.retries, "retries", 0, "with --url: send a failed delivery again up to N times, with X-Slack-Retry-Num, as Slack retries events (0: as Slack sends slash commands)")
	fs.StringVar(&ro.record, "record", "", "with --url: write one JSON line per command (id, channel, acked, answers) to this file")
	fs.DurationVar(&ro.settle, "settle", 30*time.Second, "with --url: how long to wait for answers after the last send")
	fs.DurationVar(&ro.readyWait, "ready-wait", 2*time.Minute, "with --url: how long to wait for the bot's /readyz before sending")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bot loadtest [flags]\n\nflags:")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), loadtestEnvHelp)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{code: exitInvalid}
	}
	if *duration <= 0 || (*rate <= 0 && *ramp == "") {
		// --ramp sets the rates itself.
		fmt.Fprintln(stderr, "--rate and --duration must be positive")
		return &exitError{code: exitInvalid}
	}
	n := *maxN
	if n <= 0 {
		n = int(float64(*rate) * duration.Seconds())
	}
	n = min(n, 10_000_000)
	cmds, err := splitCommands(*mix)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{code: exitInvalid}
	}
	var steps []int
	if *ramp != "" {
		if steps, err = parseRamp(*ramp); err != nil {
			fmt.Fprintln(stderr, err)
			return &exitError{code: exitInvalid}
		}
		if ro.url != "" || *kill != "" || *maxN > 0 {
			fmt.Fprintln(stderr, "--ramp starts its own bot and sends each rate for --duration: it does not take --url, --kill-plugin or --max")
			return &exitError{code: exitInvalid}
		}
	}
	if ro.url != "" {
		return runRemoteLoadtest(ctx, ro, *rate, n, cmds, *as, *asJSON, stdout, stderr)
	}
	lt := &loadtest{stdout: stdout, stderr: stderr, rate: *rate, n: n, cmds: cmds, user: *as, pending: map[string]*sample{},
		ramp: steps, stepFor: *duration, kneeAck: *kneeAck, pgEnv: *pgEnv}
	if err := lt.profilePaths(os.Getenv("LOADTEST_BOT_CPUPROFILE"), os.Getenv("LOADTEST_PLUGIN_CPUPROFILE_DIR")); err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{code: exitInvalid}
	}
	if *pgEnv != "" && os.Getenv(*pgEnv) == "" {
		fmt.Fprintf(stderr, "--postgres-dsn-env %s: the variable is empty\n", *pgEnv)
		return &exitError{code: exitInvalid}
	}
	return lt.run(ctx, *pluginDir, *policy, *kill, *asJSON)
}

// splitCommands reads --commands: slash commands separated by ";",
// blanks dropped (a trailing ";" would otherwise send empty commands,
// which no plugin answers and which would all be counted lost).
func splitCommands(s string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(s, ";") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if !strings.HasPrefix(c, "/") {
			return nil, fmt.Errorf("--commands: %q is not a slash command (commands start with /, separated by ;)", c)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("--commands: no command given (slash commands separated by ;)")
	}
	return out, nil
}

const loadtestEnvHelp = `
environment (without --url):
  LOADTEST_BOT_CPUPROFILE=FILE        profile the bot under load into FILE (go tool pprof -top FILE)
  LOADTEST_PLUGIN_CPUPROFILE_DIR=DIR  profile each plugin into DIR/NAME.pprof (DIR is created)
  The profiles are complete once loadtest has stopped the bot, as it does before it exits.
`

// profilePaths checks the profiles asked for in the environment now,
// and makes their paths absolute: the bot and the plugins run in other
// folders, and a profile they cannot create is skipped without a word.
func (lt *loadtest) profilePaths(bot, pluginDir string) error {
	// The plugins' folder first: the bot's profile may go in it too.
	if pluginDir != "" {
		abs, err := filepath.Abs(pluginDir)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return fmt.Errorf("LOADTEST_PLUGIN_CPUPROFILE_DIR: %w", err)
		}
		lt.pluginProfiles = abs
	}
	if bot != "" {
		abs, err := filepath.Abs(bot)
		if err != nil {
			return err
		}
		if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
			return fmt.Errorf("LOADTEST_BOT_CPUPROFILE %s: the folder %s does not exist", bot, filepath.Dir(abs))
		}
		lt.botProfile = abs
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// maxRampSteps bounds --ramp: each step is a run of --duration.
const maxRampSteps = 50

// parseRamp reads FROM:TO:STEP into the rates to try, in order.
func parseRamp(s string) ([]int, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("--ramp %q: want FROM:TO:STEP commands a second, e.g. 500:2000:250", s)
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--ramp %q: %q is not a positive whole number of commands a second", s, p)
		}
		v[i] = n
	}
	from, to, step := v[0], v[1], v[2]
	if to < from {
		return nil, fmt.Errorf("--ramp %q: TO (%d) is below FROM (%d)", s, to, from)
	}
	if (to-from)/step+1 > maxRampSteps {
		return nil, fmt.Errorf("--ramp %q: %d steps; at most %d (raise STEP)", s, (to-from)/step+1, maxRampSteps)
	}
	var out []int
	for r := from; r <= to; r += step {
		out = append(out, r)
	}
	return out, nil
}

type sample struct {
	sent      time.Time
	ack       time.Duration
	delivered time.Duration
	status    int
	failed    bool
	done      bool
	// messaged: the bot answered (by response_url, an ephemeral
	// message or a message in the channel); without a result after it,
	// that is how it answers a typo, a denial or a request left waiting
	// for approval.
	messaged bool
}

type loadtest struct {
	stdout, stderr io.Writer
	rate, n        int
	cmds           []string
	user           string
	secret         string
	apiBase        string
	botURL         string

	mu      sync.Mutex
	pending map[string]*sample // channel → sample
	roots   map[string]string  // root message ts → channel
	samples []*sample
	ts      atomic.Int64

	rss map[string]*rssTrack

	// ramp, if set, are the rates of a knee search, each sent for
	// stepFor; a step passes with ack p99 within kneeAck.
	ramp    []int
	stepFor time.Duration
	kneeAck time.Duration
	// sent numbers commands across steps, so each has its own channel.
	sent int
	// pgEnv names the variable holding a PostgreSQL DSN for the bot's
	// store ("": SQLite).
	pgEnv string
	// botProfile and pluginProfiles are where CPU profiles go (absolute;
	// "": none).
	botProfile, pluginProfiles string
}

type rssTrack struct {
	idle, peak, atMinute, last int64
}

// fake Slack Web API: O(1) per call, keeps only what correlation needs.
func (lt *loadtest) api() http.Handler {
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
		n := lt.ts.Add(1)
		return fmt.Sprintf("%d.%06d", 1_700_000_000+n/1_000_000, n%1_000_000)
	}
	mux.HandleFunc("/api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		v := form(r)
		ts := next()
		if v.Get("thread_ts") == "" {
			lt.mu.Lock()
			if lt.roots == nil {
				lt.roots = map[string]string{}
			}
			lt.roots[ts] = v.Get("channel")
			// Answered, but not yet with a result; the reaction on
			// this message is the result.
			if s := lt.pending[v.Get("channel")]; s != nil {
				s.messaged = true
			}
			lt.mu.Unlock()
		}
		ok(w, map[string]any{"channel": v.Get("channel"), "ts": ts})
	})
	mux.HandleFunc("/api/chat.update", func(w http.ResponseWriter, r *http.Request) {
		v := form(r)
		ok(w, map[string]any{"channel": v.Get("channel"), "ts": v.Get("ts")})
	})
	messaged := func(channel string) {
		lt.mu.Lock()
		if s := lt.pending[channel]; s != nil {
			s.messaged = true
		}
		lt.mu.Unlock()
	}
	mux.HandleFunc("/api/chat.postEphemeral", func(w http.ResponseWriter, r *http.Request) {
		messaged(form(r).Get("channel"))
		ok(w, map[string]any{"message_ts": next()})
	})
	mux.HandleFunc("/api/reactions.add", func(w http.ResponseWriter, r *http.Request) {
		v := form(r)
		name := v.Get("name")
		if name == "white_check_mark" || name == "x" {
			lt.mu.Lock()
			ch := lt.roots[v.Get("timestamp")]
			if s := lt.pending[ch]; s != nil && !s.done {
				s.done, s.failed, s.delivered = true, name == "x", time.Since(s.sent)
			}
			lt.mu.Unlock()
		}
		ok(w, map[string]any{})
	})
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		ok(w, map[string]any{"user_id": "U0DESKBOT", "team_id": "T0LOAD"})
	})
	mux.HandleFunc("/api/_response/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		messaged(strings.TrimPrefix(r.URL.Path, "/api/_response/"))
		ok(w, map[string]any{})
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		ok(w, map[string]any{})
	})
	return mux
}

func findPluginDir(given string) (string, error) {
	if given != "" {
		// The bot reads the configuration from a temporary folder and
		// takes relative paths from there: give it this one absolute.
		abs, err := filepath.Abs(given)
		if err != nil {
			return "", err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return "", fmt.Errorf("--plugins %s: not a directory (make build writes bin/plugins)", given)
		}
		return abs, nil
	}
	cwd, _ := os.Getwd()
	for _, d := range pluginDirCandidates(cwd) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	return "", errors.New("no plugin directory found; run make build or give --plugins")
}

// writeConfig writes a configuration for the bot under test.
func (lt *loadtest) writeConfig(dir, plugins, policy string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %q\nlisten: 127.0.0.1:0\nlog: {level: warn}\n", filepath.Join(dir, "data"))
	if policy == "" {
		if cwd, err := os.Getwd(); err == nil {
			if p := filepath.Join(cwd, "examples", "policy.yaml"); fileExists(p) {
				policy = p
			}
		}
	}
	if policy != "" {
		// Relative to where loadtest runs, not to the temporary folder
		// the bot reads this configuration from.
		abs, err := filepath.Abs(policy)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "policy: %q\n", abs)
	}
	if lt.pgEnv != "" {
		// PostgreSQL needs the keys replicas share; the bot gets fresh
		// ones in its environment (see run).
		fmt.Fprintf(&b, "store:\n  driver: postgres\n  dsn: {env: %s}\napproval_key: {env: LOADTEST_APPROVAL_KEY}\naudit_key: {env: LOADTEST_AUDIT_KEY}\n", lt.pgEnv)
	}
	fmt.Fprintf(&b, "slack:\n  signing_secret: {env: LOADTEST_SIGNING_SECRET}\n  bot_token: {env: LOADTEST_BOT_TOKEN}\n  api_url: %q\n", lt.apiBase)
	fmt.Fprintf(&b, "plugins:\n  dir: %q\n  list:\n", plugins)
	entries, err := os.ReadDir(plugins)
	if err != nil {
		return "", err
	}
	found := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode()&0o111 == 0 {
			continue
		}
		sum, err := pluginhost.FileSHA256(filepath.Join(plugins, e.Name()))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "    - name: %s\n      path: %s\n      sha256: %s\n      targets:\n        - name: sandbox\n          sandbox: true\n          state_dir: %q\n",
			e.Name(), e.Name(), sum, filepath.Join(dir, "sandbox", e.Name()))
		// LOADTEST_PLUGIN_CPUPROFILE_DIR=DIR profiles each plugin into
		// DIR/NAME.pprof (the host passes a plugin only its configured
		// environment).
		if lt.pluginProfiles != "" {
			fmt.Fprintf(&b, "      env:\n        DESKBOT_PLUGIN_CPUPROFILE: %q\n", filepath.Join(lt.pluginProfiles, e.Name()+".pprof"))
		}
		found++
	}
	if found == 0 {
		return "", fmt.Errorf("no plugin executables in %s: run make build (or make plugin NAME=...), or give --plugins", plugins)
	}
	path := filepath.Join(dir, "bot.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// logTail is the last line of the bot's log: the error it stopped on.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if last := lines[len(lines)-1]; last != "" {
		return last
	}
	return "nothing logged"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

var servingRE = regexp.MustCompile(`serving on (http://\S+)`)

func (lt *loadtest) run(ctx context.Context, pluginDir, policy, kill string, asJSON bool) error {
	plugins, err := findPluginDir(pluginDir)
	if err != nil {
		return err
	}
	// Found out now, not after the whole load has been sent.
	if kill != "" && (strings.ContainsRune(kill, '/') || !fileExists(filepath.Join(plugins, kill))) {
		fmt.Fprintf(lt.stderr, "--kill-plugin %s: no such plugin in %s\n", kill, plugins)
		return &exitError{code: exitInvalid}
	}
	dir, err := os.MkdirTemp("", "deskbot-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var sb [24]byte
	_, _ = rand.Read(sb[:])
	lt.secret = hex.EncodeToString(sb[:])

	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	apiSrv := &http.Server{Handler: lt.api(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = apiSrv.Serve(apiLn) }()
	defer apiSrv.Close()
	lt.apiBase = "http://" + apiLn.Addr().String() + "/api/"

	cfg, err := lt.writeConfig(dir, plugins, policy)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("deskbot-loadtest-%d.log", os.Getpid()))
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	bot := exec.Command(self, "serve", "--config", cfg)
	bot.Env = append(os.Environ(), "LOADTEST_SIGNING_SECRET="+lt.secret, "LOADTEST_BOT_TOKEN=xoxb-loadtest",
		"LOADTEST_APPROVAL_KEY="+randomHex(24), "LOADTEST_AUDIT_KEY="+randomHex(24))
	if lt.botProfile != "" {
		bot.Env = append(bot.Env, "DESKBOT_CPUPROFILE="+lt.botProfile)
		defer fmt.Fprintf(lt.stderr, "bot CPU profile: %s\n", lt.botProfile)
	}
	if lt.pluginProfiles != "" {
		defer fmt.Fprintf(lt.stderr, "plugin CPU profiles: %s\n", filepath.Join(lt.pluginProfiles, "NAME.pprof"))
	}
	bot.Stderr = logf
	out, _ := bot.StdoutPipe()
	started := time.Now()
	if err := bot.Start(); err != nil {
		return err
	}
	defer func() {
		_ = bot.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = bot.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = bot.Process.Kill()
		}
	}()
	addr := make(chan string, 1)
	stdoutDone := make(chan struct{})
	go func() {
		defer close(stdoutDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case lt.botURL = <-addr:
	case <-stdoutDone:
		// The bot stopped before serving (a configuration it refused, a
		// store it could not reach): say why now, in its own words.
		_ = bot.Wait()
		err := fmt.Errorf("the bot exited before serving (%s): %s; see %s", bot.ProcessState, logTail(logPath), logPath)
		if lt.pgEnv != "" {
			// Each run seals its audit entries with a key of its own, so
			// a database an earlier run (or a real bot) wrote is refused.
			err = fmt.Errorf("%w\n--postgres-dsn-env needs an empty database or schema of its own: each run has fresh approval and audit keys, and the bot refuses an audit log sealed with another key (drop and recreate it between runs, as make curves does)", err)
		}
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the bot did not start; see %s", logPath)
	}
	ready, err := waitReady(ctx, lt.botURL, 30*time.Second)
	if err != nil {
		return fmt.Errorf("%w; see %s", err, logPath)
	}
	readyIn := ready.Sub(started)

	lt.rss = map[string]*rssTrack{}
	time.Sleep(time.Second)
	lt.sampleRSS(bot.Process.Pid, func(t *rssTrack, v int64) { t.idle = v })

	stopSampling := make(chan struct{})
	loadStart := time.Now()
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		minuteDone := false
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				atMinute := !minuteDone && time.Since(loadStart) >= time.Minute
				lt.sampleRSS(bot.Process.Pid, func(t *rssTrack, v int64) {
					t.peak = max(t.peak, v)
					t.last = v
					if atMinute {
						t.atMinute = v
					}
				})
				minuteDone = minuteDone || atMinute
			}
		}
	}()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	if len(lt.ramp) > 0 {
		err := lt.findKnee(ctx, client, asJSON)
		close(stopSampling)
		sampling.Wait()
		if err != nil {
			return fmt.Errorf("%w; bot log: %s", err, logPath)
		}
		return nil
	}
	sendTime := lt.load(ctx, client)
	close(stopSampling)
	sampling.Wait()

	var restart time.Duration
	var restartErr error
	if kill != "" {
		restart, restartErr = lt.killAndWait(ctx, bot.Process.Pid, kill)
	}
	return lt.report(readyIn, sendTime, restart, restartErr, kill, logPath, asJSON)
}

// load sends lt.n commands at lt.rate, waits up to 30 s for their
// results, and returns how long the sending took.
func (lt *loadtest) load(ctx context.Context, client *http.Client) time.Duration {
	start := time.Now()
	interval := time.Second / time.Duration(lt.rate)
	sem := make(chan struct{}, 512)
	var wg sync.WaitGroup
	next := time.Now()
	for i := 0; i < lt.n; i++ {
		if ctx.Err() != nil {
			break
		}
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		sem <- struct{}{}
		wg.Add(1)
		lt.sent++
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			lt.send(client, i)
		}(lt.sent)
	}
	sendTime := time.Since(start)
	wg.Wait()
	// Wait for the results still coming.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if lt.outstanding() == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return sendTime
}

// kneeStep is one rate of a knee search and how the bot held it.
type kneeStep struct {
	Rate       int     `json:"rate"`
	Achieved   float64 `json:"rate_achieved"`
	Sent       int     `json:"sent"`
	HTTPErrors int     `json:"http_errors"`
	Lost       int     `json:"lost"`
	// LostMessaged of Lost were answered with a message and no result.
	LostMessaged int     `json:"lost_answered_with_message,omitempty"`
	AckP50       float64 `json:"ack_p50_ms"`
	AckP99       float64 `json:"ack_p99_ms"`
	DelivP99     float64 `json:"delivery_p99_ms"`
	Passed       bool    `json:"passed"`
	Why          string  `json:"why,omitempty"`
}

// findKnee sends each rate of the ramp for stepFor, one after another
// on the same bot, and stops at the first that breaks: the knee is the
// last rate that held (ack p99 within kneeAck, no HTTP error, nothing
// lost, the rate reached within 5%).
func (lt *loadtest) findKnee(ctx context.Context, client *http.Client, asJSON bool) error {
	// Warm up for two seconds at the first rate, not judged: the first
	// calls of each plugin connection and prepared statement are not
	// what a sustained rate costs.
	lt.mu.Lock()
	lt.rate, lt.n = lt.ramp[0], 2*lt.ramp[0]
	lt.mu.Unlock()
	lt.load(ctx, client)
	var steps []kneeStep
	knee := 0
	for _, rate := range lt.ramp {
		if ctx.Err() != nil {
			break
		}
		lt.mu.Lock()
		lt.rate, lt.n = rate, int(float64(rate)*lt.stepFor.Seconds())
		lt.samples, lt.pending, lt.roots = nil, map[string]*sample{}, map[string]string{}
		lt.mu.Unlock()
		sendTime := lt.load(ctx, client)
		st := lt.step(rate, sendTime)
		steps = append(steps, st)
		if !asJSON {
			mark := "held"
			if !st.Passed {
				mark = "BROKE: " + st.Why
			}
			fmt.Fprintf(lt.stdout, "%5d/s for %s: sent %d (%.0f/s), HTTP errors %d, lost %d, ack p50 %.2f ms p99 %.2f ms, delivery p99 %.1f ms: %s\n",
				rate, lt.stepFor, st.Sent, st.Achieved, st.HTTPErrors, st.Lost, st.AckP50, st.AckP99, st.DelivP99, mark)
		}
		if !st.Passed {
			break
		}
		knee = rate
	}
	if asJSON {
		enc := json.NewEncoder(lt.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"knee": knee, "knee_ack_p99_ms": float64(lt.kneeAck.Microseconds()) / 1000, "step_duration_s": lt.stepFor.Seconds(), "steps": steps})
	}
	switch {
	case knee == 0:
		fmt.Fprintf(lt.stdout, "knee: none; the first rate (%d/s) already broke\n", lt.ramp[0])
	case len(steps) == len(lt.ramp) && steps[len(steps)-1].Passed:
		fmt.Fprintf(lt.stdout, "knee: at least %d/s (every rate held; raise TO)\n", knee)
	default:
		fmt.Fprintf(lt.stdout, "knee: %d/s (the highest rate held for %s with ack p99 within %s and nothing lost)\n", knee, lt.stepFor, lt.kneeAck)
	}
	return nil
}

// step judges the samples of one rate.
func (lt *loadtest) step(rate int, sendTime time.Duration) kneeStep {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	st := kneeStep{Rate: rate, Sent: len(lt.samples), Achieved: float64(len(lt.samples)) / sendTime.Seconds()}
	var acks, dels []time.Duration
	for _, s := range lt.samples {
		switch {
		case s.status != 200:
			st.HTTPErrors++
		case !s.done:
			st.Lost++
			if s.messaged {
				st.LostMessaged++
			}
			acks = append(acks, s.ack)
		default:
			acks = append(acks, s.ack)
			dels = append(dels, s.delivered)
		}
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	sort.Slice(dels, func(i, j int) bool { return dels[i] < dels[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	st.AckP50, st.AckP99, st.DelivP99 = ms(pct(acks, .5)), ms(pct(acks, .99)), ms(pct(dels, .99))
	switch {
	case st.HTTPErrors > 0:
		st.Why = fmt.Sprintf("%d HTTP errors", st.HTTPErrors)
	case st.Lost > 0:
		st.Why = fmt.Sprintf("%d commands lost", st.Lost)
		if st.LostMessaged > 0 {
			st.Why += fmt.Sprintf(" (%d %s)", st.LostMessaged, messagedHint)
		}
	case pct(acks, .99) > lt.kneeAck:
		st.Why = fmt.Sprintf("ack p99 %.2f ms over %s", st.AckP99, lt.kneeAck)
	case st.Achieved < 0.95*float64(rate):
		st.Why = fmt.Sprintf("sent only %.0f/s: the load generator could not keep up", st.Achieved)
	default:
		st.Passed = true
	}
	return st
}

func waitReady(ctx context.Context, base string, limit time.Duration) (time.Time, error) {
	end := time.Now().Add(limit)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(end) {
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Now(), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, errors.New("the bot did not become ready")
}

func (lt *loadtest) send(client *http.Client, i int) {
	text := lt.cmds[i%len(lt.cmds)]
	cmd, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	channel := fmt.Sprintf("CLOAD%07d", i)
	form := url.Values{
		"token": {"x"}, "team_id": {"T0LOAD"}, "channel_id": {channel}, "user_id": {lt.user}, "command": {cmd}, "text": {rest},
		"response_url": {lt.apiBase + "_response/" + channel}, "trigger_id": {fmt.Sprintf("%d.load.%d", time.Now().UnixNano(), i)},
	}
	body := []byte(form.Encode())
	s := &sample{}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, lt.botURL+"/slack/commands", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackchat.Sign(lt.secret, ts, body))
	lt.mu.Lock()
	lt.pending[channel] = s
	lt.samples = append(lt.samples, s)
	// The clock starts as the request leaves, as Slack's does: building
	// and signing it here is the load generator's cost, not the bot's.
	s.sent = time.Now()
	lt.mu.Unlock()
	resp, err := client.Do(req)
	ack := time.Since(s.sent)
	lt.mu.Lock()
	defer lt.mu.Unlock()
	s.ack = ack
	if err != nil {
		s.status = -1
		return
	}
	s.status = resp.StatusCode
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func (lt *loadtest) outstanding() int {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	n := 0
	for _, s := range lt.samples {
		if s.status == 200 && !s.done {
			n++
		}
	}
	return n
}

// sampleRSS reads the resident memory of the bot and of its children.
func (lt *loadtest) sampleRSS(pid int, set func(t *rssTrack, kb int64)) {
	procs := map[string]int{"bot": pid}
	for _, c := range childPIDs(pid) {
		procs[procName(c)] = c
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for name, p := range procs {
		kb := rssKB(p)
		if kb <= 0 {
			continue
		}
		t := lt.rss[name]
		if t == nil {
			t = &rssTrack{}
			lt.rss[name] = t
		}
		set(t, kb)
	}
}

func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 {
			if pp, _ := strconv.Atoi(f[1]); pp == pid {
				out = append(out, p)
			}
		}
	}
	return out
}

func procName(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	name := strings.SplitN(string(b), "\x00", 2)[0]
	return filepath.Base(name)
}

func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

// killAndWait kills a plugin and measures until the bot is ready again.
func (lt *loadtest) killAndWait(ctx context.Context, botPID int, name string) (time.Duration, error) {
	for _, c := range childPIDs(botPID) {
		if procName(c) == name {
			start := time.Now()
			if err := syscall.Kill(c, syscall.SIGKILL); err != nil {
				return 0, err
			}
			// The bot notices (the process exits), restarts it and is ready.
			time.Sleep(5 * time.Millisecond)
			for time.Since(start) < 30*time.Second {
				alive := false
				for _, c2 := range childPIDs(botPID) {
					if procName(c2) == name && c2 != c {
						alive = true
					}
				}
				if alive {
					if _, err := waitReady(ctx, lt.botURL, 10*time.Second); err != nil {
						return 0, err
					}
					return time.Since(start), nil
				}
				time.Sleep(2 * time.Millisecond)
			}
			return 0, errors.New("the plugin did not come back")
		}
	}
	return 0, fmt.Errorf("no plugin %q runs", name)
}

// messagedHint explains commands counted lost that the bot did answer,
// with a message and no result: most often a --commands mix the user
// may not run as typed.
const messagedHint = "answered with a message and no result (a misspelt command, a denial, a request waiting for approval): check --commands and --as"

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p)
	return ds[i]
}

func (lt *loadtest) report(readyIn, sendTime, restart time.Duration, restartErr error, kill, logPath string, asJSON bool) error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	var acks, dels []time.Duration
	errs, lost, lostMessaged, failed := 0, 0, 0, 0
	for _, s := range lt.samples {
		if s.status != 200 {
			errs++
			continue
		}
		acks = append(acks, s.ack)
		switch {
		case !s.done:
			lost++
			if s.messaged {
				lostMessaged++
			}
		case s.failed:
			failed++
			dels = append(dels, s.delivered)
		default:
			dels = append(dels, s.delivered)
		}
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	sort.Slice(dels, func(i, j int) bool { return dels[i] < dels[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rep := map[string]any{
		"sent": len(lt.samples), "rate_asked": lt.rate, "rate_achieved": float64(len(lt.samples)) / sendTime.Seconds(),
		"http_errors": errs, "lost": lost, "lost_answered_with_message": lostMessaged, "failed_commands": failed,
		"ack_ms":      map[string]float64{"p50": ms(pct(acks, .5)), "p95": ms(pct(acks, .95)), "p99": ms(pct(acks, .99)), "max": ms(pct(acks, 1))},
		"delivery_ms": map[string]float64{"p50": ms(pct(dels, .5)), "p95": ms(pct(dels, .95)), "p99": ms(pct(dels, .99)), "max": ms(pct(dels, 1))},
		"ready_ms":    ms(readyIn),
	}
	mem := map[string]map[string]float64{}
	for name, t := range lt.rss {
		mem[name] = map[string]float64{"idle_mb": float64(t.idle) / 1024, "peak_mb": float64(t.peak) / 1024, "end_mb": float64(t.last) / 1024}
		if t.atMinute > 0 {
			mem[name]["after_1min_mb"] = float64(t.atMinute) / 1024
		}
	}
	rep["rss"] = mem
	if kill != "" {
		if restartErr != nil {
			rep["restart_error"] = restartErr.Error()
		} else {
			rep["restart_ms"] = ms(restart)
		}
	}
	if asJSON {
		enc := json.NewEncoder(lt.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	w := lt.stdout
	fmt.Fprintf(w, "bot ready in %.0f ms (plugins started)\n", ms(readyIn))
	fmt.Fprintf(w, "sent %d commands in %.1f s (%.0f/s asked %d/s); HTTP errors %d; lost %d; failed %d\n",
		len(lt.samples), sendTime.Seconds(), rep["rate_achieved"], lt.rate, errs, lost, failed)
	if lostMessaged > 0 {
		fmt.Fprintf(w, "of the lost, %d %s\n", lostMessaged, messagedHint)
	}
	fmt.Fprintf(w, "ack (HTTP 200)      p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", ms(pct(acks, .5)), ms(pct(acks, .95)), ms(pct(acks, .99)), ms(pct(acks, 1)))
	fmt.Fprintf(w, "result delivered    p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", ms(pct(dels, .5)), ms(pct(dels, .95)), ms(pct(dels, .99)), ms(pct(dels, 1)))
	names := make([]string, 0, len(mem))
	for n := range mem {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := mem[n]
		line := fmt.Sprintf("rss %-10s idle %5.1f MB  peak %5.1f MB  end %5.1f MB", n, m["idle_mb"], m["peak_mb"], m["end_mb"])
		if v, ok := m["after_1min_mb"]; ok {
			line += fmt.Sprintf("  after 1 min %5.1f MB", v)
		}
		fmt.Fprintln(w, line)
	}
	if kill != "" {
		if restartErr != nil {
			fmt.Fprintf(w, "plugin %s after SIGKILL: %v\n", kill, restartErr)
		} else {
			fmt.Fprintf(w, "plugin %s after SIGKILL: serving again in %.0f ms\n", kill, ms(restart))
		}
	}
	fmt.Fprintf(w, "bot log: %s\n", logPath)
	if errs > 0 || lost > 0 || restartErr != nil {
		return &exitError{code: exitFailed}
	}
	return nil
}
