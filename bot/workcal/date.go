package workcal

import (
	"fmt"
	"time"
)

// Date is a civil (calendar) date with no time of day and no location,
// such as a bank holiday. The zero Date is not a valid date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's own location. To get the date
// at the desk, use [Calendar.DateOf].
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a date written exactly as YYYY-MM-DD (as in gov.uk's
// bank-holidays.json and in config). Anything else, including a day that
// does not exist such as 2023-02-30, is an error.
func ParseDate(s string) (Date, error) {
	if len(s) != len("2006-01-02") {
		return Date{}, fmt.Errorf("workcal: date %q: want YYYY-MM-DD", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("workcal: date %q: want a real date as YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText implements [encoding.TextMarshaler] (YYYY-MM-DD).
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseDate], so a
// Date can be read straight from TOML or JSON config.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// valid reports whether d names a real day (the month and day are in range).
func (d Date) valid() bool {
	return d.Month >= time.January && d.Month <= time.December && d.Day >= 1 &&
		d.Day <= 31 && fromDayNum(d.dayNum()) == d
}

// dayNum is the number of days from 1970-01-01 to d; it makes dates cheap
// map keys and lets the calendar step one day at a time with integer
// arithmetic instead of time.Date normalisation.
type dayNum int64

func (d Date) dayNum() dayNum {
	return dayNum(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func fromDayNum(n dayNum) Date {
	return DateOf(time.Unix(int64(n)*86400, 0).UTC())
}

// weekday of day n: 1970-01-01 was a Thursday.
func (n dayNum) weekday() time.Weekday {
	w := (int64(n) + int64(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}
