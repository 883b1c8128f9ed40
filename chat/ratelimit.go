package chat

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot"
)

// minRetryAfter is the shortest wait a 429 leads to: Discord asking for
// no wait at all must not turn the outbox into a busy loop.
const minRetryAfter = 10 * time.Millisecond

// rateLimited is Discord's answer 429: wait RetryAfter before the next
// request (to any route if Global, else to this route).
type rateLimited struct {
	Route      string // "POST /channels/1/messages"
	RetryAfter time.Duration
	Global     bool
	Scope      string // X-RateLimit-Scope: "user", "shared" or "global"
	Bucket     string // X-RateLimit-Bucket, if Discord sent one
	Message    string
}

func (e *rateLimited) Error() string {
	scope := "route"
	if e.Global {
		scope = "global"
	}
	return fmt.Sprintf("discord: rate limited on %s (%s), retry after %v", e.Route, scope, e.RetryAfter)
}

// rateLimitTrap is the RoundTripper of the outbox's REST calls: it turns
// a 429 into a *rateLimited error before discordgo sees the answer.
// Discord's retry_after then reaches the outbox exactly (discordgo's
// RateLimitError keeps neither the global flag nor the headers), and
// discordgo's limiter never learns the 429's reset, so it cannot make
// the retry wait a second time. (It still reads the rate-limit headers
// of successful answers and waits before a request that would exhaust a
// bucket; that wait avoids a 429 and is not added to one.)
type rateLimitTrap struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t rateLimitTrap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	path := req.URL.Path
	if i := strings.Index(path, "/api/v"); i >= 0 {
		if j := strings.IndexByte(path[i+len("/api/v"):], '/'); j >= 0 {
			path = path[i+len("/api/v")+j:]
		}
	}
	return nil, parseRateLimit(req.Method+" "+path, resp.Header, body)
}

// parseRateLimit reads a 429's body and headers. The wait is the body's
// retry_after (seconds, with a fraction), else the Retry-After header,
// else X-RateLimit-Reset-After; it is at least minRetryAfter and at most
// bot.MaxRetryAfter, or 0 when the answer names none (the outbox then
// backs off as for any temporary failure). The limit is global when the
// body or X-RateLimit-Global says so or X-RateLimit-Scope is "global".
func parseRateLimit(route string, h http.Header, body []byte) *rateLimited {
	var b struct {
		Message    string   `json:"message"`
		RetryAfter *float64 `json:"retry_after"`
		Global     bool     `json:"global"`
	}
	_ = json.Unmarshal(body, &b) // a Cloudflare 429 is HTML: the headers remain
	rl := &rateLimited{Route: route, Message: b.Message, Scope: h.Get("X-RateLimit-Scope"), Bucket: h.Get("X-RateLimit-Bucket")}
	rl.Global = b.Global || strings.EqualFold(h.Get("X-RateLimit-Global"), "true") || strings.EqualFold(rl.Scope, "global")
	var candidates []float64
	if b.RetryAfter != nil {
		candidates = append(candidates, *b.RetryAfter)
	}
	for _, name := range []string{"Retry-After", "X-RateLimit-Reset-After"} {
		if s, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64); err == nil {
			candidates = append(candidates, s)
		}
	}
	for _, s := range candidates {
		if math.IsNaN(s) || s < 0 {
			continue
		}
		rl.RetryAfter = clampRetryAfter(s)
		break
	}
	return rl
}

// clampRetryAfter converts seconds to a wait in [minRetryAfter, bot.MaxRetryAfter].
func clampRetryAfter(seconds float64) time.Duration {
	if seconds >= bot.MaxRetryAfter.Seconds() {
		return bot.MaxRetryAfter
	}
	return max(time.Duration(math.Round(seconds*float64(time.Second))), minRetryAfter)
}
