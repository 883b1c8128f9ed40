package bot

import (
	"cmp"
	"math"
	"slices"
	"time"

	"rfadesk/bot/workcal"
)

// ClockState is one SLA clock of an RFA as it stands at a moment. It is
// derived from the RFA's event history alone (see [SLAPolicy.Clocks]), so
// a restart, a severity change or a late-recorded event gives the same
// answer.
type ClockState struct {
	// Name is ClockResponse, ClockTriage, ClockFirstUpdate,
	// ClockWorkaround or ClockEscalation.
	Name ClockName
	// Target is the clock's target as configured ("4 working hours");
	// the zero Target for the workaround clock of an RFA awaiting triage.
	Target workcal.Target
	// Cycle counts the reopens before the current workaround cycle, or
	// the escalations before the current escalation one (0 for the
	// first); always 0 for response, triage and first_update.
	Cycle int
	// Start is when the clock started: receipt for response, triage and
	// first_update, receipt or the latest reopen for workaround, the
	// latest escalation for escalation.
	Start time.Time
	// Due is when the target runs out; zero when no target applies yet
	// (workaround before a severity is set). While paused it is the due
	// as if the clock resumed at the moment asked about, so it moves on
	// for as long as the pause lasts.
	Due time.Time
	// MetAt is when the clock was met; nil while it is not.
	MetAt *time.Time
	// BreachedAt is Due when the clock was not met before Due (it may be
	// met late: then both are set); nil otherwise.
	BreachedAt *time.Time
	// Paused is true while the RFA waits on the requester (workaround).
	Paused bool
	// Used is the working time the clock has run (elapsed time for a
	// wall-clock target), up to MetAt or the moment asked about; Left is
	// what remains of the target, never negative.
	Used, Left time.Duration
}

// Events that meet each clock. Clearing meets every clock still running:
// a resolution mailed to the requester is a reply, an update and more
// than a workaround, and a cleared RFA must not go on to breach.
var (
	// publicStaffMessage are the events of a staff message to the
	// requester, whatever it is (a reply, an update, a question, a
	// workaround, the clearance) and however staff sent it (chat, email,
	// API); the automatic acknowledgement, the severity notice and the
	// fields reminder are not among them.
	publicStaffMessage = []EventKind{EventStaffReply, EventStatusUpdate, EventAsked, EventWorkaround, EventCleared}

	// The response, first_update and escalation clocks are met by a
	// public staff message (escalation: one after the escalation), the
	// triage clock by a severity.
	responseMet    = publicStaffMessage
	firstUpdateMet = publicStaffMessage
	escalationMet  = publicStaffMessage
	triageMet      = []EventKind{EventSeverity}
	workaroundMet  = []EventKind{EventWorkaround, EventCleared}
)

// ClockLabel is a clock's name for people: "Response", "Triage", "First
// update", "Workaround", "Escalation".
func ClockLabel(name ClockName) string {
	switch name {
	case ClockResponse:
		return "Response"
	case ClockTriage:
		return "Triage"
	case ClockFirstUpdate:
		return "First update"
	case ClockWorkaround:
		return "Workaround"
	case ClockEscalation:
		return "Escalation"
	}
	return string(name)
}

// interval is a span of time in which a clock runs; a zero to is open.
type interval struct{ from, to time.Time }

// clockCalc is a clock's shape as the history gives it, before a moment
// is applied: what it measures, when it runs, when it was met.
type clockCalc struct {
	name   ClockName
	target workcal.Target
	cycle  int
	// since is the index in RFA.Events from which jeopardy events count
	// for this clock (the current cycle's reopen event, or 0).
	since  int
	start  time.Time
	amount time.Duration // 0: no target applies
	wall   bool
	// fixedDue, when set, is the due of an assigned release (Minor).
	fixedDue time.Time
	runs     []interval
	// pausedSince is set when the history ends in a pause.
	pausedSince time.Time
	met         time.Time // zero: not met
	cal         *workcal.Calendar
}

// Clocks returns the RFA's SLA clocks at now, in the order response (only
// for email and portal RFAs), triage, first_update, workaround,
// escalation (only once the requester escalated). The rules:
//
//   - response runs from receipt (Created) for the Response target and is
//     met by the first staff message mailed to the requester;
//   - triage runs from receipt (Created) for the Triage target and is met
//     when staff first set a severity;
//   - first_update runs from logging (Created) for the FirstUpdate target
//     and is met by the first public staff message (a reply, an update,
//     a question, a workaround or the clearance), however it was sent;
//   - workaround runs from when the problem was reported (Created) for
//     the current severity's target, so changing the severity recomputes
//     the due from that moment; it has no due while the RFA awaits
//     triage. It is met by a workaround or the clearance. From a question
//     to the requester (EventAsked) until their answer (EventResumed) it
//     is paused and its due moves by the paused working time. A Minor RFA
//     with an assigned release (RFA.Release) is due when the release
//     ships instead of at its target.
//   - escalation runs from the latest customer escalation that made the
//     manager the owner (EventOwner) for the Escalation target and is
//     met by the first public staff message after it, by the manager or
//     anyone else on the desk; each escalation is a new cycle.
//   - A reopen starts a new workaround cycle at the reopen moment, with
//     the then-current severity's target: pauses, the meeting event and
//     jeopardy points count afresh from it. response and first_update
//     are about first contact and have one cycle for the RFA's life.
//
// A clock is breached (BreachedAt = Due) once now reaches Due unmet, or
// when it was met after Due. Events later than now are ignored only for
// meeting a clock. Clocks is pure and safe for concurrent use.
func (p *SLAPolicy) Clocks(r *RFA, now time.Time) []ClockState {
	calcs := p.calcs(r)
	out := make([]ClockState, len(calcs))
	for i := range calcs {
		out[i] = calcs[i].state(now)
	}
	return out
}

// calcs derives every clock of r from its history.
func (p *SLAPolicy) calcs(r *RFA) []clockCalc {
	out := make([]clockCalc, 0, 5)
	if r.Status.Held() {
		// A web submission held unverified (portal.go) is not yet the
		// desk's work: no clock runs and no jeopardy point is pending
		// until the requester confirms it, which sets Created.
		return out
	}
	if r.Channel == ChannelEmail || r.Channel == ChannelPortal {
		out = append(out, p.simpleClock(r, ClockResponse, p.Response, responseMet))
	}
	out = append(out, p.simpleClock(r, ClockTriage, p.Triage, triageMet))
	out = append(out, p.simpleClock(r, ClockFirstUpdate, p.FirstUpdate, firstUpdateMet))
	out = append(out, p.workaroundClock(r))
	if c, ok := p.escalationClock(r); ok {
		out = append(out, c)
	}
	return out
}

func (p *SLAPolicy) simpleClock(r *RFA, name ClockName, t workcal.Target, metBy []EventKind) clockCalc {
	c := clockCalc{
		name: name, target: t, start: r.Created, amount: p.amount(t), wall: !t.Working(),
		runs: []interval{{from: r.Created}}, cal: p.Calendar,
	}
	c.met = firstOf(r.Events, 0, metBy)
	return c
}

// escalationClock is the clock of r's latest escalation, if any.
func (p *SLAPolicy) escalationClock(r *RFA) (clockCalc, bool) {
	c := clockCalc{name: ClockEscalation, cycle: -1, target: p.Escalation, amount: p.amount(p.Escalation),
		wall: !p.Escalation.Working(), cal: p.Calendar}
	for i, e := range r.Events {
		if e.Kind == EventOwner {
			c.cycle++
			c.since, c.start = i, e.At
		}
	}
	if c.cycle < 0 {
		return clockCalc{}, false
	}
	c.runs = []interval{{from: c.start}}
	c.met = firstOf(r.Events, c.since, escalationMet)
	return c, true
}

func (p *SLAPolicy) workaroundClock(r *RFA) clockCalc {
	c := clockCalc{name: ClockWorkaround, start: r.Created, cal: p.Calendar}
	for i, e := range r.Events {
		if e.Kind == EventReopened {
			c.cycle++
			c.since = i
			c.start = e.At
		}
	}
	if t, ok := p.Workaround[r.Severity]; ok && r.Severity != "" {
		c.target, c.amount, c.wall = t, p.amount(t), !t.Working()
	}
	c.met = firstOf(r.Events, c.since, workaroundMet)

	// Pauses, in time order (a late-recorded answer may carry an earlier
	// receipt time than the question's record).
	var evs []Event
	for _, e := range r.Events[c.since:] {
		if e.Kind == EventAsked || e.Kind == EventResumed {
			evs = append(evs, e)
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
	from, paused := c.start, false
	for _, e := range evs {
		at := e.At
		if at.Before(c.start) {
			at = c.start
		}
		switch {
		case e.Kind == EventAsked && !paused:
			c.runs = append(c.runs, interval{from, at})
			paused, c.pausedSince = true, at
		case e.Kind == EventResumed && paused:
			paused, c.pausedSince, from = false, time.Time{}, at
		}
	}
	if !paused {
		c.runs = append(c.runs, interval{from: from})
	}

	if r.Severity == SeverityMinor && r.Release != nil {
		if due := r.Release.Ships; due.After(c.start) {
			c.fixedDue = due
			c.amount = c.measure(c.start, due)
		}
	}
	return c
}

// firstOf returns the earliest time of an event of one of kinds at or
// after index since, or the zero Time.
func firstOf(evs []Event, since int, kinds []EventKind) time.Time {
	var first time.Time
	for _, e := range evs[since:] {
		if slices.Contains(kinds, e.Kind) && (first.IsZero() || e.At.Before(first)) {
			first = e.At
		}
	}
	return first
}

// measure is the clock's time between a and b: elapsed or working.
func (c *clockCalc) measure(a, b time.Time) time.Duration {
	if c.wall {
		return max(0, b.Sub(a))
	}
	return c.cal.Between(a, b)
}

// add is the instant at which d of the clock's time has passed from a.
func (c *clockCalc) add(a time.Time, d time.Duration) time.Time {
	if c.wall {
		return a.Add(d)
	}
	return c.cal.Add(a, d)
}

// reach returns the instant at which the clock has run x (x > 0),
// following its runs; ok is false if it is paused before getting there.
func (c *clockCalc) reach(x time.Duration) (time.Time, bool) {
	t := c.reachMany([]time.Duration{x})[0]
	return t, !t.IsZero()
}

// reachMany is reach for several amounts in increasing order, in one walk
// through the calendar: element i of the result is when the clock has
// run xs[i], or zero if it is paused before that. An amount at or past
// a fixed (release) due reaches it at that due.
func (c *clockCalc) reachMany(xs []time.Duration) []time.Time {
	out := make([]time.Time, len(xs))
	k := 0
	var done time.Duration // clock time used before cur
	for _, iv := range c.runs {
		cur := iv.from
		for k < len(xs) {
			need := xs[k] - done
			if !iv.to.IsZero() {
				w := c.measure(cur, iv.to)
				if w < need {
					done += w
					break
				}
			}
			cur = c.add(cur, need)
			out[k], done = cur, xs[k]
			k++
		}
		if k == len(xs) {
			break
		}
	}
	if !c.fixedDue.IsZero() {
		for i, x := range xs {
			if x >= c.amount || out[i].After(c.fixedDue) {
				out[i] = c.fixedDue
			}
		}
	}
	return out
}

// used is the clock's running time before until.
func (c *clockCalc) used(until time.Time) time.Duration {
	var sum time.Duration
	for _, iv := range c.runs {
		to := iv.to
		if to.IsZero() || to.After(until) {
			to = until
		}
		if iv.from.Before(to) {
			sum += c.measure(iv.from, to)
		}
	}
	return sum
}

// due is the clock's due as seen at end: the instant its runs reach the
// amount, or, paused, the due if it resumed at end.
func (c *clockCalc) due(end time.Time) time.Time {
	if t, ok := c.reach(c.amount); ok {
		return t
	}
	resume := end
	if c.pausedSince.After(resume) {
		resume = c.pausedSince
	}
	return c.add(resume, c.amount-c.used(resume))
}

// state applies the moment now.
func (c *clockCalc) state(now time.Time) ClockState {
	s := ClockState{Name: c.name, Target: c.target, Cycle: c.cycle, Start: c.start}
	s.Paused = !c.pausedSince.IsZero() && !c.pausedSince.After(now)
	end := now
	if !c.met.IsZero() && !c.met.After(now) {
		met := c.met
		s.MetAt, end = &met, met
	}
	if c.amount == 0 {
		return s
	}
	s.Used = c.used(end)
	s.Left = max(0, c.amount-s.Used)
	s.Due = c.due(end)
	if s.MetAt != nil && s.MetAt.After(s.Due) || s.MetAt == nil && !now.Before(s.Due) {
		due := s.Due
		s.BreachedAt = &due
	}
	return s
}

// pendingPoint is an escalation point of one clock still to fire.
type pendingPoint struct {
	clock ClockName
	point EscalationPoint
	// reached is when the clock reaches the point; at is when it is to
	// be delivered (reached, or the next opening for non-Critical RFAs).
	reached, at time.Time
	// due is the clock's due; zero if unknown.
	due    time.Time
	target workcal.Target
}

// pendingPoints lists the points of r's unmet clocks that have not fired
// in their cycle and whose moment is known (a paused clock's points that
// it has not reached wait for it to resume), sorted by delivery time.
// Cleared and closed RFAs have none. The answer depends on r's history
// only.
func (p *SLAPolicy) pendingPoints(r *RFA) []pendingPoint {
	if r.Status == StatusCleared || r.Status == StatusClosed {
		return nil
	}
	var out []pendingPoint
	for _, c := range p.calcs(r) {
		if c.amount <= 0 || !c.met.IsZero() {
			continue
		}
		// The unfired points and the due, in increasing amounts, reached
		// in one walk.
		var pts []EscalationPoint
		for _, pt := range p.pointsFor(c.name, r) {
			if !fired(r, c.since, c.name, pt) {
				pts = append(pts, pt)
			}
		}
		if len(pts) == 0 {
			continue
		}
		slices.SortStableFunc(pts, func(a, b EscalationPoint) int { return cmp.Compare(a.Fraction, b.Fraction) })
		xs := make([]time.Duration, len(pts)+1)
		for i, pt := range pts {
			xs[i] = min(c.amount, time.Duration(math.Round(float64(c.amount)*pt.Fraction)))
		}
		xs[len(pts)] = c.amount
		reached := c.reachMany(xs)
		due := reached[len(pts)]
		for i, pt := range pts {
			if reached[i].IsZero() {
				break // paused short of it
			}
			at := reached[i]
			if r.Severity != SeverityCritical && !p.Calendar.IsOpen(at) {
				if at = p.Calendar.NextOpen(at); at.IsZero() {
					continue
				}
			}
			out = append(out, pendingPoint{clock: c.name, point: pt, reached: reached[i], at: at, due: due, target: c.target})
		}
	}
	slices.SortStableFunc(out, func(a, b pendingPoint) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.reached.Compare(b.reached)
	})
	return out
}

// NextPoint returns when r's next jeopardy escalation point is to be
// delivered: the earliest point of an unmet clock that has not fired in
// its cycle, moved to the next opening unless r is Critical, or the
// reminder about missing report fields (fieldsReminderAt), or for a
// cleared RFA the reminder to confirm or the end of its confirmation
// window (lifecycleAt), whichever comes first. ok is false when none is
// to come (all met, closed, or paused short of every point, and no
// reminder or closure to come). It depends on r's history only and is
// what the desk's scheduler keeps per RFA.
func (p *SLAPolicy) NextPoint(r *RFA) (at time.Time, ok bool) {
	at, ok = p.fieldsReminderAt(r)
	if lc, lok := p.lifecycleAt(r); lok && (!ok || lc.Before(at)) {
		at, ok = lc, true
	}
	if pts := p.pendingPoints(r); len(pts) > 0 && (!ok || pts[0].at.Before(at)) {
		at, ok = pts[0].at, true
	}
	return at, ok
}

// jeopardyText is the EventJeopardy text of a point: "<clock> <percent>%".
func jeopardyText(clock ClockName, pt EscalationPoint) string {
	return string(clock) + " " + percent(pt.Fraction) + "%"
}

// fired reports whether point pt of clock has an EventJeopardy at or
// after index since.
func fired(r *RFA, since int, clock ClockName, pt EscalationPoint) bool {
	text := jeopardyText(clock, pt)
	for _, e := range r.Events[since:] {
		if e.Kind == EventJeopardy && e.Text == text {
			return true
		}
	}
	return false
}
