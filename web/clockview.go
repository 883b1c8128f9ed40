package web

import (
	"strings"
	"time"

	"rfadesk/bot"
)

// clocksOf returns r's SLA clocks from s.Clocks, or nil when no clock
// source is configured.
func clocksOf(s Settings, r *bot.RFA) []bot.ClockState {
	if s.Clocks == nil {
		return nil
	}
	return s.Clocks(r)
}

// clockView is one SLA clock worded for the requester.
type clockView struct {
	Label  string // "Response", "Severity assessment" (requesterLabel)
	State  string // "due Tue 1 Dec 14:00 GMT", "met ...", "paused while ..."
	Target string // "4 working hours", "" when none applies yet
	Class  string // ck-due, ck-met, ck-late, ck-paused or ck-pending
}

// clockView words c for the requester as it stands at now, times in loc. A met clock
// says when (and that it was late, if it was); a paused one that it
// waits for the requester; a clock without a target (workaround awaiting
// triage) that the target comes with the assessment; an unmet one its
// due, or that it is overdue.
func clockViewOf(c bot.ClockState, now time.Time, loc *time.Location) clockView {
	v := clockView{Label: requesterLabel(c.Name), Target: targetText(c)}
	switch {
	case c.MetAt != nil && c.BreachedAt != nil:
		v.State, v.Class = "met "+shortTime(*c.MetAt, now, loc)+", after the target time of "+shortTime(*c.BreachedAt, now, loc), "ck-late"
	case c.MetAt != nil:
		v.State, v.Class = "met "+shortTime(*c.MetAt, now, loc), "ck-met"
	case c.Paused:
		v.State, v.Class = "paused while we wait for your reply", "ck-paused"
	case c.Due.IsZero():
		v.State, v.Class = "the target is set once we have assessed how severe the problem is", "ck-pending"
	case c.BreachedAt != nil:
		v.State, v.Class = "overdue: it was due "+shortTime(c.Due, now, loc), "ck-late"
	default:
		v.State, v.Class = "due "+shortTime(c.Due, now, loc), "ck-due"
	}
	return v
}

// requesterLabel is a clock's name for the requester: staff's words
// (bot.ClockLabel) but for triage ("Severity assessment") and escalation
// ("Manager's response to your escalation").
func requesterLabel(name bot.ClockName) string {
	switch name {
	case bot.ClockTriage:
		return "Severity assessment"
	case bot.ClockEscalation:
		return "Manager's response to your escalation"
	}
	return bot.ClockLabel(name)
}

// shortTime formats t in loc, the desk's zone, as "Tue 1 Dec 14:00 GMT",
// with the year added when it is not now's year.
func shortTime(t, now time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Year() != now.In(loc).Year() {
		return t.Format("Mon 2 Jan 2006 15:04 MST")
	}
	return t.Format("Mon 2 Jan 15:04 MST")
}

// publicEventText returns how the requester sees event e on the status
// page, and false if they do not see it at all. It is an allow-list:
// kinds not listed here (staff notes, flags, assignment, jeopardy and
// breach records, internal mail handling, kinds added later) stay hidden.
// Kinds whose text is written for staff (a reopen's reason, the
// escalation's bookkeeping) are shown in fixed words instead.
func publicEventText(e bot.Event) (string, bool) {
	switch e.Kind {
	case bot.EventCreated, bot.EventMessage, bot.EventFieldsFilled, bot.EventMailSent:
		if e.Text == "" {
			return string(e.Kind), true
		}
		return e.Text, true
	case bot.EventStatusUpdate:
		if t := strings.TrimSpace(e.Text); t != "" {
			return "Status update: " + t, true
		}
		return "Status update", true
	case bot.EventWorkaround:
		return "We sent you a workaround", true
	case bot.EventCleared:
		return "We sent you the fix and asked you to confirm that it is resolved", true
	case bot.EventReopened:
		return "Reopened: we are working on it again", true
	case bot.EventAsked:
		return "We asked you a question; the workaround clock is paused until you reply", true
	case bot.EventResumed:
		return "You replied; the workaround clock is running again", true
	case bot.EventEscalated:
		// bot's escalate records a repeat by mail within the interval as
		// "escalation repeated ...", and an escalation ending in
		// "; now owned by <owner>". The requester's reason is in
		// e.Quote, shown apart by the page.
		if strings.HasPrefix(e.Text, "escalation repeated") {
			return "You asked again to escalate; the manager had already been told", true
		}
		// The owner is the desk's config; the last separator is taken so
		// that records from before Event.Quote, whose Text held the
		// requester's reason, cannot name an owner through it.
		if i := strings.LastIndex(e.Text, "; now owned by "); i >= 0 {
			if owner := strings.TrimSpace(e.Text[i+len("; now owned by "):]); owner != "" {
				return "Escalated at your request; now owned by " + owner, true
			}
		}
		return "Escalated at your request", true
	}
	return "", false
}
