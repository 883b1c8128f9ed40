package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeDependencyDesk records the calls it gets and, like the desk, holds
// one notice per dependency. run's test reads it from another goroutine.
type fakeDependencyDesk struct {
	mu     sync.Mutex
	calls  []string
	raised map[string]bool
	fail   error
}

func (d *fakeDependencyDesk) isRaised(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.raised[name]
}

func (d *fakeDependencyDesk) DependencyDown(_ context.Context, name string, since time.Time, reason string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return false, d.fail
	}
	d.calls = append(d.calls, fmt.Sprintf("down %s since %s: %s", name, since.Format("15:04:05"), reason))
	if d.raised[name] {
		return false, nil
	}
	d.raised[name] = true
	return true, nil
}

func (d *fakeDependencyDesk) DependencyUp(_ context.Context, name string, downFor time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return false, d.fail
	}
	d.calls = append(d.calls, fmt.Sprintf("up %s after %s", name, downFor))
	was := d.raised[name]
	delete(d.raised, name)
	return was, nil
}

type watchFixture struct {
	t      *testing.T
	desk   *fakeDependencyDesk
	health *health
	imap   func(bool, string)
	now    time.Time
	grace  time.Duration // what the watcher's grace func returns
	w      *dependencyWatcher
}

func newWatchFixture(t *testing.T, raised ...string) *watchFixture {
	f := &watchFixture{t: t, desk: &fakeDependencyDesk{raised: map[string]bool{}}, health: newHealth(),
		now: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC), grace: 5 * time.Minute}
	for _, name := range raised {
		f.desk.raised[name] = true
	}
	f.imap = f.health.reporter("imap", "")
	f.health.reporter("smtp", "")
	f.w = newDependencyWatcher(f.desk, f.health.dependencies, func() time.Duration { return f.grace }, slog.New(slog.NewTextHandler(t.Output(), nil)))
	f.w.now = func() time.Time { return f.now }
	return f
}

// step moves the fake clock on by d and samples once.
func (f *watchFixture) step(d time.Duration) {
	f.now = f.now.Add(d)
	f.w.sample(context.Background())
}

// calls returns the desk calls since the last look.
func (f *watchFixture) calls() []string {
	c := f.desk.calls
	f.desk.calls = nil
	return c
}

func (f *watchFixture) want(what string, want ...string) {
	f.t.Helper()
	if got := f.calls(); !slices.Equal(got, want) {
		f.t.Errorf("%s: calls %q, want %q", what, got, want)
	}
}

// Down for less than the grace raises nothing; longer raises once;
// recovery clears once.
func TestDependencyWatcherRaisesAfterGraceAndClears(t *testing.T) {
	f := newWatchFixture(t)
	f.step(0)
	f.want("first sample, all up", "up imap after 0s", "up smtp after 0s") // clears any notice from before a restart
	f.step(5 * time.Second)
	f.want("still up")

	// A blip shorter than the grace.
	f.imap(false, "imap: connection refused")
	f.step(5 * time.Second) // down at 09:00:10
	f.step(4*time.Minute + 55*time.Second)
	f.step(5 * time.Second) // exactly the grace: not longer
	f.imap(true, "")
	f.step(5 * time.Second)
	f.want("down for the grace only")

	// An outage longer than the grace.
	f.imap(false, "imap: connection refused")
	f.step(5 * time.Second) // down at 09:05:20
	f.step(5 * time.Minute)
	f.want("down exactly the grace")
	f.step(time.Second)
	f.want("down longer than the grace", "down imap since 09:05:20: imap: connection refused")
	for range 10 {
		f.step(5 * time.Second)
	}
	f.want("still down")
	f.imap(true, "")
	f.step(5 * time.Second)
	f.want("recovered", "up imap after 5m56s")
	f.step(5 * time.Second)
	f.want("still up after recovery")
	if len(f.desk.raised) != 0 {
		t.Errorf("notices left raised: %v", f.desk.raised)
	}
}

// A reload that shortens the grace during an outage raises the notice
// at the next sample, counting from when the outage began; one that
// lengthens it holds a notice not yet raised back.
func TestDependencyWatcherReadsReloadedGrace(t *testing.T) {
	f := newWatchFixture(t)
	f.step(0)
	f.calls()
	f.imap(false, "imap: connection refused")
	f.step(5 * time.Second) // down at 09:00:05
	f.step(2 * time.Minute)
	f.want("down within the 5m grace")
	f.grace = time.Minute // reloaded
	f.step(5 * time.Second)
	f.want("down longer than the reloaded 1m grace", "down imap since 09:00:05: imap: connection refused")

	f.imap(true, "")
	f.step(5 * time.Second)
	f.calls()
	f.grace = time.Hour // reloaded again
	f.imap(false, "imap: connection refused")
	f.step(5 * time.Second)
	f.step(30 * time.Minute)
	f.want("down within the reloaded 1h grace")
}

// A notice raised before a restart is cleared when the dependency is
// next seen up, even after a blip shorter than the grace.
func TestDependencyWatcherClearsNoticeFromBeforeRestart(t *testing.T) {
	f := newWatchFixture(t, "imap")
	f.imap(false, "imap: connecting")
	f.step(0)
	f.step(time.Minute)
	f.want("imap down within the grace, smtp up", "up smtp after 0s")
	f.imap(true, "")
	f.step(5 * time.Second)
	f.want("up", "up imap after 1m5s")
	if f.desk.raised["imap"] {
		t.Error("notice from before the restart not cleared")
	}
}

// A call the desk fails is made again at the next sample.
func TestDependencyWatcherRetriesFailedCalls(t *testing.T) {
	f := newWatchFixture(t)
	f.step(0)
	f.calls()
	f.imap(false, "imap: timeout")
	f.step(0)
	f.desk.fail = errors.New("store closed")
	f.step(6 * time.Minute)
	f.desk.fail = nil
	f.want("failed")
	f.step(5 * time.Second)
	f.want("retried", "down imap since 09:00:00: imap: timeout")
}

// run samples at once and then every interval until its context ends.
func TestDependencyWatcherRunSamplesEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWatchFixture(t)
		f.w.now = time.Now
		f.grace = time.Minute
		f.imap(false, "imap: refused")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.w.run(ctx) }()
		time.Sleep(time.Minute) // samples at 0s, 5s, ..., 60s: not longer than the grace
		synctest.Wait()
		if f.desk.isRaised("imap") {
			t.Error("raised within the grace")
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if !f.desk.isRaised("imap") {
			t.Error("not raised after the grace")
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v", err)
		}
	})
}
