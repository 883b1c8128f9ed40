package chat_test

import (
	"strings"
	"testing"

	"rfadesk/bot"
	"rfadesk/chat/discordtest"
)

// queue runs /desk queue and returns its answer, direct or deferred; it
// must be ephemeral either way.
func (e *env) queue(channel, user string) discordtest.CallbackData {
	e.t.Helper()
	id := e.fake.Slash(channel, user, "desk", "queue")
	cb := e.callback(id)
	switch {
	case cb.Type == 4 && cb.Ephemeral():
		return cb.Decode()
	case cb.Type == 5 && cb.Ephemeral():
		var d discordtest.CallbackData
		e.wait("the deferred answer", func() bool {
			var ok bool
			d, ok = e.fake.Edited(id)
			return ok
		})
		return d
	}
	e.t.Fatalf("/desk queue answered %+v, want an ephemeral answer or deferral", cb)
	return discordtest.CallbackData{}
}

// TestQueueAnswerDeferred: a /desk queue that outlasts DeferAfter is
// deferred (Discord's "thinking…", to the caller only) and the list then
// replaces the deferred reply; cleared RFAs are not listed.
func TestQueueAnswerDeferred(t *testing.T) {
	e := newEnv(t)
	e.deferAfter = -1 // every slow command outlasts it
	e.start()
	e.newRFA(1, "q1@oakprimary.sch.uk", "Projector offline", fullReport)
	e.newRFA(2, "q2@oakprimary.sch.uk", "Printer jammed", fullReport)
	if err := e.desk.Clear(t0, 2, bot.StaffMessage{By: bot.Actor{Name: "Priya Shah"}, Text: "Cleared the jam."}); err != nil {
		t.Fatal(err)
	}
	id := e.fake.Slash(channelID, priya, "desk", "queue")
	if cb := e.callback(id); cb.Type != 5 || !cb.Ephemeral() {
		t.Fatalf("first answer = %+v, want a deferred ephemeral response (type 5, flags 64)", cb)
	}
	var d discordtest.CallbackData
	e.wait("the deferred answer", func() bool {
		var ok bool
		d, ok = e.fake.Edited(id)
		return ok
	})
	if !strings.Contains(d.Content, "**Open RFAs (1)**") || !strings.Contains(d.Content, "RFA-1") || strings.Contains(d.Content, "RFA-2") {
		t.Errorf("deferred answer = %q, want RFA-1 only", d.Content)
	}
	// A member without the staff role is refused in the same way.
	id = e.fake.Slash(channelID, mallory, "desk", "queue")
	e.callback(id)
	e.wait("the refusal", func() bool { _, ok := e.fake.Edited(id); return ok })
	if d, _ := e.fake.Edited(id); !strings.Contains(d.Content, "staff role") {
		t.Errorf("refusal = %q", d.Content)
	}
}

// TestCatchUpReadsOnlyOpenRFAs: after a restart the console catches up
// on the threads of open RFAs and does not even read those of closed
// ones.
func TestCatchUpReadsOnlyOpenRFAs(t *testing.T) {
	e := newEnv(t)
	e.start()
	open := e.newRFA(1, "c1@oakprimary.sch.uk", "Projector offline", fullReport)
	closed := e.newRFA(2, "c2@oakprimary.sch.uk", "Printer jammed", fullReport)
	e.wait("the acknowledgements", func() bool { return len(e.mails("Printer jammed")) == 1 && len(e.mails("Projector offline")) == 1 })
	e.stop()
	// RFA-2 is closed while the desk is down, as years of archive are.
	err := e.db.Update(t0, func(tx bot.Tx) error {
		r, err := tx.RFA(2)
		if err != nil {
			return err
		}
		r.Status = bot.StatusClosed
		return tx.PutRFA(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.AddMessage(open.Chat.ThreadID, priya, "Replied on the open one while down.")
	e.fake.AddMessage(closed.Chat.ThreadID, priya, "Written in a closed RFA's thread.")
	before := requests(e, "GET", "/channels/"+closed.Chat.ThreadID+"/messages", "")

	e.start()
	e.wait("the reply on the open RFA", func() bool { return len(e.mails("Replied on the open one while down.")) == 1 })
	if requests(e, "GET", "/channels/"+open.Chat.ThreadID+"/messages", "") == 0 {
		t.Fatal("the open RFA's thread was not read: the request count proves nothing")
	}
	if n := requests(e, "GET", "/channels/"+closed.Chat.ThreadID+"/messages", ""); n != before {
		t.Errorf("the closed RFA's thread was read %d times at the restart, want 0", n-before)
	}
	if len(e.mails("closed RFA's thread")) != 0 {
		t.Error("a message in a closed RFA's thread was mailed")
	}
}
