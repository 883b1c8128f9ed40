package web

import (
	"net/http"
	"strconv"
	"time"
)

// RoleFunc reports this instance's part in a replicated desk: "leader",
// or another word ("standby", "unavailable") when it does not lead, and
// how long a client should wait before it retries a refused request. It
// is called on every request and must be cheap and safe for concurrent
// use.
type RoleFunc func() (role string, retryAfter time.Duration)

// leaderRole is the role that takes state-changing requests.
const leaderRole = "leader"

// standbyGate refuses the requests a standby cannot serve. A standby
// reads the store, so GET and HEAD are served; every other method would
// change the desk, which only the leader may do: it is answered 503 with
// Retry-After, so a client (or the load balancer, which also sees
// /healthz answer 503) tries again and reaches the leader.
func (h *handler) standbyGate(next http.Handler) http.Handler {
	if h.role == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		role, retry := h.role()
		if role == leaderRole {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(retry.Round(time.Second)/time.Second))))
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "This rfadesk instance is a "+role+" and cannot take changes; try again in a moment.", http.StatusServiceUnavailable)
	})
}

// roleHealth answers /healthz for an instance that does not lead: 503
// with the role as the whole body, so a load balancer routes to the
// leader. It reports whether it answered (false on the leader, and on a
// desk that is not replicated: the caller answers).
func (h *handler) roleHealth(w http.ResponseWriter) (answered bool) {
	if h.role == nil {
		return false
	}
	role, _ := h.role()
	if role == leaderRole {
		return false
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(role))
	return true
}

// leaderz answers GET /healthz/leader, the load balancer's check: 200
// "leader" on the instance that leads (or on a desk that is not
// replicated), else 503 with the role. Unlike /healthz it does not depend
// on the mailbox or the SMTP server being reachable, so a leader with a
// broken mail server still gets the status pages' traffic.
func (h *handler) leaderz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	role := leaderRole
	if h.role != nil {
		role, _ = h.role()
	}
	if role != leaderRole {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write([]byte(role))
}
