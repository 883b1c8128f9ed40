package mailbox

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"golang.org/x/text/encoding/charmap"

	"rfadesk/bot"
)

// field is one header field as found in the raw message: the key as
// written and the unfolded value, still encoded (encoded-words, 8-bit).
type field struct {
	key   string
	value string
}

// header is a lenient view of a header block. Lookups are
// case-insensitive and Get returns the first occurrence, so a duplicated
// field keeps its first value (go-message's Header returns the last).
type header []field

// Get returns the first value of key, or "".
func (h header) Get(key string) string {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return f.value
		}
	}
	return ""
}

// Has reports whether key occurs at all.
func (h header) Has(key string) bool {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return true
		}
	}
	return false
}

// Values returns every value of key in order.
func (h header) Values(key string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// splitMessage separates the header block from the body and parses the
// header leniently: lines without a colon or with an invalid key are
// skipped, continuation lines are unfolded, an mbox "From " line is
// ignored when mbox is set. A message without a blank line is all header.
// It never fails; a message with no usable field yields an empty header.
func splitMessage(raw []byte, mbox bool) (header, []byte) {
	var h header
	rest := raw
	if mbox && bytes.HasPrefix(rest, []byte("From ")) {
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[i+1:]
		} else {
			rest = nil
		}
	}
	last := -1 // index in h of the field a continuation line extends
	for len(rest) > 0 {
		line := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], rest[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return trimFields(h), next
		}
		rest = next
		if line[0] == ' ' || line[0] == '\t' {
			if last >= 0 {
				h[last].value += string(line)
			}
			continue
		}
		last = -1
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		key := string(bytes.TrimRight(line[:colon], " \t"))
		if !validKey(key) {
			continue
		}
		h = append(h, field{key: key, value: string(line[colon+1:])})
		last = len(h) - 1
	}
	return trimFields(h), nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// trimFields trims the space left around unfolded values.
func trimFields(h header) header {
	for i := range h {
		h[i].value = strings.TrimSpace(h[i].value)
	}
	return h
}

// newWordDecoder returns a decoder of RFC 2047 encoded-words for which an
// unknown charset leaves the word's raw bytes in place (made valid UTF-8
// later) instead of failing.
func newWordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: lenientCharsetReader}
}

func lenientCharsetReader(cs string, r io.Reader) (io.Reader, error) {
	cs = webCharset(cs)
	switch strings.ToLower(cs) {
	case "utf-8", "us-ascii", "utf8":
		return r, nil
	}
	if message.CharsetReader != nil {
		if cr, err := message.CharsetReader(strings.ToLower(cs), r); err == nil && cr != nil {
			return cr, nil
		}
	}
	return r, nil
}

// decodeText decodes encoded-words in an unstructured header value and
// returns valid, single-line UTF-8 without control or bidirectional
// formatting characters (bot.NeutralizeBidi): it is text people read.
func decodeText(v string) string {
	if strings.Contains(v, "=?") {
		// Go's decoder reads ISO-8859-1 itself; send it through webCharset.
		v = latin1Word.ReplaceAllString(v, "=?windows-1252?")
		if d, err := newWordDecoder().DecodeHeader(v); err == nil {
			v = d
		}
	}
	v = validUTF8(v)
	v = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case r < ' ' || r >= 0x7f && r < 0xa0:
			return -1
		}
		return r
	}, v)
	return bot.NeutralizeBidi(strings.Join(strings.Fields(v), " "))
}

// validUTF8 returns s as valid UTF-8, decoding it run by run: every
// valid UTF-8 sequence is kept as it is, and each byte that is not part
// of one is read as a Windows-1252 character (the usual charset of
// unlabelled 8-bit mail, and of the stray byte pasted into mail labelled
// UTF-8); the five bytes Windows-1252 leaves undefined become U+FFFD. So
// one bad byte never changes how the rest of the text reads: "Café"
// followed by a lone 0xE9 gives "Caféé", not "CafÃ©é". Pure Windows-1252
// text reads as before, since its accented letters are lone high bytes.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b.WriteRune(windows1252Rune(s[i]))
			i++
			continue
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}

// windows1252Rune decodes one byte as Windows-1252; the undefined bytes
// (0x81, 0x8D, 0x8F, 0x90, 0x9D) give U+FFFD.
func windows1252Rune(c byte) rune {
	r := charmap.Windows1252.DecodeByte(c)
	if r >= 0x80 && r < 0xa0 {
		return utf8.RuneError
	}
	return r
}

// parseAddressList parses an address header value; when the strict RFC
// 5322 parser refuses it, addresses are picked out leniently. Emails are
// lower-cased; names are decoded.
func parseAddressList(v string) []bot.Address {
	list, _ := parseAddresses(v)
	return list
}

// parseAddresses is parseAddressList that also reports whether the
// strict parser refused v and the addresses were picked out leniently.
func parseAddresses(v string) (list []bot.Address, lenient bool) {
	if strings.TrimSpace(v) == "" {
		return nil, false
	}
	// Raw 8-bit bytes (Latin-1 names from old clients) are made UTF-8
	// first, which the strict parser accepts (RFC 6532); only bytes
	// above 0x7F change, so the structure it reads is the same.
	v = validUTF8(v)
	p := mail.AddressParser{WordDecoder: newWordDecoder()}
	parsed, err := p.ParseList(v)
	if err != nil {
		return lenientAddresses(v), true
	}
	for _, a := range parsed {
		if ad, ok := makeAddress(a.Name, a.Address); ok {
			list = append(list, ad)
		}
	}
	return list, false
}

func makeAddress(name, email string) (bot.Address, bool) {
	email = strings.ToLower(strings.TrimSpace(validUTF8(email)))
	email = strings.Trim(email, "<>\"' ")
	if email == "" || strings.ContainsAny(email, " \t<>") {
		return bot.Address{}, false
	}
	name = decodeText(strings.TrimSpace(name))
	name = strings.TrimSpace(strings.Trim(name, "\"'"))
	if strings.EqualFold(name, email) {
		name = ""
	}
	return bot.Address{Name: name, Email: email}, true
}

var latin1Word = regexp.MustCompile(`(?i)=\?(iso-8859-1|latin1)(\*[a-z-]*)?\?`)

var bareEmail = regexp.MustCompile(`[^\s<>()",;:]+@[^\s<>()",;:]+`)

// lenientAddresses splits v on commas outside quotes and angle brackets
// and takes from each piece the <angle-addr> or the first bare
// local@domain token.
func lenientAddresses(v string) []bot.Address {
	var out []bot.Address
	for _, piece := range splitOutsideQuotes(v) {
		if lt := strings.IndexByte(piece, '<'); lt >= 0 {
			gt := strings.IndexByte(piece[lt:], '>')
			if gt > 1 {
				if a, ok := makeAddress(piece[:lt], piece[lt+1:lt+gt]); ok {
					out = append(out, a)
				}
				continue
			}
		}
		if m := bareEmail.FindStringIndex(piece); m != nil {
			name := strings.TrimSpace(piece[:m[0]] + " " + piece[m[1]:])
			name = strings.Trim(name, "()<>\" ")
			if a, ok := makeAddress(name, piece[m[0]:m[1]]); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

func splitOutsideQuotes(v string) []string {
	var parts []string
	inQuote, inAngle, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inAngle = true
		case c == '>' && !inQuote:
			inAngle = false
		case c == ',' && !inQuote && !inAngle:
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
}

var angleID = regexp.MustCompile(`<[^<>]*>`)

// maxMessageIDLen is the longest normalised message id kept, in bytes.
// Ids become bbolt keys (at most 32 KiB), so a longer one must never
// reach the store; RFC 5322 lines are 998 bytes at most anyway.
const maxMessageIDLen = 250

// validMessageID reports whether id, in normalised form (see
// bot.NormalizeMessageID), is one we keep when parsing and send when
// composing: 1 to maxMessageIDLen bytes of printable ASCII without
// space or angle brackets. Parse and the Sender share it, so an id the
// parser keeps is never one the Sender refuses.
func validMessageID(id string) bool {
	if id == "" || len(id) > maxMessageIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// parseIDList returns the normalised message ids in a Message-ID,
// In-Reply-To or References value: every <...> token, or when there are
// no angle brackets, every whitespace-separated word. Ids that fail
// validMessageID (empty, too long, non-ASCII, spaces) are dropped.
func parseIDList(v string) []string {
	var out []string
	for _, n := range normalisedIDs(v) {
		if validMessageID(n) {
			out = append(out, n)
		}
	}
	return out
}

// normalisedIDs returns every non-empty id token of v, normalised but
// not yet validated.
func normalisedIDs(v string) []string {
	v = validUTF8(v)
	var raw []string
	if strings.Contains(v, "<") {
		raw = angleID.FindAllString(v, -1)
	} else {
		raw = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	}
	var out []string
	for _, id := range raw {
		if n := bot.NormalizeMessageID(id); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// messageID returns the normalised Message-ID of h: the first id of the
// first Message-ID field that has one, or "" when there is none or that
// id fails validMessageID (too long, non-ASCII...): a later id is not
// taken instead. "" makes DedupeKey fall back to the digest of the raw
// bytes.
func messageID(h header) string {
	for _, v := range h.Values("Message-Id") {
		if ids := normalisedIDs(v); len(ids) > 0 {
			if validMessageID(ids[0]) {
				return ids[0]
			}
			return ""
		}
	}
	return ""
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Monday, 2 January 2006 15:04:05 -0700",
	"Monday, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
}

// parseDate parses a Date: value, tolerating the usual deviations; it
// returns the zero time when nothing fits.
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	if i := strings.IndexByte(v, '('); i > 0 {
		v = strings.TrimSpace(v[:i])
	}
	v = strings.Join(strings.Fields(v), " ")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// mediaType parses a Content-Type or Content-Disposition value. The
// type is lower-cased; parameter names are lower-cased and values have
// RFC 2231 and encoded-word encodings resolved. Parameters the standard
// parser refuses are picked out one by one.
func mediaType(v string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		for k, pv := range params {
			params[k] = decodeText(pv)
		}
		return strings.ToLower(mt), params
	}
	parts := strings.Split(v, ";")
	mt = strings.ToLower(strings.TrimSpace(parts[0]))
	params = map[string]string{}
	for _, p := range parts[1:] {
		k, pv, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		pv = strings.Trim(strings.TrimSpace(pv), "\"'")
		if k == "" {
			continue
		}
		if _, dup := params[k]; !dup {
			params[k] = decodeText(pv)
		}
	}
	return mt, params
}
