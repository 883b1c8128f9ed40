package bot

import (
	"math"
	"strconv"
	"time"

	"rfadesk/bot/workcal"
)

// ClockName names one SLA clock, as stored in jeopardy events and shown
// in the JSON and config ("response", "first_update", "workaround").
type ClockName string

// The SLA clocks.
const (
	ClockResponse    ClockName = "response"
	ClockFirstUpdate ClockName = "first_update"
	ClockWorkaround  ClockName = "workaround"
)

// SLAPolicy is the desk's service level agreement, validated from config.
type SLAPolicy struct {
	// Calendar is the desk's working calendar (hours, holidays).
	Calendar *workcal.Calendar
	// Response is the target for a first staff reply to an emailed or
	// portal RFA (default "72 hours", wall-clock; config may make it
	// working hours).
	Response workcal.Target
	// FirstUpdate is the target for the first staff status update
	// (default "1 working hour").
	FirstUpdate workcal.Target
	// Workaround maps each severity to its workaround target (defaults:
	// critical 4 working hours, serious 2 working days, moderate 3
	// working days, minor 2 working weeks).
	Workaround map[Severity]workcal.Target
	// Points are the jeopardy escalation points of every clock, in
	// increasing Fraction order.
	Points []EscalationPoint
	// OnDutyRole is the chat role mentioned at the "mention" action.
	OnDutyRole string
	// Holidays are school holiday periods per organisation name ("" is
	// the default for organisations without their own); they delay
	// clearance confirmation.
	Holidays map[string][]DateRange
}

// EscalationStep is what happens when a clock passes a point.
type EscalationStep string

const (
	StepNoteAssignee EscalationStep = "note"    // a note to the assigned agent in chat
	StepMentionDuty  EscalationStep = "mention" // mention the on-duty staff role
	StepManager      EscalationStep = "manager" // the manager by email and chat
	StepBreach       EscalationStep = "breach"  // a breach record plus the manager
)

// EscalationPoint fires once per clock (again after a reopen) when the
// clock has used Fraction of its time.
type EscalationPoint struct {
	Fraction float64 // 0 < Fraction <= 1
	Step     EscalationStep
}

// DefaultEscalationPoints are 50% note, 75% mention, 90% manager, 100% breach.
var DefaultEscalationPoints = []EscalationPoint{
	{0.50, StepNoteAssignee},
	{0.75, StepMentionDuty},
	{0.90, StepManager},
	{1.00, StepBreach},
}

// DateRange is an inclusive range of civil dates (a school holiday).
type DateRange struct {
	From, To workcal.Date
	Name     string
}

// DefaultSLAPolicy returns the SLA as the contract states it, on cal.
func DefaultSLAPolicy(cal *workcal.Calendar) *SLAPolicy {
	must := func(s string) workcal.Target {
		t, err := workcal.ParseTarget(s)
		if err != nil {
			panic("bot: default target " + s + ": " + err.Error())
		}
		return t
	}
	return &SLAPolicy{
		Calendar:    cal,
		Response:    must("72 hours"),
		FirstUpdate: must("1 working hour"),
		Workaround: map[Severity]workcal.Target{
			SeverityCritical: must("4 working hours"),
			SeveritySerious:  must("2 working days"),
			SeverityModerate: must("3 working days"),
			SeverityMinor:    must("2 working weeks"),
		},
		Points: DefaultEscalationPoints,
	}
}

// amount is target t as a duration: elapsed time for wall-clock targets,
// working time otherwise (a working day is the calendar's opening span,
// a working week five of them). The zero Target is 0.
func (p *SLAPolicy) amount(t workcal.Target) time.Duration {
	n := time.Duration(t.N)
	switch t.Unit {
	case workcal.UnitHour, workcal.UnitWorkingHour:
		return n * time.Hour
	case workcal.UnitWorkingDay:
		return n * p.Calendar.WorkingDay()
	case workcal.UnitWorkingWeek:
		return n * 5 * p.Calendar.WorkingDay()
	}
	return 0
}

// percent formats a fraction as the percentage used in EventJeopardy
// texts: 0.5 is "50", 0.333 is "33.3".
func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64)
}
