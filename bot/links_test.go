package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rfadesk/bot"
)

// linkedFixture logs n RFAs, RFA-1 to RFA-n, each from its own
// requester (s1@..., s2@...).
func linkedFixture(t *testing.T, n int) *fixture {
	t.Helper()
	f := newFixture(t)
	for i := 1; i <= n; i++ {
		f.ingest(mail(fmt.Sprintf("lk%d@oakprimary.sch.uk", i), fmt.Sprintf("s%d@oakprimary.sch.uk", i),
			fmt.Sprintf("Login broken %d", i), "It is broken."))
	}
	return f
}

func link(t *testing.T, d *bot.Desk, child, parent uint64) {
	t.Helper()
	a := bot.StaffAction{Kind: bot.ActLink, Parent: bot.FormatRef(parent)}
	if err := d.Do(context.Background(), child, a, priya); err != nil {
		t.Fatalf("link RFA-%d to RFA-%d: %v", child, parent, err)
	}
}

// clearances returns, by recipient, the clearance mails in the outbox.
func clearances(items []bot.OutboxItem) map[string][]*bot.OutgoingMail {
	out := map[string][]*bot.OutgoingMail{}
	for _, it := range items {
		if it.Mail != nil && it.Mail.Purpose == "clearance" {
			out[it.Mail.To[0].Email] = append(out[it.Mail.To[0].Email], it.Mail)
		}
	}
	return out
}

func TestLinkRules(t *testing.T) {
	f := linkedFixture(t, 5)
	ctx := context.Background()
	do := func(num uint64, a bot.StaffAction) error { return f.desk.Do(ctx, num, a, priya) }
	linkTo := func(ref string) bot.StaffAction { return bot.StaffAction{Kind: bot.ActLink, Parent: ref} }

	for _, tc := range []struct {
		name string
		num  uint64
		a    bot.StaffAction
		want error
	}{
		{"no parent", 1, linkTo(""), bot.ErrInvalid},
		{"not a reference", 1, linkTo("12"), bot.ErrInvalid},
		{"self-link", 1, linkTo("rfa-1"), bot.ErrInvalid},
		{"unknown parent", 1, linkTo("RFA-99"), bot.ErrInvalid},
		{"unknown child", 99, linkTo("RFA-1"), bot.ErrNotFound},
		{"unlink what is not linked", 1, bot.StaffAction{Kind: bot.ActUnlink}, bot.ErrNotAllowed},
	} {
		if err := do(tc.num, tc.a); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	link(t, f.desk, 2, 1)
	link(t, f.desk, 3, 2)
	link(t, f.desk, 3, 2) // again: a no-op
	if r := f.rfa(3); r.Parent != 2 || !hasEvent(r, bot.EventLinked) {
		t.Errorf("RFA-3 after linking: parent %d, events %+v", r.Parent, r.Events)
	}
	// Loops, direct and through another, are refused.
	if err := do(1, linkTo("RFA-3")); !errors.Is(err, bot.ErrNotAllowed) || !strings.Contains(err.Error(), "loop") {
		t.Errorf("RFA-1 -> RFA-3 (RFA-3 -> RFA-2 -> RFA-1): %v, want a refused loop", err)
	}
	if err := do(2, linkTo("RFA-3")); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("RFA-2 linked again elsewhere: %v, want not allowed", err)
	}
	// A cleared parent or child is refused.
	if err := f.desk.Clear(ctx, 5, bot.StaffMessage{By: priya, Text: "Fixed."}); err != nil {
		t.Fatal(err)
	}
	if err := do(4, linkTo("RFA-5")); !errors.Is(err, bot.ErrNotAllowed) || !strings.Contains(err.Error(), "already cleared") {
		t.Errorf("link to a cleared parent: %v", err)
	}
	if err := do(5, linkTo("RFA-4")); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("link a cleared child: %v", err)
	}
	if r := f.rfa(4); r.Parent != 0 || hasEvent(r, bot.EventLinked) {
		t.Errorf("a refused link changed RFA-4: %+v", r)
	}

	if err := do(3, bot.StaffAction{Kind: bot.ActUnlink}); err != nil {
		t.Fatal(err)
	}
	if r := f.rfa(3); r.Parent != 0 || !hasEvent(r, bot.EventUnlinked) {
		t.Errorf("RFA-3 after unlinking: parent %d", r.Parent)
	}
	link(t, f.desk, 1, 3) // no loop any more
}

func TestLinkChainIsBounded(t *testing.T) {
	f := linkedFixture(t, 10)
	for i := uint64(1); i < 9; i++ {
		link(t, f.desk, i, i+1) // RFA-1 -> RFA-2 -> ... -> RFA-9
	}
	err := f.desk.Do(context.Background(), 10, bot.StaffAction{Kind: bot.ActLink, Parent: "RFA-1"}, priya)
	if !errors.Is(err, bot.ErrNotAllowed) || !strings.Contains(err.Error(), "chain") {
		t.Errorf("linking below a chain of 9: %v, want refused", err)
	}
}

// TestClearingAParentClearsEveryChild: RFA-1 is the parent of RFA-2,
// RFA-3 and RFA-4 (already cleared on its own); RFA-5 is linked to
// RFA-4. Clearing RFA-1 clears 2, 3 and 5, each once, with its own mail
// to its own requester; reopening a child leaves the parent cleared.
func TestClearingAParentClearsEveryChild(t *testing.T) {
	f := linkedFixture(t, 6)
	ctx := context.Background()
	link(t, f.desk, 2, 1)
	link(t, f.desk, 3, 1)
	link(t, f.desk, 4, 1)
	link(t, f.desk, 5, 4)
	if err := f.desk.Clear(ctx, 4, bot.StaffMessage{By: priya, Text: "Restarted your server."}); err != nil {
		t.Fatal(err)
	}
	if r := f.rfa(5); r.Status != bot.StatusCleared {
		t.Fatalf("clearing RFA-4 left its child RFA-5 %s", r.Status)
	}
	if err := f.desk.Reopen(ctx, 5, "still broken", priya); err != nil {
		t.Fatal(err)
	}
	before := clearances(f.outbox())

	if err := f.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "The login service is fixed."}); err != nil {
		t.Fatal(err)
	}
	got := clearances(f.outbox())
	for num := 1; num <= 5; num++ {
		r := f.rfaWithTexts(uint64(num))
		if r.Status != bot.StatusCleared {
			t.Errorf("RFA-%d is %s after its parent was cleared", num, r.Status)
		}
		to := fmt.Sprintf("s%d@oakprimary.sch.uk", num)
		want := 1
		if num == 4 {
			want = 0 // cleared already: not cleared again
		}
		if n := len(got[to]) - len(before[to]); n != want {
			t.Errorf("RFA-%d's requester got %d new clearance mails, want %d", num, n, want)
			continue
		}
		if want == 1 {
			m := got[to][len(got[to])-1]
			if !strings.Contains(m.Subject, r.Ref()) || !strings.Contains(m.Text, "The login service is fixed.") {
				t.Errorf("RFA-%d's clearance = %q: %q", num, m.Subject, m.Text)
			}
		}
	}
	if n := len(got["s6@oakprimary.sch.uk"]); n != 0 {
		t.Errorf("an unlinked RFA's requester got %d clearance mails", n)
	}

	if err := f.desk.Reopen(ctx, 2, "still broken here", priya); err != nil {
		t.Fatal(err)
	}
	if r := f.rfa(1); r.Status != bot.StatusCleared {
		t.Errorf("reopening a child made its parent %s", r.Status)
	}
}

// failingStore makes the PutRFA number failAt (counting from 1) of
// each Update fail while armed: a store that dies in the middle of a
// transaction.
type failingStore struct {
	bot.Store
	armed  atomic.Bool
	failAt int
	failed atomic.Int32
}

func (s *failingStore) Update(ctx context.Context, fn func(bot.Tx) error) error {
	return s.Store.Update(ctx, func(tx bot.Tx) error {
		return fn(&failingTx{Tx: tx, s: s})
	})
}

type failingTx struct {
	bot.Tx
	s    *failingStore
	puts int
}

func (t *failingTx) PutRFA(r *bot.RFA) error {
	if t.puts++; t.s.armed.Load() && t.puts == t.s.failAt {
		t.s.failed.Add(1)
		return errors.New("disk gone")
	}
	return t.Tx.PutRFA(r)
}

// runDeskOver runs a desk over st, as the daemon does at start-up; stop
// ends it as a shutdown (or a crash: the desk holds nothing the store
// does not) would.
func runDeskOver(t *testing.T, st bot.Store, now time.Time) (d *bot.Desk, stop func()) {
	t.Helper()
	d = bot.NewDesk(st, bot.DeskConfig{
		Name: "Example Service Desk", Address: bot.Address{Email: "support@example.org"},
		BaseURL: "https://support.example.org/", LoopValue: "support@example.org", Organisations: testOrgs,
	}, &bot.DeskOptions{Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	return d, func() { cancel(); <-done }
}

// TestParentClearanceReachesEveryChildOnceAcrossAFailure: the store
// fails after the parent and some children are written (the desk's
// equivalent of a SIGKILL mid-cascade: the process dies with the
// transaction open, and bbolt keeps none of it). Nothing is cleared and
// no mail is queued; a new desk over the same file (a restart) clears
// the parent again and every child's requester has exactly one
// clearance mail, with its own Message-ID.
func TestParentClearanceReachesEveryChildOnceAcrossAFailure(t *testing.T) {
	const kids = 6
	f := linkedFixture(t, kids+1)
	for c := uint64(2); c <= kids+1; c++ {
		link(t, f.desk, c, 1)
	}
	queued := len(f.outbox())

	fs := &failingStore{Store: f.db, failAt: 4} // the parent is written last: 3 children made it
	fs.armed.Store(true)
	d, stop := runDeskOver(t, fs, f.now)
	err := d.Clear(context.Background(), 1, bot.StaffMessage{By: priya, Text: "The login service is fixed."})
	stop()
	if err == nil || fs.failed.Load() != 1 {
		t.Fatalf("clear over a failing store: %v (failures %d)", err, fs.failed.Load())
	}
	for num := uint64(1); num <= kids+1; num++ {
		if r := f.rfa(num); r.Status == bot.StatusCleared {
			t.Errorf("RFA-%d cleared by a transaction that failed", num)
		}
	}
	if n := len(f.outbox()); n != queued {
		t.Errorf("the failed clearance left %d outbox items", n-queued)
	}

	d, stop = runDeskOver(t, f.db, f.now) // the restart
	defer stop()
	if err := d.Clear(context.Background(), 1, bot.StaffMessage{By: priya, Text: "The login service is fixed."}); err != nil {
		t.Fatal(err)
	}
	if err := d.Clear(context.Background(), 1, bot.StaffMessage{By: priya, Text: "again"}); !errors.Is(err, bot.ErrNotAllowed) {
		t.Errorf("clearing the parent twice: %v", err)
	}
	got := clearances(f.outbox())
	ids := map[string]bool{}
	for num := 1; num <= kids+1; num++ {
		to := fmt.Sprintf("s%d@oakprimary.sch.uk", num)
		if len(got[to]) != 1 {
			t.Errorf("RFA-%d's requester has %d clearance mails, want 1", num, len(got[to]))
			continue
		}
		ids[got[to][0].MessageID] = true
		if r := f.rfa(uint64(num)); r.Status != bot.StatusCleared {
			t.Errorf("RFA-%d is %s", num, r.Status)
		}
	}
	if len(ids) != kids+1 {
		t.Errorf("%d distinct Message-IDs for %d clearances", len(ids), kids+1)
	}
}

// TestLinkedGroupIsBounded: a group holds at most 200 RFAs (so a
// parent's clearance is one bounded transaction); the 201st link is
// refused and changes nothing.
func TestLinkedGroupIsBounded(t *testing.T) {
	f := newFixture(t)
	batch := make([]*bot.Mail, 201)
	for i := range batch {
		batch[i] = mail(fmt.Sprintf("gb%d@oakprimary.sch.uk", i), fmt.Sprintf("g%d@oakprimary.sch.uk", i), "MIS down", "Down.")
	}
	f.ingest(batch...)
	link(t, f.desk, 2, 1)
	for c := uint64(3); c <= 200; c++ {
		link(t, f.desk, c, 2) // a group of 200 under RFA-1, through RFA-2
	}
	err := f.desk.Do(context.Background(), 201, bot.StaffAction{Kind: bot.ActLink, Parent: "RFA-150"}, priya)
	if !errors.Is(err, bot.ErrNotAllowed) || !strings.Contains(err.Error(), "more than 200") {
		t.Errorf("the 201st link: %v, want refused", err)
	}
	if r := f.rfa(201); r.Parent != 0 {
		t.Errorf("a refused link set the parent to %d", r.Parent)
	}
	if err := f.desk.Clear(context.Background(), 1, bot.StaffMessage{By: priya, Text: "Fixed."}); err != nil {
		t.Fatal(err)
	}
	if got := len(clearances(f.outbox())); got != 200 {
		t.Errorf("clearing the group's top mailed %d requesters, want 200", got)
	}
}
