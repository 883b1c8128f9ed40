package web

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A standby serves what it reads from the store and refuses every change
// with 503 and Retry-After; /healthz says its role so a load balancer
// sends traffic to the leader. Once it leads, the same handler serves
// everything.
func TestStandbyRefusesChangesAndSaysSoOnHealthz(t *testing.T) {
	var role atomic.Value
	role.Store("standby")
	h := newTestHandler(t, func(o *Options) {
		o.Role = func() (string, time.Duration) { return role.Load().(string), 5 * time.Second }
	})
	resp, body := do(t, h, "GET", "/healthz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || body != "standby" {
		t.Errorf("standby /healthz = %d %q, want 503 \"standby\"", resp.StatusCode, body)
	}
	if resp, body := do(t, h, "GET", "/healthz/leader", nil); resp.StatusCode != http.StatusServiceUnavailable || body != "standby" {
		t.Errorf("standby /healthz/leader = %d %q, want 503 \"standby\"", resp.StatusCode, body)
	}
	if resp, _ := do(t, h, "GET", "/status", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("standby GET /status = %d, want 200 (read from the store)", resp.StatusCode)
	}
	for _, target := range []string{"/rfa/RFA-1", "/rfa/RFA-1/escalate", "/api/rfas", "/new"} {
		resp, body := do(t, h, "POST", target, map[string]string{"Authorization": "Bearer " + adminToken})
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" {
			t.Errorf("standby POST %s = %d Retry-After %q, want 503 with Retry-After 5", target, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if !strings.Contains(body, "standby") {
			t.Errorf("standby POST %s body %q does not say why", target, body)
		}
	}

	role.Store("unavailable")
	if resp, body := do(t, h, "GET", "/healthz", nil); resp.StatusCode != http.StatusServiceUnavailable || body != "unavailable" {
		t.Errorf("unavailable /healthz = %d %q", resp.StatusCode, body)
	}

	role.Store("leader")
	if resp, body := do(t, h, "GET", "/healthz", nil); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("leader /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
	if resp, body := do(t, h, "GET", "/healthz/leader", nil); resp.StatusCode != http.StatusOK || body != "leader" {
		t.Errorf("leader /healthz/leader = %d %q, want 200 leader", resp.StatusCode, body)
	}
	resp, _ = do(t, h, "POST", "/rfa/RFA-1", nil)
	if resp.StatusCode == http.StatusServiceUnavailable {
		t.Errorf("leader POST /rfa/RFA-1 = 503: the gate still refuses")
	}
}
