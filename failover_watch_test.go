package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// healthState is what one GET /healthz of an instance said, as a load
// balancer reads it (no token).
type healthState string

const (
	stateLeading     healthState = "leading"     // 200 "ok"
	stateStandby     healthState = "standby"     // 503 "standby"
	stateUnavailable healthState = "unavailable" // 503 "unavailable": etcd out of reach
	stateUnhealthy   healthState = "unhealthy"   // any other answer
	stateDown        healthState = "down"        // no answer (not running, or hung)
)

// watchRound is the state of every instance at one moment.
type watchRound struct {
	at     time.Time
	states map[string]healthState
	bodies map[string]string // the raw answers, for the log
}

// leaders lists the instances that said "ok", in name order.
func (w watchRound) leaders() []string {
	var out []string
	for name, s := range w.states {
		if s == stateLeading {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func (w watchRound) String() string {
	var parts []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range w.states {
			if !yield(n) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%s=%s", name, w.states[name]))
	}
	return strings.Join(parts, " ")
}

// leaderWatch polls every instance's /healthz, all at once, about every
// 25 ms and keeps each round whose states differ from the round before:
// the history of who led, from which the tests measure takeover times
// and leaderless gaps.
type leaderWatch struct {
	addrs  map[string]string
	client *http.Client
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	changes []watchRound
}

func startLeaderWatch(desks map[string]*deskInstance) *leaderWatch {
	w := &leaderWatch{
		addrs:  map[string]string{},
		client: &http.Client{Timeout: time.Second, Transport: &http.Transport{}},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for name, d := range desks {
		w.addrs[name] = d.webAddr
	}
	go w.run()
	return w
}

func (w *leaderWatch) run() {
	defer close(w.done)
	for {
		round := w.poll()
		w.mu.Lock()
		if n := len(w.changes); n == 0 || !sameStates(w.changes[n-1].states, round.states) {
			w.changes = append(w.changes, round)
		}
		w.mu.Unlock()
		select {
		case <-w.stop:
			return
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func (w *leaderWatch) poll() watchRound {
	round := watchRound{states: map[string]healthState{}, bodies: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, addr := range w.addrs {
		wg.Go(func() {
			s, body := w.healthz(addr)
			mu.Lock()
			round.states[name], round.bodies[name] = s, body
			mu.Unlock()
		})
	}
	wg.Wait()
	round.at = time.Now()
	return round
}

// healthz asks addr's /healthz once and classifies the answer.
func (w *leaderWatch) healthz(addr string) (healthState, string) {
	res, err := w.client.Get("http://" + addr + "/healthz")
	if err != nil {
		return stateDown, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	body := strings.TrimSpace(string(b))
	switch {
	case res.StatusCode == http.StatusOK && body == "ok":
		return stateLeading, body
	case res.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, "standby"):
		return stateStandby, body
	case res.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, "unavailable"):
		return stateUnavailable, body
	}
	return stateUnhealthy, fmt.Sprintf("%d %s", res.StatusCode, body)
}

func sameStates(a, b map[string]healthState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (w *leaderWatch) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.client.CloseIdleConnections()
}

// current returns the latest round: the states as they are now, and
// since when.
func (w *leaderWatch) current() (watchRound, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.changes) == 0 {
		return watchRound{}, false
	}
	return w.changes[len(w.changes)-1], true
}

// await waits up to limit for a round satisfying cond and returns the
// first such round, whose at is when the states were first seen.
func (w *leaderWatch) await(t *testing.T, limit time.Duration, what string, cond func(watchRound) bool) watchRound {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if r, ok := w.current(); ok && cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			r, _ := w.current()
			t.Fatalf("timed out after %v waiting for %s; /healthz now: %v %q", limit, what, r, r.bodies)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// awaitState waits for instance name to be in state s.
func (w *leaderWatch) awaitState(t *testing.T, limit time.Duration, name string, s healthState) watchRound {
	t.Helper()
	return w.await(t, limit, fmt.Sprintf("instance %s to be %s", name, s), func(r watchRound) bool { return r.states[name] == s })
}

// awaitSoleLeader waits until exactly one instance leads and returns
// its name and the round.
func (w *leaderWatch) awaitSoleLeader(t *testing.T, limit time.Duration) (string, watchRound) {
	t.Helper()
	r := w.await(t, limit, "exactly one leader", func(r watchRound) bool { return len(r.leaders()) == 1 })
	return r.leaders()[0], r
}

// span is an interval of the watch's history.
type span struct{ from, to time.Time }

func (s span) length() time.Duration { return s.to.Sub(s.from) }

// leaderless returns the intervals, after the first leader appeared,
// during which no instance said "ok", and the intervals during which two
// or more did. The last interval ends now if it has not ended.
func (w *leaderWatch) history() (leaderless, doubled []span) {
	w.mu.Lock()
	changes := slices.Clone(w.changes)
	w.mu.Unlock()
	led := false
	var gapFrom, dblFrom time.Time
	for _, r := range changes {
		n := len(r.leaders())
		switch {
		case n == 0 && led && gapFrom.IsZero():
			gapFrom = r.at
		case n > 0 && !gapFrom.IsZero():
			leaderless = append(leaderless, span{gapFrom, r.at})
			gapFrom = time.Time{}
		}
		switch {
		case n > 1 && dblFrom.IsZero():
			dblFrom = r.at
		case n <= 1 && !dblFrom.IsZero():
			doubled = append(doubled, span{dblFrom, r.at})
			dblFrom = time.Time{}
		}
		led = led || n > 0
	}
	if !gapFrom.IsZero() {
		leaderless = append(leaderless, span{gapFrom, time.Now()})
	}
	if !dblFrom.IsZero() {
		doubled = append(doubled, span{dblFrom, time.Now()})
	}
	return leaderless, doubled
}

// report logs the history of the watch: every change of states, the
// leaderless gaps and any time two instances said "ok" together.
func (w *leaderWatch) report(t *testing.T) (leaderless, doubled []span) {
	t.Helper()
	w.mu.Lock()
	changes := slices.Clone(w.changes)
	w.mu.Unlock()
	var b strings.Builder
	for i, r := range changes {
		if i == 0 {
			fmt.Fprintf(&b, "\n  %s  %v", r.at.Format("15:04:05.000"), r)
			continue
		}
		fmt.Fprintf(&b, "\n  %s  +%-8v %v", r.at.Format("15:04:05.000"), r.at.Sub(changes[0].at).Round(time.Millisecond), r)
	}
	t.Logf("/healthz history (changes only):%s", b.String())
	leaderless, doubled = w.history()
	for _, s := range leaderless {
		t.Logf("leaderless for %v (from %s)", s.length().Round(time.Millisecond), s.from.Format("15:04:05.000"))
	}
	for _, s := range doubled {
		t.Logf("two instances said \"ok\" at once for %v (from %s)", s.length().Round(time.Millisecond), s.from.Format("15:04:05.000"))
	}
	return leaderless, doubled
}
