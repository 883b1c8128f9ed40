package bot

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// StatusURL is the requester's status page link for r.
func (d *Desk) StatusURL(r *RFA) string {
	return strings.TrimRight(d.cfg.BaseURL, "/") + "/rfa/" + r.Ref() + "?t=" + url.QueryEscape(r.Token)
}

// maybeAck queues the acknowledgement of a new RFA unless the policy
// forbids automatic mail to its sender; either way the history says so.
// A sender outside the configured organisations gets an acknowledgement
// that quotes nothing they wrote, and only within the desk-wide limit
// IntakeLimits.UnknownAcks (takeUnknownAck).
func (d *Desk) maybeAck(tx Tx, r *RFA, m *Mail) error {
	now := d.now()
	// Plus-tags and case variants of one mailbox share its limit.
	sender := canonicalMailbox(m.From.Email)
	sent, err := tx.AutoReplies(sender)
	if err != nil {
		return err
	}
	if why := autoReplyBlock(m, d.cfg.Address.Email, sent, d.cfg.RateTiers, now); why != "" {
		r.addEvent(now, EventAutoSuppressed, "rfadesk", "no acknowledgement sent: "+why)
		return nil
	}
	known := d.dir.Lookup(m.From.Domain()) != nil
	if !known {
		ok, err := d.takeUnknownAck(tx)
		if err != nil {
			return err
		}
		if !ok {
			lim := d.cfg.Limits.unknownAcks()
			r.addEvent(now, EventAutoSuppressed, "rfadesk", fmt.Sprintf("no acknowledgement sent: more than %d acknowledgements to senders outside the organisations within %s", lim.Max, spell(lim.Window)))
			return nil
		}
	}
	om := d.composeAck(r, m, known)
	d.outageAckNote(r, om) // outage.go
	if _, err := d.enqueueMail(tx, r.Num, om); err != nil {
		return err
	}
	r.Messages = append(r.Messages, Message{
		At: now, Direction: Outbound, From: d.cfg.Address, Subject: om.Subject,
		Text: om.Text, MessageID: om.MessageID, Auto: AutoReplied,
	})
	r.addEvent(now, EventAckQueued, "rfadesk", "acknowledgement queued to "+m.From.Email)
	sent = append(pruneSent(sent, d.cfg.RateTiers, now), now)
	return tx.PutAutoReplies(sender, sent)
}

// replyTarget is who automatic replies to m go to.
func replyTarget(m *Mail) Address {
	return m.From
}

// threadHeaders returns In-Reply-To and References for a reply to m.
func threadHeaders(m *Mail) (string, []string) {
	refs := slices.Clone(m.References)
	if len(refs) == 0 && len(m.InReplyTo) > 0 {
		refs = append(refs, m.InReplyTo[0])
	}
	if m.MessageID != "" {
		refs = append(refs, m.MessageID)
	}
	if len(refs) > 10 {
		refs = append(refs[:1:1], refs[len(refs)-9:]...)
	}
	return m.MessageID, refs
}

// ackView is what the acknowledgement templates show. Every value that
// comes from the sender is cut to its quote limit; for a sender outside
// the configured organisations (composeAck with known false) none is set.
// Contact is the desk's own (DeskConfig.Contact), shown to every sender.
type ackView struct {
	Desk    string
	Ref     string
	Subject string
	Name    string
	Fields  []ackField
	Missing []string
	Target  string
	Hours   string
	Link    string
	Flagged bool
	Contact Contact
}

type ackField struct{ Label, Value string }

// composeAck writes the acknowledgement of r to the sender of m. known
// says the sender is in a configured organisation: only then does it
// quote the sender's subject, name and report values (each cut to its
// limit); otherwise it carries the reference, the status link and the
// desk's own contact details only.
func (d *Desk) composeAck(r *RFA, m *Mail, known bool) *OutgoingMail {
	v := ackView{
		Desk: d.cfg.Name, Ref: r.Ref(),
		Target: d.cfg.ResponseTarget, Hours: d.cfg.Hours, Link: d.StatusURL(r), Flagged: r.Flag != "",
		Contact: d.cfg.Contact,
	}
	inReplyTo, refs := threadHeaders(m)
	if !known {
		for _, f := range r.Report.Missing() {
			v.Missing = append(v.Missing, FieldLabel(f))
		}
		return &OutgoingMail{
			To: []Address{replyTarget(m)}, Subject: d.rfaSubject(r, "ack", v),
			Text: d.render("ack.txt.tmpl", v), HTML: d.render("ack.html.tmpl", v),
			InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "acknowledgement",
		}
	}
	v.Subject, v.Name = truncate(r.Subject, SubjectQuoteLimit), truncate(firstName(m.From), 64)
	rep := r.Report
	if r.Organisation != "" {
		org := r.Organisation
		if r.Trust != "" {
			org += " (" + r.Trust + ")"
		}
		v.Fields = append(v.Fields, ackField{"Organisation", org})
	}
	for _, f := range ReportFields {
		if value := rep.Value(f); value != "" {
			v.Fields = append(v.Fields, ackField{FieldLabel(f), truncate(value, ValueQuoteLimit)})
		}
	}
	for _, f := range rep.Missing() {
		v.Missing = append(v.Missing, FieldLabel(f))
	}
	return &OutgoingMail{
		To:         []Address{replyTarget(m)},
		Subject:    d.rfaSubject(r, "ack", v),
		Text:       d.render("ack.txt.tmpl", v),
		HTML:       d.render("ack.html.tmpl", v),
		InReplyTo:  inReplyTo,
		References: refs,
		Auto:       true,
		Purpose:    "acknowledgement",
	}
}

func firstName(a Address) string {
	name := strings.TrimSpace(a.Name)
	if name == "" || strings.Contains(name, "@") {
		return ""
	}
	if i := strings.IndexAny(name, " ,"); i > 0 {
		return name[:i]
	}
	return name
}
