package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

// chromium finds a Chromium to drive, or skips (fails where CI asks for
// the browser tests with DESKBOT_REQUIRE_BROWSER=1).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("DESKBOT_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found (install Debian's chromium package)")
	}
	t.Skip("no Chromium found; .ci/run installs it")
	return ""
}

// startPlayground runs bin/bot serve --playground and returns its URL.
func startPlayground(t *testing.T) string {
	t.Helper()
	dir := workDir(t)
	cmd := botIn(t, dir, "serve", "--playground", "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	} else {
		cmd.Stderr = nil
	}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`open (http://\S+) in a browser`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(testbin.Patience):
		t.Fatal("the playground did not print its URL")
	}
	return ""
}

func artifacts(t *testing.T) string {
	dir := filepath.Join(testbin.Root(), "artifacts", "playground")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// In the browser: alice asks for a high-risk command, the approval card
// appears; her own Approve is refused; carol approves and confirms; the
// result appears in the request's thread.
func TestPlaygroundApprovalInTheBrowser(t *testing.T) {
	exe := chromium(t)
	testbin.Plugin(t, "example")
	url := startPlayground(t)
	shots := artifacts(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Bounds a hang only; every step waits for what it needs to see.
	ctx, cancelT := context.WithTimeout(ctx, 2*testbin.Patience)
	defer cancelT()

	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err, sel)
		return s
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...), "screenshots in %s", shots)
	}
	approveButton := `button[data-action-id="approval_approve"]`

	do(chromedp.Navigate(url+"?as=alice"),
		chromedp.WaitVisible(`body[data-ready="1"]`),
		chromedp.SendKeys(`#text`, "/example counter add 5"),
		chromedp.Click(`#send`),
		chromedp.WaitVisible(approveButton))
	shot("1-approval-card")

	// alice approves her own request: refused.
	do(chromedp.Click(approveButton), chromedp.WaitVisible(`#confirm-ok`))
	shot("2-confirm-dialog")
	do(chromedp.Click(`#confirm-ok`), chromedp.WaitVisible(`.msg.ephemeral`))
	refused := text(`.msg.ephemeral`)
	shot("3-own-approval-refused")
	require.Contains(t, refused, "cannot approve your own request")

	// carol approves and confirms.
	do(chromedp.SetValue(`#user`, "U0CAROL01"))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#user').dispatchEvent(new Event('change'))`))
	require.NoError(t, err)
	do(chromedp.WaitVisible(approveButton), chromedp.Click(approveButton), chromedp.WaitVisible(`#confirm-ok`), chromedp.Click(`#confirm-ok`))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#messages').innerText.includes('Request succeeded') && document.querySelectorAll('.thread .msg').length >= 2`, chromedp.WithPollingTimeout(testbin.Patience)))
	require.NoError(t, err, "the card says it succeeded and the result is in the thread; screenshots in %s", shots)
	shot("4-result-in-thread")
	card := text(`#messages .msg`)
	thread := text(`.thread`)
	require.Contains(t, card, "Request succeeded: /example counter add n=5")
	require.Contains(t, thread, "/example counter add")
	require.Regexp(t, `(?i)counter`, strings.ToLower(thread))
	t.Logf("screenshots in %s", shots)
}

// Without a browser: the page is served from the binary, and a command
// sent through the playground reaches the bot's signed endpoint and comes
// back as messages.
func TestPlaygroundEndpoints(t *testing.T) {
	testbin.Plugin(t, "example")
	url := startPlayground(t)
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, path)
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	require.Contains(t, get(""), `<script src="app.js">`)
	require.Contains(t, get("app.js"), "/playground/command")
	require.Contains(t, get("playground/config"), `"name":"carol","id":"U0CAROL01"`)
	resp, err := http.Post(url+"playground/command", "application/json", strings.NewReader(`{"user":"U0BOB0001","channel":"support","text":"/example echo text=hello"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Eventually(t, func() bool { return strings.Contains(get("playground/state"), "hello") }, testbin.Patience, 50*time.Millisecond)
	resp, err = http.Post(url+"playground/command", "application/json", strings.NewReader(`{"user":"U0NOBODY","channel":"support","text":"/example echo text=x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode, "only the policy's users")

	// The command builder: /ops run opens it, and what is typed in its
	// picker goes to the bot's options URL and comes back as options.
	resp, err = http.Post(url+"playground/command", "application/json", strings.NewReader(`{"user":"U0ALICE01","channel":"support","text":"/ops run"}`))
	require.NoError(t, err)
	resp.Body.Close()
	var viewID string
	require.Eventually(t, func() bool {
		var st struct {
			Views []struct {
				ID   string          `json:"id"`
				User string          `json:"user"`
				View json.RawMessage `json:"view"`
			} `json:"views"`
		}
		if json.Unmarshal([]byte(get("playground/state")), &st) != nil {
			return false
		}
		for _, v := range st.Views {
			if v.User == "U0ALICE01" && strings.Contains(string(v.View), `"command_builder"`) {
				viewID = v.ID
				return true
			}
		}
		return false
	}, testbin.Patience, 50*time.Millisecond, "the builder opened")
	resp, err = http.Post(url+"playground/options", "application/json", strings.NewReader(
		`{"user":"U0ALICE01","viewID":"`+viewID+`","blockID":"builder_command","actionID":"builder_command","value":"gree"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"value":"example greet"`)
}

func TestPlaygroundListensOnLoopbackOnly(t *testing.T) {
	r := runBot(t, botIn(t, workDir(t), "serve", "--playground", "--addr", "0.0.0.0:0"))
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "loopback only")
}

// In the browser: alice opens the command builder with /ops run, searches
// for a command, lets the plugin complete a value as she types, and runs
// it; the result is posted as for a typed command.
func TestPlaygroundCommandBuilderInTheBrowser(t *testing.T) {
	exe := chromium(t)
	testbin.Plugin(t, "example")
	url := startPlayground(t)
	shots := artifacts(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Bounds a hang only; every step waits for what it needs to see.
	ctx, cancelT := context.WithTimeout(ctx, 2*testbin.Patience)
	defer cancelT()
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644))
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...), "screenshots in %s", shots)
	}

	do(chromedp.Navigate(url+"?as=alice"),
		chromedp.WaitVisible(`body[data-ready="1"]`),
		chromedp.SendKeys(`#text`, "/ops run"),
		chromedp.Click(`#send`),
		chromedp.WaitVisible(`#in-builder_command`),
		chromedp.SendKeys(`#in-builder_command`, "gree"),
		chromedp.WaitVisible(`.options button[data-value="example greet"]`))
	shot("builder-1-command-search")
	do(chromedp.Click(`.options button[data-value="example greet"]`),
		chromedp.WaitVisible(`#in-param_name`),
		chromedp.SendKeys(`#in-param_name`, "ca"),
		chromedp.WaitVisible(`.options button[data-value="carol"]`))
	shot("builder-2-completed-value")
	do(chromedp.Click(`.options button[data-value="carol"]`), chromedp.Click(`#modal-submit`))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#messages').innerText.includes('Hello, carol!')`, chromedp.WithPollingTimeout(testbin.Patience)))
	require.NoError(t, err, "the command built in the modal ran; screenshots in %s", shots)
	shot("builder-3-result")
	msgs, err := chromedp.Run(ctx, chromedp.Text(`#messages`))
	require.NoError(t, err)
	require.Contains(t, msgs, "/example greet name=carol")
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#overlay').hidden`))
	require.NoError(t, err)
	require.True(t, hidden, "the modal closed")
}

// In the browser: the start page offers commands to click; plain text
// gets the bot's hint in the conversation, not an alert; a plan's "&"
// shows once escaped, as in Slack; and the App Home tab shows an
// approver what waits for them, with a button that approves it.
func TestPlaygroundStartPagePlainTextPlanAndHomeInTheBrowser(t *testing.T) {
	exe := chromium(t)
	testbin.Plugin(t, "example")
	testbin.Plugin(t, "whm")
	url := startPlayground(t)
	shots := artifacts(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Bounds a hang only; every step waits for what it needs to see.
	ctx, cancelT := context.WithTimeout(ctx, 2*testbin.Patience)
	defer cancelT()
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644))
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...), "screenshots in %s", shots)
	}
	poll := func(js, what string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(testbin.Patience)))
		require.NoError(t, err, "%s; screenshots in %s", what, shots)
	}
	messages := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(`#messages`))
		require.NoError(t, err)
		return s
	}

	// The start page: commands to click.
	do(chromedp.Navigate(url+"?as=alice"),
		chromedp.WaitVisible(`body[data-ready="1"]`),
		chromedp.WaitVisible(`#start button.try[data-command="/whm help"]`),
		chromedp.WaitVisible(`#start button.try[data-command="/ops run"]`))
	shot("start-1-page")
	do(chromedp.Click(`#start button.try[data-command="/example greet name=alice"]`))
	poll(`document.querySelector('#messages').innerText.includes('Hello, alice!')`, "the clicked command ran")

	// Plain text: the bot's hint, in the conversation; never an alert.
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.alerted = false; window.alert = () => { window.alerted = true; }; true`))
	require.NoError(t, err)
	do(chromedp.SendKeys(`#text`, "hello bot"), chromedp.Click(`#send`))
	poll(`[...document.querySelectorAll('.msg.ephemeral')].some((m) => m.innerText.includes('is not a command: slash commands start with /'))`, "plain text gets a reply")
	alerted, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.alerted`))
	require.NoError(t, err)
	require.False(t, alerted, "no alert()")
	shot("start-2-plain-text")

	// A plan's "&" is shown once escaped.
	do(chromedp.SendKeys(`#text`, "/whm account suspend blogger reason=abuse --plan"), chromedp.Click(`#send`))
	poll(`document.querySelector('#messages').innerText.includes('api.version=1&reason=abuse')`, "the plan's query shows a plain &")
	require.NotContains(t, messages(), "&amp;")
	shot("start-3-plan")

	// App Home: alice asks, carol opens her home and approves from it.
	do(chromedp.SendKeys(`#text`, "/example counter add 5"), chromedp.Click(`#send`),
		chromedp.WaitVisible(`#messages button[data-action-id="approval_approve"]`))
	do(chromedp.SetValue(`#user`, "U0CAROL01"))
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#user').dispatchEvent(new Event('change'))`))
	require.NoError(t, err)
	homeApprove := `#home button[data-action-id="approval_approve"]`
	do(chromedp.Click(`#home-tab`), chromedp.WaitVisible(homeApprove))
	home, err := chromedp.Run(ctx, chromedp.Text(`#home`))
	require.NoError(t, err)
	require.Contains(t, home, "Your desk")
	require.Contains(t, home, "Waiting for your approval")
	require.Contains(t, home, "/example counter add n=5")
	shot("home-1-waiting")
	do(chromedp.Click(homeApprove), chromedp.WaitVisible(`#confirm-ok`), chromedp.Click(`#confirm-ok`))
	poll(`!!document.querySelector('#home') && !document.querySelector('#home button[data-action-id="approval_approve"]')`, "the home tab no longer offers it")
	shot("home-2-approved")
	do(chromedp.Click(`nav a[data-channel="support"]`))
	poll(`document.querySelector('#messages').innerText.includes('Request succeeded: /example counter add n=5')`, "the request ran")
}
