package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"rfadesk/bot"
)

// postFrom sends a form POST from the client address remote.
func postFrom(t *testing.T, h http.Handler, remote, target string, form url.Values) *http.Response {
	t.Helper()
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// clock is a test clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestEscalateIsRateLimitedPerRFA: a flood of valid escalation posts for
// one RFA, each from its own address, gets 429 with Retry-After once the
// RFA's allowance is spent, and Escalate is not called for them.
func TestEscalateIsRateLimitedPerRFA(t *testing.T) {
	clk := &clock{now: fixedNow}
	esc := &escalations{}
	h := newTestHandler(t, func(o *Options) { o.Escalate = esc.escalate; o.Now = clk.Now })
	form := url.Values{"t": {token1}}
	for i := range rfaPostBurst {
		if res := postFrom(t, h, fmt.Sprintf("192.0.2.%d:4000", i+1), "/rfa/RFA-1/escalate", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("post %d: %d, want 303", i, res.StatusCode)
		}
	}
	res := postFrom(t, h, "198.51.100.7:4000", "/rfa/RFA-1/escalate", form)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "600" {
		t.Errorf("over the RFA's limit: %d, Retry-After %q; want 429, 600", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if n := len(esc.got()); n != rfaPostBurst {
		t.Errorf("%d Escalate calls, want %d", n, rfaPostBurst)
	}
	// Another RFA has its own allowance; this one's comes back with time.
	if res := postFrom(t, h, "198.51.100.7:4000", "/rfa/RFA-2/escalate", url.Values{"t": {"token-of-rfa-2-BBBBBBBBBBBBBBBB"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("other RFA: %d, want 303", res.StatusCode)
	}
	clk.advance(rfaPostEvery)
	if res := postFrom(t, h, "198.51.100.8:4000", "/rfa/RFA-1/escalate", form); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after %v: %d, want 303", rfaPostEvery, res.StatusCode)
	}
}

// TestWrongTokensDoNotSpendTheRFAsAllowance: posts without the token
// cannot lock the requester out of their own RFA.
func TestWrongTokensDoNotSpendTheRFAsAllowance(t *testing.T) {
	h, esc := escalateHandler(t, nil)
	for i := range 50 {
		if res := postFrom(t, h, fmt.Sprintf("192.0.2.%d:4000", i+1), "/rfa/RFA-1/escalate", url.Values{"t": {"guess"}}); res.StatusCode != 404 {
			t.Fatalf("wrong token %d: %d, want 404", i, res.StatusCode)
		}
	}
	if res := postFrom(t, h, "198.51.100.1:4000", "/rfa/RFA-1/escalate", url.Values{"t": {token1}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the requester after a flood of guesses: %d, want 303", res.StatusCode)
	}
	if n := len(esc.got()); n != 1 {
		t.Errorf("%d Escalate calls, want 1", n)
	}
}

// TestPublicPostsAreRateLimitedPerClient: one address (an IPv6 /64
// counts as one) gets publicPostBurst state-changing requests, then 429,
// whatever it posts to; others are not affected, nor are GETs.
func TestPublicPostsAreRateLimitedPerClient(t *testing.T) {
	h, _ := escalateHandler(t, nil)
	for i := range publicPostBurst {
		// Each from another address in one /64.
		remote := fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1)
		if res := postFrom(t, h, remote, "/rfa/RFA-9/escalate", url.Values{"t": {"guess"}}); res.StatusCode != 404 {
			t.Fatalf("post %d: %d, want 404", i, res.StatusCode)
		}
	}
	for _, target := range []string{"/rfa/RFA-1/escalate", "/", "/rfa/RFA-1"} {
		res := postFrom(t, h, "[2001:db8:1:2:ffff::1]:4000", target, url.Values{"t": {token1}})
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("POST %s over the client's limit: %d, Retry-After %q", target, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	req := httptest.NewRequest("GET", "/rfa/RFA-1?t="+token1, nil)
	req.RemoteAddr = "[2001:db8:1:2::1]:4000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("GET from a limited client: %d, want 200", rec.Code)
	}
	if res := postFrom(t, h, "[2001:db8:1:3::1]:4000", "/rfa/RFA-1/escalate", url.Values{"t": {token1}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another client: %d, want 303", res.StatusCode)
	}
}

// TestLimiterIsBounded: a limiter never remembers more than its maximum
// of keys, however many clients there are; the least recently used go.
func TestLimiterIsBounded(t *testing.T) {
	l := newLimiter(1, time.Hour, 3)
	for i := range 1000 {
		l.take(fmt.Sprint(i), fixedNow)
		l.take("busy", fixedNow) // used all along, so kept
	}
	if n := l.len(); n != 3 {
		t.Errorf("limiter remembers %d keys, want 3", n)
	}
	if ok, _ := l.take("busy", fixedNow); ok {
		t.Error("the busy key was forgotten and given a fresh bucket")
	}
	if ok, _ := l.take("0", fixedNow); !ok {
		t.Error("a forgotten key is not treated as new")
	}
}

// blockingDesk is a Desk whose RFASummary (the status page's first read)
// waits for release, announcing each caller on entered.
type blockingDesk struct {
	*fakeDesk
	entered chan struct{}
	release chan struct{}
}

func (d *blockingDesk) RFASummary(ctx context.Context, num uint64) (*bot.RFASummary, error) {
	d.entered <- struct{}{}
	<-d.release
	return d.fakeDesk.RFASummary(ctx, num)
}

// TestConcurrencyCap: with MaxInFlight requests being handled, one more
// is answered 503 with Retry-After at once; once they finish, requests
// are served again.
func TestConcurrencyCap(t *testing.T) {
	const max = 3
	d := &blockingDesk{fakeDesk: newDesk(), entered: make(chan struct{}), release: make(chan struct{})}
	h := newTestHandler(t, func(o *Options) { o.Desk = d; o.MaxInFlight = max })
	var wg sync.WaitGroup
	codes := make(chan int, max)
	for range max {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/rfa/RFA-1?t="+token1, nil))
			codes <- rec.Code
		})
	}
	for range max {
		<-d.entered
	}
	res, _ := do(t, h, "GET", "/", nil) // needs no desk: only the cap can refuse it
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" {
		t.Errorf("over the cap: %d, Retry-After %q; want 503, 1", res.StatusCode, res.Header.Get("Retry-After"))
	}
	close(d.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("a request within the cap: %d", c)
		}
	}
	if res, _ := do(t, h, "GET", "/", nil); res.StatusCode != 200 {
		t.Errorf("after the cap freed: %d, want 200", res.StatusCode)
	}
}

// TestBodyOverTheCapIsRefused: a body over maxRequestBody is refused
// with 413 whichever route it is sent to, declared or not.
func TestBodyOverTheCapIsRefused(t *testing.T) {
	h, esc := escalateHandler(t, nil)
	big := strings.Repeat("a", maxRequestBody+1)
	res, _ := post(t, h, "/", url.Values{"x": {big}})
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared huge body to /: %d, want 413", res.StatusCode)
	}
	// Undeclared length (chunked): the reader stops at the cap.
	req := httptest.NewRequest("POST", "/rfa/RFA-1/escalate", io.MultiReader(strings.NewReader("t="+token1+"&reason="), strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked huge body: %d, want 413", rec.Code)
	}
	if n := len(esc.got()); n != 0 {
		t.Errorf("%d Escalate calls, want 0", n)
	}
}

// TestServeRefusesHugeHeaders: over TCP, a request whose header is over
// the server's limit is answered 431 and never reaches the handler.
func TestServeRefusesHugeHeaders(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	reached := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached <- struct{}{} })
	go func() { done <- Serve(ctx, ln, h, testLogger(t)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server allows maxHeaderBytes plus 4 KiB of slack.
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 2*maxHeaderBytes))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge header: %d, want 431", res.StatusCode)
	}
	select {
	case <-reached:
		t.Error("the handler saw a request with a huge header")
	default:
	}
}

// TestServerBounds: every bound the finding asks for is set.
func TestServerBounds(t *testing.T) {
	srv := newServer(http.NotFoundHandler(), testLogger(t))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("unbounded server: %+v", srv)
	}
}

// TestTokenGuessingIsRateLimitedPerClient: wrong tokens and unknown
// references from one client are answered 404 until its guesses run out,
// then 429 before anything is looked up (even a right token); another
// client is not held back.
func TestTokenGuessingIsRateLimitedPerClient(t *testing.T) {
	h := newTestHandler(t, nil)
	get := func(target, client string) int {
		t.Helper()
		req := httptest.NewRequest("GET", target, nil)
		req.RemoteAddr = client + ":1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range tokenGuessBurst {
		target := fmt.Sprintf("/rfa/RFA-1?t=guess-%d", i)
		if i%2 == 1 {
			target = fmt.Sprintf("/rfa/RFA-%d?t=guess", 1000+i)
		}
		if code := get(target, "192.0.2.50"); code != http.StatusNotFound {
			t.Fatalf("guess %d: %d, want 404", i, code)
		}
	}
	if code := get("/rfa/RFA-1?t=guess-more", "192.0.2.50"); code != http.StatusTooManyRequests {
		t.Errorf("a guess past the allowance: %d, want 429", code)
	}
	if code := get("/rfa/RFA-1?t="+token1, "192.0.2.50"); code != http.StatusTooManyRequests {
		t.Errorf("the right token from a client out of guesses: %d, want 429 (nothing is looked up)", code)
	}
	if code := get("/rfa/RFA-1?t="+token1, "192.0.2.51"); code != http.StatusOK {
		t.Errorf("another client with the right token: %d, want 200", code)
	}
}
