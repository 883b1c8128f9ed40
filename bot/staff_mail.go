package bot

import (
	"slices"
	"strings"
	"time"
)

// Staff by email: mail from a staff address ([staff] in the config) is
// not a request. A staff member's reply on an RFA is relayed to the
// requester exactly as a chat thread reply is (ActReply through the
// staff-action vocabulary); one whose first line is "note:" is an
// internal note (ActNote). Staff mail never opens an RFA and is never
// acknowledged. See recordStaffMail for every case.

// ResultStaff is the ingest result of a staff mail relayed to the
// requester or recorded as a note on its RFA.
const ResultStaff IngestResult = "staff"

// StaffMatcher says whose mail is staff mail: the From address (never
// the display name) is one of Addresses or its domain is one of
// Domains. Both hold lower-cased values (the config validates them);
// the zero StaffMatcher matches nobody.
type StaffMatcher struct {
	// Addresses are staff mailboxes ("priya@example.org"); a "+tag" on
	// the sender's address is ignored when comparing.
	Addresses []string
	// Domains are mail domains all of whose mail is staff mail
	// ("example.org"); subdomains are not included.
	Domains []string
}

// Matches reports whether mail from addr (an addr-spec, in any case) is
// staff mail.
func (s StaffMatcher) Matches(addr string) bool {
	addr = canonicalMailbox(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return false
	}
	if slices.ContainsFunc(s.Addresses, func(a string) bool { return canonicalMailbox(a) == addr }) {
		return true
	}
	return slices.Contains(s.Domains, addr[at+1:])
}

// staffNoticeWindow is how long after one notice to a staff member (a
// staff mail that names no RFA) no other goes to the same address:
// two robots cannot loop, and a staff member sending several such mails
// learns it once.
const staffNoticeWindow = time.Hour

// rateKeyStaffNotice is the RateState key of the notices to one staff
// address (a canonical mailbox).
func rateKeyStaffNotice(addr string) string { return "staff-notice:" + addr }

// recordStaffMail records mail from a staff address (d.cfg.Staff) under
// dedupe key, in the ingest transaction:
//
//   - A mail that failed sender authentication at our mail server
//     (AuthFail) or whose author is ambiguous may be forged: it is
//     relayed nowhere, answered by nobody, and becomes a dead letter
//     (the original goes to the failed folder) with a staff alert.
//   - An automatic mail (out-of-office, bounce-like, bulk) is ignored.
//   - A mail that names no RFA (by our Message-IDs or an [RFA-N] tag)
//     gets one short notice saying how to address an RFA (at most one
//     per address per staffNoticeWindow, within the automatic-mail rate
//     tiers); it is relayed nowhere.
//   - A mail that names an RFA is an ActNote when its first line starts
//     with "note:", or when it answers one of our internal mails about
//     the RFA (an escalation notice to managers) rather than the
//     conversation with the requester; otherwise it is an ActReply,
//     relayed to the requester with its stored attachments (those over
//     the desk's attachment cap are not carried, and the chat post says
//     so). Either way the chat thread shows it.
func (d *Desk) recordStaffMail(tx Tx, mailbox string, f *Fetched, key string) (Outcome, error) {
	m := f.Mail
	if !threadingAllowed(m) {
		why := "failed sender authentication (DMARC) at our mail server"
		if m.AuthorAmbiguous != "" {
			why = "has an ambiguous author (" + truncate(m.AuthorAmbiguous, 200) + ")"
		}
		u := &unrecordable{
			reason: "mail from the staff address " + m.From.Email + " " + why + ": it may be forged, so it was not relayed to anyone",
			from:   m.From.String(), subject: truncate(m.Subject, 200),
		}
		err := d.deadLetter(tx, mailbox, &Fetched{UID: f.UID, ParseErr: u}, key)
		return Outcome{Result: ResultDeadLetter, Disposition: ToFailed}, err
	}
	if m.Auto != AutoNone {
		d.log.Info("ignoring automatic mail from a staff address", "from", m.From.Email, "auto", m.Auto.String())
		return Outcome{Result: ResultIgnored}, tx.PutDedupe(key, 0)
	}
	r, _, err := d.thread(tx, m)
	if err != nil {
		return Outcome{}, err
	}
	if r == nil {
		return Outcome{Result: ResultIgnored}, d.noticeStaff(tx, m, key, "staff_unaddressed", staffMailView{Address: d.cfg.Address.Email})
	}
	text, internal := staffMailText(m.Reply)
	if !internal {
		if internal, err = answersInternalMail(tx, r, m); err != nil {
			return Outcome{}, err
		}
	}
	var carried []Attachment
	var skipped []string
	for _, a := range m.Attachments {
		if a.Stored && a.Data != nil {
			carried = append(carried, a)
		} else {
			skipped = append(skipped, a.Name+" ("+itoa(int(a.Size))+" bytes, over the desk's attachment limit)")
		}
	}
	if text == "" && len(carried) == 0 {
		d.log.Info("ignoring an empty staff mail", "from", m.From.Email, "rfa", r.Ref())
		return Outcome{RFA: r.Num, Result: ResultIgnored}, tx.PutDedupe(key, r.Num)
	}
	if text == "" {
		text = "Please see the attached file(s)."
	}
	if len(text) > maxStaffText {
		v := staffMailView{Address: d.cfg.Address.Email, Ref: r.Ref(), Limit: maxStaffText}
		return Outcome{RFA: r.Num, Result: ResultIgnored}, d.noticeStaff(tx, m, key, "staff_too_long", v)
	}
	a := StaffAction{Kind: ActReply, Text: text, Attachments: carried}
	if internal {
		a = StaffAction{Kind: ActNote, Text: text}
		skipped = nil
	}
	by := Actor{Name: strings.TrimSpace(m.From.Name), ID: "mail:" + m.From.Email}
	if by.Name == "" {
		by.Name = m.From.Email
	}
	if err := d.doInTx(tx, r, a, by); err != nil {
		return Outcome{}, err
	}
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Text: staffMailChatText(a, by, skipped, m.Attachments, d.RecordURL(r))}); err != nil {
		return Outcome{}, err
	}
	if err := tx.PutRFA(r); err != nil {
		return Outcome{}, err
	}
	return Outcome{RFA: r.Num, Result: ResultStaff}, tx.PutDedupe(key, r.Num)
}

// doInTx performs a staff action that can be taken inside a transaction
// already running on the desk goroutine (ActReply and ActNote), exactly
// as Do does it; the caller stores r.
func (d *Desk) doInTx(tx Tx, r *RFA, a StaffAction, by Actor) error {
	if err := a.validate(); err != nil {
		return err
	}
	msg := StaffMessage{By: by, Text: strings.TrimSpace(a.Text), Attachments: a.Attachments}
	switch a.Kind {
	case ActReply:
	case ActNote:
		msg.Internal, msg.Attachments = true, nil
	default:
		panic("bot: doInTx does not take " + string(a.Kind))
	}
	return d.reply(tx, r, msg)
}

// staffMailText is the text a staff mail's reply (quoted history
// already removed) relays, and whether it is an internal note: its first
// non-blank line starts with "note:" (in any case), which is dropped.
func staffMailText(reply string) (string, bool) {
	text := strings.TrimSpace(reply)
	const prefix = "note:"
	if len(text) >= len(prefix) && strings.EqualFold(text[:len(prefix)], prefix) {
		return strings.TrimSpace(text[len(prefix):]), true
	}
	return text, false
}

// answersInternalMail reports whether m directly answers one of our
// mails about r that never went to the requester (an escalation notice
// to the managers, say): such a mail is threaded to r, but its parent is
// not part of r's conversation. Relaying it would send staff talk to
// the requester, so it is recorded as a note instead.
func answersInternalMail(tx Tx, r *RFA, m *Mail) (bool, error) {
	parent := ""
	for _, ids := range [][]string{m.InReplyTo, m.References} {
		for i := len(ids) - 1; i >= 0 && parent == ""; i-- {
			parent = ids[i]
		}
		if parent != "" {
			break
		}
	}
	if parent == "" || slices.ContainsFunc(r.Messages, func(msg Message) bool { return msg.MessageID == parent }) {
		return false, nil
	}
	num, ok, err := tx.ThreadByMessageID(parent)
	return ok && num == r.Num, err
}

// noticeStaff sends stem's notice (staff_unaddressed, staff_too_long;
// v gets m's subject) to the sender of the staff mail m, threaded to
// it, unless an automatic mail may not go to them (autoReplyBlock) or
// they had a notice within staffNoticeWindow. It records the dedupe key
// (with no RFA) either way.
func (d *Desk) noticeStaff(tx Tx, m *Mail, key, stem string, v staffMailView) error {
	if err := tx.PutDedupe(key, 0); err != nil {
		return err
	}
	now, sender := d.now(), canonicalMailbox(m.From.Email)
	sent, err := tx.AutoReplies(sender)
	if err != nil {
		return err
	}
	st, err := tx.RateState(rateKeyStaffNotice(sender))
	if err != nil {
		return err
	}
	why := autoReplyBlock(m, d.cfg.Address.Email, sent, d.cfg.RateTiers, now)
	if why == "" && st.count(staffNoticeWindow, now) > 0 {
		why = "a notice went to this address within " + spell(staffNoticeWindow)
	}
	if why != "" {
		d.log.Info("no notice to a staff member", "to", m.From.Email, "why", why)
		return nil
	}
	inReplyTo, refs := threadHeaders(m)
	v.Subject = truncate(cleanSubject(m.Subject), SubjectQuoteLimit)
	if _, err := d.enqueueMail(tx, 0, &OutgoingMail{
		To: []Address{m.From}, Subject: d.subject(stem, v), Text: d.render(stem+".txt.tmpl", v),
		InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "staff notice",
	}); err != nil {
		return err
	}
	st.record(staffNoticeWindow, now)
	if err := tx.PutRateState(rateKeyStaffNotice(sender), st); err != nil {
		return err
	}
	return tx.PutAutoReplies(sender, append(pruneSent(sent, d.cfg.RateTiers, now), now))
}

// staffMailChatText is the chat-thread post for a staff mail recorded as
// action a by by: the text (cut to ChatTextLimit), the files carried, and
// those skipped.
func staffMailChatText(a StaffAction, by Actor, skipped []string, all []Attachment, recordURL string) string {
	var b strings.Builder
	if a.Kind == ActNote {
		b.WriteString("📝 " + by.String() + " wrote a note by email (internal, not sent):\n")
	} else {
		b.WriteString("✉️ " + by.String() + " replied by email; sent to the requester:\n")
	}
	text := a.Text
	if len(text) > ChatTextLimit {
		text = truncate(text, ChatTextLimit) + "\n(cut: the whole message is at " + recordURL + ")"
	}
	b.WriteString(text)
	for _, f := range a.Attachments {
		b.WriteString("\n📎 " + f.Name + " (" + f.ContentType + ", " + itoa(int(f.Size)) + " bytes)")
	}
	if a.Kind == ActNote && len(all) > 0 {
		b.WriteString("\n⚠️ A note keeps no files: " + itoa(len(all)) + " attachment(s) not kept")
	}
	if len(skipped) > 0 {
		b.WriteString("\n⚠️ Not attached to the email: " + strings.Join(skipped, "; "))
	}
	return b.String()
}
