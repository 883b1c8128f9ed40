package bot

import (
	"context"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode"
)

// Bounds on what the requester can add from the status page.
const (
	// MaxRequesterFiles is the most files one status-page message carries.
	MaxRequesterFiles = 5
	// MaxRequesterText is the most characters of one status-page message
	// that are recorded; longer texts are cut.
	MaxRequesterText = 20000
	// maxFileName is the most bytes of a file name that are kept.
	maxFileName = 200
)

// viaStatusPage is how the desk names the status page as the way the
// requester's words came, in events, chat posts and escalations.
const viaStatusPage = "from the status page"

// RequesterMessage is what a requester writes on the status page: a
// text and up to MaxRequesterFiles files. Every attachment must carry its
// bytes in Data (the caller has already held each to the desk's
// attachment cap); names and content types are the sender's, cleaned by
// the desk.
type RequesterMessage struct {
	Text        string
	Attachments []Attachment
}

// AddMessage records a message the requester wrote on RFA num's status
// page, as an email reply from the requester is recorded (appendMail):
// the message joins the conversation, attributed to the requester, with
// its files stored like mail attachments; the staff chat thread is told;
// an RFA awaiting the requester resumes; a cleared or closed one that the
// text says is "still broken" reopens; report fields the text gives are
// filled. The event says it came from the status page.
//
// It returns an error wrapping ErrInvalid for an empty message (no text,
// no file) or more than MaxRequesterFiles files, ErrNotAllowed for a
// closed RFA (the page offers no message then), and ErrNotFound for no
// such RFA. Nothing is recorded when it fails.
func (d *Desk) AddMessage(ctx context.Context, num uint64, m RequesterMessage) error {
	return d.addRequesterMessage(ctx, num, m, false)
}

// AnswerQuestion is AddMessage for the answer to the question the desk
// asked (Ask): it is refused with ErrNotAllowed unless RFA num is
// awaiting the requester, whose clock it resumes.
func (d *Desk) AnswerQuestion(ctx context.Context, num uint64, m RequesterMessage) error {
	return d.addRequesterMessage(ctx, num, m, true)
}

func (d *Desk) addRequesterMessage(ctx context.Context, num uint64, m RequesterMessage, answer bool) error {
	text := cleanRequesterText(m.Text)
	if text == "" && len(m.Attachments) == 0 {
		return fmt.Errorf("bot: the message is empty: %w", ErrInvalid)
	}
	if len(m.Attachments) > MaxRequesterFiles {
		return fmt.Errorf("bot: %d files, at most %d: %w", len(m.Attachments), MaxRequesterFiles, ErrInvalid)
	}
	atts := make([]Attachment, len(m.Attachments))
	for i, a := range m.Attachments {
		atts[i] = Attachment{
			Name:        cleanFileName(a.Name, i),
			ContentType: cleanContentType(a.ContentType),
			Size:        int64(len(a.Data)),
			Data:        a.Data,
			Stored:      true,
		}
	}
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		switch {
		case r.Status == StatusClosed:
			return notAllowed(r, "is closed")
		case answer && r.Status != StatusAwaitingRequester:
			return notAllowed(r, "is not waiting for an answer")
		}
		now := d.now()
		subject := "Message on the status page"
		what := "message added on the status page"
		if answer {
			subject, what = "Answer on the status page", "answer received on the status page"
		}
		mail := &Mail{From: r.Requester, Subject: subject, Text: text, Reply: text, Received: now, Attachments: atts}
		if err := d.addMessage(tx, r, mail); err != nil {
			return err
		}
		r.addEvent(now, EventMessage, r.Requester.Email, what)
		chat := strings.Replace(inboundChatText(mail, d.RecordURL(r)), " wrote:\n", " wrote on the status page:\n", 1)
		return d.takeRequesterWords(tx, r, mail, viaStatusPage, chat)
	})
}

// cleanRequesterText is the requester's text as valid UTF-8 with LF line
// ends and no control or bidirectional formatting characters but
// newlines and tabs, trimmed and cut to MaxRequesterText characters.
func cleanRequesterText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n")
	s = NeutralizeBidi(strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s))
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > MaxRequesterText {
		s = strings.TrimSpace(string(r[:MaxRequesterText]))
	}
	return s
}

// cleanFileName makes the name of a file uploaded on the web (the status
// page, the portal) safe to store and show: the last path element only,
// one line, no control, format or bidirectional characters, at most
// maxFileName bytes; "attachment-<i+1>" when nothing is left.
func cleanFileName(name string, i int) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = NeutralizeBidi(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name))
	name = strings.TrimSpace(truncate(name, maxFileName))
	if name == "" || name == "." || name == ".." {
		return "attachment-" + strconv.Itoa(i+1)
	}
	return name
}

// cleanContentType is the sender's declared media type, without
// parameters, or application/octet-stream when it does not parse.
func cleanContentType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	return mt
}
