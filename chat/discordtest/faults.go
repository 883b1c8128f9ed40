package discordtest

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is an injected failure: the next Count requests matching Method
// (any if "") and Path (a prefix of the path below /api/v9; any if "")
// are answered with Status.
//
// A 429 is answered as Discord does: the body
// {"message": "You are being rate limited.", "retry_after": RetryAfter,
// "global": Global} and the headers Retry-After (whole seconds, rounded
// up), X-RateLimit-Scope, and either X-RateLimit-Global: true (global)
// or X-RateLimit-Limit, -Remaining: 0, -Reset, -Reset-After and -Bucket
// (a route's limit).
type Fault struct {
	Method, Path string
	Status       int
	Count        int
	// RetryAfter (seconds, with a fraction) and Global shape a 429.
	RetryAfter float64
	Global     bool
	// Scope is a 429's X-RateLimit-Scope (default "global" for a global
	// limit, else "user"; Discord also says "shared").
	Scope string
	// Bucket is a route 429's X-RateLimit-Bucket (default derived from
	// the fault's Path).
	Bucket string
	// Commit performs the request before answering with Status, as a
	// server that did the work but lost the answer.
	Commit bool
}

// Fail queues a fault.
func (s *Server) Fail(f Fault) {
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// takeFault returns the first matching fault, consuming one count.
func (s *Server) takeFaultLocked(method, path string) *Fault {
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == method) && strings.HasPrefix(path, f.Path) {
			c := *f
			f.Count--
			if f.Count <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return &c
		}
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	switch f.Status {
	case 429:
		h := w.Header()
		h.Set("Retry-After", strconv.FormatFloat(math.Ceil(f.RetryAfter), 'f', -1, 64))
		scope := f.Scope
		if scope == "" {
			scope = "user"
			if f.Global {
				scope = "global"
			}
		}
		h.Set("X-RateLimit-Scope", scope)
		if f.Global {
			h.Set("X-RateLimit-Global", "true")
		} else {
			bucket := f.Bucket
			if bucket == "" {
				bucket = fmt.Sprintf("%x", sha256.Sum256([]byte(f.Method+" "+f.Path)))[:32]
			}
			reset := float64(time.Now().UnixMilli())/1000 + f.RetryAfter
			h.Set("X-RateLimit-Limit", "5")
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
			h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(f.RetryAfter, 'f', 3, 64))
			h.Set("X-RateLimit-Bucket", bucket)
		}
		writeJSON(w, 429, map[string]any{"message": "You are being rate limited.", "retry_after": f.RetryAfter, "global": f.Global})
	case 401:
		writeJSON(w, 401, map[string]any{"message": "401: Unauthorized", "code": 0})
	default:
		writeJSON(w, f.Status, map[string]any{"message": http.StatusText(f.Status), "code": 0})
	}
}
