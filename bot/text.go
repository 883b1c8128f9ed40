package bot

import (
	"strings"
)

// cleanSubject removes reply/forward prefixes and our tags for display.
func cleanSubject(s string) string {
	s = strings.TrimSpace(refTag.ReplaceAllString(s, ""))
	for {
		l := strings.ToLower(s)
		trimmed := false
		for _, p := range []string{"re:", "fw:", "fwd:", "aw:", "sv:"} {
			if strings.HasPrefix(l, p) {
				s = strings.TrimSpace(s[len(p):])
				trimmed = true
				break
			}
		}
		if !trimmed {
			break
		}
	}
	if s == "" {
		return "(no subject)"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// sniffHeaders reads From and Subject leniently from raw bytes that did
// not parse, for the dead-letter record. It never fails.
func sniffHeaders(raw []byte) (from, subject string) {
	head := string(raw)
	if i := strings.Index(head, "\r\n\r\n"); i >= 0 {
		head = head[:i]
	} else if i := strings.Index(head, "\n\n"); i >= 0 {
		head = head[:i]
	}
	for _, line := range strings.Split(head, "\n") {
		line = strings.TrimRight(line, "\r")
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "from":
			if from == "" {
				from = truncate(strings.TrimSpace(value), 200)
			}
		case "subject":
			if subject == "" {
				subject = truncate(strings.TrimSpace(value), 200)
			}
		}
	}
	return from, subject
}

// ChatTextLimit is how much of a message's text goes into a chat post;
// the rest is on the status page.
const ChatTextLimit = 1500

// inboundChatText is the readable form of an inbound mail for the RFA's
// chat thread: who, the new text (quoted history already stripped), cut
// to ChatTextLimit with a link to the whole message in the RFA's record
// (recordURL: Desk.RecordURL, never the status link, whose token must not
// reach the chat), and the attachments by name.
func inboundChatText(m *Mail, recordURL string) string {
	var b strings.Builder
	b.WriteString("📨 " + m.From.String() + " wrote:\n")
	text := strings.TrimSpace(m.Reply)
	if len(text) > ChatTextLimit {
		text = truncate(text, ChatTextLimit) + "\n(cut: the whole message is at " + recordURL + ")"
	}
	b.WriteString(text)
	for _, a := range m.Attachments {
		b.WriteString("\n📎 " + a.Name + " (" + a.ContentType + ", " + itoa(int(a.Size)) + " bytes)")
	}
	return b.String()
}
