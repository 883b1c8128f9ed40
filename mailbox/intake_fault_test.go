package mailbox

import (
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/demo/faultproxy"
	"rfadesk/mailbox/dovecottest"
)

// The tests in this file run intake against a real Dovecot through
// demo/faultproxy, which breaks the TCP connection in the ways networks
// do. Each asserts counts: every mail recorded once, moved once, nothing
// left behind. Waits are generous "eventually" polls, never timings.

// startDovecotBehindProxy starts a Dovecot and a fault proxy in front of
// it. The returned server inspects Dovecot directly; intake is pointed
// at the proxy with viaProxy.
func startDovecotBehindProxy(t *testing.T) (*server, *faultproxy.Proxy) {
	t.Helper()
	d := dovecottest.Start(t, &dovecottest.Options{Mailboxes: folders})
	p, err := faultproxy.New(d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s := &server{
		name: "dovecot", addr: d.Addr(), user: d.User(), password: d.Password(),
		appendAt: func(t *testing.T, mailbox string, raw []byte, date time.Time) uint32 {
			return d.Append(t, mailbox, raw, date)
		},
		drop: func(t *testing.T) { d.Restart(t) },
	}
	return s, p
}

// viaProxy points intake at the proxy.
func viaProxy(p *faultproxy.Proxy, more func(*IMAPConfig, *Intake)) func(*IMAPConfig, *Intake) {
	return func(c *IMAPConfig, in *Intake) {
		c.Address = p.Addr()
		if more != nil {
			more(c, in)
		}
	}
}

// waitFired waits for a cut to happen.
func waitFired(t *testing.T, fired <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-fired:
	case <-time.After(30 * time.Second):
		t.Fatalf("gave up waiting for the cut %s", what)
	}
}

// A connection cut in the middle of a message body (mid-FETCH) loses
// nothing: the batch was never offered to the desk, the new connection
// fetches it again, and every mail is recorded once.
func TestIntakeFaultCutMidFetch(t *testing.T) {
	s, p := startDovecotBehindProxy(t)
	for _, id := range []string{"a@x", "b@x", "c@x"} {
		s.appendMsg(t, "INBOX", msg(id))
	}
	// The body text is inside the FETCH literal: the client gets half a
	// response.
	fired := p.CutNext(faultproxy.Cut{When: []byte("The register page")})
	rec := newRecorder()
	_, stop := runIntake(t, s, rec, nil, viaProxy(p, nil))
	defer stop()
	waitFired(t, fired, "in the first body")
	s.waitIDs(t, "Processed", "a@x", "b@x", "c@x")
	s.waitIDs(t, "INBOX")
	created, _, offered := rec.snapshot()
	if want := []string{"a@x", "b@x", "c@x"}; !slices.Equal(created, want) {
		t.Fatalf("created %v, want %v once each", created, want)
	}
	if len(offered) != 2 { // batches of 2: {1,2} and {3}; the cut batch never reached the desk
		t.Fatalf("Ingest calls %v, want 2: a half-fetched batch must not be offered", offered)
	}
	if p.Accepted() < 2 {
		t.Fatalf("%d connections, want a replacement after the cut", p.Accepted())
	}
}

// A connection cut while idling, just as the server announces new mail
// (the EXISTS is lost with it), is replaced and the mail is taken once.
func TestIntakeFaultCutMidIdle(t *testing.T) {
	s, p := startDovecotBehindProxy(t)
	rec := newRecorder()
	health := &healthLog{}
	_, stop := runIntake(t, s, rec, health, viaProxy(p, nil))
	defer stop()
	s.appendMsg(t, "INBOX", msg("a@x"))
	s.waitIDs(t, "Processed", "a@x")
	eventually(t, "one connection open", func() bool { return len(p.Conns()) == 1 })

	fired := p.CutNext(faultproxy.Cut{When: []byte(" EXISTS")})
	s.appendMsg(t, "INBOX", msg("b@x"))
	waitFired(t, fired, "on the EXISTS sent during IDLE")
	s.waitIDs(t, "Processed", "a@x", "b@x")
	s.appendMsg(t, "INBOX", msg("c@x")) // and the new connection idles
	s.waitIDs(t, "Processed", "a@x", "b@x", "c@x")
	created, _, _ := rec.snapshot()
	if want := []string{"a@x", "b@x", "c@x"}; !slices.Equal(created, want) {
		t.Fatalf("created %v, want %v once each", created, want)
	}
	if n := p.Accepted(); n != 2 {
		t.Fatalf("%d connections, want exactly 2 (one replacement)", n)
	}
	if ev := health.get(); !slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "down: imap:") }) {
		t.Fatalf("health events %v, want the lost connection reported", ev)
	}
}

// A connection cut just as the server accepts IDLE ("+ idling") is
// replaced, and mail appended afterwards is taken once.
func TestIntakeFaultCutAtIdleContinuation(t *testing.T) {
	s, p := startDovecotBehindProxy(t)
	fired := p.CutNext(faultproxy.Cut{When: []byte("+ idling")})
	rec := newRecorder()
	_, stop := runIntake(t, s, rec, nil, viaProxy(p, nil))
	defer stop()
	waitFired(t, fired, "at the first IDLE")
	s.appendMsg(t, "INBOX", msg("a@x"))
	s.waitIDs(t, "Processed", "a@x")
	if created, _, _ := rec.snapshot(); !slices.Equal(created, []string{"a@x"}) {
		t.Fatalf("created %v, want a@x once", created)
	}
	if n := p.Accepted(); n != 2 {
		t.Fatalf("%d connections, want exactly 2 (one replacement)", n)
	}
}

// An idling connection that goes silent both ways without closing is
// noticed by the watchdog at its configured command timeout (the health
// reason names it), dropped and replaced; mail that arrived meanwhile
// is taken once.
func TestIntakeFaultBlackHoledIdleIsReplaced(t *testing.T) {
	s, p := startDovecotBehindProxy(t)
	rec := newRecorder()
	health := &healthLog{}
	_, stop := runIntake(t, s, rec, health, viaProxy(p, func(c *IMAPConfig, in *Intake) {
		c.PollInterval = 300 * time.Millisecond // ends IDLE, so the watchdog gets a command (DONE) to time
		in.cmdTimeout = 1500 * time.Millisecond
	}))
	defer stop()
	s.appendMsg(t, "INBOX", msg("a@x"))
	s.waitIDs(t, "Processed", "a@x")

	p.BlackHole() // the one open connection
	s.appendMsg(t, "INBOX", msg("b@x"))
	s.waitIDs(t, "Processed", "a@x", "b@x")
	ev := health.get()
	if !slices.ContainsFunc(ev, func(e string) bool {
		return strings.Contains(e, "did not answer") && strings.Contains(e, "no answer within 1.5s")
	}) {
		t.Fatalf("health events %v, want the watchdog's report at the configured 1.5s", ev)
	}
	created, _, _ := rec.snapshot()
	if want := []string{"a@x", "b@x"}; !slices.Equal(created, want) {
		t.Fatalf("created %v, want %v once each", created, want)
	}
	if p.Accepted() < 2 {
		t.Fatalf("%d connections, want the black-holed one replaced", p.Accepted())
	}
}

// While the server refuses connections intake retries with growing,
// jittered delays; once it accepts again the mail waiting is taken once.
// The delays are checked from below only (each gap is at least the
// lower end of its backoff window), which no slow machine can break.
func TestIntakeFaultRefusedThenHealed(t *testing.T) {
	s, p := startDovecotBehindProxy(t)
	s.appendMsg(t, "INBOX", msg("a@x"))
	p.RefuseNew()
	rec := newRecorder()
	health := &healthLog{}
	in, stop := runIntake(t, s, rec, health, viaProxy(p, nil))
	defer stop()
	const attempts = 6
	eventually(t, "repeated refused connects", func() bool { return p.Refused() >= attempts })
	at := p.AcceptedAt()[:attempts]
	for k := 1; k < attempts; k++ {
		window := min(in.backoffMin<<(k-1), in.backoffMax)
		if gap := at[k].Sub(at[k-1]); gap < window/2 {
			t.Errorf("gap before attempt %d is %v, want at least %v (backoff after %d failures)", k+1, gap, window/2, k)
		}
	}
	if created, _, _ := rec.snapshot(); len(created) != 0 {
		t.Fatalf("created %v while refused", created)
	}
	if ev := health.get(); len(ev) == 0 || !strings.HasPrefix(ev[0], "down: imap:") {
		t.Fatalf("health events %v, want down while refused", ev)
	}

	p.Heal()
	s.waitIDs(t, "Processed", "a@x")
	if created, _, _ := rec.snapshot(); !slices.Equal(created, []string{"a@x"}) {
		t.Fatalf("created %v, want a@x once", created)
	}
	if ev := health.get(); ev[len(ev)-1] != "up" {
		t.Fatalf("health events %v, want up after Heal", ev)
	}
}

// backoff draws from the upper half of a window that doubles to the
// cap (TestBackoffGrowsToCap): the draws for one attempt spread across
// their window, so clients refused together do not return together.
func TestBackoffIsJittered(t *testing.T) {
	in := &Intake{backoffMin: time.Second, backoffMax: 2 * time.Minute}
	for n := range 10 {
		hi := min(time.Second<<n, 2*time.Minute)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := in.backoff(n)
			if d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, hi/2, hi)
			}
			seen[d] = true
		}
		if len(seen) < 100 {
			t.Errorf("backoff(%d) gave %d distinct delays in 200 draws: not jittered", n, len(seen))
		}
	}
}
