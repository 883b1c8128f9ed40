package bot

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is wrapped by Tx getters when the record does not exist:
// test with errors.Is.
var ErrNotFound = errors.New("not found")

// Store is the persistence the domain needs. Every method of Tx runs
// inside one store transaction (on bbolt or etcd): either all writes of
// an Update commit, or none do. The store package implements it.
type Store interface {
	// Update runs fn in a read-write transaction and commits it when fn
	// returns nil. Updates are serialised. fn must not call Update or View
	// (deadlock) and should do no network I/O.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction; write methods fail.
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction over the desk's state.
type Tx interface {
	// NextRFANumber allocates the next reference number (1, 2, ...) from a
	// persistent sequence. A number whose transaction committed is never
	// handed out again, across restarts. The allocation is part of the
	// transaction: if the Update rolls back, the number is handed out again
	// later, which is correct because the RFA that held it never existed.
	NextRFANumber() (uint64, error)
	// RFA loads an RFA by number, without its message texts: every
	// message's Text is "" and its TextLen says how long the text is
	// (Message.TextOmitted). ErrNotFound if there is none. This is what
	// actions, pages and lists decode; it never reads a message text.
	RFA(num uint64) (*RFA, error)
	// RFAWithTexts is RFA with every message's Text filled in, for the
	// few readers that show a conversation (the status page). It reads
	// every text, however large.
	RFAWithTexts(num uint64) (*RFA, error)
	// MessageText returns the text of message index i of RFA num, or ""
	// when that message's text is empty or there is no such message. It
	// reads that one text only.
	MessageText(num uint64, i int) (string, error)
	// PutRFA stores the RFA (insert or replace) and, in the same
	// transaction, its summary (SummaryOf) and its index entries: the
	// open-RFA index holds it unless its Status is StatusClosed or held
	// (Status.Held), the release index holds it under r.Release.Name
	// unless it is cleared, closed or held, and the
	// jeopardy schedule holds it at r.NextEscalation (a zero time: not at
	// all), replacing its earlier entry, and the linked-RFA index lists
	// it under r.Parent (0: under none; see RFAChildren). The store never computes
	// NextEscalation: the desk sets it before every PutRFA (its store
	// wrapper, jeopardy.go); an RFA written without it is not scheduled.
	// Message texts are stored
	// apart from the record and are immutable: messages are only ever
	// appended, a message's text is written once, a message loaded
	// without its text (TextOmitted) keeps the stored one, and a Text
	// that differs from the one stored for that index is an error.
	PutRFA(*RFA) error
	// RFASummary loads the summary of RFA num (a small record: cheap
	// whatever the RFA holds); ErrNotFound if there is none.
	RFASummary(num uint64) (*RFASummary, error)
	// RFASummaries calls fn for the summary of every RFA numbered above
	// after, in number order, until fn returns false or an error (which
	// is returned). rest reports whether summaries remain after the last
	// one fn saw. fn must not write RFAs (PutRFA fails inside it).
	RFASummaries(after uint64, fn func(*RFASummary) (more bool, err error)) (rest bool, err error)
	// RFACounts returns how many RFAs have each status and severity (an
	// RFA without a severity counts under ""), one RFACount per pair
	// with at least one RFA, ordered by status then severity. PutRFA
	// keeps the counts in its transaction: reading them is a few keys,
	// not a walk of the RFAs.
	RFACounts() ([]RFACount, error)

	// OpenRFAs returns up to limit (>= 1) RFAs whose status is not
	// closed, with numbers above after, in number order, read through the
	// open-RFA index: its cost is the page, not the archive. Page through
	// with after = the last number returned; a page shorter than limit is
	// the last.
	OpenRFAs(after uint64, limit int) ([]*RFA, error)
	// OpenRFASummaries is RFASummaries over the RFAs that are not closed
	// (nor held), read through the open-RFA index: its cost is the open
	// RFAs it visits, not the archive.
	OpenRFASummaries(after uint64, fn func(*RFASummary) (more bool, err error)) (rest bool, err error)

	// OrgRFAs returns up to limit (>= 1) summaries of the RFAs of
	// organisation name (kind OrgKindOrganisation) or of every school of
	// trust name (OrgKindTrust), names compared in any case, numbered
	// below before (0: from the newest), newest first. It reads an index
	// that PutRFA keeps with each RFA's Organisation and Trust (an RFA
	// moved to another organisation leaves the old one's page): its cost
	// is the page, not the archive.
	OrgRFAs(kind OrgKind, name string, before uint64, limit int) ([]*RFASummary, error)
	// PutOrgLink stores a new organisation link under the SHA-256 of its
	// token (OrgTokenHash; the token itself is never stored) and returns
	// the id it assigned (l.ID is ignored).
	PutOrgLink(tokenHash []byte, l OrgLink) (uint64, error)
	// OrgLinkByHash looks a link up by its token's hash, revoked or not;
	// ErrNotFound if there is none.
	OrgLinkByHash(tokenHash []byte) (*OrgLink, error)
	// OrgLinks returns every link in id order, revoked ones included.
	OrgLinks() ([]OrgLink, error)
	// RevokeOrgLink sets link id's Revoked to at unless it is already
	// revoked, and returns the link; ErrNotFound for an unknown id.
	RevokeOrgLink(id uint64, at time.Time) (OrgLink, error)
	// RFAChildren returns, in number order, up to limit (>= 1) numbers
	// of the RFAs linked to parent (whose RFA.Parent is parent), read
	// through the linked-RFA index that PutRFA keeps: its cost is the
	// children returned, not the store.
	RFAChildren(parent uint64, limit int) ([]uint64, error)

	// PutOutage stores an outage, giving it the next id (1, 2, ...) when
	// o.ID is 0, and returns its id; an outage not Ended is listed by
	// ActiveOutages. Outage loads one (ErrNotFound if none).
	PutOutage(o *Outage) (uint64, error)
	Outage(id uint64) (*Outage, error)
	// ActiveOutages returns the outages not ended, in id order, read
	// through an index of them: its cost is the live outages.
	ActiveOutages() ([]*Outage, error)
	// Release loads the stored release name (compared in any case);
	// ErrNotFound if staff never added, moved or shipped it.
	Release(name string) (*ReleaseInfo, error)
	// PutRelease stores rel under its name (in any case), replacing it.
	PutRelease(rel ReleaseInfo) error
	// Releases returns every stored release, in name order (a few a
	// month: the added, moved and shipped ones).
	Releases() ([]ReleaseInfo, error)
	// ReleaseRFAs returns, in number order, up to limit (>= 1) numbers
	// above after of the RFAs planned for release name (RFA.Release.Name,
	// in any case) that are not cleared, closed or held, read through
	// the release index PutRFA keeps: its cost is the RFAs returned.
	ReleaseRFAs(name string, after uint64, limit int) ([]uint64, error)
	// PlannedReleases returns the names (lower-cased) of the releases
	// the release index holds RFAs for, in name order.
	PlannedReleases() ([]string, error)
	// ReleaseCadence returns the cadence alerts sent (zero: none);
	// PutReleaseCadence replaces it.
	ReleaseCadence() (ReleaseCadence, error)
	PutReleaseCadence(ReleaseCadence) error

	// NextEscalation returns the jeopardy schedule's earliest entry (the
	// RFA and when its next escalation point is due); ok is false when
	// the schedule is empty. One index lookup.
	NextEscalation() (num uint64, at time.Time, ok bool, err error)
	// DueEscalations returns, earliest first, up to limit (>= 1) RFAs
	// whose schedule entry is at or before until.
	DueEscalations(until time.Time, limit int) ([]uint64, error)
	// RescheduleEscalation moves RFA num's schedule entry to at (a zero
	// time removes it) without touching the RFA: for retrying an RFA
	// that cannot be handled now. The next PutRFA of the RFA replaces it.
	RescheduleEscalation(num uint64, at time.Time) error
	// EscalationPolicy returns the fingerprint last given to
	// SetEscalationPolicy, "" if none: the schedule's entries were
	// computed under that policy. SetEscalationPolicy records it ("" to
	// forget it, which makes the desk rebuild the schedule at start-up).
	EscalationPolicy() (string, error)
	SetEscalationPolicy(fingerprint string) error

	// Dedupe returns the RFA number an email (by Mail.DedupeKey) was
	// recorded against, and whether it was seen at all. A seen email
	// with number 0 was recorded without an RFA (dead letter, bounce).
	Dedupe(key string) (num uint64, seen bool, err error)
	// PutDedupe records that the email with key has been handled.
	PutDedupe(key string, num uint64) error

	// ThreadByMessageID returns the RFA a normalised Message-ID (ours or
	// the requester's) belongs to; ok is false if unknown.
	ThreadByMessageID(id string) (num uint64, ok bool, err error)
	// PutThread records that message id belongs to RFA num.
	PutThread(id string, num uint64) error

	// RFAByChatThread returns the RFA whose staff-chat thread is id.
	RFAByChatThread(id string) (num uint64, ok bool, err error)
	// PutChatThread records that chat thread id belongs to RFA num.
	PutChatThread(id string, num uint64) error

	// Enqueue records an outgoing item; the store assigns item.ID
	// (increasing) and returns it, and changes nothing else in item. The
	// item is delivered after commit. Attachment bytes (Data) are stored
	// apart, once per content: the item read back carries a Blob
	// reference instead (see OutboxAttachment).
	Enqueue(item *OutboxItem) (uint64, error)
	// OutboxItem loads one pending item; ErrNotFound once it has left
	// the outbox.
	OutboxItem(id uint64) (*OutboxItem, error)
	// DueOutbox returns up to limit (> 0) pending items of kind whose
	// NextAttempt is at or before by, ordered by NextAttempt then ID.
	// It reads an index: its cost grows with the items returned, not
	// with the outbox.
	DueOutbox(kind OutboxKind, by time.Time, limit int) ([]OutboxItem, error)
	// NextOutboxAttempt returns the earliest NextAttempt of the pending
	// items of kind (to the nanosecond, in UTC; the Unix epoch for an
	// item due at once), and false when there are none.
	NextOutboxAttempt(kind OutboxKind) (at time.Time, ok bool, err error)
	// OutboxAttachment returns the bytes an outbox attachment's Blob
	// names, while an item referencing them is pending; ErrNotFound
	// after.
	OutboxAttachment(ref string) ([]byte, error)
	// Outbox returns every pending item in ID order, decoding them all:
	// for listings, not for delivery.
	Outbox() ([]OutboxItem, error)
	// UpdateOutbox replaces a pending item (attempt count, next try),
	// keeping the due index and attachment references in step. It fails
	// with an error wrapping ErrNotFound when the item has left the
	// outbox (delivered or given up), and then writes nothing.
	UpdateOutbox(item *OutboxItem) error
	// DeleteOutbox removes a delivered or finally failed item, and its
	// attachment bytes unless another pending item references them.
	// Deleting an item that is gone is not an error.
	DeleteOutbox(id uint64) error

	// Cursor returns the intake position for a mailbox (zero if none).
	Cursor(mailbox string) (Cursor, error)
	// SetCursor stores the intake position for a mailbox.
	SetCursor(mailbox string, c Cursor) error

	// PutDeadLetter records a message that could not be turned into an
	// RFA; the store assigns dl.ID.
	PutDeadLetter(dl *DeadLetter) error
	// DeadLetter loads one dead letter; ErrNotFound if there is none.
	DeadLetter(id uint64) (*DeadLetter, error)
	// DeadLetters returns every dead letter in ID order.
	DeadLetters() ([]DeadLetter, error)

	// AutoReplies returns the times automatic mail was sent to sender
	// (lower-cased address), oldest first.
	AutoReplies(sender string) ([]time.Time, error)
	// PutAutoReplies replaces that list (the caller prunes old entries).
	PutAutoReplies(sender string, times []time.Time) error

	// RateState returns the state of one intake safeguard (see
	// RateState), the zero value when none is stored.
	RateState(key string) (RateState, error)
	// PutRateState replaces it; the zero RateState deletes it.
	PutRateState(key string, st RateState) error

	// PutAttachment stores attachment data for message index msg of RFA
	// num, part index part. GetAttachment returns it or ErrNotFound.
	PutAttachment(num uint64, msg, part int, data []byte) error
	GetAttachment(num uint64, msg, part int) ([]byte, error)
	// DeleteRFAContent deletes every stored message text and attachment
	// of RFA num and says how many of each went; the record, summary and
	// indexes stay (the retention purge, purge.go, rewrites the record).
	DeleteRFAContent(num uint64) (texts, attachments int, err error)
}

// RFACount is how many stored RFAs have one status and severity.
type RFACount struct {
	Status   Status
	Severity Severity
	N        uint64
}

// Cursor is how far intake has committed in one mailbox: every message
// with UID <= LastUID under UIDValidity has been recorded.
type Cursor struct {
	UIDValidity uint32 `json:"uid_validity"`
	LastUID     uint32 `json:"last_uid"`
}

// DeadLetter is a message that could not be parsed into an RFA. Raw holds
// the message so that nothing is lost.
type DeadLetter struct {
	ID      uint64    `json:"id"`
	At      time.Time `json:"at"`
	Mailbox string    `json:"mailbox"`
	UID     uint32    `json:"uid"`
	Key     string    `json:"key"`
	Reason  string    `json:"reason"`
	From    string    `json:"from,omitempty"`
	Subject string    `json:"subject,omitempty"`
	Raw     []byte    `json:"raw"`
}
