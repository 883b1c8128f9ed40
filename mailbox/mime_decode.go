package mailbox

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	htmlcharset "golang.org/x/net/html/charset"

	"rfadesk/bot"
)

// decodeLeaf undoes p's Content-Transfer-Encoding and, when text is set,
// converts its charset to UTF-8 (go-message does both). A broken base64 or
// quoted-printable body is decoded again leniently; an unknown encoding
// or charset leaves the bytes as they are. When limit >= 0 and the decoded
// body is longer than limit, it returns nil data and the full decoded size.
func decodeLeaf(p *part, limit int64, text bool) ([]byte, int64) {
	cte := strings.ToLower(strings.TrimSpace(p.h.Get("Content-Transfer-Encoding")))
	var mh message.Header
	if cte != "" {
		mh.Set("Content-Transfer-Encoding", cte)
	}
	mh.Set("Content-Type", "application/octet-stream")
	if cs := webCharset(p.params["charset"]); text && cs != "" {
		if v := mime.FormatMediaType("text/plain", map[string]string{"charset": cs}); v != "" {
			mh.Set("Content-Type", v)
		}
	}
	e, _ := message.New(mh, bytes.NewReader(p.body)) // an unknown encoding or charset still gives a readable entity
	r := e.Body
	if limit >= 0 {
		r = io.LimitReader(e.Body, limit+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		data = lenientTransferDecode(cte, p.body)
		if cs := webCharset(p.params["charset"]); text && cs != "" {
			if cr, cerr := lenientCharsetReader(cs, bytes.NewReader(data)); cerr == nil {
				if conv, rerr := io.ReadAll(cr); rerr == nil {
					data = conv
				}
			}
		}
		if limit >= 0 && int64(len(data)) > limit {
			return nil, int64(len(data))
		}
		return data, int64(len(data))
	}
	if limit >= 0 && int64(len(data)) > limit {
		n, _ := io.Copy(io.Discard, e.Body)
		return nil, int64(len(data)) + n
	}
	return data, int64(len(data))
}

// webCharset maps the labels that mail in the wild uses for
// Windows-1252 text (ISO-8859-1, Latin-1) to windows-1252, as web
// browsers do; Windows-1252 is a superset of them for every printable
// character, and its curly quotes, dashes and euro sign are what such
// mail really contains.
func webCharset(cs string) string {
	switch strings.ToLower(strings.Trim(cs, "\" ")) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "cp819", "ibm819":
		return "windows-1252"
	}
	return cs
}

// lenientTransferDecode decodes base64 ignoring stray characters and
// missing padding, and quoted-printable leaving invalid escapes as
// written. Other encodings are returned unchanged.
func lenientTransferDecode(cte string, body []byte) []byte {
	switch cte {
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		if len(clean)%4 == 1 {
			clean = clean[:len(clean)-1]
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, _ := base64.RawStdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		out := make([]byte, 0, len(body))
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c != '=' {
				out = append(out, c)
				continue
			}
			if i+1 < len(body) && body[i+1] == '\n' {
				i++
				continue
			}
			if i+2 < len(body) && body[i+1] == '\r' && body[i+2] == '\n' {
				i += 2
				continue
			}
			if i+2 < len(body) {
				if v, err := strconv.ParseUint(string(body[i+1:i+3]), 16, 8); err == nil {
					out = append(out, byte(v))
					i += 2
					continue
				}
			}
			out = append(out, c)
		}
		return out
	}
	return body
}

// textOf returns the readable text of a text/* leaf: decoded, converted
// to UTF-8, newlines normalised, format=flowed joined, HTML converted.
func textOf(p *part) string {
	data, _ := decodeLeaf(p, -1, true)
	isHTML := p.mt == "text/html"
	if !utf8.Valid(data) {
		if isHTML && p.params["charset"] == "" {
			enc, _, _ := htmlcharset.DetermineEncoding(data, "text/html")
			if d, err := enc.NewDecoder().Bytes(data); err == nil && utf8.Valid(d) {
				data = d
			}
		}
	}
	s := validUTF8(string(data))
	if isHTML {
		return htmlToText(s)
	}
	s = normaliseNewlines(s)
	if strings.EqualFold(p.params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(p.params["delsp"], "yes"))
	}
	return s
}

func normaliseNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// unflow joins the soft line breaks of RFC 3676 format=flowed text: a
// line ending in a space continues on the next line of the same quote
// depth. The signature separator "-- " is never joined.
func unflow(s string, delsp bool) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	joining := false
	prevDepth := 0
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		content := l[depth:]
		if joining && depth == prevDepth {
			content = strings.TrimPrefix(content, " ")
		} else {
			if joining {
				b.WriteByte('\n')
			}
			b.WriteString(l[:depth])
		}
		soft := strings.HasSuffix(content, " ") && strings.TrimPrefix(content, " ") != "-- "
		if soft && delsp {
			content = content[:len(content)-1]
		}
		b.WriteString(content)
		if !soft {
			b.WriteByte('\n')
		}
		joining, prevDepth = soft, depth
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// attach records a leaf part as an attachment.
func (w *walker) attach(p *part, resource bool) {
	disp, dparams := p.disposition()
	name := dparams["filename"]
	if name == "" {
		name = p.params["name"]
	}
	name = path.Base(strings.ReplaceAll(decodeText(name), `\`, "/"))
	if name == "." || name == "/" {
		name = ""
	}
	if p.mt == "application/ms-tnef" || p.mt == "application/vnd.ms-tnef" {
		name = "winmail.dat"
	}
	if name == "" {
		name = "attachment-" + strconv.Itoa(len(w.atts)+1) + extensionFor(p.mt)
	}
	data, size := decodeLeaf(p, w.maxAtt, false)
	w.atts = append(w.atts, bot.Attachment{
		Name:        name,
		ContentType: p.mt,
		Size:        size,
		Inline:      (resource || disp == "inline") && !strings.HasPrefix(p.mt, "text/"),
		Data:        data,
		Stored:      data != nil,
	})
}

func extensionFor(mt string) string {
	switch mt {
	case "image/png":
		return ".png"
	case "image/jpeg", "image/jpg", "image/pjpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "application/pdf":
		return ".pdf"
	case "text/calendar":
		return ".ics"
	case "text/plain":
		return ".txt"
	case "text/html":
		return ".html"
	case "message/rfc822":
		return ".eml"
	}
	return ".bin"
}

// deliveryStatus reads a message/delivery-status part (RFC 3464): the
// per-message block, then per-recipient blocks; the first recipient
// block fills the bounce.
func (w *walker) deliveryStatus(p *part) {
	w.dsn = true
	data, _ := decodeLeaf(p, -1, false)
	rest := data
	for len(bytes.TrimSpace(rest)) > 0 {
		var h header
		h, rest = splitMessage(bytes.TrimLeft(rest, "\r\n"), false)
		if w.bounce.Recipient != "" {
			break
		}
		rcpt := h.Get("Final-Recipient")
		if rcpt == "" {
			rcpt = h.Get("Original-Recipient")
		}
		if rcpt == "" {
			continue
		}
		w.bounce.Recipient = strings.ToLower(strings.Trim(afterType(rcpt), "<> "))
		if f := strings.Fields(validUTF8(h.Get("Status"))); len(f) > 0 {
			w.bounce.Status = f[0]
		}
		w.bounce.Diagnostic = afterType(h.Get("Diagnostic-Code"))
	}
}

// afterType strips the "type;" prefix of a DSN field ("rfc822; a@b",
// "smtp; 550 ...") and collapses its white space.
func afterType(v string) string {
	v = validUTF8(v)
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " \t") {
		v = rest
	}
	return bot.NeutralizeBidi(strings.Join(strings.Fields(v), " "))
}

// originalID takes the Message-ID of the bounced message from a
// message/rfc822 or text/rfc822-headers part.
func (w *walker) originalID(p *part, headersOnly bool) {
	if w.bounce.OriginalMessageID != "" {
		return
	}
	data, _ := decodeLeaf(p, -1, headersOnly)
	h, _ := splitMessage(bytes.TrimLeft(data, "\r\n"), true)
	w.bounce.OriginalMessageID = messageID(h)
}
