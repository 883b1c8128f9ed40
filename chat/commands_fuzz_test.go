package chat_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"rfadesk/bot"
	"rfadesk/chat/discordtest"
)

// FuzzSlashCommand sends staff slash commands with hostile option values
// through the fake Discord to a real console and desk: one subcommand of
// /rfa or /desk, a text option and the RFA named by ref (or the thread it
// is used in). Contracts: every interaction is answered, within Discord's
// 2,000-character message limit, without the bot token; the RFA still
// loads afterwards; and when the answer is a refusal (ephemeral) nothing
// staff can change (status, severity, assignee, parent, release, texts)
// has changed. (Its event count is no measure: deliveries add events.)
func FuzzSlashCommand(f *testing.F) {
	f.Add("rfa", "severity", "level", "critical", "")
	f.Add("rfa", "update", "text", "We have restarted the attendance service @everyone <@123>", "RFA-1")
	f.Add("rfa", "release", "ships", "2026-13-45", "")
	f.Add("rfa", "link", "parent", "RFA-18446744073709551616", "rfa-1")
	f.Add("desk", "queue", "ref", "", "RFA-0")
	f.Add("rfa", "reopen", "reason", strings.Repeat("\u202e", 900), "RFA-99")
	f.Fuzz(func(t *testing.T, group, sub, opt, value, ref string) {
		if !utf8.ValidString(group + sub + opt + value + ref) {
			return // Discord sends only valid UTF-8 JSON strings
		}
		e := newEnv(t)
		e.start()
		e.wait("the slash commands", func() bool { return e.fake.Commands() != nil })
		r := e.newRFA(1, "a1@oakprimary.sch.uk", "Cannot log in", "Site: Main\nComponent: Attendance\n")
		opts := []discordtest.Option{discordtest.Str(opt, value)}
		if ref != "" {
			opts = append(opts, discordtest.Str("ref", ref))
		}
		cb := e.slash(r.Chat.ThreadID, priya, group, sub, opts...)
		text := cb.Decode().Content
		if cb.Type == 4 && text == "" {
			t.Fatalf("empty answer to /%s %s %s=%q", group, sub, opt, value)
		}
		if utf8.RuneCountInString(text) > 2000 {
			t.Fatalf("answer of %d characters, Discord allows 2,000", utf8.RuneCountInString(text))
		}
		if strings.Contains(text, "test-token") {
			t.Fatalf("answer carries the bot token: %q", text)
		}
		after := e.rfa(1)
		if cb.Ephemeral() && !sameStaffState(r, after) {
			t.Fatalf("refused (%q) but the RFA changed: %+v -> %+v", text, staffState(r), staffState(after))
		}
	})
}

// staffState is what a staff command may change on an RFA.
func staffState(r *bot.RFA) string {
	return fmt.Sprintf("status=%v severity=%v assignee=%q parent=%d release=%+v messages=%d",
		r.Status, r.Severity, r.Assignee, r.Parent, r.Release, len(r.Messages))
}

func sameStaffState(a, b *bot.RFA) bool { return staffState(a) == staffState(b) }
