package bot

import (
	"math"
	"strconv"
	"time"

	"rfadesk/bot/workcal"
)

// ClockName names one SLA clock, as stored in jeopardy events and shown
// in the JSON and config ("response", "triage", "first_update",
// "workaround", "escalation").
type ClockName string

// The SLA clocks.
const (
	ClockResponse    ClockName = "response"
	ClockTriage      ClockName = "triage"
	ClockFirstUpdate ClockName = "first_update"
	ClockWorkaround  ClockName = "workaround"
	ClockEscalation  ClockName = "escalation"
)

// SLAPolicy is the desk's service level agreement, validated from config.
type SLAPolicy struct {
	// Calendar is the desk's working calendar (hours, holidays).
	Calendar *workcal.Calendar
	// Response is the target for a first staff reply to an emailed or
	// portal RFA (default "72 hours", wall-clock; config may make it
	// working hours).
	Response workcal.Target
	// Triage is the target for staff to set a severity, part of the
	// contract's initial contact (default "2 working hours").
	Triage workcal.Target
	// FirstUpdate is the target for the first public staff message
	// (default "1 working hour").
	FirstUpdate workcal.Target
	// Escalation is the target for staff to act publicly on an RFA after
	// the requester escalated it (default "1 working hour").
	Escalation workcal.Target
	// FieldsReminder is how long after the requester last wrote the one
	// reminder about still-missing report fields goes (default "1
	// working day"); the zero Target sends none.
	FieldsReminder workcal.Target
	// Workaround maps each severity to its workaround target (defaults:
	// critical 4 working hours, serious 2 working days, moderate 3
	// working days, minor 2 working weeks).
	Workaround map[Severity]workcal.Target
	// Points are the jeopardy escalation points of every clock, in
	// increasing Fraction order, but for FirstContactPoints' clocks.
	Points []EscalationPoint
	// FirstContactPoints are the points of the triage and first_update
	// clocks of RFAs that are not Critical (a Critical RFA's use Points),
	// in increasing Fraction order. The default has no manager step, so
	// a manager hears of these clocks only at a breach.
	FirstContactPoints []EscalationPoint
	// OnDutyRole is the chat role mentioned at the "mention" action.
	OnDutyRole string
	// OnDutyAddress receive the "note" and "mention" actions by email on
	// a desk without chat (DeskConfig.Chat false): "mention" always, and
	// "note" when the assignee's address is not known. Empty: such
	// points are only recorded.
	OnDutyAddress []Address
	// Holidays are school holiday periods per organisation name ("" is
	// the default for organisations without their own); they delay
	// clearance confirmation (see SchoolHolidays and ConfirmBy).
	Holidays map[string][]DateRange
	// ConfirmWindow is how long a cleared RFA waits for its requester to
	// confirm before it closes itself, counted in the desk's working time
	// minus the organisation's school holidays (default "5 working
	// days"); a reminder goes half-way. The zero Target never closes one
	// by itself.
	ConfirmWindow workcal.Target
	// ReopenGrace is how long after closing a reply reopens the RFA,
	// counted like ConfirmWindow (default "20 working days"); a later
	// reply starts a new RFA that links back.
	ReopenGrace workcal.Target
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

// DefaultFirstContactPoints are 50% note, 75% mention, 100% breach: the
// triage and first_update clocks of non-Critical RFAs cry no wolf to the
// manager before they have breached.
var DefaultFirstContactPoints = []EscalationPoint{
	{0.50, StepNoteAssignee},
	{0.75, StepMentionDuty},
	{1.00, StepBreach},
}

// pointsFor returns the escalation points of clock on r.
func (p *SLAPolicy) pointsFor(clock ClockName, r *RFA) []EscalationPoint {
	if (clock == ClockTriage || clock == ClockFirstUpdate) && r.Severity != SeverityCritical {
		return p.FirstContactPoints
	}
	return p.Points
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
		Calendar:       cal,
		Response:       must("72 hours"),
		Triage:         must("2 working hours"),
		FirstUpdate:    must("1 working hour"),
		Escalation:     must("1 working hour"),
		FieldsReminder: must("1 working day"),
		ConfirmWindow:  must("5 working days"),
		ReopenGrace:    must("20 working days"),
		Workaround: map[Severity]workcal.Target{
			SeverityCritical: must("4 working hours"),
			SeveritySerious:  must("2 working days"),
			SeverityModerate: must("3 working days"),
			SeverityMinor:    must("2 working weeks"),
		},
		Points:             DefaultEscalationPoints,
		FirstContactPoints: DefaultFirstContactPoints,
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
