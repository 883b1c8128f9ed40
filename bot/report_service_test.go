package bot_test

import (
	"context"
	"testing"
	"time"

	"rfadesk/bot"
)

// TestDeskMonthReportServiceSections records November 2026's service
// through the desk (two outages of 20 and 25 minutes on one component,
// rfadesk down 6 minutes, a gauge crossing, a minor release shipped) and
// checks the report's sections read them back from the store.
func TestDeskMonthReportServiceSections(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := func(tm time.Time) { f.now = tm }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []struct{ from, to time.Time }{{nov(10, 10, 0), nov(10, 10, 20)}, {nov(20, 14, 0), nov(20, 14, 25)}} {
		at(o.from)
		id, err := f.desk.StartOutage(ctx, bot.OutageStart{Title: "Portal down", Components: []string{"portal"}}, priya)
		must(err)
		at(o.to)
		must(f.desk.EndOutage(ctx, id, "Restarted.", priya))
	}
	at(nov(3, 2, 0))
	must(f.desk.RecordHealth(ctx, false))
	at(nov(3, 2, 6))
	must(f.desk.RecordHealth(ctx, true))
	at(nov(16, 11, 0))
	if reported, err := f.desk.ObserveGauge(ctx, bot.Gauge{Service: "mail-store", Used: 72.5, Limit: 100}); err != nil || !reported {
		t.Fatalf("observe = %v, %v", reported, err)
	}
	at(nov(20, 10, 0))
	_, err := f.desk.ShipRelease(ctx, "minor-2026-11-20", "Fixes.", priya)
	must(err)

	downs, err := f.desk.Downtime(ctx)
	must(err)
	if len(downs) != 2 || downs[0].Component != "portal" || downs[1].To.Sub(downs[1].From) != 25*time.Minute {
		t.Errorf("Downtime = %+v", downs)
	}

	at(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	rep, err := f.desk.MonthReport(ctx, bot.Month{Year: 2026, Month: time.November})
	must(err)
	if rs := rep.Releases; rs.Minor != 1 || len(rs.Shipped) != 1 || rs.Shipped[0].Name != "minor-2026-11-20" {
		t.Errorf("releases = %+v", rs)
	}
	if c := rep.Capacity; len(c.Crossings) != 1 || c.Crossings[0].Percent != 72.5 || len(c.Gauges) != 1 || c.Threshold != 70 {
		t.Errorf("capacity = %+v", c)
	}
	av := rep.Availability
	if len(av.Components) != 1 || av.Components[0].Down != 45*time.Minute || av.Components[0].AllowanceLeft.Round(time.Second) != -108*time.Second {
		t.Errorf("components = %+v", av.Components)
	}
	if av.Rfadesk.Down != 6*time.Minute {
		t.Errorf("rfadesk = %+v", av.Rfadesk)
	}
	if empty, err := f.desk.MonthReport(ctx, bot.Month{Year: 2026, Month: time.October}); err != nil || len(empty.Availability.Components) != 0 || len(empty.Capacity.Crossings) != 0 || empty.Releases.Minor != 0 {
		t.Errorf("October = %+v, %v", empty, err)
	}
}
