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
	v := d.staffNotice(r)
	v.What = d.describePoint(r, pp)
	switch pp.point.Step {
	case StepNoteAssignee:
		if !d.cfg.Chat {
			return d.dutyMail(tx, r, true, v)
		}
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Text: d.staffChat(r, "sla_note", v)})
	case StepMentionDuty:
		if !d.cfg.Chat {
			return d.dutyMail(tx, r, false, v)
		}
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Mention: d.jeop.policy().OnDutyRole, Text: d.staffChat(r, "sla_duty", v)})
	case StepManager:
		return d.tellManager(tx, r, "sla_jeopardy", v)
	case StepBreach:
		r.addEvent(now, EventBreach, "rfadesk", string(pp.clock))
		return d.tellManager(tx, r, "sla_breach", v)
	}
	d.log.Warn("jeopardy: unknown escalation step; recorded only", "step", pp.point.Step, "rfa", r.Ref())
	return nil
}

// dutyMail is a note (toAssignee) or mention by email, for a desk without
// chat: a note goes to the assignee when their address is known (an
// assignee recorded as "Name (address)", as staff acting by email or a
// name-and-address assignment are), otherwise, like a mention, to the
// policy's OnDutyAddress. With no one to mail the point is only recorded.
// The mail to the assignee is sla_note's, the one to on-duty staff
// sla_duty's.
func (d *Desk) dutyMail(tx Tx, r *RFA, toAssignee bool, v staffNoticeView) error {
	to, stem := d.jeop.policy().OnDutyAddress, "sla_duty"
	if toAssignee {
		if a, ok := assigneeAddress(r.Assignee); ok {
			to, stem = []Address{a}, "sla_note"
		}
	}
	if len(to) == 0 {
		d.log.Warn("jeopardy: no address for a note or mention on an email-only desk; recorded only (set escalation.on_duty_address)", "rfa", r.Ref())
		return nil
	}
	_, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
		To: to, Subject: d.rfaSubject(r, stem, v),
		Text: d.render(stem+".txt.tmpl", v), Auto: true, Purpose: "SLA note to staff",
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

// describePoint says in one sentence which clock of r passed which
// point (sla_point).
func (d *Desk) describePoint(r *RFA, pp pendingPoint) string {
	v := slaPointView{
		Ref: r.Ref(), Severity: r.Severity.Title(), Organisation: r.Organisation, Subject: NeutralizeBidi(r.Subject),
		Clock: strings.ToLower(ClockLabel(pp.clock)), Target: pp.target.String(),
		RunOut: pp.point.Fraction >= 1, Percent: percent(pp.point.Fraction),
	}
	if !pp.due.IsZero() {
		v.Due = pp.due.In(d.jeop.policy().Calendar.Location()).Format("Mon 2 Jan 2006 15:04 MST")
	}
	return d.render("sla_point.line.tmpl", v)
}

// tellManager mails the managers (when configured) and posts to the ops
// channel the point v describes, worded by stem (sla_jeopardy,
// sla_breach).
func (d *Desk) tellManager(tx Tx, r *RFA, stem string, v staffNoticeView) error {
	if len(d.cfg.Managers) > 0 {
		if _, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
			To: d.cfg.Managers, Subject: d.rfaSubject(r, stem, v),
			Text: d.render(stem+".txt.tmpl", v), Auto: true, Purpose: "SLA escalation to manager",
		}); err != nil {
			return err
		}
	}
	return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatOps, Text: d.staffChat(r, stem, v)})
}
