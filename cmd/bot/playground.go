package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sort"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/chat/slack/localapi"
	"github.com/deskbot/deskbot/internal/chat/slack/playground"
)

// runPlayground serves the bot with a local Slack: the page, the bot's
// real Slack endpoints, and the Web API methods it calls, on one loopback
// address. Nothing leaves the machine.
func runPlayground(ctx context.Context, m *Main, listen string, stdout io.Writer) error {
	if host, _, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("the playground listens on loopback only, not %s", listen)
		}
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	secret := hex.EncodeToString(b[:])
	ws := localapi.New()
	// Bind first: the bot's Web API address carries the port.
	s := NewServer(m, slackchat.Config{SigningSecret: secret, BotToken: "xoxb-playground-local"}, listen)
	if err := s.Listen(); err != nil {
		return err
	}
	base := "http://" + s.Addr
	ws.BaseURL = base + "/api/"
	cfg := slackchat.Config{SigningSecret: secret, BotToken: "xoxb-playground-local", APIURL: base + "/api/", ApprovalsChannel: ""}
	s.Slack = slackchat.New(cfg, m.Engine, m.Store, m.Logger, m.Metrics)
	m.Engine.SetNotifier(s.Slack)
	m.Engine.SetGroups(s.Slack.Groups)
	var users []playground.User
	if m.Policy != nil {
		names := m.Policy.Policy().UserNames()
		sort.Strings(names)
		for _, n := range names {
			id, _ := m.Policy.Policy().UserID(n)
			users = append(users, playground.User{Name: n, ID: id})
		}
	}
	if len(users) == 0 {
		users = []playground.User{{Name: "you", ID: "U0LOCAL01"}}
	}
	pg := playground.New(playground.Options{Workspace: ws, BotURL: base, SigningSecret: secret, Users: users})
	s.Handle("/api/", ws.Handler())
	s.Handle("/", pg.Handler())
	m.Background(ctx)
	fmt.Fprintf(stdout, "deskbot playground: open http://%s/ in a browser (Ctrl-C stops it)\n", s.Addr)
	return s.Run(ctx)
}
