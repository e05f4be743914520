// Package localapi is an in-memory implementation of the Slack Web API
// methods the bot calls (chat.postMessage, chat.update,
// chat.postEphemeral, views.open, views.publish, reactions.add, the
// external file upload, usergroups.users.list, auth.test) plus the
// response_url endpoint. It records a workspace's messages so the local
// playground can show them and tests can assert on them. It is mounted on
// slack-go's slacktest server in tests and served directly by the
// playground.
package localapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Message is one message as the workspace holds it.
type Message struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	// To is set on an ephemeral message: only that user sees it.
	To        string   `json:"to,omitempty"`
	Ephemeral bool     `json:"ephemeral,omitempty"`
	Reactions []string `json:"reactions,omitempty"`
	Edits     int      `json:"edits"`
	Files     []File   `json:"files,omitempty"`
	Bot       bool     `json:"bot"`
}

// File is an uploaded file.
type File struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Title   string `json:"title"`
	Size    int    `json:"size"`
	Content []byte `json:"-"`
}

// View is an opened modal or a published home tab.
type View struct {
	ID        string          `json:"id"`
	User      string          `json:"user,omitempty"`
	TriggerID string          `json:"trigger_id,omitempty"`
	Kind      string          `json:"kind"` // modal or home
	View      json.RawMessage `json:"view"`
	// Closed is set once the modal was submitted or dismissed.
	Closed bool `json:"closed,omitempty"`
	// Hash changes with every update; views.update with a stale one is
	// refused, as Slack does.
	Hash string `json:"hash"`
}

// Call is one Web API call, for tests.
type Call struct {
	Method string
	Form   url.Values
	JSON   json.RawMessage
}

// Event is something a subscriber (the playground page) is told about.
type Event struct {
	Kind    string   `json:"kind"` // message, update, reaction, view, home
	Message *Message `json:"message,omitempty"`
	View    *View    `json:"view,omitempty"`
}

// Workspace is the fake Slack: channels of messages, modals, home tabs.
type Workspace struct {
	mu        sync.Mutex
	seq       int64
	messages  []*Message
	calls     []Call
	views     []*View
	homes     map[string]*View
	uploads   map[string]*File
	groups    map[string][]string
	triggers  map[string]string // trigger id → user
	subs      map[int]chan Event
	nextSub   int
	BaseURL   string // where response URLs point
	BotUserID string
}

// New returns an empty workspace.
func New() *Workspace {
	return &Workspace{homes: map[string]*View{}, uploads: map[string]*File{}, groups: map[string][]string{}, triggers: map[string]string{},
		subs: map[int]chan Event{}, seq: time.Now().Unix() * 1_000_000, BotUserID: "U0DESKBOT"}
}

// Customize is slacktest.Customize: something handlers can be added to.
type Customize interface {
	Handle(pattern string, handler http.HandlerFunc)
}

// Bind registers the Web API methods on c (a slacktest server); they win
// over slacktest's own handlers of the same name.
func (w *Workspace) Bind(c Customize) {
	for method, h := range w.methods() {
		c.Handle("/"+method, h)
	}
	c.Handle("/_response/", w.responseURL)
	c.Handle("/_upload/", w.upload)
}

// Handler serves the Web API under /api/ (the playground).
func (w *Workspace) Handler() http.Handler {
	mux := http.NewServeMux()
	for method, h := range w.methods() {
		mux.HandleFunc("/api/"+method, h)
	}
	mux.HandleFunc("/api/_response/", w.responseURL)
	mux.HandleFunc("/api/_upload/", w.upload)
	return mux
}

func (w *Workspace) methods() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"chat.postMessage":             w.postMessage,
		"chat.update":                  w.update,
		"chat.postEphemeral":           w.postEphemeral,
		"views.open":                   w.viewsOpen,
		"views.publish":                w.viewsPublish,
		"views.update":                 w.viewsUpdate,
		"reactions.add":                w.reactionsAdd,
		"files.getUploadURLExternal":   w.getUploadURL,
		"files.completeUploadExternal": w.completeUpload,
		"usergroups.users.list":        w.usergroupUsers,
		"auth.test":                    w.authTest,
	}
}

// Ephemeral records a message only user sees: what Slack shows of a slash
// command's or an interaction's immediate answer.
func (w *Workspace) Ephemeral(channel, user, text string, blocks json.RawMessage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := &Message{Channel: channel, TS: w.nextTS(), Text: text, Blocks: blocks, To: user, Ephemeral: true, Bot: true}
	if len(m.Blocks) == 0 || string(m.Blocks) == "null" {
		m.Blocks = nil
	}
	w.messages = append(w.messages, m)
	w.publish(Event{Kind: "message", Message: copyMsg(m)})
}

// CloseView marks a modal closed (submitted or dismissed).
func (w *Workspace) CloseView(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range w.views {
		if v.ID == id {
			v.Closed = true
			w.publish(Event{Kind: "view", View: v})
		}
	}
}

// ResponseURL returns a response_url for a command or interaction.
func (w *Workspace) ResponseURL(channel, user string) string {
	return strings.TrimSuffix(w.BaseURL, "/") + "/_response/" + url.PathEscape(channel) + "/" + url.PathEscape(user)
}

// Trigger issues a trigger id for user (views.open needs one).
func (w *Workspace) Trigger(user string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	id := fmt.Sprintf("%d.%d.trigger", w.seq, w.seq%9973)
	w.triggers[id] = user
	return id
}

// SetGroup sets a user group's members (usergroups.users.list).
func (w *Workspace) SetGroup(id string, users ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.groups[id] = users
}

func (w *Workspace) nextTS() string {
	w.seq++
	return fmt.Sprintf("%d.%06d", w.seq/1_000_000, w.seq%1_000_000)
}

func reply(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(v)
}

func fail(rw http.ResponseWriter, code string) {
	reply(rw, map[string]any{"ok": false, "error": code})
}

// form reads a form-encoded or JSON request into values.
func (w *Workspace) read(r *http.Request, method string) (url.Values, json.RawMessage) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	var vals url.Values
	var raw json.RawMessage
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		raw = body
		vals = url.Values{}
	} else {
		vals, _ = url.ParseQuery(string(body))
	}
	w.mu.Lock()
	w.calls = append(w.calls, Call{Method: method, Form: vals, JSON: raw})
	w.mu.Unlock()
	return vals, raw
}

func (w *Workspace) publish(e Event) {
	for _, ch := range w.subs {
		select {
		case ch <- e:
		default: // a slow subscriber misses events rather than blocking the bot
		}
	}
}

func copyMsg(m *Message) *Message {
	c := *m
	c.Reactions = append([]string(nil), m.Reactions...)
	c.Files = append([]File(nil), m.Files...)
	return &c
}

func (w *Workspace) postMessage(rw http.ResponseWriter, r *http.Request) {
	v, _ := w.read(r, "chat.postMessage")
	ch := v.Get("channel")
	if ch == "" {
		fail(rw, "channel_not_found")
		return
	}
	w.mu.Lock()
	m := &Message{Channel: ch, TS: w.nextTS(), ThreadTS: v.Get("thread_ts"), Text: v.Get("text"), Blocks: json.RawMessage(v.Get("blocks")), Bot: true}
	if len(m.Blocks) == 0 {
		m.Blocks = nil
	}
	w.messages = append(w.messages, m)
	w.publish(Event{Kind: "message", Message: copyMsg(m)})
	w.mu.Unlock()
	reply(rw, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": m})
}

func (w *Workspace) update(rw http.ResponseWriter, r *http.Request) {
	v, _ := w.read(r, "chat.update")
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.find(v.Get("channel"), v.Get("ts"))
	if m == nil {
		fail(rw, "message_not_found")
		return
	}
	m.Text = v.Get("text")
	if b := v.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	} else {
		m.Blocks = nil
	}
	m.Edits++
	w.publish(Event{Kind: "update", Message: copyMsg(m)})
	reply(rw, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text})
}

func (w *Workspace) postEphemeral(rw http.ResponseWriter, r *http.Request) {
	v, _ := w.read(r, "chat.postEphemeral")
	w.mu.Lock()
	m := &Message{Channel: v.Get("channel"), TS: w.nextTS(), ThreadTS: v.Get("thread_ts"), Text: v.Get("text"), Blocks: json.RawMessage(v.Get("blocks")), To: v.Get("user"), Ephemeral: true, Bot: true}
	if len(m.Blocks) == 0 {
		m.Blocks = nil
	}
	w.messages = append(w.messages, m)
	w.publish(Event{Kind: "message", Message: copyMsg(m)})
	w.mu.Unlock()
	reply(rw, map[string]any{"ok": true, "message_ts": m.TS})
}

// responseURL takes what a slash command's or interaction's response_url
// receives: ephemeral by default, in the channel when asked.
func (w *Workspace) responseURL(rw http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path[strings.Index(r.URL.Path, "/_response/"):], "/_response/"), "/")
	if len(parts) != 2 {
		http.NotFound(rw, r)
		return
	}
	channel, _ := url.PathUnescape(parts[0])
	user, _ := url.PathUnescape(parts[1])
	body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	var msg struct {
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
		ResponseType string          `json:"response_type"`
		ThreadTS     string          `json:"thread_ts"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(rw, "bad json", http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.calls = append(w.calls, Call{Method: "response_url", JSON: body, Form: url.Values{"channel": {channel}, "user": {user}}})
	m := &Message{Channel: channel, TS: w.nextTS(), ThreadTS: msg.ThreadTS, Text: msg.Text, Blocks: msg.Blocks, Bot: true}
	if msg.ResponseType != "in_channel" {
		m.Ephemeral, m.To = true, user
	}
	if string(m.Blocks) == "null" {
		m.Blocks = nil
	}
	w.messages = append(w.messages, m)
	w.publish(Event{Kind: "message", Message: copyMsg(m)})
	w.mu.Unlock()
	_, _ = io.WriteString(rw, "ok")
}

func (w *Workspace) find(channel, ts string) *Message {
	for _, m := range w.messages {
		if m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

func (w *Workspace) viewsOpen(rw http.ResponseWriter, r *http.Request) {
	_, raw := w.read(r, "views.open")
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		fail(rw, "invalid_arguments")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	user, ok := w.triggers[req.TriggerID]
	if !ok {
		fail(rw, "invalid_trigger_id")
		return
	}
	delete(w.triggers, req.TriggerID) // a trigger opens one view
	w.seq++
	v := &View{ID: fmt.Sprintf("V%08d", w.seq%100000000), User: user, TriggerID: req.TriggerID, Kind: "modal", View: req.View, Hash: fmt.Sprintf("h%d", w.seq)}
	w.views = append(w.views, v)
	w.publish(Event{Kind: "view", View: v})
	reply(rw, map[string]any{"ok": true, "view": map[string]any{"id": v.ID, "hash": v.Hash}})
}

func (w *Workspace) viewsUpdate(rw http.ResponseWriter, r *http.Request) {
	_, raw := w.read(r, "views.update")
	var req struct {
		ViewID string          `json:"view_id"`
		Hash   string          `json:"hash"`
		View   json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		fail(rw, "invalid_arguments")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range w.views {
		if v.ID != req.ViewID || v.Closed {
			continue
		}
		if req.Hash != "" && req.Hash != v.Hash {
			fail(rw, "hash_conflict")
			return
		}
		w.seq++
		v.View, v.Hash = req.View, fmt.Sprintf("h%d", w.seq)
		w.publish(Event{Kind: "view", View: v})
		reply(rw, map[string]any{"ok": true, "view": map[string]any{"id": v.ID, "hash": v.Hash}})
		return
	}
	fail(rw, "not_found")
}

// UpdateView replaces an open modal's content, as a view_submission's
// response_action "update" does.
func (w *Workspace) UpdateView(id string, view json.RawMessage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range w.views {
		if v.ID == id {
			w.seq++
			v.View, v.Hash = view, fmt.Sprintf("h%d", w.seq)
			w.publish(Event{Kind: "view", View: v})
		}
	}
}

func (w *Workspace) viewsPublish(rw http.ResponseWriter, r *http.Request) {
	_, raw := w.read(r, "views.publish")
	var req struct {
		UserID string          `json:"user_id"`
		View   json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		fail(rw, "invalid_arguments")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	v := &View{ID: "VHOME" + req.UserID, User: req.UserID, Kind: "home", View: req.View}
	w.homes[req.UserID] = v
	w.publish(Event{Kind: "home", View: v})
	reply(rw, map[string]any{"ok": true, "view": map[string]any{"id": v.ID}})
}

func (w *Workspace) reactionsAdd(rw http.ResponseWriter, r *http.Request) {
	v, _ := w.read(r, "reactions.add")
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.find(v.Get("channel"), v.Get("timestamp"))
	if m == nil {
		fail(rw, "message_not_found")
		return
	}
	name := v.Get("name")
	for _, x := range m.Reactions {
		if x == name {
			fail(rw, "already_reacted")
			return
		}
	}
	m.Reactions = append(m.Reactions, name)
	w.publish(Event{Kind: "update", Message: copyMsg(m)})
	reply(rw, map[string]any{"ok": true})
}

func (w *Workspace) getUploadURL(rw http.ResponseWriter, r *http.Request) {
	v, _ := w.read(r, "files.getUploadURLExternal")
	w.mu.Lock()
	w.seq++
	id := fmt.Sprintf("F%08d", w.seq%100000000)
	w.uploads[id] = &File{ID: id, Name: v.Get("filename")}
	w.mu.Unlock()
	reply(rw, map[string]any{"ok": true, "upload_url": strings.TrimSuffix(w.BaseURL, "/") + "/_upload/" + id, "file_id": id})
}

func (w *Workspace) upload(rw http.ResponseWriter, r *http.Request) {
	id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		http.Error(rw, "bad upload", http.StatusBadRequest)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		http.Error(rw, "no file", http.StatusBadRequest)
		return
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	w.mu.Lock()
	defer w.mu.Unlock()
	up, ok := w.uploads[id]
	if !ok {
		http.NotFound(rw, r)
		return
	}
	up.Content, up.Size = b, len(b)
	_, _ = io.WriteString(rw, "OK - "+id)
}

func (w *Workspace) completeUpload(rw http.ResponseWriter, r *http.Request) {
	v, _ := w.read(r, "files.completeUploadExternal")
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	_ = json.Unmarshal([]byte(v.Get("files")), &files)
	w.mu.Lock()
	defer w.mu.Unlock()
	m := &Message{Channel: v.Get("channel_id"), TS: w.nextTS(), ThreadTS: v.Get("thread_ts"), Bot: true}
	var summaries []map[string]string
	for _, f := range files {
		up, ok := w.uploads[f.ID]
		if !ok {
			fail(rw, "file_not_found")
			return
		}
		up.Title = f.Title
		m.Files = append(m.Files, *up)
		m.Text += up.Name + " "
		summaries = append(summaries, map[string]string{"id": up.ID, "title": up.Title})
	}
	if m.Channel != "" {
		w.messages = append(w.messages, m)
		w.publish(Event{Kind: "message", Message: copyMsg(m)})
	}
	reply(rw, map[string]any{"ok": true, "files": summaries})
}

func (w *Workspace) usergroupUsers(rw http.ResponseWriter, r *http.Request) {
	v, _ := w.read(r, "usergroups.users.list")
	w.mu.Lock()
	users, ok := w.groups[v.Get("usergroup")]
	w.mu.Unlock()
	if !ok {
		fail(rw, "no_such_subteam")
		return
	}
	reply(rw, map[string]any{"ok": true, "users": users})
}

func (w *Workspace) authTest(rw http.ResponseWriter, r *http.Request) {
	w.read(r, "auth.test")
	reply(rw, map[string]any{"ok": true, "user_id": w.BotUserID, "user": "deskbot", "team_id": "T0LOCAL", "team": "local"})
}

// Messages returns a copy of every message, in order.
func (w *Workspace) Messages() []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Message, len(w.messages))
	for i, m := range w.messages {
		out[i] = *copyMsg(m)
	}
	return out
}

// Calls returns the calls to method ("" for all).
func (w *Workspace) Calls(method string) []Call {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Call
	for _, c := range w.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Views returns the opened modals.
func (w *Workspace) Views() []View {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]View, len(w.views))
	for i, v := range w.views {
		out[i] = *v
	}
	return out
}

// Home returns user's published home tab, if any.
func (w *Workspace) Home(user string) (View, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.homes[user]
	if !ok {
		return View{}, false
	}
	return *v, true
}

// Thread returns the replies to a message, in order.
func (w *Workspace) Thread(channel, ts string) []Message {
	var out []Message
	for _, m := range w.Messages() {
		if m.Channel == channel && m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

// Subscribe returns a channel of events and a function to stop.
func (w *Workspace) Subscribe() (<-chan Event, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.nextSub
	w.nextSub++
	ch := make(chan Event, 256)
	w.subs[id] = ch
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs, id)
	}
}

// Channels lists the channels that have messages, sorted.
func (w *Workspace) Channels() []string {
	seen := map[string]bool{}
	for _, m := range w.Messages() {
		seen[m.Channel] = true
	}
	var out []string
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
