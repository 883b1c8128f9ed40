package main

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFailoverEscalationPointsFireOnce SIGKILLs the leader between two
// escalation points of every RFA: the triage and first-update clocks run
// one working hour on a desk open around the clock, with points at 1%
// (a note, mailed to the on-duty address) and 2% (the breach, mailed to
// the manager), so 36 s and 72 s after each RFA was created. The leader
// fires the first points; after the SIGKILL the new leader's scheduler,
// rebuilt from the store, must fire every second point and none of the
// first again: each RFA ends with each point in its history exactly
// once.
func TestFailoverEscalationPointsFireOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("waits over a minute for escalation points")
	}
	const mails = 20
	holidays := filepath.Join(t.TempDir(), "holidays.json")
	// One holiday long past: no day of the test's year is a holiday.
	if err := os.WriteFile(holidays, []byte(`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"Unused","date":"2000-01-03","notes":"","bunting":false}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf(`[calendar]
timezone = "UTC"
open = "00:00"
close = "24:00"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
holidays_file = %q
[sla]
triage = "1 working hour"
first_update = "1 working hour"
[escalation]
first_contact_points = [{ at = "1%%", action = "note" }, { at = "2%%", action = "breach" }]
managers = ["manager@example.org"]
on_duty_address = "duty@example.org"
`, holidays)
	first := []string{"triage 1%", "first_update 1%"}
	all := append(slices.Clone(first), "triage 2%", "first_update 2%")

	r := newFailoverRig(t, failoverOptions{extraTOML: extra})
	a, b := r.desks["a"], r.desks["b"]
	appendMails(t, r.mail, 1, mails)
	a.start(t)
	r.watch.awaitState(t, takeoverLimit, "a", stateLeading)
	b.start(t)
	r.watch.awaitState(t, takeoverLimit, "b", stateStandby)
	waitWithin(t, 3*time.Minute, "every mail acknowledged", func() bool { return r.acknowledged(mails) == mails })

	waitWithin(t, 3*time.Minute, "the first points of every RFA", func() bool {
		return r.pointsFired(t, a, mails, first) == mails*len(first)
	})
	if got := r.pointsFired(t, a, mails, all[len(first):]); got > 0 {
		t.Fatalf("%d second points fired before the kill: the kill is not between the points", got)
	}
	a.sigkill(t)
	killed := time.Now()
	took := r.watch.awaitState(t, takeoverLimit, "b", stateLeading)
	t.Logf("killed a after the first points; b leads %v later", took.at.Sub(killed).Round(time.Millisecond))
	a.start(t)
	r.watch.awaitState(t, takeoverLimit, "a", stateStandby)

	waitWithin(t, 3*time.Minute, "the second points of every RFA", func() bool {
		return r.pointsFired(t, b, mails, all[len(first):]) == mails*(len(all)-len(first))
	})
	time.Sleep(2 * time.Second) // a point fired twice would show by now
	for i := 1; i <= mails; i++ {
		var rfa struct {
			Events []struct{ Kind, Text string } `json:"events"`
		}
		adminGet(t, b.webAddr, fmt.Sprintf("/api/rfas/RFA-%d", i), &rfa)
		seen := map[string]int{}
		for _, e := range rfa.Events {
			if e.Kind == "jeopardy" {
				seen[e.Text]++
			}
		}
		for _, p := range all {
			if seen[p] != 1 {
				t.Errorf("RFA-%d: escalation point %q in its history %d times, want once (%v)", i, p, seen[p], seen)
			}
		}
	}
	// The points' mail: each goes once, but for the one in flight at the
	// kill, which may go twice under its one Message-ID.
	byID := map[string]map[string]int{} // recipient -> Message-ID -> acceptances
	for _, d := range r.desks {
		for _, m := range d.smtp.Messages() {
			to := strings.Join(m.To, ",")
			if to != "duty@example.org" && to != "manager@example.org" {
				continue
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(msg.Header.Get("Subject"), "[RFA-") {
				continue // not about one RFA (the release cadence reminder)
			}
			if byID[to] == nil {
				byID[to] = map[string]int{}
			}
			byID[to][msg.Header.Get("Message-Id")]++
		}
	}
	repeats := 0
	for to, ids := range byID {
		n := 0
		for _, c := range ids {
			n += c
			repeats += c - 1
		}
		t.Logf("escalation mail to %s: %d accepted, %d distinct", to, n, len(ids))
		if len(ids) != mails*2 {
			t.Errorf("%d distinct escalation mails to %s, want %d (one per point, two clocks per RFA)", len(ids), to, mails*2)
		}
	}
	if repeats > 1 {
		t.Errorf("%d escalation mails went twice, at most the one in flight at the kill may", repeats)
	}
	r.verify(t, mails, 1)
	r.watch.report(t)
}

// pointsFired counts, over RFA-1..RFA-n read through d's admin API, the
// jeopardy events whose text is one of points.
func (r *failoverRig) pointsFired(t *testing.T, d *deskInstance, n int, points []string) int {
	t.Helper()
	got := 0
	for i := 1; i <= n; i++ {
		var rfa struct {
			Events []struct{ Kind, Text string } `json:"events"`
		}
		adminGet(t, d.webAddr, fmt.Sprintf("/api/rfas/RFA-%d", i), &rfa)
		for _, e := range rfa.Events {
			if e.Kind == "jeopardy" && slices.Contains(points, e.Text) {
				got++
			}
		}
	}
	return got
}
