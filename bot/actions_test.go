package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

var priya = bot.Actor{Name: "Priya Shah", ID: "discord:1001"}

func TestStaffLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("l1@oakprimary.sch.uk", "Sarah|s@oakprimary.sch.uk", "Login broken", "It is broken."))
	ack := f.outbox()[0].Mail

	if err := f.desk.SetSeverity(ctx, 1, bot.SeverityCritical, priya); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.SetSeverity(ctx, 1, "urgent", priya); err == nil {
		t.Error("an unknown severity was accepted")
	}
	if err := f.desk.Reply(ctx, 1, bot.StaffMessage{By: priya, Text: "note: checking logs", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.outbox()); n != 2 {
		t.Fatalf("outbox has %d items, want 2 (the acknowledgement and the severity notice; an internal note is never mailed)", n)
	}
	if err := f.desk.Reply(ctx, 1, bot.StaffMessage{By: priya, Text: "We are looking at it now."}); err != nil {
		t.Fatal(err)
	}
	items := f.outbox()
	reply := items[len(items)-1].Mail
	if reply.Auto || reply.InReplyTo != ack.MessageID || !strings.Contains(reply.Subject, "[RFA-1]") ||
		!strings.Contains(reply.Text, "Priya Shah") || reply.To[0].Email != "s@oakprimary.sch.uk" {
		t.Errorf("staff reply mail = %+v", reply)
	}

	if err := f.desk.Ask(ctx, 1, bot.StaffMessage{By: priya, Text: "Which browser?"}); err != nil {
		t.Fatal(err)
	}
	if r := f.rfa(1); r.Status != bot.StatusAwaitingRequester {
		t.Fatalf("status after ask = %s", r.Status)
	}
	answer := mail("l2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Question", "Edge")
	f.ingest(answer)
	if r := f.rfa(1); r.Status != bot.StatusOpen || !hasEvent(r, bot.EventResumed) {
		t.Fatalf("the requester's answer did not resume: %s", r.Status)
	}

	if err := f.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "Fixed the session store."}); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "again"}); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("clearing twice: %v", err)
	}
	f.ingest(mail("l3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Cleared", "Sorry, it is still broken here."))
	if r := f.rfa(1); r.Status != bot.StatusOpen || !hasEvent(r, bot.EventReopened) {
		t.Fatalf("still broken did not reopen: %s", r.Status)
	}
}

func TestCustomerEscalationIsRateLimited(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("e1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	base := len(f.outbox())
	f.ingest(mail("e2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Received", "escalate\n\nWe still cannot take registers."))
	after := f.outbox()
	if len(after) != base+1 { // no managers configured in the fixture: the requester's confirmation only
		t.Fatalf("outbox grew by %d, want 1 (the requester's confirmation)", len(after)-base)
	}
	if !strings.Contains(after[len(after)-1].Mail.Text, "now owned by") {
		t.Errorf("confirmation does not say who owns it: %s", after[len(after)-1].Mail.Text)
	}
	f.now = f.now.Add(10 * time.Minute)
	f.ingest(mail("e3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] ESCALATE please", "hello?"))
	if n := len(f.outbox()); n != base+1 {
		t.Errorf("second escalation within the hour sent mail (outbox %d)", n)
	}
	f.ingest(mail("e4@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1]", "We will escalate this internally if needed."))
	var escalations int
	for _, e := range f.rfa(1).Events {
		if e.Kind == bot.EventEscalated {
			escalations++
		}
	}
	if escalations != 2 {
		t.Errorf("escalation events = %d, want 2 (a sentence mentioning escalate is not a request)", escalations)
	}
}

func TestReplyFromThreadMarksItReadInTheSameTransaction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("rs1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	if err := f.desk.RecordDelivery(ctx, bot.OutboxItem{ID: 999, Kind: bot.OutboxChat, RFA: 1, Chat: &bot.ChatPost{Op: bot.ChatNewRFA}},
		bot.DeliveryResult{ChatPostID: "500", ChatThreadID: "500"}, nil); err != nil {
		t.Fatal(err)
	}
	err := f.desk.Reply(ctx, 1, bot.StaffMessage{By: priya, Text: "On it.", Origin: &bot.ChatOrigin{ChannelID: "500", MessageID: "1234"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.rfa(1).Chat.LastSeen; got != "1234" {
		t.Errorf("LastSeen = %q, want the reply's message id", got)
	}
	if r, err := f.desk.RFAByChatThread(ctx, "500"); err != nil || r.Num != 1 {
		t.Errorf("thread index: %v %v", r, err)
	}
}

func TestSubjectEchoDoesNotEscalate(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("se1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Cannot escalate teacher permissions in MIS", "broken"))
	for i, subj := range []string{"Re: [RFA-1] Received: Cannot escalate teacher permissions in MIS", "RE: Cannot escalate teacher permissions in MIS"} {
		f.ingest(mail(fmt.Sprintf("se%d@oakprimary.sch.uk", i+2), "s@oakprimary.sch.uk", subj, "Any news?"))
	}
	if hasEvent(f.rfa(1), bot.EventEscalated) {
		t.Error("the RFA's own subject, echoed in replies, escalated it")
	}
	f.ingest(mail("se9@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Cannot escalate teacher permissions in MIS - ESCALATE", "Please"))
	if !hasEvent(f.rfa(1), bot.EventEscalated) {
		t.Error("a subject that adds ESCALATE did not escalate")
	}
}

func TestBatchWithAnUnrecordableMailDeadLettersItAndKeepsTheRest(t *testing.T) {
	f := newFixture(t)
	good := mail("ok1@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Printer", "jams")
	poison := mail("poison@oakprimary.sch.uk", "b@oakprimary.sch.uk", "Hello", "hi")
	poison.References = []string{""} // an empty thread key: the store refuses it
	poison.InReplyTo = nil
	poison.MessageID = ""
	poison.DedupeKey = "mid:" + strings.Repeat("x", 40000) // over bbolt's key limit
	later := mail("ok2@oakprimary.sch.uk", "c@oakprimary.sch.uk", "Scanner", "offline")
	out := f.ingest(good, poison, later)
	if out[0].Result != bot.ResultCreated || out[2].Result != bot.ResultCreated {
		t.Fatalf("good mails were not recorded: %+v", out)
	}
	if out[1].Result != bot.ResultDeadLetter || out[1].Disposition != bot.ToFailed {
		t.Errorf("the unrecordable mail: %+v, want a dead letter moved to Failed", out[1])
	}
	var dls []bot.DeadLetter
	f.db.View(context.Background(), func(tx bot.Tx) error { var err error; dls, err = tx.DeadLetters(); return err })
	if len(dls) != 1 || !strings.Contains(dls[0].Reason, "could not be recorded") || dls[0].From == "" {
		t.Errorf("dead letters = %+v", dls)
	}
}

func TestFailedCardDeliveryKeepsThePostItCreated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("fc1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	item := bot.OutboxItem{Kind: bot.OutboxChat, RFA: 1, Chat: &bot.ChatPost{Op: bot.ChatNewRFA}}
	if err := f.db.Update(ctx, func(tx bot.Tx) error { _, err := tx.Enqueue(&item); return err }); err != nil {
		t.Fatal(err)
	}
	err := f.desk.RecordDelivery(ctx, item, bot.DeliveryResult{ChatPostID: "9001"}, &bot.DeliveryError{Failure: bot.DeliveryTemporary, Err: errors.New("thread start: 500")})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.rfa(1); r.Chat.PostID != "9001" || r.Chat.ThreadID != "" {
		t.Errorf("chat = %+v, want the post remembered and no thread yet", r.Chat)
	}
}
