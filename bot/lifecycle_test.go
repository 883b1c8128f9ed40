package bot_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// withChristmas gives the desk's organisations the default school
// Christmas holidays, 19 December 2026 to 4 January 2027.
func withChristmas(cfg *bot.DeskConfig) {
	cfg.SLA.Holidays = map[string][]bot.DateRange{"": {{
		From: workcal.Date{Year: 2026, Month: 12, Day: 19}, To: workcal.Date{Year: 2027, Month: 1, Day: 4}, Name: "Christmas",
	}}}
}

// actorsOf lists "<actor>: <text> @ <London time>" for r's events of kind.
func actorsOf(r *bot.RFA, kind bot.EventKind) []string {
	var out []string
	for _, e := range r.Events {
		if e.Kind == kind {
			out = append(out, e.Actor+": "+e.Text+" @ "+e.At.In(london).Format("Mon 2 Jan 15:04"))
		}
	}
	return out
}

// chatTexts lists the texts of RFA num's chat thread posts that start
// with prefix.
func chatTexts(t *testing.T, rd *runningDesk, num uint64, prefix string) []string {
	t.Helper()
	items, err := rd.desk.Outbox(context.Background())
	must(t, err)
	var out []string
	for _, it := range items {
		if it.RFA == num && it.Chat != nil && it.Chat.Op == bot.ChatThread && strings.HasPrefix(it.Chat.Text, prefix) {
			out = append(out, it.Chat.Text)
		}
	}
	return out
}

// TestClearedOnLastDayOfTermClosesInJanuary: an RFA cleared on the last
// day of the autumn term gets its reminder half-way through the window
// and closes itself when the window ends, in January, each once, across
// a restart; the clearance mail carries both links and the closing date.
func TestClearedOnLastDayOfTermClosesInJanuary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		ctx := context.Background()
		sleepUntil(t, "2026-12-14 09:00")
		rd := startDeskWith(t, path, withChristmas)
		rd.mail("c1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Registers will not save", completeReport, 1)
		must(t, rd.desk.SetSeverity(ctx, 1, bot.SeverityModerate, priya))
		sleepUntil(t, "2026-12-18 14:00")
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "We repaired the register database."}))
		pointsAtClearance := firedPoints(t, rd)

		r := mustRFA(t, rd, 1)
		if by, ok := rd.desk.SLA().ConfirmBy(r); !ok || !by.Equal(at(t, "2027-01-11 14:00")) {
			t.Fatalf("confirm_by = %v, want Mon 11 Jan 14:00", by)
		}
		_, mails := purposeMails(t, rd, "clearance")
		if len(mails) != 1 {
			t.Fatalf("clearance mails = %d", len(mails))
		}
		for _, want := range []string{
			"We repaired the register database.",
			"It's fixed:   https://support.example.org/rfa/RFA-1?t=" + r.Token + "&action=fixed#fixed",
			"Still broken: https://support.example.org/rfa/RFA-1?t=" + r.Token + "&action=broken#broken",
			"or reply to this email",
			"we will close RFA-1 on Mon 11 Jan 2027 14:00 GMT",
		} {
			if !strings.Contains(mails[0].Text, want) {
				t.Errorf("clearance mail lacks %q:\n%s", want, mails[0].Text)
			}
		}
		withTexts, err := rd.desk.RFAWithTexts(ctx, 1)
		must(t, err)
		if last := withTexts.Messages[len(withTexts.Messages)-1]; last.Text != "We repaired the register database." {
			t.Errorf("recorded clearance = %q, want the resolution alone", last.Text)
		}
		sameList(t, "clearance", actorsOf(r, bot.EventCleared), []string{"Priya Shah (discord:1001): We repaired the register database. @ Fri 18 Dec 14:00"})

		// Half-way (22.5 working hours, school days only): Thu 7 Jan 09:30.
		sleepUntil(t, "2027-01-07 09:29")
		if got := actorsOf(mustRFA(t, rd, 1), bot.EventConfirmReminder); len(got) != 0 {
			t.Fatalf("reminder early: %v", got)
		}
		sleepUntil(t, "2027-01-07 12:00")
		rd.stop()
		sleepUntil(t, "2027-01-08 10:00")
		rd = startDeskWith(t, path, withChristmas)
		defer rd.stop()
		sleepUntil(t, "2027-01-11 13:59")
		if s := mustRFA(t, rd, 1).Status; s != bot.StatusCleared {
			t.Fatalf("status before the window's end = %s", s)
		}
		sleepUntil(t, "2027-01-11 15:00")

		r = mustRFA(t, rd, 1)
		sameList(t, "reminders", actorsOf(r, bot.EventConfirmReminder), []string{
			"confirmation window: reminded the requester to confirm; the window ends Mon 11 Jan 2027 14:00 GMT @ Thu 7 Jan 09:30"})
		sameList(t, "closures", actorsOf(r, bot.EventClosed), []string{
			"confirmation window: no answer by the end of the confirmation window (Mon 11 Jan 2027 14:00 GMT) @ Mon 11 Jan 14:00"})
		if r.Status != bot.StatusClosed || !r.NextEscalation.IsZero() {
			t.Errorf("status %s, next %v: want closed with nothing scheduled", r.Status, r.NextEscalation)
		}
		if closed, ok := r.ClosedAt(); !ok || !closed.Equal(at(t, "2027-01-11 14:00")) {
			t.Errorf("closed at = %v", closed)
		}
		if cleared, ok := r.ClearedAt(); !ok || !cleared.Equal(at(t, "2026-12-18 14:00")) {
			t.Errorf("cleared at = %v", cleared)
		}
		got, rem := purposeMails(t, rd, "confirmation reminder")
		sameList(t, "reminder mails", got, []string{"RFA-1 to s@oakprimary.sch.uk"})
		if !strings.Contains(rem[0].Text, "#broken") || !rem[0].Auto {
			t.Errorf("reminder mail = %+v", rem[0])
		}
		got, closing := purposeMails(t, rd, "closure notice")
		sameList(t, "closure mails", got, []string{"RFA-1 to s@oakprimary.sch.uk"})
		// 20 school working days from Mon 11 Jan 14:00.
		if !strings.Contains(closing[0].Text, "reply to this email by Mon 8 Feb 2027 14:00 GMT") {
			t.Errorf("closure mail = %s", closing[0].Text)
		}
		if n := len(chatTexts(t, rd, 1, "Closed: no answer")); n != 1 {
			t.Errorf("staff told of the closure %d times", n)
		}
		sameList(t, "points fired while cleared", firedPoints(t, rd), pointsAtClearance)
	})
}

// TestRequesterReopensByReply: "still not working" to a clearance
// reopens the RFA: a new workaround cycle whose points fire again, staff
// told in the thread, the requester mailed; a confirmation closes it.
func TestRequesterReopensByReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, path)
		defer rd.stop()
		rd.mail("o1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "MIS down", completeReport, 1)
		must(t, rd.desk.SetSeverity(ctx, 1, bot.SeverityCritical, priya))
		sleepUntil(t, "2026-11-23 11:15")
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "Restarted the server."}))
		sleepUntil(t, "2026-11-23 12:00")
		rd.mail("o2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Cleared: Re: MIS down", "No, it's still not working.\n\nSam", 2)

		r := mustRFA(t, rd, 1)
		if r.Status != bot.StatusOpen {
			t.Fatalf("status = %s, want open", r.Status)
		}
		sameList(t, "reopens", actorsOf(r, bot.EventReopened), []string{
			"s@oakprimary.sch.uk: the requester says it is not fixed (by email) @ Mon 23 Nov 12:00"})
		if _, ok := r.ClearedAt(); ok {
			t.Error("a reopened RFA still has cleared_at")
		}
		got, _ := purposeMails(t, rd, "reopen notice")
		sameList(t, "reopen mails", got, []string{"RFA-1 to s@oakprimary.sch.uk"})
		if th := chatTexts(t, rd, 1, "Reopened:"); len(th) != 1 || !strings.Contains(th[0], "> No, it's still not working.") {
			t.Errorf("staff told = %q", th)
		}
		wa := clockOf(t, rd, 1, bot.ClockWorkaround)
		if wa.Cycle != 1 || !wa.Start.Equal(at(t, "2026-11-23 12:00")) || wa.MetAt != nil {
			t.Errorf("workaround clock = %+v, want cycle 1 from 12:00, running", wa)
		}

		sleepUntil(t, "2026-11-23 14:30")
		var wpts []string
		for _, p := range firedPoints(t, rd) {
			if strings.Contains(p, "workaround") {
				wpts = append(wpts, p)
			}
		}
		sameList(t, "workaround points", wpts, []string{
			"RFA-1 workaround 50% @ Mon 11:00", // first cycle
			"RFA-1 workaround 50% @ Mon 14:00", // re-armed by the reopen
		})

		// Cleared again; "confirmed, thanks" closes it, recorded as the requester's.
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "Replaced the disk."}))
		sleepUntil(t, "2026-11-23 15:00")
		rd.mail("o3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Cleared", "Confirmed, thanks!", 3)
		r = mustRFA(t, rd, 1)
		sameList(t, "closures", actorsOf(r, bot.EventClosed), []string{
			"s@oakprimary.sch.uk: the requester confirmed it is fixed by email @ Mon 23 Nov 15:00"})
		if r.Status != bot.StatusClosed {
			t.Errorf("status = %s", r.Status)
		}
		// A thank-you to the closed RFA changes nothing.
		rd.mail("o4@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Cleared", "Thank you so much!", 4)
		if r := mustRFA(t, rd, 1); r.Status != bot.StatusClosed || len(actorsOf(r, bot.EventReopened)) != 1 {
			t.Errorf("a thank-you reopened it: %s", r.Status)
		}
	})
}

// TestReopenGraceAndFollowUp: within the reopen grace a reply reopens a
// closed RFA; after it, the reply starts a new RFA linking back. The
// status page's buttons confirm and reopen, and refuse what does not
// apply.
func TestReopenGraceAndFollowUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		ctx := context.Background()
		sam := bot.Actor{Name: "Sam", ID: "s@oakprimary.sch.uk"}
		sleepUntil(t, "2026-11-02 09:00")
		rd := startDesk(t, path)
		defer rd.stop()
		rd.mail("g1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Printer offline", completeReport, 1)
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "Reinstalled the driver."}))
		if err := rd.desk.ReportStillBroken(ctx, 1, sam, ""); err != nil {
			t.Fatal(err)
		}
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "Replaced the cable."}))
		sleepUntil(t, "2026-11-02 10:00")
		must(t, rd.desk.ConfirmFixed(ctx, 1, sam))
		must(t, rd.desk.ConfirmFixed(ctx, 1, sam)) // a second press changes nothing
		r := mustRFA(t, rd, 1)
		sameList(t, "closures", actorsOf(r, bot.EventClosed), []string{
			"Sam (s@oakprimary.sch.uk): the requester confirmed it is fixed on the status page @ Mon 2 Nov 10:00"})
		sameList(t, "reopens", actorsOf(r, bot.EventReopened), []string{
			"Sam (s@oakprimary.sch.uk): the requester says it is not fixed (status page) @ Mon 2 Nov 09:00"})

		// 20 working days later, to the minute, it still reopens.
		until, ok := rd.desk.SLA().ReopenBy(r)
		if !ok || !until.Equal(at(t, "2026-11-30 10:00")) {
			t.Fatalf("reopen by = %v", until)
		}
		sleepUntil(t, "2026-11-30 10:00")
		rd.mail("g2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Printer offline", "The printer has gone offline again.", 2)
		if r := mustRFA(t, rd, 1); r.Status != bot.StatusOpen {
			t.Fatalf("reply within the grace: status %s", r.Status)
		}
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "New printer."}))
		must(t, rd.desk.ConfirmFixed(ctx, 1, sam))

		// Past the grace: a new RFA that links back; RFA-1 stays closed.
		sleepUntil(t, "2027-01-04 09:00")
		if err := rd.desk.ReportStillBroken(ctx, 1, sam, "broken"); !errors.Is(err, bot.ErrNotAllowed) {
			t.Errorf("still broken after the grace: %v", err)
		}
		rd.mail("g3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Printer offline", "It is offline again.", 3)
		old, follow := mustRFA(t, rd, 1), mustRFA(t, rd, 2)
		if old.Status != bot.StatusClosed || follow.Status != bot.StatusNew || follow.Requester.Email != "s@oakprimary.sch.uk" {
			t.Errorf("old %s, new %s %v", old.Status, follow.Status, follow.Requester)
		}
		sameList(t, "old link", actorsOf(old, bot.EventFollowUp), []string{
			"s@oakprimary.sch.uk: the requester wrote again after the reopen grace: continued as RFA-2 @ Mon 4 Jan 09:00"})
		sameList(t, "new link", actorsOf(follow, bot.EventFollowUp), []string{
			"rfadesk: follows RFA-1, closed 2026-11-30: the requester wrote again after its reopen grace @ Mon 4 Jan 09:00"})
		if len(follow.Messages) == 0 || follow.Messages[0].MessageID != "g3@oakprimary.sch.uk" ||
			slices.ContainsFunc(old.Messages, func(m bot.Message) bool { return m.MessageID == "g3@oakprimary.sch.uk" }) {
			t.Errorf("new RFA's messages = %+v", follow.Messages)
		}
		if err := rd.desk.ReportStillBroken(ctx, 2, sam, ""); !errors.Is(err, bot.ErrNotAllowed) {
			t.Errorf("still broken on an open RFA: %v", err)
		}
		if err := rd.desk.ConfirmFixed(ctx, 2, sam); !errors.Is(err, bot.ErrNotAllowed) {
			t.Errorf("fixed on an open RFA: %v", err)
		}
	})
}

// TestClosureFoundLateMailsNobody: a desk down for more than a whole
// confirmation window past an RFA's confirm_by (or upgraded to one that
// closes RFAs by itself) closes it without mailing the requester.
func TestClosureFoundLateMailsNobody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		ctx := context.Background()
		sleepUntil(t, "2026-11-02 09:00")
		rd := startDesk(t, path)
		rd.mail("l1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Printer offline", completeReport, 1)
		rd.mail("l2@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Scanner offline", completeReport, 2)
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "Reinstalled the driver."}))
		must(t, rd.desk.Clear(ctx, 2, bot.StaffMessage{By: priya, Text: "Reinstalled the driver."}))
		rd.stop()
		// RFA-1 and RFA-2's windows end Mon 9 Nov 09:00; a desk back Mon
		// 16 Nov 10:00 is more than a window late for both.
		sleepUntil(t, "2026-11-16 10:00")
		rd = startDesk(t, path)
		defer rd.stop()
		for _, num := range []uint64{1, 2} {
			sameList(t, "closures", actorsOf(mustRFA(t, rd, num), bot.EventClosed), []string{
				"confirmation window: no answer by the end of the confirmation window (Mon 9 Nov 2026 09:00 GMT); found too late to tell the requester @ Mon 16 Nov 10:00"})
		}
		if got, _ := purposeMails(t, rd, "closure notice"); len(got) != 0 {
			t.Errorf("closure mails found late: %v", got)
		}
		if got, _ := purposeMails(t, rd, "confirmation reminder"); len(got) != 0 {
			t.Errorf("reminders after the window: %v", got)
		}
	})
}
