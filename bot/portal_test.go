package bot_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

func newPortalFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(c *bot.DeskConfig) {
		c.SLA = bot.DefaultSLAPolicy(workcal.Default())
		c.Chat = true
	})
}

func (f *fixture) openNums() []uint64 {
	f.t.Helper()
	var nums []uint64
	err := f.db.View(context.Background(), func(tx bot.Tx) error {
		rs, err := tx.OpenRFAs(0, 100)
		for _, r := range rs {
			nums = append(nums, r.Num)
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return nums
}

// outboxFor splits the outbox into mails (by recipient) and chat posts.
func (f *fixture) outboxKinds() (mails []bot.OutboxItem, chats int) {
	for _, it := range f.outbox() {
		switch it.Kind {
		case bot.OutboxMail:
			mails = append(mails, it)
		case bot.OutboxChat:
			chats++
		}
	}
	return mails, chats
}

func TestPortalSubmissionFromKnownDomainIsLoggedLikeEmail(t *testing.T) {
	f := newPortalFixture(t)
	r, err := f.desk.Submit(context.Background(), bot.PortalSubmission{
		From:        bot.Address{Name: "Priya Shah", Email: " Priya@OakPrimary.sch.uk "},
		Description: "The register will not save.\nIt says E1042.",
		Report:      bot.Report{Site: "Main building", Components: []string{"Attendance"}, CanReplicate: bot.ReplicateYes},
		Attachments: []bot.Attachment{{Name: `C:\fakepath\shot.png`, ContentType: "image/png", Data: []byte("png")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.rfaWithTexts(r.Num)
	if got.Status != bot.StatusNew || got.Channel != bot.ChannelPortal || got.Organisation != "Oak Primary School" {
		t.Errorf("status %s channel %s org %q, want new portal Oak Primary School", got.Status, got.Channel, got.Organisation)
	}
	if got.Subject != "The register will not save." || got.Requester.Email != "priya@oakprimary.sch.uk" {
		t.Errorf("subject %q requester %q", got.Subject, got.Requester.Email)
	}
	if got.Report.Site != "Main building" || got.Report.CanReplicate != bot.ReplicateYes {
		t.Errorf("report %+v", got.Report)
	}
	if a := got.Messages[0].Attachments; len(a) != 1 || a[0].Name != "shot.png" || a[0].Size != 3 || !a[0].Stored {
		t.Errorf("attachments %+v", a)
	}
	if !hasEvent(got, bot.EventCreated) || !hasEvent(got, bot.EventAckQueued) || got.ConfirmToken != "" {
		t.Errorf("events %+v confirm token %q", got.Events, got.ConfirmToken)
	}
	if got.NextEscalation.IsZero() {
		t.Error("no jeopardy point scheduled for a logged RFA")
	}
	mails, chats := f.outboxKinds()
	if len(mails) != 1 || !strings.Contains(mails[0].Mail.Subject, got.Ref()) || chats != 1 {
		t.Errorf("outbox: %d mails, %d chat posts; want the acknowledgement and the card", len(mails), chats)
	}
	if open := f.openNums(); len(open) != 1 || open[0] != r.Num {
		t.Errorf("open RFAs %v, want [%d]", open, r.Num)
	}
}

func TestPortalSubmissionFromUnknownDomainIsHeldUntilConfirmed(t *testing.T) {
	f := newPortalFixture(t)
	ctx := context.Background()
	r, err := f.desk.Submit(ctx, bot.PortalSubmission{
		From:        bot.Address{Name: "<b>Mallory</b>", Email: "someone@stranger.example"},
		Subject:     "Click http://evil.example now",
		Description: "anything",
	})
	if err != nil {
		t.Fatal(err)
	}
	held := f.rfa(r.Num)
	if held.Status != bot.StatusUnverified || held.ConfirmToken == "" {
		t.Fatalf("status %s token %q, want unverified with a confirmation token", held.Status, held.ConfirmToken)
	}
	if !held.NextEscalation.IsZero() || hasEvent(held, bot.EventAckQueued) || !hasEvent(held, bot.EventHeld) || hasEvent(held, bot.EventCreated) {
		t.Errorf("held RFA: next escalation %v, events %+v", held.NextEscalation, held.Events)
	}
	pol := bot.DefaultSLAPolicy(workcal.Default())
	if c := pol.Clocks(held, f.now.Add(30*24*time.Hour)); len(c) != 0 {
		t.Errorf("held RFA has clocks %+v", c)
	}
	if open := f.openNums(); len(open) != 0 {
		t.Errorf("held RFA is in the open index: %v", open)
	}
	mails, chats := f.outboxKinds()
	if len(mails) != 1 || chats != 0 {
		t.Fatalf("outbox: %d mails, %d chat posts; want only the confirmation mail", len(mails), chats)
	}
	m := mails[0].Mail
	if m.To[0].Email != "someone@stranger.example" || m.To[0].Name != "" {
		t.Errorf("confirmation to %+v", m.To)
	}
	for _, leaked := range []string{"Mallory", "evil.example", held.Ref(), held.Token} {
		if strings.Contains(m.Subject+m.Text, leaked) {
			t.Errorf("the confirmation mail quotes %q:\n%s", leaked, m.Text)
		}
	}
	link := f.desk.SubmissionConfirmURL(held)
	if !strings.Contains(m.Text, link) {
		t.Fatalf("the mail lacks the link %s:\n%s", link, m.Text)
	}
	u, _ := url.Parse(link)
	token := u.Query().Get("t")

	// A wrong secret finds nothing and changes nothing.
	num, _, _ := strings.Cut(token, ".")
	if _, err := f.desk.ConfirmSubmission(ctx, num+".wrong"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("wrong token: %v, want ErrNotFound", err)
	}
	if _, err := f.desk.ConfirmSubmission(ctx, "junk"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("junk token: %v, want ErrNotFound", err)
	}

	f.now = f.now.Add(2 * time.Hour)
	done, err := f.desk.ConfirmSubmission(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	got := f.rfa(done.Num)
	if got.Status != bot.StatusNew || !got.Created.Equal(f.now) || got.NextEscalation.IsZero() {
		t.Errorf("confirmed: status %s created %v next %v; want new, created at confirmation, scheduled", got.Status, got.Created, got.NextEscalation)
	}
	if c := pol.Clocks(got, f.now); len(c) == 0 || !c[0].Start.Equal(f.now) {
		t.Errorf("clocks after confirmation %+v, want them started at %v", c, f.now)
	}
	if !hasEvent(got, bot.EventCreated) || !hasEvent(got, bot.EventAckQueued) {
		t.Errorf("confirmed RFA events %+v", got.Events)
	}
	mails, chats = f.outboxKinds()
	if len(mails) != 2 || chats != 1 {
		t.Errorf("after confirming: %d mails, %d chat posts; want confirmation + acknowledgement and the card", len(mails), chats)
	}
	if open := f.openNums(); len(open) != 1 {
		t.Errorf("confirmed RFA not open: %v", open)
	}

	// Pressing the button again changes nothing.
	if again, err := f.desk.ConfirmSubmission(ctx, token); err != nil || again.Num != got.Num {
		t.Fatalf("second confirmation: %v", err)
	}
	if mails, chats := f.outboxKinds(); len(mails) != 2 || chats != 1 {
		t.Errorf("a second confirmation queued more: %d mails, %d chat posts", len(mails), chats)
	}
}

func TestPortalConfirmationLinkExpires(t *testing.T) {
	f := newPortalFixture(t)
	ctx := context.Background()
	r, err := f.desk.Submit(ctx, bot.PortalSubmission{From: bot.Address{Email: "a@stranger.example"}, Description: "x"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(f.desk.SubmissionConfirmURL(f.rfa(r.Num)))
	f.now = f.now.Add(bot.ConfirmWindow + time.Minute)
	if _, err := f.desk.ConfirmSubmission(ctx, u.Query().Get("t")); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("expired link: %v, want ErrNotAllowed", err)
	}
	if got := f.rfa(r.Num); got.Status != bot.StatusUnverified {
		t.Errorf("expired link released the RFA: %s", got.Status)
	}
}

func TestPortalRefusesBadInputAndFloods(t *testing.T) {
	f := newPortalFixture(t)
	ctx := context.Background()
	for _, s := range []bot.PortalSubmission{
		{From: bot.Address{Email: "not-an-address"}, Description: "x"},
		{From: bot.Address{Email: "a@b.example\r\nBcc: x@y.example"}, Description: "x"},
		{From: bot.Address{Email: "a@oakprimary.sch.uk"}, Description: "  "},
	} {
		if _, err := f.desk.Submit(ctx, s); !errors.Is(err, bot.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", s.From, err)
		}
	}
	// The sender limit (5 in 10 minutes by default) counts web RFAs.
	for i := range 6 {
		_, err := f.desk.Submit(ctx, bot.PortalSubmission{From: bot.Address{Email: "p+" + string(rune('a'+i)) + "@oakprimary.sch.uk"}, Description: "x"})
		if i < 5 && err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
		if i == 5 && !errors.Is(err, bot.ErrNotAllowed) {
			t.Errorf("sixth submission: %v, want ErrNotAllowed", err)
		}
	}
	// Mail to strangers is bounded desk-wide (20 an hour by default).
	var refused error
	for i := range 25 {
		_, refused = f.desk.Submit(ctx, bot.PortalSubmission{From: bot.Address{Email: "x" + string(rune('a'+i)) + "@stranger.example"}, Description: "x"})
	}
	if !errors.Is(refused, bot.ErrNotAllowed) {
		t.Errorf("25th stranger submission within an hour: %v, want ErrNotAllowed", refused)
	}
	held := 0
	for _, r := range allRFAs(t, f.desk) {
		if r.Status == bot.StatusUnverified {
			held++
		}
	}
	if held != 20 {
		t.Errorf("%d held submissions recorded, want 20", held)
	}
}

// Nothing acts on a held submission: staff actions are refused, and mail
// naming it (the requester's, or staff's) does not join it.
func TestHeldSubmissionIsNobodysThread(t *testing.T) {
	f := newPortalFixture(t)
	ctx := context.Background()
	r, err := f.desk.Submit(ctx, bot.PortalSubmission{From: bot.Address{Email: "a@stranger.example"}, Description: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.desk.SetSeverity(ctx, r.Num, bot.SeverityMinor, bot.Actor{Name: "Tom", ID: "api:Tom"}); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("staff action on a held RFA: %v, want ErrNotAllowed", err)
	}
	out := f.ingest(mail("m1@stranger.example", "a@stranger.example", "Re: [RFA-1] more", "more"))
	if out[0].Result != bot.ResultCreated || out[0].RFA == r.Num {
		t.Errorf("mail naming the held RFA: %+v, want a new RFA", out[0])
	}
	if got := f.rfa(r.Num); got.Status != bot.StatusUnverified || len(got.Messages) != 1 {
		t.Errorf("held RFA changed: %s, %d messages", got.Status, len(got.Messages))
	}
}
