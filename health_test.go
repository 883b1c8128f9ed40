package main

import "testing"

// A component still in its initial state makes the daemon unhealthy on
// /healthz but is not an outage for availability; once it reports a
// failure, both count it.
func TestSettledHealthIgnoresTheInitialState(t *testing.T) {
	h := newHealth()
	imap := h.reporter("imap", "imap: connecting to mail.example.org:993")
	h.reporter("smtp", "")
	if ok, _ := h.check(); ok {
		t.Error("check: healthy while imap is still connecting")
	}
	if ok, why := h.settled(); !ok {
		t.Errorf("settled: down while imap is only connecting: %s", why)
	}
	imap(false, "imap: login refused")
	if ok, why := h.settled(); ok || why != "imap: login refused" {
		t.Errorf("settled = %v %q after imap reported a failure", ok, why)
	}
	imap(true, "")
	if ok, _ := h.settled(); !ok {
		t.Error("settled: still down after imap recovered")
	}
	if ok, _ := h.check(); !ok {
		t.Error("check: still unhealthy after imap recovered")
	}
}
