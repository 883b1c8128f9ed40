package mailbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"rfadesk/bot"
	"rfadesk/mailbox"
	"rfadesk/store"
)

// This file is the catalogue of hostile mail from issue #12: every row
// builds one hostile message, parses it with mailbox.Parse and records it
// through a real bot.Desk on a bbolt file, then checks the recorded
// outcome. No row may panic and no row may end without an outcome the
// desk recorded (an RFA, a dedupe entry for an ignored mail, a bounce, or
// a dead letter). A row's comment names the deeper test that already
// covers the item, where there is one.

const hostileSupport = "support@example.org"

var hostileOrgs = []bot.Organisation{
	{Name: "Oak Primary School", Trust: "Riverside Learning Trust", Domains: []string{"oakprimary.sch.uk"}},
}

// hostileDesk is a desk on its own bbolt file, running until the test ends.
func hostileDesk(t *testing.T) *bot.Desk {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "d.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := bot.NewDesk(db, bot.DeskConfig{Name: "Desk", Address: bot.Address{Email: hostileSupport},
		BaseURL: "https://x.example", Organisations: hostileOrgs}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

// ingestRaw parses raw as intake does and records it on d; a parse error
// becomes a Fetched carrying the raw message for the dead-letter record.
func ingestRaw(t *testing.T, d *bot.Desk, uid uint32, raw []byte, maxAtt int64) bot.Outcome {
	t.Helper()
	f := bot.Fetched{UID: uid, DedupeKey: mailbox.DedupeKey(raw)}
	m, err := mailbox.Parse(raw, mailbox.ParseOptions{LoopValue: "loop-secret", AuthServID: "mx.example.org", MaxAttachmentSize: maxAtt})
	if err != nil {
		f.ParseErr, f.Raw = err, raw
	} else {
		f.Mail = m
	}
	out, err := d.Ingest(context.Background(), "INBOX", 1, []bot.Fetched{f})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if len(out) != 1 {
		t.Fatalf("ingest gave %d outcomes, want 1", len(out))
	}
	return out[0]
}

// eml assembles a message: extra header lines (each ending CRLF) after a
// default From and Subject unless the row gives its own, then the body.
func eml(headers, body string) []byte {
	var b strings.Builder
	if !strings.Contains(strings.ToLower(headers), "from:") && !strings.HasPrefix(headers, "NOFROM") {
		b.WriteString("From: Ann Teacher <ann@oakprimary.sch.uk>\r\n")
	}
	headers = strings.TrimPrefix(headers, "NOFROM")
	if !strings.Contains(strings.ToLower(headers), "subject:") {
		b.WriteString("Subject: Printer broken\r\n")
	}
	if !strings.Contains(strings.ToLower(headers), "message-id:") {
		b.WriteString(fmt.Sprintf("Message-ID: <%x@oakprimary.sch.uk>\r\n", len(headers)*7919+len(body)))
	}
	b.WriteString("To: " + hostileSupport + "\r\n")
	b.WriteString(headers)
	b.WriteString("\r\n")
	b.WriteString(body)
	return []byte(b.String())
}

func plain(headers string) []byte {
	return eml(headers, "The printer in room 4 does not print.\r\n")
}

func multipart(boundary, parts string) []byte {
	return eml("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\""+boundary+"\"\r\n", parts)
}

func attachment(name, ctype, enc, data string) []byte {
	return multipart("b1", "--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"+
		"--b1\r\nContent-Type: "+ctype+"\r\nContent-Disposition: attachment; filename=\""+name+"\"\r\n"+
		"Content-Transfer-Encoding: "+enc+"\r\n\r\n"+data+"\r\n--b1--\r\n")
}

func html(body string) []byte {
	return eml("MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n", body)
}

func nested(depth int) []byte {
	var b strings.Builder
	for i := range depth {
		fmt.Fprintf(&b, "--n%d\r\nContent-Type: multipart/mixed; boundary=\"n%d\"\r\n\r\n", i, i+1)
	}
	fmt.Fprintf(&b, "--n%d\r\nContent-Type: text/plain\r\n\r\nDeep text.\r\n--n%d--\r\n", depth, depth)
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--n%d--\r\n", i)
	}
	return multipart("n0", b.String())
}

func emptyParts(n int) []byte {
	var b bytes.Buffer
	b.WriteString("--e\r\nContent-Type: text/plain\r\n\r\nMany parts follow.\r\n")
	for range n {
		b.WriteString("--e\r\n\r\n")
	}
	b.WriteString("--e--\r\n")
	return multipart("e", b.String())
}

func zipBomb() string {
	// A stored (not inflated) attachment: rfadesk never unpacks archives,
	// so a zip bomb is just bytes with a size cap.
	return base64.StdEncoding.EncodeToString(append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0}, 4096)...))
}

type hostileRow struct {
	name    string
	raw     []byte
	want    bot.IngestResult
	flagged bool
	acked   bool
	before  []byte // a mail recorded first, when the row needs one
	maxAtt  int64  // ParseOptions.MaxAttachmentSize (0: the default)
	// unstored names an attachment that must be listed but not kept.
	unstored string
	// keptWhole: the text is over the desk's cap and kept as bot.FullTextName.
	keptWhole bool
	lacks     []string // substrings no stored text may carry
	// subjectLacks are substrings the RFA's and its messages' subjects
	// may not carry.
	subjectLacks []string
	requester    string // the RFA's requester, when the row says
	covered      string // the existing deeper test, when one covers the item
}

func hostileRows() []hostileRow {
	created := bot.ResultCreated
	return []hostileRow{
		// Message-IDs.
		{name: "message-id missing", raw: eml("Message-ID: \r\n", "x\r\n"), want: created, acked: true, covered: "TestDedupeKey"},
		{name: "message-id huge", raw: plain("Message-ID: <" + strings.Repeat("a", 100000) + "@x>\r\n"), want: created, acked: true, covered: "TestParseMessageIDValidity"},
		{name: "message-id non-ascii", raw: plain("Message-ID: <ünï€ode@oakprimary.sch.uk>\r\n"), want: created, acked: true, covered: "TestParseMessageIDValidity"},
		// Automatic mail.
		{name: "auto-submitted auto-replied", raw: plain("Auto-Submitted: auto-replied\r\n"), want: bot.ResultIgnored, covered: "TestClassify"},
		{name: "auto-submitted AUTO-GENERATED", raw: plain("Auto-Submitted: AUTO-GENERATED\r\n"), want: created, covered: "TestClassify"},
		{name: "auto-submitted auto-notified", raw: plain("Auto-Submitted: Auto-Notified; owner-email=x@y\r\n"), want: created, covered: "TestClassify"},
		{name: "auto-submitted no", raw: plain("Auto-Submitted: No\r\n"), want: created, acked: true, covered: "TestClassify"},
		{name: "precedence bulk", raw: plain("Precedence: bulk\r\n"), want: created, covered: "TestNoAutomaticMailToRobots"},
		{name: "list-id", raw: plain("List-Id: <staff.oakprimary.sch.uk>\r\n"), want: created, covered: "TestNoAutomaticMailToRobots"},
		{name: "return-path empty", raw: plain("Return-Path: <>\r\n"), want: created},
		{name: "mailer-daemon sender", raw: plain("From: MAILER-DAEMON@oakprimary.sch.uk\r\n"), want: created, covered: "TestNoAutomaticMailToRobots"},
		{name: "postmaster sender", raw: plain("From: postmaster@oakprimary.sch.uk\r\n"), want: created, covered: "TestNoAutomaticMailToRobots"},
		{name: "noreply sender", raw: plain("From: noreply@oakprimary.sch.uk\r\n"), want: created, covered: "TestNoAutomaticMailToRobots"},
		// Authors.
		{name: "from missing", raw: plain("NOFROM"), want: bot.ResultDeadLetter, covered: "TestParseErrors"},
		{name: "two from addresses", raw: plain("From: ann@oakprimary.sch.uk, eve@evil.example\r\n"), want: created, flagged: true, covered: "TestParseAmbiguousAuthor"},
		// A well-formed encoded word: the author is the angle address (the
		// one DMARC checked), so the RFA is eve's, unflagged, answered to
		// eve; the malformed variant is flagged (TestParseAmbiguousAuthor).
		{name: "encoded display name with address", raw: plain("From: =?utf-8?q?head=40oakprimary=2Esch=2Euk?= <eve@evil.example>\r\n"), want: created, acked: true, requester: "eve@evil.example"},
		{name: "malformed encoded word hides address", raw: plain("From: =?utf-8?q?head@oakprimary.sch.uk?= <eve@evil.example>\r\n"), want: created, flagged: true, requester: "eve@evil.example", covered: "TestParseAmbiguousAuthor"},
		// The acknowledgement goes to From, never to Reply-To.
		{name: "reply-to support address", raw: plain("Reply-To: " + hostileSupport + "\r\n"), want: created, acked: true, requester: "ann@oakprimary.sch.uk"},
		{name: "from support address", raw: plain("From: Support <" + hostileSupport + ">\r\n"), want: bot.ResultIgnored},
		// Subjects.
		{name: "subject CR LF", raw: plain("Subject: =?utf-8?q?a=0D=0ABcc=3A_x=40evil=2Eexample?=\r\n"), want: created, acked: true, subjectLacks: []string{"\r", "\n"}, covered: "TestSendStripsCRLFFromHeaderValues"},
		{name: "subject NUL", raw: plain("Subject: =?utf-8?q?a=00b?=\r\n"), want: created, acked: true, subjectLacks: []string{"\x00"}},
		{name: "subject RLO", raw: plain("Subject: =?utf-8?q?invoice=E2=80=AEfdp=2Eexe?=\r\n"), want: created, acked: true, lacks: []string{"\u202e"}, covered: "TestParseNeutralizesBidi"},
		{name: "subject 64kB", raw: plain("Subject: " + strings.Repeat("x", 64<<10) + "\r\n"), want: created, acked: true},
		{name: "subject five charsets", raw: plain("Subject: =?iso-8859-1?q?caf=E9?= =?koi8-r?b?8NLJ18XU?= =?shift_jis?b?g2WDWINn?= =?windows-1252?q?=80?= =?utf-8?q?=C3=BC?=\r\n"), want: created, acked: true, covered: "TestDecodeText"},
		{name: "subject broken encoded word", raw: plain("Subject: =?utf-8?b?####?= =?nope?q?x?= =?utf-8?q?unterminated\r\n"), want: created, acked: true},
		{name: "subject RFA tag of no RFA", raw: plain("Subject: [RFA-999] please look\r\n"), want: created, acked: true},
		// Ann's RFA-1 exists; Eve's mail naming it starts its own, flagged.
		{name: "subject forged RFA tag", before: plain("Subject: Ann's own\r\n"), raw: plain("From: eve@evil.example\r\nSubject: [RFA-1] close this\r\n"),
			want: created, flagged: true, acked: true, requester: "eve@evil.example", covered: "TestCcColleagueIsParticipantButOtherSchoolIsNot (bot)"},
		{name: "forged authentication-results", raw: plain("Authentication-Results: mx.evil.example; dmarc=pass\r\nAuthentication-Results: mx.example.org.evil; spf=pass\r\n"), want: created, acked: true, covered: "TestAuthVerdict"},
		// MIME structure.
		{name: "missing closing boundary", raw: multipart("b", "--b\r\nContent-Type: text/plain\r\n\r\nNo end.\r\n"), want: created, acked: true, covered: "TestSplitMultipart"},
		// The MIME caps: at the cap the mail is read; beyond it the mail
		// is a dead letter (ErrMIMETooComplex), never a text with parts
		// silently left out.
		{name: "nesting at the cap", raw: nested(19), want: created, acked: true},
		{name: "1000-deep nesting", raw: nested(1000), want: bot.ResultDeadLetter},
		{name: "parts at the cap", raw: emptyParts(998), want: created, acked: true},
		{name: "100000 empty parts", raw: emptyParts(100000), want: bot.ResultDeadLetter},
		// A bare CR inside From leaves "Subject: cr" in the field: read
		// leniently, so flagged and not answered.
		{name: "bare CR and LF", raw: []byte("From: ann@oakprimary.sch.uk\rSubject: cr\nTo: " + hostileSupport + "\n\nbody\rline\n"), want: created, flagged: true, covered: "TestSplitMessage"},
		{name: "bare LF only", raw: []byte("From: ann@oakprimary.sch.uk\nSubject: lf\nTo: " + hostileSupport + "\n\nbody\nline\n"), want: created, acked: true, covered: "TestSplitMessage"},
		{name: "1MB header line", raw: plain("X-Junk: " + strings.Repeat("y", 1<<20) + "\r\n"), want: created, acked: true},
		{name: "invalid base64", raw: eml("Content-Transfer-Encoding: base64\r\n", "!!!not base64***\r\n"), want: created, acked: true, covered: "TestLenientTransferDecode"},
		{name: "invalid quoted-printable", raw: eml("Content-Transfer-Encoding: quoted-printable\r\n", "bad =ZZ soft=\r\n"), want: created, acked: true, covered: "TestLenientTransferDecode"},
		{name: "unknown charset", raw: eml("Content-Type: text/plain; charset=x-klingon\r\n", "qapla\r\n"), want: created, acked: true, covered: "TestDecodeText"},
		{name: "utf-16", raw: eml("Content-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n", "//5IAGkA\r\n"), want: created, acked: true, covered: "TestParseCorpus"},
		// HTML.
		{name: "html script style svg iframe urls", raw: html(`<style>p{x:expression(alert(1))}</style><script>alert("pwn")</script><p>Hi <a href="javascript:alert(2)">click</a><img src="https://track.evil.example/p.gif"><img src="data:image/png;base64,AAAA"><iframe src="https://evil.example/f"></iframe><svg onload="alert(3)"><script>alert(4)</script></svg></p>`),
			want: created, acked: true, lacks: []string{"alert", "javascript:", "data:", "track.evil", "<script", "<iframe", "expression"}, covered: "TestHTMLToText"},
		// Bounces and automatic replies.
		{name: "dsn 5.1.1", raw: eml("From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n",
			"--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\nStatus: 5.1.1\r\n--r--\r\n"), want: bot.ResultIgnored, covered: "TestParseCorpus dsn"},
		{name: "dsn 4.x.x", raw: eml("From: MAILER-DAEMON@mx.example.org\r\nSubject: Delayed\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n",
			"--r\r\nContent-Type: text/plain\r\n\r\ndelayed\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: delayed\r\nStatus: 4.4.7\r\n--r--\r\n"), want: bot.ResultIgnored, covered: "TestDeliveryStatusPartAlone"},
		{name: "exchange html-only bounce", raw: eml("From: Microsoft Outlook <postmaster@oakprimary.sch.uk>\r\nSubject: Undeliverable: Printer\r\nContent-Type: text/html\r\n", "<p>Delivery has failed to these recipients: x@y</p>\r\n"), want: bot.ResultIgnored, covered: "TestParseCorpus exchange"},
		{name: "out of office", raw: plain("Subject: Automatic reply: Printer\r\nX-Auto-Response-Suppress: All\r\nAuto-Submitted: auto-replied\r\n"), want: bot.ResultIgnored, covered: "TestAutoReplySubjects"},
		// Size caps: an over-cap body is kept whole as an attachment
		// (bot.FullTextName), an over-cap attachment is listed unstored.
		{name: "2MB body", raw: eml("", strings.Repeat("long text line\r\n", 2<<16)), want: created, acked: true, keptWhole: true, covered: "TestLongMessageIsCutAndKeptWhole (bot)"},
		{name: "attachment over size cap", maxAtt: 1024, raw: attachment("big.bin", "application/octet-stream", "base64", base64.StdEncoding.EncodeToString(make([]byte, 4096))), want: created, acked: true, unstored: "big.bin", covered: "TestParseOptions"},
		// Attachments.
		{name: "zip bomb", raw: attachment("bomb.zip", "application/zip", "base64", zipBomb()), want: created, acked: true},
		{name: "dot-dot attachment name", raw: attachment("../../etc/passwd", "text/plain", "7bit", "root"), want: created, acked: true, lacks: []string{"../"}},
		{name: "rlo attachment name", raw: attachment("photo\u202egnp.exe", "application/octet-stream", "base64", "AAAA"), want: created, acked: true, lacks: []string{"\u202e"}, covered: "TestParseNeutralizesBidi"},
		{name: "zero-byte file", raw: attachment("empty.txt", "text/plain", "7bit", ""), want: created, acked: true},
		{name: "winmail.dat", raw: attachment("winmail.dat", "application/ms-tnef", "base64", "eJ8+IgAA"), want: created, acked: true, covered: "TestParseCorpus"},
		{name: "s/mime", raw: eml("MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=s\r\n",
			"--s\r\nContent-Type: text/plain\r\n\r\nSigned text.\r\n--s\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqG\r\n--s--\r\n"), want: created, acked: true, covered: "TestParseCorpus"},
	}
}

// TestHostileMailCatalogue is issue #12's mail catalogue, end to end from
// raw bytes to the desk's bbolt file.
func TestHostileMailCatalogue(t *testing.T) {
	for _, row := range hostileRows() {
		t.Run(row.name, func(t *testing.T) {
			d := hostileDesk(t)
			if row.before != nil {
				if out := ingestRaw(t, d, 10, row.before, 0); out.Result != bot.ResultCreated || out.RFA != 1 {
					t.Fatalf("first mail: %+v", out)
				}
			}
			out := ingestRaw(t, d, 1, row.raw, row.maxAtt)
			if out.Result != row.want {
				t.Fatalf("result %q, want %q", out.Result, row.want)
			}
			// Nothing silently dropped: the same mail again is a duplicate
			// of what was recorded, so the first outcome was committed.
			if again := ingestRaw(t, d, 2, row.raw, row.maxAtt); again.Result != bot.ResultDuplicate {
				t.Errorf("second delivery %q, want duplicate (first outcome not recorded)", again.Result)
			}
			ctx := context.Background()
			switch row.want {
			case bot.ResultDeadLetter:
				dl, err := d.DeadLetters(ctx)
				if err != nil || len(dl) != 1 {
					t.Fatalf("dead letters %d (%v), want 1", len(dl), err)
				}
				return
			case bot.ResultCreated, bot.ResultAppended:
			default:
				if out.RFA != 0 {
					t.Errorf("%s mail made RFA %d", out.Result, out.RFA)
				}
				return
			}
			r, err := d.RFAWithTexts(ctx, out.RFA)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Flag != ""; got != row.flagged {
				t.Errorf("flagged %v (%q), want %v", got, r.Flag, row.flagged)
			}
			acked := false
			for _, e := range r.Events {
				acked = acked || e.Kind == bot.EventAckQueued
			}
			if acked != row.acked {
				t.Errorf("acknowledged %v, want %v; events %+v", acked, row.acked, r.Events)
			}
			stored := r.Subject
			for _, m := range r.Messages {
				stored += "\x01" + m.Subject + "\x01" + m.Text
				for _, a := range m.Attachments {
					stored += "\x01" + a.Name
				}
			}
			if row.requester != "" && r.Requester.Email != row.requester {
				t.Errorf("requester %q, want %q", r.Requester.Email, row.requester)
			}
			if row.keptWhole {
				atts := r.Messages[0].Attachments
				if len(atts) == 0 || atts[len(atts)-1].Name != bot.FullTextName || atts[len(atts)-1].Size < 1<<20 {
					t.Errorf("over-cap text not kept whole: %+v", atts)
				}
			}
			if row.unstored != "" {
				found := false
				for _, a := range r.Messages[0].Attachments {
					found = found || a.Name == row.unstored && !a.Stored && a.Size > 1024
				}
				if !found {
					t.Errorf("attachment %q not listed as unstored: %+v", row.unstored, r.Messages[0].Attachments)
				}
			}
			for _, bad := range row.subjectLacks {
				for _, subj := range []string{r.Subject, r.Messages[0].Subject} {
					if strings.Contains(subj, bad) {
						t.Errorf("subject %q carries %q", subj, bad)
					}
				}
			}
			for _, bad := range row.lacks {
				if strings.Contains(stored, bad) {
					t.Errorf("stored text carries %q", bad)
				}
			}
		})
	}
}
