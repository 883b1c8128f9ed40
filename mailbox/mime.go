package mailbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	// Registers the non-UTF-8 charsets (iso-8859-*, windows-125*,
	// iso-2022-jp, koi8-r, ...) with go-message.
	_ "github.com/emersion/go-message/charset"

	"rfadesk/bot"
)

// DefaultMaxAttachmentSize is the attachment size cap used when
// ParseOptions.MaxAttachmentSize is 0.
const DefaultMaxAttachmentSize = 10 << 20

// ParseOptions configure Parse. The zero value is usable.
type ParseOptions struct {
	// MaxAttachmentSize caps the decoded size of a stored attachment:
	// larger ones are recorded (name, type, size) with Data nil and
	// Stored false. 0 means DefaultMaxAttachmentSize.
	MaxAttachmentSize int64
	// LoopValue is our X-Rfadesk-Loop header value; a message carrying it
	// gets Mail.LoopHeader = true. "" disables the check.
	LoopValue string
	// AuthServID is the authserv-id our own receiving mail server writes
	// in its Authentication-Results fields (RFC 8601), e.g.
	// "mx.rfadesk.example", or AuthServIDExchangeOnline. Only those fields
	// decide Mail.Auth; "" trusts none and Mail.Auth stays AuthUnknown.
	AuthServID string
}

// LoopHeaderName is the header rfadesk puts on the mail it sends, with
// ParseOptions.LoopValue as its value.
const LoopHeaderName = "X-Rfadesk-Loop"

// Errors Parse wraps when a message is unusable.
var (
	ErrNoHeader = errors.New("mailbox: message has no header block")
	ErrNoFrom   = errors.New("mailbox: message has no From address")
	// ErrMIMETooComplex: the MIME tree is nested deeper than 20 levels or
	// has more than 1,000 parts; the message is dead-lettered whole.
	ErrMIMETooComplex = errors.New("mailbox: MIME structure beyond rfadesk's limits")
)

// Parse decodes one raw RFC 5322 message into a bot.Mail. It is safe for
// concurrent use and never panics. The author is the first From address
// (the Sender address when there is none); Mail.AuthorAmbiguous says
// why when that is in doubt (see the Ambiguous* reasons). Every text
// people read (subject, display names, attachment names, body) has its
// bidirectional formatting characters removed (bot.NeutralizeBidi).
// It returns an error (wrapping ErrNoHeader, ErrNoFrom or
// ErrMIMETooComplex) only when the message is unusable; broken parts are
// skipped and parsing carries on.
// Mail.Received is left zero.
func Parse(raw []byte, opts ParseOptions) (m *bot.Mail, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("mailbox: parse: internal error: %v", r)
		}
	}()
	return parse(raw, opts)
}

func parse(raw []byte, opts ParseOptions) (*bot.Mail, error) {
	h, body := splitMessage(raw, true)
	if len(h) == 0 {
		return nil, ErrNoHeader
	}
	from, ambiguous, ok := author(h)
	if !ok {
		return nil, fmt.Errorf("%w (From: %q)", ErrNoFrom, truncate(validUTF8(h.Get("From")), 80))
	}
	m := &bot.Mail{
		MessageID:       messageID(h),
		InReplyTo:       idsOf(h, "In-Reply-To"),
		References:      idsOf(h, "References"),
		From:            from,
		AuthorAmbiguous: ambiguous,
		ReplyTo:         parseAddressList(h.Get("Reply-To")),
		To:              addressesOf(h, "To"),
		Cc:              addressesOf(h, "Cc"),
		Subject:         decodeText(h.Get("Subject")),
		Date:            parseDate(h.Get("Date")),
		Size:            len(raw),
	}
	m.DedupeKey = dedupeKey(m.MessageID, raw)

	maxAtt := opts.MaxAttachmentSize
	if maxAtt <= 0 {
		maxAtt = DefaultMaxAttachmentSize
	}
	w := &walker{maxAtt: maxAtt}
	m.Text = bot.NeutralizeBidi(tidyLines(normaliseNewlines(w.walk(newPart(h, body), 0, walkCtx{}))))
	if w.overCap != "" {
		return nil, fmt.Errorf("%w: %s", ErrMIMETooComplex, w.overCap)
	}
	m.Attachments = w.atts
	m.Forwarded = w.forwarded || isForwardedText(m.Text, m.Subject)
	m.Reply = stripQuotes(m.Text)

	m.Auto, m.Bounce = classify(h, m, w)
	m.Auth = authVerdict(h, opts.AuthServID, m.From.Domain())
	if opts.LoopValue != "" {
		for _, v := range h.Values(LoopHeaderName) {
			if strings.TrimSpace(v) == opts.LoopValue {
				m.LoopHeader = true
			}
		}
	}
	return m, nil
}

// DedupeKey returns the key that identifies raw across redeliveries:
// "mid:" plus the normalised Message-ID, or "sha256:" plus the hex digest
// of raw when there is none. It scans the header leniently, so it works
// on messages Parse refuses.
func DedupeKey(raw []byte) string {
	h, _ := splitMessage(raw, true)
	return dedupeKey(messageID(h), raw)
}

func dedupeKey(mid string, raw []byte) string {
	if mid != "" {
		return "mid:" + mid
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// idsOf returns the message ids of every occurrence of key.
func idsOf(h header, key string) []string {
	var ids []string
	for _, v := range h.Values(key) {
		ids = append(ids, parseIDList(v)...)
	}
	return ids
}

// addressesOf returns the addresses of every occurrence of key
// (duplicated To: and Cc: lines are merged).
func addressesOf(h header, key string) []bot.Address {
	var out []bot.Address
	for _, v := range h.Values(key) {
		out = append(out, parseAddressList(v)...)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r) + "..."
}
