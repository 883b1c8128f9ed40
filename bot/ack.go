package bot

import (
	"bytes"
	"io"
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
func (d *Desk) maybeAck(tx Tx, r *RFA, m *Mail) error {
	now := d.now()
	sender := strings.ToLower(m.From.Email)
	sent, err := tx.AutoReplies(sender)
	if err != nil {
		return err
	}
	if why := autoReplyBlock(m, d.cfg.Address.Email, sent, d.cfg.RateTiers, now); why != "" {
		r.addEvent(now, EventAutoSuppressed, "rfadesk", "no acknowledgement sent: "+why)
		return nil
	}
	om := d.composeAck(r, m)
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
}

type ackField struct{ Label, Value string }

func (d *Desk) composeAck(r *RFA, m *Mail) *OutgoingMail {
	v := ackView{
		Desk: d.cfg.Name, Ref: r.Ref(), Subject: r.Subject, Name: firstName(m.From),
		Target: d.cfg.ResponseTarget, Hours: d.cfg.Hours, Link: d.StatusURL(r), Flagged: r.Flag != "",
	}
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
			v.Fields = append(v.Fields, ackField{FieldLabel(f), value})
		}
	}
	for _, f := range rep.Missing() {
		v.Missing = append(v.Missing, FieldLabel(f))
	}
	inReplyTo, refs := threadHeaders(m)
	return &OutgoingMail{
		To:         []Address{replyTarget(m)},
		Subject:    "[" + r.Ref() + "] Received: " + r.Subject,
		Text:       render(ackText, v),
		HTML:       render(ackHTML, v),
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

func render(t interface {
	Execute(w io.Writer, data any) error
}, v ackView) string {
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		// The templates are fixed and tested; a failure is a programming error.
		panic("bot: ack template: " + err.Error())
	}
	return b.String()
}
