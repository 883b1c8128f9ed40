package bot_test

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

var updateReport = flag.Bool("update-report", false, "rewrite bot/testdata/report-2026-11.*")

// at is a November 2026 moment in London (UTC+0 in November).
func nov(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, time.UTC) }

func rev(t time.Time, k bot.EventKind, text string) bot.Event {
	return bot.Event{At: t, Kind: k, Text: text}
}

// reportFixture is the hand-computed month (see TestMonthReportFixture).
func reportFixture() []*bot.RFA {
	mk := func(num uint64, created time.Time, org, trust string, sev bot.Severity, status bot.Status, evs ...bot.Event) *bot.RFA {
		return &bot.RFA{Num: num, Channel: bot.ChannelEmail, Created: created, Organisation: org, Trust: trust,
			Severity: sev, Status: status, Events: append([]bot.Event{rev(created, bot.EventCreated, "")}, evs...)}
	}
	return []*bot.RFA{
		mk(1, time.Date(2026, 10, 30, 9, 0, 0, 0, time.UTC), "Ash School", "T1", "", bot.StatusNew), // October: not counted
		mk(2, nov(2, 9, 0), "Ash School", "T1", bot.SeverityCritical, bot.StatusClosed,
			rev(nov(2, 9, 30), bot.EventSeverity, "critical"), rev(nov(2, 9, 45), bot.EventStaffReply, ""),
			rev(nov(2, 11, 0), bot.EventWorkaround, ""), rev(nov(2, 11, 30), bot.EventCleared, "")),
		mk(3, nov(2, 16, 0), "Birch School", "T1", "", bot.StatusNew),
		mk(4, nov(3, 10, 0), "Ash School", "T1", bot.SeverityMinor, bot.StatusCleared,
			rev(nov(3, 10, 30), bot.EventSeverity, "minor"), rev(nov(3, 10, 45), bot.EventCleared, "")),
		mk(5, nov(4, 8, 0), "Cedar School", "", bot.SeveritySerious, bot.StatusOpen,
			rev(nov(4, 8, 30), bot.EventSeverity, "serious"), rev(nov(4, 8, 45), bot.EventStaffReply, ""),
			rev(nov(4, 12, 0), bot.EventEscalated, ""), rev(nov(5, 8, 0), bot.EventCleared, ""),
			rev(nov(6, 9, 0), bot.EventReopened, "")),
		mk(6, nov(5, 9, 0), "Ash School", "T1", "", bot.StatusUnverified),                          // held: not counted
		mk(7, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "Ash School", "T1", "", bot.StatusNew), // December
	}
}

func seqOf(rs []*bot.RFA) func(func(*bot.RFA, error) bool) {
	return func(yield func(*bot.RFA, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// TestMonthReportFixture checks November 2026 against figures worked out
// by hand (default SLA: response 72 h wall clock, triage 2 working hours,
// first update 1, critical 4, serious 2 working days, minor 2 weeks;
// working hours Mon–Fri 08:00–17:00):
//
//	RFA-2 critical: triaged 0.5 h, replied 0.75 h, worked around 2 h, cleared with 3 staff messages.
//	RFA-3 untriaged, logged Mon 16:00, nothing since: response, triage and first update breached.
//	RFA-4 minor: triaged 0.5 h, cleared at 0.75 h with its only staff message (first contact).
//	RFA-5 serious: triaged 0.5 h, replied 0.75 h, escalated, cleared, reopened Fri 6th 09:00:
//	      the new workaround cycle (18 working hours) breached by 1 December.
//
// serviceFixture is November 2026's service record: see
// TestMonthReportFixture for the figures worked out by hand.
func serviceFixture() bot.ServiceRecord {
	oct30 := time.Date(2026, 10, 30, 17, 0, 0, 0, time.UTC)
	return bot.ServiceRecord{
		Releases: []bot.ReleaseInfo{
			{Name: "minor-2026-10-30", Kind: bot.ReleaseMinor, Shipped: oct30},
			{Name: "major-2026-11-02", Kind: bot.ReleaseMajor, Shipped: nov(2, 9, 0)},
			{Name: "minor-2026-11-13", Kind: bot.ReleaseMinor, Shipped: nov(13, 16, 0)},
			{Name: "minor-2026-11-27", Kind: bot.ReleaseMinor}, // not shipped
		},
		Capacity: bot.CapacityState{
			Gauges: map[string]bot.GaugeState{"mail-store": {Gauge: bot.Gauge{Service: "mail-store", Used: 60, Limit: 100}, At: nov(30, 23, 0)}},
			Crossings: []bot.Crossing{
				{Service: "mail-store", At: time.Date(2026, 10, 28, 9, 0, 0, 0, time.UTC), Percent: 71},
				{Service: "mail-store", At: nov(16, 11, 0), Percent: 72.5},
			},
			Surges: []bot.Surge{{Service: "portal", Reason: "<enrolment> week", By: "staff:ann", From: nov(25, 8, 0), Until: nov(27, 17, 0)}},
			Down:   []bot.Downtime{{Component: "rfadesk", From: nov(3, 2, 0), To: nov(3, 2, 6)}},
		},
		Threshold: 70,
		// A term began Mon 2 Nov (major due by its end; shipped that
		// morning) and a later one on Mon 23 Nov, due by its end: none
		// shipped in it, so the major release is missed.
		Terms: []bot.Term{{Start: nov(2, 0, 0), Due: nov(3, 0, 0)}, {Start: nov(23, 0, 0), Due: nov(24, 0, 0)}},
		Downtime: []bot.Downtime{
			{Component: "portal", From: nov(10, 10, 0), To: nov(10, 10, 20)},
			{Component: "portal", From: nov(20, 14, 0), To: nov(20, 14, 25)},
		},
	}
}

func TestMonthReportFixture(t *testing.T) {
	p := bot.DefaultSLAPolicy(workcal.Default())
	asOf := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	rep, err := bot.MonthReport(p, seqOf(reportFixture()), bot.Month{Year: 2026, Month: time.November}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	all := rep.All
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("logged", all.Logged, 4)
	check("responded", all.Responded, bot.Ratio{N: 3, Of: 4})
	check("first update", all.FirstUpdate, bot.Ratio{N: 3, Of: 4})
	check("triaged", all.Triaged, bot.Ratio{N: 3, Of: 4})
	check("worked around", all.WorkedAround, bot.Ratio{N: 2, Of: 3})
	check("breaches", all.Breaches, []bot.ReportBreach{
		{Ref: "RFA-3", Clocks: []bot.ClockName{bot.ClockResponse, bot.ClockTriage, bot.ClockFirstUpdate}},
		{Ref: "RFA-5", Clocks: []bot.ClockName{bot.ClockWorkaround}},
	})
	check("response times", all.Times[bot.ClockResponse], bot.ReportTimes{N: 3, Median: 0.75, P90: 0.75})
	check("triage times", all.Times[bot.ClockTriage], bot.ReportTimes{N: 3, Median: 0.5, P90: 0.5})
	check("first update times", all.Times[bot.ClockFirstUpdate], bot.ReportTimes{N: 3, Median: 0.75, P90: 0.75})
	check("workaround times", all.Times[bot.ClockWorkaround], bot.ReportTimes{N: 2, Median: 0.75, P90: 2})
	check("escalations", all.Escalations, 1)
	check("reopened", all.Reopened, bot.Ratio{N: 1, Of: 3})
	check("first contact", all.FirstContact, bot.Ratio{N: 1, Of: 3})
	names := func(gs []bot.ReportGroup) (out []string) {
		for _, g := range gs {
			out = append(out, g.Name+":"+string(rune('0'+g.Figures.Logged)))
		}
		return out
	}
	check("severities", names(rep.BySeverity), []string{"Critical:1", "Serious:1", "Minor:1", "Awaiting triage:1"})
	check("organisations", names(rep.ByOrganisation), []string{"Ash School:2", "Birch School:1", "Cedar School:1"})
	check("trusts", names(rep.ByTrust), []string{"T1:3"})
	rep.AddService(serviceFixture(), bot.Month{Year: 2026, Month: time.November}, time.UTC)
	// Releases: minor shipped Oct 30 17:00 and Nov 13 16:00 (13.96 days
	// apart), then none to the month's end: 17 d 8 h, over two weeks.
	check("releases", rep.Releases, bot.ReleasesSection{
		Shipped: []bot.ShippedRelease{
			{Name: "major-2026-11-02", Kind: bot.ReleaseMajor, Shipped: nov(2, 9, 0)},
			{Name: "minor-2026-11-13", Kind: bot.ReleaseMinor, Shipped: nov(13, 16, 0)},
		},
		Minor: 1, Major: 1, LongestMinorGapDays: 17.3, MinorGapOverTwoWeeks: true, LastMajor: nov(2, 9, 0),
		TermStart: nov(23, 0, 0), MajorMissed: true,
	})
	check("crossings", rep.Capacity.Crossings, []bot.Crossing{{Service: "mail-store", At: nov(16, 11, 0), Percent: 72.5}})
	check("surges", len(rep.Capacity.Surges), 1)
	check("gauges", len(rep.Capacity.Gauges), 1)
	// Availability: portal down 20 + 25 min of November's 43,200:
	// 1 - 45/43200, allowance 43.2 - 45 = -1.8 min; rfadesk down 6 min.
	av := rep.Availability
	check("components", len(av.Components), 1)
	check("portal down", av.Components[0].Down, 45*time.Minute)
	check("portal ratio", math.Abs(av.Components[0].Ratio-(1-45.0/43200)) < 1e-12, true)
	check("portal allowance", av.Components[0].AllowanceLeft.Round(time.Second), -108*time.Second)
	check("rfadesk down", av.Rfadesk.Down, 6*time.Minute)
	check("rfadesk allowance", av.Rfadesk.AllowanceLeft.Round(time.Second), 37*time.Minute+12*time.Second)

	for _, format := range []string{bot.ReportJSON, bot.ReportCSV, bot.ReportHTML} {
		var buf bytes.Buffer
		if err := bot.WriteReport(&buf, rep, format); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "report-2026-11."+format)
		if *updateReport {
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs from %s (run with -update-report after checking):\n%s", format, golden, buf.String())
		}
	}
}

func TestWriteReportEscapesAndRefusesFormats(t *testing.T) {
	rs := []*bot.RFA{{Num: 1, Channel: bot.ChannelEmail, Created: nov(2, 9, 0), Organisation: "<script>x</script>", Trust: "=HYPERLINK(1)", Status: bot.StatusNew}}
	rep, err := bot.MonthReport(bot.DefaultSLAPolicy(workcal.Default()), seqOf(rs), bot.Month{Year: 2026, Month: time.November}, nov(30, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	var h, c bytes.Buffer
	if err := bot.WriteReport(&h, rep, bot.ReportHTML); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(h.Bytes(), []byte("<script>")) {
		t.Error("HTML report carries an organisation's name unescaped")
	}
	bot.WriteReport(&c, rep, bot.ReportCSV)
	if !bytes.Contains(c.Bytes(), []byte(",'=HYPERLINK(1),")) {
		t.Errorf("CSV report leaves a formula live:\n%s", c.String())
	}
	if err := bot.WriteReport(&c, rep, "pdf"); !errors.Is(err, bot.ErrBadQuery) {
		t.Error("format pdf accepted")
	}
}
