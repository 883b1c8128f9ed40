package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot/workcal"
	"rfadesk/config"
)

const slaUsage = `rfadesk sla does SLA arithmetic on the desk's working calendar.

Usage:
  rfadesk sla due [-config FILE] [-from TIME] TARGET
        when TARGET falls due for a clock started at TIME (default: now)
  rfadesk sla between [-config FILE] START END
        the working time from START to END
  rfadesk sla calendar [-config FILE] [-year YEAR]
        the desk hours, and the holidays, closures and school holidays of
        YEAR (default: this year)

TIME, START and END are desk time, "2006-01-02 15:04" (seconds optional),
read in the [calendar] time zone, or RFC 3339 with an offset
("2026-11-27T16:00:00Z"). A desk time the clocks skip is refused; for one
they repeat, give the offset (RFC 3339) to say which.
TARGET is written as people write it: "72 hours" (elapsed, wall-clock),
"1 working hour", "4 working hours", "2 working days", "2 working weeks".
A working day is one opening span (9h for 08:00-17:00).

Without -config the built-in calendar is used: Monday to Friday 08:00-17:00
Europe/London, except England & Wales bank holidays. With -config only the
file's [calendar] section is read (and its [[organisation]] names), so the
rest of the file may be unfinished.

Output:
  due      the due instant in RFC 3339 with its offset, then in words:
             2026-11-30T11:00:00+00:00 (Mon 30 Nov 2026 11:00 GMT)
  between  the working time as a Go duration, then in working days:
             13h30m0s (1 working day 4h30m; a working day is 9h)
`

// cmdSLA runs "rfadesk sla SUBCOMMAND". Mistakes on the command line are
// usageErrors (exit 2) naming the problem; configuration problems are
// plain errors listing every one.
func cmdSLA(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, slaUsage)
		return usageError{"sla: no subcommand given: use due, between or calendar"}
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "due":
		return cmdSLADue(rest, stdout, stderr)
	case "between":
		return cmdSLABetween(rest, stdout, stderr)
	case "calendar":
		return cmdSLACalendar(rest, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, slaUsage)
		return nil
	}
	fmt.Fprint(stderr, slaUsage)
	return usageError{fmt.Sprintf("sla: unknown subcommand %q: use due, between or calendar", sub)}
}

func cmdSLADue(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sla due", "sla due [-config FILE] [-from \"2006-01-02 15:04\"] TARGET", stderr)
	path := fs.String("config", "", "configuration `file` whose [calendar] is used (default: built-in calendar)")
	from := fs.String("from", "", "start `time` in desk time, \"2006-01-02 15:04\" (default: now)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageError{fmt.Sprintf("sla due: want one TARGET such as \"4 working hours\" (quoted), got %d arguments", len(pos))}
	}
	target, err := workcal.ParseTarget(pos[0])
	if err != nil {
		return usageError{fmt.Sprintf("sla due: %q is not a target: %s; write it like \"4 working hours\" or \"72 hours\"", pos[0], config.TargetProblem(err, pos[0]))}
	}
	cs, err := slaCalendar(*path)
	if err != nil {
		return err
	}
	start := time.Now()
	if *from != "" {
		if start, err = parseInstant(*from, cs.Calendar.Location()); err != nil {
			return usageError{"sla due: -from " + err.Error()}
		}
	}
	due := cs.Calendar.Due(start, target)
	if due.IsZero() {
		return fmt.Errorf("sla due: the desk does not open within ten years of %s", start.Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "%s (%s)\n", due.Format(rfc3339Offset), due.Format("Mon 2 Jan 2006 15:04 MST"))
	return nil
}

func cmdSLABetween(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sla between", "sla between [-config FILE] START END", stderr)
	path := fs.String("config", "", "configuration `file` whose [calendar] is used (default: built-in calendar)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return usageError{fmt.Sprintf("sla between: want START and END, each quoted like \"2026-11-27 16:00\", got %d arguments", len(pos))}
	}
	cs, err := slaCalendar(*path)
	if err != nil {
		return err
	}
	var ends [2]time.Time
	for i, what := range []string{"START", "END"} {
		if ends[i], err = parseInstant(pos[i], cs.Calendar.Location()); err != nil {
			return usageError{fmt.Sprintf("sla between: %s %v", what, err)}
		}
	}
	if ends[1].Before(ends[0]) {
		return usageError{fmt.Sprintf("sla between: END %s is before START %s: give the earlier instant first", pos[1], pos[0])}
	}
	w := cs.Calendar.Between(ends[0], ends[1])
	fmt.Fprintf(stdout, "%s (%s; a working day is %s)\n", w, inWorkingDays(w, cs.Calendar.WorkingDay()), shortDuration(cs.Calendar.WorkingDay()))
	return nil
}

func cmdSLACalendar(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sla calendar", "sla calendar [-config FILE] [-year YEAR]", stderr)
	path := fs.String("config", "", "configuration `file` whose [calendar] is used (default: built-in calendar)")
	year := fs.Int("year", 0, "the `year` to list (default: this year at the desk)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("sla calendar: unexpected argument %q: give the year as -year 2027", pos[0])}
	}
	cs, err := slaCalendar(*path)
	if err != nil {
		return err
	}
	y := *year
	if y == 0 {
		y = time.Now().In(cs.Calendar.Location()).Year()
	}
	if y < 1000 || y > 9999 {
		return usageError{fmt.Sprintf("sla calendar: -year %d is not a four-digit year", y)}
	}
	v := cs.Year(y)
	fmt.Fprintf(stdout, "Desk hours: %s, %s-%s %s (a working day is %s)\n", strings.Join(v.Days, " "),
		v.Open, v.Close, v.Timezone, shortDuration(cs.Calendar.WorkingDay()))
	fmt.Fprintf(stdout, "Holidays: %s\n", v.HolidaySource)
	if !v.Covered {
		if cs.Replaced {
			fmt.Fprintf(stdout, "Note: the holidays file has no holidays for %d; only closures are listed\n", y)
		} else {
			fmt.Fprintf(stdout, "Note: no bank holiday data for %d; its holidays are predicted by rule and miss one-off days\n", y)
		}
	}
	fmt.Fprintf(stdout, "\nClosed in %d:\n", y)
	for _, c := range v.Closed {
		d, _ := time.Parse(time.DateOnly, c.Date)
		fmt.Fprintf(stdout, "  %s %s  %s\n", c.Date, d.Format("Mon"), c.Name)
	}
	if len(v.Closed) == 0 {
		fmt.Fprintln(stdout, "  (none)")
	}
	fmt.Fprintf(stdout, "\nSchool holidays in %d (clocks keep running; clearance confirmation waits):\n", y)
	for _, s := range v.SchoolHolidays {
		who := s.Organisation
		if who == "" {
			who = "default"
		}
		fmt.Fprintf(stdout, "  %s to %s  %s (%s)\n", s.From, s.To, s.Name, who)
	}
	if len(v.SchoolHolidays) == 0 {
		fmt.Fprintln(stdout, "  (none)")
	}
	return nil
}

// rfc3339Offset is RFC 3339 with a numeric offset even at UTC (+00:00),
// where time.RFC3339 would write Z.
const rfc3339Offset = "2006-01-02T15:04:05-07:00"

// slaCalendar loads the calendar for an sla subcommand.
func slaCalendar(path string) (config.Calendar, error) {
	cs, err := config.LoadCalendar(path)
	if err != nil {
		return cs, fmt.Errorf("sla: the calendar configuration has problems:\n%w", err)
	}
	return cs, nil
}

// parseInterspersed parses fs's flags wherever they appear among the
// positional arguments, which it returns in order. Flag errors (already
// reported on the flag set's output) become usageErrors; -h stays
// flag.ErrHelp.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// localLayouts are the desk-time forms parseInstant accepts.
var localLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"}

// parseInstant reads s as desk time in loc (see localLayouts) or as RFC
// 3339 with an offset. A desk time that does not exist (skipped when the
// clocks go forward) is an error; for one that happens twice (when they go
// back) the choice is time.ParseInLocation's, so an RFC 3339 offset is the
// way to pick. Errors start with s quoted.
func parseInstant(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range localLayouts {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if wall, _ := time.Parse(layout, s); t.Format(time.DateTime) != wall.Format(time.DateTime) {
			return time.Time{}, fmt.Errorf("%q does not exist in %s (the clocks go forward then): give a time outside the skipped hour", s, loc)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write it as \"2006-01-02 15:04\" (desk time) or RFC 3339 with an offset", s)
}

// inWorkingDays writes w as whole working days of length day and the
// rest: "1 working day 4h30m", "2 working days", "4h30m", "0s".
func inWorkingDays(w, day time.Duration) string {
	days, rest := w/day, w%day
	var parts []string
	if days > 0 {
		parts = append(parts, strconv.FormatInt(int64(days), 10)+" "+plural(int(days), "working day"))
	}
	if rest > 0 || days == 0 {
		parts = append(parts, shortDuration(rest))
	}
	return strings.Join(parts, " ")
}

// shortDuration is d.String() without zero minutes and seconds: "9h",
// "4h30m", "30m", "0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
