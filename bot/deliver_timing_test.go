package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// These tests are about when a Deliverer sends, so they run in a
// synctest bubble: time only moves when every goroutine waits, and a
// delivery that happens without time moving was woken by a kick, not
// by a timer. They meet the deliverer at its own interfaces
// (bot.MailSender, bot.Transport); how SMTP failures are classified is
// the mailbox package's tests' business, and deliver_test.go runs the
// deliverer against a real SMTP server.

// timedDesk is a desk on a real store whose clock is the bubble's.
type timedDesk struct {
	desk *bot.Desk
	uid  uint32
}

// newTimedDesk starts a desk inside the current bubble; onOutbox is
// DeskOptions.OnOutbox.
func newTimedDesk(t *testing.T, tweak func(*bot.DeskConfig), onOutbox func()) *timedDesk {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "desk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := bot.DeskConfig{
		Name: "Example Service Desk", Address: bot.Address{Email: "support@example.org"},
		BaseURL: "https://support.example.org/", Organisations: testOrgs,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	td := &timedDesk{desk: bot.NewDesk(db, cfg, &bot.DeskOptions{OnOutbox: onOutbox, Logger: testLogger(t)})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { td.desk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return td
}

// testLogger writes to the test's output.
func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

func (td *timedDesk) ingest(t *testing.T, m *bot.Mail) {
	t.Helper()
	td.uid++
	if _, err := td.desk.Ingest(context.Background(), "INBOX", 1, []bot.Fetched{{UID: td.uid, Mail: m}}); err != nil {
		t.Fatal(err)
	}
}

// handedOver is one item a test transport was given, and when.
type handedOver struct {
	item bot.OutboxItem
	at   time.Time
}

// recordingTransport accepts every item of its kind and remembers it.
type recordingTransport struct {
	kind bot.OutboxKind
	mu   sync.Mutex
	got  []handedOver
}

func (r *recordingTransport) Kind() bot.OutboxKind { return r.kind }

func (r *recordingTransport) Deliver(_ context.Context, item bot.OutboxItem) (bot.DeliveryResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, handedOver{item, time.Now()})
	return bot.DeliveryResult{}, nil
}

func (r *recordingTransport) all() []handedOver {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// scriptedSender is a MailSender that answers each Send with the next
// error of its script (nil once the script is used up) and remembers
// every attempt.
type scriptedSender struct {
	mu       sync.Mutex
	script   []error
	attempts []time.Time
}

func (s *scriptedSender) Send(context.Context, *bot.OutgoingMail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, time.Now())
	if len(s.script) == 0 {
		return nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return err
}

func (s *scriptedSender) tries() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

// TestChatPostBesideRateLimitedEscalationIsKicked: a requester's reply
// that asks to escalate again within the hour queues a chat post (the
// reply, in the RFA's thread) while the escalation itself queues
// nothing. The chat deliverer must be kicked by that commit, not left
// for its idle timer: the post is handed over before any time passes.
func TestChatPostBesideRateLimitedEscalationIsKicked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var chat *bot.Deliverer
		td := newTimedDesk(t, func(c *bot.DeskConfig) {
			c.Chat = true
			c.Managers = []bot.Address{{Email: "boss@example.org"}}
		}, func() { chat.Kick() }) // wired as the daemon wires it
		tr := &recordingTransport{kind: bot.OutboxChat}
		chat = bot.NewDeliverer(td.desk, tr, &bot.DelivererOptions{Idle: time.Hour, Logger: testLogger(t)})
		runDeliverer(t, chat)

		first := mail("esc1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login broken", "It fails.")
		td.ingest(t, first)
		if err := td.desk.Escalate(t.Context(), 1, bot.Actor{ID: "s@oakprimary.sch.uk"}, "from the status page", ""); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		before := len(tr.all())

		start := time.Now()
		again := mail("esc2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: Login broken", "escalate\n\nStill nothing.")
		again.InReplyTo = []string{first.MessageID}
		td.ingest(t, again)
		synctest.Wait()

		r, err := td.desk.RFA(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if e := r.Events[len(r.Events)-1]; e.Kind != bot.EventEscalated || !strings.Contains(e.Text, "manager not told again") {
			t.Fatalf("the reply was not a rate-limited repeat escalation; last event %+v", e)
		}
		var posted []handedOver
		for _, h := range tr.all()[before:] {
			if h.item.Chat.Op == bot.ChatThread {
				posted = append(posted, h)
			}
		}
		if len(posted) != 1 {
			t.Fatalf("the reply's chat post was not handed over while no time passed (%d thread posts): the commit did not kick the chat deliverer", len(posted))
		}
		if !posted[0].at.Equal(start) {
			t.Errorf("posted at +%v, want at once (woken by the idle timer, not a kick)", posted[0].at.Sub(start))
		}
	})
}

// TestCredentialsPauseHoldsWhenKicked: after the server refuses our
// credentials the deliverer waits AuthPause, and kicks (every commit
// that enqueues mail) do not make it try the refused credentials again.
func TestCredentialsPauseHoldsWhenKicked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pause = 10 * time.Minute
		td := newTimedDesk(t, nil, nil)
		authErr := &bot.DeliveryError{Failure: bot.DeliveryAuth, Code: 535, Err: errors.New("535 5.7.8 bad credentials")}
		s := &scriptedSender{script: []error{authErr}}
		health := &healthLog{}
		l := bot.NewDeliverer(td.desk, bot.MailTransport(s), &bot.DelivererOptions{AuthPause: pause, Health: health.report, Idle: time.Hour, Logger: testLogger(t)})
		runDeliverer(t, l)
		start := time.Now()
		td.ingest(t, mail("kp1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
		synctest.Wait()
		if n := len(s.tries()); n != 1 {
			t.Fatalf("%d attempts after the first mail, want 1", n)
		}
		for i := range 5 { // each commit kicks the deliverer
			td.ingest(t, mail(fmt.Sprintf("kp%d@oakprimary.sch.uk", i+2), fmt.Sprintf("k%d@oakprimary.sch.uk", i), "Login", "broken"))
			time.Sleep(time.Minute)
		}
		synctest.Wait()
		if n := len(s.tries()); n != 1 {
			t.Errorf("%d attempts during the pause, want 1 (a kick retried the refused credentials)", n)
		}
		if got := health.all(); len(got) != 1 || !strings.Contains(got[0], "smtp.password") {
			t.Errorf("health reports = %q, want one naming smtp.password", got)
		}
		time.Sleep(pause - 5*time.Minute) // to the end of the pause
		synctest.Wait()
		tries := s.tries()
		if len(tries) != 7 {
			t.Fatalf("%d attempts after the pause, want 7 (the held mail, then the 5 queued)", len(tries))
		}
		if got := tries[1].Sub(start); got != pause {
			t.Errorf("sending resumed after %v, want the pause (%v)", got, pause)
		}
	})
}

// TestTemporaryFailureSleepsUntilTheRetryIsDue: after a temporary
// failure the deliverer sleeps until the item's next attempt (read from
// the due index), not until its idle timer, and not less.
func TestTemporaryFailureSleepsUntilTheRetryIsDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		td := newTimedDesk(t, nil, nil)
		s := &scriptedSender{script: []error{&bot.DeliveryError{Failure: bot.DeliveryTemporary, Code: 451, Err: errors.New("451 try later")}}}
		l := bot.NewDeliverer(td.desk, bot.MailTransport(s), &bot.DelivererOptions{Idle: time.Hour, Logger: testLogger(t)})
		runDeliverer(t, l)
		start := time.Now()
		td.ingest(t, mail("tf1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
		synctest.Wait()
		items, err := td.desk.Outbox(t.Context())
		if err != nil || len(items) != 1 || items[0].Attempts != 1 {
			t.Fatalf("after a 451: outbox %+v, %v; want the item with one attempt", items, err)
		}
		due := items[0].NextAttempt
		if d := due.Sub(start); d < 30*time.Second || d > 36*time.Second {
			t.Fatalf("next attempt in %v, want RetryDelay(1): 30s plus up to 20%%", d)
		}
		time.Sleep(due.Sub(time.Now()) - time.Nanosecond)
		synctest.Wait()
		if n := len(s.tries()); n != 1 {
			t.Fatalf("%d attempts before the retry was due, want 1", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		tries := s.tries()
		if len(tries) != 2 || !tries[1].Equal(due) {
			t.Fatalf("attempts at %v, want the retry at %v (the next attempt)", tries, due)
		}
		if items, _ := td.desk.Outbox(t.Context()); len(items) != 0 {
			t.Errorf("outbox after the retry was accepted: %+v", items)
		}
	})
}
