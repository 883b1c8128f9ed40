package bot

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// IngestResult says what the desk did with one fetched message
// (Outcome.Result).
type IngestResult string

// Ingest results.
const (
	ResultCreated    IngestResult = "created"
	ResultAppended   IngestResult = "appended"
	ResultDuplicate  IngestResult = "duplicate"
	ResultDeadLetter IngestResult = "dead-letter"
	ResultBounce     IngestResult = "bounce"
	ResultIgnored    IngestResult = "ignored"
)

// recordOne decides and records one message.
func (d *Desk) recordOne(tx Tx, mailbox string, m *Fetched, pre readMail) (Outcome, error) {
	key := m.DedupeKey
	if m.Mail != nil && m.Mail.DedupeKey != "" {
		key = m.Mail.DedupeKey
	}
	if key == "" {
		return Outcome{}, errors.New("message has no dedupe key")
	}
	num, seen, err := tx.Dedupe(key)
	if err != nil {
		return Outcome{}, err
	}
	reusedOn := uint64(0)
	if seen && num != 0 && m.Mail != nil && strings.HasPrefix(key, "mid:") {
		other, err := d.differentMailSameID(tx, num, m.Mail)
		if err != nil {
			return Outcome{}, err
		}
		if other {
			// A different mail reusing a Message-ID (a broken mailer, or
			// someone who knows the id): it is recorded under its own key,
			// and its id is not indexed, so replies to the original still
			// thread to the original's RFA.
			reusedOn = num
			key = reusedKey(key, m.Mail)
			m.Mail.DedupeKey, m.Mail.MessageID = key, ""
			if num, seen, err = tx.Dedupe(key); err != nil {
				return Outcome{}, err
			}
		}
	}
	if seen {
		disp := ToProcessed
		if m.Mail == nil {
			disp = ToFailed
		}
		return Outcome{RFA: num, Result: ResultDuplicate, Disposition: disp}, nil
	}
	if m.Mail == nil {
		err := d.deadLetter(tx, mailbox, m, key)
		return Outcome{Result: ResultDeadLetter, Disposition: ToFailed}, err
	}
	mail := m.Mail
	now := d.now()
	if mail.Received.IsZero() {
		mail.Received = now
	}

	switch {
	case mail.Auto == AutoBounce:
		num, err := d.recordBounce(tx, mail)
		if err != nil {
			return Outcome{}, err
		}
		action := ResultBounce
		if num == 0 {
			action = ResultIgnored
		}
		return Outcome{RFA: num, Result: action}, tx.PutDedupe(key, num)
	case mail.LoopHeader || isDeskAddress(mail.From.Email, d.cfg.Address.Email):
		d.log.Info("ignoring our own mail come back", "message_id", mail.MessageID)
		return Outcome{Result: ResultIgnored}, tx.PutDedupe(key, 0)
	case d.cfg.Staff.Matches(mail.From.Email):
		return d.recordStaffMail(tx, mailbox, m, key) // staff_mail.go
	}

	target, named, err := d.thread(tx, mail)
	if err != nil {
		return Outcome{}, err
	}
	var follows *RFA // a closed RFA past its reopen grace this mail follows up
	if target != nil && target.IsParticipant(mail.From.Email) && threadingAllowed(mail) {
		if !d.startsNewRFA(target, mail) {
			if err := d.appendMail(tx, target, mail); err != nil {
				return Outcome{}, err
			}
			return Outcome{RFA: target.Num, Result: ResultAppended}, tx.PutDedupe(key, target.Num)
		}
		follows, target = target, nil
	}
	if target == nil && mail.Auto == AutoReplied {
		// An automatic reply that belongs to no RFA: nothing to record it on.
		return Outcome{Result: ResultIgnored}, tx.PutDedupe(key, 0)
	}
	if num, err := d.recordOverSenderLimit(tx, mail); err != nil || num != 0 {
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{RFA: num, Result: ResultAppended}, tx.PutDedupe(key, num)
	}
	flag := ""
	switch {
	case mail.AuthorAmbiguous != "":
		flag = ambiguousFlag(mail, named)
	case target != nil && !threadingAllowed(mail):
		flag = authFlag(mail, named)
	case target != nil:
		flag = fmt.Sprintf("names %s but %s is not its requester or a participant", named, mail.From.Email)
	case reusedOn != 0:
		flag = fmt.Sprintf("reuses the Message-ID of a different mail on %s", FormatRef(reusedOn))
	}
	r, err := d.createRFA(tx, mail, flag, pre)
	if err != nil {
		return Outcome{}, err
	}
	if err := d.countSenderRFA(tx, mail, r.Num); err != nil {
		return Outcome{}, err
	}
	if follows != nil {
		if err := d.linkFollowUp(tx, follows, r); err != nil {
			return Outcome{}, err
		}
	}
	return Outcome{RFA: r.Num, Result: ResultCreated}, tx.PutDedupe(key, r.Num)
}

var refTag = regexp.MustCompile(`(?i)\[\s*RFA-(\d+)\s*\]`)

// thread finds the RFA a mail belongs to: first by our (or earlier)
// Message-IDs in In-Reply-To and References, then by an [RFA-N] tag in
// the subject. It returns the RFA and the reference that named it. A web
// submission held unverified (Status.Held) is nobody's thread: mail
// naming it is new mail.
func (d *Desk) thread(tx Tx, m *Mail) (*RFA, string, error) {
	r, named, err := d.threadAny(tx, m)
	if r != nil && r.Status.Held() {
		return nil, "", err
	}
	return r, named, err
}

func (d *Desk) threadAny(tx Tx, m *Mail) (*RFA, string, error) {
	ids := append(slices.Clone(m.InReplyTo), m.References...)
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		if id == "" {
			continue
		}
		num, ok, err := tx.ThreadByMessageID(id)
		if err != nil {
			return nil, "", err
		}
		if ok {
			r, err := tx.RFA(num)
			if err != nil {
				return nil, "", err
			}
			return r, r.Ref(), nil
		}
	}
	if sm := refTag.FindStringSubmatch(m.Subject); sm != nil {
		num, err := ParseRef("RFA-" + sm[1])
		if err != nil {
			return nil, "", nil
		}
		r, err := tx.RFA(num)
		if errors.Is(err, ErrNotFound) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		return r, r.Ref(), nil
	}
	return nil, "", nil
}

// createRFA records a new RFA from m and queues its acknowledgement.
func (d *Desk) createRFA(tx Tx, m *Mail, flag string, pre readMail) (*RFA, error) {
	r, err := d.newRFA(tx, ChannelEmail, m, pre)
	if err != nil {
		return nil, err
	}
	r.Flag = flag
	if err := d.inboundOutage(tx, r, m); err != nil { // outage.go
		return nil, err
	}
	r.Participants = d.participants(m, r.Requester)
	r.addEvent(m.Received, EventCreated, m.From.Email, "RFA logged from email")
	if flag != "" {
		r.addEvent(d.now(), EventFlagged, "rfadesk", flag)
	}
	if err := d.addMessage(tx, r, m); err != nil {
		return nil, err
	}
	if err := d.announceRFA(tx, r, m); err != nil {
		return nil, err
	}
	return r, tx.PutRFA(r)
}

// newRFA numbers a new RFA from m, received by channel ch, and fills in
// what every channel's RFA starts with: status new, created at
// m.Received, its status token, the report read from it (capped), the
// suggested severity, and the organisation that owns m's sender's domain.
// It records nothing: the caller adds events and messages and stores it.
func (d *Desk) newRFA(tx Tx, ch Channel, m *Mail, pre readMail) (*RFA, error) {
	num, err := tx.NextRFANumber()
	if err != nil {
		return nil, err
	}
	token, err := newToken(d.rand)
	if err != nil {
		return nil, err
	}
	r := &RFA{
		Num:       num,
		Status:    StatusNew,
		Channel:   ch,
		Subject:   truncate(cleanSubject(m.Subject), SubjectQuoteLimit),
		Created:   m.Received,
		Requester: m.From,
		Token:     token,
		Report:    capReport(pre.report),
	}
	if r.Report.CanReplicate == "" {
		r.Report.CanReplicate = ReplicateUnknown
	}
	r.SuggestedSeverity = pre.suggested
	if org := d.dir.Lookup(m.From.Domain()); org != nil {
		r.Organisation, r.Trust = org.Name, org.Trust
	}
	return r, d.linkOutage(tx, r) // outage.go
}

// announceRFA queues what a new RFA sets off: the acknowledgement to the
// sender of m (maybeAck) and the card in the staff chat.
func (d *Desk) announceRFA(tx Tx, r *RFA, m *Mail) error {
	if err := d.maybeAck(tx, r, m); err != nil {
		return err
	}
	return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatNewRFA})
}

// appendMail adds a reply from a participant to its RFA.
func (d *Desk) appendMail(tx Tx, r *RFA, m *Mail) error {
	if m.Auto == AutoReplied {
		r.addEvent(m.Received, EventAutoReply, m.From.Email, "automatic reply received: "+truncate(m.Subject, 120))
		if err := d.addMessage(tx, r, m); err != nil {
			return err
		}
		return tx.PutRFA(r)
	}
	if err := d.addMessage(tx, r, m); err != nil {
		return err
	}
	r.addEvent(m.Received, EventMessage, m.From.Email, "reply received: "+truncate(m.Subject, 120))
	if err := d.takeRequesterWords(tx, r, m, "by email", inboundChatText(m, d.RecordURL(r))); err != nil {
		return err
	}
	return tx.PutRFA(r)
}

// takeRequesterWords does what a requester's words recorded on r (m,
// already added by addMessage) set off, whether they came by email or
// from the status page (via, as escalate takes it): the chat thread post
// chatText, resuming an RFA awaiting the requester, reopening a cleared
// or closed one that is "still broken", an escalation asked for in words,
// and the report fields the text fills. The caller stores r.
func (d *Desk) takeRequesterWords(tx Tx, r *RFA, m *Mail, via, chatText string) error {
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatThread, Text: chatText}); err != nil {
		return err
	}
	switch {
	case r.Status == StatusAwaitingRequester:
		r.Status = StatusOpen
		r.addEvent(m.Received, EventResumed, m.From.Email, "the requester replied: clock resumed")
	case r.Status == StatusCleared || r.Status == StatusClosed:
		if err := d.answerClearance(tx, r, m); err != nil { // lifecycle_reply.go
			return err
		}
	}
	if asksToEscalate(m.Subject, m.Reply, r.Subject) {
		if err := d.escalate(tx, r, Actor{Name: m.From.Name, ID: m.From.Email}, via); err != nil {
			return err
		}
	}
	filled := r.Report.Merge(capReport(ParseReport("", cutText(m.Reply, d.cfg.Limits.maxMessageText()))))
	if len(filled) == 0 {
		filled = answerReplicate(&r.Report, m.Reply)
	}
	if len(filled) > 0 {
		labels := make([]string, len(filled))
		for i, f := range filled {
			labels[i] = FieldLabel(f)
		}
		r.addEvent(m.Received, EventFieldsFilled, m.From.Email, "filled in: "+strings.Join(labels, ", "))
	}
	return nil
}

// addMessage appends m to r's conversation, stores its attachments and
// indexes its Message-ID for threading. A text longer than the desk's
// max_message_text (or a subject longer than MessageSubjectLimit) is cut
// on a rune boundary, the message is marked with FullSize, and the whole
// of it is stored as one more attachment, FullTextName.
func (d *Desk) addMessage(tx Tx, r *RFA, m *Mail) error {
	idx := len(r.Messages)
	atts := make([]Attachment, len(m.Attachments), len(m.Attachments)+1)
	for i, a := range m.Attachments {
		atts[i] = a
		atts[i].Data = nil
		if a.Stored && a.Data != nil {
			if err := tx.PutAttachment(r.Num, idx, i, a.Data); err != nil {
				return err
			}
		}
	}
	msg := Message{
		At: m.Received, Direction: Inbound, From: m.From, Subject: m.Subject,
		Text: m.Reply, MessageID: m.MessageID, Auto: m.Auto,
	}
	if limit := d.cfg.Limits.maxMessageText(); len(m.Reply) > limit || len(m.Subject) > MessageSubjectLimit {
		full := []byte("Subject: " + m.Subject + "\n\n" + m.Reply)
		if err := tx.PutAttachment(r.Num, idx, len(atts), full); err != nil {
			return err
		}
		atts = append(atts, Attachment{Name: FullTextName, ContentType: "text/plain; charset=utf-8", Size: int64(len(full)), Stored: true})
		msg.Subject, msg.Text, msg.FullSize = keptSubject(m.Subject), cutText(m.Reply, limit), len(full)
	}
	msg.Attachments = atts
	r.Messages = append(r.Messages, msg)
	if m.MessageID != "" {
		return tx.PutThread(m.MessageID, r.Num)
	}
	return nil
}

// participants are the Cc'd and To'd colleagues of the requester: other
// addresses in the same organisation (or the same domain when the
// organisation is unknown), never the desk itself.
func (d *Desk) participants(m *Mail, requester Address) []string {
	reqOrg := d.dir.Lookup(requester.Domain())
	var out []string
	for _, a := range append(slices.Clone(m.To), m.Cc...) {
		e := strings.ToLower(a.Email)
		if e == "" || isDeskAddress(e, d.cfg.Address.Email) || strings.EqualFold(e, requester.Email) || slices.Contains(out, e) {
			continue
		}
		same := a.Domain() == requester.Domain()
		if reqOrg != nil {
			same = d.dir.Lookup(a.Domain()) == reqOrg
		}
		if same {
			out = append(out, e)
		}
	}
	return out
}

// recordBounce records a delivery status notification against the RFA
// whose mail bounced. It returns that RFA's number, or 0.
func (d *Desk) recordBounce(tx Tx, m *Mail) (uint64, error) {
	if m.Bounce == nil || m.Bounce.OriginalMessageID == "" {
		return 0, nil
	}
	num, ok, err := tx.ThreadByMessageID(m.Bounce.OriginalMessageID)
	if err != nil || !ok {
		return 0, err
	}
	r, err := tx.RFA(num)
	if err != nil {
		return 0, err
	}
	text := "our mail to " + m.Bounce.Recipient + " bounced"
	if m.Bounce.Status != "" {
		text += " (" + m.Bounce.Status + ")"
	}
	if m.Bounce.Diagnostic != "" {
		text += ": " + truncate(m.Bounce.Diagnostic, 200)
	}
	r.addEvent(m.Received, EventBounce, "rfadesk", text)
	return num, tx.PutRFA(r)
}

// deadLetter records an unparsable message and tells staff
// (alertDeadLetter: at most one alert per interval).
func (d *Desk) deadLetter(tx Tx, mailbox string, m *Fetched, key string) error {
	dl := &DeadLetter{At: d.now(), Mailbox: mailbox, UID: m.UID, Key: key, Raw: m.Raw}
	if m.ParseErr != nil {
		dl.Reason = m.ParseErr.Error()
	}
	dl.From, dl.Subject = sniffHeaders(m.Raw)
	var u *unrecordable
	if errors.As(m.ParseErr, &u) {
		dl.From, dl.Subject = u.from, u.subject
	}
	if err := tx.PutDeadLetter(dl); err != nil {
		return err
	}
	if err := tx.PutDedupe(key, 0); err != nil {
		return err
	}
	full := deadLetterView{Mailbox: mailbox, ID: dl.ID, From: truncate(dl.From, 200), Subject: truncate(dl.Subject, 200), Reason: truncate(dl.Reason, 300)}
	short := deadLetterView{Mailbox: mailbox, ID: dl.ID, From: truncate(dl.From, 100), Subject: truncate(dl.Subject, 100), Reason: truncate(dl.Reason, 150)}
	return d.alertDeadLetter(tx, full, short)
}

// answerReplicate reads a bare answer ("Yes, every time") to the one
// question the acknowledgement still asked, whether the school can
// replicate the problem: the quoted question was stripped from the reply,
// so no label is left to find. Only a short first line that reads
// unambiguously as yes or no counts.
func answerReplicate(rep *Report, reply string) []string {
	missing := rep.Missing()
	if len(missing) != 1 || missing[0] != FieldCanReplicate {
		return nil
	}
	for _, line := range strings.Split(reply, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		first, _, _ := strings.Cut(strings.ToLower(line), " ")
		first = strings.Trim(first, ".,!;:-")
		switch first {
		case "yes", "y", "yep", "yeah", "no", "n", "nope", "always", "sometimes", "intermittently", "never":
		default:
			return nil // a sentence, not an answer
		}
		if len(line) > 80 {
			return nil
		}
		if v := ParseReplicate(line); v != ReplicateUnknown {
			rep.CanReplicate = v
			return []string{FieldCanReplicate}
		}
		return nil
	}
	return nil
}
