package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"rfadesk/bot"
)

// mailsFor returns the outbox's mails with the given purpose.
func mailsFor(items []bot.OutboxItem, purpose string) []bot.OutboxItem {
	var out []bot.OutboxItem
	for _, it := range items {
		if it.Mail != nil && it.Mail.Purpose == purpose {
			out = append(out, it)
		}
	}
	return out
}

// Finding 1: an acknowledgement to a sender outside the organisations
// quotes nothing the sender wrote.
func TestAckToUnknownSenderQuotesNothingTheyWrote(t *testing.T) {
	f := newFixture(t)
	m := mail("s1@scam.example", "Visit http://scam.example now|victim@unrelated.example",
		"visit http://scam.example "+strings.Repeat("x", 1<<20), fullReport+"\nSite: http://scam.example/site\n")
	f.ingest(m)
	acks := mailsFor(f.outbox(), "acknowledgement")
	if len(acks) != 1 {
		t.Fatalf("%d acknowledgements, want 1", len(acks))
	}
	ack := acks[0].Mail
	if ack.Subject != "[RFA-1] Received" {
		t.Errorf("subject = %.200q, want the reference only", ack.Subject)
	}
	r := f.rfa(1)
	for _, body := range []string{ack.Text, ack.HTML} {
		for _, quoted := range []string{"scam", "Visit", "Main building", "E1042", "xxxx"} {
			if strings.Contains(body, quoted) {
				t.Errorf("the acknowledgement quotes %q:\n%.2000s", quoted, body)
			}
		}
		if !strings.Contains(body, "RFA-1") || !strings.Contains(body, statusLink(r)) {
			t.Errorf("the acknowledgement lacks the reference or the link:\n%s", body)
		}
	}
}

// statusLink is RFA-1's status link (tokens are base64url: no escaping).
func statusLink(r *bot.RFA) string { return "https://support.example.org/rfa/RFA-1?t=" + r.Token }

// Finding 1: quoted values are capped in every mail the desk composes,
// for known senders too.
func TestQuotedValuesAreCapped(t *testing.T) {
	f := newFixture(t)
	huge := strings.Repeat("é", 1<<19) // 1 MiB
	f.ingest(mail("k1@oakprimary.sch.uk", "Ann|ann@oakprimary.sch.uk", "Login "+huge, "Site: "+huge+"\nError message: "+huge+"\n"))
	r := f.rfa(1)
	if len(r.Subject) > bot.SubjectQuoteLimit+3 || !utf8.ValidString(r.Subject) {
		t.Errorf("RFA subject is %d bytes (valid UTF-8: %v)", len(r.Subject), utf8.ValidString(r.Subject))
	}
	if len(r.Report.Site) > bot.ValueQuoteLimit+3 || len(r.Report.ErrorMessage) > bot.ValueQuoteLimit+3 {
		t.Errorf("report values kept: site %d bytes, error %d bytes", len(r.Report.Site), len(r.Report.ErrorMessage))
	}
	ack := mailsFor(f.outbox(), "acknowledgement")[0].Mail
	if len(ack.Subject) > 300 || len(ack.Text) > 8<<10 || len(ack.HTML) > 8<<10 {
		t.Errorf("acknowledgement: subject %d, text %d, HTML %d bytes", len(ack.Subject), len(ack.Text), len(ack.HTML))
	}
	if !strings.Contains(ack.Text, "Login é") {
		t.Errorf("a known sender's acknowledgement should still quote the subject:\n%.500s", ack.Text)
	}
}

// Finding 1: acknowledgements to unknown domains have a desk-wide limit;
// beyond it the RFA is still logged and staff are told once per window.
func TestAcksToUnknownDomainsHaveADeskWideLimit(t *testing.T) {
	f := newFixture(t)
	for i := range 30 {
		out := f.ingest(mail(fmt.Sprintf("u%d@x.example", i), fmt.Sprintf("someone@domain%d.example", i), "Help", "broken"))
		if out[0].Result != bot.ResultCreated {
			t.Fatalf("mail %d: %+v", i, out[0])
		}
	}
	items := f.outbox()
	if acks, alerts := mailsFor(items, "acknowledgement"), mailsFor(items, "staff alert"); len(acks) != bot.DefaultUnknownAcks.Max || len(alerts) != 1 {
		t.Fatalf("%d acknowledgements and %d staff alerts, want %d and 1", len(acks), len(alerts), bot.DefaultUnknownAcks.Max)
	}
	if r := f.rfa(30); !hasEvent(r, bot.EventAutoSuppressed) {
		t.Errorf("RFA-30 does not say why it got no acknowledgement: %+v", r.Events)
	}
	// A known school is not limited by strangers.
	f.ingest(mail("known@oakprimary.sch.uk", "ann@oakprimary.sch.uk", "Login", "broken"))
	if acks := mailsFor(f.outbox(), "acknowledgement"); len(acks) != bot.DefaultUnknownAcks.Max+1 {
		t.Errorf("a known sender's acknowledgement was held back: %d acknowledgements", len(acks))
	}
	// An hour later the limit has room again, and staff are not told twice.
	f.now = f.now.Add(time.Hour)
	f.ingest(mail("later@x.example", "someone@later.example", "Help", "broken"))
	items = f.outbox()
	if acks, alerts := mailsFor(items, "acknowledgement"), mailsFor(items, "staff alert"); len(acks) != bot.DefaultUnknownAcks.Max+2 || len(alerts) != 1 {
		t.Errorf("after an hour: %d acknowledgements, %d staff alerts", len(acks), len(alerts))
	}
}

// Finding 2: dead-letter alerts are batched: at most one per interval,
// the next one listing the rest.
func TestDeadLetterAlertsAreBatched(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Chat = true })
	for i := range 20 {
		key := fmt.Sprintf("sha256:%02d", i)
		_, err := f.desk.Ingest(context.Background(), "INBOX", 7, []bot.Fetched{{UID: uint32(100 + i), ParseErr: errors.New("no From address"), Raw: []byte("junk\n"), DedupeKey: key}})
		if err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Second)
	}
	items := f.outbox()
	alerts := mailsFor(items, "dead-letter alert")
	var ops []bot.OutboxItem
	for _, it := range items {
		if it.Chat != nil && it.Chat.Op == bot.ChatOps {
			ops = append(ops, it)
		}
	}
	if len(alerts) != 2 || len(ops) != 2 {
		t.Fatalf("%d alert mails and %d ops posts for 20 dead letters, want 2 and 2 (one now, one batched)", len(alerts), len(ops))
	}
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	batched := alerts[1]
	if !batched.NextAttempt.Equal(start.Add(bot.DefaultAlertInterval)) {
		t.Errorf("the batched alert is due at %v, want one interval after the first", batched.NextAttempt)
	}
	for id := 2; id <= 20; id++ {
		if !strings.Contains(batched.Mail.Text, fmt.Sprintf("Dead letter %d ", id)) {
			t.Errorf("the batched alert does not list dead letter %d:\n%s", id, batched.Mail.Text)
		}
	}
	// After the batched alert's time, a new one waits a whole interval
	// again: still at most one alert per interval.
	f.now = start.Add(bot.DefaultAlertInterval + time.Minute)
	f.desk.Ingest(context.Background(), "INBOX", 7, []bot.Fetched{{UID: 200, ParseErr: errors.New("bad"), Raw: []byte("junk\n"), DedupeKey: "sha256:late"}})
	alerts = mailsFor(f.outbox(), "dead-letter alert")
	if len(alerts) != 3 || !alerts[2].NextAttempt.Equal(start.Add(2*bot.DefaultAlertInterval)) {
		t.Errorf("late dead letter: %d alerts, last due %v", len(alerts), alerts[len(alerts)-1].NextAttempt)
	}
}

// Finding 3: beyond the per-sender rate, new mail from that sender is
// recorded on its most recent RFA: no new RFAs or cards, nothing lost,
// staff told once.
func TestSenderOverTheRFALimitIsRecordedOnItsLatestRFA(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Chat = true })
	var ms []*bot.Mail
	for i := range 50 {
		ms = append(ms, mail(fmt.Sprintf("flood%d@oakprimary.sch.uk", i), "ann@oakprimary.sch.uk", fmt.Sprintf("Problem %d", i), "broken"))
	}
	out := f.ingest(ms...)
	max := bot.DefaultSenderRFAs.Max
	for i, o := range out {
		want := bot.Outcome{UID: o.UID, RFA: uint64(i + 1), Result: bot.ResultCreated}
		if i >= max {
			want.RFA, want.Result = uint64(max), bot.ResultAppended
		}
		if o != want {
			t.Fatalf("mail %d: outcome %+v, want %+v", i, o, want)
		}
	}
	r := f.rfa(uint64(max))
	inbound := 0
	for _, m := range r.Messages {
		if m.Direction == bot.Inbound {
			inbound++
		}
	}
	if inbound != 50-max+1 || !strings.Contains(r.Messages[len(r.Messages)-1].Subject, "Problem 49") {
		t.Errorf("RFA-%d holds %d inbound messages, want %d", max, inbound, 50-max+1)
	}
	items := f.outbox()
	cards, alerts := 0, 0
	for _, it := range items {
		switch {
		case it.Chat != nil && it.Chat.Op == bot.ChatNewRFA:
			cards++
		case it.Chat != nil && it.Chat.Op == bot.ChatOps:
			alerts++
		}
	}
	if cards != max || alerts != 1 || len(mailsFor(items, "staff alert")) != 1 {
		t.Errorf("%d cards, %d ops posts, %d alert mails; want %d, 1, 1", cards, alerts, len(mailsFor(items, "staff alert")), max)
	}
	// A redelivery is a duplicate, and a reply to a recorded mail threads.
	if again := f.ingest(mail("flood30@oakprimary.sch.uk", "ann@oakprimary.sch.uk", "Problem 30", "broken")); again[0].Result != bot.ResultDuplicate || again[0].RFA != uint64(max) {
		t.Errorf("redelivery: %+v", again[0])
	}
	// Another sender is not affected.
	if o := f.ingest(mail("other@oakprimary.sch.uk", "bob@oakprimary.sch.uk", "Login", "broken")); o[0].Result != bot.ResultCreated {
		t.Errorf("another sender: %+v", o[0])
	}
	// Plus-tags do not get round the limit.
	if o := f.ingest(mail("plus@oakprimary.sch.uk", "Ann+Again@oakprimary.sch.uk", "Login", "broken")); o[0].Result != bot.ResultAppended || o[0].RFA != uint64(max) {
		t.Errorf("plus-address of the sender: %+v", o[0])
	}
	// When the window has passed, the sender opens RFAs again.
	f.now = f.now.Add(bot.DefaultSenderRFAs.Window)
	late := mail("late@oakprimary.sch.uk", "ann@oakprimary.sch.uk", "Printer", "broken")
	late.Received = f.now
	if o := f.ingest(late); o[0].Result != bot.ResultCreated {
		t.Errorf("after the window: %+v", o[0])
	}
}

// Finding 4: plus-addresses and case variants of the desk are the desk.
func TestPlusAddressOfTheDeskIsTheDesk(t *testing.T) {
	f := newFixture(t)
	for i, from := range []string{"support+x@example.org", "Support@Example.ORG", "SUPPORT+Loop@example.org"} {
		m := mail(fmt.Sprintf("self%d@example.org", i), from, "Hello", "hi")
		m.From.Email = from // as written: the check must not rely on lower case
		if out := f.ingest(m); out[0].Result != bot.ResultIgnored {
			t.Errorf("mail from %s: %+v, want ignored", from, out[0])
		}
	}
	if items := f.outbox(); len(items) != 0 {
		t.Errorf("mail from the desk itself queued %d items, first to %v", len(items), items[0].Mail.To)
	}
	// A colleague Cc'ing a plus-address of the desk does not make the
	// desk a participant.
	m := mail("cc@oakprimary.sch.uk", "ann@oakprimary.sch.uk", "Login", "broken")
	m.Cc = []bot.Address{{Email: "support+cc@example.org"}, {Email: "bob@oakprimary.sch.uk"}}
	f.ingest(m)
	if p := f.rfa(1).Participants; len(p) != 1 || p[0] != "bob@oakprimary.sch.uk" {
		t.Errorf("participants = %v", p)
	}
}

// Finding 5: a mail whose author is ambiguous never joins an existing
// RFA, whatever it names; it opens a new flagged one.
func TestAmbiguousAuthorNeverThreads(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) {
		c.Limits.SenderRFAs = bot.RateTier{Window: time.Hour, Max: 1} // the limit must not join it either
	})
	f.ingest(mail("orig@oakprimary.sch.uk", "ann@oakprimary.sch.uk", "Login", "broken"))
	ack := f.outbox()[0].Mail
	reply := mail("amb@oakprimary.sch.uk", "ann@oakprimary.sch.uk", "Re: "+ack.Subject, "still broken")
	reply.InReplyTo, reply.References = []string{ack.MessageID}, []string{"orig@oakprimary.sch.uk", ack.MessageID}
	reply.AuthorAmbiguous = "two From addresses"
	out := f.ingest(reply)
	if out[0].Result != bot.ResultCreated || out[0].RFA != 2 {
		t.Fatalf("outcome = %+v, want a new RFA", out[0])
	}
	if r := f.rfa(1); len(r.Messages) != 2 {
		t.Errorf("RFA-1 gained a message: %d messages", len(r.Messages))
	}
	r := f.rfa(2)
	if !strings.Contains(r.Flag, "two From addresses") || !strings.Contains(r.Flag, "RFA-1") || !hasEvent(r, bot.EventFlagged) {
		t.Errorf("flag = %q", r.Flag)
	}
	if acks := mailsFor(f.outbox(), "acknowledgement"); len(acks) != 1 {
		t.Errorf("%d acknowledgements: an ambiguous author got one", len(acks))
	}
}

// Finding 8: the text kept per message is capped; the whole text stays
// retrievable as an attachment, and the message says it was cut.
func TestLongMessageIsCutAndKeptWhole(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Limits.MaxMessageText = 1000 })
	body := strings.Repeat("a", 999) + strings.Repeat("€", 2000) // the cut falls inside a rune
	f.ingest(mail("long@oakprimary.sch.uk", "ann@oakprimary.sch.uk", "Login", body))
	r := f.rfaWithTexts(1)
	m := r.Messages[0]
	if len(m.Text) != 999 || !utf8.ValidString(m.Text) {
		t.Errorf("kept text is %d bytes (valid UTF-8: %v), want cut on the rune boundary at 999", len(m.Text), utf8.ValidString(m.Text))
	}
	want := "Subject: Login\n\n" + body
	if m.FullSize != len(want) || len(m.Attachments) != 1 || m.Attachments[0].Name != bot.FullTextName || !m.Attachments[0].Stored {
		t.Fatalf("message = full size %d, attachments %+v", m.FullSize, m.Attachments)
	}
	var got []byte
	err := f.db.View(context.Background(), func(tx bot.Tx) error {
		var err error
		got, err = tx.GetAttachment(1, 0, 0)
		return err
	})
	if err != nil || string(got) != want {
		t.Errorf("full text attachment: %d bytes, %v", len(got), err)
	}
	// A redelivery of a mail whose subject was cut is still a duplicate.
	longSubject := mail("longsubj@oakprimary.sch.uk", "carol@oakprimary.sch.uk", strings.Repeat("s", 3000), "hi")
	first := f.ingest(longSubject)
	again := mail("longsubj@oakprimary.sch.uk", "carol@oakprimary.sch.uk", strings.Repeat("s", 3000), "hi")
	if o := f.ingest(again); o[0].Result != bot.ResultDuplicate || o[0].RFA != first[0].RFA {
		t.Errorf("redelivery of a long-subject mail: %+v", o[0])
	}
	if m := f.rfa(first[0].RFA).Messages[0]; len(m.Subject) > bot.MessageSubjectLimit+3 || m.FullSize == 0 {
		t.Errorf("long subject kept: %d bytes, full size %d", len(m.Subject), m.FullSize)
	}
	// A short message is not marked.
	f.ingest(mail("short@oakprimary.sch.uk", "bob@oakprimary.sch.uk", "Login", "short"))
	if m := f.rfa(first[0].RFA + 1).Messages[0]; m.FullSize != 0 || len(m.Attachments) != 0 {
		t.Errorf("short message marked as cut: %+v", m)
	}
}
