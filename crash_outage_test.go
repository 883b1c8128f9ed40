package main

import (
	"net/http"
	"testing"
)

// TestOutageAnnouncementReachesEveryoneOnceAcrossSIGKILL starts an
// outage through the admin API of a daemon running as a child process,
// with seven recent requesters at Oak Primary (which has no contacts
// configured, so they are the ones told); the daemon is SIGKILLed as the
// SMTP server accepts the third announcement (killMidSend). Every
// requester ends with exactly one announcement.
func TestOutageAnnouncementReachesEveryoneOnceAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start child processes")
	}
	killMidSend{n: 7, killAt: 3, subject: "Service notice: ", act: func(t *testing.T, webAddr, token string) {
		// The daemon may die before it answers: the outage and its mails
		// are committed before any of them goes out.
		if code := apiPost(t, webAddr, token, "/api/outages", `{"title": "The MIS is down", "components": ["MIS"], "organisations": []}`); code != http.StatusCreated && code != 0 {
			t.Fatalf("POST /api/outages: %d", code)
		}
	}}.run(t)
}
