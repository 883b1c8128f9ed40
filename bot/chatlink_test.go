package bot_test

import (
	"strings"
	"testing"

	"rfadesk/bot"
)

// TestLongReplyInChatCarriesNoToken: a requester's reply too long for
// the chat is cut with a link staff can open, never the status link
// with the requester's token.
func TestLongReplyInChatCarriesNoToken(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Chat = true })
	f.ingest(mail("cl1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	f.ingest(mail("cl2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Received", strings.Repeat("Still broken in every room. ", 200)))
	r := f.rfa(1)
	var cutPost string
	for _, it := range f.outbox() {
		if it.Chat == nil {
			continue
		}
		if strings.Contains(it.Chat.Text, r.Token) {
			t.Errorf("a chat post carries the requester's token:\n%.300s", it.Chat.Text)
		}
		if strings.Contains(it.Chat.Text, "(cut:") {
			cutPost = it.Chat.Text
		}
	}
	if !strings.Contains(cutPost, "(cut: the whole message is at https://support.example.org/api/rfas/RFA-1)") {
		t.Errorf("the cut reply does not point staff at the record:\n%.300s", cutPost)
	}
}
