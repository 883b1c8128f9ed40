package bot

import (
	"net/mail"
	"strings"
	"time"
)

// What an escalation point does when it fires: the history record and
// the action its EscalationPoint names. The scheduler (jeopardy.go)
// decides when.

// firePoints records and acts on every point of r due by now, in order,
// sends the reminder about missing report fields if it is due, and the
// reminder to confirm a clearance or the closure at the end of its
// window (advanceLifecycle). It reports how many points fired (each
// reminder or closure counts as one).
func (d *Desk) firePoints(tx Tx, r *RFA, now time.Time) (int, error) {
	n := 0
	for _, pp := range d.jeop.policy().pendingPoints(r) {
		if pp.at.After(now) {
			break
		}
		n++
		r.addEvent(now, EventJeopardy, "rfadesk", jeopardyText(pp.clock, pp.point))
		if err := d.escalationStep(tx, r, pp, now); err != nil {
			return 0, err
		}
	}
	sent, err := d.remindFields(tx, r, now)
	if err != nil {
		return 0, err
	}
	if sent {
		n++
	}
	done, err := d.advanceLifecycle(tx, r, now)
	return n + done, err
}

// escalationStep performs pp's action on r: a note to the assignee, a
// mention of the on-duty staff, the manager by email and chat, or a
// breach record plus the manager. With chat, note and mention are posts
// in the RFA's thread; without chat (an email-only desk) they are mailed
// (dutyMail).
func (d *Desk) escalationStep(tx Tx, r *RFA, pp pendingPoint, now time.Time) error {
	what := d.describePoint(r, pp)
	switch pp.point.Step {
	case StepNoteAssignee:
		if !d.cfg.Chat {
			return d.dutyMail(tx, r, true, what)
		}
		to := r.Assignee
		if to == "" {
			to = "nobody yet (unassigned)"
		}
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Text: "For " + to + ": " + what})
	case StepMentionDuty:
		if !d.cfg.Chat {
			return d.dutyMail(tx, r, false, what)
		}
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Mention: d.jeop.policy().OnDutyRole, Text: "On-duty staff: " + what})
	case StepManager:
		return d.tellManager(tx, r, "SLA jeopardy", what)
	case StepBreach:
		r.addEvent(now, EventBreach, "rfadesk", string(pp.clock))
		return d.tellManager(tx, r, "SLA breached", what)
	}
	d.log.Warn("jeopardy: unknown escalation step; recorded only", "step", pp.point.Step, "rfa", r.Ref())
	return nil
}

// dutyMail is a note (toAssignee) or mention by email, for a desk without
// chat: a note goes to the assignee when their address is known (an
// assignee recorded as "Name (address)", as staff acting by email or a
// name-and-address assignment are), otherwise, like a mention, to the
// policy's OnDutyAddress. With no one to mail the point is only recorded.
func (d *Desk) dutyMail(tx Tx, r *RFA, toAssignee bool, what string) error {
	to, label := d.jeop.policy().OnDutyAddress, "SLA note for on-duty staff"
	if toAssignee {
		if a, ok := assigneeAddress(r.Assignee); ok {
			to, label = []Address{a}, "SLA note"
		}
	}
	if len(to) == 0 {
		d.log.Warn("jeopardy: no address for a note or mention on an email-only desk; recorded only (set escalation.on_duty_address)", "rfa", r.Ref())
		return nil
	}
	assignee := r.Assignee
	if assignee == "" {
		assignee = "nobody yet (unassigned)"
	}
	text := what + "\n\nOrganisation: " + r.Organisation + "\nRequester: " + NeutralizeBidi(r.Requester.String()) +
		"\nAssignee: " + assignee + "\nStatus: " + string(r.Status) +
		"\n\nFollow " + r.Ref() + ": " + d.StatusURL(r) + "\n"
	_, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
		To: to, Subject: "[" + r.Ref() + "] " + label + ": " + NeutralizeBidi(r.Subject),
		Text: text, Auto: true, Purpose: "SLA note to staff",
	})
	return err
}

// assigneeAddress reads an email address from an assignee recorded as
// Actor.String(): "Name (address)" or a bare address.
func assigneeAddress(assignee string) (Address, bool) {
	id := strings.TrimSpace(assignee)
	if i := strings.LastIndex(id, " ("); i >= 0 && strings.HasSuffix(id, ")") {
		id = id[i+2 : len(id)-1]
	}
	a, err := mail.ParseAddress(id)
	if err != nil || strings.ContainsAny(a.Address, " ()") {
		return Address{}, false
	}
	return Address{Email: strings.ToLower(a.Address)}, true
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
		s += "; due " + pp.due.In(d.jeop.policy().Calendar.Location()).Format("Mon 2 Jan 2006 15:04 MST")
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
