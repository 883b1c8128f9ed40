package bot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// outageFixture is a desk with chat on, Oak Primary with two contacts
// (one written twice) and Elm Park without any.
func outageFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(c *bot.DeskConfig) {
		orgs := slices.Clone(testOrgs)
		orgs[0].Contacts = []bot.Address{{Email: "head@oakprimary.sch.uk"}, {Email: "office@oakprimary.sch.uk"}, {Email: "Head@oakprimary.sch.uk"}}
		c.Organisations = orgs
		c.Chat = true
		pol := bot.DefaultSLAPolicy(workcal.Default())
		pol.OnDutyRole = "5550001"
		pol.OnDutyAddress = []bot.Address{{Email: "duty@example.org"}}
		c.SLA = pol
	})
}

// noticeMails returns, by recipient, the mails of outage id's messages
// in items.
func noticeMails(items []bot.OutboxItem, subjectPrefix string) map[string]int {
	out := map[string]int{}
	for _, it := range items {
		if it.Mail != nil && strings.HasPrefix(it.Mail.Purpose, "service notice") && strings.HasPrefix(it.Mail.Subject, subjectPrefix) {
			if len(it.Mail.To) != 1 {
				panic("a service notice mail has more than one recipient")
			}
			out[it.Mail.To[0].Email]++
		}
	}
	return out
}

func opsPosts(items []bot.OutboxItem, contains string) int {
	n := 0
	for _, it := range items {
		if it.Chat != nil && it.Chat.Op == bot.ChatOps && strings.Contains(it.Chat.Text, contains) {
			n++
		}
	}
	return n
}

func reportMail(id, from, subject, component string) *bot.Mail {
	return mail(id, from, subject, "Site location: Main office\nService component(s) affected: "+component+"\n")
}

// TestOutageAnnouncedLinkedAndEnded: the announcement reaches each
// contact, or for Elm Park each recent requester, once; a new RFA about
// an affected component is linked and its acknowledgement says so; ending
// the outage clears it and sends the all-clear to everyone told, once.
func TestOutageAnnouncedLinkedAndEnded(t *testing.T) {
	f := outageFixture(t)
	ctx := context.Background()
	old := mail("old@elmpark.sch.uk", "old@elmpark.sch.uk", "Long ago", "x")
	old.Received = f.now.Add(-100 * 24 * time.Hour)
	f.ingest(old,
		mail("e1@elmpark.sch.uk", "amy@elmpark.sch.uk", "Printer", "x"),
		mail("e2@elmpark.sch.uk", "amy@elmpark.sch.uk", "Printer again", "x"),
		mail("e3@elmpark.sch.uk", "Bo|bo@elmpark.sch.uk", "Wifi", "x"))

	if _, err := f.desk.StartOutage(ctx, bot.OutageStart{Title: "Login", Components: nil}, priya); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("an outage without components: %v, want ErrInvalid", err)
	}
	if _, err := f.desk.StartOutage(ctx, bot.OutageStart{Title: "Login", Components: []string{"Login"}, Organisations: []string{"Nowhere"}}, priya); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("an unknown organisation: %v, want ErrInvalid", err)
	}
	id, err := f.desk.StartOutage(ctx, bot.OutageStart{Title: "Nobody can log in", Components: []string{"Login", "login"}}, priya)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"head@oakprimary.sch.uk": 1, "office@oakprimary.sch.uk": 1, "amy@elmpark.sch.uk": 1, "bo@elmpark.sch.uk": 1}
	if got := noticeMails(f.outbox(), "Service notice:"); !maps(got, want) {
		t.Errorf("announcement recipients %v, want %v", got, want)
	}
	if n := opsPosts(f.outbox(), "Nobody can log in"); n != 1 {
		t.Errorf("%d ops posts of the outage, want 1", n)
	}
	live, err := f.desk.ActiveOutages(ctx)
	if err != nil || len(live) != 1 || live[0].ID != id || !slices.Equal(live[0].Components, []string{"Login"}) {
		t.Fatalf("active outages %+v, %v", live, err)
	}

	out := f.ingest(reportMail("n1@oakprimary.sch.uk", "cat@oakprimary.sch.uk", "Cannot log in", "Login"),
		reportMail("n2@oakprimary.sch.uk", "dan@oakprimary.sch.uk", "Registers", "Attendance"))
	linked, other := f.rfa(out[0].RFA), f.rfa(out[1].RFA)
	if !hasEvent(linked, bot.EventOutageLinked) || hasEvent(other, bot.EventOutageLinked) {
		t.Errorf("linked: %v (want it), other: %v (want not)", hasEvent(linked, bot.EventOutageLinked), hasEvent(other, bot.EventOutageLinked))
	}
	ack := false
	for _, it := range f.outbox() {
		if it.Mail != nil && it.Mail.Purpose == "acknowledgement" && it.Mail.To[0].Email == "cat@oakprimary.sch.uk" {
			ack = strings.Contains(it.Mail.Text, "known problem") && strings.Contains(it.Mail.Text, "Nobody can log in") &&
				strings.Contains(it.Mail.HTML, "known problem")
		}
	}
	if !ack {
		t.Error("the linked RFA's acknowledgement does not mention the known problem")
	}

	if err := f.desk.UpdateOutage(ctx, id, "Supplier is restoring the service", priya); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.EndOutage(ctx, id, "The login service is back.", priya); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.EndOutage(ctx, id, "again", priya); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("ending twice: %v, want ErrNotAllowed", err)
	}
	items := f.outbox()
	for _, prefix := range []string{"Service notice update:", "Resolved:"} {
		if got := noticeMails(items, prefix); !maps(got, want) {
			t.Errorf("%s recipients %v, want %v", prefix, got, want)
		}
	}
	if r := f.rfa(linked.Num); r.Status != bot.StatusCleared {
		t.Errorf("linked RFA is %s after the outage ended, want cleared", r.Status)
	}
	if r := f.rfa(other.Num); r.Status == bot.StatusCleared {
		t.Error("an RFA not linked was cleared")
	}
	if live, _ := f.desk.ActiveOutages(ctx); len(live) != 0 {
		t.Errorf("%d active outages after the end", len(live))
	}
}

// TestOutageForOneOrganisation tells only that organisation.
func TestOutageForOneOrganisation(t *testing.T) {
	f := outageFixture(t)
	f.ingest(mail("e1@elmpark.sch.uk", "amy@elmpark.sch.uk", "Printer", "x"))
	if _, err := f.desk.StartOutage(context.Background(), bot.OutageStart{Title: "Oak's wifi", Components: []string{"Wifi"},
		Organisations: []string{"oak primary school"}}, priya); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"head@oakprimary.sch.uk": 1, "office@oakprimary.sch.uk": 1}
	if got := noticeMails(f.outbox(), "Service notice:"); !maps(got, want) {
		t.Errorf("recipients %v, want %v", got, want)
	}
	// Elm's RFA about wifi is not linked: Elm is not affected.
	out := f.ingest(reportMail("n1@elmpark.sch.uk", "bo@elmpark.sch.uk", "No wifi", "Wifi"))
	if hasEvent(f.rfa(out[0].RFA), bot.EventOutageLinked) {
		t.Error("an unaffected organisation's RFA was linked")
	}
}

// TestInboundOutageNoticePagesAtNight: an outage notice from a school at
// 02:00 on a Sunday opens a Critical RFA and pages the on-duty role and
// address at once; the same subject from outside the organisations
// does not.
func TestInboundOutageNoticePagesAtNight(t *testing.T) {
	f := outageFixture(t)
	f.now = time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC) // a Sunday
	m := mail("o1@oakprimary.sch.uk", "head@oakprimary.sch.uk", "URGENT: OUTAGE - MIS down across the school", "Nothing loads.")
	m.Received = f.now
	stranger := mail("o2@example.com", "x@example.com", "Outage", "Nothing loads.")
	stranger.Received = f.now
	plain := mail("o3@oakprimary.sch.uk", "amy@oakprimary.sch.uk", "Re: an outage", "x")
	out := f.ingest(m, stranger, plain)
	r := f.rfa(out[0].RFA)
	if r.Severity != bot.SeverityCritical {
		t.Errorf("severity %q, want critical", r.Severity)
	}
	if f.rfa(out[1].RFA).Severity == bot.SeverityCritical || f.rfa(out[2].RFA).Severity == bot.SeverityCritical {
		t.Error("a mail that is not an organisation's outage notice became critical")
	}
	pages, mails := 0, 0
	for _, it := range f.outbox() {
		if it.Chat != nil && it.Chat.Op == bot.ChatOps && it.Chat.Mention == "5550001" && strings.Contains(it.Chat.Text, r.Ref()) {
			pages++
			if it.NextAttempt.After(f.now) {
				t.Errorf("the page waits until %v", it.NextAttempt)
			}
		}
		if it.Mail != nil && it.Mail.To[0].Email == "duty@example.org" && strings.Contains(it.Mail.Subject, r.Ref()) {
			mails++
			if it.NextAttempt.After(f.now) {
				t.Errorf("the page mail waits until %v", it.NextAttempt)
			}
		}
	}
	if pages != 1 || mails != 1 {
		t.Errorf("%d ops pages and %d on-duty mails, want 1 each", pages, mails)
	}
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
