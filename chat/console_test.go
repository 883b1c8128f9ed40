package chat_test

import (
	"encoding/json"
	"strings"
	"testing"

	"rfadesk/bot"
	"rfadesk/chat/discordtest"
)

// newRFA ingests a new requester mail and waits for its card and thread.
func (e *env) newRFA(num uint64, id, subject, body string) *bot.RFA {
	e.t.Helper()
	e.ingest(id, subject, body)
	e.wait(bot.FormatRef(num)+"'s thread", func() bool {
		r, err := e.desk.RFA(t0, num)
		return err == nil && r.Chat.ThreadID != ""
	})
	return e.rfa(num)
}

func requests(e *env, method, prefix, suffix string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) && strings.HasSuffix(r.Path, suffix) && r.Status < 300 {
			n++
		}
	}
	return n
}

// TestConsole works one RFA from Discord end to end on one session
// (a session's Close takes a second, so the steps share it).
func TestConsole(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.wait("the slash commands", func() bool { return e.fake.Commands() != nil })

	r := e.newRFA(1, "a1@oakprimary.sch.uk", "Cannot log in @everyone **now**", "<@123> says hi @here [link](http://evil)\n\n"+fullReport)
	thread := r.Chat.ThreadID

	t.Run("card and thread", func(t *testing.T) {
		e := e.with(t)
		cards := e.fake.Messages(channelID)
		if len(cards) != 1 {
			t.Fatalf("channel has %d messages, want one card", len(cards))
		}
		c := cards[0]
		if r.Chat.PostID != c.ID || thread != c.ID || c.Thread != c.ID {
			t.Errorf("chat ref = %+v, card %s thread %s", r.Chat, c.ID, c.Thread)
		}
		if n := requests(e, "POST", "/channels/", "/threads"); n != 1 {
			t.Errorf("%d threads opened, want 1", n)
		}
		var body struct {
			Embeds []struct {
				Title, Description string
				Fields             []struct{ Name, Value string }
			}
			Components      []json.RawMessage
			AllowedMentions struct{ Parse []string } `json:"allowed_mentions"`
			Nonce           string
			EnforceNonce    bool `json:"enforce_nonce"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Embeds) != 1 || !strings.HasPrefix(body.Embeds[0].Title, "RFA-1 · ") {
			t.Fatalf("embeds = %+v", body.Embeds)
		}
		if body.AllowedMentions.Parse == nil || len(body.AllowedMentions.Parse) != 0 || body.Nonce == "" || !body.EnforceNonce {
			t.Errorf("allowed_mentions/nonce = %+v %q %v", body.AllowedMentions, body.Nonce, body.EnforceNonce)
		}
		all := string(c.Body)
		for _, bad := range []string{"@everyone", "@here", "<@123>", "**now**", "[link]"} {
			if strings.Contains(all, bad) {
				t.Errorf("card carries %q unneutralised", bad)
			}
		}
		// The card shows the first message, whose text the store keeps
		// apart from the RFA record.
		if !strings.Contains(body.Embeds[0].Description, "says hi") {
			t.Errorf("card description %q lacks the first message", body.Embeds[0].Description)
		}
		fields := map[string]string{}
		for _, f := range body.Embeds[0].Fields {
			fields[f.Name] = f.Value
		}
		for name, want := range map[string]string{
			"Organisation": "Oak Primary School (Riverside Learning Trust)", "Requester": "s.okafor@oakprimary.sch.uk",
			"Site location": "Main building", "Missing": "nothing", "Severity": "Awaiting triage",
			"SLA": "Response: due <t:",
		} {
			if !strings.Contains(fields[name], want) {
				t.Errorf("field %q = %q, want it to contain %q", name, fields[name], want)
			}
		}
		if !strings.Contains(string(body.Components[0]), `"custom_id":"take:1"`) {
			t.Errorf("components = %s", body.Components)
		}
	})

	t.Run("staff reply is emailed, threaded, then reacted", func(t *testing.T) {
		e := e.with(t)
		m := e.fake.Say(thread, priya, "Hello Sarah, please clear the browser cache.")
		e.wait("the reply email", func() bool { return len(e.mails("please clear the browser cache")) == 1 })
		mail := e.mails("please clear the browser cache")[0]
		for _, want := range []string{"Subject: [RFA-1] Re: Cannot log in", "In-Reply-To: <", "<a1@oakprimary.sch.uk>", "Priya Shah"} {
			if !strings.Contains(mail, want) {
				t.Errorf("reply mail lacks %q:\n%s", want, mail)
			}
		}
		e.wait("the ✅ reaction", func() bool {
			got, _ := e.fake.Message(m.ID)
			return len(got.Reactions) == 1 && got.Reactions[0] == "✅"
		})
		r := e.rfa(1)
		if !hasEvent(r, bot.EventStaffReply, "discord:"+priya) || r.Chat.LastSeen != m.ID {
			t.Errorf("events %+v, last seen %s", r.Events, r.Chat.LastSeen)
		}
	})

	t.Run("files reach the desk with the reply", func(t *testing.T) {
		e := e.with(t)
		data := []byte("1. open the portal\n2. log in\n")
		f := e.fake.AddFile("steps.txt", "text/plain", data)
		m := e.fake.Say(thread, priya, "The steps are attached.", f)
		e.wait("the reply recorded", func() bool { return e.rfa(1).Chat.LastSeen == m.ID })
		r := e.rfa(1)
		last := r.Messages[len(r.Messages)-1]
		if last.Text != "The steps are attached." || len(last.Attachments) != 1 ||
			last.Attachments[0].Name != "steps.txt" || last.Attachments[0].Size != int64(len(data)) {
			t.Errorf("last message = %+v", last)
		}
		// The email itself cannot carry the file yet: the desk's outbox
		// drops Attachment.Data when it stores the mail (see the report).
	})

	t.Run("thread failure does not post the card twice", func(t *testing.T) {
		e := e.with(t)
		e.fake.Fail(discordtest.Fault{Method: "POST", Path: "/channels/" + channelID + "/messages/", Status: 500})
		e.ingest("c1@oakprimary.sch.uk", "Wi-Fi down in the hall", "No Wi-Fi since 8am.")
		e.wait("RFA-2's thread", func() bool {
			e.chatD.Kick()
			r, err := e.desk.RFA(t0, 2)
			return err == nil && r.Chat.ThreadID != ""
		})
		if n := len(e.botMessages(channelID, "RFA-2 · Wi-Fi down")); n != 1 {
			t.Errorf("%d cards for RFA-2, want 1", n)
		}
	})

	t.Run("note is not emailed", func(t *testing.T) {
		e := e.with(t)
		// Other subtests' mail (RFA-2's acknowledgement) may still be on
		// its way: look for this note's text and RFA-1's outbox only.
		m := e.fake.Say(thread, priya, "Note: token service looks slow")
		e.wait("the note", func() bool { return hasEvent(e.rfa(1), bot.EventNote, "discord:"+priya) })
		e.wait("the 📝 reaction", func() bool { got, _ := e.fake.Message(m.ID); return len(got.Reactions) == 1 })
		if len(e.mails("token service")) != 0 {
			t.Errorf("a note was mailed")
		}
		for _, it := range mustOutbox(t, e) {
			if it.Kind == bot.OutboxMail && it.RFA == 1 {
				t.Errorf("mail queued after a note: %+v", it.Mail)
			}
		}
	})

	t.Run("non-staff and DMs are ignored", func(t *testing.T) {
		e := e.with(t)
		before := len(e.fake.Messages(thread))
		e.fake.SayDM("999", priya, "hello in a DM")
		m := e.fake.Say(thread, mallory, "I am not staff, email this")
		e.wait("the message marked seen", func() bool { return e.rfa(1).Chat.LastSeen == m.ID })
		if len(e.mails("I am not staff")) != 0 || len(e.mails("hello in a DM")) != 0 {
			t.Error("a non-staff message was mailed")
		}
		if n := len(e.fake.Messages(thread)); n != before+1 {
			t.Errorf("thread has %d messages, want only Mallory's added", n-before)
		}
	})

	t.Run("slash commands", func(t *testing.T) { testSlashCommands(t, e, thread) })

	t.Run("card edit shows the current state", func(t *testing.T) {
		_, err := e.console.Transport().Deliver(t0, bot.OutboxItem{ID: 999, Kind: bot.OutboxChat, RFA: 1,
			Chat: &bot.ChatPost{Op: bot.ChatCard}})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := e.fake.Message(thread)
		if body := string(c.Body); !strings.Contains(body, "Serious (suggested") || !strings.Contains(body, "Tom Reed") {
			t.Errorf("edited card = %s", body)
		}
		if n := len(e.fake.Messages(channelID)); n != 3 {
			t.Errorf("channel has %d messages, want the 3 cards", n)
		}
	})

	t.Run("429 then success posts once", func(t *testing.T) {
		e := e.with(t)
		e.fake.Fail(discordtest.Fault{Method: "POST", Path: "/channels/" + thread + "/messages", Status: 429, RetryAfter: 0.01})
		e.fake.Fail(discordtest.Fault{Method: "POST", Path: "/channels/" + thread + "/messages", Status: 429, RetryAfter: 0.01, Global: true})
		e.ingest("a2@oakprimary.sch.uk", "Re: [RFA-1] Cannot log in", "Still broken after the cache, sorry.", "a1@oakprimary.sch.uk")
		e.wait("the post after two 429s", func() bool {
			e.chatD.Kick()
			return len(e.botMessages(thread, "Still broken after the cache")) > 0
		})
		if n := len(e.botMessages(thread, "Still broken after the cache")); n != 1 {
			t.Errorf("%d posts, want 1", n)
		}
	})

	t.Run("500 after the post was made posts once", func(t *testing.T) {
		e := e.with(t)
		e.fake.Fail(discordtest.Fault{Method: "POST", Path: "/channels/" + thread + "/messages", Status: 500, Commit: true})
		e.ingest("a3@oakprimary.sch.uk", "Re: [RFA-1] Cannot log in", "Here is a screenshot description.", "a1@oakprimary.sch.uk")
		e.wait("the retried post", func() bool {
			e.chatD.Kick()
			for _, it := range mustOutbox(t, e) {
				if it.Kind == bot.OutboxChat {
					return false
				}
			}
			return len(e.botMessages(thread, "screenshot description")) > 0
		})
		if n := len(e.botMessages(thread, "screenshot description")); n != 1 {
			t.Errorf("%d posts, want 1", n)
		}
	})

	t.Run("gateway drop and resume", func(t *testing.T) {
		e := e.with(t)
		e.fake.Drop()
		e.fake.Say(thread, priya, "Written while the gateway was down.")
		e.wait("the reply after the resume", func() bool { return len(e.mails("while the gateway was down")) == 1 })
		if e.fake.Resumes() < 1 || e.fake.Identifies() != 1 {
			t.Errorf("identifies %d resumes %d, want one session resumed", e.fake.Identifies(), e.fake.Resumes())
		}
		m := e.fake.Say(thread, priya, "And after it came back.")
		e.wait("a later reply", func() bool { return len(e.mails("after it came back")) == 1 })
		e.wait("marked seen", func() bool { return e.rfa(1).Chat.LastSeen == m.ID })
	})
}

func mustOutbox(t *testing.T, e *env) []bot.OutboxItem {
	t.Helper()
	items, err := e.desk.Outbox(t0)
	if err != nil {
		t.Fatal(err)
	}
	return items
}
