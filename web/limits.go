package web

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Bounds on what one request, one client and one RFA can make the web
// side do.
const (
	// defaultMaxInFlight is how many requests are handled at once when
	// Options.MaxInFlight is 0; more are answered 503 at once.
	defaultMaxInFlight = 64
	// maxRequestBody bounds every request body (routes may set less);
	// no route takes more than a short form.
	maxRequestBody = 64 << 10

	// Public state-changing requests (POST to a status page) per client
	// address: a burst of publicPostBurst, then one every
	// publicPostEvery.
	publicPostBurst = 10
	publicPostEvery = time.Minute
	// The same per RFA, counted only once the request's status token is
	// right, so that nobody without it can use up an RFA's allowance.
	rfaPostBurst = 3
	rfaPostEvery = 10 * time.Minute
	// Wrong status tokens or references per client address (status
	// pages, their posts and JSON): a burst of tokenGuessBurst, then one
	// every tokenGuessEvery. A status token is 128 random bits: this is
	// not what keeps them safe, it keeps a guesser from costing much.
	tokenGuessBurst = 20
	tokenGuessEvery = 30 * time.Second
	// maxLimiterKeys bounds each limiter's memory: past it, the key
	// least recently used is forgotten (a forgotten key starts again
	// with a full bucket, as a new one does).
	maxLimiterKeys = 10000
)

// bound is the outermost middleware: it answers 503 (Retry-After: 1)
// once sem is full, refuses a declared body over its route's cap
// (bodyLimit: maxRequestBody but for a status page's post and the
// portal's form) with 413 and caps every body at it, and applies the per-client
// limit to every public state-changing request (any method but GET,
// HEAD and OPTIONS outside /api/, whose routes need the admin token).
func (h *handler) bound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case h.inFlight <- struct{}{}:
			defer func() { <-h.inFlight }()
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy, try again shortly", http.StatusServiceUnavailable)
			return
		}
		limit := h.bodyLimit(r) // page_actions.go: more for files
		if r.ContentLength > limit {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if changesState(r) && !h.allow(w, h.perClient, clientKey(r.RemoteAddr)) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// changesState reports whether r is a public request that may change
// state: any method but GET, HEAD and OPTIONS, outside /api/.
func changesState(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return !(len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/")
}

// allow takes a token for key from l; when there is none it answers 429
// with Retry-After and reports false.
func (h *handler) allow(w http.ResponseWriter, l *limiter, key string) bool {
	ok, wait := l.take(key, h.now())
	if !ok {
		tooMany(w, wait)
	}
	return ok
}

// tooMany answers 429 with Retry-After: wait, in whole seconds.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	http.Error(w, "too many requests, try again later", http.StatusTooManyRequests)
}

// clientKey is the limiter key of a client: its IPv4 address, or its
// IPv6 /64 (one subscriber usually holds a whole /64). The remote
// address is the TCP peer's; a reverse proxy in front makes every
// client one.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// limiter is a set of token buckets, one per key, each holding up to
// burst tokens and gaining one every every. It remembers at most max
// keys. It is safe for concurrent use.
type limiter struct {
	burst float64
	every time.Duration
	max   int

	mu    sync.Mutex
	lru   *list.List // of *bucket; front = most recently used
	byKey map[string]*list.Element
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newLimiter(burst int, every time.Duration, max int) *limiter {
	return &limiter{burst: float64(burst), every: every, max: max, lru: list.New(), byKey: make(map[string]*list.Element)}
}

// take takes one token from key's bucket at now. If there is none it
// takes nothing and returns false and how long until there is one.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	return l.use(key, now, 1)
}

// spare reports whether key's bucket holds a token at now, and if not
// how long until it does; it takes none.
func (l *limiter) spare(key string, now time.Time) (bool, time.Duration) {
	return l.use(key, now, 0)
}

// use brings key's bucket up to date at now and, when it holds a token,
// takes n (0 or 1) of them.
func (l *limiter) use(key string, now time.Time, n float64) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if el, ok := l.byKey[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*bucket)
		if elapsed := now.Sub(b.at); elapsed > 0 {
			b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.every))
			b.at = now
		}
	} else {
		if l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.byKey, oldest.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.byKey[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens -= n
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

// len is how many keys l remembers.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
