package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRamp(t *testing.T) {
	got, err := parseRamp("500:2000:250")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{500, 750, 1000, 1250, 1500, 1750, 2000}; !slices.Equal(got, want) {
		t.Errorf("500:2000:250 = %v, want %v", got, want)
	}
	if got, _ := parseRamp("100:150:100"); !slices.Equal(got, []int{100}) {
		t.Errorf("a step past TO is not sent: %v", got)
	}
	for in, want := range map[string]string{
		"500:2000":      "want FROM:TO:STEP",
		"500:x:250":     `"x" is not a positive whole number`,
		"500:2000:0":    `"0" is not a positive`,
		"2000:500:250":  "TO (500) is below FROM (2000)",
		"1:100000:1000": "100 steps; at most 50",
	} {
		if _, err := parseRamp(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRamp(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

// A step holds only with every command acked in time and answered, at
// the rate asked.
func TestKneeStepJudgement(t *testing.T) {
	lt := &loadtest{kneeAck: 5 * time.Millisecond}
	ok := func(ack time.Duration) *sample {
		return &sample{status: 200, done: true, ack: ack, delivered: 10 * time.Millisecond}
	}
	fill := func(extra ...*sample) {
		lt.samples = nil
		for range 200 {
			lt.samples = append(lt.samples, ok(time.Millisecond))
		}
		lt.samples = append(lt.samples, extra...)
	}
	fill()
	if st := lt.step(200, time.Second); !st.Passed {
		t.Errorf("a clean step broke: %s", st.Why)
	}
	fill(&sample{status: 200, ack: time.Millisecond})
	if st := lt.step(200, time.Second); st.Passed || st.Lost != 1 || !strings.Contains(st.Why, "1 commands lost") {
		t.Errorf("a lost command: %+v", st)
	}
	fill(&sample{status: 503})
	if st := lt.step(200, time.Second); st.Passed || st.HTTPErrors != 1 {
		t.Errorf("an HTTP error: %+v", st)
	}
	fill(ok(9*time.Millisecond), ok(9*time.Millisecond), ok(9*time.Millisecond), ok(9*time.Millisecond), ok(9*time.Millisecond))
	if st := lt.step(200, time.Second); st.Passed || !strings.Contains(st.Why, "ack p99") {
		t.Errorf("a slow tail: %+v", st)
	}
	fill()
	if st := lt.step(400, time.Second); st.Passed || !strings.Contains(st.Why, "could not keep up") {
		t.Errorf("half the rate asked: %+v", st)
	}
}

// --commands drops blanks (a trailing ";" sent empty commands, all
// counted lost) and refuses what is not a slash command.
func TestSplitCommands(t *testing.T) {
	got, err := splitCommands(" /example echo text=load ; ;/whm account list;")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/example echo text=load", "/whm account list"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for in, want := range map[string]string{
		" ; ":          "no command given",
		"example echo": "not a slash command",
	} {
		if _, err := splitCommands(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("splitCommands(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

// The bot reads its configuration from a temporary folder and plugins
// run in theirs: paths given relative to where loadtest runs must reach
// them absolute, and a folder with no plugin is refused rather than
// every command counted lost.
func TestLoadtestPaths(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("plugins", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := findPluginDir("plugins")
	if err != nil || !filepath.IsAbs(dir) {
		t.Fatalf("findPluginDir(plugins) = %q, %v; want an absolute path", dir, err)
	}
	if _, err := findPluginDir("nosuch"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a missing --plugins folder: %v", err)
	}
	lt := &loadtest{}
	if _, err := lt.writeConfig(t.TempDir(), dir, ""); err == nil || !strings.Contains(err.Error(), "no plugin executables") {
		t.Errorf("an empty plugin folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := lt.profilePaths("bot.pprof", "prof"); err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(lt.botProfile) || !filepath.IsAbs(lt.pluginProfiles) {
		t.Errorf("profile paths %q, %q: want absolute", lt.botProfile, lt.pluginProfiles)
	}
	if st, err := os.Stat("prof"); err != nil || !st.IsDir() {
		t.Errorf("the plugin profile folder was not created: %v", err)
	}
	cfg, err := lt.writeConfig(t.TempDir(), dir, "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfg)
	for _, want := range []string{filepath.Join(lt.pluginProfiles, "acme.pprof"), `policy: "` + filepath.Join(filepath.Dir(dir), "policy.yaml")} {
		if !strings.Contains(string(b), want) {
			t.Errorf("configuration lacks %q:\n%s", want, b)
		}
	}
	if err := lt.profilePaths("both/bot.pprof", "both"); err != nil {
		t.Errorf("the bot's profile in the plugins' profile folder, which does not exist yet: %v", err)
	}
	if err := lt.profilePaths("nosuch/bot.pprof", ""); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a profile in a missing folder: %v", err)
	}
}

// A command the bot answers with a message and never a result (a typo,
// a denial, a wait for approval) is still lost, but the report says it
// was answered, so the user checks the mix rather than the bot.
func TestLoadtestLostButAnswered(t *testing.T) {
	lt := &loadtest{pending: map[string]*sample{}, kneeAck: 5 * time.Millisecond}
	api := httptest.NewServer(lt.api())
	defer api.Close()
	for _, ch := range []string{"CTYPO", "CAPPROVAL", "CSILENT", "CDONE"} {
		s := &sample{status: 200, sent: time.Now()}
		lt.pending[ch] = s
		lt.samples = append(lt.samples, s)
	}
	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		resp, err := http.PostForm(api.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return v
	}
	post("/api/_response/CTYPO", url.Values{"text": {"no such command"}})
	post("/api/chat.postMessage", url.Values{"channel": {"CAPPROVAL"}, "text": {"waiting for approval"}})
	ts, _ := post("/api/chat.postMessage", url.Values{"channel": {"CDONE"}})["ts"].(string)
	post("/api/reactions.add", url.Values{"channel": {"CDONE"}, "timestamp": {ts}, "name": {"white_check_mark"}})

	st := lt.step(4, time.Second)
	if st.Lost != 3 || st.LostMessaged != 2 {
		t.Errorf("lost %d (answered %d), want 3 (2)", st.Lost, st.LostMessaged)
	}
	if !strings.Contains(st.Why, "2 answered with a message and no result") {
		t.Errorf("why: %q", st.Why)
	}
}

// Usage mistakes are refused before a bot starts or a command is sent,
// with exit status 2.
func TestLoadtestRefusesUsageUpFront(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(filepath.Join(plugins, "acme"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "0"}, "--rate and --duration must be positive"},
		{[]string{"--duration", "0s", "--ramp", "100:200:100"}, "--rate and --duration must be positive"},
		{[]string{"--kill-plugin", "nosuch", "--plugins", plugins}, "--kill-plugin nosuch: no such plugin"},
		{[]string{"--commands", ";"}, "--commands: no command given"},
	} {
		var out, errb strings.Builder
		err := runLoadtest(t.Context(), tc.args, &out, &errb)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitInvalid {
			t.Errorf("%v: %v, want exit status %d", tc.args, err, exitInvalid)
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: said %q, want %q", tc.args, errb.String(), tc.want)
		}
	}
	// --ramp sets the rates: --rate 0 beside it is no mistake.
	// (An empty plugin folder stops it before a bot starts.)
	var errb strings.Builder
	_ = runLoadtest(t.Context(), []string{"--ramp", "100:200:100", "--rate", "0", "--plugins", t.TempDir()}, io.Discard, &errb)
	if strings.Contains(errb.String(), "must be positive") {
		t.Errorf("--rate 0 with --ramp refused: %s", errb.String())
	}
}
