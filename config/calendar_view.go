package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"rfadesk/bot/workcal"
	"rfadesk/web"
)

// Year lists year y of the desk's calendar: hours, the days it is closed
// and the school holidays overlapping the year. It is what both "rfadesk
// sla calendar" and GET /api/calendar show. cs.Calendar must not be nil.
func (cs Calendar) Year(y int) web.CalendarJSON {
	cal, h := cs.Calendar, cs.Hours
	v := web.CalendarJSON{
		Year: y, Timezone: cal.Location().String(),
		Open: clockString(h.Open), Close: clockString(h.Close),
		HolidaySource: cs.Source, Covered: len(cal.Uncovered(y)) == 0,
		Days: []string{}, Closed: []web.ClosedDayJSON{}, SchoolHolidays: []web.SchoolHolidayJSON{},
	}
	for i := range 7 {
		if wd := time.Weekday((i + 1) % 7); h.Days[wd] { // Monday first
			v.Days = append(v.Days, wd.String()[:3])
		}
	}
	for d := time.Date(y, time.January, 1, 12, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
		if name, ok := cal.IsHoliday(workcal.DateOf(d)); ok {
			v.Closed = append(v.Closed, web.ClosedDayJSON{Date: d.Format(time.DateOnly), Name: name})
		}
	}
	orgs := make([]string, 0, len(cs.SchoolHolidays))
	for org := range cs.SchoolHolidays {
		orgs = append(orgs, org)
	}
	slices.Sort(orgs) // "" (the default) first
	first, last := workcal.Date{Year: y, Month: time.January, Day: 1}, workcal.Date{Year: y, Month: time.December, Day: 31}
	for _, org := range orgs {
		for _, r := range cs.SchoolHolidays[org] {
			if dateBefore(r.To, first) || dateBefore(last, r.From) {
				continue
			}
			v.SchoolHolidays = append(v.SchoolHolidays, web.SchoolHolidayJSON{From: r.From.String(), To: r.To.String(), Name: r.Name, Organisation: org})
		}
	}
	return v
}

// HoursText says when the desk is open, for people: "Monday to Friday,
// 08:00–17:00 UK time, closed on bank holidays" for the default hours.
// cs.Calendar must not be nil.
func (cs Calendar) HoursText() string {
	h := cs.Hours
	var days []string
	for i := range 7 {
		if wd := time.Weekday((i + 1) % 7); h.Days[wd] { // Monday first
			days = append(days, wd.String())
		}
	}
	var when string
	switch {
	case len(days) == 0:
		when = "Closed"
	case len(days) > 2 && contiguous(h.Days):
		when = days[0] + " to " + days[len(days)-1]
	default:
		when = strings.Join(days, ", ")
	}
	zone := cs.Calendar.Location().String()
	if zone == "Europe/London" {
		zone = "UK time"
	}
	return fmt.Sprintf("%s, %s–%s %s, closed on bank holidays", when, clockString(h.Open), clockString(h.Close), zone)
}

// contiguous reports whether the open weekdays form one run, Monday first.
func contiguous(open [7]bool) bool {
	runs, prev := 0, false
	for i := range 7 {
		cur := open[(i+1)%7]
		if cur && !prev {
			runs++
		}
		prev = cur
	}
	return runs == 1
}
