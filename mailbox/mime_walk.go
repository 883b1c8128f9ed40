package mailbox

import (
	"bytes"
	"fmt"
	"strings"

	"rfadesk/bot"
)

// Bounds on the MIME tree a message may have (protection against hostile
// nesting). A message that goes beyond either is refused whole by Parse
// with ErrMIMETooComplex, so intake dead-letters it rather than record a
// text with parts silently left out.
const (
	maxDepth = 20
	maxParts = 1000
)

// part is one MIME entity: its header and its raw (still
// transfer-encoded) body.
type part struct {
	h      header
	body   []byte
	mt     string
	params map[string]string
}

func newPart(h header, body []byte) *part {
	p := &part{h: h, body: body, mt: "text/plain", params: map[string]string{}}
	if ct := h.Get("Content-Type"); ct != "" {
		mt, params := mediaType(ct)
		if strings.Count(mt, "/") == 1 && !strings.HasPrefix(mt, "/") && !strings.HasSuffix(mt, "/") {
			p.mt, p.params = mt, params
		} else {
			p.params = params
		}
	}
	return p
}

// disposition returns the lower-cased Content-Disposition type and its
// parameters.
func (p *part) disposition() (string, map[string]string) {
	v := p.h.Get("Content-Disposition")
	if v == "" {
		return "", map[string]string{}
	}
	return mediaType(v)
}

// walkCtx says where in the tree a part sits.
type walkCtx struct {
	report   bool // inside multipart/report, after the human-readable part
	resource bool // a non-root part of multipart/related
}

// walker collects what a message's MIME tree carries. It is used by one
// Parse call only.
type walker struct {
	maxAtt    int64
	parts     int
	atts      []bot.Attachment
	forwarded bool
	report    string // report-type of a multipart/report, if any
	dsn       bool   // a message/delivery-status part was seen
	bounce    bot.Bounce
	overCap   string // why the tree went beyond maxDepth or maxParts, "" if it did not
}

// walk returns the readable text of p and records attachments, forwarded
// messages and delivery-status information on w.
func (w *walker) walk(p *part, depth int, ctx walkCtx) string {
	if depth > maxDepth || w.parts >= maxParts {
		if w.overCap == "" && depth > maxDepth {
			w.overCap = fmt.Sprintf("nested deeper than %d levels", maxDepth)
		} else if w.overCap == "" {
			w.overCap = fmt.Sprintf("more than %d parts", maxParts)
		}
		return ""
	}
	w.parts++
	switch {
	case strings.HasPrefix(p.mt, "multipart/"):
		return w.multipart(p, depth, ctx)
	case p.mt == "message/rfc822" || p.mt == "message/global":
		if ctx.report {
			w.originalID(p, false)
			return ""
		}
		return w.forward(p, depth)
	case p.mt == "message/delivery-status" || p.mt == "message/global-delivery-status":
		w.deliveryStatus(p)
		return ""
	case p.mt == "text/rfc822-headers" || p.mt == "message/global-headers":
		w.originalID(p, true)
		return ""
	case p.mt == "application/pgp-signature" || p.mt == "application/pkcs7-signature" ||
		p.mt == "application/x-pkcs7-signature":
		return "" // a signature is not a file the sender attached
	}
	if ctx.resource || isAttachment(p) {
		w.attach(p, ctx.resource)
		return ""
	}
	return textOf(p)
}

// isAttachment reports whether a leaf part is a file rather than body text.
func isAttachment(p *part) bool {
	disp, dparams := p.disposition()
	if disp == "attachment" {
		return true
	}
	switch p.mt {
	case "text/plain", "text/html", "text/enriched", "text/richtext":
		return dparams["filename"] != "" || p.params["name"] != ""
	}
	return true
}

func (w *walker) multipart(p *part, depth int, ctx walkCtx) string {
	if p.mt == "multipart/report" {
		w.report = strings.ToLower(p.params["report-type"])
	}
	raws := splitMultipart(p.body, p.params["boundary"])
	if raws == nil {
		// No parts to be found: read the body as plain text.
		return textOf(&part{h: p.h, body: p.body, mt: "text/plain", params: map[string]string{}})
	}
	children := make([]*part, 0, len(raws))
	for _, r := range raws {
		h, body := splitMessage(r, false)
		if len(h) == 0 && body == nil {
			body = r // no header block at all: the part is all body
		}
		children = append(children, newPart(h, body))
	}
	switch p.mt {
	case "multipart/alternative":
		return w.alternative(children, depth, ctx)
	case "multipart/related":
		return w.related(children, p.params["start"], depth, ctx)
	case "multipart/report":
		var texts []string
		for i, c := range children {
			texts = append(texts, w.walk(c, depth+1, walkCtx{report: i > 0}))
		}
		return joinTexts(texts)
	case "multipart/signed":
		return w.walk(children[0], depth+1, ctx)
	}
	var texts []string
	for _, c := range children {
		texts = append(texts, w.walk(c, depth+1, ctx))
	}
	return joinTexts(texts)
}

// alternative prefers the text/plain version unless it is empty or only
// says the message is HTML; otherwise it takes the richest version that
// has text. Every version is walked so that inline images are recorded.
func (w *walker) alternative(children []*part, depth int, ctx walkCtx) string {
	var plain, rich string
	for _, c := range children {
		t := w.walk(c, depth+1, ctx)
		if c.mt == "text/plain" {
			if plain == "" {
				plain = t
			}
		} else if strings.TrimSpace(t) != "" {
			rich = t
		}
	}
	if rich != "" && isPlaceholder(plain) {
		return rich
	}
	return plain
}

// isPlaceholder reports whether a text/plain alternative is empty or just
// a notice that the message is in HTML.
func isPlaceholder(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return true
	}
	return len(t) < 300 && strings.Count(t, "\n") < 4 && strings.Contains(strings.ToLower(t), "html")
}

// related returns the text of the root part (the one named by start, or
// the first); the other parts are inline resources.
func (w *walker) related(children []*part, start string, depth int, ctx walkCtx) string {
	root := 0
	if start != "" {
		want := bot.NormalizeMessageID(start)
		for i, c := range children {
			if bot.NormalizeMessageID(c.h.Get("Content-Id")) == want {
				root = i
				break
			}
		}
	}
	var text string
	for i, c := range children {
		if i == root {
			text = w.walk(c, depth+1, ctx)
			continue
		}
		w.walk(c, depth+1, walkCtx{report: ctx.report, resource: true})
	}
	return text
}

// forward reads an attached message/rfc822 part: the message counts as
// forwarded, its attachments are recorded as ours, and its text is
// returned under a Gmail-style forwarded header.
func (w *walker) forward(p *part, depth int) string {
	w.forwarded = true
	data, _ := decodeLeaf(p, -1, false)
	ih, ibody := splitMessage(data, true)
	inner := newPart(ih, ibody)
	body := w.walk(inner, depth+1, walkCtx{})
	var b strings.Builder
	b.WriteString(forwardMarker + "\n")
	if from := parseAddressList(ih.Get("From")); len(from) > 0 {
		b.WriteString("From: " + from[0].String() + "\n")
	}
	if d := ih.Get("Date"); d != "" {
		b.WriteString("Date: " + validUTF8(d) + "\n")
	}
	if s := ih.Get("Subject"); s != "" {
		b.WriteString("Subject: " + decodeText(s) + "\n")
	}
	if to := parseAddressList(ih.Get("To")); len(to) > 0 {
		names := make([]string, len(to))
		for i, a := range to {
			names[i] = a.String()
		}
		b.WriteString("To: " + strings.Join(names, ", ") + "\n")
	}
	b.WriteString("\n")
	b.WriteString(body)
	return b.String()
}

// forwardMarker heads a forwarded message, as Gmail writes it.
const forwardMarker = "---------- Forwarded message ---------"

func joinTexts(texts []string) string {
	var keep []string
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			keep = append(keep, strings.TrimRight(t, "\n"))
		}
	}
	return strings.Join(keep, "\n\n")
}

// splitMultipart returns the raw parts of a multipart body. A missing
// close delimiter (truncated message) ends the last part at the end of
// the body; when the declared boundary never occurs (or none was
// declared) the boundary is guessed from the body. It returns nil when no
// part can be found.
func splitMultipart(body []byte, boundary string) [][]byte {
	if boundary != "" {
		if parts := splitOn(body, boundary); parts != nil {
			return parts
		}
	}
	if g := guessBoundary(body); g != "" && g != boundary {
		return splitOn(body, g)
	}
	return nil
}

func splitOn(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start, inPart := 0, false
	for pos := 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		if end >= 0 {
			end += pos
			next = end + 1
		} else {
			end = len(body)
		}
		line := bytes.TrimRight(body[pos:end], " \t\r")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			if len(rest) == 0 || string(rest) == "--" {
				if inPart {
					cut := pos
					if cut > start && body[cut-1] == '\n' {
						cut--
						if cut > start && body[cut-1] == '\r' {
							cut--
						}
					}
					parts = append(parts, body[start:cut])
				}
				if len(rest) == 2 {
					return parts
				}
				start, inPart = next, true
			}
		}
		pos = next
	}
	if inPart {
		parts = append(parts, body[start:])
	}
	return parts
}

// guessBoundary finds a line "--X" followed by a header line, the usual
// shape of a first delimiter, and returns X.
func guessBoundary(body []byte) string {
	lines := bytes.SplitN(body, []byte("\n"), 200)
	for i := 0; i+1 < len(lines); i++ {
		l := bytes.TrimRight(lines[i], " \t\r")
		if len(l) < 3 || len(l) > 200 || !bytes.HasPrefix(l, []byte("--")) || bytes.ContainsAny(l, " \t") {
			continue
		}
		nextLine := bytes.ToLower(lines[i+1])
		if bytes.HasPrefix(nextLine, []byte("content-")) {
			return string(bytes.TrimSuffix(l[2:], []byte("--")))
		}
	}
	return ""
}
