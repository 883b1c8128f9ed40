package bot

import (
	"context"
	"errors"
	"time"

	"rfadesk/bot/workcal"
)

// An RFA's life after staff clear it: clearance, confirmation, closure
// and reopening.
//
// Clearing (Desk.Clear, or d.clear inside a transaction) mails the
// requester the resolution with two links to the status page's "It's
// fixed" and "Still broken" buttons (a GET only opens the page; the
// buttons POST to ConfirmFixed and ReportStillBroken). Replying works
// too: classifyReply reads the everyday wordings. A confirmation closes
// the RFA (EventClosed); "not fixed" reopens it (EventReopened: the
// workaround clock starts a new cycle, jeopardy points re-arm, staff are
// told in the chat thread, the requester gets a short mail); anything
// else is appended for staff to read.
//
// Unanswered, a cleared RFA closes itself when its confirmation window
// (SLAPolicy.ConfirmWindow) ends, counted in the desk's working time
// minus the organisation's school holidays (ConfirmBy); one reminder
// (EventConfirmReminder) goes half-way. Both are points of the jeopardy
// schedule (NextPoint takes them into account), so they survive
// restarts, and each is recorded as an event in the same transaction as
// its mail, so it happens once.
//
// A reply to a closed RFA within SLAPolicy.ReopenGrace (ReopenBy)
// reopens it, unless it only confirms or thanks; a later one starts a
// new RFA, and both record the link (EventFollowUp).

// Lifecycle events. Actor is who did it: a staff member, the requester's
// address, or ActorConfirmWindow; Text says why.
const (
	// EventClosed records a closure. Text: why ("the requester confirmed
	// it is fixed by email", "no answer by the end of the confirmation
	// window"); Quote: the requester's words, if any.
	EventClosed EventKind = "closed"
	// EventConfirmReminder records the one reminder, half-way through the
	// confirmation window, that the requester has not confirmed.
	EventConfirmReminder EventKind = "confirm-reminder"
	// EventFollowUp links an RFA started by a reply to one closed for
	// longer than the reopen grace and that closed one. Text names the
	// other RFA ("follows RFA-3", "continued as RFA-9").
	EventFollowUp EventKind = "follow-up"
)

// errUnchanged aborts an action's transaction that has nothing to do, so
// that it writes nothing; the action returns nil.
var errUnchanged = errors.New("bot: nothing to change")

// ActorConfirmWindow is the Actor of the events the confirmation window
// causes (the reminder and the closure).
const ActorConfirmWindow = "confirmation window"

// SchoolHolidays returns the school holidays of organisation org: its
// own, or the default list ("") for an organisation without its own.
func (p *SLAPolicy) SchoolHolidays(org string) []DateRange {
	if hs, ok := p.Holidays[org]; ok && org != "" {
		return hs
	}
	return p.Holidays[""]
}

// inSchoolHoliday reports whether day is within one of hs.
func inSchoolHoliday(hs []DateRange, day workcal.Date) bool {
	for _, h := range hs {
		if !dateLess(day, h.From) && !dateLess(h.To, day) {
			return true
		}
	}
	return false
}

func dateLess(a, b workcal.Date) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	return a.Day < b.Day
}

// maxSchoolDays bounds the days schoolAdd walks, so that holidays
// covering everything cannot make it loop for ever.
const maxSchoolDays = 3 * 366

// schoolAdd returns the instant by which d of the desk's working time
// has passed since start, counting no day of hs. It is the calendar's
// Add when hs is empty; zero when the time never passes.
func schoolAdd(cal *workcal.Calendar, hs []DateRange, start time.Time, d time.Duration) time.Time {
	if len(hs) == 0 || d <= 0 {
		return cal.Add(start, d)
	}
	t := cal.NextOpen(start)
	for i := 0; i < maxSchoolDays && !t.IsZero(); i++ {
		day := cal.DateOf(t)
		midnight := time.Date(day.Year, day.Month, day.Day+1, 0, 0, 0, 0, cal.Location())
		if !inSchoolHoliday(hs, day) {
			left := cal.Between(t, midnight)
			if d <= left {
				return cal.Add(t, d)
			}
			d -= left
		}
		t = cal.NextOpen(midnight)
	}
	return time.Time{}
}

// schoolTimeAfter is target t after start for r's organisation, counted
// in working time minus its school holidays; zero for the zero Target.
func (p *SLAPolicy) schoolTimeAfter(r *RFA, start time.Time, t workcal.Target, fraction float64) time.Time {
	amount := time.Duration(float64(p.amount(t)) * fraction)
	if amount <= 0 {
		return time.Time{}
	}
	return schoolAdd(p.Calendar, p.SchoolHolidays(r.Organisation), start, amount)
}

// ClearedAt is when r was cleared, while it is cleared or closed since:
// the time of its latest EventCleared not followed by a reopen.
func (r *RFA) ClearedAt() (time.Time, bool) {
	if r.Status != StatusCleared && r.Status != StatusClosed {
		return time.Time{}, false
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		switch r.Events[i].Kind {
		case EventReopened:
			return time.Time{}, false
		case EventCleared:
			return r.Events[i].At, true
		}
	}
	return time.Time{}, false
}

// ClosedAt is when r was closed, while it is: the time of its latest
// EventClosed.
func (r *RFA) ClosedAt() (time.Time, bool) {
	if r.Status != StatusClosed {
		return time.Time{}, false
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Kind == EventClosed {
			return r.Events[i].At, true
		}
	}
	return time.Time{}, false
}

// ConfirmBy is when r's confirmation window ends, while r is cleared:
// ConfirmWindow after ClearedAt, counted in the desk's working time
// minus the school holidays of r's organisation, so an RFA cleared on
// the last day of term waits until the school is back. ok is false when
// r is not cleared or the policy closes nothing by itself.
func (p *SLAPolicy) ConfirmBy(r *RFA) (time.Time, bool) {
	cleared, ok := r.ClearedAt()
	if !ok || r.Status != StatusCleared {
		return time.Time{}, false
	}
	at := p.schoolTimeAfter(r, cleared, p.ConfirmWindow, 1)
	return at, !at.IsZero()
}

// ReopenBy is until when a reply reopens closed r: ReopenGrace after
// ClosedAt, counted like ConfirmBy. ok is false when r is not closed.
// With a zero ReopenGrace no reply reopens it.
func (p *SLAPolicy) ReopenBy(r *RFA) (time.Time, bool) {
	closed, ok := r.ClosedAt()
	if !ok {
		return time.Time{}, false
	}
	if p.ReopenGrace == (workcal.Target{}) {
		return closed, true
	}
	at := p.schoolTimeAfter(r, closed, p.ReopenGrace, 1)
	return at, !at.IsZero()
}

// confirmReminderAt is when the reminder to confirm r goes: half-way
// through its confirmation window. ok is false when none is to go: r is
// not cleared, the requester has no address or has written since the
// clearance, or the reminder went already.
func (p *SLAPolicy) confirmReminderAt(r *RFA) (time.Time, bool) {
	cleared, ok := r.ClearedAt()
	if !ok || r.Status != StatusCleared || r.Requester.Email == "" {
		return time.Time{}, false
	}
	for i := len(r.Events) - 1; i >= 0 && r.Events[i].Kind != EventCleared; i-- {
		if r.Events[i].Kind == EventConfirmReminder {
			return time.Time{}, false
		}
	}
	for _, m := range r.Messages {
		if m.Direction == Inbound && m.At.After(cleared) && m.Auto == AutoNone {
			return time.Time{}, false
		}
	}
	at := p.schoolTimeAfter(r, cleared, p.ConfirmWindow, 0.5)
	return at, !at.IsZero()
}

// lifecycleAt is r's next lifecycle point: the reminder or the end of
// the confirmation window, whichever comes first.
func (p *SLAPolicy) lifecycleAt(r *RFA) (time.Time, bool) {
	at, ok := p.ConfirmBy(r)
	if rem, rok := p.confirmReminderAt(r); rok && (!ok || rem.Before(at)) {
		at, ok = rem, true
	}
	return at, ok
}

// ConfirmFixed records that the requester (by, from the status page's
// "It's fixed" button) confirms cleared RFA num is fixed: it is closed.
// Confirming a closed RFA again changes nothing and returns nil; an RFA
// not cleared is ErrNotAllowed.
func (d *Desk) ConfirmFixed(ctx context.Context, num uint64, by Actor) error {
	err := d.act(ctx, num, func(tx Tx, r *RFA) error {
		switch r.Status {
		case StatusClosed:
			return errUnchanged
		case StatusCleared:
			return d.close(tx, r, by.String(), "the requester confirmed it is fixed on the status page", "")
		}
		return notAllowed(r, "is not cleared")
	})
	if err == errUnchanged {
		return nil
	}
	return err
}

// ReportStillBroken records that the requester (by, from the status
// page's "Still broken" button, with their words text, which may be
// empty) says cleared RFA num is not fixed, or closed RFA num within its
// reopen grace: it is reopened. Any other state is ErrNotAllowed (a
// closed RFA past its grace: the requester writes in for a new one).
func (d *Desk) ReportStillBroken(ctx context.Context, num uint64, by Actor, text string) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		switch r.Status {
		case StatusCleared:
		case StatusClosed:
			if until, ok := d.jeop.policy().ReopenBy(r); !ok || d.now().After(until) {
				return notAllowed(r, "was closed too long ago to reopen: write to us and we will open a new RFA")
			}
		default:
			return notAllowed(r, "is not cleared or closed")
		}
		return d.reopen(tx, r, by.String(), "the requester says it is not fixed (status page)", text, true)
	})
}

// close closes r (cleared) for why, recorded with actor and the
// requester's words quote; staff are told in the chat thread.
func (d *Desk) close(tx Tx, r *RFA, actor, why, quote string) error {
	r.Status = StatusClosed
	quote = cleanEscalationReason(quote)
	r.Events = append(r.Events, Event{At: d.now(), Kind: EventClosed, Actor: actor, Text: why, Quote: quote})
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Text: "Closed: " + why + "."}); err != nil {
		return err
	}
	return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard})
}

// reopen puts cleared or closed r back in progress for why (recorded
// with actor and the requester's words quote): the workaround clock
// starts a new cycle and its jeopardy points re-arm (SLAPolicy.Clocks),
// staff are told in the chat thread, and, when the requester reopened it
// (byRequester) and has an address, they get a short mail.
func (d *Desk) reopen(tx Tx, r *RFA, actor, why, quote string, byRequester bool) error {
	now := d.now()
	r.Status = StatusOpen
	quote = cleanEscalationReason(quote)
	r.Events = append(r.Events, Event{At: now, Kind: EventReopened, Actor: actor, Text: why, Quote: quote})
	chat := "Reopened: " + why + "."
	if quote != "" {
		chat += "\n" + quoteReason(quote)
	}
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Text: chat}); err != nil {
		return err
	}
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard}); err != nil {
		return err
	}
	if !byRequester || r.Requester.Email == "" {
		return nil
	}
	inReplyTo, refs := conversationHeaders(r)
	v := noticeView{Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Link: d.StatusURL(r), Desk: d.cfg.Name}
	_, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
		To:        []Address{r.Requester},
		Subject:   d.rfaSubject(r, "reopen", v),
		Text:      d.render("reopen.txt.tmpl", v),
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "reopen notice",
	})
	return err
}
