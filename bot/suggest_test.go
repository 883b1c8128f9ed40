package bot_test

import (
	"testing"

	"rfadesk/bot"
)

func TestSuggestSeverity(t *testing.T) {
	cases := []struct {
		subject string
		rep     bot.Report
		text    string
		want    bot.Severity
	}{
		{"Cannot log in", bot.Report{}, "Nobody can log in this morning, the whole school is affected.", bot.SeverityCritical},
		{"URGENT login outage", bot.Report{}, "Since 8am.", bot.SeverityCritical},
		{"MIS", bot.Report{}, "The server has gone down again.", bot.SeverityCritical},
		{"Deleted records", bot.Report{ErrorMessage: "Data loss detected in table pupils"}, "", bot.SeverityCritical},
		{"Safeguarding log", bot.Report{}, "Safeguarding notes are not saving.", bot.SeverityCritical},
		{"All staff locked out", bot.Report{}, "", bot.SeverityCritical},
		{"Payments", bot.Report{}, "Online payments are failing for parents.", bot.SeveritySerious},
		{"Registers", bot.Report{}, "Teachers can't take registers in period 1.", bot.SeveritySerious},
		{"Slow reports", bot.Report{}, "Many users see timeouts on reports.", bot.SeveritySerious},
		{"Timetable", bot.Report{}, "Only one class is missing its timetable.", bot.SeverityModerate},
		{"Printing", bot.Report{ActionTaken: "We have a workaround: printing from Chrome"}, "", bot.SeverityModerate},
		{"Account", bot.Report{}, "A single user cannot open the gradebook.", bot.SeverityModerate},
		{"Typo on the login page", bot.Report{}, "It says 'pasword'.", bot.SeverityMinor},
		{"Enhancement", bot.Report{}, "Could the export include tutor groups?", bot.SeverityMinor},
		{"Quick question", bot.Report{}, "How do I add a new term?", bot.SeverityMinor},
		{"Drop-down menu scrolls down", bot.Report{}, "When I scroll down the list jumps.", ""},
		{"Hello", bot.Report{}, "Please call me back.", ""},
		// The most severe cue wins.
		{"Question", bot.Report{}, "Quick question: is the site down? Nobody can log in.", bot.SeverityCritical},
	}
	for _, c := range cases {
		if got := bot.SuggestSeverity(c.subject, c.rep, c.text); got != c.want {
			t.Errorf("SuggestSeverity(%q, %q) = %q, want %q", c.subject, c.text, got, c.want)
		}
	}
}

func TestSuggestedSeveritySetAtIntake(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("sg1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login outage", "Nobody can log in at the whole school."))
	r := f.rfa(1)
	if r.SuggestedSeverity != bot.SeverityCritical || r.Severity != "" {
		t.Errorf("severity %q suggested %q, want awaiting triage with critical suggested", r.Severity, r.SuggestedSeverity)
	}
}
