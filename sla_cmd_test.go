package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// runCmd runs a command line through run, as main does.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

const customHours = "config/testdata/custom-hours.toml"

func TestSLADue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string // after "sla due"
		golden string
	}{
		{"Friday 16:00 rolls over the weekend",
			[]string{"-from", "2026-11-27 16:00", "4 working hours"},
			"2026-11-30T11:00:00+00:00 (Mon 30 Nov 2026 11:00 GMT)"},
		{"flags after the target",
			[]string{"4 working hours", "-from", "2026-11-27 16:00"},
			"2026-11-30T11:00:00+00:00 (Mon 30 Nov 2026 11:00 GMT)"},
		{"-from as RFC 3339 with an offset",
			[]string{"-from", "2026-11-27T15:00:00-01:00", "4 working hours"},
			"2026-11-30T11:00:00+00:00 (Mon 30 Nov 2026 11:00 GMT)"},
		{"BST ends over the weekend",
			[]string{"-from", "2026-10-23 16:00", "4 working hours"},
			"2026-10-26T11:00:00+00:00 (Mon 26 Oct 2026 11:00 GMT)"},
		{"BST starts over the weekend",
			[]string{"-from", "2026-03-27 16:00", "4 working hours"},
			"2026-03-30T11:00:00+01:00 (Mon 30 Mar 2026 11:00 BST)"},
		{"72 hours is wall-clock",
			[]string{"-from", "2026-11-27 16:00", "72 hours"},
			"2026-11-30T16:00:00+00:00 (Mon 30 Nov 2026 16:00 GMT)"},
		{"72 hours counts from a Saturday night",
			[]string{"-from", "2026-11-28 23:00", "72 hours"},
			"2026-12-01T23:00:00+00:00 (Tue 1 Dec 2026 23:00 GMT)"},
		{"72 hours across the BST change is 72 real hours",
			[]string{"-from", "2026-10-23 16:00", "72 hours"},
			"2026-10-26T15:00:00+00:00 (Mon 26 Oct 2026 15:00 GMT)"},
		{"Christmas 2026: Christmas Day and the Boxing Day substitute",
			[]string{"-from", "2026-12-24 16:00", "4 working hours"},
			"2026-12-29T11:00:00+00:00 (Tue 29 Dec 2026 11:00 GMT)"},
		{"New Year's Day across the year boundary",
			[]string{"-from", "2026-12-31 10:00", "2 working days"},
			"2027-01-05T10:00:00+00:00 (Tue 5 Jan 2027 10:00 GMT)"},
		{"the closing instant is closed",
			[]string{"-from", "2026-11-27 17:00", "1 working hour"},
			"2026-11-30T09:00:00+00:00 (Mon 30 Nov 2026 09:00 GMT)"},
		{"a full day from opening ends at closing",
			[]string{"-from", "2026-11-30 08:00", "1 working day"},
			"2026-11-30T17:00:00+00:00 (Mon 30 Nov 2026 17:00 GMT)"},
		{"2 working weeks keep the time of day",
			[]string{"-from", "2026-11-24 10:00", "2 working weeks"},
			"2026-12-08T10:00:00+00:00 (Tue 8 Dec 2026 10:00 GMT)"},
		{"custom hours: Thursday evening to Monday (no Fridays)",
			[]string{"-config", customHours, "-from", "2026-11-26 17:00", "1 working hour"},
			"2026-11-30T09:30:00+00:00 (Mon 30 Nov 2026 09:30 GMT)"},
		{"custom hours: the closure on Thursday 3 December",
			[]string{"-config", customHours, "-from", "2026-12-02 17:00", "1 working hour"},
			"2026-12-07T09:30:00+00:00 (Mon 7 Dec 2026 09:30 GMT)"},
		{"custom hours: a working day is 8h30m",
			[]string{"-config", customHours, "-from", "2026-11-30 10:00", "2 working days"},
			"2026-12-02T10:00:00+00:00 (Wed 2 Dec 2026 10:00 GMT)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCmd(t, append([]string{"sla", "due"}, tc.args...)...)
			if err != nil {
				t.Fatalf("err = %v\nstderr: %s", err, errOut)
			}
			if got := strings.TrimSuffix(out, "\n"); got != tc.golden {
				t.Errorf("got  %q\nwant %q", got, tc.golden)
			}
		})
	}
}

func TestSLADueOtherZone(t *testing.T) {
	p := writeConfig(t, "[calendar]\ntimezone = \"Asia/Tokyo\"\nopen = \"09:00\"\nclose = \"18:00\"\n")
	out, _, err := runCmd(t, "sla", "due", "-config", p, "-from", "2026-11-27 17:00", "2 working hours")
	if err != nil {
		t.Fatal(err)
	}
	// Friday 17:00 in Tokyo: one hour on Friday, one on Monday.
	if want := "2026-11-30T10:00:00+09:00 (Mon 30 Nov 2026 10:00 JST)\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestSLADueDefaultsToNow(t *testing.T) {
	t0 := time.Now()
	out, _, err := runCmd(t, "sla", "due", "72 hours")
	t1 := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	due, perr := time.Parse(time.RFC3339, strings.Fields(out)[0])
	if perr != nil {
		t.Fatalf("output %q does not start with RFC 3339: %v", out, perr)
	}
	// The command's "now" lies between t0 and t1; the output has whole seconds.
	if lo, hi := t0.Add(72*time.Hour).Truncate(time.Second), t1.Add(72*time.Hour); due.Before(lo) || due.After(hi) {
		t.Errorf("due %v is not 72 hours after the command ran (%v..%v)", due, lo, hi)
	}
}

func TestSLABetween(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string // after "sla between"
		golden string
	}{
		{"Friday lunchtime to Monday close",
			[]string{"2026-11-27 12:30", "2026-11-30 17:00"},
			"13h30m0s (1 working day 4h30m; a working day is 9h)"},
		{"a weekend is no working time",
			[]string{"2026-11-27 17:00", "2026-11-30 08:00"},
			"0s (0s; a working day is 9h)"},
		{"two whole days",
			[]string{"2026-11-30 08:00", "2026-12-01 17:00"},
			"18h0m0s (2 working days; a working day is 9h)"},
		{"Christmas week",
			[]string{"2026-12-24 08:00", "2026-12-30 08:00"},
			"18h0m0s (2 working days; a working day is 9h)"},
		{"across BST ending, real hours",
			[]string{"2026-10-23 16:00", "2026-10-26 09:30:00"},
			"2h30m0s (2h30m; a working day is 9h)"},
		{"custom hours and closure",
			[]string{"-config", customHours, "2026-11-30 09:00", "2026-12-07 10:00"},
			// Mon-Wed open (8h30m each), Thu closed, no Fri-Sun, 1h on Mon 7th.
			"26h30m0s (3 working days 1h; a working day is 8h30m)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCmd(t, append([]string{"sla", "between"}, tc.args...)...)
			if err != nil {
				t.Fatalf("err = %v\nstderr: %s", err, errOut)
			}
			if got := strings.TrimSuffix(out, "\n"); got != tc.golden {
				t.Errorf("got  %q\nwant %q", got, tc.golden)
			}
		})
	}
}

func TestSLACalendar(t *testing.T) {
	out, _, err := runCmd(t, "sla", "calendar", "-year", "2026")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Desk hours: Mon Tue Wed Thu Fri, 08:00-17:00 Europe/London (a working day is 9h)\n",
		"Holidays: built-in England & Wales bank holidays\n",
		"  2026-01-01 Thu  New Year’s Day\n",
		"  2026-12-25 Fri  Christmas Day\n",
		"  2026-12-28 Mon  Boxing Day\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Note:") || strings.Count(out, "\n  2026-") != 8 {
		t.Errorf("want the 8 bank holidays of 2026 and no note:\n%s", out)
	}

	out, _, err = runCmd(t, "sla", "calendar", "-config", customHours, "-year", "2026")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Desk hours: Mon Tue Wed Thu, 09:00-17:30 Europe/London (a working day is 8h30m)\n",
		"  2026-12-03 Thu  Desk closure\n",
		"  2026-12-19 to 2027-01-04  Christmas holidays (default)\n",
		"  2026-11-27 to 2026-11-27  Inset day (Oak Primary School)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = runCmd(t, "sla", "calendar", "-config", customHours, "-year", "2031")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Note: no bank holiday data for 2031") || !strings.Contains(out, "Christmas Day") {
		t.Errorf("2031 should be rule-predicted and say so:\n%s", out)
	}
	if !strings.HasSuffix(out, "School holidays in 2031 (clocks keep running; clearance confirmation waits):\n  (none)\n") {
		t.Errorf("2031 has no school holidays:\n%s", out)
	}
}

func TestSLACalendarReplacedHolidays(t *testing.T) {
	p := writeConfig(t, "[calendar]\nholidays_file = \"config/testdata/holidays-2026.json\"\n")
	out, _, err := runCmd(t, "sla", "calendar", "-config", p, "-year", "2026")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "  2026-11-30 Mon  Founders’ Day\n") || strings.Contains(out, "Good Friday") {
		t.Errorf("the file should replace the built-in list:\n%s", out)
	}
	out, _, err = runCmd(t, "sla", "due", "-config", p, "-from", "2026-11-27 16:00", "4 working hours")
	if err != nil || !strings.HasPrefix(out, "2026-12-01T11:00:00+00:00") {
		t.Errorf("due across the file's Founders’ Day: %q, %v", out, err)
	}
	out, _, err = runCmd(t, "sla", "calendar", "-config", p, "-year", "2027")
	if err != nil || !strings.Contains(out, "Note: the holidays file has no holidays for 2027") {
		t.Errorf("2027 not in the file should be noted: %v\n%s", err, out)
	}
}

func TestSLAUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"sla"}, "sla: no subcommand given"},
		{"unknown subcommand", []string{"sla", "when"}, `unknown subcommand "when"`},
		{"bad target", []string{"sla", "due", "-from", "2026-11-27 16:00", "4 hrs"},
			`sla due: "4 hrs" is not a target: unknown unit "hrs"`},
		{"wall-clock days", []string{"sla", "due", "2 days"}, `"2 days" is not a target: days must be working days`},
		{"no target", []string{"sla", "due", "-from", "2026-11-27 16:00"}, "want one TARGET"},
		{"unquoted target", []string{"sla", "due", "4", "working", "hours"}, "got 3 arguments"},
		{"bad -from format", []string{"sla", "due", "-from", "27/11/2026 16:00", "4 working hours"},
			`sla due: -from "27/11/2026 16:00" is not a time: write it as "2006-01-02 15:04"`},
		{"-from in the skipped hour", []string{"sla", "due", "-from", "2026-03-29 01:30", "1 working hour"},
			`"2026-03-29 01:30" does not exist in Europe/London`},
		{"unknown flag", []string{"sla", "due", "-frm", "2026-11-27 16:00", "1 working hour"},
			"flag provided but not defined: -frm"},
		{"between needs two", []string{"sla", "between", "2026-11-27 16:00"}, "want START and END"},
		{"between bad end", []string{"sla", "between", "2026-11-27 16:00", "monday"}, `sla between: END "monday" is not a time`},
		{"between backwards", []string{"sla", "between", "2026-11-30 09:00", "2026-11-27 16:00"},
			"END 2026-11-27 16:00 is before START 2026-11-30 09:00"},
		{"calendar bad year", []string{"sla", "calendar", "-year", "twenty"}, `invalid value "twenty" for flag -year`},
		{"calendar positional year", []string{"sla", "calendar", "2027"}, `unexpected argument "2027": give the year as -year 2027`},
		{"calendar tiny year", []string{"sla", "calendar", "-year", "27"}, "-year 27 is not a four-digit year"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCmd(t, tc.args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("want a usage error (exit 2), got %v (stdout %q)", err, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestSLAHelp(t *testing.T) {
	out, _, err := runCmd(t, "sla", "-h")
	if err != nil || !strings.Contains(out, "rfadesk sla between [-config FILE] START END") {
		t.Errorf("sla -h: %v\n%s", err, out)
	}
	_, errOut, err := runCmd(t, "sla", "due", "-h")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "-from time") {
		t.Errorf("sla due -h: %v\n%s", err, errOut)
	}
}

// TestSLAConfigErrorsOnlyCalendar: with -config, every calendar problem is
// reported at once, and nothing about the sections sla does not use.
func TestSLAConfigErrorsOnlyCalendar(t *testing.T) {
	_, _, err := runCmd(t, "sla", "due", "-config", "config/testdata/bad-calendar.toml", "4 working hours")
	var ue usageError
	if err == nil || errors.As(err, &ue) {
		t.Fatalf("want a configuration error (exit 1), got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`calendar.timezone: "Mars/Olympus_Mons" is not a time zone`,
		`calendar.open: "8am" is not a time: write it as "08:00"`,
		`calendar.days[1]: "funday" is not a day`,
		`calendar.holidays_file: config/testdata/holidays-duplicate.json: workcal: holidays: division "england-and-wales": event 1: duplicate date 2026-12-25`,
		`calendar.closures[0]: "24/12/2026" is not a date`,
		`calendar.school_holidays[0].organisation: "Nowhere School" is not the name of an [[organisation]]`,
		`calendar.school_holidays[0].to: missing`,
		`calendar.colour: unknown key`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	for _, notWant := range []string{"imap", "desk.", "smtp"} {
		if strings.Contains(msg, notWant) {
			t.Errorf("sla should report only calendar problems, got %q in:\n%s", notWant, msg)
		}
	}
}

func TestSLAConfigSyntaxError(t *testing.T) {
	p := writeConfig(t, "[calendar]\nopen = \"08:00\nclose = \"17:00\"\n")
	_, _, err := runCmd(t, "sla", "due", "-config", p, "1 working hour")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want the line of the syntax error, got %v", err)
	}
	_, _, err = runCmd(t, "sla", "due", "-config", "/nonexistent/rfadesk.toml", "1 working hour")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/rfadesk.toml") {
		t.Fatalf("want the missing file named, got %v", err)
	}
}
