package main

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"rfadesk/demo"
)

// The failover proof of issue #13: two rfadesk instances on a 3-member
// etcd cluster, the real daemon (child processes), Dovecot, an SMTP
// server and, in the first test, a fake Discord. Timings are measured and
// logged, never asserted: the limits given to the waits only turn a hang
// into a failure. The rig is in failover_helpers_test.go, the /healthz
// watch in failover_watch_test.go, the end-state checks in
// failover_verify_test.go; escalation points across a failover are
// tested in failover_escalation_test.go.

// takeoverLimit is how long a standby may take to lead before the test
// calls it a hang (the goal is the lease plus 5 s; measured).
const takeoverLimit = 60 * time.Second

// TestFailoverSIGKILLMidBurst SIGKILLs the leader in the middle of a
// burst of mail: as the SMTP server accepts one of its acknowledgements
// (before the 250 is written), once it has sent ten and the store holds
// a fifth of the burst as RFAs. The standby must take over and finish the burst; the killed
// instance, restarted, must stand by, answering reads and refusing a
// state-changing request with 503. At the end every mail is exactly one
// RFA with one accepted acknowledgement (at most one duplicate, for the
// mail in flight at the kill), the outbox is empty, every mail is in
// Processed and no Discord card was posted twice.
func TestFailoverSIGKILLMidBurst(t *testing.T) {
	mails := 300
	// The kill waits for this many acknowledgements, so that a
	// deliverer that kept accepted mail unrecorded (in a local receipt
	// log) would be seen sending it again after the failover.
	killAfter := 10
	if testing.Short() {
		mails, killAfter = 60, 5
	}
	r := newFailoverRig(t, failoverOptions{discord: true})
	began := time.Now()
	// A third of the burst waits in INBOX; the rest arrives while the
	// leader works, so that the kill lands with mail still coming in.
	appendMails(t, r.mail, 1, mails/3)
	feed := startMailFeeder(t, r.mail, mails/3+1, mails, 40*time.Millisecond)

	var (
		mu       sync.Mutex
		accepted int
		rfas     float64 // RFAs in the store, by the leader's /metrics, at the kill
		victim   *deskInstance
		killedAt time.Time
		killed   = make(chan struct{})
	)
	hook := func(d *deskInstance, m demo.CapturedMail) {
		mu.Lock()
		defer mu.Unlock()
		accepted++
		if victim != nil {
			return
		}
		// The leader waits for this 250 while its intake goes on.
		if n := metricSum(d.webAddr, "rfadesk_rfas"); accepted >= killAfter && n >= float64(mails/5) || n >= float64(mails) {
			victim, killedAt, rfas = d, time.Now(), n
			d.signal(syscall.SIGKILL) // before the 250 reply is written
			close(killed)
		}
	}
	r.onAccept.Store(&hook)

	r.desks["a"].start(t)
	r.desks["b"].start(t)
	first, led := r.watch.awaitSoleLeader(t, takeoverLimit)
	t.Logf("instance %s leads %v after the start", first, led.at.Sub(began).Round(time.Millisecond))

	select {
	case <-killed:
	case <-time.After(3 * time.Minute):
		t.Fatalf("no acknowledgement %d or later went out once the store held %d RFAs (rfadesk_rfas on the leader's /metrics)", killAfter, mails/5)
	}
	mu.Lock()
	dead, ackNo := victim, accepted
	mu.Unlock()
	dead.sigkill(t)
	survivor := r.other(dead)
	// The standby reads the store: what the dead leader had recorded.
	stored := metricSum(survivor.webAddr, "rfadesk_rfas")
	t.Logf("SIGKILLed leader %s as its acknowledgement %d was accepted, with %v RFAs of %d in the store (%v once it was dead)",
		dead.name, ackNo, rfas, mails, stored)
	if stored >= float64(mails) {
		t.Errorf("the whole burst was recorded before the kill landed: not a kill mid-burst")
	}

	feed.wait(t)
	t.Logf("the burst's last mail was appended %v after its first", time.Since(began).Round(time.Millisecond))
	took := r.watch.awaitState(t, takeoverLimit, survivor.name, stateLeading)
	t.Logf("takeover: %s leads %v after the SIGKILL of %s (lease 2s)", survivor.name, took.at.Sub(killedAt).Round(time.Millisecond), dead.name)
	// Availability counts the desk as down only while no instance led:
	// from the dead leader's last heartbeat (at most a lease before the
	// kill) to the new term's start.
	var down time.Duration
	waitWithin(t, takeoverLimit, "the leaderless time to be recorded as rfadesk downtime", func() bool {
		down = rfadeskDowntime(survivor.webAddr)
		return down > 0
	})
	t.Logf("availability: rfadesk down %v this month", down.Round(time.Millisecond))
	if most := took.at.Sub(killedAt) + 2*time.Second + time.Second; down > most {
		t.Errorf("rfadesk downtime %v is more than the leaderless time plus a heartbeat interval (%v)", down, most)
	}

	dead.start(t)
	r.watch.awaitState(t, takeoverLimit, dead.name, stateStandby)
	checkStandbyWeb(t, dead)

	out := r.verify(t, mails, 1)
	if out.leader != survivor.name {
		t.Errorf("%s leads at the end; the restarted %s took leadership back from %s", out.leader, dead.name, survivor.name)
	}
	_, doubled := r.watch.report(t)
	if len(doubled) > 0 {
		t.Errorf("two instances said \"ok\" at once %d times after a SIGKILL (the dead one cannot)", len(doubled))
	}
	logLeadership(t, r)
}

// TestFailoverLeaderCutOffEtcd cuts the leader off etcd (its only way
// there is one fault proxy per member: every open connection is
// black-holed and new ones are refused) in the middle of a batch, as the
// SMTP server accepts one of its acknowledgements. The leader must stop
// saying "ok", the other instance must lead and process the mail that
// arrives meanwhile; after the heal the old leader must stand by. Nothing
// is doubled: every mail is exactly one RFA, at most one acknowledgement
// is repeated, and the cut-off leader sends nothing it cannot record
// beyond the mail in flight at the cut.
func TestFailoverLeaderCutOffEtcd(t *testing.T) {
	before, during := 60, 40
	if testing.Short() {
		before, during = 20, 10
	}
	cutAt := before / 3
	r := newFailoverRig(t, failoverOptions{proxied: "a"})
	a, b := r.desks["a"], r.desks["b"]
	a.start(t)
	r.watch.awaitState(t, takeoverLimit, "a", stateLeading)
	b.start(t)
	r.watch.awaitState(t, takeoverLimit, "b", stateStandby)

	var (
		once   sync.Once
		cutOff = make(chan time.Time, 1)
		count  int
		mu     sync.Mutex
	)
	hook := func(d *deskInstance, m demo.CapturedMail) {
		mu.Lock()
		defer mu.Unlock()
		if d != a {
			return
		}
		if count++; count == cutAt {
			once.Do(func() {
				for _, p := range r.proxies {
					p.RefuseNew()
					p.BlackHole()
				}
				cutOff <- time.Now()
			})
		}
	}
	r.onAccept.Store(&hook)
	appendMails(t, r.mail, 1, before)
	var cutTime time.Time
	select {
	case cutTime = <-cutOff:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the leader never sent acknowledgement %d", cutAt)
	}
	t.Logf("cut a off etcd at its acknowledgement %d", cutAt)
	appendMails(t, r.mail, before+1, before+during) // mail arriving during the cut

	stepped := r.watch.await(t, takeoverLimit, "a to stop saying ok", func(w watchRound) bool { return w.states["a"] != stateLeading })
	t.Logf("a stopped leading %v after the cut: /healthz %s %q", stepped.at.Sub(cutTime).Round(time.Millisecond), stepped.states["a"], stepped.bodies["a"])
	took := r.watch.awaitState(t, takeoverLimit, "b", stateLeading)
	t.Logf("takeover: b leads %v after the cut (lease 2s)", took.at.Sub(cutTime).Round(time.Millisecond))
	waitWithin(t, 3*time.Minute, "every mail acknowledged during the cut", func() bool { return r.acknowledged(before+during) == before+during })

	for _, p := range r.proxies {
		p.Heal()
	}
	healed := time.Now()
	back := r.watch.awaitState(t, takeoverLimit, "a", stateStandby)
	t.Logf("after the heal a stands by (%v)", back.at.Sub(healed).Round(time.Millisecond))

	out := r.verify(t, before+during, 1)
	if out.leader != "b" {
		t.Errorf("%s leads at the end, want b (a came back and took over?)", out.leader)
	}
	// A leader that can no longer record what it sends must stop
	// sending: beyond the mail in flight at the cut, a sends nothing.
	if extra := len(a.smtp.Messages()) - cutAt; extra > 1 {
		t.Errorf("a sent %d mails after it was cut off from etcd, at most the one in flight may go", extra)
	}
	r.watch.report(t)
	logLeadership(t, r)
}

// TestFailoverRollingRestart restarts both instances one after the other
// with SIGTERM while mail keeps arriving: a (leading) stops, b leads, a
// starts again and stands by, b stops, a leads, b starts again. Each
// stop flushes the outbox and resigns, so nothing is lost and nothing is
// sent twice, by mail or to Discord; the leaderless gaps are measured.
func TestFailoverRollingRestart(t *testing.T) {
	every := 100 * time.Millisecond
	r := newFailoverRig(t, failoverOptions{discord: true})
	a, b := r.desks["a"], r.desks["b"]
	a.start(t)
	r.watch.awaitState(t, takeoverLimit, "a", stateLeading)
	b.start(t)
	r.watch.awaitState(t, takeoverLimit, "b", stateStandby)

	feed := startMailFeeder(t, r.mail, 1, 0, every)
	progress := func(what string) { // let some mail through under the new arrangement
		t.Helper()
		want := int(feed.last.Load()) + 5
		waitWithin(t, 3*time.Minute, what, func() bool { return r.acknowledged(want) == want })
	}
	progress("the first mails acknowledged")
	for _, step := range []struct{ stop, next *deskInstance }{{a, b}, {b, a}} {
		stopped := time.Now()
		step.stop.sigterm(t)
		t.Logf("%s stopped on SIGTERM in %v", step.stop.name, time.Since(stopped).Round(time.Millisecond))
		took := r.watch.awaitState(t, takeoverLimit, step.next.name, stateLeading)
		t.Logf("takeover: %s leads %v after the SIGTERM of %s", step.next.name, took.at.Sub(stopped).Round(time.Millisecond), step.stop.name)
		progress("mail acknowledged by " + step.next.name)
		step.stop.start(t)
		r.watch.awaitState(t, takeoverLimit, step.stop.name, stateStandby)
		progress("mail acknowledged with " + step.stop.name + " standing by")
	}
	mails := feed.stop(t)
	t.Logf("%d mails arrived during the rolling restart", mails)

	out := r.verify(t, mails, 0)
	if out.leader != "a" {
		t.Errorf("%s leads at the end, want a", out.leader)
	}
	leaderless, doubled := r.watch.report(t)
	var worst time.Duration
	for _, s := range leaderless {
		worst = max(worst, s.length())
	}
	t.Logf("rolling restart: %d leaderless gaps, the longest %v (lease 2s); %d times two said \"ok\"", len(leaderless), worst.Round(time.Millisecond), len(doubled))
	logLeadership(t, r)
}

// logLeadership logs each instance's leadership lines ("leading",
// "standing by", "stepped down"), the daemon's own account.
func logLeadership(t *testing.T, r *failoverRig) {
	t.Helper()
	for _, name := range []string{"a", "b"} {
		for _, line := range r.desks[name].logLines("leading", "standing by", "stepped down", "=== run") {
			t.Logf("%s: %s", name, line)
		}
	}
}
