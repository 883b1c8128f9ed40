package main

import (
	"fmt"
	"net/mail"
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

// rawSLA is the [sla] section: targets as people write them.
type rawSLA struct {
	Response    string `toml:"response"`
	FirstUpdate string `toml:"first_update"`
	Critical    string `toml:"critical"`
	Serious     string `toml:"serious"`
	Moderate    string `toml:"moderate"`
	Minor       string `toml:"minor"`
}

// rawEscalation is the [escalation] section.
type rawEscalation struct {
	Points      []rawPoint `toml:"points"`
	Managers    []string   `toml:"managers"`
	ManagerName string     `toml:"manager_name"`
	OnDutyRole  string     `toml:"on_duty_role"`
}

// rawPoint is one escalation point, e.g. { at = "75%", action = "mention" }.
type rawPoint struct {
	At     any    `toml:"at"`
	Action string `toml:"action"`
}

// Defaults of the [calendar], [sla] and [escalation] sections.
const (
	defaultTimezone    = "Europe/London"
	defaultManagerName = "the support team manager"
	defaultSchoolName  = "School holiday"
)

// calendarSettings is the validated [calendar] section.
type calendarSettings struct {
	Calendar *workcal.Calendar
	Hours    workcal.Hours
	// Source says where the holidays come from, for people.
	Source string
	// Replaced is true when holidays_file replaced the built-in list.
	Replaced bool
	// SchoolHolidays are keyed by organisation name, "" for the default;
	// each list is sorted by From.
	SchoolHolidays map[string][]bot.DateRange
}

// slaSettings is the validated [calendar], [sla] and [escalation]
// sections, ready for Config.
type slaSettings struct {
	Policy      *bot.SLAPolicy
	Calendar    calendarSettings
	Managers    []bot.Address
	ManagerName string
	// Warnings are problems worth logging at start-up that do not stop
	// the desk (a year without holiday data, nobody to escalate to).
	Warnings []string
}

// validateSLA checks the [calendar], [sla] and [escalation] sections,
// appending every problem to errs as "section.key: what is wrong, what to
// do". now picks the years checked for holiday data (now's year and the
// next, in the desk's zone). If the calendar itself is invalid the
// returned Policy is nil (and errs says why).
func validateSLA(raw *rawConfig, now time.Time, errs []error) (slaSettings, []error) {
	orgs := make([]string, 0, len(raw.Organisation))
	for _, o := range raw.Organisation {
		orgs = append(orgs, o.Name)
	}
	cal, errs := validateCalendar(&raw.Calendar, orgs, errs)
	s := slaSettings{Calendar: cal}
	if cal.Calendar != nil {
		s.Warnings = calendarWarnings(cal, now)
	}

	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	p := &bot.SLAPolicy{Calendar: cal.Calendar, Holidays: cal.SchoolHolidays}
	target := func(key, written, def string, wallOK bool) workcal.Target {
		if written == "" {
			written = def
		}
		t, err := workcal.ParseTarget(written)
		switch {
		case err != nil:
			bad(key, "%q is not a target: %s; write it like %q", written, targetProblem(err, written), def)
		case !wallOK && !t.Working():
			bad(key, "%q must be in working time: write %q", written, fmt.Sprintf("%d working %s", t.N, plural(t.N, "hour")))
		}
		return t
	}
	respDef := "72 hours"
	if dr := raw.Desk.ResponseTarget; dr != "" {
		if t, err := workcal.ParseTarget(dr); err == nil {
			respDef = dr
			if r, err := workcal.ParseTarget(raw.SLA.Response); raw.SLA.Response != "" && err == nil && r != t {
				bad("sla.response", "%q differs from desk.response_target %q, the time promised in the acknowledgement: make them the same or remove desk.response_target", raw.SLA.Response, dr)
			}
		}
	}
	p.Response = target("sla.response", raw.SLA.Response, respDef, true)
	p.FirstUpdate = target("sla.first_update", raw.SLA.FirstUpdate, "1 working hour", false)
	p.Workaround = map[bot.Severity]workcal.Target{
		bot.SeverityCritical: target("sla.critical", raw.SLA.Critical, "4 working hours", false),
		bot.SeveritySerious:  target("sla.serious", raw.SLA.Serious, "2 working days", false),
		bot.SeverityModerate: target("sla.moderate", raw.SLA.Moderate, "3 working days", false),
		bot.SeverityMinor:    target("sla.minor", raw.SLA.Minor, "2 working weeks", false),
	}

	e := &raw.Escalation
	p.Points, errs = validatePoints(e.Points, errs)
	p.OnDutyRole = strings.TrimSpace(e.OnDutyRole)
	s.ManagerName = or(strings.TrimSpace(e.ManagerName), defaultManagerName)
	for i, m := range e.Managers {
		a, err := mail.ParseAddress(m)
		if err != nil {
			bad(fmt.Sprintf("escalation.managers[%d]", i), "%q is not an email address: write it as \"desk-manager@example.org\"", m)
			continue
		}
		s.Managers = append(s.Managers, bot.Address{Name: a.Name, Email: strings.ToLower(a.Address)})
	}
	if len(e.Managers) == 0 {
		// Fall back to the staff alert list (validate reports its errors).
		for _, m := range raw.Desk.AlertTo {
			if a, err := mail.ParseAddress(m); err == nil {
				s.Managers = append(s.Managers, bot.Address{Name: a.Name, Email: strings.ToLower(a.Address)})
			}
		}
	}
	if len(s.Managers) == 0 && slices.ContainsFunc(p.Points, func(pt bot.EscalationPoint) bool {
		return pt.Action == bot.ActionManager || pt.Action == bot.ActionBreach
	}) {
		s.Warnings = append(s.Warnings, "escalation.managers: empty (and so is desk.alert_to): escalations to the manager are mailed to nobody (only posted to chat, when [discord] is set); list the managers' email addresses")
	}
	if cal.Calendar != nil {
		s.Policy = p
	}
	return s, errs
}

// validatePoints checks escalation.points; nil means the defaults.
func validatePoints(raw []rawPoint, errs []error) ([]bot.EscalationPoint, []error) {
	if raw == nil {
		return slices.Clone(bot.DefaultEscalationPoints), errs
	}
	if len(raw) == 0 {
		return nil, append(errs, fmt.Errorf("escalation.points: empty: list at least one point, or remove the key for the defaults (50%% note, 75%% mention, 90%% manager, 100%% breach)"))
	}
	var out []bot.EscalationPoint
	prev, prevAt := 0.0, ""
	for i, rp := range raw {
		key := fmt.Sprintf("escalation.points[%d]", i)
		action := bot.EscalationAction(strings.ToLower(strings.TrimSpace(rp.Action)))
		switch action {
		case bot.ActionNoteAssignee, bot.ActionMentionDuty, bot.ActionManager, bot.ActionBreach:
		case "":
			errs = append(errs, fmt.Errorf("%s.action: missing: use note, mention, manager or breach", key))
		default:
			errs = append(errs, fmt.Errorf("%s.action: %q is not an action: use note, mention, manager or breach", key, rp.Action))
		}
		if rp.At == nil {
			errs = append(errs, fmt.Errorf("%s.at: missing: write the fraction of the clock's time, like \"75%%\"", key))
			continue
		}
		at, ok := rp.At.(string)
		num, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(at), "%")), 64)
		if !ok || !strings.HasSuffix(strings.TrimSpace(at), "%") || err != nil {
			errs = append(errs, fmt.Errorf("%s.at: %s is not a percentage: write it like \"75%%\"", key, tomlValue(rp.At)))
			continue
		}
		f := num / 100
		switch {
		case !(f > 0 && f <= 1):
			errs = append(errs, fmt.Errorf("%s.at: %q is out of range: a point must be above 0%% and at most 100%%", key, at))
			continue
		case f <= prev:
			errs = append(errs, fmt.Errorf("%s.at: %q does not come after %q: list the points in strictly increasing order", key, at, prevAt))
			continue
		}
		prev, prevAt = f, at
		out = append(out, bot.EscalationPoint{Fraction: f, Action: action})
	}
	return out, errs
}

// validateCalendar checks the [calendar] section alone (orgs are the
// [[organisation]] names school holidays may refer to) and builds the
// calendar. Calendar is nil when errs gained a calendar problem.
func validateCalendar(rc *rawCalendar, orgs []string, errs []error) (calendarSettings, []error) {
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
	cs := calendarSettings{Hours: h, Source: "built-in England & Wales bank holidays"}
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
func calendarWarnings(cs calendarSettings, now time.Time) []string {
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

// targetProblem is what ParseTarget found wrong with s, without its
// package prefix.
func targetProblem(err error, s string) string {
	return strings.TrimPrefix(err.Error(), fmt.Sprintf("workcal: target %q: ", s))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
