package chat_test

import (
	"testing"

	"rfadesk/bot"
)

// TestRestartCatchesUp stops the daemon, has staff reply in the thread
// while it is down, and starts a new console over the same store: the
// reply is emailed and no RFA is posted again.
func TestRestartCatchesUp(t *testing.T) {
	e := newEnv(t)
	e.start()
	r := e.newRFA(1, "b1@oakprimary.sch.uk", "Projector offline", fullReport)
	thread := r.Chat.ThreadID
	e.wait("the acknowledgement", func() bool { return len(e.mails("Projector offline")) == 1 })
	e.stop()

	early := e.fake.AddMessage(thread, priya, "Replied while rfadesk was down.")
	e.fake.AddMessage(thread, mallory, "A bystander's remark.")
	late := e.fake.AddMessage(thread, priya, "note: and a note while down")

	e.start()
	e.wait("the reply made while down", func() bool { return len(e.mails("Replied while rfadesk was down.")) == 1 })
	e.wait("the note", func() bool { return e.rfa(1).Chat.LastSeen == late.ID })
	r = e.rfa(1)
	if !hasEvent(r, "note", "discord:"+priya) || len(e.mails("bystander")) != 0 {
		t.Errorf("events = %+v", r.Events)
	}
	e.wait("the ✅ on the early reply", func() bool { m, _ := e.fake.Message(early.ID); return len(m.Reactions) == 1 })
	if n := len(e.fake.Messages(channelID)); n != 1 {
		t.Errorf("channel has %d cards after the restart, want 1", n)
	}
	if n := requests(e, "POST", "/channels/", "/threads"); n != 1 {
		t.Errorf("%d threads opened, want 1", n)
	}
	if e.fake.Identifies() != 2 {
		t.Errorf("identifies = %d, want 2", e.fake.Identifies())
	}
}

// TestMessageInAThreadTheDeskHasNotRecordedYet: Discord has created the
// thread but the desk has not yet recorded it (its chat deliverer has
// not reported back); a staff reply posted in that moment still reaches
// the requester.
func TestMessageInAThreadTheDeskHasNotRecordedYet(t *testing.T) {
	e := newEnv(t)
	e.manualChat = true
	e.start()
	e.ingest("u1@oakprimary.sch.uk", "Whiteboard offline", fullReport)
	e.wait("the acknowledgement", func() bool { return len(e.mails("Whiteboard offline")) == 1 })
	var card bot.OutboxItem
	for _, it := range mustOutbox(t, e) {
		if it.Kind == bot.OutboxChat && it.Chat.Op == bot.ChatNewRFA {
			card = it
		}
	}
	rcpt, err := e.console.Transport().Deliver(t.Context(), card) // the desk is not told
	if err != nil || rcpt.ChatThreadID == "" {
		t.Fatalf("card: %+v %v", rcpt, err)
	}
	if e.rfa(1).Chat.ThreadID != "" {
		t.Fatal("the desk knows the thread already: the test proves nothing")
	}
	e.fake.Say(rcpt.ChatThreadID, priya, "Posted the moment the thread appeared.")
	e.wait("the reply by email", func() bool { return len(e.mails("Posted the moment the thread appeared.")) == 1 })
}

// TestConsoleLeadsAgain runs the same console a second time after its
// first run ended, as an instance that loses its leadership term and wins
// another does: the second run opens the gateway again and catches up on
// what staff wrote in between, and nothing is posted twice.
func TestConsoleLeadsAgain(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.newRFA(1, "b1@oakprimary.sch.uk", "Projector offline", fullReport)
	e.wait("the acknowledgement", func() bool { return len(e.mails("Projector offline")) == 1 })
	thread := e.rfa(1).Chat.ThreadID
	e.stopConsole()

	e.fake.AddMessage(thread, priya, "Replied while another instance led.")
	e.runConsole()
	e.wait("the reply made in between", func() bool { return len(e.mails("Replied while another instance led.")) == 1 })
	if n := e.fake.Identifies() + e.fake.Resumes(); n != 2 {
		t.Errorf("identifies + resumes = %d, want 2 (the gateway opened again)", n)
	}
	if n := len(e.fake.Messages(channelID)); n != 1 {
		t.Errorf("channel has %d cards, want 1", n)
	}
}
