package bot_test

import (
	"bytes"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/demo/faultproxy"
	"rfadesk/mailbox"
)

// The tests in this file run a real Desk on a bbolt file and a real mail
// Deliverer with the real mailbox.Sender, through demo/faultproxy to the
// demo SMTP capture, and check that each fault ends as mailbox/smtp.go
// classifies it and bot/deliver.go handles it: temporary → retried and
// delivered once; permanent → recorded on the RFA, never retried; auth →
// sending paused, an alarm naming the setting, the mail kept and sent
// once the pause ends. Counts are by Message-ID at the capture.

// faultyDelivery is a delivery whose sender dials through a proxy.
type faultyDelivery struct {
	*delivery
	proxy *faultproxy.Proxy
}

// startFaultyDelivery starts the capture (capOpts), a proxy in front of
// it, and a deliverer whose clock runs two days ahead of the desk's and
// moves with real time (so retries are due at once and a credentials
// pause of authPause ends).
func (f *fixture) startFaultyDelivery(t *testing.T, capOpts *demo.SMTPCaptureOptions, user, pass string, authPause time.Duration) *faultyDelivery {
	t.Helper()
	srv, err := demo.StartSMTPCapture(capOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p, err := faultproxy.New(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	sender, err := mailbox.NewSender(mailbox.SMTPConfig{Address: p.Addr(), Security: "none", Username: user, Password: pass, Timeout: 5 * time.Second},
		mailbox.SenderOptions{From: bot.Address{Name: "Example Service Desk", Email: "support@example.org"}, LoopValue: "support@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	d := &faultyDelivery{delivery: &delivery{smtp: srv, health: &healthLog{changed: f.changed}}, proxy: p}
	start := time.Now()
	l := bot.NewDeliverer(f.desk, bot.MailTransport(sender), &bot.DelivererOptions{
		Now:       func() time.Time { return f.now.Add(48*time.Hour + time.Since(start)) },
		AuthPause: authPause,
		Health:    d.health.report,
	})
	f.kick = l.Kick
	runDeliverer(t, l)
	return d
}

// byMessageID counts the accepted mails by Message-ID.
func (d *faultyDelivery) byMessageID(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, m := range d.smtp.Messages() {
		msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("captured mail does not parse: %v", err)
		}
		n[msg.Header.Get("Message-Id")]++
	}
	return n
}

// onlyOnce fails unless exactly want mails were accepted, each once.
func (d *faultyDelivery) onlyOnce(t *testing.T, want int) {
	t.Helper()
	ids := d.byMessageID(t)
	if len(ids) != want {
		t.Errorf("accepted %d distinct mails, want %d: %v", len(ids), want, ids)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("mail %s accepted %d times, want once", id, n)
		}
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("gave up waiting for %s", what)
	}
}

// A connection cut just as the server says "354" (go ahead with DATA)
// leaves the server without the mail; the outbox retries it on a new
// connection and it is accepted once.
func TestSMTPFaultCutMidDataIsRetriedOnce(t *testing.T) {
	f := newFixture(t)
	d := f.startFaultyDelivery(t, nil, "", "", time.Hour)
	fired := d.proxy.CutNext(faultproxy.Cut{When: []byte("354 ")})
	f.ingest(mail("cut1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	waitClosed(t, fired, "the cut at 354")
	f.changed.waitFor(t, "outbox to empty", func() bool { return len(f.outbox()) == 0 })
	d.onlyOnce(t, 1)
	if !hasEvent(f.rfa(1), bot.EventMailSent) || hasEvent(f.rfa(1), bot.EventMailFailed) {
		t.Errorf("RFA-1 events %+v: want the mail sent, no failure", f.rfa(1).Events)
	}
	if d.proxy.Accepted() < 2 {
		t.Errorf("%d connections: the retry must use a new one", d.proxy.Accepted())
	}
}

// A connection lost after the server accepted the mail but before its
// 250 reached us is the one case SMTP cannot tell from a lost mail: the
// outbox retries, and the mail arrives exactly twice, under the same
// Message-ID (so the recipient's client shows one). That is the
// designed bound; no other mail is doubled.
func TestSMTPFaultDisconnectAfterDataDoublesAtMostThatMail(t *testing.T) {
	f := newFixture(t)
	var (
		mu     sync.Mutex
		proxy  *faultproxy.Proxy
		cutOne = true
	)
	d := f.startFaultyDelivery(t, &demo.SMTPCaptureOptions{OnAccept: func(demo.CapturedMail) {
		// Runs after the capture recorded the mail and before it writes
		// 250: the reply is lost with the connection.
		mu.Lock()
		defer mu.Unlock()
		if cutOne && proxy != nil {
			cutOne = false
			for _, c := range proxy.Conns() {
				c.Cut()
			}
		}
	}}, "", "", time.Hour)
	mu.Lock()
	proxy = d.proxy
	mu.Unlock()
	f.ingest(mail("dup1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	f.changed.waitFor(t, "outbox to empty", func() bool { return len(f.outbox()) == 0 })
	f.ingest(mail("dup2@oakprimary.sch.uk", "t@oakprimary.sch.uk", "Printer", "jammed"))
	f.changed.waitFor(t, "outbox to empty", func() bool { return len(f.outbox()) == 0 && len(d.smtp.Messages()) == 3 })
	ids := d.byMessageID(t)
	twice := 0
	for id, n := range ids {
		switch n {
		case 1:
		case 2:
			twice++
		default:
			t.Errorf("mail %s accepted %d times", id, n)
		}
	}
	if len(ids) != 2 || twice != 1 {
		t.Errorf("accepted %v: want two mails, the first exactly twice and the second once", ids)
	}
}

// Each SMTP reply code ends as designed.
func TestSMTPFaultRepliesEndAsDesigned(t *testing.T) {
	type outcome int
	const (
		retried outcome = iota // delivered once after the fault
		refused                // recorded on the RFA, never delivered, never retried
		paused                 // an alarm, the mail kept, delivered once after the pause
	)
	for _, tc := range []struct {
		name  string
		stage string
		code  int
		want  outcome
	}{
		{"421 at greeting", demo.FaultConnect, 421, retried},
		{"451 on RCPT", demo.FaultRcpt, 451, retried},
		{"452 on RCPT", demo.FaultRcpt, 452, retried},
		{"452 at end of DATA", demo.FaultData, 452, retried},
		{"552 at end of DATA", demo.FaultData, 552, refused},
		// The capture answers with the enhanced code 5.0.0; rfadesk
		// classifies by the basic code, so 550 5.1.1 ends the same way.
		{"550 on RCPT", demo.FaultRcpt, 550, refused},
		{"535 on AUTH", demo.FaultAuth, 535, paused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			capOpts := &demo.SMTPCaptureOptions{Username: "desk", Password: "right"}
			d := f.startFaultyDelivery(t, capOpts, "desk", "right", 300*time.Millisecond)
			d.smtp.FailNext(tc.stage, tc.code, 1)
			f.ingest(mail("code@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
			f.changed.waitFor(t, "outbox to empty", func() bool { return len(f.outbox()) == 0 })
			r := f.rfa(1)
			switch tc.want {
			case retried, paused:
				d.onlyOnce(t, 1)
				if !hasEvent(r, bot.EventMailSent) || hasEvent(r, bot.EventMailFailed) {
					t.Errorf("events %+v: want the mail sent, no failure", r.Events)
				}
			case refused:
				d.onlyOnce(t, 0)
				if !hasEvent(r, bot.EventMailFailed) {
					t.Errorf("events %+v: want the refusal recorded", r.Events)
				}
			}
			alarms := d.health.all()
			authAlarm := len(alarms) > 0 && strings.Contains(alarms[0], "credentials refused") && strings.Contains(alarms[0], "smtp.password")
			if (tc.want == paused) != authAlarm {
				t.Errorf("health alarms %q; want a credentials alarm only for an auth failure", alarms)
			}
		})
	}
}
