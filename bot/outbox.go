package bot

import (
	"strings"
	"time"
)

// OutboxKind names what an outbox item delivers.
type OutboxKind string

const (
	// OutboxMail is an email sent by SMTP.
	OutboxMail OutboxKind = "mail"
	// OutboxChat is a post to the staff chat (Discord).
	OutboxChat OutboxKind = "chat"
)

// OutboxItem is an intended side effect, recorded in the same transaction
// as the state change that causes it and performed after commit, at most
// once per successful delivery.
type OutboxItem struct {
	ID      uint64     `json:"id"`
	Kind    OutboxKind `json:"kind"`
	RFA     uint64     `json:"rfa,omitempty"` // 0 for desk-wide items
	Created time.Time  `json:"created"`

	Mail *OutgoingMail `json:"mail,omitempty"`
	Chat *ChatPost     `json:"chat,omitempty"`

	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
}

// OutgoingMail is an email the desk sends. From is always the desk address.
type OutgoingMail struct {
	To      []Address `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	HTML    string    `json:"html,omitempty"`
	// MessageID is fixed when the item is enqueued (normalised form,
	// without brackets) so every retry carries the same id.
	MessageID  string   `json:"message_id"`
	InReplyTo  string   `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
	// Auto marks automatic mail: it carries Auto-Submitted: auto-replied
	// and X-Auto-Response-Suppress: All.
	Auto        bool         `json:"auto"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Purpose says why it was sent, for the RFA history ("acknowledgement", ...).
	Purpose string `json:"purpose"`
	// Origin, when set, is the chat message that caused this mail: it
	// gets a reaction once the mail server accepts the mail, or a note in
	// the thread if the mail finally fails.
	Origin *ChatOrigin `json:"origin,omitempty"`
}

// ChatOp is what a chat outbox item does (ChatPost.Op).
type ChatOp string

// Chat operations.
const (
	// ChatNewRFA posts the RFA's card (rendered from its current state
	// at delivery) to the new-RFA channel and opens its thread.
	ChatNewRFA ChatOp = "new-rfa"
	// ChatThread posts Text in the RFA's thread (or, without a thread
	// yet, is retried until the thread exists).
	ChatThread ChatOp = "rfa"
	// ChatOps posts Text to the ops channel (alarms, dead letters).
	ChatOps ChatOp = "ops"
	// ChatReact adds Emoji to the chat message Origin.
	ChatReact ChatOp = "react"
	// ChatCard edits the RFA's card in place (rendered from its current
	// state at delivery) after its severity or owner changed.
	ChatCard ChatOp = "card"
)

// ChatPost is an item for the staff chat.
type ChatPost struct {
	// Op is stored as "channel", its name before it was typed.
	Op ChatOp `json:"channel"`
	// Text is plain text; the chat transport escapes it for the chat's
	// markup and never lets it ping anyone.
	Text string `json:"text,omitempty"`
	// Mention, when set, is a role id the post deliberately pings (the
	// on-duty role at a jeopardy point).
	Mention string `json:"mention,omitempty"`
	// Emoji and Origin are for ChatReact.
	Emoji  string      `json:"emoji,omitempty"`
	Origin *ChatOrigin `json:"origin,omitempty"`
}

// ChatOrigin is the chat message a staff action came from.
type ChatOrigin struct {
	ChannelID string `json:"channel_id"`
	MessageID string `json:"message_id"`
}

// DeliveryFailure classifies why a delivery attempt failed.
type DeliveryFailure int

const (
	// DeliveryTemporary: try again later (4xx, connection refused, timeout).
	DeliveryTemporary DeliveryFailure = iota
	// DeliveryPermanent: the server refused for good (5xx on a recipient
	// or on the message); record it on the RFA, do not retry.
	DeliveryPermanent
	// DeliveryAuth: our credentials were refused; pause all sending and
	// raise an alarm, keep the mail.
	DeliveryAuth
)

func (f DeliveryFailure) String() string {
	switch f {
	case DeliveryPermanent:
		return "permanent"
	case DeliveryAuth:
		return "auth"
	}
	return "temporary"
}

// PartialDelivery is returned by a MailSender when the server accepted a
// mail for some of its recipients and refused the others for good: the
// mail was delivered, and the refusals are recorded on the RFA.
type PartialDelivery struct {
	Refused []string
	Reason  string
}

func (e *PartialDelivery) Error() string {
	return "delivered, but refused for " + strings.Join(e.Refused, ", ") + ": " + e.Reason
}

// DeliveryError is returned by senders to classify a failed delivery.
// Any other error is treated as DeliveryTemporary.
type DeliveryError struct {
	Failure DeliveryFailure
	// Code is the SMTP reply code, if there was one (e.g. 451, 550, 535).
	Code int
	// Recipient is the refused recipient for a per-recipient failure.
	Recipient string
	// RetryAfter, on a temporary failure, is how long the far side asked
	// us to wait (a rate limit, e.g. Discord's 429 retry_after; at most
	// MaxRetryAfter counts). The item's next attempt is then exactly this
	// long after the failure, not after the backoff, and the failure does
	// not count in Attempts; its deliverer holds every item of its kind
	// until the wait is over, so the order of the items is kept.
	RetryAfter time.Duration
	// Global, with RetryAfter, says the limit covers every request to
	// the far side (Discord's global limit), not just this item's route.
	Global bool
	Err    error
}

func (e *DeliveryError) Error() string {
	return e.Failure.String() + " delivery failure: " + e.Err.Error()
}

func (e *DeliveryError) Unwrap() error { return e.Err }
