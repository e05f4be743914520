package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/metrics"
	"github.com/deskbot/deskbot/internal/store"
)

// Config configures the adapter.
type Config struct {
	SigningSecret string
	BotToken      string
	// AppToken (xapp-...) turns on Socket Mode.
	AppToken string
	// APIURL overrides the Web API's address (tests, the playground).
	APIURL string
	// ApprovalsChannel, if set, receives every approval card; otherwise a
	// card goes to the channel the request came from (or, OutsideSlack,
	// to each approver by direct message).
	ApprovalsChannel string
	// OutsideSlack says the requests this process makes are not made in
	// Slack (bot exec, bot console): the adapter only tells Slack about
	// them. A new request's card goes to ApprovalsChannel, or to each
	// approver by direct message when it is empty, and its requester
	// follows it in a direct message.
	OutsideSlack bool
	// PolicyUsers lists the user ids the policy names, the first place
	// approvers are looked for (members of PolicyGroups are the other).
	PolicyUsers func() []string
	// MaxBody bounds request bodies (64 KiB if zero).
	MaxBody int64
	// Workers bound concurrent commands (64 if zero); Queue bounds those
	// waiting (1024 if zero). A full queue answers "busy" at once.
	Workers, Queue int
	// ProgressEvery is the least time between edits of a status message
	// (1 s if zero): Slack rate-limits chat.update.
	ProgressEvery time.Duration
	// DedupTTL is how long delivery keys are remembered (1 h if zero),
	// an answered command's inbox row among them.
	DedupTTL time.Duration
	// InboxLease is how long this process's hold on the commands it
	// acknowledged lasts without renewal (5 s if zero; renewed every
	// third of it). Once it lapses, another process takes them over.
	InboxLease time.Duration
	// InboxSweep is how often the inbox is searched for commands whose
	// holder's lease lapsed (1 s if zero).
	InboxSweep time.Duration
	// Instance identifies this process in the inbox (random if empty).
	// A process must not reuse another's, nor its own previous life's.
	Instance string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// PolicyGroups lists the Slack user groups the policy names.
	PolicyGroups func() []string
	// GroupTTL is how long user group members are cached (5 min if zero).
	GroupTTL time.Duration
}

// Adapter connects Slack to the engine.
type Adapter struct {
	cfg     Config
	api     *slackgo.Client
	engine  *engine.Engine
	dedup   store.Dedup
	inbox   store.Inbox
	log     *slog.Logger
	metrics *metrics.Metrics
	httpc   *http.Client
	groups  *groupCache
	convs   convRegistry

	replay *replayGuard

	jobs chan job
	// cmds holds accepted commands for the workers; room counts the free
	// places in it, taken before a command is stored, so an accepted
	// command always has one.
	cmds   chan cmdJob
	room   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type job struct {
	name string
	run  func(ctx context.Context)
}

var _ engine.Notifier = (*Adapter)(nil)

// Store is what the adapter keeps in the database: delivery keys of
// interactions and events, and the inbox of slash commands.
type Store interface {
	store.Dedup
	store.Inbox
}

// New builds an adapter; call Start before serving.
func New(cfg Config, eng *engine.Engine, st Store, log *slog.Logger, m *metrics.Metrics) *Adapter {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Workers == 0 {
		cfg.Workers = 64
	}
	if cfg.Queue == 0 {
		cfg.Queue = 1024
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.DedupTTL == 0 {
		cfg.DedupTTL = time.Hour
	}
	if cfg.GroupTTL == 0 {
		cfg.GroupTTL = 5 * time.Minute
	}
	if cfg.InboxLease == 0 {
		cfg.InboxLease = DefaultInboxLease
	}
	if cfg.InboxSweep == 0 {
		cfg.InboxSweep = DefaultInboxSweep
	}
	if cfg.Instance == "" {
		cfg.Instance = newInstanceID()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// One transport for the Web API and response URLs, keeping as many
	// idle connections as there are workers: the default keeps two per
	// host, so under load most calls paid a new TCP and TLS handshake.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Workers
	opts := []slackgo.Option{slackgo.OptionHTTPClient(&http.Client{Timeout: 30 * time.Second, Transport: tr})}
	if cfg.APIURL != "" {
		opts = append(opts, slackgo.OptionAPIURL(strings.TrimSuffix(cfg.APIURL, "/")+"/"))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackgo.OptionAppLevelToken(cfg.AppToken))
	}
	// Slack answers 429 with Retry-After before doing anything, so a
	// retry after the wait cannot post twice.
	opts = append(opts, slackgo.OptionRetry(3))
	a := &Adapter{
		cfg: cfg, engine: eng, dedup: st, inbox: st, log: log, metrics: m,
		api:    slackgo.New(cfg.BotToken, opts...),
		httpc:  &http.Client{Timeout: 15 * time.Second, Transport: tr},
		jobs:   make(chan job, cfg.Queue),
		cmds:   make(chan cmdJob, cfg.Queue),
		room:   make(chan struct{}, cfg.Queue),
		replay: newReplayGuard(),
	}
	a.groups = newGroupCache(a, cfg.PolicyGroups, cfg.GroupTTL)
	return a
}

// API returns the Web API client (for the playground's wiring and tests).
func (a *Adapter) API() *slackgo.Client { return a.api }

// Groups resolves a user's Slack user groups for the policy.
func (a *Adapter) Groups(ctx context.Context, user string) []string { return a.groups.of(ctx, user) }

// Start runs the workers until Close.
func (a *Adapter) Start(ctx context.Context) {
	a.ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for i := 0; i < a.cfg.Workers; i++ {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for {
				select {
				case <-a.ctx.Done():
					return
				case j := <-a.jobs:
					a.runJob(j)
				case c := <-a.cmds:
					<-a.room
					a.runJob(job{"command", func(ctx context.Context) { a.runInboxed(ctx, c) }})
				}
			}
		}()
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.heartbeat(a.ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.tendInbox(a.ctx)
	}()
}

func (a *Adapter) runJob(j job) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("slack job panicked", "job", j.name, "panic", r)
			a.count("errors", "panic")
		}
	}()
	j.run(a.ctx)
}

// Close stops taking work and waits (up to a minute) for work in flight.
func (a *Adapter) Close() {
	if a.cancel == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		// Let queued and running jobs finish before cancelling them.
		for len(a.jobs) > 0 || len(a.cmds) > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		a.cancel()
		a.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		a.cancel()
	}
}

// enqueue schedules work; false means the queue is full.
func (a *Adapter) enqueue(name string, run func(ctx context.Context)) bool {
	select {
	case a.jobs <- job{name, run}:
		return true
	default:
		return false
	}
}

func (a *Adapter) count(kind, outcome string) {
	if a.metrics != nil {
		a.metrics.Inbound.WithLabelValues(kind, outcome).Inc()
	}
}

func (a *Adapter) apiCall(method string, err error) {
	if a.metrics == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
		var rl *slackgo.RateLimitedError
		if errors.As(err, &rl) {
			outcome = "rate_limited"
		}
	}
	a.metrics.ChatCalls.WithLabelValues(method, outcome).Inc()
}

// claim reports whether key is new (Slack may deliver twice); a store
// error counts as new: running twice is better than never for reads, and
// state changes are guarded by the approval state machine anyway.
func (a *Adapter) claim(ctx context.Context, key string) bool {
	if key == "" || a.dedup == nil {
		return true
	}
	first, err := a.dedup.Claim(ctx, key, a.cfg.DedupTTL, time.Now())
	if err != nil {
		a.log.Error("dedup store failed", "error", err)
		return true
	}
	return first
}

// Handler serves Slack's HTTP endpoints.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", a.serveCommand)
	mux.HandleFunc("POST /slack/interactions", a.serveInteraction)
	mux.HandleFunc("POST /slack/events", a.serveEvent)
	mux.HandleFunc("POST /slack/options", a.serveOptions)
	return mux
}

// verified checks a request and guards against replays: a signature is
// accepted once (see replayGuard). It writes the error response itself.
func (a *Adapter) verified(w http.ResponseWriter, r *http.Request, kind string) ([]byte, bool) {
	body, err := Verify(r, a.cfg.SigningSecret, a.cfg.MaxBody)
	if errors.Is(err, ErrTooLarge) {
		a.count(kind, "too_large")
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	if err != nil {
		a.count(kind, "rejected")
		a.log.Warn("rejected an unsigned or stale Slack request", "kind", kind, "error", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	fresh, err := a.replay.first(r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature"), time.Now())
	if err != nil {
		// The verifier decodes the header too; this is a second line.
		a.count(kind, "rejected")
		a.log.Warn("rejected a Slack request with a malformed signature", "kind", kind, "error", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	if !fresh {
		a.count(kind, "replayed")
		a.log.Warn("rejected a replayed Slack request", "kind", kind, "remote", r.RemoteAddr)
		http.Error(w, "replayed request", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, ok := a.verified(w, r, "command")
	if !ok {
		return
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cmd, err := slackgo.SlashCommandParse(r2)
	if err != nil {
		http.Error(w, "bad slash command", http.StatusBadRequest)
		return
	}
	ack := a.AcceptCommand(r.Context(), cmd)
	writeAck(w, ack)
	if a.metrics != nil {
		a.metrics.AckLatency.Observe(time.Since(start).Seconds())
	}
}

func writeAck(w http.ResponseWriter, ack any) {
	if ack == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ack)
}

func (a *Adapter) ctxOr() context.Context {
	if a.ctx != nil {
		return a.ctx
	}
	return context.Background()
}

// commandLine rebuilds what the user typed.
func commandLine(cmd slackgo.SlashCommand) string {
	return strings.TrimSpace("/" + strings.TrimPrefix(cmd.Command, "/") + " " + Unescape(cmd.Text))
}

func (a *Adapter) runCommand(ctx context.Context, id string, cmd slackgo.SlashCommand, secrets map[string]string) {
	text := commandLine(cmd)
	conv := a.conversation(cmd.ChannelID, cmd.UserID, cmd.ResponseURL, a.engine.Redactor().String(text))
	reply := a.engine.Handle(ctx, engine.Request{
		ID: id, User: cmd.UserID, Channel: cmd.ChannelID, Text: text, CanPrompt: true, Secrets: secrets,
	}, conv.progress)
	switch {
	case reply.Status == engine.StatusNeedsInput:
		st := secretsState{Text: text, Channel: cmd.ChannelID, ResponseURL: cmd.ResponseURL, Command: reply.Resume}
		_, err := a.api.OpenViewContext(ctx, cmd.TriggerID, secretsModal(reply.Title, reply.Inputs, st))
		a.apiCall("views.open", err)
		if err != nil {
			a.log.Warn("could not open the secrets form", "error", err)
			conv.ephemeral(ctx, engine.Reply{Status: engine.StatusInvalid, Error: "this command needs secret values, and the form to enter them could not be opened; try again"})
		}
	case reply.Status == engine.StatusPending:
		a.pending(ctx, conv, reply)
	case visible(reply, conv):
		conv.result(ctx, reply)
	default:
		conv.ephemeral(ctx, reply)
	}
}

// visible reports whether a reply belongs in the channel: the outcome of
// a provider command, unless it is sensitive. Help, /ops answers and
// errors before execution go to the requester only.
func visible(r engine.Reply, c *conversation) bool {
	if r.Sensitive || r.Provider == "" || r.Command == "" {
		return false
	}
	switch r.Status {
	case engine.StatusOK:
		return true
	case engine.StatusFailed:
		return c.started() || r.Result != nil
	}
	return false
}

// pending tells the requester their request waits for approval, in the
// thread where its result will come.
func (a *Adapter) pending(ctx context.Context, conv *conversation, reply engine.Reply) {
	v, err := a.engine.Approval(ctx, reply.Approval.ID)
	if err != nil {
		v = *reply.Approval
	}
	if v.Meta[metaCardChannel] == conv.channel && v.Meta[metaCardTS] != "" {
		// The card is in this channel: its thread is the request's thread.
		conv.adopt(v.Meta[metaCardTS])
	} else if err := conv.ensureRoot(ctx); err != nil {
		note := engine.Reply{RequestID: reply.RequestID, Status: engine.StatusPending, Approval: &v, Command: reply.Command, Provider: reply.Provider, Target: reply.Target}
		conv.ephemeral(ctx, note)
		return
	}
	meta := map[string]string{metaThreadChannel: conv.channel, metaThreadTS: conv.root()}
	// The waiting message is edited at every change of the request, by
	// whichever process makes it.
	waiting := conv.post(ctx, []Message{waitingNote(v)}, "<@"+conv.user+"> ")
	if waiting != "" {
		meta[metaWaitingChannel], meta[metaWaitingTS] = conv.channel, waiting
	}
	if err := a.engine.SetApprovalMeta(ctx, v.ID, meta); err != nil {
		a.log.Error("could not record the request's thread", "approval", v.ID, "error", err)
		return
	}
	// An approver may have been quicker than this message: show an end
	// that came before it was recorded (see announce).
	if fresh, err := a.engine.Approval(ctx, v.ID); err == nil && waiting != "" && store.State(fresh.State).Terminal() {
		if err := a.edit(ctx, place{conv.channel, waiting}, waitingNote(fresh)); err != nil {
			a.log.Warn("could not update the requester's waiting message", "approval", v.ID, "error", err)
		}
	}
}

// ephemeralTo shows a message to one user, by response_url when there
// is one, else with chat.postEphemeral.
func (a *Adapter) ephemeralTo(ctx context.Context, channel, user, responseURL string, msgs []Message) {
	if channel == "" && responseURL == "" {
		// An answer to a click on a card sent by direct message (a modal's
		// submission says nowhere): the user's direct conversation is
		// private too.
		a.dm(ctx, user, msgs)
		return
	}
	for _, m := range msgs {
		var err error
		if responseURL != "" {
			err = slackgo.PostWebhookCustomHTTPContext(ctx, responseURL, a.httpc, &slackgo.WebhookMessage{
				ResponseType: slackgo.ResponseTypeEphemeral, Text: m.Text, Blocks: &slackgo.Blocks{BlockSet: m.Blocks},
			})
			a.apiCall("response_url", err)
		} else {
			_, err = a.api.PostEphemeralContext(ctx, channel, user, slackgo.MsgOptionText(m.Text, false), slackgo.MsgOptionBlocks(m.Blocks...))
			a.apiCall("chat.postEphemeral", err)
		}
		if err != nil {
			a.log.Warn("could not answer privately", "user", user, "error", withoutURL(err))
			return
		}
	}
}

// withoutURL is err as it may be logged when the request it is about
// went to a response_url: Go's *url.Error writes the whole address, and
// a response_url lets whoever holds it post into the channel for half an
// hour. What is left is the operation and its cause ("Post: dial tcp
// ...: connection refused"), with any wrapping text around it kept.
func withoutURL(err error) error {
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), ue.Error(), ue.Op+": "+ue.Err.Error())
	if ue.URL != "" {
		// However a wrapper wrote it.
		msg = strings.ReplaceAll(msg, ue.URL, "[url]")
	}
	return errors.New(msg)
}
