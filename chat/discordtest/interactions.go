package discordtest

import "strings"

// Application command option types used by Option.Type.
const (
	OptionString = 3
	OptionUser   = 6
)

// Option is one option of a slash command invocation.
type Option struct {
	Name  string
	Type  int // OptionString or OptionUser
	Value string
}

// Str is a string option.
func Str(name, value string) Option { return Option{Name: name, Type: OptionString, Value: value} }

// User is a user option naming a member.
func User(name, userID string) Option { return Option{Name: name, Type: OptionUser, Value: userID} }

// interactionLocked builds an interaction of type typ by userID in
// channelID (a guild channel unless dm).
func (s *Server) interactionLocked(typ int, channelID, userID string, dm bool, data map[string]any) (string, map[string]any) {
	id := s.newIDLocked()
	in := map[string]any{
		"id": id, "application_id": s.opts.BotID, "type": typ, "token": "tok-" + id,
		"channel_id": channelID, "data": data, "version": 1, "locale": "en-GB",
	}
	if dm {
		in["user"] = s.userJSONLocked(userID)
	} else {
		in["guild_id"] = s.opts.GuildID
		in["member"] = s.memberJSONLocked(userID, true)
	}
	return id, in
}

// Slash dispatches /command sub (sub may be "", or "group sub" for a
// subcommand in a group) with opts, invoked by userID in channelID, and
// returns the interaction id.
func (s *Server) Slash(channelID, userID, command, sub string, opts ...Option) string {
	s.mu.Lock()
	var list []map[string]any
	users := map[string]any{}
	members := map[string]any{}
	for _, o := range opts {
		list = append(list, map[string]any{"name": o.Name, "type": o.Type, "value": o.Value})
		if o.Type == OptionUser {
			users[o.Value] = s.userJSONLocked(o.Value)
			members[o.Value] = s.memberJSONLocked(o.Value, false)
		}
	}
	if list == nil {
		list = []map[string]any{}
	}
	data := map[string]any{"id": "cmd-" + command, "name": command, "type": 1,
		"resolved": map[string]any{"users": users, "members": members}}
	if group, name, ok := strings.Cut(sub, " "); ok {
		data["options"] = []map[string]any{{"name": group, "type": 2, "options": []map[string]any{{"name": name, "type": 1, "options": list}}}}
	} else if sub != "" {
		data["options"] = []map[string]any{{"name": sub, "type": 1, "options": list}}
	} else {
		data["options"] = list
	}
	id, in := s.interactionLocked(2, channelID, userID, false, data)
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", in)
	return id
}

// SlashDM is Slash sent from a direct message (no guild).
func (s *Server) SlashDM(channelID, userID, command, sub string) string {
	s.mu.Lock()
	data := map[string]any{"id": "cmd-" + command, "name": command, "type": 1,
		"options": []map[string]any{{"name": sub, "type": 1, "options": []any{}}}}
	id, in := s.interactionLocked(2, channelID, userID, true, data)
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", in)
	return id
}

// Click dispatches a button press on message messageID.
func (s *Server) Click(channelID, messageID, userID, customID string) string {
	s.mu.Lock()
	data := map[string]any{"custom_id": customID, "component_type": 2}
	id, in := s.interactionLocked(3, channelID, userID, false, data)
	if m, ok := s.byID[messageID]; ok {
		in["message"] = s.messageJSONLocked(m, false)
	} else {
		in["message"] = map[string]any{"id": messageID, "channel_id": channelID}
	}
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", in)
	return id
}

// SubmitModal dispatches a modal submission with text input values by
// custom id.
func (s *Server) SubmitModal(channelID, userID, customID string, values map[string]string) string {
	s.mu.Lock()
	var rows []map[string]any
	for k, v := range values {
		rows = append(rows, map[string]any{"type": 1, "components": []map[string]any{{"type": 4, "custom_id": k, "value": v}}})
	}
	data := map[string]any{"custom_id": customID, "components": rows}
	id, in := s.interactionLocked(5, channelID, userID, false, data)
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", in)
	return id
}

// SayDM dispatches a direct message (no guild) from userID.
func (s *Server) SayDM(channelID, userID, content string) Message {
	s.mu.Lock()
	m := &Message{ID: s.newIDLocked(), ChannelID: channelID, AuthorID: userID, Content: content}
	s.storeLocked(m)
	d := s.messageJSONLocked(m, false)
	s.mu.Unlock()
	s.Dispatch("MESSAGE_CREATE", d)
	return *m
}
