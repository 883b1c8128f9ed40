package bot_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
	"rfadesk/store"
)

const benchRFAs = 100_000

// sevs are the severities benchStore gives RFA n: sevs[(n-1)%4].
var sevs = []bot.Severity{bot.SeverityCritical, bot.SeveritySerious, bot.SeverityModerate, bot.SeverityMinor}

// benchNow is the desk's clock in the benchmarks: every RFA was reported
// in the hour before it and none has a point due yet.
var benchNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// benchStore writes benchRFAs open RFAs, shaped like real ones (a mail,
// its acknowledgement, severity, assignment, a status update), to a fresh
// bbolt file.
func benchStore(b *testing.B) *store.DB {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "desk.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	body := strings.Repeat("The attendance screen shows an error when we open it. ", 6)
	const batch = 10_000
	for done := 0; done < benchRFAs; done += batch {
		err := db.Update(context.Background(), func(tx bot.Tx) error {
			for i := done; i < done+batch; i++ {
				num, err := tx.NextRFANumber()
				if err != nil {
					return err
				}
				created := benchNow.Add(-time.Duration(i%3600) * time.Second)
				sev := sevs[i%len(sevs)]
				r := &bot.RFA{
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
	return db
}

// benchDesk runs a desk over db until stop is called.
func benchDesk(db *store.DB) (d *bot.Desk, stop func()) {
	d = bot.NewDesk(db, bot.DeskConfig{
		Name: "Bench Desk", Address: bot.Address{Email: "support@example.org"},
		SLA: bot.DefaultSLAPolicy(workcal.Default()),
	}, &bot.DeskOptions{
		Now:    func() time.Time { return benchNow },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	return d, func() { cancel(); <-done }
}

// BenchmarkJeopardyLoad measures loading the schedule at start-up: every
// RFA read from bbolt, its clocks derived, the heap built.
func BenchmarkJeopardyLoad(b *testing.B) {
	db := benchStore(b)
	ctx := context.Background()
	for b.Loop() {
		d, stop := benchDesk(db)
		st, err := d.LoadSchedule(ctx)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if st.RFAs != benchRFAs || !st.Next.After(benchNow) {
			b.Fatalf("schedule = %+v, want %d RFAs all ahead", st, benchRFAs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRFAs, "ns/rfa")
}

// BenchmarkJeopardyNextPoint measures the computation behind a
// reschedule: one RFA's next escalation point from its history (the heap
// fix that follows is O(log n), about 17 swaps at 100,000 RFAs).
func BenchmarkJeopardyNextPoint(b *testing.B) {
	db := benchStore(b)
	var rs []*bot.RFA
	err := db.View(context.Background(), func(tx bot.Tx) error {
		for n := uint64(1); n <= 4; n++ { // one of each severity
			r, err := tx.RFA(n)
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	pol := bot.DefaultSLAPolicy(workcal.Default())
	i := 0
	for b.Loop() {
		if _, ok := pol.NextPoint(rs[i%len(rs)]); !ok {
			b.Fatal("no next point")
		}
		i++
	}
}

// BenchmarkJeopardyReschedule measures a committed staff action (a
// severity change) with 100,000 RFAs on the desk, with the schedule
// loaded (the changed RFA's next point is recomputed and its heap entry
// fixed) and without it: the difference is the cost of a reschedule.
func BenchmarkJeopardyReschedule(b *testing.B) {
	db := benchStore(b)
	ctx := context.Background()
	for _, loaded := range []bool{false, true} {
		name := "unscheduled"
		if loaded {
			name = "scheduled"
		}
		b.Run(name, func(b *testing.B) {
			d, stop := benchDesk(db)
			defer stop()
			if loaded {
				if _, err := d.LoadSchedule(ctx); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				// Each RFA in turn (a permutation), away from its first
				// severity and back on the next pass: every call changes it.
				num := uint64(i*7919%benchRFAs) + 1
				sev := sevs[(num-1)%uint64(len(sevs))] // as benchStore made it
				if (i/benchRFAs)%2 == 0 {
					sev = map[bool]bot.Severity{true: bot.SeverityModerate, false: bot.SeveritySerious}[sev == bot.SeveritySerious]
				}
				if err := d.SetSeverity(ctx, num, sev, bot.Actor{Name: "Bench"}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
