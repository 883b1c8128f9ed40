package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotAllowed is returned when an action does not apply to an RFA in
// its current state (clearing a closed RFA, say). Its message says why.
var ErrNotAllowed = errors.New("not allowed")

// Actor names who did something, for the RFA's history: a staff member
// ("Priya Shah (discord:1234)"), a requester's address, or "rfadesk".
type Actor struct {
	// Name is how the person is shown and signed ("Priya Shah").
	Name string
	// ID identifies them ("discord:1234", "s.okafor@oakprimary.sch.uk").
	ID string
}

func (a Actor) String() string {
	switch {
	case a.Name == "":
		return a.ID
	case a.ID == "":
		return a.Name
	}
	return a.Name + " (" + a.ID + ")"
}

type actionEvent struct {
	num   uint64
	fn    func(tx Tx, r *RFA) error
	reply chan error
}

func (actionEvent) isEvent() {}

// act runs fn on RFA num inside one transaction on the desk goroutine,
// storing the RFA afterwards when fn succeeds.
func (d *Desk) act(ctx context.Context, num uint64, fn func(tx Tx, r *RFA) error) error {
	reply := make(chan error, 1)
	if err := d.send(ctx, actionEvent{num, fn, reply}); err != nil {
		return err
	}
	err, werr := await(ctx, d, reply)
	if werr != nil {
		return werr
	}
	return err
}

func (d *Desk) runAction(ctx context.Context, ev actionEvent) error {
	return d.store.Update(ctx, func(tx Tx) error {
		r, err := tx.RFA(ev.num)
		if err != nil {
			return fmt.Errorf("bot: %s: %w", FormatRef(ev.num), err)
		}
		if r.Status.Held() { // portal.go: nothing acts on it, nor mails a stranger
			return notAllowed(r, "is a web submission awaiting its requester's confirmation")
		}
		if err := ev.fn(tx, r); err != nil {
			return err
		}
		return tx.PutRFA(r)
	})
}

func notAllowed(r *RFA, why string) error {
	return fmt.Errorf("%s %s: %w", r.Ref(), why, ErrNotAllowed)
}

// SetSeverity records staff's severity for RFA num: the first one meets
// the triage clock, and the workaround clock is recomputed from it. The
// requester (when they have an address) is mailed the severity and the
// workaround target it brings (severityNotice). Setting the same
// severity again is a no-op.
func (d *Desk) SetSeverity(ctx context.Context, num uint64, sev Severity, by Actor) error {
	if _, err := ParseSeverity(string(sev)); err != nil {
		return err
	}
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if r.Severity == sev {
			return nil
		}
		changed := r.Severity != ""
		r.Severity = sev
		if r.Status == StatusNew {
			r.Status = StatusOpen
		}
		r.addEvent(d.now(), EventSeverity, by.String(), string(sev))
		if err := d.severityNotice(tx, r, changed); err != nil {
			return err
		}
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard})
	})
}

// severityNotice mails r's requester its severity, just set (changed: it
// replaced another), and the workaround target it brings with its due.
// It is automatic mail and meets no clock. A requester without an
// address is not mailed.
func (d *Desk) severityNotice(tx Tx, r *RFA, changed bool) error {
	if r.Requester.Email == "" {
		return nil
	}
	pol := d.jeop.policy()
	v := severityView{Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Link: d.StatusURL(r), Desk: d.cfg.Name, Severity: r.Severity.Title(), Changed: changed}
	if t, ok := pol.Workaround[r.Severity]; ok {
		v.WorkaroundTarget = t.String()
		for _, c := range pol.Clocks(r, d.now()) {
			if c.Name == ClockWorkaround && !c.Due.IsZero() && c.MetAt == nil {
				v.WorkaroundDue = c.Due.In(pol.Calendar.Location()).Format("Mon 2 Jan 2006 15:04 MST")
			}
		}
	}
	inReplyTo, refs := conversationHeaders(r)
	_, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
		To:        []Address{r.Requester},
		Subject:   d.rfaSubject(r, "severity_notice", v),
		Text:      d.render("severity_notice.txt.tmpl", v),
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "severity notice",
	})
	return err
}

// Assign makes assignee (a staff member's display name) the RFA's owner.
func (d *Desk) Assign(ctx context.Context, num uint64, assignee Actor, by Actor) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		r.Assignee = assignee.String()
		if r.Status == StatusNew {
			r.Status = StatusOpen
		}
		r.addEvent(d.now(), EventAssigned, by.String(), assignee.String())
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard})
	})
}

// AssignRelease plans RFA num's fix for a release shipping at ships; for
// a Minor RFA the workaround clock is then due when it ships.
func (d *Desk) AssignRelease(ctx context.Context, num uint64, rel Release, by Actor) error {
	if strings.TrimSpace(rel.Name) == "" || rel.Ships.IsZero() {
		return fmt.Errorf("bot: a release needs a name and a ship date: %w", ErrNotAllowed)
	}
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		r.Release = &rel
		r.addEvent(d.now(), EventRelease, by.String(), "planned for release "+rel.Name+", shipping "+rel.Ships.Format(time.RFC3339))
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard})
	})
}

// StaffMessage is what staff write to a requester (or, Internal, to
// each other).
type StaffMessage struct {
	By          Actor
	Text        string
	Attachments []Attachment
	// Internal notes stay in the history and are never mailed.
	Internal bool
	// Origin is the chat message the staff member wrote, if any: it gets
	// a reaction once the mail is accepted by the mail server.
	Origin *ChatOrigin
}

// Reply sends a staff member's message to the requester by email,
// signed with their name and threaded to the conversation. It meets the
// response clock. An internal message is recorded as a note only.
func (d *Desk) Reply(ctx context.Context, num uint64, m StaffMessage) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error { return d.reply(tx, r, m) })
}

// reply is Reply inside the caller's transaction, on r (which the caller
// stores): staff mail is relayed through it while it is ingested.
func (d *Desk) reply(tx Tx, r *RFA, m StaffMessage) error {
	if o := m.Origin; o != nil && o.ChannelID != "" && o.ChannelID == r.Chat.ThreadID && snowflakeLess(r.Chat.LastSeen, o.MessageID) {
		// Read and acted on in one transaction: a crash cannot make
		// the start-up catch-up send this reply again.
		r.Chat.LastSeen = o.MessageID
	}
	if m.Internal {
		r.addEvent(d.now(), EventNote, m.By.String(), m.Text)
		return nil
	}
	if err := d.mailRequester(tx, r, m, "reply"); err != nil {
		return err
	}
	if r.Status == StatusNew {
		r.Status = StatusOpen
	}
	r.addEvent(d.now(), EventStaffReply, m.By.String(), truncate(m.Text, 200))
	return nil
}

// PostUpdate publishes a status update: on the status page and by email
// to the requester. It meets the first-update clock.
func (d *Desk) PostUpdate(ctx context.Context, num uint64, m StaffMessage) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if err := d.mailRequester(tx, r, m, "status update"); err != nil {
			return err
		}
		if r.Status == StatusNew {
			r.Status = StatusOpen
		}
		r.addEvent(d.now(), EventStatusUpdate, m.By.String(), m.Text)
		return nil
	})
}

// Ask sends the requester a question and pauses the workaround clock
// until they reply.
func (d *Desk) Ask(ctx context.Context, num uint64, m StaffMessage) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if r.Status == StatusCleared || r.Status == StatusClosed {
			return notAllowed(r, "is "+string(r.Status)+": reopen it first")
		}
		if err := d.mailRequester(tx, r, m, "question"); err != nil {
			return err
		}
		r.Status = StatusAwaitingRequester
		r.addEvent(d.now(), EventAsked, m.By.String(), m.Text)
		return nil
	})
}

// Workaround records and sends a workaround; it meets the workaround clock.
func (d *Desk) Workaround(ctx context.Context, num uint64, m StaffMessage) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if err := d.mailRequester(tx, r, m, "workaround"); err != nil {
			return err
		}
		if r.Status == StatusNew || r.Status == StatusAwaitingRequester {
			r.Status = StatusOpen
		}
		r.addEvent(d.now(), EventWorkaround, m.By.String(), m.Text)
		return nil
	})
}

// Clear marks the RFA cleared with staff's resolution m: the requester
// is mailed it with links to confirm or say it is still broken, and the
// confirmation window starts (see lifecycle.go and Desk.clear). The RFAs
// linked to it are cleared with it, in the same transaction (links.go).
func (d *Desk) Clear(ctx context.Context, num uint64, m StaffMessage) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if err := d.clear(tx, r, m); err != nil {
			return err
		}
		return d.clearLinked(tx, r, m) // links.go
	})
}

// Reopen puts a cleared or closed RFA back in progress for reason,
// recorded with by: the workaround clock starts a new cycle, its
// escalation points fire again, and staff are told in the chat thread.
func (d *Desk) Reopen(ctx context.Context, num uint64, reason string, by Actor) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if r.Status != StatusCleared && r.Status != StatusClosed {
			return notAllowed(r, "is not cleared or closed")
		}
		return d.reopen(tx, r, by.String(), strings.TrimSpace(reason), "", false)
	})
}

// mailRequester queues m as an email to the requester, threaded to the
// conversation and signed with the staff member's name, and records it
// as an outbound message. A requester with no email address (a caller
// who gave none) is not mailed: the message is recorded only, for the
// status page and the history. purpose is the mail's Purpose and what
// staff_reply's subject says it is (staffReplyView.Kind).
func (d *Desk) mailRequester(tx Tx, r *RFA, m StaffMessage, purpose string) error {
	return d.mailRequesterWith(tx, r, m, purpose, "")
}

// mailRequesterWith is mailRequester with mailOnly, text that follows
// m's in the mail but is not recorded in the conversation (links that
// carry the status page's token, say); "" for none.
func (d *Desk) mailRequesterWith(tx Tx, r *RFA, m StaffMessage, purpose, mailOnly string) error {
	if strings.TrimSpace(m.Text) == "" {
		return notAllowed(r, purpose+" has no text")
	}
	v := staffReplyView{
		Text: strings.TrimSpace(m.Text), MailOnly: mailOnly, Signer: m.By.Name,
		Desk: d.cfg.Name, Ref: r.Ref(), Link: d.StatusURL(r), Subject: NeutralizeBidi(r.Subject), Kind: purpose,
	}
	subject := d.rfaSubject(r, "staff_reply", v)
	if r.Requester.Email == "" {
		r.Messages = append(r.Messages, Message{
			At: d.now(), Direction: Outbound, From: Address{Name: m.By.Name, Email: d.cfg.Address.Email},
			Subject: subject, Text: m.Text,
		})
		return nil
	}
	body := d.render("staff_reply.txt.tmpl", v)
	inReplyTo, refs := conversationHeaders(r)
	om := &OutgoingMail{
		To: []Address{r.Requester}, Subject: subject, Text: body,
		InReplyTo: inReplyTo, References: refs, Attachments: m.Attachments, Purpose: purpose,
		Origin: m.Origin,
	}
	if _, err := d.enqueueMail(tx, r.Num, om); err != nil {
		return err
	}
	atts := make([]Attachment, len(m.Attachments))
	for i, a := range m.Attachments {
		atts[i] = a
		atts[i].Data = nil
	}
	r.Messages = append(r.Messages, Message{
		At: d.now(), Direction: Outbound, From: Address{Name: m.By.Name, Email: d.cfg.Address.Email},
		Subject: subject, Text: m.Text, MessageID: om.MessageID, Attachments: atts,
	})
	return nil
}

// conversationHeaders threads a new mail onto r's conversation: it
// replies to the latest message with an id and references the first and
// the latest few.
func conversationHeaders(r *RFA) (string, []string) {
	var ids []string
	for _, m := range r.Messages {
		if m.MessageID != "" {
			ids = append(ids, m.MessageID)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	if len(ids) > 10 {
		ids = append(ids[:1:1], ids[len(ids)-9:]...)
	}
	return ids[len(ids)-1], ids
}
