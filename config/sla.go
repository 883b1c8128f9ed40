package config

import (
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// rawSLA is the [sla] section: targets as people write them.
type rawSLA struct {
	Response       string `toml:"response"`
	Triage         string `toml:"triage"`
	FirstUpdate    string `toml:"first_update"`
	Escalation     string `toml:"escalation"`
	FieldsReminder string `toml:"fields_reminder"`
	Critical       string `toml:"critical"`
	Serious        string `toml:"serious"`
	Moderate       string `toml:"moderate"`
	Minor          string `toml:"minor"`
}

// rawLifecycle is the [lifecycle] section: what happens after staff
// clear an RFA.
type rawLifecycle struct {
	ConfirmWindow string `toml:"confirm_window"`
	ReopenGrace   string `toml:"reopen_grace"`
}

// rawEscalation is the [escalation] section.
type rawEscalation struct {
	Points             []rawPoint `toml:"points"`
	FirstContactPoints []rawPoint `toml:"first_contact_points"`
	Managers           []string   `toml:"managers"`
	ManagerName        string     `toml:"manager_name"`
	OnDutyRole         string     `toml:"on_duty_role"`
	OnDutyAddress      string     `toml:"on_duty_address"`
}

// rawPoint is one escalation point, e.g. { at = "75%", action = "mention" }.
type rawPoint struct {
	At     any    `toml:"at"`
	Action string `toml:"action"`
}

// slaSettings is the validated [calendar], [sla] and [escalation]
// sections, ready for Config.
type slaSettings struct {
	Policy      *bot.SLAPolicy
	Calendar    Calendar
	Managers    []bot.Address
	ManagerName string
	// Warnings are problems worth logging at start-up that do not stop
	// the desk (a year without holiday data, nobody to escalate to).
	Warnings []string
}

// validateSLA checks the [calendar], [sla], [lifecycle] and [escalation] sections,
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
			bad(key, "%q is not a target: %s; write it like %q", written, TargetProblem(err, written), def)
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
	p.Triage = target("sla.triage", raw.SLA.Triage, "2 working hours", false)
	p.FirstUpdate = target("sla.first_update", raw.SLA.FirstUpdate, "1 working hour", false)
	p.Escalation = target("sla.escalation", raw.SLA.Escalation, "1 working hour", false)
	if !strings.EqualFold(strings.TrimSpace(raw.SLA.FieldsReminder), "off") {
		p.FieldsReminder = target("sla.fields_reminder", raw.SLA.FieldsReminder, "1 working day", false)
	}
	// [lifecycle]: counted in working time minus the organisation's
	// school holidays; "off" closes nothing by itself (confirm_window)
	// or reopens nothing by a reply (reopen_grace).
	if !strings.EqualFold(strings.TrimSpace(raw.Lifecycle.ConfirmWindow), "off") {
		p.ConfirmWindow = target("lifecycle.confirm_window", raw.Lifecycle.ConfirmWindow, "5 working days", false)
	}
	if !strings.EqualFold(strings.TrimSpace(raw.Lifecycle.ReopenGrace), "off") {
		p.ReopenGrace = target("lifecycle.reopen_grace", raw.Lifecycle.ReopenGrace, "20 working days", false)
	}
	p.Workaround = map[bot.Severity]workcal.Target{
		bot.SeverityCritical: target("sla.critical", raw.SLA.Critical, "4 working hours", false),
		bot.SeveritySerious:  target("sla.serious", raw.SLA.Serious, "2 working days", false),
		bot.SeverityModerate: target("sla.moderate", raw.SLA.Moderate, "3 working days", false),
		bot.SeverityMinor:    target("sla.minor", raw.SLA.Minor, "2 working weeks", false),
	}

	e := &raw.Escalation
	p.Points, errs = validatePoints("escalation.points", e.Points, bot.DefaultEscalationPoints, errs)
	p.FirstContactPoints, errs = validatePoints("escalation.first_contact_points", e.FirstContactPoints, bot.DefaultFirstContactPoints, errs)
	p.OnDutyRole = strings.TrimSpace(e.OnDutyRole)
	if d := strings.TrimSpace(e.OnDutyAddress); d != "" {
		if a, err := mail.ParseAddress(d); err != nil {
			bad("escalation.on_duty_address", "%q is not an email address: write it as \"on-duty@example.org\"", d)
		} else {
			p.OnDutyAddress = []bot.Address{{Name: a.Name, Email: strings.ToLower(a.Address)}}
		}
	} else {
		// Fall back to the staff alert list (validate reports its errors).
		for _, m := range raw.Desk.AlertTo {
			if a, err := mail.ParseAddress(m); err == nil {
				p.OnDutyAddress = append(p.OnDutyAddress, bot.Address{Name: a.Name, Email: strings.ToLower(a.Address)})
			}
		}
	}
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
		return pt.Step == bot.StepManager || pt.Step == bot.StepBreach
	}) {
		s.Warnings = append(s.Warnings, "escalation.managers: empty (and so is desk.alert_to): escalations to the manager are mailed to nobody (only posted to chat, when [discord] is set); list the managers' email addresses")
	}
	if cal.Calendar != nil {
		s.Policy = p
	}
	return s, errs
}

// validatePoints checks a list of escalation points written at key
// (escalation.points or escalation.first_contact_points); nil means def.
func validatePoints(key string, raw []rawPoint, def []bot.EscalationPoint, errs []error) ([]bot.EscalationPoint, []error) {
	if raw == nil {
		return slices.Clone(def), errs
	}
	if len(raw) == 0 {
		defs := make([]string, len(def))
		for i, pt := range def {
			defs[i] = strconv.FormatFloat(pt.Fraction*100, 'f', -1, 64) + "% " + string(pt.Step)
		}
		return nil, append(errs, fmt.Errorf("%s: empty: list at least one point, or remove the key for the defaults (%s)", key, strings.Join(defs, ", ")))
	}
	base := key
	var out []bot.EscalationPoint
	prev, prevAt := 0.0, ""
	for i, rp := range raw {
		key := fmt.Sprintf("%s[%d]", base, i)
		action := bot.EscalationStep(strings.ToLower(strings.TrimSpace(rp.Action)))
		switch action {
		case bot.StepNoteAssignee, bot.StepMentionDuty, bot.StepManager, bot.StepBreach:
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
		out = append(out, bot.EscalationPoint{Fraction: f, Step: action})
	}
	return out, errs
}

// TargetProblem is what workcal.ParseTarget(s) found wrong (its error
// err), without the package prefix, for messages to people such as
// "sla.critical: \"4 hours\" is not a target: PROBLEM; write it like ...".
func TargetProblem(err error, s string) string {
	return strings.TrimPrefix(err.Error(), fmt.Sprintf("workcal: target %q: ", s))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
