package faultproxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startEcho runs a line server on loopback: each line received is sent
// back prefixed with "echo ", and "big N" is answered with N bytes of 'x'
// and a newline.
func startEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "big "); ok {
						n, _ := strconv.Atoi(rest)
						c.Write(append(bytes.Repeat([]byte("x"), n), '\n'))
						continue
					}
					io.WriteString(c, "echo "+line)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, line string) string {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", line, err)
	}
	return got
}

func TestForwardsAndCounts(t *testing.T) {
	p := newProxy(t, startEcho(t))
	for range 3 {
		c, r := dial(t, p)
		if got := roundTrip(t, c, r, "hello"); got != "echo hello\n" {
			t.Fatalf("got %q", got)
		}
	}
	if p.Accepted() != 3 || p.Refused() != 0 || len(p.Conns()) != 3 {
		t.Fatalf("accepted %d, refused %d, open %d; want 3, 0, 3", p.Accepted(), p.Refused(), len(p.Conns()))
	}
}

func TestCutWhenPatternSeen(t *testing.T) {
	p := newProxy(t, startEcho(t))
	c, r := dial(t, p)
	roundTrip(t, c, r, "warm up")
	fired := p.CutNext(Cut{When: []byte("MARK")})
	io.WriteString(c, "before MARK after\n")
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != "echo before MARK" {
		t.Fatalf("the client got %q, want the answer up to and including the pattern", got)
	}
	<-fired
	// The cut is used up: a new connection works.
	c2, r2 := dial(t, p)
	if got := roundTrip(t, c2, r2, "MARK again"); got != "echo MARK again\n" {
		t.Fatalf("after the cut: %q", got)
	}
}

func TestCutPatternSplitAcrossReads(t *testing.T) {
	p := newProxy(t, startEcho(t))
	c, r := dial(t, p)
	p.CutNext(Cut{When: []byte("MARK")})
	roundTrip(t, c, r, "MA")  // "echo MA\n": no match, the tail is "A\n"...
	io.WriteString(c, "RK\n") // "echo RK": "MARK" never appears contiguously
	if got, err := r.ReadString('\n'); err != nil || got != "echo RK\n" {
		t.Fatalf("got %q, %v: a pattern must not match across unrelated bytes", got, err)
	}
	// A long answer arrives in several reads, and its pattern is found
	// wherever the reads split it (placed here to straddle the proxy's
	// 32 KiB buffer).
	long := strings.Repeat("y", 32<<10-7) + "MARK"
	io.WriteString(c, long+"\n")
	got, _ := io.ReadAll(r)
	if want := "echo " + long; string(got) != want {
		t.Fatalf("got %d bytes ending %q, want %d ending in the pattern", len(got), got[max(0, len(got)-8):], len(want))
	}
}

func TestCutAfterBytes(t *testing.T) {
	p := newProxy(t, startEcho(t))
	c, r := dial(t, p)
	p.CutNext(Cut{After: 1000})
	io.WriteString(c, "big 5000\n")
	got, _ := io.ReadAll(r)
	if len(got) != 1000 {
		t.Fatalf("the client got %d bytes, want exactly 1000", len(got))
	}
	if len(p.Conns()) != 0 {
		t.Fatalf("%d connections still open after the cut", len(p.Conns()))
	}
}

func TestBlackHoleKeepsSocketsOpenUntilHeal(t *testing.T) {
	p := newProxy(t, startEcho(t))
	c, r := dial(t, p)
	roundTrip(t, c, r, "one")
	p.BlackHole()
	io.WriteString(c, "two\n")
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if got, err := r.ReadString('\n'); err == nil {
		t.Fatalf("a black-holed connection delivered %q", got)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("a black-holed connection must stay open, read failed with %v", err)
	}
	// A new connection is not affected.
	c2, r2 := dial(t, p)
	if got := roundTrip(t, c2, r2, "other"); got != "echo other\n" {
		t.Fatalf("new connection: %q", got)
	}
	// Heal delivers what was held back, nothing lost.
	p.Heal()
	c.SetReadDeadline(time.Time{})
	if got, err := r.ReadString('\n'); err != nil || got != "echo two\n" {
		t.Fatalf("after Heal: %q, %v", got, err)
	}
}

func TestRefuseNewThenHeal(t *testing.T) {
	p := newProxy(t, startEcho(t))
	open, r := dial(t, p)
	roundTrip(t, open, r, "first") // accepted before the refusal
	p.RefuseNew()
	for range 2 {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			continue // the reset can come before connect returns
		}
		io.WriteString(c, "x\n")
		if got, err := bufio.NewReader(c).ReadString('\n'); err == nil {
			t.Fatalf("a refused connection answered %q", got)
		}
		c.Close()
	}
	eventuallyRefused(t, p, 2)
	if got := roundTrip(t, open, r, "still"); got != "echo still\n" {
		t.Fatalf("an open connection was affected: %q", got)
	}
	p.Heal()
	c, cr := dial(t, p)
	if got := roundTrip(t, c, cr, "back"); got != "echo back\n" {
		t.Fatalf("after Heal: %q", got)
	}
	if p.Accepted() != 4 || p.Refused() != 2 {
		t.Fatalf("accepted %d refused %d, want 4 and 2", p.Accepted(), p.Refused())
	}
	if at := p.AcceptedAt(); len(at) != 4 || at[3].Before(at[0]) {
		t.Fatalf("AcceptedAt = %v", at)
	}
}

// Delay is a lower bound by construction: the answer cannot arrive
// before the request and the answer have each been held for d.
func TestDelayHoldsEachChunk(t *testing.T) {
	p := newProxy(t, startEcho(t))
	c, r := dial(t, p)
	const d = 50 * time.Millisecond
	p.Delay(d)
	start := time.Now()
	if got := roundTrip(t, c, r, "slow"); got != "echo slow\n" {
		t.Fatalf("got %q", got)
	}
	if took := time.Since(start); took < 2*d {
		t.Fatalf("answer after %v, want at least %v (held each way)", took, 2*d)
	}
	p.Heal()
	if got := roundTrip(t, c, r, "fast"); got != "echo fast\n" {
		t.Fatalf("got %q", got)
	}
}

func TestConnCutAndClose(t *testing.T) {
	p := newProxy(t, startEcho(t))
	c, r := dial(t, p)
	roundTrip(t, c, r, "one")
	conns := p.Conns()
	if len(conns) != 1 || conns[0].FromServer() != int64(len("echo one\n")) {
		t.Fatalf("conns %v", conns)
	}
	conns[0].Cut()
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("a cut connection still answers")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Fatal("a closed proxy still accepts")
	}
}

func TestNewRefusesBadTarget(t *testing.T) {
	if _, err := New("no-port"); err == nil {
		t.Fatal("New accepted a target without a port")
	}
}

// eventuallyRefused waits until the proxy has refused n connections
// (the test's dial can return before the proxy's accept).
func eventuallyRefused(t *testing.T, p *Proxy, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Refused() < n {
		if time.Now().After(deadline) {
			t.Fatalf("refused %d, want %d", p.Refused(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
