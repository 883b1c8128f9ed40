package bot

import (
	"strings"
	"time"
)

// Clearance and what the confirmation window does when nobody answers:
// the reminder half-way and the closure at its end.

// ConfirmURL is the link to r's status page that shows its "It's fixed"
// (fixed) or "Still broken" button. Opening it changes nothing (mail
// scanners open links); only the button's POST does.
func (d *Desk) ConfirmURL(r *RFA, fixed bool) string {
	if fixed {
		return d.StatusURL(r) + "&action=fixed#fixed"
	}
	return d.StatusURL(r) + "&action=broken#broken"
}

// deskTime formats t for people at the desk: "Mon 4 Jan 2027 09:00 GMT".
func (d *Desk) deskTime(t time.Time) string {
	return t.In(d.jeop.policy().Calendar.Location()).Format("Mon 2 Jan 2006 15:04 MST")
}

// confirmPrompt is the part of a clearance or reminder mail that asks
// the requester to confirm: the two links, replying, and when r closes
// by itself.
func (d *Desk) confirmPrompt(r *RFA) string {
	v := confirmPromptView{Ref: r.Ref(), FixedURL: d.ConfirmURL(r, true), BrokenURL: d.ConfirmURL(r, false)}
	if by, ok := d.jeop.policy().ConfirmBy(r); ok {
		v.CloseBy = d.deskTime(by)
	}
	return d.render("confirm_prompt.txt.tmpl", v)
}

// clear clears r (which the caller stores) within tx: the requester is
// mailed m's resolution and asked to confirm (confirmPrompt, in the mail
// only: its links carry the page's token), and the
// clearance is recorded (EventCleared: Actor the staff member, Text the
// resolution); it meets every running clock. A cleared or closed r is
// ErrNotAllowed. It is the one clearance path: callers clearing several
// RFAs (a parent's children) call it for each in their transaction.
func (d *Desk) clear(tx Tx, r *RFA, m StaffMessage) error {
	if r.Status == StatusCleared || r.Status == StatusClosed {
		return notAllowed(r, "is already "+string(r.Status))
	}
	resolution := strings.TrimSpace(m.Text)
	if resolution == "" {
		return notAllowed(r, "clearance has no text")
	}
	r.Status = StatusCleared
	r.addEvent(d.now(), EventCleared, m.By.String(), resolution)
	m.Text = resolution
	if err := d.mailRequesterWith(tx, r, m, "clearance", d.confirmPrompt(r)); err != nil {
		return err
	}
	return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard})
}

// advanceLifecycle sends the reminder to confirm cleared r or closes it,
// whichever is due by now, recording each (EventConfirmReminder,
// EventClosed with Actor ActorConfirmWindow) with its mail. A reminder
// found after the window's end is not sent: the closure is due. A
// closure found a whole window late (the desk was down that long, or
// the RFA was cleared before the desk closed RFAs by itself: an upgrade
// must not mail every old one at once) mails nobody. It reports how many
// it did.
func (d *Desk) advanceLifecycle(tx Tx, r *RFA, now time.Time) (int, error) {
	pol := d.jeop.policy()
	if by, ok := pol.ConfirmBy(r); ok && !by.After(now) {
		late := pol.schoolTimeAfter(r, by, pol.ConfirmWindow, 1)
		return 1, d.closeUnanswered(tx, r, by, !late.IsZero() && !now.Before(late))
	}
	at, ok := pol.confirmReminderAt(r)
	if !ok || at.After(now) {
		return 0, nil
	}
	by, _ := pol.ConfirmBy(r)
	inReplyTo, refs := conversationHeaders(r)
	v := noticeView{Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Link: d.StatusURL(r), Desk: d.cfg.Name, Prompt: d.confirmPrompt(r)}
	om := &OutgoingMail{
		To:        []Address{r.Requester},
		Subject:   d.rfaSubject(r, "confirm_reminder", v),
		Text:      d.render("confirm_reminder.txt.tmpl", v),
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "confirmation reminder",
	}
	if _, err := d.enqueueMail(tx, r.Num, om); err != nil {
		return 0, err
	}
	r.Messages = append(r.Messages, Message{
		At: now, Direction: Outbound, From: d.cfg.Address, Subject: om.Subject,
		Text: om.Text, MessageID: om.MessageID, Auto: AutoReplied,
	})
	r.addEvent(now, EventConfirmReminder, ActorConfirmWindow, "reminded the requester to confirm; the window ends "+d.deskTime(by))
	return 1, nil
}

// closeUnanswered closes cleared r whose confirmation window ended at by
// without an answer, and tells the requester until when a reply reopens
// it, unless found too late to mail (late).
func (d *Desk) closeUnanswered(tx Tx, r *RFA, by time.Time, late bool) error {
	why := "no answer by the end of the confirmation window (" + d.deskTime(by) + ")"
	if late {
		why += "; found too late to tell the requester"
	}
	if err := d.close(tx, r, ActorConfirmWindow, why, ""); err != nil {
		return err
	}
	if r.Requester.Email == "" || late {
		return nil
	}
	grace := ""
	if until, ok := d.jeop.policy().ReopenBy(r); ok && until.After(by) {
		grace = d.deskTime(until)
	}
	inReplyTo, refs := conversationHeaders(r)
	v := noticeView{Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Link: d.StatusURL(r), Desk: d.cfg.Name, ReopenBy: grace}
	_, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
		To:        []Address{r.Requester},
		Subject:   d.rfaSubject(r, "closure", v),
		Text:      d.render("closure.txt.tmpl", v),
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "closure notice",
	})
	return err
}
