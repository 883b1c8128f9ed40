package bot_test

import (
	"testing"
	"time"

	"rfadesk/bot"
)

func TestMonthlyAvailability(t *testing.T) {
	utc := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	nov := utc(1, 0, 0)
	after := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	// November has 30 × 1440 = 43,200 minutes; 99.9% allows 43.2.
	tests := []struct {
		name      string
		downs     []bot.Downtime
		now       time.Time
		down      time.Duration
		ratio     float64
		allowance time.Duration
	}{{
		// Two outages: 20 min and 25 min = 45 min. 1 - 45/43200 =
		// 0.998958333...; allowance 43.2 - 45 = -1.8 min (-108 s).
		name: "two outages",
		downs: []bot.Downtime{
			{Component: "mis", From: utc(3, 10, 0), To: utc(3, 10, 20)},
			{Component: "mis", From: utc(17, 14, 5), To: utc(17, 14, 30)},
		},
		now: after, down: 45 * time.Minute, ratio: 1 - 45.0/43200, allowance: -108 * time.Second,
	}, {
		// Overlapping notices count once; one starting in October counts
		// from 1 November: 30 min + (10:00-10:30 ∪ 10:15-10:40 = 40) =
		// 70 min; December's outage is not November's.
		name: "overlap and month edge",
		downs: []bot.Downtime{
			{Component: "mis", From: time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC), To: utc(1, 0, 30)},
			{Component: "mis", From: utc(5, 10, 0), To: utc(5, 10, 30)},
			{Component: "mis", From: utc(5, 10, 15), To: utc(5, 10, 40)},
			{Component: "mis", From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)},
		},
		now: after, down: 70 * time.Minute, ratio: 1 - 70.0/43200, allowance: time.Duration(43.2*float64(time.Minute)) - 70*time.Minute,
	}, {
		// A month in progress counts up to now; an open outage runs to now.
		// 10 days = 14,400 min; 12 min down.
		name:  "month in progress, open outage",
		downs: []bot.Downtime{{Component: "mis", From: utc(10, 23, 48)}},
		now:   utc(11, 0, 0), down: 12 * time.Minute, ratio: 1 - 12.0/14400,
		allowance: time.Duration(43.2*float64(time.Minute)) - 12*time.Minute,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.MonthlyAvailability(tt.downs, nov, tt.now)
			if len(got) != 1 {
				t.Fatalf("got %+v, want one component", got)
			}
			a := got[0]
			if a.Component != "mis" || a.Down != tt.down || a.AllowanceLeft != tt.allowance || !a.Month.Equal(nov) {
				t.Errorf("got %+v; want down %v allowance %v", a, tt.down, tt.allowance)
			}
			if d := a.Ratio - tt.ratio; d > 1e-12 || d < -1e-12 {
				t.Errorf("ratio = %.9f, want %.9f", a.Ratio, tt.ratio)
			}
		})
	}
	// A component named in also, without downtime, is at 100%.
	got := bot.MonthlyAvailability(nil, nov, after, "rfadesk")
	if len(got) != 1 || got[0].Ratio != 1 || got[0].Period != 43200*time.Minute || got[0].AllowanceLeft != time.Duration(43.2*float64(time.Minute)) {
		t.Errorf("no downtime: %+v", got)
	}
}
