package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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

// countingStore is the real store, counting committed-or-not Updates
// and refusing the next one while refuse is set (a full disk).
type countingStore struct {
	bot.Store
	updates atomic.Int32
	refuse  atomic.Bool
}

func (s *countingStore) Update(ctx context.Context, fn func(bot.Tx) error) error {
	s.updates.Add(1)
	if s.refuse.CompareAndSwap(true, false) {
		return errors.New("injected: no space left on device")
	}
	return s.Store.Update(ctx, fn)
}

// appendRefusingLog is the real receipt log whose Append fails while
// refuse is set.
type appendRefusingLog struct {
	*store.Receipts
	refuse atomic.Bool
}

func (l *appendRefusingLog) Append(r bot.DeliveryReceipt) error {
	if l.refuse.Load() {
		return errors.New("injected: receipt log write failed")
	}
	return l.Receipts.Append(r)
}

// receiptRig is a desk on a counting store, a receipt log beside it and
// a loopback SMTP server; start runs a mail deliverer with the log.
type receiptRig struct {
	st       *countingStore
	desk     *bot.Desk
	receipts *store.Receipts
	smtp     *demo.SMTPCapture
	kick     func()
	health   healthLog
	changed  *changes
	// batch is DelivererOptions.ReceiptBatch for start (0: the default).
	batch int
}

func newReceiptRig(t *testing.T, capOpts *demo.SMTPCaptureOptions) *receiptRig {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "d.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rc, err := store.OpenReceipts(store.ReceiptsPath(db.Path()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	g := &receiptRig{st: &countingStore{Store: db}, receipts: rc, kick: func() {}, changed: newChanges()}
	g.health.changed = g.changed
	g.desk = bot.NewDesk(&pokingStore{Store: g.st, changed: g.changed}, bot.DeskConfig{Name: "Desk", Address: bot.Address{Email: "support@example.org"}, BaseURL: "https://x.example", Organisations: testOrgs},
		&bot.DeskOptions{OnOutbox: func() { g.kick() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.desk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	g.smtp, err = demo.StartSMTPCapture(capOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.smtp.Close() })
	return g
}

// pokingLog is a receipt log that pokes changed when it is truncated.
type pokingLog struct {
	bot.ReceiptLog
	changed *changes
}

func (l *pokingLog) Truncate() error {
	err := l.ReceiptLog.Truncate()
	l.changed.poke()
	return err
}

// waitSettled waits until the outbox and the receipt log are empty.
func (g *receiptRig) waitSettled(t *testing.T) {
	t.Helper()
	g.changed.waitFor(t, "the outbox and the receipt log to empty", func() bool {
		items, _ := g.desk.Outbox(context.Background())
		all, _ := g.receipts.All()
		return len(items) == 0 && len(all) == 0
	})
}

func (g *receiptRig) start(t *testing.T, log bot.ReceiptLog) {
	t.Helper()
	sender, err := mailbox.NewSender(mailbox.SMTPConfig{Address: g.smtp.Addr(), Security: "none"}, mailbox.SenderOptions{From: bot.Address{Email: "support@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	l := bot.NewDeliverer(g.desk, bot.MailTransport(sender), &bot.DelivererOptions{Receipts: &pokingLog{log, g.changed}, Health: g.health.report, ReceiptBatch: g.batch})
	g.kick = l.Kick
	runDeliverer(t, l)
	l.Kick()
}

// ingest records n mails from distinct requesters in one batch, each
// acknowledged by one outbox item.
func (g *receiptRig) ingest(t *testing.T, from, n int) {
	t.Helper()
	batch := make([]bot.Fetched, n)
	for i := range n {
		k := from + i
		batch[i] = bot.Fetched{UID: uint32(k), Mail: mail(fmt.Sprintf("rc%d@oakprimary.sch.uk", k), fmt.Sprintf("r%d@oakprimary.sch.uk", k), "Login", "broken")}
	}
	if _, err := g.desk.Ingest(context.Background(), "INBOX", 1, batch); err != nil {
		t.Fatal(err)
	}
}

// checkDelivered asserts that the outbox is empty, the receipt log is
// empty, and each of the n RFAs was sent one acknowledgement and has
// exactly one mail-sent event.
func (g *receiptRig) checkDelivered(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	g.waitSettled(t)
	perRcpt := map[string]int{}
	for _, m := range g.smtp.Messages() {
		perRcpt[m.To[0]]++
	}
	for num := uint64(1); num <= uint64(n); num++ {
		r, err := g.desk.RFA(ctx, num)
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, e := range r.Events {
			if e.Kind == bot.EventMailSent {
				sent++
			}
		}
		if sent != 1 {
			t.Errorf("%s has %d mail-sent events, want 1", r.Ref(), sent)
		}
		if c := perRcpt[r.Requester.Email]; c != 1 {
			t.Errorf("%s: the SMTP server got %d acknowledgements, want 1", r.Requester.Email, c)
		}
	}
	all, err := g.receipts.All()
	if err != nil || len(all) != 0 {
		t.Errorf("receipt log after the batches were applied: %d receipts, %v", len(all), err)
	}
}

func TestReceiptsAreAppliedInBatches(t *testing.T) {
	const n = 150
	g := newReceiptRig(t, nil)
	g.ingest(t, 1, n)
	before := g.st.updates.Load()
	g.start(t, g.receipts)
	if _, err := g.smtp.Wait(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	g.checkDelivered(t, n)
	// One transaction per batch (64 receipts, or what a pass ends with),
	// where recording each result would take 150.
	if u := g.st.updates.Load() - before; u < 3 || u > 10 {
		t.Errorf("%d transactions recorded %d deliveries, want 3 to 10 (batches)", u, n)
	}
}

// With ReceiptBatch 1 (a replicated store: the log is this machine's
// only), every receipt is applied to the store before the next mail is
// sent: one transaction per delivery.
func TestReceiptBatchOneRecordsEachDeliveryBeforeTheNext(t *testing.T) {
	const n = 20
	g := newReceiptRig(t, nil)
	g.batch = 1
	g.ingest(t, 1, n)
	before := g.st.updates.Load()
	g.start(t, g.receipts)
	if _, err := g.smtp.Wait(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	g.checkDelivered(t, n)
	if u := g.st.updates.Load() - before; u < n {
		t.Errorf("%d transactions recorded %d deliveries, want one each (%d)", u, n, n)
	}
}

func TestReceiptsLeftByACrashAreAppliedBeforeSending(t *testing.T) {
	g := newReceiptRig(t, nil)
	g.ingest(t, 1, 3)
	items, err := g.desk.Outbox(context.Background())
	if err != nil || len(items) != 3 {
		t.Fatalf("outbox = %d items, %v", len(items), err)
	}
	// The previous run had the first two accepted and crashed before
	// applying their receipts; one receipt is for an item recorded
	// before the crash.
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	for _, id := range []uint64{items[0].ID, items[1].ID, 999} {
		if err := g.receipts.Append(bot.DeliveryReceipt{Item: id, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	g.start(t, g.receipts)
	if _, err := g.smtp.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	g.waitSettled(t)
	msgs := g.smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "r3@oakprimary.sch.uk" {
		t.Fatalf("sent %d mails (%v), want only the third item's", len(msgs), msgs)
	}
	for num := uint64(1); num <= 3; num++ {
		r, err := g.desk.RFA(context.Background(), num)
		if err != nil {
			t.Fatal(err)
		}
		var sent []bot.Event
		for _, e := range r.Events {
			if e.Kind == bot.EventMailSent {
				sent = append(sent, e)
			}
		}
		if len(sent) != 1 {
			t.Errorf("%s has %d mail-sent events, want 1", r.Ref(), len(sent))
		} else if num < 3 && !sent[0].At.Equal(at) {
			t.Errorf("%s mail-sent at %v, want the receipt's time %v", r.Ref(), sent[0].At, at)
		}
	}
	all, _ := g.receipts.All()
	if len(all) != 0 {
		t.Errorf("%d receipts left in the log", len(all))
	}
}

func TestRecordDeliveriesTwiceRecordsOnce(t *testing.T) {
	g := newReceiptRig(t, nil)
	g.ingest(t, 1, 2)
	ctx := context.Background()
	items, _ := g.desk.Outbox(ctx)
	batch := []bot.Accepted{{Item: items[0]}, {Item: items[1]}}
	for range 2 {
		if err := g.desk.RecordDeliveries(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if left, _ := g.desk.Outbox(ctx); len(left) != 0 {
		t.Errorf("%d outbox items left", len(left))
	}
	for num := uint64(1); num <= 2; num++ {
		r, _ := g.desk.RFA(ctx, num)
		sent := 0
		for _, e := range r.Events {
			if e.Kind == bot.EventMailSent {
				sent++
			}
		}
		if sent != 1 {
			t.Errorf("%s has %d mail-sent events after the batch was recorded twice, want 1", r.Ref(), sent)
		}
	}
}

func TestReceiptBatchTheStoreRefusesIsNeitherLostNorResent(t *testing.T) {
	const n = 5
	var g *receiptRig
	var once sync.Once
	g = newReceiptRig(t, &demo.SMTPCaptureOptions{OnAccept: func(demo.CapturedMail) {
		// The first batch's transaction (when the pass ends) fails.
		once.Do(func() { g.st.refuse.Store(true) })
	}})
	g.ingest(t, 1, n)
	g.start(t, g.receipts)
	g.checkDelivered(t, n)
	if len(g.health.all()) == 0 {
		t.Error("the refused batch was not reported unhealthy")
	}
}

func TestReceiptLogRefusingFallsBackToRecordingEachDelivery(t *testing.T) {
	const n = 4
	g := newReceiptRig(t, nil)
	g.ingest(t, 1, n)
	log := &appendRefusingLog{Receipts: g.receipts}
	log.refuse.Store(true)
	g.start(t, log)
	g.checkDelivered(t, n)
}

// TestReceiptLeftByACrashKeepsTheRefusal: a mail accepted for some
// recipients and refused for good for another, whose receipt was still
// in the log at a crash, still gets "refused for good" on its RFA when
// the receipt is replayed.
func TestReceiptLeftByACrashKeepsTheRefusal(t *testing.T) {
	g := newReceiptRig(t, nil)
	g.ingest(t, 1, 1)
	items, err := g.desk.Outbox(context.Background())
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox = %d items, %v", len(items), err)
	}
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	rc := bot.DeliveryReceipt{Item: items[0].ID, At: at, Result: bot.DeliveryResult{Refused: []string{"gone@oakprimary.sch.uk"}, RefusedWhy: "550 5.1.1 no such user"}}
	if err := g.receipts.Append(rc); err != nil {
		t.Fatal(err)
	}
	g.start(t, g.receipts)
	g.waitSettled(t)
	if n := len(g.smtp.Messages()); n != 0 {
		t.Errorf("the replayed mail was sent again (%d)", n)
	}
	r, err := g.desk.RFA(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var refused bool
	for _, e := range r.Events {
		if e.Kind == bot.EventMailFailed && strings.Contains(e.Text, "refused for good for gone@oakprimary.sch.uk") && strings.Contains(e.Text, "550 5.1.1") {
			refused = true
		}
	}
	if !refused {
		t.Errorf("the replayed receipt lost the refusal; events: %+v", r.Events)
	}
}
