package workcal

import (
	"strings"
	"testing"
	"time"
)

// london is loaded explicitly: nothing here depends on the host's TZ.
func london(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2006-01-02 15:04[:05]" as London wall-clock time.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout = time.DateTime
	}
	v, err := time.ParseInLocation(layout, s, london(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustTarget(t testing.TB, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestDue(t *testing.T) {
	c := Default()
	tests := []struct {
		name, start, target, want string
		wantOffset                int // seconds east of UTC of the result
	}{
		{"working days keep the clock time", "2026-03-10 10:00", "2 working days", "2026-03-12 10:00", 0},
		{"one working day from opening ends at closing", "2026-03-10 08:00", "1 working day", "2026-03-10 17:00", 0},
		{"working week", "2026-03-10 10:00", "1 working week", "2026-03-17 10:00", 0},
		{"two working weeks over Easter", "2026-04-01 10:00", "2 working weeks", "2026-04-17 10:00", 3600},
		{"3 working days over a weekend", "2026-03-12 10:00", "3 working days", "2026-03-17 10:00", 0},
		{"working day from Friday evening", "2026-03-13 18:00", "1 working day", "2026-03-16 17:00", 0},
		{"start at closing counts from next opening", "2026-03-11 17:00", "1 working hour", "2026-03-12 09:00", 0},
		{"start at closing, one working day", "2026-03-11 17:00", "1 working day", "2026-03-12 17:00", 0},
		{"start at opening", "2026-03-11 08:00", "1 working hour", "2026-03-11 09:00", 0},
		{"start one second before closing", "2026-03-11 16:59:59", "1 working hour", "2026-03-12 08:59:59", 0},
		{"start in the evening", "2026-03-11 19:00", "1 working hour", "2026-03-12 09:00", 0},
		{"start early morning", "2026-03-11 06:00", "4 working hours", "2026-03-11 12:00", 0},
		{"start on Saturday", "2026-03-28 12:00", "1 working hour", "2026-03-30 09:00", 3600},
		{"DST spring: Friday GMT to Monday BST", "2026-03-27 16:00", "2 working hours", "2026-03-30 09:00", 3600},
		{"DST spring: working day keeps local time", "2026-03-27 10:00", "1 working day", "2026-03-30 10:00", 3600},
		{"DST spring: start on the Sunday night", "2026-03-29 00:30", "1 working hour", "2026-03-30 09:00", 3600},
		{"DST autumn: Friday BST to Monday GMT", "2026-10-23 16:00", "2 working hours", "2026-10-26 09:00", 0},
		{"DST autumn: working day keeps local time", "2026-10-23 10:00", "1 working day", "2026-10-26 10:00", 0},
		{"wall-clock hours run through a weekend and DST", "2026-03-27 16:00", "72 hours", "2026-03-30 17:00", 3600},
		{"wall-clock hours from outside hours", "2026-03-28 12:00", "1 hour", "2026-03-28 13:00", 0},
		{"Christmas 2021 substitute days", "2021-12-24 16:00", "2 working hours", "2021-12-29 09:00", 0},
		{"New Year 2022 substitute day and year boundary", "2021-12-31 16:00", "2 working hours", "2022-01-04 09:00", 0},
		{"year boundary, plain", "2025-12-31 16:00", "2 working hours", "2026-01-02 09:00", 0},
		{"Christmas 2027 substitute days", "2027-12-24 16:00", "2 working hours", "2027-12-29 09:00", 0},
		{"jubilee 2022-06-02/03", "2022-06-01 16:00", "2 working hours", "2022-06-06 09:00", 3600},
		{"state funeral 2022-09-19", "2022-09-16 16:00", "2 working hours", "2022-09-20 09:00", 3600},
		{"coronation 2023-05-08", "2023-05-05 16:00", "2 working hours", "2023-05-09 09:00", 3600},
		{"2020-05-04 is a working day", "2020-05-01 16:00", "2 working hours", "2020-05-04 09:00", 3600},
		{"VE day 2020-05-08", "2020-05-07 16:00", "2 working hours", "2020-05-11 09:00", 3600},
		{"Boxing Day 2026 substitute", "2026-12-24 16:00", "2 working hours", "2026-12-29 09:00", 0},
		{"rule fallback year 2031 Christmas", "2031-12-24 16:00", "2 working hours", "2031-12-29 09:00", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := at(t, tc.start)
			got := c.Due(start, mustTarget(t, tc.target))
			want := at(t, tc.want)
			if !got.Equal(want) {
				t.Fatalf("Due(%s, %q) = %s, want %s", start, tc.target, got, want)
			}
			if _, off := got.Zone(); off != tc.wantOffset {
				t.Errorf("result %s has UTC offset %d, want %d", got, off, tc.wantOffset)
			}
			if got.Location() != c.Location() {
				t.Errorf("result location %v, want the desk's", got.Location())
			}
		})
	}
}

func TestDueInvalidTargetReturnsStart(t *testing.T) {
	c := Default()
	start := at(t, "2026-03-11 19:00")
	for _, tg := range []Target{{}, {N: 0, Unit: UnitWorkingHour}, {N: 1, Unit: Unit(99)}, {N: MaxTargetN + 1, Unit: UnitHour}} {
		if got := c.Due(start, tg); !got.Equal(start) {
			t.Errorf("Due(%+v) = %s, want start %s", tg, got, start)
		}
	}
}

func TestAddEdges(t *testing.T) {
	c := Default()
	tests := []struct {
		name, start string
		d           time.Duration
		want        string
		plus        time.Duration // added to want (sub-second results)
	}{
		{"running out at closing gives the closing instant", "2026-03-11 16:59:59", time.Second, "2026-03-11 17:00:00", 0},
		{"a full day from opening", "2026-03-11 08:00", 9 * time.Hour, "2026-03-11 17:00", 0},
		{"one nanosecond more crosses to the next day", "2026-03-11 08:00", 9*time.Hour + time.Nanosecond, "2026-03-12 08:00:00", time.Nanosecond},
		{"zero returns start even out of hours", "2026-03-14 03:00", 0, "2026-03-14 03:00", 0},
		{"negative returns start", "2026-03-11 10:00", -time.Hour, "2026-03-11 10:00", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Add(at(t, tc.start), tc.d)
			want := at(t, tc.want).Add(tc.plus)
			if !got.Equal(want) {
				t.Fatalf("Add(%s, %v) = %s, want %s", tc.start, tc.d, got, want)
			}
		})
	}
}

func TestIsOpenAndNextOpen(t *testing.T) {
	c := Default()
	utc := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		t        time.Time
		open     bool
		nextOpen time.Time
	}{
		{"opening instant", at(t, "2026-03-11 08:00"), true, at(t, "2026-03-11 08:00")},
		{"just before opening", at(t, "2026-03-11 07:59:59"), false, at(t, "2026-03-11 08:00")},
		{"last second", at(t, "2026-03-11 16:59:59"), true, at(t, "2026-03-11 16:59:59")},
		{"closing instant is closed", at(t, "2026-03-11 17:00:00"), false, at(t, "2026-03-12 08:00")},
		{"Friday close to Monday", at(t, "2026-03-13 17:00"), false, at(t, "2026-03-16 08:00")},
		{"Saturday", at(t, "2026-03-14 11:00"), false, at(t, "2026-03-16 08:00")},
		{"bank holiday", at(t, "2023-05-08 11:00"), false, at(t, "2023-05-09 08:00")},
		{"2020-05-04 is open", at(t, "2020-05-04 11:00"), true, at(t, "2020-05-04 11:00")},
		{"UTC 07:30 on BST Monday is 08:30 local", utc("2026-03-30 07:30:00"), true, utc("2026-03-30 07:30:00")},
		{"UTC 07:30 on GMT Friday is 07:30 local", utc("2026-03-27 07:30:00"), false, utc("2026-03-27 08:00:00")},
		{"UTC 16:30 on BST day is 17:30 local", utc("2026-06-10 16:30:00"), false, at(t, "2026-06-11 08:00")},
		{"UTC 23:30 Sunday BST is Monday local", utc("2026-06-14 23:30:00"), false, at(t, "2026-06-15 08:00")},
		{"Christmas Eve close to after the substitute days", at(t, "2021-12-24 17:00"), false, at(t, "2021-12-29 08:00")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.IsOpen(tc.t); got != tc.open {
				t.Errorf("IsOpen(%s) = %v, want %v", tc.t, got, tc.open)
			}
			got := c.NextOpen(tc.t)
			if !got.Equal(tc.nextOpen) {
				t.Errorf("NextOpen(%s) = %s, want %s", tc.t, got, tc.nextOpen)
			}
			if !c.IsOpen(got) {
				t.Errorf("NextOpen(%s) = %s is not open", tc.t, got)
			}
		})
	}
}

func TestBetween(t *testing.T) {
	c := Default()
	tests := []struct {
		name, a, b string
		want       time.Duration
	}{
		{"Friday afternoon to Monday over DST", "2026-03-27 16:00", "2026-03-30 09:00", 2 * time.Hour},
		{"reversed is zero", "2026-03-30 09:00", "2026-03-27 16:00", 0},
		{"empty", "2026-03-11 10:00", "2026-03-11 10:00", 0},
		{"closing to opening", "2026-03-11 17:00", "2026-03-12 08:00", 0},
		{"last second", "2026-03-11 16:59:59", "2026-03-11 17:00:00", time.Second},
		{"whole plain week", "2026-03-09 00:00", "2026-03-16 00:00", 45 * time.Hour},
		{"week of the autumn change", "2026-10-19 00:00", "2026-10-26 12:00", 45*time.Hour + 4*time.Hour},
		{"Christmas week 2021", "2021-12-27 00:00", "2022-01-01 00:00", 27 * time.Hour},
		{"whole year 2026: 261 weekdays less 8 holidays", "2026-01-01 00:00", "2027-01-01 00:00", 253 * 9 * time.Hour},
		{"whole year 2022: 260 weekdays less 10 holidays", "2022-01-01 00:00", "2023-01-01 00:00", 250 * 9 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Between(at(t, tc.a), at(t, tc.b)); got != tc.want {
				t.Fatalf("Between(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// A desk open round the clock every day makes working time equal elapsed
// time, including the 23- and 25-hour days of the clock changes.
func TestAllDayDesk(t *testing.T) {
	h := Hours{Location: london(t), Open: 0, Close: 24 * time.Hour}
	for i := range h.Days {
		h.Days[i] = true
	}
	c, err := New(&Options{Hours: &h, Holidays: []Holiday{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, day := range []string{"2026-03-29", "2026-10-25", "2026-06-01"} {
		a := at(t, day+" 00:00")
		b := a.AddDate(0, 0, 1)
		if got, want := c.Between(a, b), b.Sub(a); got != want {
			t.Errorf("Between over %s = %v, want %v", day, got, want)
		}
		if got := c.Add(a.Add(-time.Hour), 3*time.Hour); !got.Equal(a.Add(2 * time.Hour)) {
			t.Errorf("Add across midnight before %s = %s, want %s", day, got, a.Add(2*time.Hour))
		}
	}
	if !c.IsOpen(at(t, "2026-03-29 00:00")) {
		t.Error("midnight should be open on an all-day desk")
	}
}

func TestCustomHours(t *testing.T) {
	h := DefaultHours()
	h.Open, h.Close = 9*time.Hour, 17*time.Hour+30*time.Minute
	h.Days[time.Saturday] = true
	c, err := New(&Options{Hours: &h})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.WorkingDay(); got != 8*time.Hour+30*time.Minute {
		t.Errorf("WorkingDay = %v", got)
	}
	if !c.IsOpen(at(t, "2026-03-14 17:29:59")) || c.IsOpen(at(t, "2026-03-14 17:30")) || c.IsOpen(at(t, "2026-03-15 10:00")) {
		t.Error("Saturday 09:00-17:30 desk has the wrong opening")
	}
	// Friday 17:00 + 1 working day: 30 min Friday, 8h Saturday -> Saturday 17:00.
	if got, want := c.Due(at(t, "2026-03-13 17:00"), mustTarget(t, "1 working day")), at(t, "2026-03-14 17:00"); !got.Equal(want) {
		t.Errorf("Due = %s, want %s", got, want)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	def := DefaultHours()
	with := func(f func(*Hours)) *Hours { h := def; f(&h); return &h }
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"nil location", Options{Hours: with(func(h *Hours) { h.Location = nil })}, "location is nil"},
		{"close before open", Options{Hours: with(func(h *Hours) { h.Close = 7 * time.Hour })}, "must be after open"},
		{"close equals open", Options{Hours: with(func(h *Hours) { h.Close = h.Open })}, "must be after open"},
		{"close past midnight", Options{Hours: with(func(h *Hours) { h.Close = 25 * time.Hour })}, "at most 24h"},
		{"negative open", Options{Hours: with(func(h *Hours) { h.Open = -time.Hour })}, "not a time of day"},
		{"no days", Options{Hours: with(func(h *Hours) { h.Days = [7]bool{} })}, "no open weekday"},
		{"unreal holiday", Options{Holidays: []Holiday{{Date: Date{2023, 2, 30}, Name: "x"}}}, "2023-02-30 is not a real date"},
		{"duplicate holiday", Options{Holidays: []Holiday{{Date{2023, 5, 8}, "a"}, {Date{2023, 5, 8}, "b"}}}, "2023-05-08 listed twice"},
		{"unreal closure", Options{ExtraClosures: []Date{{2026, 13, 1}}}, "closure 2026-13-01 is not a real date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(&tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "workcal: ") {
				t.Fatalf("New = %v, %v; want error containing %q", c, err, tc.want)
			}
		})
	}
}
