package chat_test

import (
	"encoding/json"
	"strings"
	"testing"

	"rfadesk/chat/discordtest"
)

// TestHostileDiscordCatalogue is the Discord part of issue #12's hostile
// input catalogue, through the fake Discord of chat/discordtest and a real
// desk on bbolt. Deeper tests: TestNeutralise and TestTextMessageMentions
// (render_test.go) for the escaping itself, TestConsole's "unauthorised
// member is refused" and "non-staff and DMs are ignored" for other
// refusals.
func TestHostileDiscordCatalogue(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.wait("the slash commands", func() bool { return e.fake.Commands() != nil })
	r := e.newRFA(1, "h1@oakprimary.sch.uk", "Cannot log in", "It fails.\n\n"+fullReport)
	thread := r.Chat.ThreadID
	long := strings.Repeat("step \u200bby\u200d step ", 160) // 2,000+ characters with zero-width ones
	hostile := "@everyone @here <@&" + staffRole + "> <@" + mallory + "> " + long

	t.Run("staff text with mentions, 2000+ chars and zero-width is mailed whole", func(t *testing.T) {
		e := e.with(t)
		e.fake.Say(thread, priya, hostile+" STAFF-END")
		e.wait("the reply email", func() bool { return len(e.mails("STAFF-END")) == 1 })
		// The marker at the very end arrived: nothing was cut at
		// Discord's 2,000 characters on the way to the school.
	})

	t.Run("school mail with mentions is posted without pinging anyone", func(t *testing.T) {
		e := e.with(t)
		e.ingest("h2@oakprimary.sch.uk", "Re: Cannot log in", ("SCHOOL-START " + hostile), "h1@oakprimary.sch.uk")
		e.wait("the post in the thread", func() bool { return len(e.botMessages(thread, "SCHOOL-START")) > 0 })
		for _, m := range e.fake.Messages(thread) {
			if !m.Bot || m.Body == nil {
				continue
			}
			var body struct {
				AllowedMentions *struct{ Parse []string } `json:"allowed_mentions"`
			}
			if err := json.Unmarshal(m.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.AllowedMentions == nil || len(body.AllowedMentions.Parse) != 0 {
				t.Errorf("post %s allows mentions: %s", m.ID, m.Body)
			}
			for _, ping := range []string{"@everyone", "@here", "<@&" + staffRole + ">", "<@" + mallory + ">"} {
				if strings.Contains(m.Content, ping) {
					t.Errorf("post %s carries a live %q", m.ID, ping)
				}
			}
			if len([]rune(m.Content)) > 2000 {
				t.Errorf("post %s has %d characters, Discord takes 2,000", m.ID, len([]rune(m.Content)))
			}
		}
	})

	refusals := []struct {
		name   string
		invoke func() string // returns the interaction id
	}{
		{"slash command from a direct message", func() string {
			return e.fake.SlashDM("999", priya, "rfa", "severity")
		}},
		{"slash command from another server", func() string {
			in := map[string]any{
				"id": "9001", "application_id": "900", "type": 2, "token": "tok-9001",
				"channel_id": thread, "guild_id": "666", "version": 1, "locale": "en-GB",
				"member": map[string]any{"user": map[string]any{"id": priya, "username": "priya"}, "roles": []string{staffRole}},
				"data": map[string]any{"id": "cmd-rfa", "name": "rfa", "type": 1,
					"options": []map[string]any{{"name": "severity", "type": 1, "options": []map[string]any{{"name": "level", "type": 3, "value": "critical"}}}}},
			}
			e.fake.Dispatch("INTERACTION_CREATE", in)
			return "9001"
		}},
		{"slash command from a member who just lost the staff role", func() string {
			e.fake.AddMember(discordtest.Member{UserID: tom, Name: "Tom Reed"})
			return e.fake.Slash(thread, tom, "rfa", "severity", discordtest.Str("level", "critical"))
		}},
	}
	for _, row := range refusals {
		t.Run(row.name, func(t *testing.T) {
			e := e.with(t)
			before := e.rfa(1)
			cb := e.callback(row.invoke())
			if cb.Type != 4 || !cb.Ephemeral() {
				t.Errorf("answer = type %d ephemeral %v %q, want an ephemeral refusal", cb.Type, cb.Ephemeral(), cb.Decode().Content)
			}
			after := e.rfa(1)
			if after.Severity != before.Severity || after.Assignee != before.Assignee || len(after.Events) != len(before.Events) {
				t.Errorf("state changed: severity %q assignee %q, %d events (was %d)", after.Severity, after.Assignee, len(after.Events), len(before.Events))
			}
		})
	}
}
