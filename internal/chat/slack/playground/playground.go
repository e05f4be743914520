// Package playground is a local stand-in for a Slack workspace, in the
// browser: a page (embedded, plain JavaScript) with channels, a user
// switcher and a message box, which renders the bot's Block Kit messages
// and modals. What the page does goes through the production path: each
// slash command, button click and modal submission is sent to the bot's
// real /slack/commands and /slack/interactions endpoints (and opening the
// App Home tab to /slack/events) as Slack would send it, signed with a development signing secret, and the bot's Web
// API calls land on localapi, which feeds the page.
package playground

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
	"github.com/deskbot/deskbot/internal/chat/slack/localapi"
)

//go:embed static
var static embed.FS

// User is a person the page can act as.
type User struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// Options configure the playground.
type Options struct {
	// Workspace is the local Web API the bot talks to.
	Workspace *localapi.Workspace
	// BotURL is where the bot's /slack/ endpoints answer (http://127.0.0.1:PORT).
	BotURL string
	// SigningSecret is the development secret the bot verifies with.
	SigningSecret string
	Users         []User
	Channels      []string
	// Team is the workspace id sent with every request.
	Team string
}

// Playground serves the page and its endpoints.
type Playground struct {
	o      Options
	client *http.Client
	seq    atomic.Int64
}

// New returns a playground.
func New(o Options) *Playground {
	if o.Team == "" {
		o.Team = "T0PLAYGRND"
	}
	if len(o.Channels) == 0 {
		o.Channels = []string{"support", "ops"}
	}
	return &Playground{o: o, client: &http.Client{Timeout: 10 * time.Second}}
}

// Handler serves the page at / and its API under /playground/.
func (p *Playground) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /playground/config", p.config)
	mux.HandleFunc("GET /playground/state", p.state)
	mux.HandleFunc("GET /playground/events", p.events)
	mux.HandleFunc("POST /playground/command", p.command)
	mux.HandleFunc("POST /playground/action", p.action)
	mux.HandleFunc("POST /playground/submit", p.submit)
	mux.HandleFunc("POST /playground/dismiss", p.dismiss)
	mux.HandleFunc("POST /playground/options", p.options)
	mux.HandleFunc("POST /playground/home", p.home)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Playground) config(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"users": p.o.Users, "channels": p.o.Channels, "bot": p.o.Workspace.BotUserID})
}

func (p *Playground) state(w http.ResponseWriter, r *http.Request) {
	homes := map[string]localapi.View{}
	for _, u := range p.o.Users {
		if v, ok := p.o.Workspace.Home(u.ID); ok {
			homes[u.ID] = v
		}
	}
	writeJSON(w, 200, map[string]any{"messages": p.o.Workspace.Messages(), "views": p.o.Workspace.Views(), "homes": homes})
}

// home opens the user's App Home tab as Slack does: an app_home_opened
// event to the bot's events endpoint, signed; the bot answers by
// publishing the tab (views.publish), which the page then shows.
func (p *Playground) home(w http.ResponseWriter, r *http.Request) {
	var in struct{ User string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&in); err != nil || !p.known(in.User) {
		writeJSON(w, 400, map[string]string{"error": "want {user} with a known user"})
		return
	}
	now := time.Now()
	n := p.seq.Add(1)
	ev := map[string]any{
		"token": "playground", "team_id": p.o.Team, "api_app_id": "A0PLAYGRND", "type": "event_callback",
		// Each opening is an event of its own: the bot drops a repeated id.
		"event_id": fmt.Sprintf("Ev0PLAY%d%06d", now.Unix(), n%1_000_000), "event_time": now.Unix(),
		"event": map[string]any{"type": "app_home_opened", "user": in.User, "channel": "D" + strings.TrimPrefix(in.User, "U"), "tab": "home",
			"event_ts": fmt.Sprintf("%d.%06d", now.Unix(), n%1_000_000)},
	}
	js, _ := json.Marshal(ev)
	status, body, err := p.forward("/slack/events", "application/json", js)
	if err != nil {
		writeJSON(w, 502, map[string]string{"error": err.Error()})
		return
	}
	if status != http.StatusOK {
		writeJSON(w, status, map[string]string{"error": strings.TrimSpace(string(body))})
		return
	}
	writeJSON(w, 200, map[string]any{"status": status})
}

// events streams a line per change (Server-Sent Events); the page then
// reads the state again.
func (p *Playground) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, stop := p.o.Workspace.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, ": connected\n\n")
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprintf(w, "data: %s\n\n", e.Kind)
			fl.Flush()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		}
	}
}

// forward signs body as Slack would and posts it to the bot.
func (p *Playground) forward(path, contentType string, body []byte) (int, []byte, error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(p.o.BotURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackchat.Sign(p.o.SigningSecret, ts, body))
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, nil
}

func (p *Playground) known(user string) bool {
	for _, u := range p.o.Users {
		if u.ID == user {
			return true
		}
	}
	return false
}

func channelID(name string) string { return "C" + strings.ToUpper(strings.TrimPrefix(name, "#")) }

// showAck puts an immediate answer (a JSON message) where Slack would:
// visible to the user only, unless it says in_channel.
func (p *Playground) showAck(channel, user string, status int, body []byte) {
	if status != http.StatusOK {
		p.o.Workspace.Ephemeral(channel, user, fmt.Sprintf("The bot answered HTTP %d: %s", status, strings.TrimSpace(string(body))), nil)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return
	}
	var msg struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if json.Unmarshal(body, &msg) != nil {
		p.o.Workspace.Ephemeral(channel, user, string(body), nil)
		return
	}
	if msg.Text != "" || len(msg.Blocks) > 0 {
		p.o.Workspace.Ephemeral(channel, user, msg.Text, msg.Blocks)
	}
}

func (p *Playground) command(w http.ResponseWriter, r *http.Request) {
	var in struct{ User, Channel, Text string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || !p.known(in.User) {
		writeJSON(w, 400, map[string]string{"error": "want {user, channel, text} with a known user"})
		return
	}
	text := strings.TrimSpace(in.Text)
	ch := channelID(in.Channel)
	if !strings.HasPrefix(text, "/") {
		// Slack would post it as a message the bot never sees; here the
		// bot's hint answers in the conversation, only to the user.
		p.o.Workspace.Ephemeral(ch, in.User, notACommand(text), nil)
		writeJSON(w, 200, map[string]any{"status": 0})
		return
	}
	cmd, rest, _ := strings.Cut(text, " ")
	form := url.Values{
		"token": {"playground"}, "team_id": {p.o.Team}, "team_domain": {"playground"},
		"channel_id": {ch}, "channel_name": {in.Channel}, "user_id": {in.User}, "user_name": {p.name(in.User)},
		"command": {cmd}, "text": {strings.TrimSpace(rest)}, "api_app_id": {"A0PLAYGRND"},
		"response_url": {p.o.Workspace.ResponseURL(ch, in.User)}, "trigger_id": {p.o.Workspace.Trigger(in.User)},
	}
	status, body, err := p.forward("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		writeJSON(w, 502, map[string]string{"error": err.Error()})
		return
	}
	p.showAck(ch, in.User, status, body)
	writeJSON(w, 200, map[string]any{"status": status})
}

// notACommand is the bot's answer to text that is no slash command.
func notACommand(text string) string {
	if r := []rune(text); len(r) > 80 {
		text = string(r[:77]) + "..."
	}
	text = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "'").Replace(text)
	return fmt.Sprintf("`%s` is not a command: slash commands start with /, like `/whm help` or `/ops run` (the command builder).", text)
}

func (p *Playground) name(id string) string {
	for _, u := range p.o.Users {
		if u.ID == id {
			return u.Name
		}
	}
	return id
}

// action forwards a button click as a block_actions interaction, or a
// choice in an open modal's select (ViewID and Selected set).
func (p *Playground) action(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User, Channel, MessageTS, ActionID, BlockID, Value string
		ViewID, Type, Selected                             string
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || !p.known(in.User) {
		writeJSON(w, 400, map[string]string{"error": "want {user, channel, messageTS, actionID, blockID, value} with a known user"})
		return
	}
	now := fmt.Sprintf("%d.%06d", time.Now().Unix(), p.seq.Add(1)%1_000_000)
	if in.ViewID != "" {
		view := p.view(in.User, in.ViewID)
		if view == nil {
			writeJSON(w, 404, map[string]string{"error": "no such modal for this user"})
			return
		}
		payload := map[string]any{
			"type": "block_actions", "team": map[string]string{"id": p.o.Team, "domain": "playground"},
			"user": map[string]string{"id": in.User, "name": p.name(in.User)}, "api_app_id": "A0PLAYGRND",
			"container":  map[string]any{"type": "view", "view_id": view.ID},
			"trigger_id": p.o.Workspace.Trigger(in.User),
			"view":       viewPayload(view, nil),
			"actions": []map[string]any{{"type": in.Type, "action_id": in.ActionID, "block_id": in.BlockID, "action_ts": now,
				"selected_option": option(in.Selected)}},
		}
		p.interact(w, "", in.User, payload)
		return
	}
	payload := map[string]any{
		"type": "block_actions", "team": map[string]string{"id": p.o.Team, "domain": "playground"},
		"user":    map[string]string{"id": in.User, "name": p.name(in.User)},
		"channel": map[string]string{"id": in.Channel}, "api_app_id": "A0PLAYGRND",
		"container":    map[string]any{"type": "message", "message_ts": in.MessageTS, "channel_id": in.Channel},
		"message":      map[string]any{"ts": in.MessageTS},
		"trigger_id":   p.o.Workspace.Trigger(in.User),
		"response_url": p.o.Workspace.ResponseURL(in.Channel, in.User),
		"actions":      []map[string]any{{"type": "button", "action_id": in.ActionID, "block_id": in.BlockID, "value": in.Value, "action_ts": now}},
	}
	p.interact(w, in.Channel, in.User, payload)
}

// submit forwards a modal submission as a view_submission interaction.
func (p *Playground) submit(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User   string                           `json:"user"`
		ViewID string                           `json:"viewID"`
		Values map[string]map[string]inputValue `json:"values"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || !p.known(in.User) {
		writeJSON(w, 400, map[string]string{"error": "want {user, viewID, values}"})
		return
	}
	view := p.view(in.User, in.ViewID)
	if view == nil {
		writeJSON(w, 404, map[string]string{"error": "no such modal for this user"})
		return
	}
	payload := map[string]any{
		"type": "view_submission", "team": map[string]string{"id": p.o.Team}, "user": map[string]string{"id": in.User, "name": p.name(in.User)},
		"api_app_id": "A0PLAYGRND", "trigger_id": p.o.Workspace.Trigger(in.User),
		"view": viewPayload(view, in.Values),
	}
	status, body, err := p.send(payload)
	if err != nil {
		writeJSON(w, 502, map[string]string{"error": err.Error()})
		return
	}
	// An answer with errors keeps the modal open, one with a view
	// replaces it (the builder's secret form); anything else closes it.
	var ans struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if status == 200 && json.Unmarshal(body, &ans) == nil {
		switch ans.ResponseAction {
		case "errors":
			writeJSON(w, 200, map[string]any{"errors": ans.Errors})
			return
		case "update":
			p.o.Workspace.UpdateView(view.ID, ans.View)
			writeJSON(w, 200, map[string]any{"status": status, "updated": true})
			return
		}
	}
	p.o.Workspace.CloseView(view.ID)
	writeJSON(w, 200, map[string]any{"status": status})
}

func (p *Playground) dismiss(w http.ResponseWriter, r *http.Request) {
	var in struct{ ViewID string }
	_ = json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&in)
	p.o.Workspace.CloseView(in.ViewID)
	w.WriteHeader(http.StatusNoContent)
}

func (p *Playground) send(payload map[string]any) (int, []byte, error) {
	js, _ := json.Marshal(payload)
	form := url.Values{"payload": {string(js)}}
	return p.forward("/slack/interactions", "application/x-www-form-urlencoded", []byte(form.Encode()))
}

func (p *Playground) interact(w http.ResponseWriter, channel, user string, payload map[string]any) {
	status, body, err := p.send(payload)
	if err != nil {
		writeJSON(w, 502, map[string]string{"error": err.Error()})
		return
	}
	p.showAck(channel, user, status, body)
	writeJSON(w, 200, map[string]any{"status": status})
}

// view is user's open modal called id, or nil.
func (p *Playground) view(user, id string) *localapi.View {
	for _, v := range p.o.Workspace.Views() {
		if v.ID == id && v.User == user && !v.Closed {
			vv := v
			return &vv
		}
	}
	return nil
}

// inputValue is what the page sends for one input of a modal: a string
// for a text field, or the element's type with what is selected.
type inputValue struct {
	Type         string   `json:"type"`
	Value        string   `json:"value"`
	Selected     []string `json:"selected"`
	Conversation string   `json:"conversation"`
}

func (v *inputValue) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*v = inputValue{Type: "plain_text_input", Value: s}
		return nil
	}
	type plainValue inputValue
	return json.Unmarshal(b, (*plainValue)(v))
}

func option(value string) map[string]any {
	return map[string]any{"value": value, "text": map[string]string{"type": "plain_text", "text": value}}
}

// state is a value as Slack reports it in a view's state.
func (v inputValue) state() map[string]any {
	out := map[string]any{"type": v.Type}
	switch v.Type {
	case "static_select", "external_select":
		if len(v.Selected) > 0 {
			out["selected_option"] = option(v.Selected[0])
		}
	case "multi_static_select", "multi_external_select", "checkboxes":
		opts := []map[string]any{}
		for _, s := range v.Selected {
			opts = append(opts, option(s))
		}
		out["selected_options"] = opts
	case "conversations_select":
		out["selected_conversation"] = v.Conversation
	default:
		out["value"] = v.Value
	}
	return out
}

// viewPayload is a modal as an interaction carries it: its id, hash,
// callback id, private metadata and the values of its inputs.
func viewPayload(view *localapi.View, values map[string]map[string]inputValue) map[string]any {
	var spec struct {
		CallbackID      string          `json:"callback_id"`
		PrivateMetadata string          `json:"private_metadata"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	_ = json.Unmarshal(view.View, &spec)
	state := map[string]map[string]any{}
	for block, actions := range values {
		state[block] = map[string]any{}
		for action, value := range actions {
			state[block][action] = value.state()
		}
	}
	return map[string]any{"id": view.ID, "hash": view.Hash, "type": "modal", "callback_id": spec.CallbackID, "private_metadata": spec.PrivateMetadata,
		"blocks": spec.Blocks, "state": map[string]any{"values": state}}
}

// options forwards what the user types in an external select as a
// block_suggestion to the bot's options URL, and returns its answer.
func (p *Playground) options(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User, ViewID, BlockID, ActionID, Value string
		Values                                 map[string]map[string]inputValue
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || !p.known(in.User) {
		writeJSON(w, 400, map[string]string{"error": "want {user, viewID, blockID, actionID, value}"})
		return
	}
	view := p.view(in.User, in.ViewID)
	if view == nil {
		writeJSON(w, 404, map[string]string{"error": "no such modal for this user"})
		return
	}
	payload := map[string]any{
		"type": "block_suggestion", "team": map[string]string{"id": p.o.Team}, "user": map[string]string{"id": in.User, "name": p.name(in.User)},
		"api_app_id": "A0PLAYGRND", "block_id": in.BlockID, "action_id": in.ActionID, "value": in.Value,
		// Slack sends each keystroke's request anew; the stamp keeps two
		// identical ones in a second from looking like a replay.
		"action_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), p.seq.Add(1)%1_000_000),
		"view":      viewPayload(view, in.Values),
	}
	js, _ := json.Marshal(payload)
	status, body, err := p.forward("/slack/options", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(js)}}.Encode()))
	if err != nil {
		writeJSON(w, 502, map[string]string{"error": err.Error()})
		return
	}
	if status != http.StatusOK {
		writeJSON(w, status, map[string]string{"error": strings.TrimSpace(string(body))})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
