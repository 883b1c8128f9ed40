package discordtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// gatewayState is the fake gateway's session; guarded by Server.mu.
type gatewayState struct {
	conn       *gwConn
	sessionID  string
	seq        int64
	events     []gwEvent
	sent       int64 // highest event seq written to a live session
	identifies int
	resumes    int
}

type gwEvent struct {
	seq int64
	t   string
	d   any
}

// gwConn serialises writes to one websocket.
type gwConn struct {
	mu    sync.Mutex
	ws    interface{ WriteJSON(any) error }
	close func() error
	ready bool // identified or resumed
}

func (c *gwConn) write(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteJSON(v)
}

type gwPayload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

// Identifies and Resumes count the sessions the bot opened and resumed.
func (s *Server) Identifies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gw.identifies
}

func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gw.resumes
}

// Drop cuts the gateway connection without a close frame, as a network
// failure would. The session stays resumable.
func (s *Server) Drop() {
	s.mu.Lock()
	c := s.gw.conn
	s.gw.conn = nil
	s.signal()
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// Dispatch sends event t with data d to the bot: at once if a session
// is live, else when it next identifies or resumes.
func (s *Server) Dispatch(t string, d any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.seq++
	s.gw.events = append(s.gw.events, gwEvent{s.gw.seq, t, d})
	if c := s.gw.conn; c != nil && c.ready {
		s.flushLocked(c, s.gw.sent)
	}
}

// flushLocked writes every event after seq to c.
func (s *Server) flushLocked(c *gwConn, after int64) {
	for _, e := range s.gw.events {
		if e.seq <= after {
			continue
		}
		seq := e.seq
		d, _ := json.Marshal(e.d)
		if err := c.write(gwPayload{Op: 0, T: e.t, S: &seq, D: d}); err != nil {
			return
		}
		s.gw.sent = max(s.gw.sent, e.seq)
	}
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws, close: ws.Close}
	s.mu.Lock()
	old := s.gw.conn
	s.gw.conn = c
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	defer func() {
		s.mu.Lock()
		if s.gw.conn == c {
			s.gw.conn = nil
			s.signal()
		}
		s.mu.Unlock()
		ws.Close()
	}()
	hello, _ := json.Marshal(map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()})
	if c.write(gwPayload{Op: 10, D: hello}) != nil {
		return
	}
	for {
		var p gwPayload
		if err := ws.ReadJSON(&p); err != nil {
			return
		}
		switch p.Op {
		case 1: // heartbeat
			if c.write(gwPayload{Op: 11}) != nil {
				return
			}
		case 2: // identify
			s.identify(c)
		case 6: // resume
			var d struct {
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			_ = json.Unmarshal(p.D, &d)
			s.resume(c, d.SessionID, d.Seq)
		}
	}
}

func (s *Server) identify(c *gwConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.identifies++
	s.gw.sessionID = "session-" + strconv.Itoa(s.gw.identifies)
	ready := map[string]any{
		"v": 10, "session_id": s.gw.sessionID, "resume_gateway_url": "ws" + s.srv.URL[len("http"):] + "/ws",
		"user":        map[string]any{"id": s.opts.BotID, "username": "rfadesk", "bot": true},
		"application": map[string]any{"id": s.opts.BotID, "flags": 0},
		"guilds":      []any{map[string]any{"id": s.opts.GuildID, "unavailable": true}},
	}
	d, _ := json.Marshal(ready)
	seq := s.gw.seq
	if c.write(gwPayload{Op: 0, T: "READY", S: &seq, D: d}) != nil {
		return
	}
	c.ready = true
	s.signal()
	s.flushLocked(c, s.gw.sent)
}

func (s *Server) resume(c *gwConn, sessionID string, seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sessionID == "" || sessionID != s.gw.sessionID {
		c.write(gwPayload{Op: 9, D: json.RawMessage("false")})
		return
	}
	s.gw.resumes++
	from := min(seq, s.gw.sent)
	if c.write(gwPayload{Op: 0, T: "RESUMED", S: &from, D: json.RawMessage("{}")}) != nil {
		return
	}
	c.ready = true
	s.signal()
	s.flushLocked(c, from)
}
