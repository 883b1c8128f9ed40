package bot

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// EscalationInterval is the least time between two customer escalations
// of one RFA that are passed on to the manager. More frequent ones are
// not passed on: by mail they are noted in the history (the mail is
// recorded anyway), from the status page they change nothing at all.
const EscalationInterval = time.Hour

// EventOwner records that a customer escalation made someone the RFA's
// owner. Text: the owner's name (DeskConfig.ManagerName). It starts the
// escalation clock (see SLAPolicy.Clocks).
const EventOwner EventKind = "owner"

// Owner is who owns r since the requester last escalated it (the
// manager, as DeskConfig.ManagerName names them), or "" if it was never
// escalated. It is read from the history (EventOwner).
func (r *RFA) Owner() string {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Kind == EventOwner {
			return r.Events[i].Text
		}
	}
	return ""
}

var escalateWord = regexp.MustCompile(`(?i)^\W*escalate\W*$`)

// asksToEscalate reports whether a requester's mail asks to escalate:
// the word "escalate" alone on the first non-empty line of the new text,
// or anywhere in the subject as a word.
func asksToEscalate(subject, reply, rfaSubject string) bool {
	// Replies carry the RFA's own subject back ("Re: [RFA-3] Received:
	// Cannot escalate permissions"): only words added to it count.
	subject = strings.ToLower(cleanSubject(subject))
	if rfaSubject = strings.ToLower(strings.TrimSpace(rfaSubject)); rfaSubject != "" {
		subject = strings.ReplaceAll(subject, rfaSubject, "")
	}
	for _, w := range strings.FieldsFunc(subject, func(r rune) bool {
		return !(r >= 'a' && r <= 'z')
	}) {
		if w == "escalate" {
			return true
		}
	}
	for _, line := range strings.Split(reply, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		return escalateWord.MatchString(line)
	}
	return false
}

// MaxEscalationReason is the most characters of a requester's
// escalation reason that are recorded; longer reasons are cut.
const MaxEscalationReason = 1000

// errEscalationRepeated aborts the transaction of an escalation repeated
// within EscalationInterval, so that it writes nothing at all.
var errEscalationRepeated = errors.New("bot: escalation repeated within the interval")

// Escalate records a customer escalation of RFA num made other than by
// mail (from the status page, say): the manager is told and the requester is told
// who owns it. via says where it came from in the desk's own words ("from
// the status page"); reason is the requester's own words, or "". The
// reason is never written into a sentence: it is kept in the event's
// Quote, shown quoted and apart (page, chat, mail), with bidirectional
// controls removed and cut to MaxEscalationReason characters.
//
// An escalation within EscalationInterval of the last one changes
// nothing (no event, no mail, no write of the RFA) and returns nil: the
// manager has been told already, and a flood of repeats cannot grow the
// record.
func (d *Desk) Escalate(ctx context.Context, num uint64, by Actor, via, reason string) error {
	err := d.act(ctx, num, func(tx Tx, r *RFA) error {
		if _, repeated := escalatedWithin(r, d.now()); repeated {
			return errEscalationRepeated
		}
		return d.escalateFor(tx, r, by, via, reason)
	})
	if errors.Is(err, errEscalationRepeated) {
		return nil
	}
	return err
}

// escalatedWithin returns when r was escalated less than
// EscalationInterval before now, if it was.
func escalatedWithin(r *RFA, now time.Time) (time.Time, bool) {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if e := r.Events[i]; e.Kind == EventEscalated && now.Sub(e.At) < EscalationInterval {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// escalate records a requester's escalation asked for by mail (via is
// "by email"); a repeat within EscalationInterval is noted as an event
// but not passed on (the mail itself is recorded anyway).
func (d *Desk) escalate(tx Tx, r *RFA, by Actor, via string) error {
	now := d.now()
	if at, repeated := escalatedWithin(r, now); repeated {
		r.addEvent(now, EventEscalated, by.String(), "escalation repeated "+via+" (already escalated at "+at.Format(time.RFC3339)+"; manager not told again)")
		return nil
	}
	return d.escalateFor(tx, r, by, via, "")
}

// quoteReason is reason as a block of its own: every line starts with
// "> ", so that no line of it can pass for one of the desk's.
func quoteReason(reason string) string {
	lines := strings.Split(reason, "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// cleanEscalationReason is reason without bidirectional controls,
// trimmed and cut to MaxEscalationReason characters.
func cleanEscalationReason(reason string) string {
	reason = strings.TrimSpace(NeutralizeBidi(strings.ToValidUTF8(reason, "\uFFFD")))
	if utf8.RuneCountInString(reason) > MaxEscalationReason {
		reason = strings.TrimSpace(string([]rune(reason)[:MaxEscalationReason]))
	}
	return reason
}

// escalateFor records the escalation: an event whose Text is the desk's
// sentence and whose Quote is the requester's reason, the manager as the
// RFA's owner (EventOwner, which starts the escalation clock), the
// manager's mail, the ops chat post, the refreshed chat card and the
// requester's confirmation naming the owner.
func (d *Desk) escalateFor(tx Tx, r *RFA, by Actor, via, reason string) error {
	now := d.now()
	reason = cleanEscalationReason(reason)
	owner := d.cfg.ManagerName
	if owner == "" {
		owner = "the support team manager"
	}
	r.Events = append(r.Events, Event{At: now, Kind: EventEscalated, Actor: by.String(),
		Text: "escalated by the requester " + via + "; now owned by " + owner, Quote: reason})
	r.addEvent(now, EventOwner, "rfadesk", owner)
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard}); err != nil {
		return err
	}
	v := d.staffNotice(r)
	v.Via, v.Owner, v.Within = via, owner, d.jeop.policy().Escalation.String()
	if reason != "" {
		v.Reason = quoteReason(reason)
	}
	if len(d.cfg.Managers) > 0 {
		if _, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
			To: d.cfg.Managers, Subject: d.rfaSubject(r, "escalation_staff", v),
			Text: d.render("escalation_staff.txt.tmpl", v), Auto: true, Purpose: "escalation to manager",
		}); err != nil {
			return err
		}
	}
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatOps, Text: d.staffChat(r, "escalation_staff", v)}); err != nil {
		return err
	}
	inReplyTo, refs := conversationHeaders(r)
	confirm := noticeView{Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Link: d.StatusURL(r), Desk: d.cfg.Name, Owner: owner}
	om := &OutgoingMail{
		To:        []Address{r.Requester},
		Subject:   d.rfaSubject(r, "escalation_confirm", confirm),
		Text:      d.render("escalation_confirm.txt.tmpl", confirm),
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "escalation confirmation",
	}
	_, err := d.enqueueMail(tx, r.Num, om)
	return err
}
