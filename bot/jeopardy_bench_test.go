package bot_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
	"rfadesk/store"
)

// benchOpenEvery makes every 20th RFA open (5%); the rest are closed.
const benchOpenEvery = 20

// benchSize is how many RFAs the archive benchmarks store:
// RFADESK_BENCH_RFAS, default 100,000.
func benchSize(b *testing.B) int {
	n := 100_000
	if s := os.Getenv("RFADESK_BENCH_RFAS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < benchOpenEvery {
			b.Fatalf("RFADESK_BENCH_RFAS=%q: want a number of at least %d", s, benchOpenEvery)
		}
		n = v
	}
	return n
}

// sevs are the severities benchArchive gives RFA n: sevs[(n-1)%4].
var sevs = []bot.Severity{bot.SeverityCritical, bot.SeveritySerious, bot.SeverityModerate, bot.SeverityMinor}

// benchNow is the desk's clock in the benchmarks: every open RFA was
// reported in the hour before it and none has a point due yet.
var benchNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// benchPolicy is the policy the archive's schedule is computed with.
func benchPolicy() *bot.SLAPolicy { return bot.DefaultSLAPolicy(workcal.Default()) }

// benchArchive writes n RFAs shaped like real ones (a mail, its
// acknowledgement, severity, assignment, a status update; the closed ones
// cleared and closed too) to a fresh bbolt file, every benchOpenEvery-th
// one open with its next escalation point set as the desk sets it, and
// the policy's fingerprint stored: the state a desk leaves after years.
// It returns the file's path, closed.
func benchArchive(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "desk.db")
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	pol := benchPolicy()
	body := strings.Repeat("The attendance screen shows an error when we open it. ", 6)
	const batch = 10_000
	start := time.Now()
	for done := 0; done < n; done += batch {
		err := db.Update(context.Background(), func(tx bot.Tx) error {
			for i := done; i < min(done+batch, n); i++ {
				num, err := tx.NextRFANumber()
				if err != nil {
					return err
				}
				r := benchRFA(num, i, body)
				if num%benchOpenEvery != 0 {
					closed := r.Created.Add(time.Hour)
					r.Status = bot.StatusClosed
					r.Events = append(r.Events,
						bot.Event{At: closed, Kind: bot.EventCleared, Text: "Fixed."},
						bot.Event{At: closed, Kind: bot.EventMailSent, Text: "clearance accepted by the mail server"})
				}
				r.NextEscalation, _ = pol.NextPoint(r)
				if err := tx.PutRFA(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Update(context.Background(), func(tx bot.Tx) error {
		return tx.SetEscalationPolicy(pol.Fingerprint())
	}); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.Logf("archive of %d RFAs (%d open) built in %v, %d MB", n, n/benchOpenEvery, time.Since(start).Round(time.Millisecond), st.Size()>>20)
	return path
}

// benchRFA is RFA num, the i-th written; open ones were reported within
// the hour before benchNow, closed ones over the years before.
func benchRFA(num uint64, i int, body string) *bot.RFA {
	created := benchNow.Add(-time.Duration(i%3600) * time.Second)
	if num%benchOpenEvery != 0 {
		created = benchNow.AddDate(0, 0, -1-i/500) // ~500 RFAs a day
	}
	sev := sevs[i%len(sevs)]
	return &bot.RFA{
		Num: num, Status: bot.StatusOpen, Channel: bot.ChannelEmail, Subject: "Attendance error",
		Created: created, Requester: bot.Address{Email: "s@oakprimary.sch.uk"},
		Organisation: "Oak Primary School", Severity: sev, Assignee: "Priya Shah (discord:1001)",
		Messages: []bot.Message{
			{At: created, Direction: bot.Inbound, From: bot.Address{Email: "s@oakprimary.sch.uk"}, Subject: "Attendance error", Text: body},
			{At: created, Direction: bot.Outbound, From: bot.Address{Email: "support@example.org"}, Subject: "[RFA] Received", Text: body},
		},
		Events: []bot.Event{
			{At: created, Kind: bot.EventCreated, Text: "RFA logged from email"},
			{At: created, Kind: bot.EventAckQueued, Text: "acknowledgement queued"},
			{At: created, Kind: bot.EventMailSent, Text: "acknowledgement accepted by the mail server"},
			{At: created, Kind: bot.EventSeverity, Text: string(sev)},
			{At: created, Kind: bot.EventAssigned, Text: "Priya Shah (discord:1001)"},
			{At: created, Kind: bot.EventStatusUpdate, Text: "We are looking at it."},
		},
	}
}

// benchDesk runs a desk over db until stop is called.
func benchDesk(db *store.DB) (d *bot.Desk, stop func()) {
	d = bot.NewDesk(db, bot.DeskConfig{
		Name: "Bench Desk", Address: bot.Address{Email: "support@example.org"},
		SLA: benchPolicy(),
	}, &bot.DeskOptions{
		Now:    func() time.Time { return benchNow },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	return d, func() { cancel(); <-done }
}

// BenchmarkArchive measures what must not grow with the archive, over a
// store of RFADESK_BENCH_RFAS RFAs (default 100,000), 5% open:
//
//   - start-up: open the file, start the desk, arm the jeopardy schedule
//     (the stored policy matches: one index lookup); start-up-cold the
//     same with the file's pages dropped from the page cache first;
//   - start-up-rebuild: the same after a policy change, which
//     recomputes every open RFA's next point once;
//   - next-point: the scheduler's look at the schedule's first entry;
//   - queue: the data /desk queue loads (every open RFA and its clocks);
//   - queue-full-scan: the same from every RFA, as before the open index.
func BenchmarkArchive(b *testing.B) {
	n := benchSize(b)
	path := benchArchive(b, n)
	ctx := context.Background()
	open := func(b *testing.B) *store.DB {
		db, err := store.Open(path, &store.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		return db
	}
	armed := func(b *testing.B, wantRebuilt int) {
		db := open(b)
		d, stop := benchDesk(db)
		st, err := d.ArmSchedule(ctx)
		stop()
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		if st.Rebuilt != wantRebuilt || st.Fired != 0 || !st.Next.After(benchNow) {
			b.Fatalf("schedule = %+v, want %d rebuilt, nothing fired, next ahead", st, wantRebuilt)
		}
	}
	b.Run("start-up", func(b *testing.B) {
		for b.Loop() {
			armed(b, 0)
		}
	})
	b.Run("start-up-cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if !dropPageCache(path) {
				b.Skip("cannot drop the file's cached pages here")
			}
			b.StartTimer()
			armed(b, 0)
		}
	})
	b.Run("start-up-rebuild", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db := open(b)
			if err := db.Update(ctx, func(tx bot.Tx) error { return tx.SetEscalationPolicy("") }); err != nil {
				b.Fatal(err)
			}
			db.Close()
			b.StartTimer()
			armed(b, n/benchOpenEvery)
		}
	})
	db := open(b)
	defer db.Close()
	b.Run("next-point", func(b *testing.B) {
		for b.Loop() {
			err := db.View(ctx, func(tx bot.Tx) error {
				_, at, ok, err := tx.NextEscalation()
				if err == nil && (!ok || !at.After(benchNow)) {
					b.Fatalf("first entry %v, %v", at, ok)
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	d, stop := benchDesk(db)
	defer stop()
	pol := benchPolicy()
	b.Run("queue", func(b *testing.B) {
		for b.Loop() {
			got := 0
			err := d.ForEachOpenRFA(ctx, func(r *bot.RFA) error {
				got++
				_ = pol.Clocks(r, benchNow)
				return nil
			})
			if err != nil || got != n/benchOpenEvery {
				b.Fatalf("queue read %d open RFAs (%v), want %d", got, err, n/benchOpenEvery)
			}
		}
	})

}

// BenchmarkJeopardyNextPoint measures the computation behind every RFA
// write: one RFA's next escalation point from its history.
func BenchmarkJeopardyNextPoint(b *testing.B) {
	body := strings.Repeat("The attendance screen shows an error when we open it. ", 6)
	var rs []*bot.RFA
	for i := range 4 { // one of each severity, open
		rs = append(rs, benchRFA(uint64((i+1)*benchOpenEvery), i, body))
	}
	pol := benchPolicy()
	i := 0
	for b.Loop() {
		if _, ok := pol.NextPoint(rs[i%len(rs)]); !ok {
			b.Fatal("no next point")
		}
		i++
	}
}

// BenchmarkJeopardyReschedule measures a committed staff action (a
// severity change) on an open RFA of the archive: the RFA written, its
// next point recomputed and its schedule entry moved, in one transaction.
func BenchmarkJeopardyReschedule(b *testing.B) {
	n := benchSize(b)
	db, err := store.Open(benchArchive(b, n), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	d, stop := benchDesk(db)
	defer stop()
	ctx := context.Background()
	open := uint64(n / benchOpenEvery)
	i := uint64(0)
	for b.Loop() {
		// Each open RFA in turn, away from its first severity and back
		// on the next pass: every call changes it.
		k := i % open
		num := (k + 1) * benchOpenEvery
		sev := sevs[(num-1)%uint64(len(sevs))] // as benchArchive made it
		if (i/open)%2 == 0 {
			sev = map[bool]bot.Severity{true: bot.SeverityModerate, false: bot.SeveritySerious}[sev == bot.SeveritySerious]
		}
		if err := d.SetSeverity(ctx, num, sev, bot.Actor{Name: "Bench"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
