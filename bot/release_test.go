package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// releaseFixture is a desk on the default calendar with the Christmas
// school holidays, minor releases every 14 days from Friday 27 November
// 2026, and n RFAs from their own requesters, each Minor.
func releaseFixture(t *testing.T, n int) *fixture {
	t.Helper()
	f := newFixtureWith(t, func(cfg *bot.DeskConfig) {
		cfg.SLA = bot.DefaultSLAPolicy(workcal.Default())
		withChristmas(cfg)
		cfg.Managers = []bot.Address{{Email: "boss@example.org"}}
		cfg.Releases = bot.ReleasePolicy{MinorEvery: 14, Anchor: workcal.Date{Year: 2026, Month: 11, Day: 27}}
	})
	for i := 1; i <= n; i++ {
		f.ingest(mail(fmt.Sprintf("rel%d@oakprimary.sch.uk", i), fmt.Sprintf("s%d@oakprimary.sch.uk", i),
			fmt.Sprintf("Typo on the report card %d", i), "A typo."))
		if err := f.desk.Do(context.Background(), uint64(i), bot.StaffAction{Kind: bot.ActSeverity, Severity: "minor"}, priya); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func workaroundDue(t *testing.T, f *fixture, num uint64) time.Time {
	t.Helper()
	for _, c := range f.desk.SLA().Clocks(f.rfa(num), f.now) {
		if c.Name == bot.ClockWorkaround {
			return c.Due
		}
	}
	t.Fatalf("RFA-%d has no workaround clock", num)
	return time.Time{}
}

func TestReleaseCalendar(t *testing.T) {
	f := releaseFixture(t, 0)
	rels, err := f.desk.Releases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rels[:5] {
		got = append(got, r.Name+"@"+r.Date.String())
	}
	// Christmas Day and Boxing Day (substitute Monday 28th) are bank
	// holidays: the 25 December release ships on the 29th. The major
	// release is the first working day after the Christmas holidays.
	want := "minor-2026-11-27@2026-11-27 minor-2026-12-11@2026-12-11 minor-2026-12-25@2026-12-29 " +
		"major-2027-01-05@2027-01-05 minor-2027-01-08@2027-01-08"
	if strings.Join(got, " ") != want {
		t.Errorf("coming releases:\n got %s\nwant %s", strings.Join(got, " "), want)
	}

	// Staff add a named release and move a computed one.
	ctx := context.Background()
	if _, err := f.desk.AddRelease(ctx, "Hotfix 7", workcal.Date{Year: 2026, Month: 12, Day: 1}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.AddRelease(ctx, "minor-2026-12-11", workcal.Date{Year: 2026, Month: 12, Day: 15}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.AddRelease(ctx, "next-minor", workcal.Date{Year: 2026, Month: 12, Day: 15}, ""); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("adding a release called next-minor: %v, want ErrInvalid", err)
	}
	rels, _ = f.desk.Releases(ctx)
	got = got[:0]
	for _, r := range rels[:3] {
		got = append(got, r.Name+"@"+r.Date.String())
	}
	if want := "minor-2026-11-27@2026-11-27 Hotfix 7@2026-12-01 minor-2026-12-11@2026-12-15"; strings.Join(got, " ") != want {
		t.Errorf("after add and move:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// Proof: next-minor moves a Minor RFA's due date to its release's.
func TestNextMinorSetsMinorRFAsDueDate(t *testing.T) {
	f := releaseFixture(t, 1)
	before := workaroundDue(t, f, 1)
	if err := f.desk.Do(context.Background(), 1, bot.StaffAction{Kind: bot.ActRelease, Release: "next-minor"}, priya); err != nil {
		t.Fatal(err)
	}
	r := f.rfa(1)
	london := workcal.Default().Location()
	ships := time.Date(2026, 11, 28, 0, 0, 0, 0, london)
	if r.Release == nil || r.Release.Name != "minor-2026-11-27" || !r.Release.Ships.Equal(ships) {
		t.Fatalf("RFA-1's release: %+v, want minor-2026-11-27 shipping %v", r.Release, ships)
	}
	if due := workaroundDue(t, f, 1); !due.Equal(ships) || due.Equal(before) {
		t.Errorf("workaround due %v (before %v), want the release's %v", due, before, ships)
	}
	var notice *bot.OutgoingMail
	for _, it := range f.outbox() {
		if it.Mail != nil && it.Mail.Purpose == "release notice" {
			notice = it.Mail
		}
	}
	if notice == nil || notice.To[0].Email != "s1@oakprimary.sch.uk" || !strings.Contains(notice.Text, "release minor-2026-11-27, shipping on Friday 27 November 2026") {
		t.Errorf("release notice to the requester: %+v", notice)
	}
	// Moving the release moves the RFA's due date with it.
	if _, err := f.desk.AddRelease(context.Background(), "minor-2026-11-27", workcal.Date{Year: 2026, Month: 12, Day: 2}, ""); err != nil {
		t.Fatal(err)
	}
	moved := time.Date(2026, 12, 3, 0, 0, 0, 0, london)
	if due := workaroundDue(t, f, 1); !due.Equal(moved) {
		t.Errorf("workaround due %v after the release moved, want %v", due, moved)
	}
	if err := f.desk.Do(context.Background(), 1, bot.StaffAction{Kind: bot.ActRelease, Release: "2026.99"}, priya); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("an unknown release: %v, want ErrInvalid", err)
	}
}

// Proof: shipping a release clears every RFA planned for it, once.
func TestShippedReleaseClearsItsRFAs(t *testing.T) {
	f := releaseFixture(t, 3)
	ctx := context.Background()
	for num := uint64(1); num <= 2; num++ {
		if err := f.desk.Do(ctx, num, bot.StaffAction{Kind: bot.ActRelease, Release: "Minor-2026-12-11"}, priya); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.desk.Do(ctx, 3, bot.StaffAction{Kind: bot.ActRelease, Release: "next-major"}, priya); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.ShipRelease(ctx, "minor-2026-12-11", " ", priya); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("shipping without notes: %v, want ErrInvalid", err)
	}
	n, err := f.desk.ShipRelease(ctx, "minor-2026-12-11", "Fixed the report card typos.", priya)
	if err != nil || n != 2 {
		t.Fatalf("ship: %d cleared, %v; want 2", n, err)
	}
	for num := uint64(1); num <= 2; num++ {
		if r := f.rfa(num); r.Status != bot.StatusCleared {
			t.Errorf("RFA-%d after the ship: %s, want cleared", num, r.Status)
		}
	}
	if r := f.rfa(3); r.Status == bot.StatusCleared {
		t.Errorf("RFA-3, planned for the major release, was cleared")
	}
	got := clearances(f.outbox())
	for _, who := range []string{"s1@oakprimary.sch.uk", "s2@oakprimary.sch.uk"} {
		if len(got[who]) != 1 || !strings.Contains(got[who][0].Text, "Fixed the report card typos.") {
			t.Errorf("clearance mails to %s: %d, want one with the notes", who, len(got[who]))
		}
	}
	if len(got["s3@oakprimary.sch.uk"]) != 0 {
		t.Errorf("RFA-3's requester got a clearance")
	}
	// Shipping again clears nothing more and mails nobody.
	if n, err := f.desk.ShipRelease(ctx, "minor-2026-12-11", "Again.", priya); err != nil || n != 0 {
		t.Errorf("shipping again: %d cleared, %v; want 0", n, err)
	}
	if got := clearances(f.outbox()); len(got["s1@oakprimary.sch.uk"]) != 1 {
		t.Errorf("after shipping again: %d clearance mails to s1, want 1", len(got["s1@oakprimary.sch.uk"]))
	}
	// A shipped release takes no more RFAs and leaves the list.
	if err := f.desk.Do(ctx, 3, bot.StaffAction{Kind: bot.ActRelease, Release: "minor-2026-12-11"}, priya); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("planning for a shipped release: %v, want ErrInvalid", err)
	}
	rels, _ := f.desk.Releases(ctx)
	for _, r := range rels {
		if r.Name == "minor-2026-12-11" {
			t.Errorf("shipped release still listed as coming")
		}
	}
}

func mailsOf(f *fixture, purpose string) []*bot.OutgoingMail {
	var out []*bot.OutgoingMail
	for _, it := range f.outbox() {
		if it.Mail != nil && it.Mail.Purpose == purpose {
			out = append(out, it.Mail)
		}
	}
	return out
}

func TestUnshippedReleaseRollsOverAndCadenceIsChecked(t *testing.T) {
	f := releaseFixture(t, 1)
	ctx := context.Background()
	if err := f.desk.Do(ctx, 1, bot.StaffAction{Kind: bot.ActRelease, Release: "next-minor"}, priya); err != nil {
		t.Fatal(err)
	}
	if n, err := f.desk.CheckReleases(ctx); err != nil || n != 0 {
		t.Fatalf("check before the date: %d moved, %v", n, err)
	}
	f.now = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // minor-2026-11-27 passed unshipped
	for i, want := range []int{1, 0} {
		if n, err := f.desk.CheckReleases(ctx); err != nil || n != want {
			t.Fatalf("check %d: %d moved, %v; want %d", i+1, n, err, want)
		}
	}
	r := f.rfa(1)
	if r.Release == nil || r.Release.Name != "minor-2026-12-11" || !hasEvent(r, bot.EventReleaseMoved) {
		t.Errorf("RFA-1 after the roll-over: %+v", r.Release)
	}
	var told int
	for _, m := range mailsOf(f, "release notice") {
		if strings.Contains(m.Text, "did not ship") && strings.Contains(m.Text, "minor-2026-12-11") {
			told++
		}
	}
	if told != 1 {
		t.Errorf("requester told of the move %d times, want once", told)
	}
	if n := len(mailsOf(f, "release cadence")); n != 0 {
		t.Errorf("%d cadence alerts three days after a release date", n)
	}
	// 3 weeks without a minor release: the managers are told, once.
	f.now = time.Date(2026, 12, 18, 9, 0, 0, 0, time.UTC)
	for range 2 {
		if _, err := f.desk.CheckReleases(ctx); err != nil {
			t.Fatal(err)
		}
	}
	alerts := mailsOf(f, "release cadence")
	if len(alerts) != 1 || alerts[0].To[0].Email != "boss@example.org" || !strings.Contains(alerts[0].Text, "No minor release") {
		t.Errorf("cadence alerts: %+v, want one to the manager", alerts)
	}
}

// A ship clears more RFAs than one transaction takes, and the daily
// check finishes a ship that a crash interrupted: an RFA of a shipped
// release still in the release index is cleared with its notes, once.
func TestShipInBatchesAndResumeAfterCrash(t *testing.T) {
	const n = 60 // more than one ship transaction (shipBatch)
	f := releaseFixture(t, 0)
	ctx := context.Background()
	var ms []*bot.Mail
	for i := 1; i <= n+1; i++ {
		ms = append(ms, mail(fmt.Sprintf("b%d@elmpark.sch.uk", i), fmt.Sprintf("r%d@elmpark.sch.uk", i), fmt.Sprintf("Report %d", i), "Broken."))
	}
	f.ingest(ms...)
	for num := uint64(1); num <= n; num++ {
		if err := f.desk.Do(ctx, num, bot.StaffAction{Kind: bot.ActRelease, Release: "next-major"}, priya); err != nil {
			t.Fatal(err)
		}
	}
	cleared, err := f.desk.ShipRelease(ctx, "major-2027-01-05", "The new term's release.", priya)
	if err != nil || cleared != n {
		t.Fatalf("ship: %d cleared, %v; want %d", cleared, err, n)
	}
	// The crash: RFA-61 was written planned for the release, and never
	// cleared, as if the ship had stopped before reaching it.
	if err := f.db.Update(ctx, func(tx bot.Tx) error {
		r, err := tx.RFA(n + 1)
		if err != nil {
			return err
		}
		r.Release = &bot.Release{Name: "major-2027-01-05", Ships: time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC)}
		return tx.PutRFA(r)
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.desk.CheckReleases(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := clearances(f.outbox())
	for i := 1; i <= n+1; i++ {
		who := fmt.Sprintf("r%d@elmpark.sch.uk", i)
		if len(got[who]) != 1 || !strings.Contains(got[who][0].Text, "The new term's release.") {
			t.Fatalf("clearance mails to %s: %d, want one with the notes", who, len(got[who]))
		}
	}
}
