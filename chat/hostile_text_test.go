package chat

import (
	"encoding/json"
	"strings"
	"testing"

	"rfadesk/bot"
)

const hostileToken = "Zx9-secretTOKEN_value"

// TestChatCarriesNoTokenNorBidiControls renders every chat path that
// shows a requester's text (the card, a thread post, the thread's name,
// a console notice) from an RFA whose subject, name, message and
// attachment name hold U+202E and a status link with its token: neither
// reaches Discord.
func TestChatCarriesNoTokenNorBidiControls(t *testing.T) {
	link := "https://desk.example/rfa/RFA-1?t=" + hostileToken
	r := &bot.RFA{Num: 1, Subject: "invoice\u202efdp.exe " + link,
		Requester: bot.Address{Name: "Ann\u202e Head", Email: "ann@oak.sch.uk"}, Organisation: "Oak\u2066 Primary",
		Token:    hostileToken,
		Messages: []bot.Message{{Direction: bot.Inbound, Text: "see " + link + " and /rfa/rfa-1/escalate?t=" + hostileToken}}}
	e, _ := card(r, nil)
	embed, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	post := textMessage(&bot.ChatPost{Text: "📨 Ann\u202e Head wrote:\nsee " + link + "\n📎 photo\u202egnp.exe (image/png, 3 bytes)"})
	for name, text := range map[string]string{
		"card":        string(embed),
		"thread post": post.Content,
		"thread name": threadName(r),
		"notice":      withholdTokens(bot.NeutralizeBidi("⚠️ Not attached: x\u202egnp.exe; " + link)),
	} {
		if strings.Contains(text, hostileToken) {
			t.Errorf("%s carries the token: %s", name, text)
		}
		if strings.ContainsAny(text, "\u202e\u2066") || strings.Contains(text, `\u202e`) || strings.Contains(text, `\u2066`) {
			t.Errorf("%s carries a bidirectional control: %+q", name, text)
		}
	}
	if !strings.Contains(post.Content, "/rfa/RFA-1 (status link: token withheld)") || !strings.Contains(post.Content, "photognp.exe") {
		t.Errorf("thread post: %s", post.Content)
	}
}
