package chat_test

import (
	"testing"
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
