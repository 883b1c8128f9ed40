package bot_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// storeReportFixture writes reportFixture's RFAs to f's store, RFA-2
// closed on 2 November with a message text and an attachment.
func storeReportFixture(t *testing.T, f *fixture) []*bot.RFA {
	t.Helper()
	rs := reportFixture()
	r2 := rs[1]
	r2.Events = append(r2.Events, rev(nov(2, 12, 0), bot.EventClosed, "confirmed"))
	r2.Messages = []bot.Message{{At: nov(2, 9, 0), Direction: bot.Inbound, Subject: "Broken", Text: "the register is broken",
		Attachments: []bot.Attachment{{Name: "shot.png", ContentType: "image/png", Size: 3}}}}
	err := f.db.Update(context.Background(), func(tx bot.Tx) error {
		for _, r := range rs {
			n, err := tx.NextRFANumber()
			if err != nil {
				return err
			}
			if n != r.Num {
				t.Fatalf("number %d handed out for %s", n, r.Ref())
			}
			if err := tx.PutRFA(r); err != nil {
				return err
			}
		}
		return tx.PutAttachment(2, 0, 0, []byte("png"))
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestDeskMonthReportReadsTheMonthsRange checks that the desk finds
// November's RFAs in the store (skipping October's and December's) and
// reports what the pure function reports over the fixture, and that
// the retention purge leaves the figures as they were.
func TestDeskMonthReportAndPurgeKeepFigures(t *testing.T) {
	f := newFixture(t)
	rs := storeReportFixture(t, f)
	f.now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	nov26 := bot.Month{Year: 2026, Month: time.November}
	want, err := bot.MonthReport(bot.DefaultSLAPolicy(workcal.Default()), seqOf(rs), nov26, f.now)
	if err != nil {
		t.Fatal(err)
	}
	want.AddService(bot.ServiceRecord{Threshold: bot.DefaultCapacityThreshold}, nov26, f.desk.SLA().Calendar.Location())
	before, err := f.desk.MonthReport(ctx, nov26)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, want) {
		t.Fatalf("store report differs from the fixture's:\n got %+v\nwant %+v", before.All, want.All)
	}
	if empty, _ := f.desk.MonthReport(ctx, bot.Month{Year: 2027, Month: time.March}); empty.All.Logged != 0 {
		t.Errorf("March 2027 logged %d", empty.All.Logged)
	}

	dry, err := f.desk.Purge(ctx, f.now, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry) != 1 || dry[0].Ref != "RFA-2" {
		t.Fatalf("dry run lists %+v, want RFA-2 only", dry)
	}
	if r, _ := f.desk.RFAWithTexts(ctx, 2); r.Messages[0].Text == "" {
		t.Fatal("dry run deleted the text")
	}
	if _, err := f.desk.Purge(ctx, nov(2, 12, 0), false); err != nil { // closed at, not before: kept
		t.Fatal(err)
	}
	if r, _ := f.desk.RFAWithTexts(ctx, 2); r.Messages[0].Text == "" {
		t.Fatal("purge took an RFA closed at the cutoff, not before it")
	}
	done, err := f.desk.Purge(ctx, f.now, false)
	if err != nil || len(done) != 1 {
		t.Fatalf("purge = %+v, %v", done, err)
	}
	r, err := f.desk.RFAWithTexts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Messages[0]; m.Text != "" || m.TextLen != 0 || m.Attachments != nil || m.Subject != "Broken" {
		t.Errorf("purged message = %+v", m)
	}
	err = f.db.View(ctx, func(tx bot.Tx) error { _, err := tx.GetAttachment(2, 0, 0); return err })
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("attachment after purge: %v", err)
	}
	after, err := f.desk.MonthReport(ctx, nov26)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("purge changed the report:\n got %+v\nwant %+v", after.All, before.All)
	}
	if again, _ := f.desk.Purge(ctx, f.now, true); len(again) != 0 {
		t.Errorf("a purged RFA is listed again: %+v", again)
	}
}
