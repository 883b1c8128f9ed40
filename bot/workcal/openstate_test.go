package workcal

import (
	"testing"
	"time"
)

// TestStateAt: open or closed at an instant, when the span closes and
// when the desk next opens, across a weekend, bank holidays and both
// clock changes (times are London wall-clock; "" means the zero Time).
func TestStateAt(t *testing.T) {
	c := Default()
	tests := []struct {
		name, at     string
		open         bool
		closes, next string
	}{
		{"open friday", "2026-12-04 12:00", true, "2026-12-04 17:00", "2026-12-07 08:00"},
		{"opening instant is open", "2026-12-07 08:00", true, "2026-12-07 17:00", "2026-12-08 08:00"},
		{"closing instant is closed", "2026-12-04 17:00", false, "", "2026-12-07 08:00"},
		{"saturday", "2026-12-05 10:00", false, "", "2026-12-07 08:00"},
		{"before hours", "2026-12-08 07:59", false, "", "2026-12-08 08:00"},
		{"christmas and boxing day substitute", "2026-12-24 18:00", false, "", "2026-12-29 08:00"},
		{"open christmas eve, next after the holidays", "2026-12-24 09:00", true, "2026-12-24 17:00", "2026-12-29 08:00"},
		{"summer bank holiday", "2026-08-31 10:00", false, "", "2026-09-01 08:00"},
		{"GMT friday to BST monday", "2026-03-27 17:30", false, "", "2026-03-30 08:00"},
		{"BST friday to GMT monday", "2026-10-23 17:30", false, "", "2026-10-26 08:00"},
		{"open in BST", "2026-07-01 08:30", true, "2026-07-01 17:00", "2026-07-02 08:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.StateAt(at(t, tc.at).UTC())
			want := OpenState{Open: tc.open}
			if tc.closes != "" {
				want.Closes = at(t, tc.closes)
			}
			want.NextOpen = at(t, tc.next)
			if got.Open != want.Open || !got.Closes.Equal(want.Closes) || !got.NextOpen.Equal(want.NextOpen) {
				t.Errorf("StateAt(%s) = %+v, want %+v", tc.at, got, want)
			}
			if !got.NextOpen.IsZero() && got.NextOpen.Location() != c.Location() {
				t.Errorf("NextOpen in %v, want the desk's zone", got.NextOpen.Location())
			}
		})
	}
	// The clock change itself: 08:00 BST on 30 March is 07:00 UTC, and
	// 08:00 GMT on 26 October is 08:00 UTC.
	if got := c.StateAt(at(t, "2026-03-27 17:30")).NextOpen.UTC(); !got.Equal(time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("next opening after the spring change = %v UTC, want 07:00", got)
	}
	if got := c.StateAt(at(t, "2026-10-23 17:30")).NextOpen.UTC(); !got.Equal(time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("next opening after the autumn change = %v UTC, want 08:00", got)
	}
}
