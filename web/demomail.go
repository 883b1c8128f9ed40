package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
)

// maxBodyBytes caps how much of one captured mail's text is shown.
const maxBodyBytes = 1 << 20

// demoMailView is the data of the demo's outgoing-mail page.
type demoMailView struct {
	page
	Now   time.Time
	Mails []sentView
}

// sentView is one captured mail, decoded for display.
type sentView struct {
	At      time.Time
	From    string // the From header, decoded (the envelope sender if none)
	To      string // envelope recipients
	Subject string
	Body    []segment
	Problem string // why (part of) the mail could not be decoded, or ""
}

// segment is a piece of body text; Href is set when the piece is a link
// that may be rendered clickable.
type segment struct {
	Text string
	Href string
}

// demoMail answers GET /demo/mail: the captured outgoing mail, newest
// first. The page refreshes itself every 3 seconds.
func (h *handler) demoMail(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	sent := slices.Clone(h.sent())
	slices.SortStableFunc(sent, func(a, b SentMail) int { return b.At.Compare(a.At) })
	s := h.settings()
	v := demoMailView{page: page{DeskName: s.DeskName, Hours: s.Hours, Title: "Outgoing mail · " + s.DeskName}, Now: h.now()}
	for _, m := range sent {
		v.Mails = append(v.Mails, decodeSent(m))
	}
	h.render(w, http.StatusOK, h.pages.demoMail, v)
}

// decodeSent decodes the headers and the text/plain body of m. It never
// fails: what cannot be decoded is reported in Problem.
func decodeSent(m SentMail) sentView {
	v := sentView{At: m.At, From: m.From, To: strings.Join(m.To, ", ")}
	hdr, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		v.Problem = fmt.Sprintf("unreadable header: %v", err)
		return v
	}
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	v.Subject = decodeHeader(&dec, hdr.Header.Get("Subject"))
	if from := hdr.Header.Get("From"); from != "" {
		v.From = decodeAddresses(&dec, from)
	}
	text, err := plainText(m.Raw)
	if err != nil {
		v.Problem = err.Error()
	}
	v.Body = linkify(text)
	return v
}

// decodeHeader resolves encoded-words, keeping the raw value if they are
// malformed.
func decodeHeader(dec *mime.WordDecoder, s string) string {
	d, err := dec.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// decodeAddresses formats an address-list header for display: "Name
// <addr>" joined by commas, or the decoded raw value if it does not parse.
func decodeAddresses(dec *mime.WordDecoder, s string) string {
	p := mail.AddressParser{WordDecoder: dec}
	list, err := p.ParseList(s)
	if err != nil {
		return decodeHeader(dec, s)
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Address
		if a.Name != "" {
			out[i] = a.Name + " <" + a.Address + ">"
		}
	}
	return strings.Join(out, ", ")
}

// plainText returns the first text/plain part of raw that is not an
// attachment, transfer-decoded and converted to UTF-8, at most
// maxBodyBytes of it.
func plainText(raw []byte) (string, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return "", fmt.Errorf("web: reading message: %w", err)
	}
	text, found, err := findPlain(e, 0)
	if err != nil {
		return text, err
	}
	if !found {
		return "", errors.New("web: no text/plain part")
	}
	return text, nil
}

// findPlain walks e depth-first for the first inline text/plain part.
func findPlain(e *message.Entity, depth int) (string, bool, error) {
	if depth > 10 {
		return "", false, errors.New("web: MIME nesting too deep")
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return "", false, nil
			}
			if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
				return "", false, fmt.Errorf("web: reading MIME part: %w", err)
			}
			if text, ok, err := findPlain(p, depth+1); ok || err != nil {
				return text, ok, err
			}
		}
	}
	ct, _, _ := e.Header.ContentType()
	disp, _, _ := e.Header.ContentDisposition()
	if (ct != "" && ct != "text/plain") || disp == "attachment" {
		return "", false, nil
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, maxBodyBytes))
	if err != nil {
		return string(b), true, fmt.Errorf("web: reading body: %w", err)
	}
	return string(b), true, nil
}

// linkCandidate finds what might be a link: an http(s) URL, or a path
// into the status pages.
var linkCandidate = regexp.MustCompile(`https?://[^\s<>"]+|/rfa/[^\s<>"]+`)

// linkify splits text into plain pieces and links. A candidate becomes a
// link only if it is an absolute http(s) URL with a host, or a
// same-origin /rfa/ path; anything else stays text. Trailing punctuation
// is left out of the link. The template escapes every piece.
func linkify(text string) []segment {
	var segs []segment
	plain := func(s string) {
		if s == "" {
			return
		}
		if n := len(segs); n > 0 && segs[n-1].Href == "" {
			segs[n-1].Text += s
			return
		}
		segs = append(segs, segment{Text: s})
	}
	last := 0
	for _, loc := range linkCandidate.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		cand := strings.TrimRight(text[start:end], ".,;:!?)]}'")
		end = start + len(cand)
		href := safeHref(cand)
		if text[start] == '/' && start > 0 && !strings.ContainsRune(" \t\r\n(<[", rune(text[start-1])) {
			href = "" // part of a longer word or path, not a link of its own
		}
		if href == "" {
			continue
		}
		plain(text[last:start])
		segs = append(segs, segment{Text: cand, Href: href})
		last = end
	}
	plain(text[last:])
	return segs
}

// safeHref returns s as an href if it may be a link, or "".
func safeHref(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	switch {
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil:
		return u.String()
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/rfa/"):
		return u.String()
	}
	return ""
}
