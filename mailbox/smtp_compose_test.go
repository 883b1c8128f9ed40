package mailbox_test

import (
	"context"
	"strings"
	"testing"
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
