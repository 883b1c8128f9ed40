package mailbox_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message/mail"

	"rfadesk/bot"
)

// A reply's In-Reply-To and References come from other people's mail; an
// id the Sender cannot put in a header is left out and the mail still
// goes, carrying the valid ids only.
func TestSendSkipsInvalidThreadIDs(t *testing.T) {
	long := strings.Repeat("x", 251) + "@school.test" // over the 250-byte limit
	tests := []struct {
		name          string
		inReplyTo     string
		refs          []string
		wantInReplyTo string
		wantRefs      string
	}{
		{
			name:          "invalid reference among valid ones",
			inReplyTo:     "cafe01@mail.school.test",
			refs:          []string{"root@mail.school.test", "caf\u00e9@mail.school.test", "a b@x", long, "cafe01@mail.school.test"},
			wantInReplyTo: "<cafe01@mail.school.test>",
			wantRefs:      "<root@mail.school.test> <cafe01@mail.school.test>",
		},
		{
			name:      "invalid in-reply-to and only invalid references",
			inReplyTo: "r\u00e9ponse@mail.school.test",
			refs:      []string{"<a@b>", long},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			capture, s := smtpSetup(t, nil, nil)
			m := smtpMail("rfa-42.ack.1@desk.example.test")
			m.InReplyTo, m.References = tt.inReplyTo, tt.refs
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			pm, _ := smtpOnly(t, capture, "ann@school.test")
			h := pm.Header
			if got := h.Get("Message-Id"); got != "<rfa-42.ack.1@desk.example.test>" {
				t.Errorf("Message-Id = %q", got)
			}
			for name, want := range map[string]string{"In-Reply-To": tt.wantInReplyTo, "References": tt.wantRefs} {
				vs, present := h[name]
				if want == "" && present {
					t.Errorf("%s = %q, want no such field", name, vs)
				}
				if want != "" && h.Get(name) != want {
					t.Errorf("%s = %q, want %q", name, h.Get(name), want)
				}
			}
		})
	}
}

// A mail with a 64 KB subject without spaces, 5,000-character display
// names, huge attachment names and bidirectional controls reaches the
// server (issue #7: it used to be refused for a header line over 998
// octets and the acknowledgement was lost): every line fits, the texts
// are cut with an ellipsis and lose their bidi controls.
func TestSendHostileHeadersArrive(t *testing.T) {
	capture, s := smtpSetup(t, nil, nil)
	m := smtpMail("rfa-42.ack.1@desk.example.test")
	m.Subject = "Re: [RFA-42] \u202e" + strings.Repeat("A", 64<<10)
	m.To = []bot.Address{
		{Name: strings.Repeat("N", 5000), Email: "ann@school.test"},
		{Name: "Bo \u202e" + strings.Repeat("名", 5000), Email: "bo@school.test"},
	}
	m.Attachments = []bot.Attachment{
		{Name: "invoice\u202e" + strings.Repeat("😀", 3000) + ".pdf", ContentType: "application/pdf", Data: []byte("%PDF")},
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	pm, raw := smtpOnly(t, capture, "ann@school.test", "bo@school.test")
	for i, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			t.Errorf("line %d is %d octets: %.80q...", i+1, len(l), l)
		}
	}
	subject := smtpDecode(t, pm.Header.Get("Subject"))
	if n := utf8.RuneCountInString(subject); !strings.HasPrefix(subject, "Re: [RFA-42] AAAA") || !strings.HasSuffix(subject, "A…") || n > 300 {
		t.Errorf("Subject = %.40q...%q (%d characters)", subject, subject[max(0, len(subject)-10):], n)
	}
	to, err := pm.Header.AddressList("To")
	if err != nil || len(to) != 2 {
		t.Fatalf("To = %v (%v)", to, err)
	}
	for _, a := range to {
		if n := utf8.RuneCountInString(a.Name); n > 100 || !strings.HasSuffix(a.Name, "…") || bot.NeutralizeBidi(a.Name) != a.Name {
			t.Errorf("To name %.40q... (%d characters)", a.Name, n)
		}
	}
	if bot.NeutralizeBidi(subject) != subject {
		t.Errorf("bidi control left in Subject")
	}
	mr, err := gomessage.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ah, ok := p.Header.(*gomessage.AttachmentHeader); ok {
			name, err := ah.Filename()
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
	}
	if len(names) != 1 || !strings.HasPrefix(names[0], "invoice😀") || !strings.HasSuffix(names[0], "😀….pdf") {
		t.Errorf("attachment names = %q", names)
	}
}
