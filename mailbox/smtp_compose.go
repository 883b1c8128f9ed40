package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"rfadesk/bot"
)

// compose builds the message and the envelope recipients. It fails
// (a permanent failure for Send) when m cannot be sent as it is: no
// recipient, a bad address, our own Message-ID invalid, an attachment
// without data. Invalid In-Reply-To or References ids are skipped.
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
	msg.FromMailAddress(&netmail.Address{Name: oneLine(s.opts.From.Name), Address: s.opts.From.Email})
	to := make([]*netmail.Address, 0, len(m.To))
	rcpts := make([]string, 0, len(m.To))
	for _, a := range m.To {
		if err := checkAddrSpec(a.Email); err != nil {
			return nil, nil, fmt.Errorf("mailbox: outgoing recipient: %w", err)
		}
		to = append(to, &netmail.Address{Name: oneLine(a.Name), Address: a.Email})
		rcpts = append(rcpts, a.Email)
	}
	msg.ToMailAddress(to...)
	msg.Subject(oneLine(m.Subject))
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
		name := oneLine(a.Name)
		if name == "" {
			name = fmt.Sprintf("attachment-%d", i+1)
		}
		msg.AttachReadSeeker(name, bytes.NewReader(a.Data),
			mail.WithFileContentType(attachmentType(a.ContentType)))
	}
	return msg, rcpts, nil
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
	if err != nil || !strings.Contains(mt, "/") {
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

// checkAddrSpec accepts a bare addr-spec such as "a@example.org".
func checkAddrSpec(email string) error {
	if email == "" || strings.ContainsFunc(email, isControl) {
		return fmt.Errorf("invalid address %q", email)
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
