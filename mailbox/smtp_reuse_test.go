package mailbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	netmail "net/mail"
	"sync"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/mailbox"
)

// smtpProxy is a TCP relay in front of a capture server: it counts the
// connections the Sender opens and can cut them as a server or a NAT
// dropping an idle connection would.
type smtpProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  []*proxiedConn
	opened int
}

type proxiedConn struct {
	client, server net.Conn
	closed         chan struct{} // closed when the client side reaches EOF
}

func startSMTPProxy(t *testing.T, target string) *smtpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &smtpProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.drop()
	})
	go p.serve()
	return p
}

func (p *smtpProxy) Addr() string { return p.ln.Addr().String() }

func (p *smtpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxiedConn{client: c, server: s, closed: make(chan struct{})}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.opened++
		p.mu.Unlock()
		go func() {
			_, _ = io.Copy(s, c)
			close(pc.closed)
			s.Close()
		}()
		go func() {
			_, _ = io.Copy(c, s)
			c.Close()
		}()
	}
}

// Opened returns how many connections the client has opened.
func (p *smtpProxy) Opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opened
}

// last returns the most recent connection.
func (p *smtpProxy) last(t *testing.T) *proxiedConn {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) == 0 {
		t.Fatal("no connection through the proxy")
	}
	return p.conns[len(p.conns)-1]
}

// drop cuts every open connection without a word to either side.
func (p *smtpProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.client.Close()
		c.server.Close()
	}
}

// reuseSetup is smtpSetup with the Sender behind a counting proxy.
func reuseSetup(t *testing.T, capOpts *demo.SMTPCaptureOptions, edit func(*mailbox.SMTPConfig)) (*demo.SMTPCapture, *smtpProxy, *mailbox.Sender) {
	t.Helper()
	var proxy *smtpProxy
	capture, s := smtpSetup(t, capOpts, func(c *mailbox.SMTPConfig) {
		proxy = startSMTPProxy(t, c.Address)
		c.Address = proxy.Addr()
		if edit != nil {
			edit(c)
		}
	})
	t.Cleanup(func() { _ = s.Close() })
	return capture, proxy, s
}

// capturedIDs returns the Message-IDs the server accepted, in order.
func capturedIDs(t *testing.T, c *demo.SMTPCapture) []string {
	t.Helper()
	var ids []string
	for _, m := range c.Messages() {
		pm, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pm.Header.Get("Message-Id"))
	}
	return ids
}

func sendAll(t *testing.T, s *mailbox.Sender, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.Send(context.Background(), smtpMail(id)); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
	}
}

func wantIDs(t *testing.T, c *demo.SMTPCapture, want ...string) {
	t.Helper()
	got := capturedIDs(t, c)
	if len(got) != len(want) {
		t.Fatalf("captured %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != "<"+want[i]+">" {
			t.Errorf("message %d = %s, want <%s>", i, got[i], want[i])
		}
	}
}

func TestSendReusesOneConnection(t *testing.T) {
	capture, proxy, s := reuseSetup(t, &demo.SMTPCaptureOptions{Username: "desk", Password: "s3cret"}, nil)
	sendAll(t, s, "r1@x.test", "r2@x.test", "r3@x.test", "r4@x.test", "r5@x.test")
	wantIDs(t, capture, "r1@x.test", "r2@x.test", "r3@x.test", "r4@x.test", "r5@x.test")
	if n := proxy.Opened(); n != 1 {
		t.Errorf("opened %d connections for 5 mails, want 1", n)
	}
	for _, m := range capture.Messages() {
		if m.From != smtpDesk.Email || len(m.To) != 1 || m.To[0] != "ann@school.test" {
			t.Errorf("envelope of a reused connection: from %q to %q", m.From, m.To)
		}
	}
}

func TestSendMaxMailsPerConnection(t *testing.T) {
	capture, proxy, s := reuseSetup(t, nil, func(c *mailbox.SMTPConfig) { c.MaxMailsPerConn = 2 })
	sendAll(t, s, "m1@x.test", "m2@x.test", "m3@x.test", "m4@x.test", "m5@x.test")
	wantIDs(t, capture, "m1@x.test", "m2@x.test", "m3@x.test", "m4@x.test", "m5@x.test")
	if n := proxy.Opened(); n != 3 {
		t.Errorf("opened %d connections for 5 mails at 2 per connection, want 3", n)
	}
}

// TestSendRedialsADroppedConnection cuts the kept connection between two
// mails: the second mail still goes out, once, on a new connection.
func TestSendRedialsADroppedConnection(t *testing.T) {
	capture, proxy, s := reuseSetup(t, nil, nil)
	sendAll(t, s, "d1@x.test")
	proxy.drop()
	sendAll(t, s, "d2@x.test", "d3@x.test")
	wantIDs(t, capture, "d1@x.test", "d2@x.test", "d3@x.test")
	if n := proxy.Opened(); n != 2 {
		t.Errorf("opened %d connections, want 2 (one redial)", n)
	}
}

// TestSendRetries421OnMailFromOnAKeptConnection: a server closing an idle
// connection answers 421; the mail goes out on a fresh connection.
func TestSendRetries421OnMailFromOnAKeptConnection(t *testing.T) {
	capture, proxy, s := reuseSetup(t, nil, nil)
	sendAll(t, s, "c1@x.test")
	capture.FailNext(demo.FaultMail, 421, 1)
	sendAll(t, s, "c2@x.test")
	wantIDs(t, capture, "c1@x.test", "c2@x.test")
	if n := proxy.Opened(); n != 2 {
		t.Errorf("opened %d connections, want 2", n)
	}
}

// TestSendKeptConnectionFailuresAfterMailFrom are reported as on a fresh
// connection and never retried (the server might have taken the mail).
func TestSendKeptConnectionFailuresAfterMailFrom(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stage string
		code  int
		want  bot.DeliveryFailure
		rcpt  string
	}{
		{"451 on MAIL", demo.FaultMail, 451, bot.DeliveryTemporary, ""},
		{"553 on MAIL", demo.FaultMail, 553, bot.DeliveryPermanent, ""},
		{"421 on RCPT", demo.FaultRcpt, 421, bot.DeliveryTemporary, ""},
		{"550 on RCPT", demo.FaultRcpt, 550, bot.DeliveryPermanent, "ann@school.test"},
		{"421 on DATA", demo.FaultData, 421, bot.DeliveryTemporary, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capture, proxy, s := reuseSetup(t, nil, nil)
			sendAll(t, s, "k1@x.test")
			capture.FailNext(tc.stage, tc.code, 1)
			smtpWantFailure(t, s.Send(context.Background(), smtpMail("k2@x.test")), tc.want, tc.code, tc.rcpt)
			wantIDs(t, capture, "k1@x.test")
			if n := proxy.Opened(); n != 1 {
				t.Errorf("opened %d connections, want 1 (no retry)", n)
			}
			// The failed connection is not kept: the next mail dials.
			sendAll(t, s, "k3@x.test")
			wantIDs(t, capture, "k1@x.test", "k3@x.test")
			if n := proxy.Opened(); n != 2 {
				t.Errorf("opened %d connections after the failure, want 2", n)
			}
		})
	}
}

// TestSendDropAfterMailFromIsNotRetried cuts the connection while the
// server holds its answer to the end of DATA: the mail is reported
// temporary, the server has it once, and nothing is sent again.
func TestSendDropAfterMailFromIsNotRetried(t *testing.T) {
	var proxy *smtpProxy
	var once sync.Once
	capture, proxy, s := reuseSetup(t, &demo.SMTPCaptureOptions{OnAccept: func(m demo.CapturedMail) {
		if len(m.Data) > 0 && bytes.Contains(m.Data, []byte("<x2@x.test>")) {
			once.Do(func() { proxy.drop() })
		}
	}}, nil)
	sendAll(t, s, "x1@x.test")
	smtpWantFailure(t, s.Send(context.Background(), smtpMail("x2@x.test")), bot.DeliveryTemporary, 0, "")
	wantIDs(t, capture, "x1@x.test", "x2@x.test")
	if n := proxy.Opened(); n != 1 {
		t.Errorf("opened %d connections, want 1 (no retry after MAIL FROM)", n)
	}
}

func TestSendClosesIdleConnection(t *testing.T) {
	capture, proxy, s := reuseSetup(t, nil, func(c *mailbox.SMTPConfig) { c.IdleTimeout = 20 * time.Millisecond })
	sendAll(t, s, "i1@x.test")
	first := proxy.last(t)
	select {
	case <-first.closed: // the Sender said QUIT and hung up by itself
	case <-time.After(10 * time.Second):
		t.Fatal("the idle connection was never closed")
	}
	sendAll(t, s, "i2@x.test")
	wantIDs(t, capture, "i1@x.test", "i2@x.test")
	if n := proxy.Opened(); n != 2 {
		t.Errorf("opened %d connections, want 2", n)
	}
}

func TestSenderCloseHangsUp(t *testing.T) {
	capture, proxy, s := reuseSetup(t, nil, nil)
	sendAll(t, s, "q1@x.test")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-proxy.last(t).closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close left the connection open")
	}
	// A closed Sender still sends, one connection per mail.
	sendAll(t, s, "q2@x.test", "q3@x.test")
	wantIDs(t, capture, "q1@x.test", "q2@x.test", "q3@x.test")
	if n := proxy.Opened(); n != 3 {
		t.Errorf("opened %d connections, want 3", n)
	}
	select {
	case <-proxy.last(t).closed:
	case <-time.After(10 * time.Second):
		t.Fatal("a closed Sender kept a connection")
	}
}

// TestSendCancelOnKeptConnection cancels while the server holds the
// answer on a kept connection: Send returns, and the next mail dials.
func TestSendCancelOnKeptConnection(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var block sync.Once
	capture, proxy, s := reuseSetup(t, &demo.SMTPCaptureOptions{OnAccept: func(m demo.CapturedMail) {
		if bytes.Contains(m.Data, []byte("<s2@x.test>")) {
			block.Do(func() {
				entered <- struct{}{}
				<-release
			})
		}
	}}, func(c *mailbox.SMTPConfig) { c.Timeout = time.Hour })
	defer close(release)
	sendAll(t, s, "s1@x.test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, smtpMail("s2@x.test")) }()
	<-entered
	cancel()
	smtpWantFailure(t, <-done, bot.DeliveryTemporary, 0, "")
	sendAll(t, s, "s3@x.test")
	wantIDs(t, capture, "s1@x.test", "s2@x.test", "s3@x.test")
	if n := proxy.Opened(); n != 2 {
		t.Errorf("opened %d connections, want 2", n)
	}
}

// TestPrepareHoldsTheMailUntilCommit: after Prepare the server has the
// message but has not accepted it; Commit makes it accepted, once.
func TestPrepareHoldsTheMailUntilCommit(t *testing.T) {
	capture, proxy, s := reuseSetup(t, nil, nil)
	p, err := s.Prepare(context.Background(), smtpMail("p1@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(capture.Messages()); n != 0 {
		t.Fatalf("server accepted %d mails before Commit", n)
	}
	if err := p.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, capture, "p1@x.test")
	smtpWantFailure(t, p.Commit(context.Background()), bot.DeliveryTemporary, 0, "")
	wantIDs(t, capture, "p1@x.test")

	// The connection is kept for the next prepared mail.
	p2, err := s.Prepare(context.Background(), smtpMail("p2@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, capture, "p1@x.test", "p2@x.test")
	if n := proxy.Opened(); n != 1 {
		t.Errorf("opened %d connections, want 1", n)
	}
}

// TestPrepareAbortSendsNothing: an aborted mail is discarded by the
// server, as after a crash before Commit, and the next mail goes out.
func TestPrepareAbortSendsNothing(t *testing.T) {
	capture, proxy, s := reuseSetup(t, nil, nil)
	sendAll(t, s, "a1@x.test")
	p, err := s.Prepare(context.Background(), smtpMail("a2@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	p.Abort()
	p.Abort()
	sendAll(t, s, "a3@x.test")
	wantIDs(t, capture, "a1@x.test", "a3@x.test")
	smtpWantFailure(t, p.Commit(context.Background()), bot.DeliveryTemporary, 0, "")
	wantIDs(t, capture, "a1@x.test", "a3@x.test")
	if n := proxy.Opened(); n != 2 {
		t.Errorf("opened %d connections, want 2", n)
	}
}

func TestPrepareCommitCancelled(t *testing.T) {
	capture, _, s := reuseSetup(t, nil, nil)
	p, err := s.Prepare(context.Background(), smtpMail("cc1@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = p.Commit(ctx)
	smtpWantFailure(t, err, bot.DeliveryTemporary, 0, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	sendAll(t, s, "cc2@x.test")
	wantIDs(t, capture, "cc2@x.test")
}
