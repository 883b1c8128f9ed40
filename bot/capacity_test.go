package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

// observe feeds one reading of service to the desk and returns whether
// it was reported.
func (f *fixture) observe(service string, used, limit float64) bool {
	f.t.Helper()
	reported, err := f.desk.ObserveGauge(context.Background(), bot.Gauge{Service: service, Used: used, Limit: limit})
	if err != nil {
		f.t.Fatal(err)
	}
	return reported
}

func withCapacity(cfg *bot.DeskConfig) {
	cfg.Chat = true
	cfg.Managers = []bot.Address{{Email: "head@example.org"}}
}

// A gauge crossing 70% is reported once, not again while it hovers at the
// line, and again only after falling below 65% and rising.
func TestGaugeCrossingReportedOncePerCrossing(t *testing.T) {
	f := newFixtureWith(t, withCapacity)
	steps := []struct {
		used float64
		want bool
	}{
		{50, false},
		{70, true},  // reaches the threshold: reported
		{69, false}, // hovering
		{71, false},
		{66, false}, // not below 65: still reported
		{72, false},
		{65, false}, // 65 is not below 65
		{80, false},
		{64.9, false}, // below 65: may be reported again
		{69.9, false},
		{70.5, true}, // crossing again
		{90, false},
	}
	for i, s := range steps {
		f.now = f.now.Add(time.Minute)
		if got := f.observe("store", s.used, 100); got != s.want {
			t.Errorf("step %d (used %v): reported = %v, want %v", i, s.used, got, s.want)
		}
	}
	mails := mailsFor(f.outbox(), "capacity report")
	if len(mails) != 2 {
		t.Fatalf("%d capacity mails, want 2", len(mails))
	}
	m := mails[0].Mail
	if m.To[0].Email != "head@example.org" || !strings.Contains(m.Subject, "store at 70.0%") {
		t.Errorf("mail to %v subject %q", m.To, m.Subject)
	}
	chats := 0
	for _, it := range f.outbox() {
		if it.Chat != nil && it.Chat.Op == bot.ChatOps && strings.HasPrefix(it.Chat.Text, "Capacity: store") {
			chats++
		}
	}
	if chats != 2 {
		t.Errorf("%d ops posts, want 2", chats)
	}
	cs, err := f.desk.Capacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g := cs.Gauges["store"]; g.Used != 90 || !g.Reported {
		t.Errorf("stored gauge = %+v", g)
	}
}

// The crossing state is in the store: a new desk over the same store does
// not report a gauge already reported.
func TestGaugeStateSurvivesRestart(t *testing.T) {
	f := newFixtureWith(t, withCapacity)
	if !f.observe("disk", 75, 100) {
		t.Fatal("first crossing not reported")
	}
	d2 := bot.NewDesk(f.db, bot.DeskConfig{Chat: true}, &bot.DeskOptions{Now: func() time.Time { return f.now }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d2.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	reported, err := d2.ObserveGauge(ctx, bot.Gauge{Service: "disk", Used: 76, Limit: 100})
	if err != nil || reported {
		t.Errorf("after restart: reported %v, %v; want false", reported, err)
	}
}

// A surge holds a service's reports for its duration and is recorded;
// after it, a gauge still over the threshold is reported.
func TestSurgeHoldsReports(t *testing.T) {
	f := newFixtureWith(t, withCapacity)
	ctx := context.Background()
	s, err := f.desk.DeclareSurge(ctx, "mailbox", "enrolment week", 2*time.Hour, bot.Actor{Name: "Priya", ID: "discord:1"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Until.Equal(f.now.Add(2 * time.Hour)) {
		t.Errorf("surge until %v", s.Until)
	}
	if f.observe("mailbox", 95, 100) {
		t.Error("reported during the surge")
	}
	if !f.observe("store", 95, 100) {
		t.Error("another service's report was held")
	}
	f.now = f.now.Add(119 * time.Minute)
	if f.observe("mailbox", 96, 100) {
		t.Error("reported during the surge's last minute")
	}
	f.now = f.now.Add(time.Minute)
	if !f.observe("mailbox", 96, 100) {
		t.Error("not reported once the surge ended")
	}
	cs, err := f.desk.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Surges) != 1 || cs.Surges[0].Reason != "enrolment week" || cs.Surges[0].By != "Priya (discord:1)" {
		t.Errorf("recorded surges = %+v", cs.Surges)
	}
	if cs.Gauges["mailbox"].Held != 2 {
		t.Errorf("held = %d, want 2", cs.Gauges["mailbox"].Held)
	}
}

func TestBadGaugeAndSurgeRefused(t *testing.T) {
	f := newFixtureWith(t, withCapacity)
	ctx := context.Background()
	for _, g := range []bot.Gauge{
		{Service: "", Used: 1, Limit: 2},
		{Service: "a b", Used: 1, Limit: 2},
		{Service: "x", Used: 1, Limit: 0},
		{Service: "x", Used: -1, Limit: 2},
	} {
		if _, err := f.desk.ObserveGauge(ctx, g); !errors.Is(err, bot.ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", g, err)
		}
	}
	if _, err := f.desk.DeclareSurge(ctx, "x", " ", time.Hour, bot.Actor{}); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("surge without reason: %v", err)
	}
	if _, err := f.desk.DeclareSurge(ctx, "x", "r", 0, bot.Actor{}); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("surge without length: %v", err)
	}
	if len(f.outbox()) != 0 {
		t.Error("a refused input enqueued something")
	}
}

// rfadesk's own health changes become down intervals.
func TestRecordHealthIntervals(t *testing.T) {
	f := newFixtureWith(t, withCapacity)
	ctx := context.Background()
	start := f.now
	for _, up := range []bool{true, false, false, true, true} {
		if err := f.desk.RecordHealth(ctx, up); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(10 * time.Minute)
	}
	cs, err := f.desk.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.Downtime{{Component: "rfadesk", From: start.Add(10 * time.Minute), To: start.Add(30 * time.Minute)}}
	if len(cs.Down) != 1 || !cs.Down[0].From.Equal(want[0].From) || !cs.Down[0].To.Equal(want[0].To) {
		t.Errorf("down = %+v, want %+v", cs.Down, want)
	}
}

// A replicated desk counts as down only while no instance leads: the gap
// between the last leader's heartbeat and the next term's start becomes a
// down interval; heartbeats within the interval, and a gap already
// covered by an open down interval, add nothing.
func TestRecordLeadingCountsOnlyLeaderlessGaps(t *testing.T) {
	f := newFixtureWith(t, withCapacity)
	ctx := context.Background()
	beat := func(start bool) {
		t.Helper()
		if err := f.desk.RecordLeading(ctx, start, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	downs := func() []bot.Downtime {
		t.Helper()
		cs, err := f.desk.Capacity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cs.Down
	}
	beat(true) // the very first term: nothing before it to count
	f.now = f.now.Add(5 * time.Second)
	beat(false)
	lastSeen := f.now
	f.now = f.now.Add(4 * time.Second) // a resign and a quick takeover
	beat(true)
	if d := downs(); len(d) != 0 {
		t.Fatalf("takeover within the interval recorded downtime %+v", d)
	}
	lastSeen = f.now
	f.now = f.now.Add(40 * time.Second) // the leader died; nobody led
	beat(true)
	d := downs()
	if len(d) != 1 || !d[0].From.Equal(lastSeen) || !d[0].To.Equal(f.now) || d[0].Component != "rfadesk" {
		t.Fatalf("down = %+v, want one rfadesk interval %v..%v", d, lastSeen, f.now)
	}
	// An open down interval (rfadesk unhealthy when its leader died)
	// already counts the gap.
	if err := f.desk.RecordHealth(ctx, false); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	beat(true)
	if d := downs(); len(d) != 2 || !d[1].To.IsZero() {
		t.Fatalf("gap under an open interval: down = %+v, want the open interval alone", d)
	}
	// A heartbeat that is not a term's start never records.
	f.now = f.now.Add(time.Hour)
	beat(false)
	if d := downs(); len(d) != 2 {
		t.Fatalf("a plain heartbeat recorded downtime: %+v", d)
	}
}
