package bot

import (
	"strings"
	"testing"
)

// An inbound mail posted to the RFA's chat thread: quoted history left
// out, a long body cut with a link to the whole message, attachments
// named.
func TestInboundChatText(t *testing.T) {
	m := &Mail{
		From:        Address{Name: "Sarah Okafor", Email: "s@oakprimary.sch.uk"},
		Text:        "New words.\n\nOn Mon, Desk wrote:\n> old quoted text",
		Reply:       "New words.",
		Attachments: []Attachment{{Name: "error.png", ContentType: "image/png", Size: 2048}},
	}
	got := inboundChatText(m, "https://desk.example/rfa/RFA-3?t=tok")
	for _, want := range []string{"Sarah Okafor <s@oakprimary.sch.uk> wrote:", "New words.", "📎 error.png (image/png, 2048 bytes)"} {
		if !strings.Contains(got, want) {
			t.Errorf("chat text lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "old quoted text") || strings.Contains(got, "cut:") {
		t.Errorf("quoted history or a cut notice in a short mail:\n%s", got)
	}

	m.Reply = strings.Repeat("A long description of the fault. ", 100)
	got = inboundChatText(m, "https://desk.example/rfa/RFA-3?t=tok")
	if len(got) > ChatTextLimit+200 || !strings.Contains(got, "(cut: the whole message is at https://desk.example/rfa/RFA-3?t=tok)") {
		t.Errorf("a long body was not cut with a link (%d bytes):\n%s", len(got), got[len(got)-120:])
	}
}
