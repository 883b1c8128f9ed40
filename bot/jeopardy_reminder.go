package bot

import (
	"strings"
	"time"
)

// The one reminder about missing report fields. The acknowledgement
// lists what the report still lacks; if a required field is still
// missing SLAPolicy.FieldsReminder after the requester last wrote, one
// reminder is mailed to them, never a second. It is a point of the
// jeopardy schedule (NextPoint takes it into account), so it survives
// restarts, and it is recorded as an EventFieldsReminder in the same
// transaction as its mail, which is checked before sending. A reminder
// found more than FieldsReminder late (the desk was down that long, or
// the RFA predates reminders: an upgrade must not mail every old RFA at
// once) is recorded as not sent instead.

// EventFieldsReminder records the reminder about missing report fields.
// Text: the names of the fields missing, comma separated, or for a
// reminder found too late "not sent: ..." (it is never sent later).
const EventFieldsReminder EventKind = "fields-reminder"

// fieldsReminderAt returns when r's reminder about missing report fields
// is to go: FieldsReminder after the latest message from the requester
// (or a participant), or after receipt, moved to the next opening. ok is
// false when none is to go: the policy sends none, r is not an email or
// portal RFA, the requester has no address, r is held unverified,
// cleared or closed, no required field is missing, or the reminder went
// already.
func (p *SLAPolicy) fieldsReminderAt(r *RFA) (at time.Time, ok bool) {
	amount := p.amount(p.FieldsReminder)
	if amount <= 0 || r.Channel != ChannelEmail && r.Channel != ChannelPortal || r.Requester.Email == "" ||
		r.Status.Held() || r.Status == StatusCleared || r.Status == StatusClosed || len(r.Report.Missing()) == 0 {
		return time.Time{}, false
	}
	last := r.Created
	for _, e := range r.Events {
		if e.Kind == EventFieldsReminder {
			return time.Time{}, false
		}
	}
	for _, m := range r.Messages {
		if m.Direction == Inbound && m.At.After(last) {
			last = m.At
		}
	}
	c := clockCalc{wall: !p.FieldsReminder.Working(), cal: p.Calendar}
	at = c.add(last, amount)
	if !p.Calendar.IsOpen(at) {
		at = p.Calendar.NextOpen(at)
	}
	return at, !at.IsZero()
}

// remindFields mails r's requester the one reminder about the report
// fields still missing, if it is due by now, and records it; one more
// than FieldsReminder late is recorded as not sent. It reports whether
// it recorded one.
func (d *Desk) remindFields(tx Tx, r *RFA, now time.Time) (bool, error) {
	pol := d.jeop.policy()
	at, ok := pol.fieldsReminderAt(r)
	if !ok || at.After(now) {
		return false, nil
	}
	missing := r.Report.Missing()
	c := clockCalc{wall: !pol.FieldsReminder.Working(), cal: pol.Calendar}
	if c.measure(at, now) > pol.amount(pol.FieldsReminder) {
		r.addEvent(now, EventFieldsReminder, "rfadesk", "not sent: it was due "+
			at.In(pol.Calendar.Location()).Format("Mon 2 Jan 2006 15:04 MST")+", too long ago; missing "+strings.Join(missing, ", "))
		return true, nil
	}
	labels := make([]string, len(missing))
	for i, f := range missing {
		labels[i] = FieldLabel(f)
	}
	inReplyTo, refs := conversationHeaders(r)
	v := noticeView{Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Link: d.StatusURL(r), Desk: d.cfg.Name, Missing: labels}
	om := &OutgoingMail{
		To:        []Address{r.Requester},
		Subject:   d.rfaSubject(r, "fields_reminder", v),
		Text:      d.render("fields_reminder.txt.tmpl", v),
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "fields reminder",
	}
	if _, err := d.enqueueMail(tx, r.Num, om); err != nil {
		return false, err
	}
	r.Messages = append(r.Messages, Message{
		At: now, Direction: Outbound, From: d.cfg.Address, Subject: om.Subject,
		Text: om.Text, MessageID: om.MessageID, Auto: AutoReplied,
	})
	r.addEvent(now, EventFieldsReminder, "rfadesk", strings.Join(missing, ", "))
	return true, nil
}
