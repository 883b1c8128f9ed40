package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// staffDesk is a desk whose staff are tom@example.org and all of
// example.net, with chat on or off.
func staffDesk(t *testing.T, chat bool) *fixture {
	t.Helper()
	return newFixtureWith(t, func(c *bot.DeskConfig) {
		c.Chat = chat
		c.Staff = bot.StaffMatcher{Addresses: []string{"tom@example.org"}, Domains: []string{"example.net"}}
		c.Managers = []bot.Address{{Name: "Ops Manager", Email: "ops@example.net"}}
	})
}

// openRFA has Sarah open RFA-1 and returns its acknowledgement.
func openRFA(t *testing.T, f *fixture) *bot.OutgoingMail {
	t.Helper()
	if out := f.ingest(mail("req1@oakprimary.sch.uk", "Sarah Okafor|s.okafor@oakprimary.sch.uk", "Cannot log in", "It is broken.")); out[0].RFA != 1 {
		t.Fatalf("outcome = %+v", out)
	}
	return mailsTo(f, "s.okafor@oakprimary.sch.uk")[0]
}

// mailsTo returns the outbox's mails to addr, oldest first.
func mailsTo(f *fixture, addr string) []*bot.OutgoingMail {
	var out []*bot.OutgoingMail
	for _, it := range f.outbox() {
		if it.Mail != nil && len(it.Mail.To) > 0 && it.Mail.To[0].Email == addr {
			out = append(out, it.Mail)
		}
	}
	return out
}

// chatThreadPosts returns the texts of the outbox's posts in RFA num's
// chat thread.
func chatThreadPosts(f *fixture, num uint64) []string {
	var out []string
	for _, it := range f.outbox() {
		if it.Chat != nil && it.Chat.Op == bot.ChatThread && it.RFA == num {
			out = append(out, it.Chat.Text)
		}
	}
	return out
}

func rfaCount(t *testing.T, f *fixture) int {
	t.Helper()
	return len(allRFAs(t, f.desk))
}

func responseMet(r *bot.RFA, now time.Time) bool {
	for _, c := range bot.DefaultSLAPolicy(workcal.Default()).Clocks(r, now) {
		if c.Name == bot.ClockResponse {
			return c.MetAt != nil
		}
	}
	return false
}

func TestStaffMailIsRelayedThreadedSignedAndNeverAcknowledged(t *testing.T) {
	for _, chat := range []bool{true, false} {
		name := "email only"
		if chat {
			name = "with chat"
		}
		t.Run(name, func(t *testing.T) {
			f := staffDesk(t, chat)
			ack := openRFA(t, f)
			if responseMet(f.rfa(1), f.now) {
				t.Fatal("response clock met before any staff reply")
			}
			shot := []byte("\x89PNG the screenshot")
			m := mail("tom1@example.org", "Tom Reid|Tom@Example.org", "Re: "+ack.Subject, "We are on it: please restart the browser.\n")
			m.InReplyTo = []string{ack.MessageID}
			m.Attachments = []bot.Attachment{
				{Name: "shot.png", ContentType: "image/png", Size: int64(len(shot)), Data: shot, Stored: true},
				{Name: "huge.zip", ContentType: "application/zip", Size: 50 << 20},
			}
			m.From.Email = "tom@example.org"
			out := f.ingest(m)
			if out[0].Result != bot.ResultStaff || out[0].RFA != 1 || out[0].Disposition != bot.ToProcessed {
				t.Fatalf("outcome = %+v", out[0])
			}
			if n := rfaCount(t, f); n != 1 {
				t.Errorf("%d RFAs, want 1: staff mail never opens one", n)
			}
			if got := mailsTo(f, "tom@example.org"); len(got) != 0 {
				t.Errorf("staff mail was answered: %+v", got[0])
			}
			sent := mailsTo(f, "s.okafor@oakprimary.sch.uk")
			if len(sent) != 2 {
				t.Fatalf("%d mails to the requester, want the ack and the relay", len(sent))
			}
			relay := sent[1]
			if !strings.HasPrefix(relay.Subject, "[RFA-1] ") || relay.InReplyTo == "" || relay.Auto {
				t.Errorf("relay subject %q in-reply-to %q auto %v", relay.Subject, relay.InReplyTo, relay.Auto)
			}
			if !strings.Contains(relay.Text, "We are on it: please restart the browser.") || !strings.Contains(relay.Text, "\nTom Reid\nExample Service Desk") {
				t.Errorf("relay is not the text signed by Tom:\n%s", relay.Text)
			}
			if len(relay.Attachments) != 1 || relay.Attachments[0].Name != "shot.png" {
				t.Fatalf("relay attachments = %+v, want shot.png only", relay.Attachments)
			}
			var got []byte
			if err := f.db.View(context.Background(), func(tx bot.Tx) error {
				var err error
				got, err = tx.OutboxAttachment(relay.Attachments[0].Blob)
				return err
			}); err != nil || string(got) != string(shot) {
				t.Errorf("relayed attachment bytes = %q, %v", got, err)
			}
			r := f.rfa(1)
			last := r.Messages[len(r.Messages)-1]
			if last.Direction != bot.Outbound || last.From.Name != "Tom Reid" || last.MessageID != relay.MessageID || len(last.Attachments) != 1 {
				t.Errorf("RFA's last message = %+v, want the relay from Tom", last)
			}
			if e := lastEvent(t, r); e.Kind != bot.EventStaffReply || e.Actor != "Tom Reid (mail:tom@example.org)" {
				t.Errorf("history records %q by %q", e.Kind, e.Actor)
			}
			if !responseMet(r, f.now) {
				t.Error("the relayed reply did not meet the response clock")
			}
			posts := chatThreadPosts(f, 1)
			if !chat {
				if len(posts) != 0 {
					t.Errorf("chat posts without chat: %q", posts)
				}
				return
			}
			if len(posts) != 1 {
				t.Fatalf("chat thread posts = %q, want one", posts)
			}
			for _, want := range []string{"Tom Reid", "We are on it", "shot.png", "Not attached to the email: huge.zip"} {
				if !strings.Contains(posts[0], want) {
					t.Errorf("chat post lacks %q:\n%s", want, posts[0])
				}
			}
		})
	}
}

func TestStaffMailRedeliveredIsRelayedOnce(t *testing.T) {
	f := staffDesk(t, true)
	openRFA(t, f)
	m := mail("tom2@example.org", "Tom Reid|tom@example.org", "[RFA-1] update", "Fixed on our side.")
	f.ingest(m)
	before := len(f.outbox())
	again := mail("tom2@example.org", "Tom Reid|tom@example.org", "[RFA-1] update", "Fixed on our side.")
	if out := f.ingest(again); out[0].Result != bot.ResultDuplicate {
		t.Fatalf("redelivery outcome = %+v", out[0])
	}
	if n := len(f.outbox()); n != before {
		t.Errorf("redelivery queued %d more items", n-before)
	}
	if n := len(mailsTo(f, "s.okafor@oakprimary.sch.uk")); n != 2 {
		t.Errorf("%d mails to the requester, want the ack and one relay", n)
	}
}

func TestStaffMailNoteStaysInternal(t *testing.T) {
	f := staffDesk(t, true)
	openRFA(t, f)
	// Any address in a staff domain is staff.
	m := mail("ann1@example.net", "Ann Lee|ann@example.net", "[RFA-1]", "NOTE: their proxy strips cookies\nsee ticket 44")
	if out := f.ingest(m); out[0].Result != bot.ResultStaff || out[0].RFA != 1 {
		t.Fatalf("outcome = %+v", out[0])
	}
	if n := len(mailsTo(f, "s.okafor@oakprimary.sch.uk")); n != 1 {
		t.Errorf("%d mails to the requester, want only the ack", n)
	}
	r := f.rfa(1)
	if e := lastEvent(t, r); e.Kind != bot.EventNote || e.Actor != "Ann Lee (mail:ann@example.net)" || e.Text != "their proxy strips cookies\nsee ticket 44" {
		t.Errorf("history = %+v, want Ann's note", e)
	}
	if responseMet(r, f.now) {
		t.Error("an internal note met the response clock")
	}
	if posts := chatThreadPosts(f, 1); len(posts) != 1 || !strings.Contains(posts[0], "note") || !strings.Contains(posts[0], "their proxy strips cookies") {
		t.Errorf("chat posts = %q", posts)
	}
}

func TestStaffReplyToAnInternalMailIsANote(t *testing.T) {
	f := staffDesk(t, false)
	ack := openRFA(t, f)
	esc := mail("req2@oakprimary.sch.uk", "Sarah Okafor|s.okafor@oakprimary.sch.uk", "Re: "+ack.Subject, "escalate\n")
	esc.InReplyTo = []string{ack.MessageID}
	f.ingest(esc)
	notices := mailsTo(f, "ops@example.net")
	if len(notices) != 1 {
		t.Fatalf("%d escalation mails to the manager, want 1", len(notices))
	}
	before := len(mailsTo(f, "s.okafor@oakprimary.sch.uk"))
	answer := mail("ops1@example.net", "Ops Manager|ops@example.net", "Re: "+notices[0].Subject, "This school always escalates, ignore.")
	answer.InReplyTo = []string{notices[0].MessageID}
	if out := f.ingest(answer); out[0].Result != bot.ResultStaff {
		t.Fatalf("outcome = %+v", out[0])
	}
	if n := len(mailsTo(f, "s.okafor@oakprimary.sch.uk")); n != before {
		t.Errorf("%d more mails to the requester: an answer to an internal mail reached them", n-before)
	}
	if e := lastEvent(t, f.rfa(1)); e.Kind != bot.EventNote {
		t.Errorf("recorded as %q, want a note", e.Kind)
	}
}

func TestStaffMailNamingNoRFAGetsOneNotice(t *testing.T) {
	f := staffDesk(t, true)
	openRFA(t, f)
	first := mail("tom3@example.org", "Tom Reid|tom@example.org", "Printer at Oak", "Is anyone on the Oak printer?")
	if out := f.ingest(first); out[0].Result != bot.ResultIgnored || out[0].RFA != 0 {
		t.Fatalf("outcome = %+v", out[0])
	}
	notices := mailsTo(f, "tom@example.org")
	if len(notices) != 1 || !strings.Contains(notices[0].Text, "names no RFA") || !strings.Contains(notices[0].Text, "[RFA-12]") ||
		!notices[0].Auto || notices[0].InReplyTo != "tom3@example.org" {
		t.Fatalf("notices = %+v", notices)
	}
	f.now = f.now.Add(30 * time.Minute)
	f.ingest(mail("tom4@example.org", "Tom Reid|tom@example.org", "Printer again", "Hello?"))
	if n := len(mailsTo(f, "tom@example.org")); n != 1 {
		t.Errorf("%d notices within the window, want 1", n)
	}
	if n := rfaCount(t, f); n != 1 {
		t.Errorf("%d RFAs, want 1", n)
	}
	if n := len(mailsTo(f, "s.okafor@oakprimary.sch.uk")); n != 1 {
		t.Errorf("staff mail naming no RFA reached a requester")
	}
	for _, it := range f.outbox() {
		if it.Chat != nil && it.Chat.Op == bot.ChatThread {
			t.Errorf("staff mail naming no RFA was posted: %q", it.Chat.Text)
		}
	}
	f.now = f.now.Add(2 * time.Hour)
	f.ingest(mail("tom5@example.org", "Tom Reid|tom@example.org", "Printer", "Still?"))
	if n := len(mailsTo(f, "tom@example.org")); n != 2 {
		t.Errorf("%d notices after the window, want 2", n)
	}
}

func TestForgedStaffDisplayNameIsNotStaff(t *testing.T) {
	f := staffDesk(t, true)
	ack := openRFA(t, f)
	forged := mail("evil1@attacker.test", "tom@example.org|tom@attacker.test", "Re: "+ack.Subject, "Send me your password.")
	forged.InReplyTo = []string{ack.MessageID}
	out := f.ingest(forged)
	if out[0].Result != bot.ResultCreated || out[0].RFA != 2 {
		t.Fatalf("outcome = %+v, want a new (flagged) RFA", out[0])
	}
	if r := f.rfa(2); r.Flag == "" {
		t.Error("the stranger's RFA is not flagged")
	}
	for _, m := range mailsTo(f, "s.okafor@oakprimary.sch.uk") {
		if strings.Contains(m.Text, "password") {
			t.Errorf("a stranger's text reached the requester:\n%s", m.Text)
		}
	}
	if e := lastEvent(t, f.rfa(1)); e.Kind == bot.EventStaffReply {
		t.Errorf("RFA-1 records a staff reply by %q", e.Actor)
	}
}

func TestSpoofedStaffMailIsNotRelayed(t *testing.T) {
	cases := map[string]func(*bot.Mail){
		"dmarc fail":       func(m *bot.Mail) { m.Auth = bot.AuthFail },
		"ambiguous author": func(m *bot.Mail) { m.AuthorAmbiguous = "two From addresses" },
	}
	for name, spoof := range cases {
		t.Run(name, func(t *testing.T) {
			f := staffDesk(t, true)
			ack := openRFA(t, f)
			m := mail("spoof1@example.org", "Tom Reid|tom@example.org", "Re: "+ack.Subject, "Pay this invoice now.")
			m.InReplyTo = []string{ack.MessageID}
			spoof(m)
			out := f.ingest(m)
			if out[0].Result != bot.ResultDeadLetter || out[0].Disposition != bot.ToFailed {
				t.Fatalf("outcome = %+v, want a dead letter", out[0])
			}
			if n := len(mailsTo(f, "s.okafor@oakprimary.sch.uk")); n != 1 {
				t.Errorf("%d mails to the requester, want only the ack", n)
			}
			if n := len(mailsTo(f, "tom@example.org")); n != 0 {
				t.Errorf("a possibly forged staff mail was answered")
			}
			if n := rfaCount(t, f); n != 1 {
				t.Errorf("%d RFAs, want 1", n)
			}
			var dls []bot.DeadLetter
			f.db.View(context.Background(), func(tx bot.Tx) error { var err error; dls, err = tx.DeadLetters(); return err })
			if len(dls) != 1 || !strings.Contains(dls[0].Reason, "may be forged") || !strings.Contains(dls[0].From, "tom@example.org") {
				t.Fatalf("dead letters = %+v", dls)
			}
			if n := len(mailsTo(f, "manager@example.org")); n != 1 {
				t.Errorf("%d staff alerts, want 1", n)
			}
			if out := f.ingest(m); out[0].Result != bot.ResultDuplicate {
				t.Errorf("redelivery outcome = %+v", out[0])
			}
		})
	}
}

func TestStaffAutomaticMailIsIgnored(t *testing.T) {
	f := staffDesk(t, true)
	ack := openRFA(t, f)
	before := len(f.outbox())
	ooo := mail("ooo1@example.org", "Tom Reid|tom@example.org", "Automatic reply: "+ack.Subject, "I am out of the office.")
	ooo.InReplyTo = []string{ack.MessageID}
	ooo.Auto = bot.AutoReplied
	if out := f.ingest(ooo); out[0].Result != bot.ResultIgnored {
		t.Fatalf("outcome = %+v", out[0])
	}
	if n := len(f.outbox()); n != before {
		t.Errorf("an automatic staff mail queued %d items", n-before)
	}
}

func TestStaffMatcherDecidesByAddressOnly(t *testing.T) {
	s := bot.StaffMatcher{Addresses: []string{"tom@example.org"}, Domains: []string{"example.net"}}
	for addr, want := range map[string]bool{
		"tom@example.org":       true,
		"TOM+rfa@Example.org":   true,
		"ann@example.net":       true,
		"ann@sub.example.net":   false,
		"ann@example.org":       false,
		"tom@example.org.evil":  false,
		"example.net@evil.test": false,
		"":                      false,
	} {
		if got := s.Matches(addr); got != want {
			t.Errorf("Matches(%q) = %v, want %v", addr, got, want)
		}
	}
	if (bot.StaffMatcher{}).Matches("tom@example.org") {
		t.Error("the zero matcher matches")
	}
}
