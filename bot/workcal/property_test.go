package workcal

import (
	"math/rand/v2"
	"testing"
	"time"
)

// randInstant is a random instant between 2019 and the end of 2031, so
// draws hit clock changes, substitute days, one-offs and rule-fallback years.
func randInstant(r *rand.Rand) time.Time {
	lo := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	return time.Unix(lo+r.Int64N(hi-lo), int64(r.IntN(1e9))).UTC()
}

// randWork is up to about three working weeks, sometimes whole hours or
// whole working days so results land on span edges.
func randWork(r *rand.Rand) time.Duration {
	switch r.IntN(3) {
	case 0:
		return time.Duration(1+r.IntN(40)) * time.Hour
	case 1:
		return time.Duration(1+r.IntN(15)) * 9 * time.Hour
	}
	return 1 + time.Duration(r.Int64N(int64(135*time.Hour)))
}

func TestPropertyAddBetween(t *testing.T) {
	c := Default()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		a := randInstant(r)
		if i%2 == 0 {
			a = c.NextOpen(a) // the "a is open" case; odd i start anywhere
		}
		d := randWork(r)
		end := c.Add(a, d)
		if got := c.Between(a, end); got != d {
			t.Fatalf("Between(%s, Add(a, %v) = %s) = %v", a, d, end, got)
		}
		// Add is the earliest such instant.
		if got := c.Between(a, end.Add(-time.Nanosecond)); got != d-time.Nanosecond {
			t.Fatalf("Add(%s, %v) = %s is not the earliest: 1ns before has %v", a, d, end, got)
		}
		// Monotonic in d.
		d2 := d + randWork(r)
		if end2 := c.Add(a, d2); end2.Before(end) {
			t.Fatalf("Add(%s, %v) = %s before Add(a, %v) = %s", a, d2, end2, d, end)
		}
		// NextOpen is open, and no working time passes before it.
		n := c.NextOpen(a)
		if !c.IsOpen(n) || c.Between(a, n) != 0 || n.Before(a) {
			t.Fatalf("NextOpen(%s) = %s: open %v, Between %v", a, n, c.IsOpen(n), c.Between(a, n))
		}
	}
}

func TestPropertyDueMonotonic(t *testing.T) {
	c := Default()
	// Targets in order of increasing amount (equal neighbours allowed).
	var ts []Target
	for n := 1; n <= 20; n++ {
		ts = append(ts, Target{n, UnitWorkingHour})
	}
	ordered := []Target{
		{1, UnitWorkingHour}, {8, UnitWorkingHour}, {9, UnitWorkingHour}, {1, UnitWorkingDay},
		{10, UnitWorkingHour}, {2, UnitWorkingDay}, {3, UnitWorkingDay}, {5, UnitWorkingDay},
		{1, UnitWorkingWeek}, {46, UnitWorkingHour}, {6, UnitWorkingDay}, {2, UnitWorkingWeek}, {3, UnitWorkingWeek},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		a := randInstant(r)
		for _, seq := range [][]Target{ts, ordered} {
			prev := c.Due(a, seq[0])
			for _, tg := range seq[1:] {
				due := c.Due(a, tg)
				if due.Before(prev) {
					t.Fatalf("Due(%s, %v) = %s before the smaller target's %s", a, tg, due, prev)
				}
				prev = due
			}
		}
		if x, y := c.Due(a, Target{1, UnitWorkingDay}), c.Due(a, Target{9, UnitWorkingHour}); !x.Equal(y) {
			t.Fatalf("from %s: 1 working day %s != 9 working hours %s", a, x, y)
		}
		if x, y := c.Due(a, Target{1, UnitWorkingWeek}), c.Due(a, Target{5, UnitWorkingDay}); !x.Equal(y) {
			t.Fatalf("from %s: 1 working week %s != 5 working days %s", a, x, y)
		}
		h1, h2 := c.Due(a, Target{1, UnitHour}), c.Due(a, Target{72, UnitHour})
		if !h1.Equal(a.Add(time.Hour)) || !h2.Equal(a.Add(72*time.Hour)) {
			t.Fatalf("wall-clock hours from %s: %s, %s", a, h1, h2)
		}
	}
}

// From an open instant, N working days land on the same local clock time
// N open days later (the default desk's span never contains a clock change).
func TestPropertyWorkingDaysKeepClockTime(t *testing.T) {
	c := Default()
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		a := c.NextOpen(randInstant(r))
		if h, _, _ := a.In(c.Location()).Clock(); h < 8 || h >= 17 {
			t.Fatalf("NextOpen gave %s", a)
		}
		n := 1 + r.IntN(10)
		due := c.Due(a, Target{n, UnitWorkingDay})
		la, ld := a.In(c.Location()), due.In(c.Location())
		if la.Hour() == 8 && la.Minute() == 0 && la.Second() == 0 && la.Nanosecond() == 0 {
			continue // from opening, the due time is the Nth day's closing
		}
		if la.Hour() != ld.Hour() || la.Minute() != ld.Minute() || la.Second() != ld.Second() || la.Nanosecond() != ld.Nanosecond() {
			t.Fatalf("%s + %d working days = %s: clock time changed", la, n, ld)
		}
		// Exactly n open days lie after a's day up to and including due's day.
		open := 0
		for d := c.dayOf(a) + 1; d <= c.dayOf(due); d++ {
			if c.isWorkDay(d) {
				open++
			}
		}
		if open != n {
			t.Fatalf("%s + %d working days = %s crosses %d open days", la, n, ld, open)
		}
	}
}

// One Calendar shared by goroutines gives every goroutine the same answers
// (run with -race to check it is read-only).
func TestConcurrentUse(t *testing.T) {
	c := Default()
	start := time.Date(2026, 12, 18, 16, 30, 0, 0, c.Location())
	want := c.Due(start, Target{2, UnitWorkingWeek})
	results := make(chan time.Time, 8)
	for range cap(results) {
		go func() {
			var got time.Time
			for range 50 {
				got = c.Due(start, Target{2, UnitWorkingWeek})
				c.Between(start, got)
				c.IsHoliday(Date{2026, 12, 25})
			}
			results <- got
		}()
	}
	for range cap(results) {
		if got := <-results; !got.Equal(want) {
			t.Errorf("concurrent Due = %s, want %s", got, want)
		}
	}
}
