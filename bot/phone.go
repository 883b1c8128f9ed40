package bot

import (
	"context"
	"strings"
)

// PhoneCall is an RFA taken by telephone and logged by staff.
type PhoneCall struct {
	By      Actor
	Caller  Address
	Subject string
	// Description is what the caller said, in the staff member's words.
	Description string
	Report      Report
	// Organisation is the caller's school as staff name it; "" means
	// the one the caller's email domain belongs to, if any.
	Organisation string
}

// LogCall records an RFA taken by telephone. It then behaves like any
// other RFA: the caller is acknowledged by email (if an address was
// given), it is posted to the staff chat, and its clocks run from now.
// A call without a subject is refused with an error matching ErrInvalid.
func (d *Desk) LogCall(ctx context.Context, c PhoneCall) (*RFA, error) {
	if strings.TrimSpace(c.Subject) == "" {
		return nil, invalid("a phone RFA needs a subject")
	}
	c.Caller.Email = strings.ToLower(strings.TrimSpace(c.Caller.Email))
	reply := make(chan phoneReply, 1)
	if err := d.send(ctx, phoneEvent{c, reply}); err != nil {
		return nil, err
	}
	r, err := await(ctx, d, reply)
	if err != nil {
		return nil, err
	}
	return r.rfa, r.err
}

type phoneEvent struct {
	call  PhoneCall
	reply chan phoneReply
}

type phoneReply struct {
	rfa *RFA
	err error
}

func (phoneEvent) isEvent() {}

func (d *Desk) logCall(ctx context.Context, c PhoneCall) (*RFA, error) {
	var r *RFA
	err := d.store.Update(ctx, func(tx Tx) error {
		now := d.now()
		num, err := tx.NextRFANumber()
		if err != nil {
			return err
		}
		token, err := newToken(d.rand)
		if err != nil {
			return err
		}
		r = &RFA{
			Num: num, Status: StatusNew, Channel: ChannelPhone, Subject: cleanSubject(c.Subject),
			Created: now, Requester: c.Caller, Token: token, Report: c.Report,
		}
		if r.Report.CanReplicate == "" {
			r.Report.CanReplicate = ReplicateUnknown
		}
		parsed := ParseReport(c.Subject, c.Description)
		r.Report.Merge(parsed)
		if name := oneLine(c.Organisation); name != "" {
			r.Organisation, r.Trust = d.organisationNamed(name)
		} else if org := d.dir.Lookup(c.Caller.Domain()); org != nil {
			r.Organisation, r.Trust = org.Name, org.Trust
		}
		r.addEvent(now, EventCreated, c.By.String(), "RFA logged from a telephone call")
		r.Messages = append(r.Messages, Message{At: now, Direction: Inbound, From: c.Caller, Subject: r.Subject, Text: c.Description})
		if c.Caller.Email != "" {
			m := &Mail{From: c.Caller, Subject: r.Subject, Received: now}
			if err := d.maybeAck(tx, r, m); err != nil {
				return err
			}
		}
		if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatNewRFA}); err != nil {
			return err
		}
		return tx.PutRFA(r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}
