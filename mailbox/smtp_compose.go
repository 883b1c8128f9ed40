package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wneessen/go-mail"

	"rfadesk/bot"
)

// compose builds the message and the envelope recipients. It fails
// (a permanent failure for Send) when m cannot be sent as it is: no
// recipient, a bad address, our own Message-ID invalid, an attachment
// without data. Invalid In-Reply-To or References ids are skipped.
//
// Every header line it produces is at most 998 octets (RFC 5322
// section 2.1.1; a server refuses longer ones and the mail would never
// go): the subject, display names and attachment names are cut (see
// headerText and attachmentName), encoded words and long values are
// folded, and addresses and ids are limited in length. Those texts also
// lose their bidirectional formatting characters (bot.NeutralizeBidi).
func (s *Sender) compose(m *bot.OutgoingMail) (*mail.Msg, []string, error) {
	if m == nil {
		return nil, nil, errors.New("mailbox: nil outgoing mail")
	}
	if len(m.To) == 0 {
		return nil, nil, errors.New("mailbox: outgoing mail has no recipient")
	}
	if err := checkMessageID(m.MessageID); err != nil {
		return nil, nil, fmt.Errorf("mailbox: outgoing Message-ID: %w", err)
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(&netmail.Address{Name: headerText(s.opts.From.Name, maxDisplayNameRunes), Address: s.opts.From.Email})
	to := make([]*netmail.Address, 0, len(m.To))
	rcpts := make([]string, 0, len(m.To))
	for _, a := range m.To {
		if err := checkAddrSpec(a.Email); err != nil {
			return nil, nil, fmt.Errorf("mailbox: outgoing recipient: %w", err)
		}
		to = append(to, &netmail.Address{Name: headerText(a.Name, maxDisplayNameRunes), Address: a.Email})
		rcpts = append(rcpts, a.Email)
	}
	msg.ToMailAddress(to...)
	msg.Subject(headerText(m.Subject, maxSubjectRunes))
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(time.Now())
	// In-Reply-To and References come from other people's mail: an id
	// that fails validMessageID is left out rather than failing the
	// mail (Parse already drops such ids; this covers older records).
	if validMessageID(m.InReplyTo) {
		msg.SetGenHeader(mail.HeaderInReplyTo, "<"+m.InReplyTo+">")
	}
	refs := make([]string, 0, len(m.References))
	for _, id := range m.References {
		if validMessageID(id) {
			refs = append(refs, "<"+id+">")
		}
	}
	if len(refs) > 0 {
		// One value: go-mail joins several values with ", ".
		msg.SetGenHeader(mail.HeaderReferences, strings.Join(refs, " "))
	}
	if v := oneLine(s.opts.LoopValue); v != "" {
		msg.SetGenHeader("X-Rfadesk-Loop", v)
	}
	if m.Auto {
		msg.SetGenHeader("Auto-Submitted", "auto-replied")
		msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	for i, a := range m.Attachments {
		if a.Data == nil && a.Size > 0 {
			return nil, nil, fmt.Errorf("mailbox: outgoing attachment %d (%q) has no data", i, a.Name)
		}
		name := attachmentName(a.Name, i)
		msg.AttachReadSeeker(name, bytes.NewReader(a.Data),
			mail.WithFileContentType(attachmentType(a.ContentType)))
	}
	return msg, rcpts, nil
}

// Limits of the texts compose puts in headers. Beyond them a text is cut
// with an ellipsis: a subject or name that long is an attack or an
// accident, and the start says all a reader needs.
const (
	// maxSubjectRunes is the longest subject sent, in characters.
	maxSubjectRunes = 250
	// maxDisplayNameRunes is the longest display name sent, in characters.
	maxDisplayNameRunes = 100
	// maxFileNameRunes is the longest attachment name sent, in characters.
	maxFileNameRunes = 150
	// maxEncodedFileName bounds the attachment name as it is written in
	// the name= and filename= parameters (encoded words included), in
	// octets. go-mail writes a part's header unfolded, so each of those
	// lines must fit 998 octets with the media type before it.
	maxEncodedFileName = 700
	// maxMediaTypeLen is the longest attachment media type sent; a
	// longer one is sent as application/octet-stream.
	maxMediaTypeLen = 127
	// maxAddrSpecLen is the longest address accepted (RFC 5321's path
	// limit of 256 octets less the angle brackets).
	maxAddrSpecLen = 254
	// maxLoopValueLen is the longest X-Rfadesk-Loop value NewSender
	// accepts.
	maxLoopValueLen = 250
)

// ellipsis marks a text that was cut.
const ellipsis = "…"

// headerText readies text for a header: bidirectional formatting
// characters removed, one line (see oneLine), and at most max
// characters, the last of them an ellipsis when it was cut.
func headerText(s string, max int) string {
	return cutRunes(oneLine(bot.NeutralizeBidi(s)), max)
}

// cutRunes returns s when it has at most max characters, and otherwise
// its first max-1 characters (trailing space removed) and an ellipsis.
func cutRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return strings.TrimRight(s[:i], " \t") + ellipsis
		}
		n++
	}
	return s
}

// attachmentName returns the file name to send for the i-th attachment
// (counted from 0): headerText of name, or "attachment-N" when that is
// empty. A name longer than maxFileNameRunes, or whose encoded form
// exceeds maxEncodedFileName octets, is cut before its extension, which
// is kept when it is short ("report…2026.pdf" keeps ".pdf").
func attachmentName(name string, i int) string {
	name = bot.NeutralizeBidi(oneLine(name))
	if name == "" {
		return fmt.Sprintf("attachment-%d", i+1)
	}
	ext := path.Ext(name)
	if utf8.RuneCountInString(ext) > 16 || len(ext) == len(name) {
		ext = ""
	}
	base := strings.TrimSuffix(name, ext)
	keep := maxFileNameRunes - utf8.RuneCountInString(ext)
	out := name
	if utf8.RuneCountInString(name) > maxFileNameRunes {
		out = cutRunes(base, keep) + ext
	}
	for len(mime.QEncoding.Encode("utf-8", out)) > maxEncodedFileName && keep > 1 {
		keep = keep * 3 / 4
		out = cutRunes(base, keep) + ext
	}
	return out
}

// oneLine replaces every run of CR/LF (and other control characters but
// tab) with one space, so no value can start a header of its own.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if isControl(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

// attachmentType returns a clean media type, or application/octet-stream.
func attachmentType(ct string) mail.ContentType {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") || len(mt) > maxMediaTypeLen {
		return mail.TypeAppOctetStream
	}
	return mail.ContentType(mt)
}

// checkMessageID accepts what validMessageID accepts: the normalised
// form, printable ASCII without space or brackets, at most
// maxMessageIDLen bytes.
func checkMessageID(id string) error {
	if !validMessageID(id) {
		return fmt.Errorf("invalid message id %q", truncate(id, 80))
	}
	return nil
}

// checkAddrSpec accepts a bare addr-spec such as "a@example.org", of at
// most maxAddrSpecLen octets.
func checkAddrSpec(email string) error {
	if email == "" || strings.ContainsFunc(email, isControl) {
		return fmt.Errorf("invalid address %q", email)
	}
	if len(email) > maxAddrSpecLen {
		return fmt.Errorf("invalid address %q: longer than %d octets", truncate(email, 80), maxAddrSpecLen)
	}
	a, err := netmail.ParseAddress(email)
	if err != nil {
		return fmt.Errorf("invalid address %q: %w", email, err)
	}
	if a.Address != email || a.Name != "" {
		return fmt.Errorf("invalid address %q: not a bare addr-spec", email)
	}
	return nil
}
