package discordtest

import (
	"net/http"
	"strconv"
)

// The fake's guild as a connection check sees it: the bot user and its
// application, the guild's roles, and channels with permission
// overwrites. Messages may be posted to any channel id; only channels
// added with AddChannel answer GET /channels/{id}.

// Role is a guild role. The role whose ID is the guild's id is
// @everyone.
type Role struct {
	ID, Name    string
	Permissions int64
	Mentionable bool
}

// Overwrite is a channel permission overwrite for a role (Type 0) or a
// member (Type 1).
type Overwrite struct {
	ID          string
	Type        int
	Allow, Deny int64
}

// Channel is a guild channel known to GET /channels/{id}.
type Channel struct {
	ID, Name string
	// GuildID is the guild it belongs to; "" means Options.GuildID.
	GuildID string
	// Type is Discord's channel type: 0 text (the default), 4 category,
	// 15 forum, ...
	Type       int
	Overwrites []Overwrite
}

// guildState is what the guild routes serve; mu guards it.
type guildState struct {
	roles    []Role
	channels map[string]Channel
	appFlags int
	ownerID  string
}

// AddRole adds (or replaces) a guild role.
func (s *Server) AddRole(r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, have := range s.guild.roles {
		if have.ID == r.ID {
			s.guild.roles[i] = r
			return
		}
	}
	s.guild.roles = append(s.guild.roles, r)
}

// AddChannel adds (or replaces) a channel.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guild.channels == nil {
		s.guild.channels = map[string]Channel{}
	}
	if c.GuildID == "" {
		c.GuildID = s.opts.GuildID
	}
	s.guild.channels[c.ID] = c
}

// SetApplicationFlags sets the flags GET /applications/@me reports (for
// example 1<<18, the Message Content intent).
func (s *Server) SetApplicationFlags(flags int) {
	s.mu.Lock()
	s.guild.appFlags = flags
	s.mu.Unlock()
}

// routeGuildLocked answers the guild routes and reports whether path
// was one of them; mu is held.
func (s *Server) routeGuildLocked(w http.ResponseWriter, method string, seg []string) bool {
	if method != http.MethodGet {
		return false
	}
	switch {
	case len(seg) == 2 && seg[0] == "users" && seg[1] == "@me":
		writeJSON(w, 200, map[string]any{"id": s.opts.BotID, "username": "rfadesk", "discriminator": "0", "bot": true})
	case len(seg) == 2 && seg[0] == "applications" && seg[1] == "@me":
		writeJSON(w, 200, map[string]any{"id": s.opts.BotID, "name": "rfadesk", "flags": s.guild.appFlags})
	case len(seg) == 5 && seg[0] == "applications" && seg[2] == "guilds" && seg[4] == "commands":
		if s.commands == nil {
			writeJSON(w, 200, []any{})
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		w.Write(s.commands)
	case len(seg) == 2 && seg[0] == "guilds":
		if seg[1] != s.opts.GuildID {
			notFound(w, 10004, "Guild")
			return true
		}
		roles := []map[string]any{}
		everyone := false
		for _, r := range s.guild.roles {
			everyone = everyone || r.ID == s.opts.GuildID
			roles = append(roles, roleJSON(r))
		}
		if !everyone {
			roles = append(roles, roleJSON(Role{ID: s.opts.GuildID, Name: "@everyone"}))
		}
		owner := s.guild.ownerID
		if owner == "" {
			owner = "1"
		}
		writeJSON(w, 200, map[string]any{"id": s.opts.GuildID, "name": "Fake Guild", "owner_id": owner, "roles": roles})
	case len(seg) == 2 && seg[0] == "channels":
		c, ok := s.guild.channels[seg[1]]
		if !ok {
			notFound(w, 10003, "Channel")
			return true
		}
		ows := []map[string]any{}
		for _, o := range c.Overwrites {
			ows = append(ows, map[string]any{"id": o.ID, "type": o.Type,
				"allow": strconv.FormatInt(o.Allow, 10), "deny": strconv.FormatInt(o.Deny, 10)})
		}
		writeJSON(w, 200, map[string]any{"id": c.ID, "guild_id": c.GuildID, "name": c.Name, "type": c.Type, "permission_overwrites": ows})
	default:
		return false
	}
	return true
}

func roleJSON(r Role) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "permissions": strconv.FormatInt(r.Permissions, 10), "mentionable": r.Mentionable}
}
