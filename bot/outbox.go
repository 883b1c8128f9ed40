package bot

import "time"

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
}

// ChatPost is a message for the staff chat.
type ChatPost struct {
	// Channel is "rfa" (the RFA's thread, or the new-RFA channel when it
	// has no thread yet) or "ops" (alarms, dead letters).
	Channel string `json:"channel"`
	Text    string `json:"text"`
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

// DeliveryError is returned by senders to classify a failed delivery.
// Any other error is treated as DeliveryTemporary.
type DeliveryError struct {
	Failure DeliveryFailure
	// Code is the SMTP reply code, if there was one (e.g. 451, 550, 535).
	Code int
	// Recipient is the refused recipient for a per-recipient failure.
	Recipient string
	Err       error
}

func (e *DeliveryError) Error() string {
	return e.Failure.String() + " delivery failure: " + e.Err.Error()
}

func (e *DeliveryError) Unwrap() error { return e.Err }
