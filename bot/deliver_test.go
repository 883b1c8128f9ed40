package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/mailbox"
	"rfadesk/store"
)

// delivery runs a real Deliverer against a real loopback SMTP server.
type delivery struct {
	smtp   *demo.SMTPCapture
	health *healthLog
}

// healthLog records a deliverer's unhealthy reports, poking changed
// (if set) at each.
type healthLog struct {
	mu      sync.Mutex
	reasons []string
	changed *changes
}

func (h *healthLog) report(ok bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !ok {
		h.reasons = append(h.reasons, reason)
		if h.changed != nil {
			h.changed.poke()
		}
	}
}

func (h *healthLog) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reasons)
}

// runDeliverer runs l until the test ends.
func runDeliverer(t *testing.T, l *bot.Deliverer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (f *fixture) startDelivery(t *testing.T, capOpts *demo.SMTPCaptureOptions, user, pass string) *delivery {
	t.Helper()
	return f.startDeliveryVia(t, capOpts, user, pass, func(s *mailbox.Sender) bot.MailSender { return s })
}

// startDeliveryVia is startDelivery with the real sender wrapped by wrap.
func (f *fixture) startDeliveryVia(t *testing.T, capOpts *demo.SMTPCaptureOptions, user, pass string, wrap func(*mailbox.Sender) bot.MailSender) *delivery {
	t.Helper()
	srv, err := demo.StartSMTPCapture(capOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	sender, err := mailbox.NewSender(mailbox.SMTPConfig{Address: srv.Addr(), Security: "none", Username: user, Password: pass, Timeout: 5 * time.Second},
		mailbox.SenderOptions{From: bot.Address{Name: "Example Service Desk", Email: "support@example.org"}, LoopValue: "support@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	d := &delivery{smtp: srv, health: &healthLog{changed: f.changed}}
	later := f.now.Add(48 * time.Hour) // every item is due from the deliverer's point of view
	l := bot.NewDeliverer(f.desk, bot.MailTransport(wrap(sender)), &bot.DelivererOptions{
		Now:       func() time.Time { return later },
		AuthPause: time.Hour,
		Health:    d.health.report,
	})
	f.kick = l.Kick
	runDeliverer(t, l)
	return d
}

// changes tells a waiting test that something it may be waiting for
// changed: a commit (pokingStore) or a health report (healthLog).
type changes struct {
	mu sync.Mutex
	ch chan struct{} // closed and replaced at each change
}

func newChanges() *changes { return &changes{ch: make(chan struct{})} }

func (c *changes) poke() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.ch)
	c.ch = make(chan struct{})
}

func (c *changes) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// waitFor checks cond now and after each change until it holds. The
// deadline only turns a hang into a readable failure.
func (c *changes) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		changed := c.next()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// pokingStore is the real store, poking changed after every commit.
type pokingStore struct {
	bot.Store
	changed *changes
}

func (s *pokingStore) Update(ctx context.Context, fn func(bot.Tx) error) error {
	err := s.Store.Update(ctx, fn)
	if err == nil {
		s.changed.poke()
	}
	return err
}

func TestDeliveredOnceWithThreadingHeaders(t *testing.T) {
	f := newFixture(t)
	d := f.startDelivery(t, nil, "", "")
	f.ingest(mail("d1@oakprimary.sch.uk", "Sarah|s@oakprimary.sch.uk", "Login broken", fullReport))
	msgs, err := d.smtp.Wait(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	f.changed.waitFor(t, "outbox to empty", func() bool { return len(f.outbox()) == 0 })
	if n := len(d.smtp.Messages()); n != 1 {
		t.Fatalf("server accepted %d mails, want 1", n)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Header
	if !strings.Contains(h.Get("Subject"), "[RFA-1]") || h.Get("In-Reply-To") != "<d1@oakprimary.sch.uk>" ||
		h.Get("Auto-Submitted") != "auto-replied" || h.Get("X-Auto-Response-Suppress") != "All" {
		t.Errorf("headers = %v", h)
	}
	if msgs[0].To[0] != "s@oakprimary.sch.uk" {
		t.Errorf("rcpt = %v", msgs[0].To)
	}
	if !hasEvent(f.rfa(1), bot.EventMailSent) {
		t.Errorf("RFA-1 history lacks mail-sent: %+v", f.rfa(1).Events)
	}
}

func TestTemporaryFailureRetriesThenDelivers(t *testing.T) {
	f := newFixture(t)
	d := f.startDelivery(t, nil, "", "")
	d.smtp.FailNext(demo.FaultRcpt, 451, 1)
	f.ingest(mail("d2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	if _, err := d.smtp.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	f.changed.waitFor(t, "outbox to empty", func() bool { return len(f.outbox()) == 0 })
	if n := len(d.smtp.Messages()); n != 1 {
		t.Errorf("accepted %d, want exactly 1", n)
	}
}

func TestPermanentFailureIsRecordedNotRetried(t *testing.T) {
	f := newFixture(t)
	d := f.startDelivery(t, nil, "", "")
	d.smtp.FailNext(demo.FaultRcpt, 550, 1)
	f.ingest(mail("d3@oakprimary.sch.uk", "gone@oakprimary.sch.uk", "Login", "broken"))
	f.changed.waitFor(t, "the failure on the RFA", func() bool { return hasEvent(f.rfa(1), bot.EventMailFailed) })
	if len(f.outbox()) != 0 || len(d.smtp.Messages()) != 0 {
		t.Errorf("outbox %d, accepted %d: a 5xx must not be retried", len(f.outbox()), len(d.smtp.Messages()))
	}
}

func TestAuthFailurePausesAndKeepsMail(t *testing.T) {
	f := newFixture(t)
	d := f.startDelivery(t, &demo.SMTPCaptureOptions{Username: "desk", Password: "right"}, "desk", "wrong")
	f.ingest(mail("d4@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	f.changed.waitFor(t, "an unhealthy report", func() bool { return len(d.health.all()) > 0 })
	reason := d.health.all()[0]
	if !strings.Contains(reason, "smtp.password") {
		t.Errorf("health reason %q does not name the setting", reason)
	}
	items := f.outbox()
	if len(items) != 1 || items[0].Attempts != 0 {
		t.Errorf("auth failure must keep the mail untouched: %+v", items)
	}
}

func TestStaffAttachmentSurvivesTheOutbox(t *testing.T) {
	f := newFixture(t)
	d := f.startDelivery(t, nil, "", "")
	f.ingest(mail("att1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	if _, err := d.smtp.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4 the release notes")
	err := f.desk.Reply(t.Context(), 1, bot.StaffMessage{By: priya, Text: "Notes attached.",
		Attachments: []bot.Attachment{{Name: "notes.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), Data: pdf, Stored: true}}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := d.smtp.Wait(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msgs[1].Data, []byte("notes.pdf")) {
		t.Errorf("the attachment did not reach the requester:\n%s", msgs[1].Data)
	}
	for _, m := range f.rfa(1).Messages {
		for _, a := range m.Attachments {
			if a.Data != nil {
				t.Errorf("RFA history keeps attachment bytes for %s", a.Name)
			}
		}
	}
}

func TestStoppedDeskAnswersInsteadOfHanging(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "d.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	desk := bot.NewDesk(db, bot.DeskConfig{Address: bot.Address{Email: "support@example.org"}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { desk.Run(ctx); close(done) }()
	cancel()
	<-done
	err = desk.RecordDelivery(context.Background(), bot.OutboxItem{ID: 1}, bot.DeliveryResult{}, nil)
	if !errors.Is(err, bot.ErrStopped) {
		t.Errorf("RecordDelivery after Run returned: %v, want ErrStopped", err)
	}
}

// preparingSpy is the real sender, remembering the outcome of each
// PrepareMail: which mails were prepared ahead, and which preparations
// failed.
type preparingSpy struct {
	*mailbox.Sender
	mu       sync.Mutex
	prepared []string // first recipient of each mail prepared
	failed   []string // ... whose preparation failed
}

func (s *preparingSpy) PrepareMail(ctx context.Context, m *bot.OutgoingMail) (bot.PreparedMail, error) {
	p, err := s.Sender.PrepareMail(ctx, m)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prepared = append(s.prepared, m.To[0].Email)
	if err != nil {
		s.failed = append(s.failed, m.To[0].Email)
	}
	return p, err
}

func TestPreparedAheadFailureIsRetriedAndNothingDoubles(t *testing.T) {
	f := newFixture(t)
	var srv *demo.SMTPCapture
	var accepted int
	var mu sync.Mutex
	spy := &preparingSpy{}
	d := f.startDeliveryVia(t, &demo.SMTPCaptureOptions{OnAccept: func(demo.CapturedMail) {
		mu.Lock()
		defer mu.Unlock()
		accepted++
		if accepted == 2 {
			// The third mail is being prepared while the second's result
			// is recorded: make its RCPT fail once.
			srv.FailNext(demo.FaultRcpt, 451, 1)
		}
	}}, "", "", func(s *mailbox.Sender) bot.MailSender { spy.Sender = s; return spy })
	srv = d.smtp
	var batch []*bot.Mail
	for i := range 5 {
		batch = append(batch, mail(fmt.Sprintf("pa%d@oakprimary.sch.uk", i), fmt.Sprintf("r%d@oakprimary.sch.uk", i), "Login", "broken"))
	}
	f.ingest(batch...)
	if _, err := d.smtp.Wait(t.Context(), 5); err != nil {
		t.Fatal(err)
	}
	f.changed.waitFor(t, "outbox to empty", func() bool { return len(f.outbox()) == 0 })
	seen := map[string]int{}
	for _, m := range d.smtp.Messages() {
		seen[m.To[0]]++
	}
	for i := range 5 {
		if n := seen[fmt.Sprintf("r%d@oakprimary.sch.uk", i)]; n != 1 {
			t.Errorf("r%d got %d acknowledgements, want 1", i, n)
		}
	}
	// The mechanism: the third mail was prepared ahead, and it is that
	// preparation the server refused for now.
	spy.mu.Lock()
	defer spy.mu.Unlock()
	if !slices.Equal(spy.failed, []string{"r2@oakprimary.sch.uk"}) || !slices.Contains(spy.prepared, "r1@oakprimary.sch.uk") {
		t.Errorf("prepared ahead %v, failed %v; want the 451 on the third mail's preparation", spy.prepared, spy.failed)
	}
}

// refusingStore is the real store with one injected fault: while
// refuse is set, the next Update fails as a full disk would.
type refusingStore struct {
	bot.Store
	refuse atomic.Bool
}

func (s *refusingStore) Update(ctx context.Context, fn func(bot.Tx) error) error {
	if s.refuse.CompareAndSwap(true, false) {
		return errors.New("injected: no space left on device")
	}
	return s.Store.Update(ctx, fn)
}

func TestAcceptedMailIsNeverSentAgainWhenItsRecordFails(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "d.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &refusingStore{Store: db}
	changed := newChanges()
	var l *bot.Deliverer
	desk := bot.NewDesk(&pokingStore{Store: st, changed: changed}, bot.DeskConfig{Name: "Desk", Address: bot.Address{Email: "support@example.org"}, BaseURL: "https://x.example"},
		&bot.DeskOptions{OnOutbox: func() { l.Kick() }})
	srv, err := demo.StartSMTPCapture(&demo.SMTPCaptureOptions{OnAccept: func(demo.CapturedMail) { st.refuse.Store(true) }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sender, err := mailbox.NewSender(mailbox.SMTPConfig{Address: srv.Addr(), Security: "none"}, mailbox.SenderOptions{From: bot.Address{Email: "support@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	health := &healthLog{}
	l = bot.NewDeliverer(desk, bot.MailTransport(sender), &bot.DelivererOptions{Health: health.report})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go desk.Run(ctx)
	go l.Run(ctx)
	if _, err := desk.Ingest(ctx, "INBOX", 1, []bot.Fetched{{UID: 1, Mail: mail("rf@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken")}}); err != nil {
		t.Fatal(err)
	}
	changed.waitFor(t, "the outbox to empty once the store works again", func() bool {
		items, _ := desk.Outbox(ctx)
		return len(items) == 0
	})
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("the SMTP server got the mail %d times, want once", n)
	}
	if got := health.all(); len(got) == 0 || !strings.Contains(got[0], "cannot record") {
		t.Errorf("health reports = %q", got)
	}
}

func TestOneRefusedManagerDoesNotStopTheOthers(t *testing.T) {
	// Escalations are mailed to two managers; the first has left.
	f := newFixtureWith(t, func(c *bot.DeskConfig) {
		c.Managers = []bot.Address{{Email: "gone@example.org"}, {Email: "boss@example.org"}}
	})
	d := f.startDelivery(t, nil, "", "")
	srv := d.smtp
	f.ingest(mail("pm1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	if _, err := srv.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(demo.FaultRcpt, 550, 1)
	if err := f.desk.Escalate(t.Context(), 1, bot.Actor{ID: "s@oakprimary.sch.uk"}, "by test", ""); err != nil {
		t.Fatal(err)
	}
	f.changed.waitFor(t, "the outbox to empty", func() bool { return len(f.outbox()) == 0 })
	var toBoss bool
	for _, m := range srv.Messages() {
		if slices.Equal(m.To, []string{"boss@example.org"}) {
			toBoss = true
		}
	}
	if !toBoss {
		t.Errorf("the remaining manager got nothing: %+v", srv.Messages())
	}
	r := f.rfa(1)
	var failed bool
	for _, e := range r.Events {
		if e.Kind == bot.EventMailFailed && strings.Contains(e.Text, "gone@example.org") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("the refused manager is not on the RFA: %+v", r.Events)
	}
}
