package web

import (
	"time"

	"rfadesk/bot"
)

// RFAJSON is the admin API's view of an RFA. It is the one place that
// decides what the API shows: add SLA fields (severity, clocks) here.
//
// Lists (components, missing, events) are never null. Times are RFC 3339
// in UTC. The status token is never in the list view; the single-RFA view
// carries status_url_path, the path (with token) of the requester's status
// page, so that staff can send the link again.
type RFAJSON struct {
	Ref           string      `json:"ref"`
	Status        string      `json:"status"`
	Channel       string      `json:"channel,omitempty"`
	Subject       string      `json:"subject"`
	Requester     string      `json:"requester"`
	RequesterName string      `json:"requester_name,omitempty"`
	Organisation  string      `json:"organisation"`
	Trust         string      `json:"trust"`
	Site          string      `json:"site"`
	Components    []string    `json:"components"`
	Level         string      `json:"level"`
	ActionTaken   string      `json:"action_taken"`
	ErrorMessage  string      `json:"error_message"`
	CanReplicate  string      `json:"can_replicate"` // yes, no or unknown
	Missing       []string    `json:"missing"`
	Created       string      `json:"created"`
	Messages      int         `json:"messages"` // how many messages the conversation holds
	Events        []EventJSON `json:"events"`
	Flag          string      `json:"flag,omitempty"`
	StatusURLPath string      `json:"status_url_path,omitempty"`
}

// EventJSON is one entry of an RFA's history in the admin API.
type EventJSON struct {
	At    string `json:"at"`
	Kind  string `json:"kind"`
	Text  string `json:"text"`
	Actor string `json:"actor,omitempty"`
}

// RFAListJSON is the body of GET /api/rfas.
type RFAListJSON struct {
	RFAs []RFAJSON `json:"rfas"`
}

// rfaJSON builds the API view of r. withLink adds status_url_path.
func rfaJSON(r *bot.RFA, withLink bool) RFAJSON {
	rep := r.Report
	v := RFAJSON{
		Ref:           r.Ref(),
		Status:        string(r.Status),
		Channel:       string(r.Channel),
		Subject:       r.Subject,
		Requester:     r.Requester.Email,
		RequesterName: r.Requester.Name,
		Organisation:  r.Organisation,
		Trust:         r.Trust,
		Site:          rep.Site,
		Components:    append([]string{}, rep.Components...),
		Level:         rep.Level,
		ActionTaken:   rep.ActionTaken,
		ErrorMessage:  rep.ErrorMessage,
		CanReplicate:  string(rep.CanReplicate),
		Missing:       append([]string{}, rep.Missing()...),
		Created:       rfc3339(r.Created),
		Messages:      len(r.Messages),
		Events:        make([]EventJSON, 0, len(r.Events)),
		Flag:          r.Flag,
	}
	if v.CanReplicate == "" {
		v.CanReplicate = string(bot.ReplicateUnknown)
	}
	for _, e := range r.Events {
		v.Events = append(v.Events, EventJSON{At: rfc3339(e.At), Kind: e.Kind, Text: e.Text, Actor: e.Actor})
	}
	if withLink && r.Token != "" {
		v.StatusURLPath = statusPath(r)
	}
	return v
}

// rfc3339 formats t in UTC, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
