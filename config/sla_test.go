package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// slaBase is a valid config apart from the SLA sections under test.
const slaBase = loopbackTOML + `password = "secret"
[[organisation]]
name = "Oak Primary School"
domains = ["oakprimary.sch.uk"]
`

func TestExampleConfigSLA(t *testing.T) {
	cfg, err := Load("../config.example.toml", func(k string) string {
		return map[string]string{"RFADESK_IMAP_PASSWORD": "pw"}[k]
	})
	if err != nil {
		t.Fatalf("config.example.toml does not load: %v", err)
	}
	p := cfg.Desk.SLA
	if p == nil || p.Calendar == nil {
		t.Fatal("no SLA policy")
	}
	want := bot.DefaultSLAPolicy(workcal.Default())
	if p.Response != want.Response || p.FirstUpdate != want.FirstUpdate || !mapsEqual(p.Workaround, want.Workaround) {
		t.Errorf("targets = %v %v %v, want the contract's defaults", p.Response, p.FirstUpdate, p.Workaround)
	}
	if !slices.Equal(p.Points, bot.DefaultEscalationPoints) || !slices.Equal(p.FirstContactPoints, bot.DefaultFirstContactPoints) {
		t.Errorf("points = %v, first contact points = %v", p.Points, p.FirstContactPoints)
	}
	if p.Triage != want.Triage || p.Escalation != want.Escalation || p.FieldsReminder != want.FieldsReminder {
		t.Errorf("triage %v, escalation %v, fields reminder %v: want the defaults", p.Triage, p.Escalation, p.FieldsReminder)
	}
	if len(p.OnDutyAddress) != 1 || p.OnDutyAddress[0].Email != "on-duty@example.org" {
		t.Errorf("on-duty address = %v", p.OnDutyAddress)
	}
	if len(cfg.Desk.Managers) != 1 || cfg.Desk.Managers[0].Email != "desk-manager@example.org" || cfg.Desk.ManagerName != "the support team manager" {
		t.Errorf("managers = %v, %q", cfg.Desk.Managers, cfg.Desk.ManagerName)
	}
	if hs := p.Holidays[""]; len(hs) != 1 || hs[0].Name != "Christmas holidays" || hs[0].To != (workcal.Date{Year: 2027, Month: time.January, Day: 4}) {
		t.Errorf("school holidays = %v", p.Holidays)
	}
	// The example's calendar is the default desk: Friday 16:00 + 4 working hours.
	from := time.Date(2026, 11, 27, 16, 0, 0, 0, p.Calendar.Location())
	if got := p.Calendar.Due(from, p.Workaround[bot.SeverityCritical]); !got.Equal(time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("critical due = %v", got)
	}
}

func mapsEqual(a, b map[bot.Severity]workcal.Target) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestSLAConfigDefaultsWithoutSections(t *testing.T) {
	cfg, err := Load(writeConfig(t, slaBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Desk.SLA
	if p.Response.String() != "72 hours" || p.Workaround[bot.SeverityMinor].String() != "2 working weeks" || len(p.Points) != 4 {
		t.Errorf("defaults not applied: %+v", p)
	}
	if !slices.ContainsFunc(cfg.Warnings, func(w string) bool { return strings.HasPrefix(w, "escalation.managers: empty") }) {
		t.Errorf("want a warning that nobody receives escalations, got %q", cfg.Warnings)
	}
}

func TestSLAConfigCustom(t *testing.T) {
	_, err := Load(writeConfig(t, slaBase+`
[escalation]
points = [{ at = "25%", action = "note" }, { at = "12.5 %", action = "x" }, { at = "99.5%", action = "BREACH" }]
`), noEnv)
	if err == nil || !strings.Contains(err.Error(), `escalation.points[1].at: "12.5 %" does not come after "25%"`) ||
		!strings.Contains(err.Error(), `escalation.points[1].action: "x" is not an action`) {
		t.Fatalf("want the bad point reported, got %v", err)
	}
	// TOML local dates and times are accepted as well as strings.
	body := strings.Replace(slaBase, "[smtp]", "alert_to = [\"Alerts <alerts@example.org>\"]\n[smtp]", 1) + `
[calendar]
open = 09:00:00
close = "24:00"
days = ["Monday", "tue", "WED"]
closures = [2026-12-23, "2026-12-29"]
[[calendar.school_holidays]]
organisation = "Oak Primary School"
name = "Half term"
from = 2027-02-15
to = "2027-02-19"
[[calendar.school_holidays]]
organisation = "Oak Primary School"
from = "2026-10-26"
to = "2026-10-30"
[sla]
response = "72 working hours"
critical = "2 working hours"
[escalation]
points = [{ at = "25%", action = "note" }, { at = "99.5%", action = "BREACH" }]
manager_name = "Ms Head"
on_duty_role = "123456"
`
	cfg, err := Load(writeConfig(t, body), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Desk.SLA
	if p.Response.String() != "72 working hours" || p.Workaround[bot.SeverityCritical].String() != "2 working hours" || p.Workaround[bot.SeveritySerious].String() != "2 working days" {
		t.Errorf("targets = %v %v", p.Response, p.Workaround)
	}
	if want := []bot.EscalationPoint{{Fraction: 0.25, Step: bot.StepNoteAssignee}, {Fraction: 0.995, Step: bot.StepBreach}}; !slices.Equal(p.Points, want) {
		t.Errorf("points = %v, want %v", p.Points, want)
	}
	if p.OnDutyRole != "123456" || cfg.Desk.ManagerName != "Ms Head" {
		t.Errorf("role %q, manager name %q", p.OnDutyRole, cfg.Desk.ManagerName)
	}
	if len(cfg.Desk.Managers) != 1 || cfg.Desk.Managers[0].Email != "alerts@example.org" {
		t.Errorf("managers should default to desk.alert_to, got %v", cfg.Desk.Managers)
	}
	oak := p.Holidays["Oak Primary School"]
	if len(oak) != 2 || oak[0].From.String() != "2026-10-26" || oak[0].Name != "School holiday" || oak[1].Name != "Half term" {
		t.Errorf("school holidays not sorted/defaulted: %v", oak)
	}
	// Tuesday 22 Dec 2026 23:00 + 2 working hours: one hour before
	// midnight; Wed 23 closed (TOML date), Thu-Sun not open, Mon 28 the
	// Boxing Day substitute, Tue 29 closed (string date); the second hour
	// from Wednesday 30 Dec 09:00.
	cal := p.Calendar
	got := cal.Due(time.Date(2026, 12, 22, 23, 0, 0, 0, cal.Location()), p.Workaround[bot.SeverityCritical])
	if want := time.Date(2026, 12, 30, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("due = %v, want %v", got, want)
	}
	if cal.WorkingDay() != 15*time.Hour {
		t.Errorf("09:00-24:00 is a 15h day, got %v", cal.WorkingDay())
	}
}

// TestSLAConfigErrors: each bad setting is reported under its key with a
// fix; the last case has all of them and every one is reported at once.
func TestSLAConfigErrors(t *testing.T) {
	cases := []struct {
		toml string
		want []string
	}{
		{"[calendar]\nopen = \"8am\"\n", []string{`calendar.open: "8am" is not a time: write it as "08:00"`}},
		{"[calendar]\nclose = \"5pm\"\n", []string{`calendar.close: "5pm" is not a time: write it as "17:00"`}},
		{"[calendar]\nopen = 8\n", []string{`calendar.open: 8 is not a time`}},
		{"[calendar]\nopen = \"24:00\"\n", []string{`calendar.open: "24:00" is not a time`}},
		{"[calendar]\nopen = \"17:00\"\nclose = \"08:00\"\n", []string{`calendar.close: 08:00 is not after calendar.open 17:00`}},
		{"[calendar]\nopen = \"09:00\"\nclose = \"09:00\"\n", []string{`calendar.close: 09:00 is not after calendar.open 09:00`}},
		{"[calendar]\ntimezone = \"GMT+Summer\"\n", []string{`calendar.timezone: "GMT+Summer" is not a time zone: use an IANA name such as "Europe/London"`}},
		{"[calendar]\ntimezone = \"Local\"\n", []string{`calendar.timezone: "Local" is not a time zone`}},
		{"[calendar]\ndays = []\n", []string{`calendar.days: no open day`}},
		{"[calendar]\ndays = [\"mon\", \"Mon\"]\n", []string{`calendar.days[1]: "Mon" is listed twice`}},
		{"[calendar]\nholidays_file = \"/nonexistent/bank-holidays.json\"\n", []string{`calendar.holidays_file: cannot read it: open /nonexistent/bank-holidays.json`}},
		{"[calendar]\nholidays_file = \"testdata/holidays-2026.json\"\ndivision = \"scotland\"\n",
			[]string{`calendar.holidays_file: testdata/holidays-2026.json: workcal: holidays: missing division "scotland"`, "fix the file"}},
		{"[calendar]\ndivision = \"scotland\"\n", []string{`calendar.division: "scotland" applies only with calendar.holidays_file`}},
		{"[calendar]\nclosures = [\"2026-02-30\"]\n", []string{`calendar.closures[0]: "2026-02-30" is not a date: write it as "2026-12-24"`}},
		{"[[calendar.school_holidays]]\nfrom = \"2027-01-04\"\nto = \"2026-12-19\"\n", []string{`calendar.school_holidays[0].to: 2026-12-19 is before from 2027-01-04`}},
		{"[[calendar.school_holidays]]\norganisation = \"Ash School\"\nto = \"2026-12-19\"\n",
			[]string{`calendar.school_holidays[0].organisation: "Ash School" is not the name of an [[organisation]]`, `calendar.school_holidays[0].from: missing`}},
		{"[sla]\ncritical = \"4 hours\"\n", []string{`sla.critical: "4 hours" must be in working time: write "4 working hours"`}},
		{"[sla]\nfirst_update = \"1 hour\"\n", []string{`sla.first_update: "1 hour" must be in working time: write "1 working hour"`}},
		{"[sla]\nminor = \"2 weeks\"\n", []string{`sla.minor: "2 weeks" is not a target: weeks must be working weeks`}},
		{"[sla]\nserious = \"two working days\"\n", []string{`sla.serious: "two working days" is not a target: number "two" must be digits only`}},
		{"[sla]\nresponse = \"3 days\"\n", []string{`sla.response: "3 days" is not a target`}},
		{"[escalation]\npoints = []\n", []string{`escalation.points: empty: list at least one point, or remove the key for the defaults`}},
		{"[escalation]\npoints = [{ at = 0.5, action = \"note\" }]\n", []string{`escalation.points[0].at: 0.5 is not a percentage: write it like "75%"`}},
		{"[escalation]\npoints = [{ at = \"50\", action = \"note\" }]\n", []string{`escalation.points[0].at: "50" is not a percentage`}},
		{"[escalation]\npoints = [{ at = \"0%\", action = \"note\" }, { at = \"150%\", action = \"breach\" }]\n",
			[]string{`escalation.points[0].at: "0%" is out of range`, `escalation.points[1].at: "150%" is out of range`}},
		{"[escalation]\npoints = [{ at = \"50%\", action = \"note\" }, { at = \"50%\", action = \"breach\" }]\n",
			[]string{`escalation.points[1].at: "50%" does not come after "50%": list the points in strictly increasing order`}},
		{"[escalation]\npoints = [{ at = \"50%\", action = \"page\" }, { at = \"60%\" }]\n",
			[]string{`escalation.points[0].action: "page" is not an action: use note, mention, manager or breach`, `escalation.points[1].action: missing`}},
		{"[escalation]\npoints = [{ action = \"note\" }]\n", []string{`escalation.points[0].at: missing: write the fraction of the clock's time, like "75%"`}},
		{"[escalation]\nmanagers = [\"the boss\"]\n", []string{`escalation.managers[0]: "the boss" is not an email address`}},
		{"[escalation]\nwho = 1\n", []string{`escalation.who: unknown key`}},
	}
	for _, tc := range cases {
		t.Run(strings.Fields(tc.toml)[0]+tc.want[0], func(t *testing.T) {
			_, err := Load(writeConfig(t, slaBase+tc.toml), noEnv)
			if err == nil {
				t.Fatal("bad config accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSLAConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load(writeConfig(t, slaBase+`
[calendar]
timezone = "Europe/Lundun"
open = "8am"
close = "5pm"
days = ["mon", "someday"]
holidays_file = "testdata/holidays-duplicate.json"
closures = ["2026-12-32"]
[[calendar.school_holidays]]
organisation = "Ash School"
from = "2026-12-19"
to = "2026-12-01"
[sla]
response = "72 hrs"
first_update = "1 hour"
critical = "4 hours"
serious = "2 days"
moderate = "3 working days"
minor = "2 working weeks"
[escalation]
points = [{ at = "75%", action = "note" }, { at = "50%", action = "shout" }, { at = "101%", action = "breach" }]
managers = ["nobody"]
`), noEnv)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	msg := err.Error()
	wants := []string{
		`calendar.timezone: "Europe/Lundun"`, `calendar.open: "8am"`, `calendar.close: "5pm"`,
		`calendar.days[1]: "someday"`, `calendar.holidays_file: testdata/holidays-duplicate.json: workcal: holidays: division "england-and-wales": event 1: duplicate date 2026-12-25`,
		`calendar.closures[0]: "2026-12-32"`, `calendar.school_holidays[0].organisation: "Ash School"`,
		`calendar.school_holidays[0].to: 2026-12-01 is before from 2026-12-19`,
		`sla.response: "72 hrs" is not a target`, `sla.first_update: "1 hour" must be in working time`,
		`sla.critical: "4 hours" must be in working time: write "4 working hours"`, `sla.serious: "2 days" is not a target`,
		`escalation.points[1].at: "50%" does not come after "75%"`, `escalation.points[1].action: "shout"`,
		`escalation.points[2].at: "101%" is out of range`, `escalation.managers[0]: "nobody"`,
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not mention %q:\n%s", w, msg)
		}
	}
	if lines := strings.Count(msg, "\n") + 1; lines != len(wants) {
		t.Errorf("want exactly %d problems, one a line, got %d:\n%s", len(wants), lines, msg)
	}
	if strings.Contains(msg, "sla.moderate") || strings.Contains(msg, "sla.minor") {
		t.Errorf("good targets reported:\n%s", msg)
	}
}

// decodeRaw reads a config body into a rawConfig for validateSLA.
func decodeRaw(t *testing.T, body string) *rawConfig {
	t.Helper()
	var raw rawConfig
	if unknown, err := decode("test", []byte(body), &raw, ""); err != nil || len(unknown) > 0 {
		t.Fatal(err, unknown)
	}
	return &raw
}

// TestSLAWarnings: years without holiday data are warnings, not errors,
// worded for the holiday source in use.
func TestSLAWarnings(t *testing.T) {
	at := func(y int) time.Time { return time.Date(y, 6, 1, 12, 0, 0, 0, time.UTC) }
	managers := "[escalation]\nmanagers = [\"m@example.org\"]\n"
	for _, tc := range []struct {
		name string
		body string
		now  time.Time
		want []string
	}{
		{"built-in, covered", managers, at(2026), nil},
		{"built-in, next year uncovered", managers, at(2030),
			[]string{"calendar: no bank holiday data for 2031: its holidays are predicted by rule and miss one-off days; set calendar.holidays_file to a current gov.uk bank-holidays.json"}},
		{"built-in, both uncovered", managers, at(2035),
			[]string{"calendar: no bank holiday data for 2035", "calendar: no bank holiday data for 2036"}},
		{"replaced list", managers + "[calendar]\nholidays_file = \"testdata/holidays-2026.json\"\n", at(2026),
			[]string{"calendar.holidays_file: has no holidays for 2027, so every weekday of 2027 counts as a working day: use a file that covers it"}},
		{"nobody to escalate to", "", at(2026),
			[]string{"escalation.managers: empty (and so is desk.alert_to): escalations to the manager are mailed to nobody (only posted to chat, when [discord] is set); list the managers' email addresses"}},
		{"nobody, but no manager points", "[escalation]\npoints = [{ at = \"50%\", action = \"note\" }]\n", at(2026), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, errs := validateSLA(decodeRaw(t, tc.body), tc.now, nil)
			if len(errs) > 0 || s.Policy == nil {
				t.Fatalf("errors: %v", errs)
			}
			if len(s.Warnings) != len(tc.want) {
				t.Fatalf("warnings = %q, want %d", s.Warnings, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(s.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to start %q", i, s.Warnings[i], w)
				}
			}
		})
	}
}

// TestSLAResponseTarget: desk.response_target (the promise in the
// acknowledgement) and sla.response must agree.
func TestSLAResponseTarget(t *testing.T) {
	s, errs := validateSLA(decodeRaw(t, "[desk]\nresponse_target = \"48 hours\"\n"), time.Now(), nil)
	if len(errs) > 0 || s.Policy.Response.String() != "48 hours" {
		t.Errorf("desk.response_target should be the default response target: %v %v", s.Policy.Response, errs)
	}
	_, errs = validateSLA(decodeRaw(t, "[desk]\nresponse_target = \"48 hours\"\n[sla]\nresponse = \"72 working hours\"\n"), time.Now(), nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `sla.response: "72 working hours" differs from desk.response_target "48 hours"`) {
		t.Errorf("want the disagreement reported, got %v", errs)
	}
	s, errs = validateSLA(decodeRaw(t, "[desk]\nresponse_target = \"48 Hours\"\n[sla]\nresponse = \"48 hours\"\n"), time.Now(), nil)
	if len(errs) > 0 || s.Policy.Response.String() != "48 hours" {
		t.Errorf("equal targets written differently agree: %v", errs)
	}
}

// TestSLAConfigFirstContactAndEmailOnly: the triage, escalation and
// fields-reminder targets, the first-contact points and the on-duty
// address are read, checked and defaulted.
func TestSLAConfigFirstContactAndEmailOnly(t *testing.T) {
	body := strings.Replace(slaBase, "[smtp]", "alert_to = [\"Alerts <alerts@example.org>\"]\n[smtp]", 1) + `
[sla]
triage = "3 working hours"
escalation = "2 working hours"
fields_reminder = "off"
[escalation]
first_contact_points = [{ at = "80%", action = "mention" }, { at = "100%", action = "breach" }]
`
	cfg, err := Load(writeConfig(t, body), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Desk.SLA
	if p.Triage.String() != "3 working hours" || p.Escalation.String() != "2 working hours" || p.FieldsReminder != (workcal.Target{}) {
		t.Errorf("triage %v, escalation %v, fields reminder %v (want off)", p.Triage, p.Escalation, p.FieldsReminder)
	}
	if want := []bot.EscalationPoint{{Fraction: 0.8, Step: bot.StepMentionDuty}, {Fraction: 1, Step: bot.StepBreach}}; !slices.Equal(p.FirstContactPoints, want) {
		t.Errorf("first contact points = %v, want %v", p.FirstContactPoints, want)
	}
	if len(p.OnDutyAddress) != 1 || p.OnDutyAddress[0].Email != "alerts@example.org" {
		t.Errorf("on-duty address should default to desk.alert_to, got %v", p.OnDutyAddress)
	}

	// Without [discord] and anyone to mail, the desk warns.
	cfg, err = Load(writeConfig(t, slaBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cfg.Warnings, func(w string) bool { return strings.HasPrefix(w, "escalation.on_duty_address: empty") }) {
		t.Errorf("want a warning that note and mention reach nobody, got %q", cfg.Warnings)
	}

	_, err = Load(writeConfig(t, slaBase+`
[sla]
triage = "2 hours"
escalation = "soon"
fields_reminder = "1 day"
[escalation]
first_contact_points = [{ at = "50%", action = "shout" }]
on_duty_address = "not an address"
`), noEnv)
	for _, want := range []string{
		`sla.triage: "2 hours" must be in working time: write "2 working hours"`,
		`sla.escalation: "soon" is not a target`,
		`sla.fields_reminder: "1 day" is not a target`,
		`escalation.first_contact_points[0].action: "shout" is not an action`,
		`escalation.on_duty_address: "not an address" is not an email address`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q among the errors, got %v", want, err)
		}
	}
}
