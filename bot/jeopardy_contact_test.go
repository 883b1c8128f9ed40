package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"rfadesk/bot"
)

// completeReport is a mail body that leaves no required field missing.
const completeReport = "Site location: Oak Primary, main office\n" +
	"Service component(s) affected: Attendance\n" +
	"Level 1 action taken: restarted the service\n" +
	"Exact error message: \"Register could not be saved (E2031)\"\n" +
	"Can you replicate the error? Yes, every time\n"

// eventsOf lists "RFA-n <text> @ <London time>" for every event of kind
// in the store.
func eventsOf(t *testing.T, rd *runningDesk, kind bot.EventKind) []string {
	t.Helper()
	var out []string
	for _, r := range allRFAs(t, rd.desk) {
		for _, e := range r.Events {
			if e.Kind == kind {
				out = append(out, r.Ref()+" "+e.Text+" @ "+e.At.In(london).Format("Mon 15:04"))
			}
		}
	}
	return out
}

// purposeMails lists the outbox's mails of purpose as "RFA-n to <address>".
func purposeMails(t *testing.T, rd *runningDesk, purpose string) ([]string, []*bot.OutgoingMail) {
	t.Helper()
	items, err := rd.desk.Outbox(context.Background())
	must(t, err)
	var out []string
	var mails []*bot.OutgoingMail
	for _, it := range items {
		if it.Mail != nil && it.Mail.Purpose == purpose {
			out = append(out, bot.FormatRef(it.RFA)+" to "+it.Mail.To[0].Email)
			mails = append(mails, it.Mail)
		}
	}
	return out, mails
}

// TestFieldsReminderGoesOnce: a report still missing fields one working
// day after the requester last wrote gets one reminder, never a second,
// also when the desk was down at its time; a complete report gets none.
func TestFieldsReminderGoesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, path)
		rd.mail("f1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Registers will not save", "Since this morning.", 1)
		rd.mail("f2@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Registers will not save either", completeReport, 2)
		sleepUntil(t, "2026-11-23 10:00")
		rd.mail("f3@elmpark.sch.uk", "h@elmpark.sch.uk", "Printing is slow", "It is slow.", 3)
		sleepUntil(t, "2026-11-23 15:00")
		rd.mail("f3b@elmpark.sch.uk", "h@elmpark.sch.uk", "Re: [RFA-3] Printing is slow", "Any news?", 4)

		// Down across RFA-1's reminder (Tue 09:00): it goes at the restart.
		sleepUntil(t, "2026-11-24 08:00")
		rd.stop()
		sleepUntil(t, "2026-11-24 10:00")
		rd = startDesk(t, path)
		defer rd.stop()

		// RFA-1's requester writes again after the reminder, still
		// without the fields: no second reminder.
		sleepUntil(t, "2026-11-25 09:00")
		rd.mail("f1b@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Registers will not save", "Hello?", 5)
		sleepUntil(t, "2026-11-27 17:00")

		sameList(t, "reminders", eventsOf(t, rd, bot.EventFieldsReminder), []string{
			"RFA-1 site, components, action_taken, error_message, can_replicate @ Tue 10:00",
			"RFA-3 site, components, action_taken, error_message, can_replicate @ Tue 15:00",
		})
		got, mails := purposeMails(t, rd, "fields reminder")
		sameList(t, "reminder mails", got, []string{"RFA-1 to s@oakprimary.sch.uk", "RFA-3 to h@elmpark.sch.uk"})
		for _, m := range mails {
			if !m.Auto || !strings.Contains(m.Text, "- Site location\n") || !strings.Contains(m.Text, "only reminder") || m.InReplyTo == "" {
				t.Errorf("reminder mail = %+v", m)
			}
		}
	})
}

// TestStaleFieldsReminderIsNotSent: a reminder found more than a working
// day late (a long outage, or RFAs older than an upgrade) is recorded as
// not sent, and never sent later.
func TestStaleFieldsReminderIsNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, path)
		rd.mail("s1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Registers will not save", "Since this morning.", 1)
		sleepUntil(t, "2026-11-23 10:00")
		rd.stop()
		sleepUntil(t, "2026-11-25 12:00") // due Tue 09:00; 12 working hours late
		rd = startDesk(t, path)
		defer rd.stop()
		sleepUntil(t, "2026-11-27 17:00")
		sameList(t, "reminders", eventsOf(t, rd, bot.EventFieldsReminder), []string{
			"RFA-1 not sent: it was due Tue 24 Nov 2026 09:00 GMT, too long ago; missing site, components, action_taken, error_message, can_replicate @ Wed 12:00",
		})
		if got, _ := purposeMails(t, rd, "fields reminder"); len(got) != 0 {
			t.Errorf("stale reminder mailed: %v", got)
		}
	})
}

// TestTriageClockAndSeverityNotice: an RFA nobody triages passes the
// triage clock's points (note, mention, breach: no manager before the
// breach); a plain reply meets first_update; setting and changing the
// severity mail the requester the severity and its workaround target; a
// Critical RFA's first_update does reach the manager at 90%.
func TestTriageClockAndSeverityNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, filepath.Join(t.TempDir(), "desk.db"))
		defer rd.stop()
		rd.mail("t1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Odd report layout", completeReport, 1)
		rd.mail("t2@elmpark.sch.uk", "h@elmpark.sch.uk", "Timetable export fails", completeReport, 2)
		sleepUntil(t, "2026-11-23 09:10")
		must(t, rd.desk.Reply(ctx, 1, bot.StaffMessage{By: priya, Text: "We are looking at it."}))
		must(t, rd.desk.Reply(ctx, 2, bot.StaffMessage{By: priya, Text: "We are looking at it."}))
		sleepUntil(t, "2026-11-23 09:30")
		must(t, rd.desk.SetSeverity(ctx, 2, bot.SeveritySerious, priya))
		sleepUntil(t, "2026-11-23 10:00")
		must(t, rd.desk.SetSeverity(ctx, 2, bot.SeverityCritical, priya))
		must(t, rd.desk.Workaround(ctx, 2, bot.StaffMessage{By: priya, Text: "Export to CSV meanwhile."}))

		// RFA-3, Critical from the start, with no staff message at all.
		sleepUntil(t, "2026-11-23 12:00")
		rd.mail("t3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Nobody can log in", completeReport, 3)
		must(t, rd.desk.SetSeverity(ctx, 3, bot.SeverityCritical, priya))
		must(t, rd.desk.Workaround(ctx, 3, bot.StaffMessage{By: priya, Text: "Use the backup server."}))
		sleepUntil(t, "2026-11-23 16:00")

		sameList(t, "jeopardy events", firedPoints(t, rd), []string{
			"RFA-1 triage 50% @ Mon 10:00",
			"RFA-1 triage 75% @ Mon 10:30",
			"RFA-1 triage 100% @ Mon 11:00",
		})
		sameList(t, "breaches", eventsOf(t, rd, bot.EventBreach), []string{"RFA-1 triage @ Mon 11:00"})
		got, mails := purposeMails(t, rd, "SLA escalation to manager")
		sameList(t, "manager mails", got, []string{"RFA-1 to boss@example.org"})
		if len(mails) == 1 && !strings.Contains(mails[0].Subject, "SLA breached") {
			t.Errorf("manager mail subject %q, want the breach", mails[0].Subject)
		}
		c := clockOf(t, rd, 1, bot.ClockFirstUpdate)
		if c.MetAt == nil || !c.MetAt.Equal(at(t, "2026-11-23 09:10")) {
			t.Errorf("RFA-1 first_update = %+v, want met by the reply at 09:10", c)
		}

		got, mails = purposeMails(t, rd, "severity notice")
		sameList(t, "severity notices", got, []string{
			"RFA-2 to h@elmpark.sch.uk", "RFA-2 to h@elmpark.sch.uk", "RFA-3 to s@oakprimary.sch.uk",
		})
		if len(mails) == 3 {
			for i, want := range []string{
				"We have assessed RFA-2: its severity is now Serious.\n\nFor a Serious problem our target is to give you a workaround within 2 working days of when you reported it, that is by Wed 25 Nov 2026 09:00 GMT.",
				"We have changed the severity of RFA-2: its severity is now Critical.\n\nFor a Critical problem our target is to give you a workaround within 4 working hours of when you reported it, that is by Mon 23 Nov 2026 13:00 GMT.",
			} {
				if !strings.HasPrefix(mails[i].Text, want) || !mails[i].Auto {
					t.Errorf("notice %d:\n%s\nwant it to start:\n%s", i, mails[i].Text, want)
				}
			}
		}
	})
}

// TestCriticalFirstUpdateReachesTheManager: the first-contact points
// spare the manager only on RFAs that are not Critical.
func TestCriticalFirstUpdateReachesTheManager(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, filepath.Join(t.TempDir(), "desk.db"))
		defer rd.stop()
		rd.mail("c1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Nobody can log in", completeReport, 1)
		rd.mail("c2@oakprimary.sch.uk", "a@oakprimary.sch.uk", "A report looks odd", completeReport, 2)
		must(t, rd.desk.SetSeverity(ctx, 1, bot.SeverityCritical, priya))
		must(t, rd.desk.SetSeverity(ctx, 2, bot.SeverityMinor, priya))
		sleepUntil(t, "2026-11-23 09:59")
		sameList(t, "jeopardy events", firedPoints(t, rd), []string{
			"RFA-1 first_update 50% @ Mon 09:30",
			"RFA-1 first_update 75% @ Mon 09:45",
			"RFA-1 first_update 90% @ Mon 09:54",
			"RFA-2 first_update 50% @ Mon 09:30",
			"RFA-2 first_update 75% @ Mon 09:45",
		})
	})
}

func clockOf(t *testing.T, rd *runningDesk, num uint64, name bot.ClockName) bot.ClockState {
	t.Helper()
	for _, c := range rd.desk.SLA().Clocks(mustRFA(t, rd, num), time.Now()) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("RFA-%d has no %s clock", num, name)
	return bot.ClockState{}
}

// TestEmailOnlyNoteAndMention: without chat, a note goes by email to an
// assignee whose address is known, otherwise to the on-duty address, and
// a mention always to the on-duty address.
func TestEmailOnlyNoteAndMention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDeskWith(t, filepath.Join(t.TempDir(), "desk.db"), func(c *bot.DeskConfig) {
			c.Chat = false
			c.SLA.OnDutyAddress = []bot.Address{{Email: "duty@example.org"}}
		})
		defer rd.stop()
		rd.mail("e1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Registers will not save", completeReport, 1)
		rd.mail("e2@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Reports print oddly", completeReport, 2)
		for num := uint64(1); num <= 2; num++ {
			must(t, rd.desk.SetSeverity(ctx, num, bot.SeveritySerious, priya))
		}
		must(t, rd.desk.Assign(ctx, 1, bot.Actor{Name: "Tom Reid", ID: "tom@example.org"}, priya))
		sleepUntil(t, "2026-11-23 09:59")

		got, mails := purposeMails(t, rd, "SLA note to staff")
		sameList(t, "note and mention mails", got, []string{
			"RFA-1 to tom@example.org",  // first_update 50%: note
			"RFA-1 to duty@example.org", // first_update 75%: mention
			"RFA-2 to duty@example.org", // 50%: note, nobody assigned
			"RFA-2 to duty@example.org", // 75%: mention
		})
		for _, m := range mails {
			if !m.Auto || !strings.Contains(m.Text, "the first update clock has used") {
				t.Errorf("note mail = %+v", m)
			}
		}
		items, err := rd.desk.Outbox(ctx)
		must(t, err)
		for _, it := range items {
			if it.Chat != nil {
				t.Errorf("chat item on an email-only desk: %+v", it.Chat)
			}
		}
	})
}

// TestEscalationMakesTheManagerOwner: a customer escalation records the
// manager as owner, tells the requester, refreshes the card and starts
// the escalation clock, met by a public staff message after it; a
// second escalation starts a new cycle whose points fire afresh.
func TestEscalationMakesTheManagerOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, filepath.Join(t.TempDir(), "desk.db"))
		defer rd.stop()
		rd.mail("x1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Registers will not save", completeReport, 1)
		must(t, rd.desk.SetSeverity(ctx, 1, bot.SeverityMinor, priya))
		must(t, rd.desk.Reply(ctx, 1, bot.StaffMessage{By: priya, Text: "Looking."}))
		if r := mustRFA(t, rd, 1); r.Owner() != "" {
			t.Fatalf("owner %q before any escalation", r.Owner())
		}

		sleepUntil(t, "2026-11-23 13:00")
		before, err := rd.desk.Outbox(ctx)
		must(t, err)
		must(t, rd.desk.Escalate(ctx, 1, bot.Actor{ID: "s@oakprimary.sch.uk"}, "from the status page", "Nothing happens"))
		r := mustRFA(t, rd, 1)
		if r.Owner() != "Mo Manager" || !hasEvent(r, bot.EventOwner) {
			t.Errorf("owner after escalation = %q", r.Owner())
		}
		items, err := rd.desk.Outbox(ctx)
		must(t, err)
		var card, told bool
		for _, it := range items[len(before):] {
			card = card || it.Chat != nil && it.Chat.Op == bot.ChatCard
			told = told || it.Mail != nil && it.Mail.Purpose == "escalation confirmation" && strings.Contains(it.Mail.Text, "owned by Mo Manager")
		}
		if !card || !told {
			t.Errorf("card refreshed %v, requester told the owner %v", card, told)
		}
		c := clockOf(t, rd, 1, bot.ClockEscalation)
		if c.Target.String() != "1 working hour" || !c.Due.Equal(at(t, "2026-11-23 14:00")) || c.Cycle != 0 {
			t.Errorf("escalation clock = %+v", c)
		}

		sleepUntil(t, "2026-11-23 13:58")
		must(t, rd.desk.PostUpdate(ctx, 1, bot.StaffMessage{By: priya, Text: "The manager has it."}))
		// A second escalation (over an hour later), never acted on.
		sleepUntil(t, "2026-11-23 15:30")
		must(t, rd.desk.Escalate(ctx, 1, bot.Actor{ID: "s@oakprimary.sch.uk"}, "from the status page", ""))
		sleepUntil(t, "2026-11-23 17:00")

		sameList(t, "jeopardy events", firedPoints(t, rd), []string{
			"RFA-1 escalation 50% @ Mon 13:30",
			"RFA-1 escalation 75% @ Mon 13:45",
			"RFA-1 escalation 90% @ Mon 13:54",
			"RFA-1 escalation 50% @ Mon 16:00",
			"RFA-1 escalation 75% @ Mon 16:15",
			"RFA-1 escalation 90% @ Mon 16:24",
			"RFA-1 escalation 100% @ Mon 16:30",
		})
		c = clockOf(t, rd, 1, bot.ClockEscalation)
		if c.Cycle != 1 || c.BreachedAt == nil || !c.BreachedAt.Equal(at(t, "2026-11-23 16:30")) {
			t.Errorf("second escalation clock = %+v", c)
		}
	})
}
