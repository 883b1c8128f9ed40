package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

func TestMonthReportDueOnTheFirstWorkingDay(t *testing.T) {
	p := bot.DefaultSLAPolicy(workcal.Default())
	// 1 January 2027 is a bank holiday, the 2nd and 3rd a weekend.
	m, due := p.MonthReportDue(time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC))
	if m != (bot.Month{Year: 2026, Month: time.December}) || !due.Equal(time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("due = %v %v, want 2026-12 on Monday 4 January 08:00", m, due)
	}
}

func TestMailMonthReportGoesOutOnce(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Managers = []bot.Address{{Email: "head@example.org"}} })
	storeReportFixture(t, f)
	f.now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	nov := bot.Month{Year: 2026, Month: time.November}
	for i, want := range []bool{true, false} {
		sent, err := f.desk.MailMonthReport(ctx, nov)
		if err != nil || sent != want {
			t.Fatalf("call %d: sent %v, %v; want %v", i+1, sent, err, want)
		}
	}
	if sent, _ := f.desk.MailMonthReport(ctx, bot.Month{Year: 2026, Month: time.October}); sent {
		t.Error("an earlier month's report went out after November's")
	}
	items, err := f.desk.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var reports []*bot.OutgoingMail
	for _, it := range items {
		if it.Mail != nil && it.Mail.Purpose == "monthly report" {
			reports = append(reports, it.Mail)
		}
	}
	if len(reports) != 1 {
		t.Fatalf("%d report mails in the outbox, want 1", len(reports))
	}
	m := reports[0]
	if m.To[0].Email != "head@example.org" || !strings.Contains(m.HTML, "<svg") || len(m.Attachments) != 1 ||
		m.Attachments[0].Name != "rfadesk-report-2026-11.csv" {
		t.Errorf("report mail = %+v", m)
	}
}

// reportMails counts the monthly report mails in f's outbox.
func reportMails(t *testing.T, f *fixture) int {
	t.Helper()
	items, err := f.desk.Outbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Mail != nil && it.Mail.Purpose == "monthly report" {
			n++
		}
	}
	return n
}

// TestRunMonthlyReports: a desk's first run records the month before as
// done without mailing it; a desk that mailed October's report mails
// November's once it is due, and only once.
func TestRunMonthlyReports(t *testing.T) {
	run := func(f *fixture) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { f.desk.RunMonthlyReports(ctx); close(done) }()
		// Wait (bounded) for the state to show November handled.
		for i := 0; i < 1000; i++ {
			var st bot.RateState
			f.db.View(ctx, func(tx bot.Tx) error { var err error; st, err = tx.RateState(bot.RateKeyMonthReport); return err })
			if st.Told.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
	}
	managers := func(c *bot.DeskConfig) { c.Managers = []bot.Address{{Email: "head@example.org"}} }

	fresh := newFixtureWith(t, managers)
	fresh.now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	run(fresh)
	if n := reportMails(t, fresh); n != 0 {
		t.Errorf("a fresh desk mailed %d reports of the month before it ran", n)
	}

	f := newFixtureWith(t, managers)
	f.now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f.db.Update(context.Background(), func(tx bot.Tx) error {
		return tx.PutRateState(bot.RateKeyMonthReport, bot.RateState{Told: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
	})
	run(f)
	run(f)
	if n := reportMails(t, f); n != 1 {
		t.Errorf("%d November reports mailed, want 1", n)
	}
}
