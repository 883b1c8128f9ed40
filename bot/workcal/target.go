package workcal

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Unit is the unit of a [Target].
type Unit int

const (
	// UnitHour is an elapsed (wall-clock) hour: "72 hours" runs through
	// nights, weekends and holidays.
	UnitHour Unit = iota + 1
	// UnitWorkingHour is an hour of desk opening time.
	UnitWorkingHour
	// UnitWorkingDay is one full opening span of working time (9h with the
	// default 08:00–17:00 hours).
	UnitWorkingDay
	// UnitWorkingWeek is five working days of working time.
	UnitWorkingWeek
)

// MaxTargetN is the largest number ParseTarget accepts; it keeps every
// target's working time far inside time.Duration's range.
const MaxTargetN = 9999

func (u Unit) word(n int) string {
	var w string
	switch u {
	case UnitHour:
		w = "hour"
	case UnitWorkingHour:
		w = "working hour"
	case UnitWorkingDay:
		w = "working day"
	case UnitWorkingWeek:
		w = "working week"
	default:
		return fmt.Sprintf("unit(%d)", int(u))
	}
	if n != 1 {
		w += "s"
	}
	return w
}

// Target is an SLA target such as "4 working hours" or "72 hours".
// The zero Target is invalid; make one with [ParseTarget] or a literal
// with N in 1..[MaxTargetN] and a defined Unit.
type Target struct {
	N    int
	Unit Unit
}

// ParseTarget parses a target as people write it: a number of ASCII digits
// then a unit, case-insensitive, singular or plural, any amount of space
// between words:
//
//	72 hours          (wall-clock)
//	1 working hour
//	4 working hours
//	2 working days
//	2 working weeks
//
// Days and weeks must say "working": wall-clock days are not supported
// (write "48 hours" for that). N must be 1..MaxTargetN. Errors name what
// is wrong and are prefixed "workcal: target".
func ParseTarget(s string) (Target, error) {
	fail := func(format string, args ...any) (Target, error) {
		return Target{}, fmt.Errorf("workcal: target %q: %s", s, fmt.Sprintf(format, args...))
	}
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 0 {
		return fail("empty; want e.g. \"4 working hours\"")
	}
	if len(f) < 2 || len(f) > 3 {
		return fail("want a number and a unit, e.g. \"4 working hours\" or \"72 hours\"")
	}
	for _, r := range f[0] {
		if r < '0' || r > '9' {
			return fail("number %q must be digits only, e.g. \"4 working hours\"", f[0])
		}
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n > MaxTargetN {
		return fail("number %s is too large (at most %d)", f[0], MaxTargetN)
	}
	if n < 1 {
		return fail("number must be at least 1")
	}
	working := len(f) == 3
	if working && f[1] != "working" {
		return fail("unknown word %q; want \"working\"", f[1])
	}
	var u Unit
	switch unit := f[len(f)-1]; unit {
	case "hour", "hours":
		u = UnitHour
		if working {
			u = UnitWorkingHour
		}
	case "day", "days", "week", "weeks":
		if !working {
			return fail("%s must be working %s (e.g. \"%d working %s\"); for elapsed time use hours", unit, unit, n, unit)
		}
		u = UnitWorkingDay
		if strings.HasPrefix(unit, "week") {
			u = UnitWorkingWeek
		}
	default:
		return fail("unknown unit %q; want hours, working hours, working days or working weeks", unit)
	}
	return Target{N: n, Unit: u}, nil
}

// Working reports whether the target counts working time (as opposed to
// elapsed wall-clock hours).
func (t Target) Working() bool {
	return t.Unit == UnitWorkingHour || t.Unit == UnitWorkingDay || t.Unit == UnitWorkingWeek
}

// String returns the normalised form, e.g. "1 working hour", "72 hours";
// ParseTarget(t.String()) returns t.
func (t Target) String() string {
	return strconv.Itoa(t.N) + " " + t.Unit.word(t.N)
}

// MarshalText implements [encoding.TextMarshaler] with [Target.String].
func (t Target) MarshalText() ([]byte, error) {
	return []byte(t.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseTarget],
// so a Target can be read straight from TOML config.
func (t *Target) UnmarshalText(b []byte) error {
	v, err := ParseTarget(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// valid reports whether t can be used by Due.
func (t Target) valid() bool {
	return t.N >= 1 && t.N <= MaxTargetN && t.Unit >= UnitHour && t.Unit <= UnitWorkingWeek
}

// amount is the target as a duration: elapsed time for UnitHour, working
// time otherwise; span is the calendar's working day.
func (t Target) amount(span time.Duration) time.Duration {
	n := time.Duration(t.N)
	switch t.Unit {
	case UnitWorkingDay:
		return n * span
	case UnitWorkingWeek:
		return n * 5 * span
	}
	return n * time.Hour
}
