package bot

import (
	"strings"
	"time"
)

// What an escalation point does when it fires: the history record and
// the action its EscalationPoint names. The scheduler (jeopardy.go)
// decides when.

// firePoints records and acts on every point of r due by now, in order.
// It reports how many points fired.
func (d *Desk) firePoints(tx Tx, r *RFA, now time.Time) (int, error) {
	n := 0
	for _, pp := range d.jeop.policy.pendingPoints(r) {
		if pp.at.After(now) {
			break
		}
		n++
		r.addEvent(now, EventJeopardy, "rfadesk", jeopardyText(pp.clock, pp.point))
		if err := d.escalationStep(tx, r, pp, now); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// escalationStep performs pp's action on r: a chat note to the
// assignee, a mention of the on-duty role, the manager by email and chat,
// or a breach record plus the manager.
func (d *Desk) escalationStep(tx Tx, r *RFA, pp pendingPoint, now time.Time) error {
	what := d.describePoint(r, pp)
	switch pp.point.Step {
	case StepNoteAssignee:
		to := r.Assignee
		if to == "" {
			to = "nobody yet (unassigned)"
		}
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Text: "For " + to + ": " + what})
	case StepMentionDuty:
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Mention: d.jeop.policy.OnDutyRole, Text: "On-duty staff: " + what})
	case StepManager:
		return d.tellManager(tx, r, "SLA jeopardy", what)
	case StepBreach:
		r.addEvent(now, EventBreach, "rfadesk", string(pp.clock))
		return d.tellManager(tx, r, "SLA breached", what)
	}
	d.log.Warn("jeopardy: unknown escalation step; recorded only", "step", pp.point.Step, "rfa", r.Ref())
	return nil
}

// describePoint says in one sentence which clock of r passed which point.
func (d *Desk) describePoint(r *RFA, pp pendingPoint) string {
	s := r.Ref() + " (" + r.Severity.Title()
	if r.Organisation != "" {
		s += ", " + r.Organisation
	}
	s += ") \"" + r.Subject + "\": the " + strings.ToLower(ClockLabel(pp.clock)) + " clock "
	if pp.point.Fraction >= 1 {
		s += "has run out its " + pp.target.String()
	} else {
		s += "has used " + percent(pp.point.Fraction) + "% of its " + pp.target.String()
	}
	if !pp.due.IsZero() {
		s += "; due " + pp.due.In(d.jeop.policy.Calendar.Location()).Format("Mon 2 Jan 2006 15:04 MST")
	}
	return s + "."
}

// tellManager mails the managers (when configured) and posts to the ops
// channel.
func (d *Desk) tellManager(tx Tx, r *RFA, label, what string) error {
	if len(d.cfg.Managers) > 0 {
		text := what + "\n\nOrganisation: " + r.Organisation + "\nRequester: " + r.Requester.String() +
			"\nAssignee: " + r.Assignee + "\nStatus: " + string(r.Status) + "\n"
		if _, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
			To: d.cfg.Managers, Subject: "[" + r.Ref() + "] " + label + ": " + r.Subject,
			Text: text, Auto: true, Purpose: "SLA escalation to manager",
		}); err != nil {
			return err
		}
	}
	return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatOps, Text: label + ": " + what})
}
