package bot_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/mailbox"
)

// TestDelivererObservesEachDurableResult: Observe is told every attempt's
// result once it is recorded, a classified failure first and then the
// delivery, with the item's RFA.
func TestDelivererObservesEachDurableResult(t *testing.T) {
	f := newFixture(t)
	srv, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	sender, err := mailbox.NewSender(mailbox.SMTPConfig{Address: srv.Addr(), Security: "none", Timeout: 5 * time.Second},
		mailbox.SenderOptions{From: bot.Address{Email: "support@example.org"}, LoopValue: "support@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		rfa        uint64
		purpose    string
		err        error
		outboxLeft int
	}
	var mu sync.Mutex
	var got []seen
	later := f.now.Add(48 * time.Hour)
	l := bot.NewDeliverer(f.desk, bot.MailTransport(sender), &bot.DelivererOptions{
		Now: func() time.Time { return later },
		Observe: func(item bot.OutboxItem, err error) {
			left := len(f.outbox())
			mu.Lock()
			defer mu.Unlock()
			got = append(got, seen{item.RFA, item.Mail.Purpose, err, left})
			f.changed.poke()
		},
	})
	f.kick = l.Kick
	runDeliverer(t, l)
	srv.FailNext(demo.FaultRcpt, 451, 1)
	f.ingest(mail("o1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	f.changed.waitFor(t, "two observed results", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	var de *bot.DeliveryError
	first, second := got[0], got[1]
	if first.rfa != 1 || first.err == nil || (errors.As(first.err, &de) && de.Failure != bot.DeliveryTemporary) || first.outboxLeft != 1 {
		t.Errorf("first observed = %+v, want RFA-1's temporary failure with the item still pending", first)
	}
	if second.rfa != 1 || second.err != nil || second.purpose != "acknowledgement" || second.outboxLeft != 0 {
		t.Errorf("second observed = %+v, want RFA-1's acknowledgement delivered and gone from the outbox", second)
	}
	if len(got) != 2 {
		t.Errorf("observed %d results, want 2: %+v", len(got), got)
	}
}
