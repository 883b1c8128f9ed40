package bot

import (
	"regexp"
	"strings"
	"time"
)

// What a requester's reply to a cleared or closed RFA says, read from its
// first paragraph in everyday wordings, and what the desk does with it.

// replyVerdict is what a requester's reply says about a fix.
type replyVerdict int

const (
	replyOther    replyVerdict = iota // anything else: appended for staff to read
	replyConfirms                     // "yes, it's working now", "confirmed, thanks"
	replyNotFixed                     // "still broken", "no, it doesn't work"
	replyThanks                       // only thanks ("Thank you!"): neither
)

var (
	notFixedWords = regexp.MustCompile(`\b(` +
		`still\s+(broken|not|failing|happening|an?\s+(issue|problem)|the\s+same|getting|seeing|having|doing\s+it|doesn'?t|does\s+not|isn'?t|is\s+not|won'?t|will\s+not|can'?t|cannot|no\b|wrong|showing|there|occurring|crashing|down)` +
		`|not\s+(fixed|resolved|working|sorted|solved|right|quite|yet|really)` +
		`|(isn'?t|is\s+not|aren'?t|are\s+not|doesn'?t|does\s+not|don'?t|do\s+not|won'?t|will\s+not|can'?t|cannot|didn'?t|did\s+not|hasn'?t|has\s+not|haven'?t|have\s+not)\s+(been\s+)?(fixed|resolved|work|working|sorted|solved|load|loading|open|opening|help|helped|changed|made\s+(any|a)\s+difference)` +
		`|(same|the)\s+(problem|issue|error|fault)\s+(again|is\s+back|has\s+come\s+back|still)` +
		`|(happened|happening|broken|broke|failing|failed|stopped(\s+working)?|crashed|gone\s+wrong)\s+again` +
		`|unfortunately\s+not|sadly\s+not|it'?s\s+back|no\s+change|no\s+difference|no\s+better` +
		`)\b`)
	startsNo = regexp.MustCompile(`^(no|nope|nah)\b`)
	noButOK  = regexp.MustCompile(`^no\s+(problem|problems|worries|issues?\s+(now|since|any\s*more))\b`)

	confirmWords = regexp.MustCompile(`\b(` +
		`confirm|confirmed|confirming` +
		`|(it'?s|it\s+is|that'?s|that\s+is|this\s+is|everything'?s|everything\s+is|all|now|has\s+been|have\s+been|seems|looks|appears)\s+(to\s+be\s+)?(fixed|resolved|sorted|solved|working|fine|ok|okay|good|great)` +
		`|(works|working|worked|fixed|resolved|sorted|solved)\s+(now|fine|again|perfectly|great|well|a\s+treat)` +
		`|all\s+(good|sorted|working|fine|ok|okay)` +
		`|(problem|issue|error|fault)\s+(is\s+|has\s+been\s+)?(solved|resolved|fixed|sorted|gone)` +
		`|that\s+(worked|did\s+it|did\s+the\s+trick|fixed\s+it|sorted\s+it|solved\s+it)` +
		`|(you\s+can|please|feel\s+free\s+to|happy\s+for\s+you\s+to|ok\s+to|okay\s+to|go\s+ahead\s+and)\s+close` +
		`|no\s+(problems|issues?)\s+(now|since|any\s*more)` +
		`)\b`)
	startsYes  = regexp.MustCompile(`^(yes|yep|yeah|yup|yes\s+please|perfect|brilliant|excellent|fantastic|great\s+news|sorted|fixed|resolved)\b`)
	onlyThanks = regexp.MustCompile(`^((many|huge|big)\s+)?(thanks|thank\s+you|thankyou|cheers|ta)(\s+(so|very)\s+much|\s+a\s+lot|\s+again|\s+for\s+(your|all\s+(your|the))\s+help)?[\s!.,]*(\w+[\s!.,]*)?$`)
)

// replyHead is the part of a reply that is read for a verdict: its
// first paragraph (the quoted clearance was stripped before), lower-cased,
// with curly apostrophes made straight and spaces collapsed, cut to 400
// bytes.
func replyHead(reply string) string {
	reply = strings.NewReplacer("\u2019", "'", "\u2018", "'").Replace(strings.ToLower(firstParagraph(reply)))
	reply = strings.Join(strings.Fields(reply), " ")
	return truncate(reply, 400)
}

// classifyReply reads what a requester's reply says about a fix. Not
// fixed wins over confirmation ("yes, it's still broken"); a question
// ("is it working now?") confirms nothing.
func classifyReply(reply string) replyVerdict {
	head := replyHead(reply)
	switch {
	case head == "":
		return replyOther
	case notFixedWords.MatchString(head), startsNo.MatchString(head) && !noButOK.MatchString(head):
		return replyNotFixed
	case strings.Contains(head, "?"):
		return replyOther
	case confirmWords.MatchString(head), startsYes.MatchString(head), noButOK.MatchString(head):
		return replyConfirms
	case onlyThanks.MatchString(head):
		return replyThanks
	}
	return replyOther
}

// saysStillBroken reports whether a requester's reply to a clearance says
// the problem is not fixed.
func saysStillBroken(reply string) bool { return classifyReply(reply) == replyNotFixed }

// answerClearance acts on requester mail m appended to cleared or closed
// r (which the caller stores): a confirmation of a cleared RFA closes
// it; "not fixed", or to a closed RFA anything but a confirmation or
// thanks, reopens it. Anything else stays in the conversation for staff.
// A closed RFA past its reopen grace never gets here (startsNewRFA).
func (d *Desk) answerClearance(tx Tx, r *RFA, m *Mail) error {
	actor := Actor{Name: m.From.Name, ID: m.From.Email}.String()
	v := classifyReply(m.Reply)
	head := truncate(strings.TrimSpace(firstParagraph(m.Reply)), 300)
	switch {
	case r.Status == StatusCleared && v == replyConfirms:
		return d.close(tx, r, actor, "the requester confirmed it is fixed by email", head)
	case v == replyNotFixed:
		return d.reopen(tx, r, actor, "the requester says it is not fixed (by email)", head, true)
	case r.Status == StatusClosed && v == replyOther:
		return d.reopen(tx, r, actor, "the requester wrote again after it was closed (by email)", head, true)
	}
	return nil
}

func firstParagraph(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r", ""))
	if i := strings.Index(s, "\n\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// startsNewRFA reports whether mail m, a reply to r, is to start a new
// RFA instead of being appended: r is closed, its reopen grace ended
// before m was received, and m is neither an automatic reply nor a mere
// confirmation or thanks.
func (d *Desk) startsNewRFA(r *RFA, m *Mail) bool {
	if r.Status != StatusClosed || m.Auto == AutoReplied {
		return false
	}
	until, ok := d.jeop.policy().ReopenBy(r)
	if !ok || !m.Received.After(until) {
		return false
	}
	v := classifyReply(m.Reply)
	return v == replyNotFixed || v == replyOther
}

// linkFollowUp records on both RFAs that follow, just created from a
// reply, follows closed RFA old, and stores old.
func (d *Desk) linkFollowUp(tx Tx, old, follow *RFA) error {
	now := d.now()
	closed, _ := old.ClosedAt()
	follow.addEvent(now, EventFollowUp, "rfadesk", "follows "+old.Ref()+", closed "+
		closed.In(d.jeop.policy().Calendar.Location()).Format(time.DateOnly)+": the requester wrote again after its reopen grace")
	old.addEvent(now, EventFollowUp, follow.Requester.Email, "the requester wrote again after the reopen grace: continued as "+follow.Ref())
	if err := tx.PutRFA(old); err != nil {
		return err
	}
	return tx.PutRFA(follow)
}
