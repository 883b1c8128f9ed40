package main

import (
	"sort"
	"strings"
	"sync"
)

// health collects the state of the daemon's loops for /healthz. Each
// component reports through the func returned by reporter; the daemon
// is healthy when every component is.
type health struct {
	mu       sync.Mutex
	problems map[string]string // component -> reason; absent when healthy
	known    map[string]bool   // every component that has a reporter
	// reported holds the components that have reported since their
	// reporter was made: until then their state is the initial one
	// ("connecting"), a start, not an outage.
	reported map[string]bool
}

func newHealth() *health {
	return &health{problems: make(map[string]string), known: make(map[string]bool), reported: make(map[string]bool)}
}

// reporter returns the callback a component uses to report; the
// component starts unhealthy with initial as its reason ("" for healthy).
func (h *health) reporter(component, initial string) func(ok bool, reason string) {
	h.mu.Lock()
	h.known[component] = true
	h.mu.Unlock()
	h.set(component, initial == "", initial)
	return func(ok bool, reason string) {
		h.mu.Lock()
		h.reported[component] = true
		h.mu.Unlock()
		h.set(component, ok, reason)
	}
}

func (h *health) set(component string, ok bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ok {
		delete(h.problems, component)
		return
	}
	if reason == "" {
		reason = component + ": unhealthy"
	}
	h.problems[component] = reason
}

// check reports whether every component is healthy and otherwise every
// reason, sorted, joined by "; ".
func (h *health) check() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.problems) == 0 {
		return true, ""
	}
	reasons := make([]string, 0, len(h.problems))
	for _, r := range h.problems {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	return false, strings.Join(reasons, "; ")
}

// settled is check for availability: a component still in its initial
// state (connecting at start, or when a standby begins to lead) is not
// counted as down, so that a start or a failover is not recorded as an
// outage of the desk; one that has reported a failure is.
func (h *health) settled() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var reasons []string
	for c, r := range h.problems {
		if h.reported[c] {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		return true, ""
	}
	sort.Strings(reasons)
	return false, strings.Join(reasons, "; ")
}

// states reports, for every component with a reporter, whether it is
// healthy now (for the connection-state metric).
func (h *health) states() map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	up := make(map[string]bool, len(h.known))
	for c := range h.known {
		_, bad := h.problems[c]
		up[c] = !bad
	}
	return up
}
