package bot

// The views: what each template receives (templates.go). Every part of
// a stem (subject, text, HTML, chat, line) receives its stem's view.
// Values a sender controls are passed with bidirectional controls
// removed; a text part shows them as they are (plain text), an HTML
// part escapes them, a subject or line is made one line.
//
//	stem                 view                 the message
//	ack                  ackView (ack.go)     the acknowledgement (subject, txt, html)
//	staff_reply          staffReplyView       a staff reply, update, question, workaround or clearance (subject, txt)
//	confirm_prompt       confirmPromptView    the "Is it fixed?" links of a clearance or reminder (txt)
//	confirm_reminder     noticeView           the reminder to confirm a clearance (subject, txt)
//	closure              noticeView           closed after no answer (subject, txt)
//	reopen               noticeView           reopened at the requester's word (subject, txt)
//	severity_notice      severityView         the severity set by staff (subject, txt)
//	fields_reminder      noticeView           the one reminder of missing report fields (subject, txt)
//	escalation_confirm   noticeView           escalated at the requester's request (subject, txt)
//	submission_confirm   submissionView       confirm a web-form submission (subject, txt)
//	release_notice       releaseView          the release a fix ships in, or its move (subject, txt)
//	outage_notice        outageView           an outage announced: mail to those affected, ops post (subject, txt, chat)
//	outage_update        outageView           an outage's update (subject, txt, chat)
//	outage_resolved      outageView           an outage's all-clear (subject, txt, chat)
//	outage_ack_note      outageView           the acknowledgement's note of a linked outage: Title, Desk, StatusURL (line)
//	outage_page          staffNoticeView      an organisation's outage mail: on-duty staff paged (subject, txt, chat)
//	escalation_staff     staffNoticeView      escalated by the requester: the managers' mail, the ops post (subject, txt, chat)
//	sla_point            slaPointView         which clock of an RFA passed which point (line)
//	sla_note             staffNoticeView      a point's note for the assignee (chat; mail on a desk without chat)
//	sla_duty             staffNoticeView      a point's call to on-duty staff (chat; mail on a desk without chat)
//	sla_jeopardy         staffNoticeView      a point for the managers (subject, txt, chat)
//	sla_breach           staffNoticeView      a breach, for the managers (subject, txt, chat)
//	release_cadence      releaseCadenceView   a gap in the release cadence (subject, txt, chat)
//	monthly_report       monthReportView      the monthly report's mail (subject, txt; the HTML is the report)
//	capacity             capacityView         a gauge over the threshold (subject, txt; the ops post is both)
//	surge                surgeView            a surge declared (chat)
//	dependency_down      dependencyView       a dependency down (subject, txt; the ops post is both)
//	dependency_up        dependencyView       a dependency back (subject, txt; the ops post is both)
//	unknown_acks_paused  alertView            acknowledgements to unknown senders paused (subject, txt; the ops post is txt)
//	sender_flood         alertView            one sender opening many RFAs (subject, txt; the ops post is txt)
//	dead_letter          deadLetterView       a message that could not be processed (subject, txt; the ops post is txt)
//	dead_letters         deadLetterView       more of them, batched (subject, txt, line: one per message, appended)
//	staff_unaddressed    staffMailView        a staff mail naming no RFA, not sent (subject, txt)
//	staff_too_long       staffMailView        a staff mail too long to relay, not sent (subject, txt)

// staffReplyView is what staff_reply shows: staff's Text, MailOnly
// (text for the mail only, such as confirm_prompt's links; may be ""),
// the Signer's name, the Desk's name, the status Link of RFA Ref, the
// RFA's Subject, and Kind, what the mail is: "reply", "status update",
// "question", "workaround" or "clearance".
type staffReplyView struct {
	Text, MailOnly, Signer, Desk, Ref, Link string
	Subject, Kind                           string
}

// confirmPromptView is what confirm_prompt shows: the links to the
// status page's two buttons and, when the confirmation window ends,
// CloseBy (desk time, "Mon 4 Jan 2027 09:00 GMT"; "" if it never does).
type confirmPromptView struct {
	Ref, FixedURL, BrokenURL, CloseBy string
}

// noticeView is what the notices about an RFA show: RFA Ref, its
// Subject, its status Link, the Desk's name; where they apply, Prompt
// (confirm_reminder: the rendered confirm_prompt), ReopenBy (closure:
// desk time until which a reply reopens the RFA, "" if no grace), Owner
// (escalation_confirm: who owns it now) and Missing (fields_reminder:
// the labels of the report fields still missing).
type noticeView struct {
	Ref, Subject, Link, Desk, Prompt, ReopenBy, Owner string
	Missing                                           []string
}

// severityView is what severity_notice shows: the Severity just set
// (Changed: it replaced another) and, when that severity has a
// workaround target, the target (WorkaroundTarget, "4 working hours")
// and its due time in desk time (WorkaroundDue; "" if not running).
type severityView struct {
	Ref, Subject, Link, Desk, Severity string
	Changed                            bool
	WorkaroundTarget, WorkaroundDue    string
}

// submissionView is what submission_confirm shows: the Desk's name
// ("the service desk" when none is configured) and the link that
// confirms a web-form submission. It quotes nothing the submitter
// typed: the address may be a stranger's.
type submissionView struct {
	Desk, ConfirmURL string
}

// releaseView is what release_notice shows: RFA Ref, its Subject and
// status Link, the Desk's name, the Release's name and the day it Ships
// ("Monday 4 January 2027"); Moved says the release planned before did
// not ship on its date and the fix moved to this one.
type releaseView struct {
	Ref, Subject, Link, Desk, Release, Ships string
	Moved                                    bool
}

// outageView is what the outage messages show: the outage's ID, Title,
// Components (joined with ", ") and Organisations (joined; "" for
// every organisation); By, who started, updated or ended it; Text, the
// update or the resolution; Told, how many people were mailed; Cleared,
// how many linked RFAs its end cleared; StatusURL, the public notices
// page; the Desk's name.
type outageView struct {
	ID                                   uint64
	Title, Components, Organisations, By string
	Text, StatusURL, Desk                string
	Told, Cleared                        int
}

// staffNoticeView is what the staff messages about one RFA show: RFA
// Ref, its Subject, Organisation, Requester ("Name <address>"),
// Assignee ("" when unassigned), Severity, Status and Link: in a mail
// the RFA's status link, which carries the requester's token (the
// token-free record link for outage_page); in a chat post always the
// token-free record link (staffChat), so no template can put a token in
// the chat. Where they apply: What (the sla_* stems: the rendered
// sla_point), Via, Owner, Within and Reason (escalation_staff: how the
// requester escalated, the owner now, the time to act, the requester's
// reason with every line quoted "> ", "" if none) and Sender
// (outage_page: the address the outage mail came from).
type staffNoticeView struct {
	Ref, Subject, Organisation, Requester, Assignee string
	Severity, Status, Link, Desk                    string
	What, Via, Owner, Within, Reason, Sender        string
}

// slaPointView is what sla_point shows: RFA Ref, its Severity,
// Organisation ("" if none) and Subject; the Clock (its label in lower
// case, "workaround"), its Target ("4 working hours"), RunOut (the point
// is the target itself) or else Percent of it used ("75"), and Due, the
// clock's due time in desk time ("" if none).
type slaPointView struct {
	Ref, Severity, Organisation, Subject string
	Clock, Target, Percent, Due          string
	RunOut                               bool
}

// releaseCadenceView is what release_cadence shows: the Desk's name and
// the gap: Minor (no minor release since Since, a desk time) or a major
// gap (no major release this school term, which began Since, a date).
type releaseCadenceView struct {
	Desk, Since string
	Minor       bool
}

// monthReportView is what monthly_report shows: the Desk's name, the
// Month ("2027-01"), the RFAs Logged in it and its Breaches.
type monthReportView struct {
	Desk, Month      string
	Logged, Breaches int
}

// capacityView is what capacity shows: the gauge's Service, its Percent
// of the limit ("91.5%"), the amounts Used and Limit, and the Threshold
// ("85.0%").
type capacityView struct {
	Service, Percent, Used, Limit, Threshold string
}

// surgeView is what surge shows: the Service, Until when (UTC, "2027-01-04
// 15:00 UTC"), By whom and the Reason.
type surgeView struct {
	Service, Until, By, Reason string
}

// dependencyView is what dependency_down and dependency_up show: the
// dependency's Name ("imap", "smtp", "discord"), Since when it is down
// (UTC, "2027-01-04 09:12 UTC"), For how long ("12m30s"), the Reason
// given ("" if none), and Discord: the notice comes by email because
// the ops channel cannot be reached.
type dependencyView struct {
	Name, Since, For, Reason string
	Discord                  bool
}

// alertView is what unknown_acks_paused and sender_flood show: at most
// Max within Window ("1h"); sender_flood also the Sender's mailbox and
// the RFA (Ref) its further mail is recorded on.
type alertView struct {
	Max                 int
	Window, Sender, Ref string
}

// deadLetterView is what dead_letter and dead_letters show: the
// Mailbox the message was in, the dead letter's ID, the message's From
// and Subject as read (cut), the Reason, and Interval, within which
// further dead letters are batched ("10m"). dead_letters.line renders
// one dead letter, or, with More, the line that ends a full batch.
type deadLetterView struct {
	Mailbox               string
	ID                    uint64
	From, Subject, Reason string
	Interval              string
	More                  bool
}

// staffMailView is what staff_unaddressed and staff_too_long show: the
// desk's Address, the staff mail's Subject (cleaned, cut), and for
// staff_too_long the RFA it named (Ref) and the Limit in bytes.
type staffMailView struct {
	Address, Subject, Ref string
	Limit                 int
}

// staffNotice is the staffNoticeView of r for a mail: its facts, and its
// status Link; the caller adds what its stem shows besides.
func (d *Desk) staffNotice(r *RFA) staffNoticeView {
	return staffNoticeView{
		Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Organisation: r.Organisation,
		Requester: NeutralizeBidi(r.Requester.String()), Assignee: r.Assignee,
		Severity: r.Severity.Title(), Status: string(r.Status), Link: d.StatusURL(r), Desk: d.cfg.Name,
	}
}

// staffChat renders stem's chat post with v, its Link replaced by r's
// token-free record link (RecordURL): the status link's token must not
// reach the chat.
func (d *Desk) staffChat(r *RFA, stem string, v staffNoticeView) string {
	v.Link = d.RecordURL(r)
	return d.render(stem+".chat.tmpl", v)
}
