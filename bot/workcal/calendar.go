// Package workcal is the service desk's working-time calendar: desk hours
// in a time zone, England & Wales bank holidays and configured closures,
// and the arithmetic SLA clocks are built on (adding and measuring working
// time, and due times for targets such as "4 working hours").
//
// # Time
//
// All arithmetic happens in the desk's location (Europe/London by
// default), whatever the host's TZ; the zone database is embedded
// (time/tzdata). Open and Close are wall-clock times of day, so the desk
// opens at 08:00 local on both sides of a clock change. Working time is
// real elapsed time inside opening spans. A span is [Open, Close): the
// closing instant itself is closed (17:00:00 is closed, 16:59:59 is open).
// A start outside hours starts the clock at the next opening. Times the
// calendar returns are in the desk's location.
//
// # Working days
//
// A working day is an amount of working time: one full opening span
// (Close−Open, 9h by default), and a working week is five of them. So
// "N working days" from 10:00 on an open day is 10:00 on the Nth open day
// after it (10:00 Tuesday + 2 working days = 10:00 Thursday), and from
// before or after hours it is the closing time of the Nth open day counted
// from the next opening (Friday 18:00 + 1 working day = Monday 17:00).
// Due times land on the close instant rather than the next morning when
// the time runs out exactly at closing.
//
// Half days: Hours has one span for every open day and the calendar has
// no notion of a shortened day, so a partly-open day cannot be expressed
// (close the whole day with a closure, or leave it open). A start part-way
// through a day is not rounded: the rest of that day counts, and the
// remainder of the target comes out of the last day, which is what keeps
// the clock time the same. An hour-based target never rounds to days.
//
// # Holidays
//
// The built-in list is gov.uk-shaped data for England & Wales 2018–2030
// (substitute days and one-off days included), embedded in the package.
// Other years fall back to rule-predicted dates from
// github.com/rickar/cal/v2/gb, which cannot know one-off holidays; those
// years are reported by [Calendar.Uncovered] so start-up can warn.
package workcal

import (
	"errors"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // the desk's zone must load on hosts without zoneinfo
)

// Hours are the desk's opening hours.
type Hours struct {
	// Location is the zone the desk works in. Required.
	Location *time.Location
	// Open and Close are wall-clock times of day as durations since
	// midnight: 0 <= Open < Close <= 24h. The span is [Open, Close).
	Open, Close time.Duration
	// Days says which weekdays are open, indexed by time.Weekday.
	Days [7]bool
}

// DefaultHours returns Monday–Friday 08:00–17:00 Europe/London. The zone
// database is embedded in the binary, so loading Europe/London cannot fail;
// DefaultHours panics if it somehow does.
func DefaultHours() Hours {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("workcal: Europe/London not loadable despite embedded tzdata: " + err.Error())
	}
	h := Hours{Location: loc, Open: 8 * time.Hour, Close: 17 * time.Hour}
	for d := time.Monday; d <= time.Friday; d++ {
		h.Days[d] = true
	}
	return h
}

func (h Hours) validate() error {
	var errs []error
	if h.Location == nil {
		errs = append(errs, errors.New("workcal: hours: location is nil"))
	}
	if h.Open < 0 || h.Open >= 24*time.Hour {
		errs = append(errs, fmt.Errorf("workcal: hours: open %v is not a time of day", h.Open))
	}
	if h.Close <= h.Open || h.Close > 24*time.Hour {
		errs = append(errs, fmt.Errorf("workcal: hours: close %v must be after open %v and at most 24h", h.Close, h.Open))
	}
	if !slices.Contains(h.Days[:], true) {
		errs = append(errs, errors.New("workcal: hours: no open weekday"))
	}
	return errors.Join(errs...)
}

// Options configure a Calendar. A nil *Options, and each zero field,
// means the default.
type Options struct {
	// Hours are the opening hours; nil means DefaultHours().
	Hours *Hours
	// Holidays, if non-nil, replaces the built-in England & Wales list
	// entirely (for example with LoadHolidays of a newer gov.uk file).
	// The years it has entries for are the covered years; no rule
	// fallback applies to a replaced list, so other years have no
	// holidays and are reported by Uncovered.
	Holidays []Holiday
	// ExtraClosures are further whole days the desk is closed (on top of
	// the holidays, built-in or replaced). They do not make a year covered.
	ExtraClosures []Date
}

// closureName is what IsHoliday reports for an ExtraClosures day.
const closureName = "Desk closure"

// maxScanDays bounds the search for the next opening. No sane
// configuration gets near it; if one does, NextOpen and Add return the zero
// Time.
const maxScanDays = 3660

// Calendar answers working-time questions for one desk. It is immutable
// after New and safe for concurrent use; zones, opening times and the
// holiday set are resolved once, at construction.
type Calendar struct {
	loc      *time.Location
	days     [7]bool
	open     clock
	close    clock
	span     time.Duration
	closed   map[dayNum]string // holidays (data or rule) and closures
	covered  map[int]bool      // years whose holidays come from data
	fallback bool              // rule-predicted holidays fill other years
}

// clock is a wall-clock time of day split for time.Date.
type clock struct{ h, m, s, ns int }

func clockOf(d time.Duration) clock {
	return clock{
		h:  int(d / time.Hour),
		m:  int(d % time.Hour / time.Minute),
		s:  int(d % time.Minute / time.Second),
		ns: int(d % time.Second),
	}
}

// New builds a Calendar. It returns an error naming the problem for
// invalid hours, or a holiday or closure that is not a real date or is
// listed twice.
func New(opts *Options) (*Calendar, error) {
	if opts == nil {
		opts = &Options{}
	}
	h := DefaultHours()
	if opts.Hours != nil {
		h = *opts.Hours
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	c := &Calendar{
		loc:     h.Location,
		days:    h.Days,
		open:    clockOf(h.Open),
		close:   clockOf(h.Close),
		span:    h.Close - h.Open,
		covered: make(map[int]bool),
	}
	hols := opts.Holidays
	if hols == nil {
		var err error
		if hols, err = builtinHolidays(); err != nil {
			return nil, err
		}
		c.fallback = true
	}
	c.closed = make(map[dayNum]string, len(hols)+len(opts.ExtraClosures))
	for _, hol := range hols {
		if !hol.Date.valid() {
			return nil, fmt.Errorf("workcal: holiday %q: %v is not a real date", hol.Name, hol.Date)
		}
		n := hol.Date.dayNum()
		if prev, dup := c.closed[n]; dup {
			return nil, fmt.Errorf("workcal: holiday %v listed twice (%q and %q)", hol.Date, prev, hol.Name)
		}
		name := hol.Name
		if name == "" {
			name = "Holiday"
		}
		c.closed[n] = name
		c.covered[hol.Date.Year] = true
	}
	if c.fallback {
		for y := ruleFirstYear; y <= ruleLastYear; y++ {
			if c.covered[y] {
				continue
			}
			for _, hol := range ruleHolidays(y) {
				if _, dup := c.closed[hol.Date.dayNum()]; !dup {
					c.closed[hol.Date.dayNum()] = hol.Name
				}
			}
		}
	}
	for _, d := range opts.ExtraClosures {
		if !d.valid() {
			return nil, fmt.Errorf("workcal: closure %v is not a real date", d)
		}
		if _, dup := c.closed[d.dayNum()]; !dup {
			c.closed[d.dayNum()] = closureName
		}
	}
	return c, nil
}

// Default returns the default desk: DefaultHours and the built-in England
// & Wales holidays. Each call builds a new Calendar (cheap, but build it
// once and share it). It panics only if the embedded holiday data is
// corrupt, which the package tests rule out.
func Default() *Calendar {
	c, err := New(nil)
	if err != nil {
		panic(err)
	}
	return c
}

// Location returns the desk's zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// DateOf returns the civil date of t at the desk.
func (c *Calendar) DateOf(t time.Time) Date { return DateOf(t.In(c.loc)) }

// IsHoliday reports whether d is a holiday or configured closure, with its
// name. Weekends are not holidays. For years outside the data the built-in
// calendar answers with rule-predicted dates (see Uncovered).
func (c *Calendar) IsHoliday(d Date) (name string, ok bool) {
	if !d.valid() {
		return "", false
	}
	name, ok = c.closed[d.dayNum()]
	return name, ok
}

// Uncovered returns those of years whose holidays the calendar does not
// have from data, in the order given, without repeats; nil if all are
// covered. The built-in calendar covers 2018–2030; other years use
// rule-predicted dates (built-in) or no holidays at all (replaced list),
// so start-up should warn about them.
func (c *Calendar) Uncovered(years ...int) []int {
	var out []int
	for _, y := range years {
		if !c.covered[y] && !slices.Contains(out, y) {
			out = append(out, y)
		}
	}
	return out
}

// dayOf is the desk-local date of t as a day number.
func (c *Calendar) dayOf(t time.Time) dayNum {
	return DateOf(t.In(c.loc)).dayNum()
}

func (c *Calendar) isWorkDay(n dayNum) bool {
	if !c.days[n.weekday()] {
		return false
	}
	_, hol := c.closed[n]
	return !hol
}

// spanOf returns the opening span [open, close) of day n (whether or not
// the desk is open that day).
func (c *Calendar) spanOf(n dayNum) (open, close time.Time) {
	d := fromDayNum(n)
	open = time.Date(d.Year, d.Month, d.Day, c.open.h, c.open.m, c.open.s, c.open.ns, c.loc)
	close = time.Date(d.Year, d.Month, d.Day, c.close.h, c.close.m, c.close.s, c.close.ns, c.loc)
	return open, close
}

// IsOpen reports whether the desk is open at t: an open weekday that is
// not a holiday or closure, and Open <= local time of day < Close.
func (c *Calendar) IsOpen(t time.Time) bool {
	n := c.dayOf(t)
	if !c.isWorkDay(n) {
		return false
	}
	o, cl := c.spanOf(n)
	return !t.Before(o) && t.Before(cl)
}

// NextOpen returns t if the desk is open at t, otherwise the next opening
// instant after t. It walks day by day, at most maxScanDays, and returns
// the zero Time if the desk never opens in that time.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	n := c.dayOf(t)
	for range maxScanDays {
		if c.isWorkDay(n) {
			o, cl := c.spanOf(n)
			if t.Before(o) {
				return o
			}
			if t.Before(cl) {
				return t.In(c.loc)
			}
		}
		n++
	}
	return time.Time{}
}

// Add returns the earliest instant by which d of working time has passed
// since start: the clock starts at NextOpen(start) and runs only while the
// desk is open. If the time runs out exactly at closing, the result is the
// closing instant, not the next opening. A d <= 0 returns start unchanged.
// The cost is one step per open day crossed.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start.In(c.loc)
	}
	t := c.NextOpen(start)
	for !t.IsZero() {
		_, cl := c.spanOf(c.dayOf(t))
		left := cl.Sub(t)
		if d <= left {
			return t.Add(d)
		}
		d -= left
		t = c.NextOpen(cl)
	}
	return t
}

// Between returns the working time in [a, b): the time inside opening
// spans. It is 0 if b is not after a. The cost is one step per calendar
// day from a to b.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !a.Before(b) {
		return 0
	}
	var sum time.Duration
	last := c.dayOf(b)
	for n := c.dayOf(a); n <= last; n++ {
		if !c.isWorkDay(n) {
			continue
		}
		o, cl := c.spanOf(n)
		if a.After(o) {
			o = a
		}
		if b.Before(cl) {
			cl = b
		}
		if o.Before(cl) {
			sum += cl.Sub(o)
		}
	}
	return sum
}

// Due returns when target t falls due for a clock started at start.
// Wall-clock targets ("72 hours") are elapsed time from start itself,
// ignoring desk hours. Working targets are Add(start, amount), where a
// working day is one opening span and a working week five (see the package
// doc). An invalid Target (N outside 1..MaxTargetN or an unknown Unit)
// returns start unchanged; targets from ParseTarget are always valid.
func (c *Calendar) Due(start time.Time, t Target) time.Time {
	if !t.valid() {
		return start.In(c.loc)
	}
	if !t.Working() {
		return start.Add(t.amount(c.span)).In(c.loc)
	}
	return c.Add(start, t.amount(c.span))
}

// WorkingDay returns the working time of one working day (Close−Open).
func (c *Calendar) WorkingDay() time.Duration { return c.span }
