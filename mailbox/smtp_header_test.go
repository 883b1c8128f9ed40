package mailbox

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"rfadesk/bot"
)

// hostileOutgoing is a mail whose every header text is as long and odd
// as a sender can make it: they all come from inbound mail.
func hostileOutgoing() *bot.OutgoingMail {
	var refs []string
	for i := range 60 {
		refs = append(refs, fmt.Sprintf("%03d%s@mail.school.test", i, strings.Repeat("r", 230)))
	}
	return &bot.OutgoingMail{
		To: []bot.Address{
			{Name: strings.Repeat("N", 5000), Email: "ann@school.test"},
			{Name: strings.Repeat("名", 5000), Email: "bo@school.test"},
			{Name: strings.Repeat(`"\`, 2000), Email: "cy@school.test"},
			{Name: "Eve \u202egnp.exe", Email: "eve@school.test"},
		},
		Subject:    "Re: [RFA-42] " + strings.Repeat("A", 64<<10) + "\u202e",
		Text:       strings.Repeat("x", 5000) + "\n",
		MessageID:  "rfa-42.ack.1@desk.example.test",
		InReplyTo:  "003" + strings.Repeat("r", 230) + "@mail.school.test",
		References: refs,
		Attachments: []bot.Attachment{
			{Name: strings.Repeat("x", 5000) + ".pdf", ContentType: "application/pdf", Data: []byte("%PDF")},
			{Name: strings.Repeat("😀", 3000) + ".pdf", ContentType: "application/" + strings.Repeat("y", 3000), Data: []byte("x")},
			{Name: "invoice\u202efdp.exe", ContentType: "application/pdf", Data: []byte("x")},
		},
	}
}

// Every line of a composed message fits the 998 octets RFC 5322 allows,
// whatever the subject, names and attachment names (issue #7: a 64 KB
// subject or a 5,000-character name was refused with 554 and the
// acknowledgement lost).
func TestComposeHeaderLinesFit(t *testing.T) {
	subjects := map[string]string{
		"ascii without spaces":  strings.Repeat("A", 64<<10),
		"latin without spaces":  strings.Repeat("é", 20000),
		"emoji":                 strings.Repeat("😀", 20000),
		"words":                 strings.Repeat("word ", 20000),
		"one long word in text": "Printer " + strings.Repeat("z", 3000) + " broken",
	}
	for name, subject := range subjects {
		t.Run(name, func(t *testing.T) {
			s, err := NewSender(SMTPConfig{Address: "127.0.0.1:25", Security: SecurityNone},
				SenderOptions{From: bot.Address{Name: strings.Repeat("D", 5000), Email: "desk@example.test"}, LoopValue: "desk-7f3a"})
			if err != nil {
				t.Fatal(err)
			}
			m := hostileOutgoing()
			m.Subject = subject
			msg, _, err := s.compose(m)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := msg.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			checkLines(t, buf.Bytes())
		})
	}
}

// checkLines fails for each line of raw longer than 998 octets.
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	for i, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			t.Errorf("line %d is %d octets: %.120q...", i+1, len(l), l)
		}
	}
}

func TestHeaderText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"word      then", 10, "word…"},
		{"ééééééééééé", 5, "éééé…"},
		{"a\u202eb\r\nc", 10, "ab c"},
	}
	for _, tt := range tests {
		got := headerText(tt.in, tt.max)
		if got != tt.want || utf8.RuneCountInString(got) > tt.max {
			t.Errorf("headerText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestAttachmentName(t *testing.T) {
	long := attachmentName(strings.Repeat("x", 5000)+".pdf", 0)
	if utf8.RuneCountInString(long) != maxFileNameRunes || !strings.HasSuffix(long, "x…"+".pdf") {
		t.Errorf("long name cut to %q (%d characters)", long, utf8.RuneCountInString(long))
	}
	emoji := attachmentName(strings.Repeat("😀", 3000)+".pdf", 0)
	if !strings.HasSuffix(emoji, "😀….pdf") || len(emoji) > maxEncodedFileName {
		t.Errorf("emoji name cut to %q", emoji)
	}
	for in, want := range map[string]string{
		"":                         "attachment-3",
		"invoice\u202efdp.exe":     "invoicefdp.exe",
		"rapport été.pdf":          "rapport été.pdf",
		".bashrc":                  ".bashrc",
		"a\r\nContent-Type: x.txt": "a Content-Type: x.txt",
	} {
		if got := attachmentName(in, 2); got != want {
			t.Errorf("attachmentName(%q) = %q, want %q", in, got, want)
		}
	}
}
