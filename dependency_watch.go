package main

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"
)

// dependencyEvery is how often the dependency watcher samples health.
const dependencyEvery = 5 * time.Second

// dependencyStatus is one dependency's health at a sample.
type dependencyStatus struct {
	Up     bool
	Reason string // why it is down; "" when up
}

// dependencyDesk is what the watcher tells (bot/dependency.go).
type dependencyDesk interface {
	DependencyDown(ctx context.Context, name string, since time.Time, reason string) (bool, error)
	DependencyUp(ctx context.Context, name string, downFor time.Duration) (bool, error)
}

// dependencies reports every component with a reporter (imap, smtp,
// discord) as a dependency status.
func (h *health) dependencies() map[string]dependencyStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]dependencyStatus, len(h.known))
	for c := range h.known {
		reason, bad := h.problems[c]
		out[c] = dependencyStatus{Up: !bad, Reason: reason}
	}
	return out
}

// watchState is what the watcher knows of one dependency.
type watchState struct {
	settled bool      // the desk holds a notice only if raised says so (false at start: one from before a restart may be held)
	since   time.Time // first sampled down in the current outage; zero when up
	raised  bool      // the desk raised the notice for the current outage
}

// dependencyWatcher samples the dependencies' health every interval and
// tells the desk when one has been down for longer than the grace (read
// at every sample, so a reload changes it for the outages in progress too)
// (DependencyDown, once per outage) and when it is up again
// (DependencyUp). The first time a dependency is sampled up it also
// calls DependencyUp, clearing a notice raised before a restart (the
// daemon's Discord reporter starts healthy, so a Discord notice from
// before a restart clears at the first sample, and is raised again
// after the grace if Discord is in fact still down); the
// desk makes both calls idempotent, so a failed call is simply made
// again at the next sample.
type dependencyWatcher struct {
	desk     dependencyDesk
	source   func() map[string]dependencyStatus
	grace    func() time.Duration
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	state    map[string]*watchState
}

func newDependencyWatcher(desk dependencyDesk, source func() map[string]dependencyStatus, grace func() time.Duration, log *slog.Logger) *dependencyWatcher {
	return &dependencyWatcher{desk: desk, source: source, grace: grace, interval: dependencyEvery,
		now: time.Now, log: log, state: make(map[string]*watchState)}
}

// runner is run bound to ctx, for an errgroup.
func (w *dependencyWatcher) runner(ctx context.Context) func() error {
	return func() error { return w.run(ctx) }
}

// run samples every interval until ctx is done, and returns nil.
func (w *dependencyWatcher) run(ctx context.Context) error {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		w.sample(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sample reads the health of every dependency once and tells the desk
// what changed. A failed call is logged and made again next time.
func (w *dependencyWatcher) sample(ctx context.Context) {
	now, grace := w.now(), w.grace()
	statuses := w.source()
	for _, name := range slices.Sorted(maps.Keys(statuses)) {
		s := statuses[name]
		st := w.state[name]
		if st == nil {
			st = &watchState{}
			w.state[name] = st
		}
		if s.Up {
			if st.settled && !st.raised {
				st.since = time.Time{}
				continue
			}
			var downFor time.Duration
			if !st.since.IsZero() {
				downFor = now.Sub(st.since)
			}
			cleared, err := w.desk.DependencyUp(ctx, name, downFor)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Warn("dependency notice: clearing failed", "dependency", name, "err", err)
				}
				continue
			}
			if cleared {
				w.log.Info("dependency recovered", "dependency", name, "down_for", downFor)
			}
			*st = watchState{settled: true}
			continue
		}
		if st.since.IsZero() {
			st.since = now
		}
		if st.raised || now.Sub(st.since) <= grace {
			continue
		}
		raised, err := w.desk.DependencyDown(ctx, name, st.since, s.Reason)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("dependency notice: raising failed", "dependency", name, "err", err)
			}
			continue
		}
		if raised {
			w.log.Warn("dependency down longer than the grace", "dependency", name, "since", st.since, "reason", s.Reason)
		}
		st.raised = true
	}
}
