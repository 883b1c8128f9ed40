package mailbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message/mail"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/mailbox"
)

// smtpTestLog routes a Sender's log to t.Log.
type smtpTestLog struct{ t testing.TB }

func (w smtpTestLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var smtpDesk = bot.Address{Name: "Service Desk — École Support", Email: "desk@example.test"}

// smtpSetup starts a capture server and a Sender pointed at it with
// Security "none"; edit adjusts the config before NewSender.
func smtpSetup(t testing.TB, capOpts *demo.SMTPCaptureOptions, edit func(*mailbox.SMTPConfig)) (*demo.SMTPCapture, *mailbox.Sender) {
	t.Helper()
	capture, err := demo.StartSMTPCapture(capOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = capture.Close() })
	cfg := mailbox.SMTPConfig{Address: capture.Addr(), Security: mailbox.SecurityNone, HeloName: "rfadesk.test"}
	if capOpts != nil {
		cfg.Username, cfg.Password = capOpts.Username, capOpts.Password
	}
	if edit != nil {
		edit(&cfg)
	}
	var lg *slog.Logger
	if _, ok := t.(*testing.T); ok {
		lg = slog.New(slog.NewTextHandler(smtpTestLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := mailbox.NewSender(cfg, mailbox.SenderOptions{From: smtpDesk, LoopValue: "desk-7f3a", Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	return capture, s
}

func smtpMail(id string) *bot.OutgoingMail {
	return &bot.OutgoingMail{
		To:        []bot.Address{{Name: "Ann Teacher", Email: "ann@school.test"}},
		Subject:   "RFA 42 received",
		Text:      "We have your request.\n",
		MessageID: id,
		Purpose:   "acknowledgement",
	}
}

// smtpOnly returns the single captured message parsed, after checking the
// envelope.
func smtpOnly(t *testing.T, c *demo.SMTPCapture, wantRcpts ...string) (*netmail.Message, []byte) {
	t.Helper()
	msgs := c.Messages()
	if len(msgs) != 1 {
		t.Fatalf("captured %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != smtpDesk.Email {
		t.Errorf("MAIL FROM = %q, want %q", m.From, smtpDesk.Email)
	}
	if strings.Join(m.To, ",") != strings.Join(wantRcpts, ",") {
		t.Errorf("RCPT TO = %q, want %q", m.To, wantRcpts)
	}
	pm, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("captured message does not parse: %v\n%s", err, m.Data)
	}
	return pm, m.Data
}

func smtpDecode(t *testing.T, v string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return d
}

func TestSendHeadersBodyAndAttachments(t *testing.T) {
	capture, s := smtpSetup(t, &demo.SMTPCaptureOptions{Username: "desk", Password: "s3cret"}, nil)
	pdf := append([]byte("%PDF-1.4\n"), 0, 1, 2, 0xff, 0xfe, '\r', '\n', '.', '\n')
	out := &bot.OutgoingMail{
		To: []bot.Address{
			{Name: "Zoë Brontë", Email: "zoe@school.test"},
			{Email: "office@school.test"},
		},
		Subject:    "Réponse : votre demande № 42 — reçue ✓",
		Text:       "Bonjour Zoë,\n\nWe have your request.\n.\nA line starting with a dot above.\n",
		HTML:       "<p>Bonjour Zoë,</p><p>We have your request.</p>",
		MessageID:  "rfa-42.ack.1@desk.example.test",
		InReplyTo:  "cafe01@mail.school.test",
		References: []string{"root@mail.school.test", "cafe01@mail.school.test"},
		Auto:       true,
		Attachments: []bot.Attachment{
			{Name: "rapport été.pdf", ContentType: "application/pdf", Data: pdf, Size: int64(len(pdf))},
			{Name: "notes.txt", ContentType: "bogus\r\nX-Evil: 1", Data: []byte("plain notes\n")},
		},
	}
	before := time.Now().Add(-time.Second)
	if err := s.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	pm, raw := smtpOnly(t, capture, "zoe@school.test", "office@school.test")
	h := pm.Header

	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != smtpDesk.Name || from[0].Address != smtpDesk.Email {
		t.Errorf("From = %v (%v), want %v", from, err, smtpDesk)
	}
	if strings.Contains(h.Get("From"), "École") {
		t.Errorf("From display name not encoded: %q", h.Get("From"))
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != "Zoë Brontë" || to[0].Address != "zoe@school.test" || to[1].Address != "office@school.test" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if got := smtpDecode(t, h.Get("Subject")); got != out.Subject {
		t.Errorf("Subject = %q, want %q", got, out.Subject)
	}
	if strings.ContainsFunc(h.Get("Subject"), func(r rune) bool { return r >= 0x80 }) {
		t.Errorf("raw Subject is not ASCII: %q", h.Get("Subject"))
	}
	for name, want := range map[string]string{
		"Message-Id":               "<rfa-42.ack.1@desk.example.test>",
		"In-Reply-To":              "<cafe01@mail.school.test>",
		"References":               "<root@mail.school.test> <cafe01@mail.school.test>",
		"X-Rfadesk-Loop":           "desk-7f3a",
		"Auto-Submitted":           "auto-replied",
		"X-Auto-Response-Suppress": "All",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	date, err := h.Date()
	if err != nil || date.Before(before.Truncate(time.Second)) || date.After(after) {
		t.Errorf("Date = %v (%v), want between %v and %v", date, err, before, after)
	}
	if h.Get("X-Evil") != "" || bytes.Contains(raw, []byte("\r\nX-Evil:")) {
		t.Error("attachment content type injected a header")
	}

	// Body: text and HTML alternatives, two attachments, decoded intact.
	mr, err := gomessage.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var texts = map[string]string{}
	var files = map[string][]byte{}
	var types = map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch ph := p.Header.(type) {
		case *gomessage.InlineHeader:
			ct, _, _ := ph.ContentType()
			texts[ct] = strings.ReplaceAll(string(body), "\r\n", "\n")
		case *gomessage.AttachmentHeader:
			name, err := ph.Filename()
			if err != nil {
				t.Fatal(err)
			}
			ct, _, _ := ph.ContentType()
			files[name], types[name] = body, ct
		}
	}
	if texts["text/plain"] != out.Text {
		t.Errorf("text/plain = %q, want %q", texts["text/plain"], out.Text)
	}
	if texts["text/html"] != out.HTML {
		t.Errorf("text/html = %q, want %q", texts["text/html"], out.HTML)
	}
	if !bytes.Equal(files["rapport été.pdf"], pdf) || types["rapport été.pdf"] != "application/pdf" {
		t.Errorf("pdf attachment = %q (%s), want %q", files["rapport été.pdf"], types["rapport été.pdf"], pdf)
	}
	if string(files["notes.txt"]) != "plain notes\n" || types["notes.txt"] != "application/octet-stream" {
		t.Errorf("notes attachment = %q (%s)", files["notes.txt"], types["notes.txt"])
	}
}

func TestSendPlainMailHasNoAutoOrThreadHeaders(t *testing.T) {
	capture, s := smtpSetup(t, nil, nil)
	if err := s.Send(context.Background(), smtpMail("plain-1@desk.example.test")); err != nil {
		t.Fatal(err)
	}
	pm, raw := smtpOnly(t, capture, "ann@school.test")
	for _, name := range []string{"Auto-Submitted", "X-Auto-Response-Suppress", "In-Reply-To", "References"} {
		if v, ok := pm.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
			t.Errorf("%s present on a non-auto, unthreaded mail: %q", name, v)
		}
	}
	if got := pm.Header.Get("Message-Id"); got != "<plain-1@desk.example.test>" {
		t.Errorf("Message-ID = %q", got)
	}
	if ct := pm.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want a single text/plain part\n%s", ct, raw)
	}
	body, _ := io.ReadAll(pm.Body)
	if !strings.Contains(string(body), "We have your request.") {
		t.Errorf("body = %q", body)
	}
}

func TestSendStripsCRLFFromHeaderValues(t *testing.T) {
	capture, s := smtpSetup(t, nil, nil)
	m := smtpMail("inject-1@desk.example.test")
	m.Subject = "Hello\r\nBcc: evil@example.test\r\nX-Injected: yes"
	m.To[0].Name = "Ann\r\nX-Name-Injected: yes"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	pm, raw := smtpOnly(t, capture, "ann@school.test")
	for _, name := range []string{"Bcc", "X-Injected", "X-Name-Injected"} {
		if pm.Header.Get(name) != "" {
			t.Errorf("header %s was injected:\n%s", name, raw)
		}
	}
	if got := smtpDecode(t, pm.Header.Get("Subject")); got != "Hello Bcc: evil@example.test X-Injected: yes" {
		t.Errorf("Subject = %q", got)
	}
	to, err := pm.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Ann X-Name-Injected: yes" {
		t.Errorf("To = %v (%v)", to, err)
	}
}

func TestSendRefusesMalformedMailPermanently(t *testing.T) {
	capture, s := smtpSetup(t, nil, nil)
	for name, edit := range map[string]func(*bot.OutgoingMail){
		"no recipient":     func(m *bot.OutgoingMail) { m.To = nil },
		"bad recipient":    func(m *bot.OutgoingMail) { m.To[0].Email = "ann@school.test\r\nRCPT TO:<x@y>" },
		"empty message id": func(m *bot.OutgoingMail) { m.MessageID = "" },
		"bracketed id":     func(m *bot.OutgoingMail) { m.MessageID = "<a@b>" },
		"non-ascii id":     func(m *bot.OutgoingMail) { m.MessageID = "caf\u00e9@desk.example.test" },
		"over-long id":     func(m *bot.OutgoingMail) { m.MessageID = strings.Repeat("a", 251) + "@d" },
		"over-long recipient": func(m *bot.OutgoingMail) {
			m.To[0].Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".test" // 259 octets
		},
		"attachment lost data": func(m *bot.OutgoingMail) {
			m.Attachments = []bot.Attachment{{Name: "big.bin", Size: 10 << 20}}
		},
	} {
		m := smtpMail("bad@desk.example.test")
		edit(m)
		err := s.Send(context.Background(), m)
		var de *bot.DeliveryError
		if !errors.As(err, &de) || de.Failure != bot.DeliveryPermanent {
			t.Errorf("%s: err = %v, want a permanent DeliveryError", name, err)
		}
	}
	if n := len(capture.Messages()); n != 0 {
		t.Errorf("captured %d malformed messages", n)
	}
}

// smtpWantFailure checks err is a *bot.DeliveryError of the given kind.
func smtpWantFailure(t *testing.T, err error, want bot.DeliveryFailure, code int, rcpt string) {
	t.Helper()
	var de *bot.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v (%T), want *bot.DeliveryError", err, err)
	}
	if de.Failure != want || de.Code != code || de.Recipient != rcpt {
		t.Errorf("got failure=%v code=%d recipient=%q (%v), want %v %d %q", de.Failure, de.Code, de.Recipient, err, want, code, rcpt)
	}
	if !strings.HasPrefix(de.Err.Error(), "mailbox: ") {
		t.Errorf("error %q lacks the package prefix", de.Err)
	}
}

func TestSendClassifiesFailures(t *testing.T) {
	type fault struct {
		stage string
		code  int
	}
	cases := []struct {
		name    string
		fault   fault
		down    bool
		user    string // override the sender's username ("-" for none)
		pass    string
		want    bot.DeliveryFailure
		code    int
		rcpt    string
		retryOK bool // the next send (fault used up) is accepted
	}{
		{name: "451 on RCPT", fault: fault{demo.FaultRcpt, 451}, want: bot.DeliveryTemporary, code: 451, retryOK: true},
		{name: "550 on RCPT", fault: fault{demo.FaultRcpt, 550}, want: bot.DeliveryPermanent, code: 550, rcpt: "ann@school.test", retryOK: true},
		{name: "553 on MAIL", fault: fault{demo.FaultMail, 553}, want: bot.DeliveryPermanent, code: 553, retryOK: true},
		{name: "421 on MAIL", fault: fault{demo.FaultMail, 421}, want: bot.DeliveryTemporary, code: 421, retryOK: true},
		{name: "554 on DATA", fault: fault{demo.FaultData, 554}, want: bot.DeliveryPermanent, code: 554, retryOK: true},
		{name: "452 on DATA", fault: fault{demo.FaultData, 452}, want: bot.DeliveryTemporary, code: 452, retryOK: true},
		{name: "535 on AUTH", fault: fault{demo.FaultAuth, 535}, want: bot.DeliveryAuth, code: 535, retryOK: true},
		{name: "534 on AUTH", fault: fault{demo.FaultAuth, 534}, want: bot.DeliveryAuth, code: 534, retryOK: true},
		{name: "454 on AUTH", fault: fault{demo.FaultAuth, 454}, want: bot.DeliveryTemporary, code: 454, retryOK: true},
		{name: "wrong password", user: "desk", pass: "wrong", want: bot.DeliveryAuth, code: 535},
		{name: "no credentials, server wants AUTH", user: "-", want: bot.DeliveryAuth, code: 530},
		{name: "server down", down: true, want: bot.DeliveryTemporary, code: 421},
		{name: "closed at greeting", fault: fault{demo.FaultConnect, 0}, want: bot.DeliveryTemporary, retryOK: true},
		{name: "554 at greeting", fault: fault{demo.FaultConnect, 554}, want: bot.DeliveryTemporary, code: 554, retryOK: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			capture, s := smtpSetup(t, &demo.SMTPCaptureOptions{Username: "desk", Password: "s3cret"}, func(c *mailbox.SMTPConfig) {
				switch tc.user {
				case "":
				case "-":
					c.Username, c.Password = "", ""
				default:
					c.Username, c.Password = tc.user, tc.pass
				}
			})
			if tc.fault.stage != "" {
				capture.FailNext(tc.fault.stage, tc.fault.code, 1)
			}
			capture.SetDown(tc.down)
			m := smtpMail("fault-1@desk.example.test")
			smtpWantFailure(t, s.Send(context.Background(), m), tc.want, tc.code, tc.rcpt)
			if n := len(capture.Messages()); n != 0 {
				t.Fatalf("a failed send was captured (%d)", n)
			}
			if tc.retryOK {
				if err := s.Send(context.Background(), m); err != nil {
					t.Fatalf("retry after the fault: %v", err)
				}
				pm, _ := smtpOnly(t, capture, "ann@school.test")
				if got := pm.Header.Get("Message-Id"); got != "<fault-1@desk.example.test>" {
					t.Errorf("retry Message-ID = %q", got)
				}
			}
		})
	}
}

// One of several recipients refused for good: the others get the mail,
// and the refusal is reported as a *bot.PartialDelivery. Every recipient
// refused is a permanent failure; a 4xx on any recipient retries all.
func TestSendPartlyRefusedRecipients(t *testing.T) {
	capture, s := smtpSetup(t, nil, nil)
	m := smtpMail("two-1@desk.example.test")
	m.To = append(m.To, bot.Address{Email: "bob@school.test"})
	capture.FailNext(demo.FaultRcpt, 550, 1)
	var pd *bot.PartialDelivery
	if err := s.Send(context.Background(), m); !errors.As(err, &pd) || len(pd.Refused) != 1 || pd.Refused[0] != "ann@school.test" {
		t.Fatalf("err = %v, want a partial delivery refusing ann", err)
	}
	if msgs := capture.Messages(); len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "bob@school.test" {
		t.Fatalf("delivered = %+v, want bob only", msgs)
	}

	m = smtpMail("two-2@desk.example.test")
	m.To = append(m.To, bot.Address{Email: "bob@school.test"})
	capture.FailNext(demo.FaultRcpt, 550, 2)
	smtpWantFailure(t, s.Send(context.Background(), m), bot.DeliveryPermanent, 550, "ann@school.test")

	m = smtpMail("two-3@desk.example.test")
	m.To = append(m.To, bot.Address{Email: "bob@school.test"})
	capture.FailNext(demo.FaultRcpt, 451, 1)
	smtpWantFailure(t, s.Send(context.Background(), m), bot.DeliveryTemporary, 451, "")
	if n := len(capture.Messages()); n != 1 {
		t.Fatalf("%d mails delivered, want only the first", n)
	}
}

func TestSendUnreachableAndCancelled(t *testing.T) {
	capture, s := smtpSetup(t, nil, nil)
	if err := capture.Close(); err != nil {
		t.Fatal(err)
	}
	smtpWantFailure(t, s.Send(context.Background(), smtpMail("gone-1@x.test")), bot.DeliveryTemporary, 0, "")

	_, s2 := smtpSetup(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s2.Send(ctx, smtpMail("cancel-1@x.test"))
	smtpWantFailure(t, err, bot.DeliveryTemporary, 0, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
}

// TestSendCancelDuringTransaction cancels while the server holds the
// final reply (OnAccept blocks), and expects Send to return without
// waiting for the server.
func TestSendCancelDuringTransaction(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	capture, s := smtpSetup(t, &demo.SMTPCaptureOptions{OnAccept: func(demo.CapturedMail) {
		entered <- struct{}{}
		<-release
	}}, func(c *mailbox.SMTPConfig) { c.Timeout = time.Hour })
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, smtpMail("slow-1@x.test")) }()
	<-entered
	cancel()
	err := <-done
	smtpWantFailure(t, err, bot.DeliveryTemporary, 0, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	if n := len(capture.Messages()); n != 1 {
		t.Errorf("server recorded %d (the reply was lost, not the message)", n)
	}
}

func TestNewSenderValidation(t *testing.T) {
	from := mailbox.SenderOptions{From: smtpDesk}
	for _, tc := range []struct {
		cfg    mailbox.SMTPConfig
		ok     bool
		errHas string
	}{
		{cfg: mailbox.SMTPConfig{Address: "smtp.example.test:25", Security: "none"}, errHas: "loopback"},
		{cfg: mailbox.SMTPConfig{Address: "192.0.2.1:25", Security: "none"}, errHas: "loopback"},
		{cfg: mailbox.SMTPConfig{Address: "127.0.0.1:25", Security: "none"}, ok: true},
		{cfg: mailbox.SMTPConfig{Address: "[::1]:25", Security: "none"}, ok: true},
		{cfg: mailbox.SMTPConfig{Address: "localhost:25", Security: "none"}, ok: true},
		{cfg: mailbox.SMTPConfig{Address: "LOCALHOST:25", Security: "none"}, ok: true},
		{cfg: mailbox.SMTPConfig{Address: "smtp.example.test:587", Security: "starttls"}, ok: true},
		{cfg: mailbox.SMTPConfig{Address: "smtp.example.test:465", Security: "tls"}, ok: true},
		{cfg: mailbox.SMTPConfig{Address: "smtp.example.test:465", Security: "ssl"}, errHas: "security"},
		{cfg: mailbox.SMTPConfig{Address: "smtp.example.test", Security: "tls"}, errHas: "host:port"},
	} {
		_, err := mailbox.NewSender(tc.cfg, from)
		if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("NewSender(%+v) = %v, want ok=%v or an error about %q", tc.cfg, err, tc.ok, tc.errHas)
		}
	}
	if _, err := mailbox.NewSender(mailbox.SMTPConfig{Address: "127.0.0.1:25", Security: "none"},
		mailbox.SenderOptions{From: bot.Address{Email: "not an address"}}); err == nil {
		t.Error("NewSender accepted a bad From address")
	}
	if _, err := mailbox.NewSender(mailbox.SMTPConfig{Address: "127.0.0.1:25", Security: "none"},
		mailbox.SenderOptions{From: smtpDesk, LoopValue: strings.Repeat("l", 251)}); err == nil || !strings.Contains(err.Error(), "loop value") {
		t.Errorf("NewSender with a 251-octet loop value: %v, want an error about the loop value", err)
	}
}

func TestSendConcurrent(t *testing.T) {
	capture, s := smtpSetup(t, nil, nil)
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- s.Send(context.Background(), smtpMail("conc-"+string(rune('a'+i))+"@x.test"))
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	ids := map[string]bool{}
	for _, m := range capture.Messages() {
		pm, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		ids[pm.Header.Get("Message-Id")] = true
	}
	if len(ids) != n {
		t.Errorf("captured %d distinct messages, want %d", len(ids), n)
	}
}

// BenchmarkSend measures Send over loopback on a kept connection
// (MaxMailsPerConn 100); BenchmarkSendNewConnection dials for every mail.
func BenchmarkSend(b *testing.B) { benchmarkSend(b, 0) }

func BenchmarkSendNewConnection(b *testing.B) { benchmarkSend(b, 1) }

func benchmarkSend(b *testing.B, perConn int) {
	capture, s := smtpSetup(b, nil, func(c *mailbox.SMTPConfig) { c.MaxMailsPerConn = perConn })
	defer s.Close()
	m := smtpMail("bench@desk.example.test")
	m.HTML = "<p>We have your request.</p>"
	for b.Loop() {
		if err := s.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
	_ = capture
}

func BenchmarkSendParallel(b *testing.B) {
	_, s := smtpSetup(b, nil, nil)
	m := smtpMail("bench-par@desk.example.test")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Send(context.Background(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
}
