package chat_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/chat/discordtest"
)

// slash runs a command and returns its answer.
func (e *env) slash(channel, user, cmd, sub string, opts ...discordtest.Option) discordtest.Callback {
	e.t.Helper()
	return e.callback(e.fake.Slash(channel, user, cmd, sub, opts...))
}

func testSlashCommands(t *testing.T, e *env, thread string) {
	str := discordtest.Str
	public := func(t *testing.T, cb discordtest.Callback, want string) {
		t.Helper()
		d := cb.Decode()
		if cb.Type != 4 || cb.Ephemeral() || !strings.Contains(d.Content, want) {
			t.Errorf("answer = type %d ephemeral %v %q, want a public answer containing %q", cb.Type, cb.Ephemeral(), d.Content, want)
		}
	}
	refused := func(t *testing.T, cb discordtest.Callback) {
		t.Helper()
		if cb.Type != 4 || !cb.Ephemeral() {
			t.Errorf("answer = type %d ephemeral %v %q, want an ephemeral refusal", cb.Type, cb.Ephemeral(), cb.Decode().Content)
		}
	}

	t.Run("registered", func(t *testing.T) {
		e := e.with(t)
		var cmds []struct {
			Name    string
			Options []struct{ Name string }
		}
		if err := json.Unmarshal(e.fake.Commands(), &cmds); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cmds {
			for _, o := range c.Options {
				names = append(names, c.Name+" "+o.Name)
			}
		}
		got := strings.Join(names, ",")
		if got != "rfa severity,rfa assign,rfa update,rfa ask,rfa workaround,rfa clear,rfa reopen,rfa release,rfa fields,rfa link,rfa unlink,rfa new,desk queue,desk outage,desk release,desk surge" {
			t.Errorf("commands = %s", got)
		}
	})

	t.Run("unauthorised member is refused", func(t *testing.T) {
		e := e.with(t)
		before := e.rfa(1)
		refused(t, e.slash(thread, mallory, "rfa", "severity", str("level", "critical")))
		refused(t, e.callback(e.fake.Click(channelID, thread, mallory, "take:1")))
		refused(t, e.callback(e.fake.SlashDM("999", priya, "rfa", "severity")))
		after := e.rfa(1)
		if after.Severity != before.Severity || after.Assignee != before.Assignee || len(after.Events) != len(before.Events) {
			t.Errorf("state changed: %+v", after)
		}
	})

	t.Run("severity", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "severity", str("level", "serious")), "Workaround: due <t:")
		r := e.rfa(1)
		if r.Severity != bot.SeveritySerious || !hasEvent(r, bot.EventSeverity, "Priya Shah (discord:"+priya+")") {
			t.Errorf("severity %q events %+v", r.Severity, r.Events)
		}
	})

	t.Run("assign", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "assign", discordtest.User("member", tom)), "to Tom Reed")
		if r := e.rfa(1); r.Assignee != "Tom Reed (discord:"+tom+")" {
			t.Errorf("assignee = %q", r.Assignee)
		}
		public(t, e.slash(thread, priya, "rfa", "assign"), "to Priya Shah")
		if r := e.rfa(1); r.Assignee != "Priya Shah (discord:"+priya+")" {
			t.Errorf("assignee = %q", r.Assignee)
		}
	})

	t.Run("take it button", func(t *testing.T) {
		e := e.with(t)
		public(t, e.callback(e.fake.Click(channelID, thread, tom, "take:1")), "Tom Reed took RFA-1")
		if r := e.rfa(1); r.Assignee != "Tom Reed (discord:"+tom+")" {
			t.Errorf("assignee = %q", r.Assignee)
		}
	})

	mailed := func(t *testing.T, text string) {
		t.Helper()
		e.with(t).wait("the mail with "+text, func() bool { return len(e.mails(text)) == 1 })
	}
	t.Run("update", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "update", str("text", "We are looking at the token service.")), "status update")
		mailed(t, "We are looking at the token service.")
		if !hasEvent(e.rfa(1), bot.EventStatusUpdate, "discord:"+priya) {
			t.Error("no status-update event")
		}
	})
	t.Run("ask", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "ask", str("text", "Which browser do you use?")), "asked")
		mailed(t, "Which browser do you use?")
		if r := e.rfa(1); r.Status != bot.StatusAwaitingRequester {
			t.Errorf("status = %s", r.Status)
		}
	})
	t.Run("workaround", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "workaround", str("text", "Use the backup login page.")), "workaround")
		mailed(t, "Use the backup login page.")
		if r := e.rfa(1); r.Status != bot.StatusOpen || !hasEvent(r, bot.EventWorkaround, "discord:"+priya) {
			t.Errorf("status = %s", r.Status)
		}
	})
	t.Run("clear", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "clear", str("resolution", "Token service restarted.")), "cleared")
		mailed(t, "Token service restarted.")
		if r := e.rfa(1); r.Status != bot.StatusCleared {
			t.Errorf("status = %s", r.Status)
		}
		cb := e.slash(thread, priya, "rfa", "clear", str("resolution", "again"))
		refused(t, cb)
		if !strings.Contains(cb.Decode().Content, "already cleared") {
			t.Errorf("answer = %q", cb.Decode().Content)
		}
	})
	t.Run("reopen with an explicit ref", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(channelID, priya, "rfa", "reopen", str("reason", "It came back"), str("ref", "RFA-1")), "reopened RFA-1")
		if r := e.rfa(1); r.Status != bot.StatusOpen || !hasEvent(r, bot.EventReopened, "discord:"+priya) {
			t.Errorf("status = %s", r.Status)
		}
		refused(t, e.slash(channelID, priya, "rfa", "reopen", str("reason", "x")))
		refused(t, e.slash(channelID, priya, "rfa", "reopen", str("reason", "x"), str("ref", "RFA-99")))
	})
	t.Run("release", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "release", str("name", "2026.12"), str("ships", "2026-12-10")), "release 2026.12")
		r := e.rfa(1)
		if r.Release == nil || r.Release.Name != "2026.12" || !hasEvent(r, bot.EventRelease, "discord:"+priya) {
			t.Fatalf("release = %+v", r.Release)
		}
		if got := r.Release.Ships.Format(time.RFC3339); got != "2026-12-11T00:00:00Z" {
			t.Errorf("ships = %s, want the end of 10 December in London", got)
		}
		refused(t, e.slash(thread, priya, "rfa", "release", str("name", "x"), str("ships", "next week")))
	})
	t.Run("fields", func(t *testing.T) {
		e := e.with(t)
		cb := e.slash(thread, priya, "rfa", "fields", str("site", "Annexe <@&123>"), str("components", "Login, Registers"),
			str("can_replicate", "no"), str("organisation", "Birch Infants"), str("error_message", "-"))
		public(t, cb, "corrected RFA-1")
		if strings.Contains(cb.Decode().Content, "<@&123>") {
			t.Errorf("the answer carries a live mention: %q", cb.Decode().Content)
		}
		r := e.rfa(1)
		if r.Report.Site != "Annexe <@&123>" || strings.Join(r.Report.Components, "|") != "Login|Registers" ||
			r.Report.CanReplicate != bot.ReplicateNo || r.Report.ErrorMessage != "" ||
			r.Organisation != "Birch Infants" || r.Trust != "" || !hasEvent(r, bot.EventFieldsSet, "discord:"+priya) {
			t.Errorf("RFA-1 after /rfa fields: report %+v, organisation %q", r.Report, r.Organisation)
		}
		e.wait("the card showing the corrections", func() bool {
			m, ok := e.fake.Message(r.Chat.PostID)
			body := m.Content + string(m.Body)
			return ok && strings.Contains(body, "Birch Infants") && strings.Contains(body, "Login, Registers")
		})
		refused(t, e.slash(thread, priya, "rfa", "fields"))
		refused(t, e.slash(thread, priya, "rfa", "fields", str("site", "x"), str("ref", "RFA-99")))
	})
	t.Run("link and unlink", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(thread, priya, "rfa", "link", str("parent", "rfa-2")), "Priya Shah linked RFA-1 to RFA-2")
		if r := e.rfa(1); r.Parent != 2 || !hasEvent(r, bot.EventLinked, "discord:"+priya) {
			t.Errorf("RFA-1 after /rfa link: parent %d", r.Parent)
		}
		for _, parent := range []string{"RFA-1", "RFA-99", "two"} {
			cb := e.slash(thread, priya, "rfa", "link", str("parent", parent))
			refused(t, cb)
			if r := e.rfa(1); r.Parent != 2 {
				t.Errorf("/rfa link %s changed the parent to %d (%q)", parent, r.Parent, cb.Decode().Content)
			}
		}
		public(t, e.slash(thread, priya, "rfa", "unlink"), "unlinked RFA-1 from RFA-2")
		if r := e.rfa(1); r.Parent != 0 || !hasEvent(r, bot.EventUnlinked, "discord:"+priya) {
			t.Errorf("RFA-1 after /rfa unlink: parent %d", r.Parent)
		}
		cb := e.slash(thread, priya, "rfa", "unlink")
		refused(t, cb)
		if !strings.Contains(cb.Decode().Content, "not linked") {
			t.Errorf("second unlink answered %q", cb.Decode().Content)
		}
	})
	t.Run("new from a phone call", func(t *testing.T) {
		e := e.with(t)
		cb := e.slash(channelID, priya, "rfa", "new")
		if cb.Type != 9 || cb.Decode().CustomID != "rfa-new" {
			t.Fatalf("answer = %+v, want the modal", cb)
		}
		id := e.fake.SubmitModal(channelID, priya, "rfa-new", map[string]string{
			"email": "head@oakprimary.sch.uk", "name": "Pat Head", "subject": "Printer queue stuck",
			"description": "Nothing prints since this morning.", "report": "Site location: Annexe\nSupport level: Gold\n",
		})
		public(t, e.callback(id), "logged RFA-3")
		e.wait("RFA-3's thread", func() bool { r, err := e.desk.RFA(t0, 3); return err == nil && r.Chat.ThreadID != "" })
		r := e.rfa(3)
		if r.Channel != bot.ChannelPhone || r.Requester.Email != "head@oakprimary.sch.uk" || r.Report.Site != "Annexe" || r.Organisation != "Oak Primary School" {
			t.Errorf("RFA-3 = %+v", r)
		}
		e.wait("the caller's acknowledgement", func() bool {
			return len(e.mails("To: \"Pat Head\" <head@oakprimary.sch.uk>"))+len(e.mails("To: Pat Head <head@oakprimary.sch.uk>")) == 1
		})
	})
	t.Run("surge", func(t *testing.T) {
		e := e.with(t)
		public(t, e.slash(channelID, priya, "desk", "surge", str("service", "store"), str("reason", "term-start import"), str("hours", "6")),
			"declared a surge on store")
		cs, err := e.desk.Capacity(t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.Surges) != 1 || cs.Surges[0].Reason != "term-start import" || cs.Surges[0].Until.Sub(cs.Surges[0].From) != 6*time.Hour {
			t.Errorf("surges = %+v", cs.Surges)
		}
		reported, err := e.desk.ObserveGauge(t0, bot.Gauge{Service: "store", Used: 90, Limit: 100})
		if err != nil || reported {
			t.Errorf("a gauge under the surge: reported %v, %v", reported, err)
		}
		refused(t, e.slash(channelID, mallory, "desk", "surge", str("service", "store"), str("reason", "x")))
		for _, bad := range [][]discordtest.Option{
			{str("service", "store"), str("reason", "x"), str("hours", "soon")},
			{str("service", "no spaces"), str("reason", "x")},
		} {
			cb := e.slash(channelID, priya, "desk", "surge", bad...)
			if !cb.Ephemeral() || !strings.Contains(cb.Decode().Content, "Nothing was changed") {
				t.Errorf("%v answered %q", bad, cb.Decode().Content)
			}
		}
		if cs, _ := e.desk.Capacity(t0); len(cs.Surges) != 1 {
			t.Errorf("%d surges after refusals, want 1", len(cs.Surges))
		}
	})
	t.Run("queue", func(t *testing.T) {
		e := e.with(t)
		d := e.queue(channelID, priya)
		i1, i2 := strings.Index(d.Content, "RFA-1"), strings.Index(d.Content, "RFA-3")
		if i1 < 0 || i2 < 0 || i2 > i1 || !strings.Contains(d.Content, "first update due") {
			// RFA-3's first update (1 working hour from now) is due before
			// RFA-1's reopened workaround (2 working days).
			t.Errorf("queue = %q", d.Content)
		}
		if strings.Contains(d.Content, "at risk") {
			t.Errorf("at risk too early: %q", d.Content)
		}
		e.clock.advance(50 * time.Minute) // 83% of RFA-3's first-update hour
		d = e.queue(channelID, priya)
		if line := lineWith(d.Content, "RFA-3"); !strings.Contains(line, "at risk") {
			t.Errorf("RFA-3 line = %q, want at risk", line)
		}
	})
	t.Run("release calendar", func(t *testing.T) {
		e := e.with(t)
		// The default calendar: a minor release every two weeks from
		// Friday 2 January 2026, so the next is Friday 4 December.
		public(t, e.slash(channelID, priya, "rfa", "release", str("name", "next-minor"), str("ref", "RFA-3")),
			"planned RFA-3 for release minor-2026-12-04, shipping Fri 4 Dec 2026")
		if r := e.rfa(3); r.Release == nil || r.Release.Name != "minor-2026-12-04" {
			t.Fatalf("RFA-3's release = %+v", r.Release)
		}
		d := e.slash(channelID, priya, "desk", "release", str("action", "list"))
		if !d.Ephemeral() || !strings.Contains(d.Decode().Content, "**minor-2026-12-04** (minor) Fri 4 Dec 2026") {
			t.Errorf("list = %q", d.Decode().Content)
		}
		cb := e.slash(channelID, priya, "desk", "release", str("action", "add"), str("name", "Hotfix <@&123>"), str("date", "2026-12-01"))
		public(t, cb, "set release Hotfix")
		if strings.Contains(cb.Decode().Content, "<@&123>") {
			t.Errorf("the answer carries a live mention: %q", cb.Decode().Content)
		}
		refused(t, e.slash(channelID, priya, "desk", "release", str("action", "add"), str("name", "x"), str("date", "soon")))
		refused(t, e.slash(channelID, priya, "desk", "release", str("action", "ship"), str("name", "minor-2026-12-04")))
		refused(t, e.slash(channelID, mallory, "desk", "release", str("action", "ship"), str("name", "minor-2026-12-04"), str("notes", "x")))
		public(t, e.slash(channelID, priya, "desk", "release", str("action", "ship"), str("name", "minor-2026-12-04"), str("notes", "Printing fixed.")),
			"shipped release minor-2026-12-04: 1 RFAs cleared")
		if r := e.rfa(3); r.Status != bot.StatusCleared || !hasEvent(r, bot.EventCleared, "discord:"+priya) {
			t.Errorf("RFA-3 after the ship: %s", r.Status)
		}
	})
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
