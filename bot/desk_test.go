package bot_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

var testOrgs = []bot.Organisation{
	{Name: "Oak Primary School", Trust: "Riverside Learning Trust", Domains: []string{"oakprimary.sch.uk"}},
	{Name: "Elm Park Academy", Trust: "Riverside Learning Trust", Domains: []string{"elmpark.sch.uk"}},
}

type fixture struct {
	t     *testing.T
	db    *store.DB
	desk  *bot.Desk
	now   time.Time
	uid   uint32 // the last UID ingest gave out
	kicks int
	// changed is poked at every commit of the desk (deliver_test.go).
	changed *changes
	// kick, when set, is called after every commit that enqueued mail.
	kick func()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture with tweak applied to the desk's config.
func newFixtureWith(t *testing.T, tweak func(*bot.DeskConfig)) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "desk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, now: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), changed: newChanges()}
	cfg := bot.DeskConfig{
		Name:          "Example Service Desk",
		Address:       bot.Address{Name: "Example Service Desk", Email: "support@example.org"},
		BaseURL:       "https://support.example.org/",
		LoopValue:     "support@example.org",
		Organisations: testOrgs,
		Hours:         "Open Monday to Friday",
		AlertTo:       []bot.Address{{Email: "manager@example.org"}},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	f.desk = bot.NewDesk(&pokingStore{Store: db, changed: f.changed}, cfg, &bot.DeskOptions{
		Now:    func() time.Time { return f.now },
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		OnOutbox: func() {
			f.kicks++
			if f.kick != nil {
				f.kick()
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.desk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// mail builds a person's email from sender with the given subject and body.
func mail(id, from, subject, body string) *bot.Mail {
	name, email, _ := strings.Cut(from, "|")
	if email == "" {
		name, email = "", from
	}
	return &bot.Mail{
		MessageID: id, From: bot.Address{Name: name, Email: email},
		To:      []bot.Address{{Email: "support@example.org"}},
		Subject: subject, Text: body, Reply: body, DedupeKey: "mid:" + id,
		Received: time.Date(2026, 11, 26, 8, 59, 0, 0, time.UTC),
	}
}

func (f *fixture) ingest(ms ...*bot.Mail) []bot.Outcome {
	f.t.Helper()
	batch := make([]bot.Fetched, len(ms))
	for i, m := range ms {
		f.uid++
		batch[i] = bot.Fetched{UID: f.uid, Mail: m}
	}
	out, err := f.desk.Ingest(context.Background(), "INBOX", 7, batch)
	if err != nil {
		f.t.Fatalf("ingest: %v", err)
	}
	return out
}

func (f *fixture) rfa(num uint64) *bot.RFA {
	f.t.Helper()
	r, err := f.desk.RFA(context.Background(), num)
	if err != nil {
		f.t.Fatalf("RFA %d: %v", num, err)
	}
	return r
}

// rfaWithTexts loads RFA num with its message texts.
func (f *fixture) rfaWithTexts(num uint64) *bot.RFA {
	f.t.Helper()
	r, err := f.desk.RFAWithTexts(context.Background(), num)
	if err != nil {
		f.t.Fatalf("RFA %d: %v", num, err)
	}
	return r
}

// allRFAs loads every RFA of d (without texts), paging summaries as the
// admin API does.
func allRFAs(t testing.TB, d *bot.Desk) []*bot.RFA {
	t.Helper()
	ctx := context.Background()
	var all []*bot.RFA
	for q := (bot.RFAQuery{Limit: bot.MaxRFAPage}); ; {
		page, err := d.RFAPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.RFAs {
			r, err := d.RFA(ctx, s.Num)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
		if page.Next == 0 {
			return all
		}
		q.After = page.Next
	}
}

func (f *fixture) outbox() []bot.OutboxItem {
	f.t.Helper()
	items, err := f.desk.Outbox(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return items
}

func hasEvent(r *bot.RFA, kind bot.EventKind) bool {
	for _, e := range r.Events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

const fullReport = `Hello,

Site: Main building
Component(s): Login, Attendance
Support level: Gold
Action taken: Restarted the PCs
Error message: "Invalid session token (E1042)"
Can you replicate it: Yes
`

func TestNewMailBecomesRFAWithAcknowledgement(t *testing.T) {
	f := newFixture(t)
	out := f.ingest(mail("a1@oakprimary.sch.uk", "Sarah Okafor|s.okafor@oakprimary.sch.uk", "Cannot log in", fullReport))
	if len(out) != 1 || out[0].Result != bot.ResultCreated || out[0].RFA != 1 || out[0].Disposition != bot.ToProcessed {
		t.Fatalf("outcome = %+v", out)
	}
	r := f.rfa(1)
	if r.Ref() != "RFA-1" || r.Organisation != "Oak Primary School" || r.Trust != "Riverside Learning Trust" {
		t.Errorf("rfa = %+v", r)
	}
	if r.Report.Site != "Main building" || r.Report.ErrorMessage != "Invalid session token (E1042)" || r.Report.CanReplicate != bot.ReplicateYes {
		t.Errorf("report = %+v", r.Report)
	}
	if !r.Created.Equal(time.Date(2026, 11, 26, 8, 59, 0, 0, time.UTC)) {
		t.Errorf("created = %v, want the server receipt time", r.Created)
	}
	tok, err := base64.RawURLEncoding.DecodeString(r.Token)
	if err != nil || len(tok) < 16 {
		t.Errorf("token %q is not 128 random bits", r.Token)
	}
	items := f.outbox()
	if len(items) != 1 || f.kicks != 1 {
		t.Fatalf("outbox = %d items, kicks = %d", len(items), f.kicks)
	}
	m := items[0].Mail
	if m.To[0].Email != "s.okafor@oakprimary.sch.uk" || !strings.HasPrefix(m.Subject, "[RFA-1] ") || !m.Auto {
		t.Errorf("ack = %+v", m)
	}
	if m.InReplyTo != "a1@oakprimary.sch.uk" || m.References[len(m.References)-1] != "a1@oakprimary.sch.uk" {
		t.Errorf("ack threading: in-reply-to %q references %q", m.InReplyTo, m.References)
	}
	link := "https://support.example.org/rfa/RFA-1?t=" + url.QueryEscape(r.Token)
	for _, body := range []string{m.Text, m.HTML} {
		for _, want := range []string{"RFA-1", "72 hours", "Open Monday to Friday", "Invalid session token (E1042)"} {
			if !strings.Contains(body, want) {
				t.Errorf("ack body lacks %q:\n%s", want, body)
			}
		}
	}
	if !strings.Contains(m.Text, link) {
		t.Errorf("ack text lacks link %s:\n%s", link, m.Text)
	}
	if strings.Contains(m.Text, "please reply to this email with") {
		t.Errorf("complete report should not ask for fields:\n%s", m.Text)
	}
}

func TestAcknowledgementAsksForMissingFieldsAndReplyFillsThem(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("p1@elmpark.sch.uk", "t@elmpark.sch.uk", "Timetable empty", "Our supply staff see an empty timetable."))
	ack := f.outbox()[0].Mail
	for _, label := range []string{"Site location", "Level(s) of action taken", "Exact error message"} {
		if !strings.Contains(ack.Text, label) {
			t.Errorf("ack does not ask for %q:\n%s", label, ack.Text)
		}
	}
	if strings.Contains(ack.Text, "Support tier") || strings.Contains(ack.Text, "Support level") {
		t.Errorf("ack asks for a support tier the contract never asks for:\n%s", ack.Text)
	}
	reply := mail("p2@elmpark.sch.uk", "t@elmpark.sch.uk", "Re: "+ack.Subject, "Site: Sixth form centre\nSupport level: Bronze\n")
	reply.InReplyTo = []string{ack.MessageID}
	out := f.ingest(reply)
	if out[0].Result != bot.ResultAppended || out[0].RFA != 1 {
		t.Fatalf("reply outcome = %+v", out[0])
	}
	r := f.rfa(1)
	if r.Report.Site != "Sixth form centre" || r.Report.Level != "Bronze" || !hasEvent(r, bot.EventFieldsFilled) {
		t.Errorf("reply did not fill fields: %+v", r.Report)
	}
	if len(r.Messages) != 3 { // mail, ack, reply
		t.Errorf("messages = %d, want 3", len(r.Messages))
	}
	if len(f.outbox()) != 1 {
		t.Errorf("a reply must not be acknowledged again")
	}
}

func TestDuplicateDeliveryCreatesNothing(t *testing.T) {
	f := newFixture(t)
	m := mail("dup@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Printer", "It jams.")
	f.ingest(m)
	again := *m
	out := f.ingest(&again)
	if out[0].Result != bot.ResultDuplicate || out[0].RFA != 1 {
		t.Fatalf("second delivery = %+v", out[0])
	}
	if all := allRFAs(t, f.desk); len(all) != 1 {
		t.Errorf("RFAs = %d, want 1", len(all))
	}
	if len(f.outbox()) != 1 {
		t.Errorf("outbox = %d, want 1", len(f.outbox()))
	}
}

func TestThreading(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("t1@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Reports module slow", "It is slow."))
	cases := []struct {
		name   string
		m      *bot.Mail
		result bot.IngestResult
		rfa    uint64
		flag   bool
	}{
		{"tag in subject from requester", mail("t2@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Re: [RFA-1] more", "more detail"), bot.ResultAppended, 1, false},
		{"tag in subject, any case, from a participant-less stranger", mail("t3@elmpark.sch.uk", "x@elmpark.sch.uk", "[rfa-1] is this ours?", "hi"), bot.ResultCreated, 2, true},
		{"tag of an RFA that does not exist", mail("t4@oakprimary.sch.uk", "a@oakprimary.sch.uk", "[RFA-99] hello", "hi"), bot.ResultCreated, 3, false},
		{"references the requester's first mail", func() *bot.Mail {
			m := mail("t5@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Re: slow", "still slow")
			m.References = []string{"t1@oakprimary.sch.uk"}
			return m
		}(), bot.ResultAppended, 1, false},
		{"empty references thread nothing", func() *bot.Mail {
			m := mail("t6@oakprimary.sch.uk", "a@oakprimary.sch.uk", "New thing", "new")
			m.InReplyTo, m.References = nil, []string{}
			return m
		}(), bot.ResultCreated, 4, false},
	}
	for _, c := range cases {
		out := f.ingest(c.m)
		if out[0].Result != c.result || out[0].RFA != c.rfa {
			t.Errorf("%s: outcome %+v, want %s on RFA-%d", c.name, out[0], c.result, c.rfa)
			continue
		}
		if got := f.rfa(c.rfa).Flag != ""; got != c.flag {
			t.Errorf("%s: flagged = %v, want %v", c.name, got, c.flag)
		}
	}
	if n := len(f.rfa(1).Messages); n != 4 { // first, ack, two appended
		t.Errorf("RFA-1 messages = %d, want 4", n)
	}
}

func TestCcColleagueIsParticipantButOtherSchoolIsNot(t *testing.T) {
	f := newFixture(t)
	m := mail("c1@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Census", "fails")
	m.Cc = []bot.Address{{Email: "b@oakprimary.sch.uk"}, {Email: "spy@elmpark.sch.uk"}}
	f.ingest(m)
	r := f.rfa(1)
	if !r.IsParticipant("B@oakprimary.sch.uk") || r.IsParticipant("spy@elmpark.sch.uk") {
		t.Errorf("participants = %v", r.Participants)
	}
}

func TestNoAutomaticMailToRobots(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("r0@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Login", "broken"))
	ack := f.outbox()[0].Mail

	ooo := mail("r1@oakprimary.sch.uk", "a@oakprimary.sch.uk", "Automatic reply: [RFA-1] Received: Login", "Out until Monday")
	ooo.Auto = bot.AutoReplied
	ooo.InReplyTo = []string{ack.MessageID}
	bulk := mail("r2@news.example.com", "news@news.example.com", "Newsletter", "Offers")
	bulk.Auto = bot.AutoGenerated
	noreply := mail("r3@vendor.example.com", "no-reply@vendor.example.com", "Your ticket", "text")
	own := mail("r4@example.org", "support@example.org", "loop", "ours")
	looped := mail("r5@oakprimary.sch.uk", "b@oakprimary.sch.uk", "fwd", "x")
	looped.LoopHeader = true
	strayOOO := mail("r6@elmpark.sch.uk", "z@elmpark.sch.uk", "Out of office", "away")
	strayOOO.Auto = bot.AutoReplied
	bounce := mail("r7@mx.example.net", "mailer-daemon@mx.example.net", "Undelivered Mail", "")
	bounce.Auto = bot.AutoBounce
	bounce.Bounce = &bot.Bounce{OriginalMessageID: ack.MessageID, Recipient: "a@oakprimary.sch.uk", Status: "5.1.1"}

	out := f.ingest(ooo, bulk, noreply, own, looped, strayOOO, bounce)
	want := []bot.IngestResult{bot.ResultAppended, bot.ResultCreated, bot.ResultCreated, bot.ResultIgnored, bot.ResultIgnored, bot.ResultIgnored, bot.ResultBounce}
	for i, w := range want {
		if out[i].Result != w {
			t.Errorf("message %d: action %q, want %q", i, out[i].Result, w)
		}
	}
	if n := len(f.outbox()); n != 1 {
		t.Errorf("outbox = %d items, want only the first acknowledgement", n)
	}
	r1 := f.rfa(1)
	if r1.Status != bot.StatusNew || !hasEvent(r1, bot.EventAutoReply) || !hasEvent(r1, bot.EventBounce) {
		t.Errorf("RFA-1 after OOO and bounce: status %s events %+v", r1.Status, r1.Events)
	}
	for _, num := range []uint64{2, 3} {
		if !hasEvent(f.rfa(num), bot.EventAutoSuppressed) {
			t.Errorf("RFA-%d: no auto-reply-suppressed event", num)
		}
	}
}

func TestPerSenderRateLimit(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.ingest(mail("rl"+string(rune('a'+i))+"@x.example", "robot@x.example", "Ticket", "hi"))
		f.now = f.now.Add(time.Minute)
	}
	if n := len(f.outbox()); n != bot.DefaultRateTiers[0].Max {
		t.Errorf("acks within 10 minutes = %d, want %d", n, bot.DefaultRateTiers[0].Max)
	}
	f.now = f.now.Add(11 * time.Minute)
	f.ingest(mail("rl-later@x.example", "robot@x.example", "Ticket", "hi"))
	if n := len(f.outbox()); n != bot.DefaultRateTiers[0].Max+1 {
		t.Errorf("after the window: acks = %d", n)
	}
}

func TestUnparsableMailIsDeadLettered(t *testing.T) {
	f := newFixture(t)
	raw := []byte("garbage without headers\n")
	out, err := f.desk.Ingest(context.Background(), "INBOX", 7, []bot.Fetched{{UID: 40, ParseErr: errors.New("no From address"), Raw: raw, DedupeKey: "sha256:abc"}})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Result != bot.ResultDeadLetter || out[0].Disposition != bot.ToFailed {
		t.Fatalf("outcome = %+v", out[0])
	}
	var dls []bot.DeadLetter
	f.db.View(context.Background(), func(tx bot.Tx) error { dls, err = tx.DeadLetters(); return err })
	if len(dls) != 1 || string(dls[0].Raw) != string(raw) || dls[0].Reason != "no From address" {
		t.Errorf("dead letters = %+v", dls)
	}
	items := f.outbox()
	if len(items) != 1 || items[0].Mail.To[0].Email != "manager@example.org" {
		t.Errorf("staff alert = %+v", items)
	}
	// Dragged back into the inbox: nothing new, goes back to Failed.
	out, _ = f.desk.Ingest(context.Background(), "INBOX", 7, []bot.Fetched{{UID: 41, ParseErr: errors.New("no From address"), Raw: raw, DedupeKey: "sha256:abc"}})
	if out[0].Result != bot.ResultDuplicate || out[0].Disposition != bot.ToFailed || len(f.outbox()) != 1 {
		t.Errorf("second copy = %+v", out[0])
	}
}

func TestCursorAdvancesAndSurvivesValidityChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// ingest offers messages given as UID -> mail id letter.
	ingest := func(validity uint32, msgs ...any) {
		var batch []bot.Fetched
		for i := 0; i < len(msgs); i += 2 {
			id := "cur-" + msgs[i+1].(string) + "@oakprimary.sch.uk"
			batch = append(batch, bot.Fetched{UID: uint32(msgs[i].(int)), Mail: mail(id, "a@oakprimary.sch.uk", "x", "y")})
		}
		if _, err := f.desk.Ingest(ctx, "INBOX", validity, batch); err != nil {
			t.Fatal(err)
		}
	}
	ingest(7, 3, "a", 5, "b")
	if c, _ := f.desk.Cursor(ctx, "INBOX"); c != (bot.Cursor{UIDValidity: 7, LastUID: 5}) {
		t.Fatalf("cursor = %+v", c)
	}
	ingest(7, 2, "c") // an old message re-offered: the cursor never goes back
	if c, _ := f.desk.Cursor(ctx, "INBOX"); c.LastUID != 5 {
		t.Fatalf("cursor moved back: %+v", c)
	}
	ingest(9, 1, "a", 2, "b") // new UIDVALIDITY: the same mails again under new UIDs
	if c, _ := f.desk.Cursor(ctx, "INBOX"); c != (bot.Cursor{UIDValidity: 9, LastUID: 2}) {
		t.Fatalf("cursor after validity change = %+v", c)
	}
	if all := allRFAs(t, f.desk); len(all) != 3 {
		t.Errorf("RFAs = %d, want 3 (uids 3, 5, 2 under validity 7; nothing new after)", len(all))
	}
}

func TestEachMailIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := mail("ok@oakprimary.sch.uk", "a@oakprimary.sch.uk", "x", "y")
	bad := mail("", "a@oakprimary.sch.uk", "x", "y")
	bad.DedupeKey = "" // cannot be keyed: the batch transaction fails
	out, err := f.desk.Ingest(ctx, "INBOX", 7, []bot.Fetched{{UID: 1, Mail: good}, {UID: 2, Mail: bad}})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Result != bot.ResultCreated || out[1].Result != bot.ResultDeadLetter {
		t.Fatalf("outcomes = %+v", out)
	}
	all := allRFAs(t, f.desk)
	c, _ := f.desk.Cursor(ctx, "INBOX")
	if len(all) != 1 || len(all[0].Events) < 2 || c.LastUID != 2 {
		t.Errorf("after the fallback: %d RFAs, cursor %+v", len(all), c)
	}
	items := f.outbox()
	if len(items) != 2 { // the good mail's acknowledgement and the staff alert
		t.Errorf("outbox = %d items, want 2", len(items))
	}
}

func TestBareAnswerFillsTheOneMissingField(t *testing.T) {
	f := newFixture(t)
	body := strings.Replace(fullReport, "Can you replicate it: Yes\n", "", 1)
	f.ingest(mail("b1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", body))
	if m := f.rfa(1).Report.Missing(); len(m) != 1 || m[0] != bot.FieldCanReplicate {
		t.Fatalf("missing = %v", m)
	}
	f.ingest(mail("b2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Received: Login", "Thanks for asking, we can't tell yet.\n\nSarah"))
	if got := f.rfa(1).Report.CanReplicate; got != bot.ReplicateUnknown {
		t.Errorf("an unclear answer set can_replicate to %q", got)
	}
	f.ingest(mail("b3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Received: Login", "Yes, every time\n\nSarah"))
	if got := f.rfa(1).Report.CanReplicate; got != bot.ReplicateYes {
		t.Errorf("a bare yes did not fill can_replicate: %q", got)
	}
}

func TestReusedMessageIDFromAnotherMailIsNotLost(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("scanner-1@mfp.oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login broken", "broken"))
	// The same mail again by another route: a duplicate.
	if out := f.ingest(mail("scanner-1@mfp.oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login broken", "broken")); out[0].Result != bot.ResultDuplicate {
		t.Fatalf("redelivery: %+v", out[0])
	}
	// A different mail reusing the id (a broken mailer): recorded, flagged.
	other := mail("scanner-1@mfp.oakprimary.sch.uk", "b@oakprimary.sch.uk", "Printer jams", "It jams.")
	out := f.ingest(other)
	if out[0].Result != bot.ResultCreated || out[0].RFA != 2 {
		t.Fatalf("a different mail with a reused id: %+v, want a new RFA", out[0])
	}
	if r := f.rfa(2); !strings.Contains(r.Flag, "reuses the Message-ID") {
		t.Errorf("flag = %q", r.Flag)
	}
	// Its own redelivery is recognised, and replies to the id still go to RFA-1.
	again := mail("scanner-1@mfp.oakprimary.sch.uk", "b@oakprimary.sch.uk", "Printer jams", "It jams.")
	if out := f.ingest(again); out[0].Result != bot.ResultDuplicate || out[0].RFA != 2 {
		t.Errorf("redelivery of the reusing mail: %+v", out[0])
	}
	reply := mail("r1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: Login broken", "still broken")
	reply.InReplyTo = []string{"scanner-1@mfp.oakprimary.sch.uk"}
	if out := f.ingest(reply); out[0].Result != bot.ResultAppended || out[0].RFA != 1 {
		t.Errorf("reply to the original: %+v, want appended to RFA-1", out[0])
	}
}

func TestReplyThatFailedDMARCDoesNotJoinTheRFA(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("d1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	forged := mail("d2@attacker.example", "s@oakprimary.sch.uk", "Re: [RFA-1] Received: Login", "still broken")
	forged.Auth = bot.AuthFail
	out := f.ingest(forged)
	if out[0].Result != bot.ResultCreated || out[0].RFA != 2 {
		t.Fatalf("a forged reply: %+v, want its own RFA", out[0])
	}
	if r := f.rfa(2); !strings.Contains(r.Flag, "failed sender authentication") {
		t.Errorf("flag = %q", r.Flag)
	}
	if r := f.rfa(1); r.Status != bot.StatusNew || len(r.Messages) != 2 {
		t.Errorf("RFA-1 changed: status %s, %d messages", r.Status, len(r.Messages))
	}
	genuine := mail("d3@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Received: Login", "more detail")
	genuine.Auth = bot.AuthPass
	if out := f.ingest(genuine); out[0].Result != bot.ResultAppended || out[0].RFA != 1 {
		t.Errorf("an authenticated reply: %+v", out[0])
	}
}
