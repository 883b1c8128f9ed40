package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// This file holds the intake safeguards against hostile or runaway mail:
// how much of a mail the desk keeps and quotes, how many RFAs one sender
// may open, how many acknowledgements go to unknown domains, and how
// staff are told about it without being flooded themselves. Their state
// lives in the store as RateState records (ratestate.go).

// IntakeLimits are the safeguards' settings. Zero fields mean their
// defaults.
type IntakeLimits struct {
	// MaxMessageText is how much of a message's text an RFA keeps, in
	// bytes ([desk] max_message_text). A longer message is cut, marked
	// (Message.FullSize) and kept whole as an attachment named
	// FullTextName. 0 means DefaultMaxMessageText.
	MaxMessageText int
	// SenderRFAs limits the RFAs one sender opens. Beyond it, new mail
	// from that sender is recorded as a message on the sender's most
	// recent RFA, without a new RFA, card or acknowledgement, and staff
	// are told once per window. Zero means DefaultSenderRFAs.
	SenderRFAs RateTier
	// UnknownAcks limits acknowledgements to senders outside the
	// configured organisations, desk-wide. Beyond it the RFA is still
	// logged, without an acknowledgement, and staff are told once per
	// window. Zero means DefaultUnknownAcks.
	UnknownAcks RateTier
	// AlertInterval is the least time between two dead-letter alerts;
	// the dead letters in between are listed in one alert sent when the
	// interval ends. 0 means DefaultAlertInterval.
	AlertInterval time.Duration
}

// Defaults of IntakeLimits.
const (
	DefaultMaxMessageText = 256 << 10
	DefaultAlertInterval  = time.Hour
)

// DefaultSenderRFAs lets a person report several problems in a row but
// stops a runaway script (or a flood) after five RFAs in ten minutes.
var DefaultSenderRFAs = RateTier{Window: 10 * time.Minute, Max: 5}

// DefaultUnknownAcks bounds what a forged-sender flood can make the desk
// send to strangers.
var DefaultUnknownAcks = RateTier{Window: time.Hour, Max: 20}

func (l IntakeLimits) maxMessageText() int {
	if l.MaxMessageText > 0 {
		return l.MaxMessageText
	}
	return DefaultMaxMessageText
}

func (l IntakeLimits) senderRFAs() RateTier {
	if l.SenderRFAs.Max > 0 && l.SenderRFAs.Window > 0 {
		return l.SenderRFAs
	}
	return DefaultSenderRFAs
}

func (l IntakeLimits) unknownAcks() RateTier {
	if l.UnknownAcks.Max > 0 && l.UnknownAcks.Window > 0 {
		return l.UnknownAcks
	}
	return DefaultUnknownAcks
}

func (l IntakeLimits) alertInterval() time.Duration {
	if l.AlertInterval > 0 {
		return l.AlertInterval
	}
	return DefaultAlertInterval
}

// Caps on the sender's text that the desk keeps in short fields and
// quotes back in mail and chat (bytes; a cut value ends in "…").
const (
	// SubjectQuoteLimit caps an RFA's subject, which every mail about
	// the RFA quotes in its Subject: header.
	SubjectQuoteLimit = 200
	// MessageSubjectLimit caps the subject kept on a message; a longer
	// one is kept whole in the message's FullTextName attachment.
	MessageSubjectLimit = 1000
	// ValueQuoteLimit caps each report value kept on an RFA and quoted.
	ValueQuoteLimit = 300
	// maxComponents caps the number of components a report keeps.
	maxComponents = 20
)

// FullTextName is the name of the attachment that keeps the whole of a
// message whose text or subject was cut: "Subject: <subject>", a blank
// line, then the whole text.
const FullTextName = "full-message.txt"

// capReport cuts every value of rep to ValueQuoteLimit (and the list of
// components to maxComponents), so that what the desk keeps and quotes
// back is bounded whatever the sender wrote.
func capReport(rep Report) Report {
	rep.Site = truncate(rep.Site, ValueQuoteLimit)
	rep.Level = truncate(rep.Level, ValueQuoteLimit)
	rep.ActionTaken = truncate(rep.ActionTaken, ValueQuoteLimit)
	rep.ErrorMessage = truncate(rep.ErrorMessage, ValueQuoteLimit)
	if len(rep.Components) > maxComponents {
		rep.Components = rep.Components[:maxComponents]
	}
	for i, c := range rep.Components {
		rep.Components[i] = truncate(c, 100)
	}
	return rep
}

// cutText returns the longest prefix of s of at most n bytes that ends
// on a rune boundary.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isDeskAddress reports whether addr is the desk's own mailbox desk:
// compared case-insensitively, and with any "+tag" of the local part
// ignored (support+x@example.org is the desk support@example.org).
func isDeskAddress(addr, desk string) bool {
	return desk != "" && canonicalMailbox(addr) == canonicalMailbox(desk)
}

// canonicalMailbox lower-cases addr and drops a "+tag" from its local part.
func canonicalMailbox(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, domain := addr[:at], addr[at:]
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[:plus]
	}
	return local + domain
}

// tellStaff queues a staff alert: a post to the ops channel (with chat)
// and a mail to AlertTo (when set), due at due. It returns the outbox ids.
func (d *Desk) tellStaff(tx Tx, subject, text, purpose string, due time.Time) ([]uint64, error) {
	now := d.now()
	var ids []uint64
	if d.cfg.Chat {
		id, err := tx.Enqueue(&OutboxItem{Kind: OutboxChat, Created: now, NextAttempt: due, Chat: &ChatPost{Op: ChatOps, Text: text}})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(d.cfg.AlertTo) > 0 {
		mid, err := d.newMessageID(0)
		if err != nil {
			return nil, err
		}
		id, err := tx.Enqueue(&OutboxItem{Kind: OutboxMail, Created: now, NextAttempt: due, Mail: &OutgoingMail{
			To: d.cfg.AlertTo, Subject: subject, Text: text, MessageID: mid, Auto: true, Purpose: purpose,
		}})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// takeUnknownAck reports whether an acknowledgement may go to a sender
// outside the configured organisations, counting it if so. Over the
// desk-wide limit it tells staff, once per window.
func (d *Desk) takeUnknownAck(tx Tx) (bool, error) {
	lim, now := d.cfg.Limits.unknownAcks(), d.now()
	st, err := tx.RateState(RateKeyUnknownAcks)
	if err != nil {
		return false, err
	}
	if st.count(lim.Window, now) < lim.Max {
		st.record(lim.Window, now)
		return true, tx.PutRateState(RateKeyUnknownAcks, st)
	}
	if !st.Told.IsZero() && now.Sub(st.Told) < lim.Window {
		return false, nil
	}
	v := alertView{Max: lim.Max, Window: spell(lim.Window)}
	if _, err := d.tellStaff(tx, d.subject("unknown_acks_paused", v), d.render("unknown_acks_paused.txt.tmpl", v), "staff alert", now); err != nil {
		return false, err
	}
	st.Told = now
	return false, tx.PutRateState(RateKeyUnknownAcks, st)
}

// recordOverSenderLimit records m on its sender's most recent RFA when
// the sender has opened SenderRFAs' worth of RFAs within its window and
// that RFA is not closed, and returns that RFA's number (0 when m may
// open an RFA of its own). A sender is its canonical mailbox: plus-tags
// and case variants count as one. The
// mail becomes a message of that RFA (its Message-ID indexed, so replies
// to it thread there) without a chat post or an acknowledgement; staff
// are told once per window. A mail whose author is ambiguous, or that
// failed sender authentication, is never recorded this way: only its
// From would tie it to the RFA.
func (d *Desk) recordOverSenderLimit(tx Tx, m *Mail) (uint64, error) {
	sender := canonicalMailbox(m.From.Email)
	if sender == "" || m.AuthorAmbiguous != "" || !threadingAllowed(m) {
		return 0, nil
	}
	lim := d.cfg.Limits.senderRFAs()
	key := RateKeySender(sender)
	st, err := tx.RateState(key)
	if err != nil {
		return 0, err
	}
	if st.RFA == 0 || st.count(lim.Window, m.Received) < lim.Max {
		return 0, nil
	}
	r, err := tx.RFA(st.RFA)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if r.Status == StatusClosed {
		return 0, nil
	}
	if err := d.addMessage(tx, r, m); err != nil {
		return 0, err
	}
	r.addEvent(m.Received, EventMessage, m.From.Email, fmt.Sprintf("new mail recorded here, not as a new RFA: the sender opened %d RFAs within %s: %s",
		lim.Max, spell(lim.Window), truncate(m.Subject, 120)))
	if now := d.now(); st.Told.IsZero() || now.Sub(st.Told) >= lim.Window {
		v := alertView{Max: lim.Max, Window: spell(lim.Window), Sender: sender, Ref: r.Ref()}
		if _, err := d.tellStaff(tx, d.subject("sender_flood", v), d.render("sender_flood.txt.tmpl", v), "staff alert", now); err != nil {
			return 0, err
		}
		st.Told = now
		if err := tx.PutRateState(key, st); err != nil {
			return 0, err
		}
	}
	return r.Num, tx.PutRFA(r)
}

// countSenderRFA records that m's sender (its canonical mailbox) opened
// RFA num.
func (d *Desk) countSenderRFA(tx Tx, m *Mail, num uint64) error {
	sender := canonicalMailbox(m.From.Email)
	if sender == "" {
		return nil
	}
	lim := d.cfg.Limits.senderRFAs()
	key := RateKeySender(sender)
	st, err := tx.RateState(key)
	if err != nil {
		return err
	}
	st.record(lim.Window, m.Received)
	st.RFA = num
	return tx.PutRateState(key, st)
}

// maxAlertLines is how many dead letters one batched alert lists.
const maxAlertLines = 100

// alertDeadLetter tells staff about a dead letter: at once when no
// alert went out within the alert interval (dead_letter, with full),
// otherwise by adding its line (dead_letters.line, with short, whose
// values are cut shorter) to the one batched alert (dead_letters) that
// goes out when the interval ends. So
// a flood of bad mail makes at most one alert per interval, which lists
// the rest.
func (d *Desk) alertDeadLetter(tx Tx, full, short deadLetterView) error {
	if !d.cfg.Chat && len(d.cfg.AlertTo) == 0 {
		return nil
	}
	now, interval := d.now(), d.cfg.Limits.alertInterval()
	st, err := tx.RateState(RateKeyDeadLetterAlert)
	if err != nil {
		return err
	}
	if st.Told.IsZero() || now.Sub(st.Told) >= interval {
		full.Interval = spell(interval)
		if _, err := d.tellStaff(tx, d.subject("dead_letter", full), d.render("dead_letter.txt.tmpl", full), "dead-letter alert", now); err != nil {
			return err
		}
		return tx.PutRateState(RateKeyDeadLetterAlert, RateState{Told: now})
	}
	short.Interval = spell(interval)
	line := d.render("dead_letters.line.tmpl", short)
	if st.Told.After(now) && len(st.Items) > 0 {
		found, err := d.addToAlert(tx, st.Items, line, st.Listed)
		if err != nil {
			return err
		}
		if found {
			st.Listed++
			return tx.PutRateState(RateKeyDeadLetterAlert, st)
		}
	}
	due := st.Told.Add(interval)
	if st.Told.After(now) {
		due = st.Told // the batched alert left the outbox early: keep its time
	}
	ids, err := d.tellStaff(tx, d.subject("dead_letters", short), d.render("dead_letters.txt.tmpl", short)+line+"\n", "dead-letter alert", due)
	if err != nil {
		return err
	}
	return tx.PutRateState(RateKeyDeadLetterAlert, RateState{Told: due, Items: ids, Listed: 1})
}

// addToAlert appends line to the waiting outbox items ids (a batched
// alert); listed is how many lines they hold. It reports whether it
// found them still waiting.
func (d *Desk) addToAlert(tx Tx, ids []uint64, line string, listed int) (bool, error) {
	switch {
	case listed > maxAlertLines:
		return true, nil
	case listed == maxAlertLines:
		line = d.render("dead_letters.line.tmpl", deadLetterView{More: true})
	}
	found := false
	for _, id := range ids {
		it, err := tx.OutboxItem(id)
		if errors.Is(err, ErrNotFound) {
			continue // sent already
		}
		if err != nil {
			return false, err
		}
		if it.Attempts > 0 {
			continue
		}
		switch {
		case it.Chat != nil:
			it.Chat.Text += line + "\n"
		case it.Mail != nil:
			it.Mail.Text += line + "\n"
		}
		if err := tx.UpdateOutbox(it); err != nil {
			return false, err
		}
		found = true
	}
	return found, nil
}

func containsID(ids []uint64, id uint64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// spell writes a duration for people: "1h", "10m", "1h30m".
func spell(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
