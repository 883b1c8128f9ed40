package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
	"rfadesk/store"
)

// armWith opens the store at path, runs a desk with pol over it just long
// enough to arm the schedule at now, and returns the status and RFA-1.
func armWith(t *testing.T, path string, pol *bot.SLAPolicy, now time.Time, mails ...*bot.Mail) (bot.ScheduleStatus, *bot.RFA) {
	t.Helper()
	db, err := store.Open(path, &store.Options{NoSync: true})
	must(t, err)
	defer db.Close()
	d := bot.NewDesk(db, bot.DeskConfig{
		Name: "Example Service Desk", Address: bot.Address{Email: "support@example.org"},
		Organisations: testOrgs, SLA: pol,
	}, &bot.DeskOptions{Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i, m := range mails {
		_, err := d.Ingest(ctx, "INBOX", 1, []bot.Fetched{{UID: uint32(i + 1), Mail: m}})
		must(t, err)
	}
	st, err := d.ArmSchedule(ctx)
	must(t, err)
	r, err := d.RFA(ctx, 1)
	must(t, err)
	return st, r
}

// TestPolicyChangeRebuildsTheScheduleOnce: the schedule stored under one
// policy is recomputed, over the open RFAs only, the first time a desk
// with another policy arms it, and not again after.
func TestPolicyChangeRebuildsTheScheduleOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db")
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // Mon 09:00 London
	m := mail("p1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken")
	m.Received = now
	m2 := mail("p2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Printer", "jammed")
	m2.Received = now
	one := bot.DefaultSLAPolicy(workcal.Default())
	st, r := armWith(t, path, one, now, m, m2)
	if st.Rebuilt != 2 || !st.Next.Equal(now.Add(30*time.Minute)) {
		t.Fatalf("first start: %+v, want 2 open RFAs rebuilt, next at 09:30", st)
	}
	if !r.NextEscalation.Equal(st.Next) {
		t.Errorf("RFA-1 NextEscalation = %v, want %v", r.NextEscalation, st.Next)
	}

	st, _ = armWith(t, path, bot.DefaultSLAPolicy(workcal.Default()), now)
	if st.Rebuilt != 0 {
		t.Errorf("same policy rebuilt %d RFAs, want 0", st.Rebuilt)
	}

	two := bot.DefaultSLAPolicy(workcal.Default())
	two.FirstUpdate = workcal.Target{N: 2, Unit: workcal.UnitWorkingHour}
	if one.Fingerprint() == two.Fingerprint() {
		t.Fatal("a changed target keeps the policy's fingerprint")
	}
	st, r = armWith(t, path, two, now)
	if st.Rebuilt != 2 || st.Rescheduled != 2 || !st.Next.Equal(now.Add(time.Hour)) {
		t.Errorf("after the policy change: %+v, want 2 rebuilt and moved, next at 10:00", st)
	}
	if !r.NextEscalation.Equal(now.Add(time.Hour)) {
		t.Errorf("RFA-1 NextEscalation = %v, want 10:00 (first_update 50%% of 2 hours)", r.NextEscalation)
	}
	st, _ = armWith(t, path, two, now)
	if st.Rebuilt != 0 || !st.Next.Equal(now.Add(time.Hour)) {
		t.Errorf("second start under the new policy: %+v, want nothing rebuilt", st)
	}
}

// TestJeopardyFiresInBatches: more RFAs due at once than one batch holds
// all fire, once each, after a restart; an entry left for an RFA that is
// not stored is dropped without holding up the rest.
func TestJeopardyFiresInBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, path)
		const n = 150
		var batch []bot.Fetched
		for i := range n {
			id := fmt.Sprintf("b%d@oakprimary.sch.uk", i)
			// One sender each: one sender's mail beyond the per-sender
			// limit would join its latest RFA.
			m := &bot.Mail{MessageID: id, From: bot.Address{Email: fmt.Sprintf("s%d@oakprimary.sch.uk", i)}, To: []bot.Address{{Email: "support@example.org"}},
				Subject: "Login", Text: "broken", Reply: "broken", DedupeKey: "mid:" + id, Received: time.Now()}
			batch = append(batch, bot.Fetched{UID: uint32(i + 1), Mail: m})
		}
		_, err := rd.desk.Ingest(ctx, "INBOX", 1, batch)
		must(t, err)
		must(t, rd.db.Update(ctx, func(tx bot.Tx) error {
			return tx.RescheduleEscalation(9999, at(t, "2026-11-23 09:10"))
		}))
		rd.stop()
		sleepUntil(t, "2026-11-23 09:40") // first_update 50% of all, due 09:30
		rd = startDesk(t, path)
		defer rd.stop()
		sleepUntil(t, "2026-11-23 09:41")
		fired := map[string]int{}
		for _, p := range firedPoints(t, rd) {
			fired[p]++
		}
		for num := uint64(1); num <= n; num++ {
			p := bot.FormatRef(num) + " first_update 50% @ Mon 09:40"
			if fired[p] != 1 {
				t.Errorf("%s fired %d times, want once", p, fired[p])
			}
		}
		if len(fired) != n {
			t.Errorf("%d points fired, want %d", len(fired), n)
		}
		var next uint64
		must(t, rd.db.View(ctx, func(tx bot.Tx) error {
			num, _, _, err := tx.NextEscalation()
			next = num
			return err
		}))
		if next == 9999 {
			t.Error("the entry of an RFA that is not stored is still scheduled")
		}
	})
}

// putRefusingStore fails every PutRFA of RFA num while refuse is set.
type putRefusingStore struct {
	bot.Store
	num    uint64
	refuse *atomic.Bool
}

func (s putRefusingStore) Update(ctx context.Context, fn func(bot.Tx) error) error {
	return s.Store.Update(ctx, func(tx bot.Tx) error { return fn(putRefusingTx{tx, s}) })
}

type putRefusingTx struct {
	bot.Tx
	s putRefusingStore
}

func (t putRefusingTx) PutRFA(r *bot.RFA) error {
	if r.Num == t.s.num && t.s.refuse.Load() {
		return errors.New("the disk refuses RFA-2")
	}
	return t.Tx.PutRFA(r)
}

// TestJeopardyOneBadRFADoesNotHoldUpTheRest: when one due RFA cannot be
// written, the others in its batch still fire, and it is tried again a
// minute later.
func TestJeopardyOneBadRFADoesNotHoldUpTheRest(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "desk.db"), &store.Options{NoSync: true})
	must(t, err)
	defer db.Close()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // Mon 09:00 London
	refuse := new(atomic.Bool)
	d := bot.NewDesk(putRefusingStore{Store: db, num: 2, refuse: refuse}, bot.DeskConfig{
		Name: "Example Service Desk", Address: bot.Address{Email: "support@example.org"}, Organisations: testOrgs,
	}, &bot.DeskOptions{Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := range 3 {
		m := mail(fmt.Sprintf("bad%d@oakprimary.sch.uk", i), "s@oakprimary.sch.uk", "Login", "broken")
		m.Received = now
		_, err := d.Ingest(ctx, "INBOX", 1, []bot.Fetched{{UID: uint32(i + 1), Mail: m}})
		must(t, err)
	}
	refuse.Store(true)
	now = now.Add(40 * time.Minute) // first_update 50% of all three was due at 09:30
	st, err := d.ArmSchedule(ctx)
	must(t, err)
	if st.Fired != 2 {
		t.Errorf("fired %d RFAs, want 2", st.Fired)
	}
	for num, want := range map[uint64]bool{1: true, 2: false, 3: true} {
		r, err := d.RFA(ctx, num)
		must(t, err)
		if got := hasEvent(r, bot.EventJeopardy); got != want {
			t.Errorf("%s has a jeopardy event: %v, want %v", r.Ref(), got, want)
		}
	}
	if want := now.Add(time.Minute); !st.Next.Equal(want) {
		t.Errorf("next = %v, want RFA-2's retry at %v", st.Next, want)
	}
	refuse.Store(false)
	now = now.Add(time.Minute)
	st, err = d.ArmSchedule(ctx)
	must(t, err)
	if r, _ := d.RFA(ctx, 2); st.Fired != 1 || !hasEvent(r, bot.EventJeopardy) {
		t.Errorf("retry fired %d RFAs; RFA-2 events %+v", st.Fired, r.Events)
	}
}

// TestPolicyFingerprint: equal policies agree; a closed day, a target, an
// escalation point, the lifecycle's windows or a school holiday changes it.
func TestPolicyFingerprint(t *testing.T) {
	base := bot.DefaultSLAPolicy(workcal.Default()).Fingerprint()
	if again := bot.DefaultSLAPolicy(workcal.Default()).Fingerprint(); again != base {
		t.Errorf("two default policies: %s and %s", base, again)
	}
	closure, err := workcal.New(&workcal.Options{ExtraClosures: []workcal.Date{{Year: 2026, Month: 12, Day: 29}}})
	must(t, err)
	serious := bot.DefaultSLAPolicy(workcal.Default())
	serious.Workaround = map[bot.Severity]workcal.Target{bot.SeveritySerious: {N: 3, Unit: workcal.UnitWorkingDay}}
	points := bot.DefaultSLAPolicy(workcal.Default())
	points.Points = points.Points[1:]
	tweak := func(f func(p *bot.SLAPolicy)) *bot.SLAPolicy {
		p := bot.DefaultSLAPolicy(workcal.Default())
		f(p)
		return p
	}
	for name, p := range map[string]*bot.SLAPolicy{
		"a closure": bot.DefaultSLAPolicy(closure), "a workaround target": serious, "the points": points,
		"the triage target":       tweak(func(p *bot.SLAPolicy) { p.Triage.N = 3 }),
		"the escalation target":   tweak(func(p *bot.SLAPolicy) { p.Escalation.N = 2 }),
		"the fields reminder":     tweak(func(p *bot.SLAPolicy) { p.FieldsReminder = workcal.Target{} }),
		"the confirmation window": tweak(func(p *bot.SLAPolicy) { p.ConfirmWindow.N = 4 }),
		"the reopen grace":        tweak(func(p *bot.SLAPolicy) { p.ReopenGrace = workcal.Target{} }),
		"a school holiday": tweak(func(p *bot.SLAPolicy) {
			p.Holidays = map[string][]bot.DateRange{"Oak Primary School": {{From: workcal.Date{Year: 2026, Month: 12, Day: 19}, To: workcal.Date{Year: 2027, Month: 1, Day: 4}}}}
		}),
		"the first-contact points": tweak(func(p *bot.SLAPolicy) {
			p.FirstContactPoints = p.FirstContactPoints[1:]
		}),
	} {
		if p.Fingerprint() == base {
			t.Errorf("changing %s keeps the fingerprint", name)
		}
	}
}
