package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/pluginhost"
)

// Server is bot serve: the Slack endpoints, health, readiness, metrics.
type Server struct {
	Main    *Main
	Slack   *slackchat.Adapter
	HTTP    *http.Server
	Addr    string // the address actually listened on
	ln      net.Listener
	extra   map[string]http.Handler
	started time.Time
}

func slackConfig(m *Main) (slackchat.Config, error) {
	sc := m.Config.Slack
	if sc == nil {
		return slackchat.Config{}, errors.New("bot serve needs a slack section in the configuration (see docs/slack.md)")
	}
	var cfg slackchat.Config
	read := func(name string, ref *SecretRef, required bool) (string, error) {
		if ref == nil {
			if required {
				return "", fmt.Errorf("slack.%s is required", name)
			}
			return "", nil
		}
		v, err := ref.Resolve(m.Config.dir)
		if err != nil {
			return "", fmt.Errorf("slack.%s: %w", name, err)
		}
		return v, nil
	}
	var err error
	if cfg.SigningSecret, err = read("signing_secret", sc.SigningSecret, sc.AppToken == nil); err != nil {
		return cfg, err
	}
	if cfg.BotToken, err = read("bot_token", sc.BotToken, true); err != nil {
		return cfg, err
	}
	if cfg.AppToken, err = read("app_token", sc.AppToken, false); err != nil {
		return cfg, err
	}
	cfg.ApprovalsChannel, cfg.APIURL = sc.ApprovalsChannel, sc.APIURL
	cfg.InboxLease, cfg.InboxSweep = sc.InboxLease, sc.InboxSweep
	if m.Policy != nil {
		cfg.PolicyGroups = func() []string { return m.Policy.Policy().SlackGroups() }
		cfg.PolicyUsers = func() []string { return m.Policy.Policy().UserIDs() }
	}
	return cfg, nil
}

// NewServer builds the server on an opened Main.
func NewServer(m *Main, cfg slackchat.Config, addr string) *Server {
	s := &Server{Main: m, Addr: addr, extra: map[string]http.Handler{}}
	m.Engine.Redactor().AddSecret(cfg.SigningSecret, cfg.BotToken, cfg.AppToken)
	s.Slack = slackchat.New(cfg, m.Engine, m.Store, m.Logger, m.Metrics)
	m.Engine.SetNotifier(s.Slack)
	m.Engine.SetGroups(s.Slack.Groups)
	return s
}

// Handle adds a handler under pattern (the playground uses it).
func (s *Server) Handle(pattern string, h http.Handler) { s.extra[pattern] = h }

func (s *Server) mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/slack/", s.Slack.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.Main.Metrics.Handler())
	for p, h := range s.extra {
		mux.Handle(p, h)
	}
	return mux
}

// ready answers 200 when the bot can serve: the store answers and at
// least one plugin is ready (or none is configured). Plugins that are not
// ready are listed, one a line ("degraded: plugin whm down: ..."), their
// reasons scrubbed of secrets: their providers are unavailable while the
// others serve. It answers 503 when the store does not answer or every
// configured plugin is down.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var fatal, degraded []string
	if err := s.Main.Store.Ping(ctx); err != nil {
		fatal = append(fatal, "store: "+s.Main.Engine.Redactor().String(err.Error()))
	}
	if s.Main.Host != nil {
		procs := s.Main.Host.Processes()
		serving := 0
		for _, p := range procs {
			st, err := p.Status()
			if st == pluginhost.StateReady {
				serving++
				continue
			}
			msg := "plugin " + p.Name() + " " + st.String()
			if err != nil {
				msg += ": " + s.Main.Engine.Redactor().String(err.Error())
			}
			degraded = append(degraded, msg)
		}
		if len(procs) > 0 && serving == 0 {
			fatal = append(fatal, "no plugin is ready")
		}
	}
	if len(fatal) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, p := range append(fatal, degraded...) {
			_, _ = io.WriteString(w, p+"\n")
		}
		return
	}
	if len(degraded) > 0 {
		for _, p := range degraded {
			_, _ = io.WriteString(w, "degraded: "+p+"\n")
		}
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// Listen binds the address (":0" picks a free port; see Addr).
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	return nil
}

// Run serves until ctx ends, then shuts down gracefully: no new requests,
// work in flight finishes.
func (s *Server) Run(ctx context.Context) error {
	s.started = time.Now()
	s.Slack.Start(ctx)
	s.HTTP = &http.Server{
		Handler:           s.mux(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 2)
	go func() { errc <- s.HTTP.Serve(s.ln) }()
	if s.Main.Config.Slack != nil && s.Main.Config.Slack.AppToken != nil {
		go func() {
			if err := s.Slack.RunSocketMode(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("socket mode: %w", err)
			}
		}()
	}
	s.Main.Logger.Info("serving", "addr", s.Addr)
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shut, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = s.HTTP.Shutdown(shut)
	s.Slack.Close()
	return nil
}

const serveUsage = `usage: bot serve [--config FILE] [--addr HOST:PORT] [--playground]

Serves the Slack endpoints (/slack/commands, /slack/interactions,
/slack/events, /slack/options; or Socket Mode with slack.app_token) and:

  GET /healthz   200 while the process serves
  GET /readyz    200 when the store answers and at least one plugin is ready
                 (or none is configured); the plugins that are not ready are
                 listed, one a line: "degraded: plugin whm down: REASON".
                 503 when the store does not answer or every configured
                 plugin is down.
  GET /metrics   Prometheus metrics; deskbot_plugin_up is 0 for a plugin
                 that is not ready

A plugin that fails its pin, cannot start or keeps crashing does not stop
the bot: its provider answers "unavailable right now" while the others
serve, and it is tried again after 1s, the wait doubling to 5m, each try
logged. The bot starts even when every plugin fails (then /readyz answers
503 until one is ready).

`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := &Main{Stderr: stderr}
	commonFlags(fs, m)
	addr := fs.String("addr", "", "listen address (default: the configuration's listen, else 127.0.0.1:8080)")
	play := fs.Bool("playground", false, "serve a local Slack in the browser instead of talking to Slack (development)")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return &exitError{code: exitInvalid}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	listen := *addr
	if listen == "" {
		listen = m.Config.Listen
	}
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	if *play {
		return runPlayground(ctx, m, listen, stdout)
	}
	cfg, err := slackConfig(m)
	if err != nil {
		return err
	}
	s := NewServer(m, cfg, listen)
	if err := s.Listen(); err != nil {
		return err
	}
	m.Background(ctx)
	fmt.Fprintf(stdout, "deskbot serving on http://%s (Slack endpoints /slack/commands, /slack/interactions, /slack/events, /slack/options)\n", s.Addr)
	return s.Run(ctx)
}
