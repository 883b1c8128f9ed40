package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"rfadesk/bot"
)

// PublicRFAJSON is the requester's view of an RFA as JSON: what GET
// /rfa/{ref}?t=TOKEN answers for Accept: application/json. It is an
// allow-list built field by field from the RFA, never from RFAJSON: no
// internal note, flag, assignee, staff-only event, manager mail, chat
// thread, status token or anyone's address is in it. A message is
// signed by a name only: the requester's own, the desk's or a staff
// member's, and "a colleague" for anyone else who gave no name.
//
// Lists (components, missing, timeline, conversation, attachments) and
// the clocks object are never null; times are RFC 3339 in UTC. parent
// (the RFA it is linked to), cleared_at and confirm_by (while cleared),
// and closed_at (once closed) are absent when they do not apply.
type PublicRFAJSON struct {
	Ref           string               `json:"ref"`
	Status        string               `json:"status"`       // new, open, awaiting-requester, cleared, closed
	StatusLabel   string               `json:"status_label"` // as the page words it
	Subject       string               `json:"subject"`
	Organisation  string               `json:"organisation"`
	Trust         string               `json:"trust"`
	Created       string               `json:"created"`
	Severity      string               `json:"severity"`       // critical, serious, moderate, minor or ""
	SeverityLabel string               `json:"severity_label"` // "Critical", ..., "Awaiting triage"
	Site          string               `json:"site"`
	Components    []string             `json:"components"`
	Level         string               `json:"level"`
	ActionTaken   string               `json:"action_taken"`
	ErrorMessage  string               `json:"error_message"`
	CanReplicate  string               `json:"can_replicate"` // yes, no or unknown
	Missing       []string             `json:"missing"`
	Clocks        map[string]ClockJSON `json:"clocks"` // as in the admin JSON
	Release       *ReleaseJSON         `json:"release,omitempty"`
	Parent        string               `json:"parent,omitempty"`
	ClearedAt     string               `json:"cleared_at,omitempty"`
	ConfirmBy     string               `json:"confirm_by,omitempty"`
	ClosedAt      string               `json:"closed_at,omitempty"`
	Timeline      []PublicEventJSON    `json:"timeline"`
	Conversation  []PublicMessageJSON  `json:"conversation"`
}

// PublicEventJSON is one entry of the public history: the page's words
// (publicEventText) and, apart, the requester's own quoted words.
type PublicEventJSON struct {
	At    string `json:"at"`
	Text  string `json:"text"`
	Quote string `json:"quote,omitempty"`
}

// PublicMessageJSON is one message of the conversation. direction is
// "to-desk" or "from-desk"; cut_note says the text was cut and where the
// whole of it is kept.
type PublicMessageJSON struct {
	At          string                 `json:"at"`
	Direction   string                 `json:"direction"`
	From        string                 `json:"from"`
	Text        string                 `json:"text"`
	CutNote     string                 `json:"cut_note,omitempty"`
	Attachments []PublicAttachmentJSON `json:"attachments"`
}

// PublicAttachmentJSON names a file a message carried.
type PublicAttachmentJSON struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// publicJSON builds the requester's JSON view of r from the page's view v
// of it (so that page and JSON show the same words) and r's clocks.
func (h *handler) publicJSON(r *bot.RFA, v statusView, clocks []bot.ClockState) PublicRFAJSON {
	rep := r.Report
	out := PublicRFAJSON{
		Ref: r.Ref(), Status: string(r.Status), StatusLabel: v.Status,
		Subject: r.Subject, Organisation: r.Organisation, Trust: r.Trust,
		Created:  rfc3339(r.Created),
		Severity: string(r.Severity), SeverityLabel: r.Severity.Title(),
		Site: rep.Site, Components: append([]string{}, rep.Components...), Level: rep.Level,
		ActionTaken: rep.ActionTaken, ErrorMessage: rep.ErrorMessage, CanReplicate: string(rep.CanReplicate),
		Missing:      append([]string{}, rep.Missing()...),
		Clocks:       make(map[string]ClockJSON, len(clocks)),
		Timeline:     make([]PublicEventJSON, 0, len(v.Events)),
		Conversation: make([]PublicMessageJSON, 0, len(v.Messages)),
	}
	if out.CanReplicate == "" {
		out.CanReplicate = string(bot.ReplicateUnknown)
	}
	for _, c := range clocks {
		out.Clocks[string(c.Name)] = clockJSON(c)
	}
	if r.Release != nil {
		out.Release = &ReleaseJSON{Name: r.Release.Name, Ships: rfc3339(r.Release.Ships)}
	}
	if at, ok := r.ClearedAt(); ok {
		out.ClearedAt = rfc3339(at)
	}
	if at, ok := r.ClosedAt(); ok {
		out.ClosedAt = rfc3339(at)
	}
	if confirmBy := v.settings.ConfirmBy; confirmBy != nil {
		if at, ok := confirmBy(r); ok {
			out.ConfirmBy = rfc3339(at)
		}
	}
	if r.Parent != 0 {
		out.Parent = bot.FormatRef(r.Parent)
	}
	for _, e := range v.Events {
		out.Timeline = append(out.Timeline, PublicEventJSON{At: rfc3339(e.At), Text: e.Text, Quote: e.Quote})
	}
	for i, m := range v.Messages {
		pm := PublicMessageJSON{At: rfc3339(m.At), Direction: "from-desk", From: m.From,
			Text: m.Text, CutNote: m.CutNote, Attachments: []PublicAttachmentJSON{}}
		if m.Inbound {
			pm.Direction = "to-desk"
		}
		for _, a := range r.Messages[i].Attachments {
			pm.Attachments = append(pm.Attachments, PublicAttachmentJSON{Name: a.Name, ContentType: a.ContentType, Size: a.Size})
		}
		out.Conversation = append(out.Conversation, pm)
	}
	return out
}

// publicSender is how the JSON signs message m of r: a name, never an
// address. The requester without a name is "you"; the desk's own mail
// without a name is the desk's name; anyone else is "a colleague".
func publicSender(s Settings, r *bot.RFA, m bot.Message) string {
	if name := strings.TrimSpace(m.From.Name); name != "" && !strings.Contains(name, "@") {
		return name
	}
	switch {
	case m.Direction != bot.Inbound:
		return s.DeskName
	case strings.EqualFold(m.From.Email, r.Requester.Email):
		return "you"
	}
	return "a colleague"
}

// statusJSON answers GET /rfa/{ref}?t=TOKEN for Accept: application/json.
// As the page does (render), it removes bidirectional controls from all
// it says (bot.NeutralizeBidi), which JSON's escaping leaves alone.
func (h *handler) statusJSON(w http.ResponseWriter, r *bot.RFA, v statusView) {
	body, err := json.MarshalIndent(h.publicJSON(r, v, clocksOf(v.settings, r)), "", "  ")
	if err != nil {
		h.log.Error("web: encoding the public JSON", "ref", r.Ref(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, bot.NeutralizeBidi(string(body))+"\n")
}
