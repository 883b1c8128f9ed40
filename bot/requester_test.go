package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"rfadesk/bot"
)

// TestAddMessageFromStatusPage: a message from the status page joins the
// conversation as the requester's, with its files stored like mail
// attachments (names neutralised), tells the chat thread, fills the
// report fields it gives and resumes an RFA awaiting the requester.
func TestAddMessageFromStatusPage(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Chat = true })
	ctx := context.Background()
	f.ingest(mail("rq1@oakprimary.sch.uk", "Sam Lee|s@oakprimary.sch.uk", "Login", "broken"))
	priya := bot.Actor{Name: "Priya", ID: "discord:1"}
	if err := f.desk.Ask(ctx, 1, bot.StaffMessage{By: priya, Text: "Which site?"}); err != nil {
		t.Fatal(err)
	}
	before := len(f.rfa(1).Messages)
	msg := bot.RequesterMessage{
		Text: "Site location: Main building\r\n\u202eevil",
		Attachments: []bot.Attachment{
			{Name: "C:\\Users\\sam\\invoice\u202efdp.exe", ContentType: "image/png; name=x", Data: []byte("PNGDATA")},
			{Name: "\x00", ContentType: "nonsense", Data: []byte("two")},
		},
	}
	if err := f.desk.AddMessage(ctx, 1, msg); err != nil {
		t.Fatal(err)
	}
	r := f.rfaWithTexts(1)
	if len(r.Messages) != before+1 {
		t.Fatalf("messages %d, want %d", len(r.Messages), before+1)
	}
	m := r.Messages[len(r.Messages)-1]
	if m.Direction != bot.Inbound || m.From.Email != "s@oakprimary.sch.uk" || m.Text != "Site location: Main building\nevil" {
		t.Errorf("message = %+v", m)
	}
	if len(m.Attachments) != 2 || m.Attachments[0].Name != "invoicefdp.exe" || m.Attachments[0].ContentType != "image/png" ||
		!m.Attachments[0].Stored || m.Attachments[0].Data != nil || m.Attachments[1].Name != "attachment-2" ||
		m.Attachments[1].ContentType != "application/octet-stream" {
		t.Errorf("attachments = %+v", m.Attachments)
	}
	var got []byte
	err := f.db.View(ctx, func(tx bot.Tx) error {
		var err error
		got, err = tx.GetAttachment(1, len(r.Messages)-1, 0)
		return err
	})
	if err != nil || string(got) != "PNGDATA" {
		t.Errorf("stored attachment %q, %v", got, err)
	}
	if r.Status != bot.StatusOpen || !hasEvent(r, bot.EventResumed) {
		t.Errorf("status %s: an awaiting RFA did not resume", r.Status)
	}
	if r.Report.Site != "Main building" {
		t.Errorf("site = %q, want it filled from the message", r.Report.Site)
	}
	found := false
	for _, e := range r.Events {
		if e.Kind == bot.EventMessage && e.Text == "message added on the status page" && e.Actor == "s@oakprimary.sch.uk" {
			found = true
		}
	}
	if !found {
		t.Errorf("no status-page message event in %+v", r.Events)
	}
	items := f.outbox()
	last := items[len(items)-1]
	if last.Chat == nil || last.Chat.Op != bot.ChatThread || !strings.Contains(last.Chat.Text, "wrote on the status page:") ||
		!strings.Contains(last.Chat.Text, "invoicefdp.exe") {
		t.Errorf("chat post = %+v", last.Chat)
	}
}

// TestRequesterMessageRefusals: an empty message, too many files, an
// answer when no question is open and a message on a closed RFA are
// refused and record nothing.
func TestRequesterMessageRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("rq2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	before := len(f.rfa(1).Events)
	many := make([]bot.Attachment, bot.MaxRequesterFiles+1)
	for i := range many {
		many[i] = bot.Attachment{Name: "f", Data: []byte("x")}
	}
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"empty", func() error { return f.desk.AddMessage(ctx, 1, bot.RequesterMessage{Text: " \r\n\u202e "}) }, bot.ErrInvalid},
		{"too many files", func() error { return f.desk.AddMessage(ctx, 1, bot.RequesterMessage{Text: "x", Attachments: many}) }, bot.ErrInvalid},
		{"answer with no question", func() error { return f.desk.AnswerQuestion(ctx, 1, bot.RequesterMessage{Text: "Edge"}) }, bot.ErrNotAllowed},
		{"no such RFA", func() error { return f.desk.AddMessage(ctx, 9, bot.RequesterMessage{Text: "x"}) }, bot.ErrNotFound},
	}
	for _, c := range cases {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if n := len(f.rfa(1).Events); n != before {
		t.Errorf("refused messages recorded %d events", n-before)
	}
}

// TestAnswerQuestionResumes: the answer to the desk's question resumes
// the clock; a second answer, with no question open, is refused.
func TestAnswerQuestionResumes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("rq3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	if err := f.desk.Ask(ctx, 1, bot.StaffMessage{By: bot.Actor{Name: "P"}, Text: "Which browser?"}); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.AnswerQuestion(ctx, 1, bot.RequesterMessage{Text: "Edge"}); err != nil {
		t.Fatal(err)
	}
	if r := f.rfa(1); r.Status != bot.StatusOpen || !hasEvent(r, bot.EventResumed) {
		t.Errorf("status after the answer = %s", r.Status)
	}
	if err := f.desk.AnswerQuestion(ctx, 1, bot.RequesterMessage{Text: "Edge again"}); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("a second answer: %v", err)
	}
}
