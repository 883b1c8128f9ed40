package bot

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// EscalationInterval is the least time between two customer escalations
// of one RFA that are passed on to the manager; more frequent ones are
// recorded but not re-sent, so a mail loop cannot spam the manager.
const EscalationInterval = time.Hour

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

var stillBroken = regexp.MustCompile(`(?i)\b(still\s+(broken|not\s+working|failing|happening)|not\s+(fixed|resolved)|isn'?t\s+(fixed|resolved))\b`)

// saysStillBroken reports whether a requester's reply to a clearance says
// the problem is not fixed.
func saysStillBroken(reply string) bool { return stillBroken.MatchString(reply) }

// Escalate records a customer escalation of RFA num (from the status
// page, say): the manager is told and the requester is told who owns it.
func (d *Desk) Escalate(ctx context.Context, num uint64, by Actor, via string) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		return d.escalate(tx, r, by, via)
	})
}

func (d *Desk) escalate(tx Tx, r *RFA, by Actor, via string) error {
	now := d.now()
	for i := len(r.Events) - 1; i >= 0; i-- {
		e := r.Events[i]
		if e.Kind == EventEscalated && now.Sub(e.At) < EscalationInterval {
			r.addEvent(now, EventEscalated, by.String(), "escalation repeated "+via+" (already escalated at "+e.At.Format(time.RFC3339)+"; manager not told again)")
			return nil
		}
	}
	owner := d.cfg.ManagerName
	if owner == "" {
		owner = "the support team manager"
	}
	r.addEvent(now, EventEscalated, by.String(), "escalated by the requester "+via+"; now owned by "+owner)
	if len(d.cfg.Managers) > 0 {
		text := "The requester has escalated " + r.Ref() + " " + via + ".\n\n" +
			"Organisation: " + r.Organisation + "\nRequester: " + r.Requester.String() +
			"\nSubject: " + r.Subject + "\nSeverity: " + r.Severity.Title() + "\nStatus: " + string(r.Status) + "\n"
		if _, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
			To: d.cfg.Managers, Subject: "[" + r.Ref() + "] Escalated by the requester: " + r.Subject,
			Text: text, Auto: true, Purpose: "escalation to manager",
		}); err != nil {
			return err
		}
	}
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Channel: ChatOps, Text: "Escalated by the requester " + via + ": " + r.Ref() + " (" + r.Organisation + ") " + r.Subject}); err != nil {
		return err
	}
	inReplyTo, refs := conversationHeaders(r)
	om := &OutgoingMail{
		To:      []Address{r.Requester},
		Subject: "[" + r.Ref() + "] Escalated: " + r.Subject,
		Text: "We have escalated " + r.Ref() + " as you asked. It is now owned by " + owner +
			", who will be in touch.\n\nFollow " + r.Ref() + ": " + d.StatusURL(r) + "\n\n" + d.cfg.Name + "\n",
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "escalation confirmation",
	}
	if _, err := d.enqueueMail(tx, r.Num, om); err != nil {
		return err
	}
	return nil
}
