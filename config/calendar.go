package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// rawCalendar is the [calendar] section as written. Times of day and dates
// are decoded as any so that both "08:00" and a TOML local time, or
// "2026-12-24" and a TOML local date, are accepted, and a wrong type is
// reported with the others instead of stopping the decoder.
type rawCalendar struct {
	Timezone       string             `toml:"timezone"`
	Open           any                `toml:"open"`
	Close          any                `toml:"close"`
	Days           []string           `toml:"days"`
	HolidaysFile   string             `toml:"holidays_file"`
	Division       string             `toml:"division"`
	Closures       []any              `toml:"closures"`
	SchoolHolidays []rawSchoolHoliday `toml:"school_holidays"`
}

// rawSchoolHoliday is one [[calendar.school_holidays]] table.
type rawSchoolHoliday struct {
	Organisation string `toml:"organisation"`
	Name         string `toml:"name"`
	From         any    `toml:"from"`
	To           any    `toml:"to"`
}

// Defaults of the [calendar], [sla] and [escalation] sections.
const (
	defaultTimezone    = "Europe/London"
	defaultManagerName = "the support team manager"
	defaultSchoolName  = "School holiday"
)

// Calendar is the validated [calendar] section.
type Calendar struct {
	// Calendar is the desk's working calendar; nil only inside a Config
	// that failed validation.
	Calendar *workcal.Calendar
	// Hours are the opening hours the calendar was built from.
	Hours workcal.Hours
	// Source says where the holidays come from, for people.
	Source string
	// Replaced is true when holidays_file replaced the built-in list.
	Replaced bool
	// SchoolHolidays are keyed by organisation name, "" for the default;
	// each list is sorted by From.
	SchoolHolidays map[string][]bot.DateRange
}

// calendarFile is the part of a config file LoadCalendar reads: the
// calendar and the organisation names it may refer to.
type calendarFile struct {
	Calendar     rawCalendar `toml:"calendar"`
	Organisation []struct {
		Name string `toml:"name"`
	} `toml:"organisation"`
}

// LoadCalendar reads only the [calendar] section of the config file at
// path ("" means the built-in defaults: Monday to Friday 08:00-17:00
// Europe/London, England & Wales bank holidays) and the [[organisation]]
// names it may refer to. Every calendar problem is reported at once,
// joined, and nothing about other sections, so a file unfinished
// elsewhere still serves. The returned Calendar.Calendar is not nil when
// the error is nil.
func LoadCalendar(path string) (Calendar, error) {
	var raw calendarFile
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Calendar{}, err
		}
		if errs, err = decode(path, data, &raw, "calendar"); err != nil {
			return Calendar{}, err
		}
	}
	orgs := make([]string, 0, len(raw.Organisation))
	for _, o := range raw.Organisation {
		orgs = append(orgs, o.Name)
	}
	cs, errs := validateCalendar(&raw.Calendar, orgs, errs)
	if len(errs) > 0 {
		return cs, errors.Join(errs...)
	}
	return cs, nil
}

// validateCalendar checks the [calendar] section alone (orgs are the
// [[organisation]] names school holidays may refer to) and builds the
// calendar. Calendar is nil when errs gained a calendar problem.
func validateCalendar(rc *rawCalendar, orgs []string, errs []error) (Calendar, []error) {
	n := len(errs)
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("calendar.%s: "+format, append([]any{key}, args...)...))
	}
	h := workcal.DefaultHours()
	tz := or(rc.Timezone, defaultTimezone)
	if loc, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		bad("timezone", "%q is not a time zone: use an IANA name such as \"Europe/London\"", tz)
	} else {
		h.Location = loc
	}
	hoursOK := true
	for _, f := range []struct {
		key     string
		v       any
		dst     *time.Duration
		example string
	}{{"open", rc.Open, &h.Open, "08:00"}, {"close", rc.Close, &h.Close, "17:00"}} {
		if f.v == nil {
			continue
		}
		if d, ok := timeOfDay(f.v, f.key == "close"); ok {
			*f.dst = d
		} else {
			bad(f.key, "%s is not a time: write it as %q", tomlValue(f.v), f.example)
			hoursOK = false
		}
	}
	if hoursOK && h.Open >= h.Close {
		bad("close", "%s is not after calendar.open %s: the desk must close after it opens, on the same day", clockString(h.Close), clockString(h.Open))
	}
	if rc.Days != nil {
		h.Days = [7]bool{}
		for i, name := range rc.Days {
			wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(name))]
			switch {
			case !ok:
				bad(fmt.Sprintf("days[%d]", i), "%q is not a day: use mon, tue, wed, thu, fri, sat or sun", name)
			case h.Days[wd]:
				bad(fmt.Sprintf("days[%d]", i), "%q is listed twice", name)
			default:
				h.Days[wd] = true
			}
		}
		if !slices.Contains(h.Days[:], true) {
			bad("days", "no open day: list the days the desk opens, e.g. [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]")
		}
	}

	opts := &workcal.Options{Hours: &h}
	cs := Calendar{Hours: h, Source: "built-in England & Wales bank holidays"}
	division := or(rc.Division, workcal.DivisionEnglandAndWales)
	switch {
	case rc.HolidaysFile != "":
		hols, err := readHolidays(rc.HolidaysFile, division)
		if err != nil {
			bad("holidays_file", "%v: fix the file (gov.uk bank-holidays.json format) or remove the key to use the built-in England & Wales list", err)
		}
		opts.Holidays, cs.Replaced = hols, true
		cs.Source = fmt.Sprintf("%s, division %s", rc.HolidaysFile, division)
	case rc.Division != "":
		bad("division", "%q applies only with calendar.holidays_file (the built-in list is England & Wales): set holidays_file or remove division", rc.Division)
	}
	for i, v := range rc.Closures {
		d, ok := tomlDate(v)
		if !ok {
			bad(fmt.Sprintf("closures[%d]", i), "%s is not a date: write it as \"2026-12-24\"", tomlValue(v))
			continue
		}
		opts.ExtraClosures = append(opts.ExtraClosures, d)
	}

	cs.SchoolHolidays, errs = validateSchoolHolidays(rc.SchoolHolidays, orgs, errs)
	if len(errs) > n {
		return cs, errs
	}
	cal, err := workcal.New(opts)
	if err != nil {
		bad("holidays_file", "%v", err)
		return cs, errs
	}
	cs.Calendar = cal
	return cs, errs
}

// validateSchoolHolidays checks [[calendar.school_holidays]].
func validateSchoolHolidays(raw []rawSchoolHoliday, orgs []string, errs []error) (map[string][]bot.DateRange, []error) {
	out := map[string][]bot.DateRange{}
	for i, sh := range raw {
		key := fmt.Sprintf("calendar.school_holidays[%d]", i)
		if sh.Organisation != "" && !slices.Contains(orgs, sh.Organisation) {
			errs = append(errs, fmt.Errorf("%s.organisation: %q is not the name of an [[organisation]]: use one of their names, or leave it empty for the default", key, sh.Organisation))
		}
		ok := true
		var dates [2]workcal.Date
		for j, f := range []struct {
			name string
			v    any
		}{{"from", sh.From}, {"to", sh.To}} {
			d, good := tomlDate(f.v)
			switch {
			case f.v == nil:
				errs = append(errs, fmt.Errorf("%s.%s: missing: give the %s date, e.g. %q", key, f.name, map[string]string{"from": "first", "to": "last"}[f.name], map[string]string{"from": "2026-12-19", "to": "2027-01-04"}[f.name]))
				ok = false
			case !good:
				errs = append(errs, fmt.Errorf("%s.%s: %s is not a date: write it as \"2026-12-19\"", key, f.name, tomlValue(f.v)))
				ok = false
			}
			dates[j] = d
		}
		if !ok {
			continue
		}
		if dateBefore(dates[1], dates[0]) {
			errs = append(errs, fmt.Errorf("%s.to: %s is before from %s: the range is inclusive, from the first day to the last", key, dates[1], dates[0]))
			continue
		}
		out[sh.Organisation] = append(out[sh.Organisation], bot.DateRange{From: dates[0], To: dates[1], Name: or(strings.TrimSpace(sh.Name), defaultSchoolName)})
	}
	for _, rs := range out {
		slices.SortStableFunc(rs, func(a, b bot.DateRange) int {
			if dateBefore(a.From, b.From) {
				return -1
			}
			if dateBefore(b.From, a.From) {
				return 1
			}
			return 0
		})
	}
	return out, errs
}

// calendarWarnings names the years among now's and the next (at the
// desk) that the calendar has no holiday data for.
func calendarWarnings(cs Calendar, now time.Time) []string {
	y := now.In(cs.Calendar.Location()).Year()
	var out []string
	for _, u := range cs.Calendar.Uncovered(y, y+1) {
		if cs.Replaced {
			out = append(out, fmt.Sprintf("calendar.holidays_file: has no holidays for %d, so every weekday of %d counts as a working day: use a file that covers it", u, u))
		} else {
			out = append(out, fmt.Sprintf("calendar: no bank holiday data for %d: its holidays are predicted by rule and miss one-off days; set calendar.holidays_file to a current gov.uk bank-holidays.json", u))
		}
	}
	return out
}

// readHolidays loads a gov.uk-format holiday file.
func readHolidays(path, division string) ([]workcal.Holiday, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read it: %w", err)
	}
	defer f.Close()
	hols, err := workcal.LoadHolidays(f, division)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return hols, nil
}

// The names BurntSushi/toml gives the locations of TOML local dates and
// local times (time.FixedZones in its internal package).
const (
	tomlLocalDate = "date-local"
	tomlLocalTime = "time-local"
)

// weekdayNames are the day names calendar.days accepts (lower case).
var weekdayNames = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday,
}

// timeOfDay reads "HH:MM" (or a TOML local time such as 08:00:00) as a
// duration since midnight. "24:00" is accepted only when endOK.
func timeOfDay(v any, endOK bool) (time.Duration, bool) {
	switch v := v.(type) {
	case time.Time:
		if v.Location().String() != tomlLocalTime {
			return 0, false
		}
		return time.Duration(v.Hour())*time.Hour + time.Duration(v.Minute())*time.Minute + time.Duration(v.Second())*time.Second, true
	case string:
		if len(v) != 5 || v[2] != ':' {
			return 0, false
		}
		h, err1 := strconv.Atoi(v[:2])
		m, err2 := strconv.Atoi(v[3:])
		if err1 != nil || err2 != nil || v[0] == '+' || v[3] == '+' || h < 0 || m < 0 || m > 59 {
			return 0, false
		}
		if h > 23 && !(endOK && h == 24 && m == 0) {
			return 0, false
		}
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
	}
	return 0, false
}

// clockString writes a time of day as "HH:MM" (with seconds if any).
func clockString(d time.Duration) string {
	s := fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	if sec := d % time.Minute; sec != 0 {
		s += fmt.Sprintf(":%02d", int(sec/time.Second))
	}
	return s
}

// tomlDate reads "YYYY-MM-DD" or a TOML local date.
func tomlDate(v any) (workcal.Date, bool) {
	switch v := v.(type) {
	case time.Time:
		if v.Location().String() != tomlLocalDate {
			return workcal.Date{}, false
		}
		return workcal.DateOf(v), true
	case string:
		d, err := workcal.ParseDate(strings.TrimSpace(v))
		return d, err == nil
	}
	return workcal.Date{}, false
}

// tomlValue quotes a decoded TOML value for an error message as it was
// written: strings quoted, other values bare.
func tomlValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "(missing)"
	case string:
		return strconv.Quote(v)
	case time.Time:
		switch v.Location().String() {
		case tomlLocalDate:
			return v.Format(time.DateOnly)
		case tomlLocalTime:
			return v.Format(time.TimeOnly)
		}
		return v.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

func dateBefore(a, b workcal.Date) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	return a.Day < b.Day
}
