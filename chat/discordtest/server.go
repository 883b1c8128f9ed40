// Package discordtest is a fake Discord at its HTTP and WebSocket
// boundary, for tests: an httptest server that answers the REST
// endpoints rfadesk uses (under /api/v9), records every request, injects
// faults (429 with retry_after, 5xx, 401), serves attachment files, and
// runs a gateway (HELLO, IDENTIFY/RESUME, READY/RESUMED, heartbeat ACKs,
// dispatched events, forced disconnects).
//
// All methods are safe for concurrent use. It listens on loopback only.
package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options configure a Server; zero fields get defaults.
type Options struct {
	// GuildID is the guild the fake's events belong to (default "100").
	GuildID string
	// BotID is the bot's user id, also its application id (default "900").
	BotID string
	// HeartbeatInterval is sent in HELLO (default 45s).
	HeartbeatInterval time.Duration
	// InProcess serves no socket: REST requests reach the fake only
	// through Transport, and there is no gateway. For tests inside a
	// testing/synctest bubble, whose clock stands still while any of its
	// goroutines waits on the network.
	InProcess bool
}

// Request is one REST request the fake received.
type Request struct {
	Method string
	// Path is the path below /api/v9 ("/channels/1/messages"), unescaped.
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	// Status is what the fake answered.
	Status int
}

// Message is a message in a fake channel.
type Message struct {
	ID, ChannelID string
	AuthorID      string
	Bot           bool
	Content       string
	Nonce         string
	// Body is the JSON the bot sent to create the message (nil for
	// messages added by the test).
	Body        json.RawMessage
	Attachments []Attachment
	Reactions   []string
	Thread      string // id of the thread started on it
	// Stored is when the fake stored the message (for a bot's message:
	// when its create request had been read, before the answer).
	Stored time.Time
}

// Attachment is a file on a message; URL points at the fake.
type Attachment struct {
	ID, Filename, ContentType, URL string
	Size                           int
}

// Member is a guild member known to the fake.
type Member struct {
	UserID, Name string
	Roles        []string
	Bot          bool
}

// Callback is an interaction response the bot sent.
type Callback struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data"`
}

// CallbackData is the common shape of a callback's data.
type CallbackData struct {
	Content  string `json:"content"`
	Flags    int    `json:"flags"`
	CustomID string `json:"custom_id"`
	Title    string `json:"title"`
}

// Decode returns the callback's data.
func (c Callback) Decode() CallbackData {
	var d CallbackData
	_ = json.Unmarshal(c.Data, &d)
	return d
}

// Ephemeral reports whether the answer is visible to the caller only.
func (c Callback) Ephemeral() bool { return c.Decode().Flags&64 != 0 }

// Server is the fake Discord.
type Server struct {
	opts Options
	srv  *httptest.Server
	up   websocket.Upgrader

	mu        sync.Mutex
	changed   chan struct{}
	nextID    uint64
	requests  []Request
	faults    []*Fault
	messages  map[string][]*Message // by channel, in creation order
	byID      map[string]*Message
	members   map[string]Member
	files     map[string][]byte
	commands  json.RawMessage
	callbacks map[string]Callback
	edits     map[string]json.RawMessage // interaction id -> last edit of its response
	gw        gatewayState
	guild     guildState
}

// New starts a fake Discord on 127.0.0.1. Close it when done.
func New(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.GuildID == "" {
		o.GuildID = "100"
	}
	if o.BotID == "" {
		o.BotID = "900"
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 45 * time.Second
	}
	s := &Server{
		opts: o, changed: make(chan struct{}), nextID: 1_300_000_000_000_000_000,
		messages: map[string][]*Message{}, byID: map[string]*Message{},
		members: map[string]Member{}, files: map[string][]byte{}, callbacks: map[string]Callback{}, edits: map[string]json.RawMessage{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveGateway)
	mux.HandleFunc("/ws/", s.serveGateway)
	mux.HandleFunc("/files/", s.serveFile)
	mux.HandleFunc("/api/v9/", s.serveAPI)
	if o.InProcess {
		s.srv = httptest.NewUnstartedServer(mux)
		s.srv.URL = "http://" + s.srv.Listener.Addr().String()
	} else {
		s.srv = httptest.NewServer(mux)
	}
	return s
}

// Transport returns an http.RoundTripper that serves each request
// in-process, through the same handler as the socket, whatever the
// request's host. Use it as the bot's transport to keep every goroutine
// in the test (see Options.InProcess).
func (s *Server) Transport() http.RoundTripper { return inProcess{s.srv.Config.Handler} }

type inProcess struct{ h http.Handler }

// RoundTrip implements http.RoundTripper.
func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	defer in.Body.Close()
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// Close stops the server and drops the gateway connection.
func (s *Server) Close() {
	s.Drop()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// APIBase is the REST base to configure ("http://127.0.0.1:N/api/v9").
func (s *Server) APIBase() string { return s.srv.URL + "/api/v9" }

func (s *Server) newIDLocked() string {
	s.nextID++
	return strconv.FormatUint(s.nextID, 10)
}

// signal wakes Wait callers; call with mu held.
func (s *Server) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond (called with no lock held, after every change)
// returns true, or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("discordtest: waiting: %w", ctx.Err())
		}
	}
}

// AddMember makes a guild member known (for member lookups and the
// member data of dispatched events).
func (s *Server) AddMember(m Member) {
	s.mu.Lock()
	s.members[m.UserID] = m
	s.mu.Unlock()
}

// AddFile serves data at a fresh URL and returns an attachment for it.
func (s *Server) AddFile(name, contentType string, data []byte) Attachment {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newIDLocked()
	s.files[id] = data
	return Attachment{ID: id, Filename: name, ContentType: contentType, Size: len(data),
		URL: s.srv.URL + "/files/" + id + "/" + name}
}

// Requests returns every REST request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Messages returns copies of the messages in a channel, oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages[channelID]))
	for _, m := range s.messages[channelID] {
		c := *m
		c.Reactions = append([]string(nil), m.Reactions...)
		out = append(out, c)
	}
	return out
}

// Message returns a copy of the message with that id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Message{}, false
	}
	c := *m
	c.Reactions = append([]string(nil), m.Reactions...)
	return c, true
}

// Commands returns the last bulk-overwritten guild commands (JSON).
func (s *Server) Commands() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands
}

// Callback returns the response the bot gave to interaction id.
func (s *Server) Callback(id string) (Callback, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.callbacks[id]
	return c, ok
}

// Edited returns the last edit of interaction id's original response
// (PATCH /webhooks/{app}/{token}/messages/@original), as a deferred
// answer is completed.
func (s *Server) Edited(id string) (CallbackData, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, ok := s.edits[id]
	if !ok {
		return CallbackData{}, false
	}
	var d CallbackData
	_ = json.Unmarshal(body, &d)
	return d, true
}

// AddMessage stores a message from a member in a channel without telling
// the gateway (as if sent while the bot was away) and returns it.
func (s *Server) AddMessage(channelID, userID, content string, atts ...Attachment) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{ID: s.newIDLocked(), ChannelID: channelID, AuthorID: userID, Content: content,
		Attachments: atts, Bot: s.members[userID].Bot}
	s.storeLocked(m)
	return *m
}

// Say stores a member's message and dispatches MESSAGE_CREATE for it.
func (s *Server) Say(channelID, userID, content string, atts ...Attachment) Message {
	m := s.AddMessage(channelID, userID, content, atts...)
	s.mu.Lock()
	d := s.messageJSONLocked(&m, true)
	s.mu.Unlock()
	s.Dispatch("MESSAGE_CREATE", d)
	return m
}

func (s *Server) storeLocked(m *Message) {
	m.Stored = time.Now()
	s.messages[m.ChannelID] = append(s.messages[m.ChannelID], m)
	s.byID[m.ID] = m
	s.signal()
}

// userJSON is a user object for userID.
func (s *Server) userJSONLocked(userID string) map[string]any {
	m, ok := s.members[userID]
	name := m.Name
	if !ok {
		name = "user" + userID
	}
	if userID == s.opts.BotID {
		return map[string]any{"id": userID, "username": "rfadesk", "bot": true}
	}
	return map[string]any{"id": userID, "username": strings.ToLower(strings.ReplaceAll(name, " ", "")), "global_name": name, "bot": m.Bot}
}

func (s *Server) memberJSONLocked(userID string, withUser bool) map[string]any {
	m := s.members[userID]
	roles := m.Roles
	if roles == nil {
		roles = []string{}
	}
	out := map[string]any{"roles": roles, "nick": m.Name}
	if withUser {
		out["user"] = s.userJSONLocked(userID)
	}
	return out
}

// messageJSONLocked renders m as Discord would; inGuild adds guild_id
// and member (as MESSAGE_CREATE does).
func (s *Server) messageJSONLocked(m *Message, inGuild bool) map[string]any {
	atts := []map[string]any{}
	for _, a := range m.Attachments {
		atts = append(atts, map[string]any{"id": a.ID, "filename": a.Filename, "content_type": a.ContentType,
			"size": a.Size, "url": a.URL, "proxy_url": a.URL})
	}
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "author": s.userJSONLocked(m.AuthorID),
		"attachments": atts, "embeds": []any{}, "mentions": []any{}, "type": 0,
		"timestamp": time.Now().UTC().Format(time.RFC3339),
	}
	if m.Nonce != "" {
		out["nonce"] = m.Nonce
	}
	if m.Body != nil {
		var b map[string]any
		if json.Unmarshal(m.Body, &b) == nil {
			if e, ok := b["embeds"]; ok && e != nil {
				out["embeds"] = e
			}
			if c, ok := b["components"]; ok && c != nil {
				out["components"] = c
			}
		}
	}
	if inGuild {
		out["guild_id"] = s.opts.GuildID
		if m.AuthorID != s.opts.BotID {
			out["member"] = s.memberJSONLocked(m.AuthorID, false)
		}
	}
	return out
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/files/"), "/")
	s.mu.Lock()
	data, ok := s.files[id]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(data)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/api/v9")
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	defer func() { s.requests = append(s.requests, req); s.signal() }()
	if path != "/gateway" && r.Header.Get("Authorization") == "" {
		req.Status = 401
		writeJSON(w, 401, map[string]any{"message": "401: Unauthorized", "code": 0})
		return
	}
	f := s.takeFaultLocked(r.Method, path)
	if f != nil && !f.Commit {
		req.Status = f.Status
		s.writeFault(w, f)
		return
	}
	rec := httptest.NewRecorder()
	s.routeLocked(rec, r.Method, path, r.URL.Query(), body)
	if f != nil {
		req.Status = f.Status
		s.writeFault(w, f)
		return
	}
	req.Status = rec.Code
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}
