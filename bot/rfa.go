package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot/report"
)

// Status is where an RFA is in its life.
type Status string

const (
	StatusNew               Status = "new"                // logged, no staff action yet
	StatusOpen              Status = "open"               // staff are working it
	StatusAwaitingRequester Status = "awaiting-requester" // staff asked a question
	StatusCleared           Status = "cleared"            // fix given, confirmation asked
	StatusClosed            Status = "closed"             // confirmed or timed out
	// StatusUnverified is a web submission from an email domain no
	// organisation owns, held until the requester confirms the address
	// (Desk.ConfirmSubmission): it has no clocks, no jeopardy points, no
	// chat card and no acknowledgement, and is not in the open-RFA index.
	// Confirmation makes it StatusNew.
	StatusUnverified Status = "unverified"
)

// Held reports whether an RFA in status s is held unverified: not yet
// part of the desk's work (no clocks, card, acknowledgement or queue).
func (s Status) Held() bool { return s == StatusUnverified }

// Channel is how an RFA reached the desk.
type Channel string

const (
	ChannelEmail  Channel = "email"
	ChannelPortal Channel = "portal"
	ChannelPhone  Channel = "phone"
)

// Replicate answers "can the school replicate the problem?". It is the
// report package's type, so a parsed report converts to Report as is.
type Replicate = report.Replicate

const (
	ReplicateUnknown = report.ReplicateUnknown
	ReplicateYes     = report.ReplicateYes
	ReplicateNo      = report.ReplicateNo
)

// Report holds the fields the support contract asks every report to
// carry (RequiredFields), and a support tier the school may volunteer.
// Its layout is report.Report's: ParseReport converts one to the other.
type Report struct {
	Site       string   `json:"site"`
	Components []string `json:"components"`
	// Level is the support tier the school volunteered ("Gold"): an
	// optional extra the contract does not ask for, never missing.
	Level string `json:"level"`
	// ActionTaken is the contract's "[LEVEL(s)] action taken": the
	// first-line diagnosis the school already did, each line led by the
	// support level that did it when the school named one ("Level 1:
	// restarted the server").
	ActionTaken  string    `json:"action_taken"`
	ErrorMessage string    `json:"error_message"`
	CanReplicate Replicate `json:"can_replicate"`
}

// Report field names, as used in Missing and shown to requesters.
const (
	FieldSite         = "site"
	FieldComponents   = "components"
	FieldLevel        = "level" // the volunteered support tier: optional
	FieldActionTaken  = "action_taken"
	FieldErrorMessage = "error_message"
	FieldCanReplicate = "can_replicate"
)

// RequiredFields lists the fields the contract asks for, in its order:
// what the desk asks a school for and what Missing checks.
var RequiredFields = []string{FieldSite, FieldComponents, FieldActionTaken, FieldErrorMessage, FieldCanReplicate}

// ReportFields lists every report field in the order they are shown: the
// required ones, then the optional support tier.
var ReportFields = []string{FieldSite, FieldComponents, FieldActionTaken, FieldErrorMessage, FieldCanReplicate, FieldLevel}

// FieldLabel is the human label of a report field, in the contract's
// words. Every label reads back as its own field when a school copies
// it into a reply ("Level(s) of action taken: ...").
func FieldLabel(field string) string {
	switch field {
	case FieldSite:
		return "Site location"
	case FieldComponents:
		return "Service component(s) affected"
	case FieldLevel:
		return "Support tier (optional)"
	case FieldActionTaken:
		return "Level(s) of action taken"
	case FieldErrorMessage:
		return "Exact error message (or a precise description of the problem)"
	case FieldCanReplicate:
		return "Can you replicate the error?"
	}
	return field
}

// Value is the display text of report field, "" while it is missing:
// components joined by ", ", can_replicate as "Yes" or "No".
func (r Report) Value(field string) string {
	switch field {
	case FieldSite:
		return r.Site
	case FieldComponents:
		return strings.Join(r.Components, ", ")
	case FieldLevel:
		return r.Level
	case FieldActionTaken:
		return r.ActionTaken
	case FieldErrorMessage:
		return r.ErrorMessage
	case FieldCanReplicate:
		switch r.CanReplicate {
		case ReplicateYes:
			return "Yes"
		case ReplicateNo:
			return "No"
		}
	}
	return ""
}

// Missing lists the names of the required fields that are still empty,
// in RequiredFields order. The optional support tier is never missing.
func (r Report) Missing() []string {
	var m []string
	if r.Site == "" {
		m = append(m, FieldSite)
	}
	if len(r.Components) == 0 {
		m = append(m, FieldComponents)
	}
	if r.ActionTaken == "" {
		m = append(m, FieldActionTaken)
	}
	if r.ErrorMessage == "" {
		m = append(m, FieldErrorMessage)
	}
	if r.CanReplicate == "" || r.CanReplicate == ReplicateUnknown {
		m = append(m, FieldCanReplicate)
	}
	return m
}

// Merge fills the fields of r that are empty from o and returns the names
// of the fields it filled. Fields already set are never overwritten.
func (r *Report) Merge(o Report) []string {
	var filled []string
	set := func(dst *string, src, name string) {
		if *dst == "" && src != "" {
			*dst = src
			filled = append(filled, name)
		}
	}
	set(&r.Site, o.Site, FieldSite)
	if len(r.Components) == 0 && len(o.Components) > 0 {
		r.Components = append([]string(nil), o.Components...)
		filled = append(filled, FieldComponents)
	}
	set(&r.Level, o.Level, FieldLevel)
	set(&r.ActionTaken, o.ActionTaken, FieldActionTaken)
	set(&r.ErrorMessage, o.ErrorMessage, FieldErrorMessage)
	if (r.CanReplicate == "" || r.CanReplicate == ReplicateUnknown) && (o.CanReplicate == ReplicateYes || o.CanReplicate == ReplicateNo) {
		r.CanReplicate = o.CanReplicate
		filled = append(filled, FieldCanReplicate)
	}
	return filled
}

// Severity is the staff's judgement of an RFA's impact; it sets the
// workaround target.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeveritySerious  Severity = "serious"
	SeverityModerate Severity = "moderate"
	SeverityMinor    Severity = "minor"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{SeverityCritical, SeveritySerious, SeverityModerate, SeverityMinor}

// ParseSeverity reads a severity name in any case.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range Severities {
		if strings.EqualFold(s, string(v)) {
			return v, nil
		}
	}
	return "", fmt.Errorf("bot: %q is not a severity (critical, serious, moderate, minor)", s)
}

// Title is the severity's display name ("Critical").
func (s Severity) Title() string {
	if s == "" {
		return "Awaiting triage"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Direction says which way a message went.
type Direction string

const (
	Inbound  Direction = "in"
	Outbound Direction = "out"
)

// Message is one email (or chat reply) on an RFA's conversation.
type Message struct {
	At        time.Time `json:"at"`
	Direction Direction `json:"direction"`
	From      Address   `json:"from"`
	Subject   string    `json:"subject"`
	// Text is the new text of the message: quoted history removed. The
	// store keeps it apart from the RFA record (Tx.RFA leaves it empty,
	// Tx.RFAWithTexts and Tx.MessageText load it); once recorded it never
	// changes.
	Text string `json:"text"`
	// TextLen is the length in bytes of Text as the store recorded it; 0
	// for an empty text or a message not yet stored. A message with
	// TextLen > 0 and an empty Text was loaded without its text: see
	// TextOmitted.
	TextLen int `json:"text_len,omitempty"`
	// FullSize, when not 0, says the message was cut: Text to the desk's
	// max_message_text, or Subject to MessageSubjectLimit. The whole
	// message (its subject, a blank line, its text) is kept as the
	// message's last attachment, named FullTextName, of FullSize bytes.
	FullSize    int          `json:"full_size,omitempty"`
	MessageID   string       `json:"message_id,omitempty"`
	Auto        AutoKind     `json:"auto,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// TextOmitted reports whether m was loaded without its text (Tx.RFA),
// as opposed to having an empty one.
func (m *Message) TextOmitted() bool { return m.Text == "" && m.TextLen > 0 }

// Event is one entry in an RFA's history.
type Event struct {
	At   time.Time `json:"at"`
	Kind EventKind `json:"kind"`
	Text string    `json:"text"`
	// Actor is who did it: Actor.String() of a person ("Priya Shah
	// (discord:1234)", "Priya Shah (api:Priya Shah)"), a requester's
	// address, or "rfadesk" for the desk itself.
	Actor string `json:"actor,omitempty"`
	// Quote is someone's own words the event carries (a requester's
	// escalation reason), "" if none. It is never part of Text: it is
	// shown apart from the sentence, quoted.
	Quote string `json:"quote,omitempty"`
}

// EventKind names what an Event records: a short lower-case word with
// dashes, stored as written (see the Event* constants).
type EventKind string

// Event kinds recorded by intake and the outbox.
const (
	EventCreated        EventKind = "created"
	EventMessage        EventKind = "message"
	EventFieldsFilled   EventKind = "fields-filled"
	EventAckQueued      EventKind = "ack-queued"
	EventMailSent       EventKind = "mail-sent"       // a mail to the requester was accepted
	EventStaffMailSent  EventKind = "staff-mail-sent" // a mail to managers or staff was accepted
	EventMailFailed     EventKind = "mail-failed"
	EventAutoSuppressed EventKind = "auto-reply-suppressed"
	EventAutoReply      EventKind = "auto-reply-received"
	EventBounce         EventKind = "bounce"
	EventFlagged        EventKind = "flagged"
	// EventHeld records a web submission held unverified and the one
	// confirmation mail queued for it (portal.go).
	EventHeld EventKind = "held"
)

// Event kinds recorded by staff and requester actions. The SLA clocks
// are derived from these.
const (
	EventSeverity     EventKind = "severity"      // Text: the new severity
	EventAssigned     EventKind = "assigned"      // Text: the assignee
	EventStaffReply   EventKind = "staff-reply"   // meets the response clock
	EventNote         EventKind = "note"          // internal, never mailed
	EventStatusUpdate EventKind = "status-update" // meets the first-update clock
	EventAsked        EventKind = "asked"         // pauses the workaround clock
	EventResumed      EventKind = "resumed"       // the requester answered: resumes it
	EventWorkaround   EventKind = "workaround"    // meets the workaround clock
	EventCleared      EventKind = "cleared"
	EventReopened     EventKind = "reopened"
	EventEscalated    EventKind = "escalated" // by the requester
	EventJeopardy     EventKind = "jeopardy"  // Text: "<clock> <percent>%"
	EventBreach       EventKind = "breach"    // Text: the clock
	EventRelease      EventKind = "release"   // Text: the release and when it ships
)

// RFA is a Request For Assistance: the unit the desk tracks.
type RFA struct {
	Num     uint64    `json:"num"`
	Status  Status    `json:"status"`
	Channel Channel   `json:"channel"`
	Subject string    `json:"subject"`
	Created time.Time `json:"created"`

	Requester Address `json:"requester"`
	// Participants are the lower-cased addresses allowed to add to this
	// RFA by email besides the requester (Cc'd colleagues).
	Participants []string `json:"participants,omitempty"`
	Organisation string   `json:"organisation"`
	Trust        string   `json:"trust"`

	Report Report `json:"report"`

	// Token is the secret that opens the requester's status page:
	// base64url of at least 16 random bytes. Never shown to other schools.
	Token string `json:"token"`

	// ConfirmToken is the secret of a held web submission's confirmation
	// link (Desk.ConfirmSubmission): base64url of at least 16 random
	// bytes, "" for every RFA that was not held. It is kept after
	// confirmation, so a second press of the button finds the same RFA.
	ConfirmToken string `json:"confirm_token,omitempty"`

	// Flag, when set, says why staff should look at this RFA before
	// trusting it (e.g. it named another school's RFA).
	Flag string `json:"flag,omitempty"`

	// Severity is set by staff; "" means awaiting triage.
	Severity Severity `json:"severity,omitempty"`
	// SuggestedSeverity is the desk's guess from the report, shown to
	// staff as a suggestion only.
	SuggestedSeverity Severity `json:"suggested_severity,omitempty"`
	// Assignee is the staff member who owns the RFA ("" if nobody).
	Assignee string `json:"assignee,omitempty"`

	// Release is the release a fix is planned for, when staff assign one;
	// a Minor RFA's workaround is then due when it ships.
	Release *Release `json:"release,omitempty"`

	// Parent is the RFA this one is linked to (0: none): a known issue
	// whose clearance clears this one too (links.go).
	Parent uint64 `json:"parent,omitempty"`

	// Chat is where the RFA lives in the staff chat, once posted.
	Chat ChatRef `json:"chat,omitempty"`

	Messages []Message `json:"messages"`
	Events   []Event   `json:"events"`

	// NextEscalation is when the desk's jeopardy scheduler next looks at
	// this RFA: its next escalation point as the SLA policy computed it
	// at the last write (zero: none to come). The desk sets it before
	// every write, and the store's schedule index follows it.
	NextEscalation time.Time `json:"next_escalation,omitzero"`
}

// Release is a software release an RFA's fix ships in. Minor releases
// ship fortnightly, major ones each term.
type Release struct {
	Name  string    `json:"name"`
	Ships time.Time `json:"ships"`
}

// ChatRef locates an RFA in the staff chat (Discord snowflakes as text).
type ChatRef struct {
	// PostID is the RFA's message in the new-RFA channel.
	PostID string `json:"post_id,omitempty"`
	// ThreadID is the thread opened on that message.
	ThreadID string `json:"thread_id,omitempty"`
	// LastSeen is the newest thread message the desk has read, so a
	// restart catches up on replies made while it was down.
	LastSeen string `json:"last_seen,omitempty"`
}

// Ref returns the RFA's reference, "RFA-N".
func (r *RFA) Ref() string { return FormatRef(r.Num) }

// FormatRef formats a reference number as "RFA-N".
func FormatRef(n uint64) string { return "RFA-" + strconv.FormatUint(n, 10) }

// ParseRef parses "RFA-N" (case-insensitive) and returns N.
func ParseRef(s string) (uint64, error) {
	if len(s) < 5 || !strings.EqualFold(s[:4], "RFA-") {
		return 0, fmt.Errorf("bot: %q is not an RFA reference (want RFA-N)", s)
	}
	n, err := strconv.ParseUint(s[4:], 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bot: %q is not an RFA reference (want RFA-N)", s)
	}
	return n, nil
}

// IsParticipant reports whether addr (any case) may add to the RFA by
// email: the requester or a listed participant.
func (r *RFA) IsParticipant(addr string) bool {
	addr = strings.ToLower(addr)
	if strings.ToLower(r.Requester.Email) == addr {
		return true
	}
	for _, p := range r.Participants {
		if p == addr {
			return true
		}
	}
	return false
}

// addEvent appends an event to the history.
func (r *RFA) addEvent(at time.Time, kind EventKind, actor, text string) {
	r.Events = append(r.Events, Event{At: at, Kind: kind, Actor: actor, Text: text})
}
