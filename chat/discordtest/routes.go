package discordtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// notFound answers like Discord's "Unknown ..." errors.
func notFound(w http.ResponseWriter, code int, what string) {
	writeJSON(w, 404, map[string]any{"message": "Unknown " + what, "code": code})
}

// routeLocked performs one REST request; mu is held.
func (s *Server) routeLocked(w *httptest.ResponseRecorder, method, path string, q url.Values, body []byte) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case method == "GET" && path == "/gateway":
		writeJSON(w, 200, map[string]string{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"})
	case len(seg) == 3 && seg[0] == "channels" && seg[2] == "messages" && method == "POST":
		s.createMessageLocked(w, seg[1], body)
	case len(seg) == 3 && seg[0] == "channels" && seg[2] == "messages" && method == "GET":
		s.listMessagesLocked(w, seg[1], q)
	case len(seg) == 4 && seg[0] == "channels" && seg[2] == "messages" && method == "PATCH":
		s.editMessageLocked(w, seg[1], seg[3], body)
	case len(seg) == 5 && seg[0] == "channels" && seg[4] == "threads" && method == "POST":
		s.startThreadLocked(w, seg[1], seg[3], body)
	case len(seg) == 7 && seg[0] == "channels" && seg[4] == "reactions" && method == "PUT":
		m, ok := s.byID[seg[3]]
		if !ok || m.ChannelID != seg[1] {
			notFound(w, 10008, "Message")
			return
		}
		m.Reactions = append(m.Reactions, seg[5])
		w.WriteHeader(204)
	case len(seg) == 5 && seg[0] == "applications" && seg[2] == "guilds" && seg[4] == "commands" && method == "PUT":
		var cmds []map[string]any
		if err := json.Unmarshal(body, &cmds); err != nil {
			writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
			return
		}
		for _, c := range cmds {
			c["id"] = s.newIDLocked()
			c["application_id"] = seg[1]
			c["guild_id"] = seg[3]
		}
		s.commands = append(json.RawMessage(nil), body...)
		writeJSON(w, 200, cmds)
	case len(seg) == 4 && seg[0] == "interactions" && seg[3] == "callback" && method == "POST":
		var c Callback
		if err := json.Unmarshal(body, &c); err != nil {
			writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
			return
		}
		if _, dup := s.callbacks[seg[1]]; dup {
			writeJSON(w, 400, map[string]any{"message": "Interaction has already been acknowledged.", "code": 40060})
			return
		}
		s.callbacks[seg[1]] = c
		w.WriteHeader(204)
	case len(seg) == 5 && seg[0] == "webhooks" && seg[3] == "messages" && seg[4] == "@original" && method == "PATCH":
		// Editing an interaction's original response: the interaction
		// must have been answered first (a deferred answer, usually).
		id := strings.TrimPrefix(seg[2], "tok-")
		if _, ok := s.callbacks[id]; !ok || seg[1] != s.opts.BotID {
			notFound(w, 10015, "Webhook")
			return
		}
		s.edits[id] = append(json.RawMessage(nil), body...)
		writeJSON(w, 200, map[string]any{"id": s.newIDLocked(), "channel_id": "", "content": ""})
	case len(seg) == 4 && seg[0] == "guilds" && seg[2] == "members" && method == "GET":
		if _, ok := s.members[seg[3]]; !ok || seg[1] != s.opts.GuildID {
			notFound(w, 10007, "Member")
			return
		}
		writeJSON(w, 200, s.memberJSONLocked(seg[3], true))
	default:
		if !s.routeGuildLocked(w, method, seg) {
			writeJSON(w, 404, map[string]any{"message": "404: Not Found", "code": 0})
		}
	}
}

type createBody struct {
	Content      string          `json:"content"`
	Nonce        json.RawMessage `json:"nonce"`
	EnforceNonce bool            `json:"enforce_nonce"`
}

func (s *Server) createMessageLocked(w http.ResponseWriter, channelID string, body []byte) {
	var b createBody
	if err := json.Unmarshal(body, &b); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	if len([]rune(b.Content)) > 2000 {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body: content: Must be 2000 or fewer in length.", "code": 50035})
		return
	}
	nonce := strings.Trim(string(b.Nonce), `"`)
	if nonce == "null" {
		nonce = ""
	}
	if b.EnforceNonce && nonce != "" {
		for _, m := range s.messages[channelID] {
			if m.Nonce == nonce && m.AuthorID == s.opts.BotID {
				writeJSON(w, 200, s.messageJSONLocked(m, false))
				return
			}
		}
	}
	m := &Message{ID: s.newIDLocked(), ChannelID: channelID, AuthorID: s.opts.BotID, Bot: true,
		Content: b.Content, Nonce: nonce, Body: append(json.RawMessage(nil), body...)}
	s.storeLocked(m)
	writeJSON(w, 200, s.messageJSONLocked(m, false))
}

func (s *Server) editMessageLocked(w http.ResponseWriter, channelID, id string, body []byte) {
	m, ok := s.byID[id]
	if !ok || m.ChannelID != channelID {
		notFound(w, 10008, "Message")
		return
	}
	var b struct {
		Content *string `json:"content"`
	}
	_ = json.Unmarshal(body, &b)
	if b.Content != nil {
		m.Content = *b.Content
	}
	m.Body = append(json.RawMessage(nil), body...)
	writeJSON(w, 200, s.messageJSONLocked(m, false))
}

func (s *Server) listMessagesLocked(w http.ResponseWriter, channelID string, q url.Values) {
	limit := 50
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l <= 100 {
		limit = l
	}
	after := q.Get("after")
	var out []*Message
	for _, m := range s.messages[channelID] {
		if after == "" || snowLess(after, m.ID) {
			out = append(out, m)
		}
	}
	if after != "" && len(out) > limit {
		out = out[:limit] // the oldest ones after the cursor
	} else if len(out) > limit {
		out = out[len(out)-limit:]
	}
	// Discord answers newest first.
	sort.Slice(out, func(i, j int) bool { return snowLess(out[j].ID, out[i].ID) })
	js := make([]map[string]any, len(out))
	for i, m := range out {
		js[i] = s.messageJSONLocked(m, false)
	}
	writeJSON(w, 200, js)
}

func (s *Server) startThreadLocked(w http.ResponseWriter, channelID, id string, body []byte) {
	m, ok := s.byID[id]
	if !ok || m.ChannelID != channelID {
		notFound(w, 10008, "Message")
		return
	}
	if m.Thread != "" {
		writeJSON(w, 400, map[string]any{"message": "A thread has already been created for this message", "code": 160004})
		return
	}
	var b struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &b)
	if n := len([]rune(b.Name)); n == 0 || n > 100 {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body: name", "code": 50035})
		return
	}
	// A thread started from a message has the message's id.
	m.Thread = m.ID
	s.signal()
	writeJSON(w, 201, map[string]any{"id": m.ID, "type": 11, "guild_id": s.opts.GuildID, "parent_id": channelID, "name": b.Name})
}

func snowLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
