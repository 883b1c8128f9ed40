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

// compose builds the message and the envelope recipients.
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
	if m.InReplyTo != "" {
		if err := checkMessageID(m.InReplyTo); err != nil {
			return nil, nil, fmt.Errorf("mailbox: outgoing In-Reply-To: %w", err)
		}
		msg.SetGenHeader(mail.HeaderInReplyTo, "<"+m.InReplyTo+">")
	}
	if len(m.References) > 0 {
		refs := make([]string, 0, len(m.References))
		for _, id := range m.References {
			if err := checkMessageID(id); err != nil {
				return nil, nil, fmt.Errorf("mailbox: outgoing References: %w", err)
			}
			refs = append(refs, "<"+id+">")
		}
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

// checkMessageID accepts the normalised form: no brackets, no space or
// control characters, printable ASCII.
func checkMessageID(id string) error {
	if id == "" {
		return errors.New("empty")
	}
	for _, r := range id {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' {
			return fmt.Errorf("%q contains %q", id, r)
		}
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
