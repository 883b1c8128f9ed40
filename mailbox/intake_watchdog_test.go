package mailbox

import (
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A connection that goes silent without closing (a NAT box forgetting it,
// a server host freezing) is noticed by the watchdog, dropped and
// replaced, and mail that arrived meanwhile is taken.
func TestIntakeWatchdogReplacesSilentConnection(t *testing.T) {
	forEachServer(t, folders, func(t *testing.T, s *server) {
		p := startFreezeProxy(t, s.addr)
		rec := newRecorder()
		health := &healthLog{}
		_, stop := runIntake(t, s, rec, health, func(c *IMAPConfig, in *Intake) {
			c.Address = p.addr()
			c.PollInterval = 200 * time.Millisecond // ends IDLE, so the watchdog gets a command to time
			in.cmdTimeout = 2 * time.Second
		})
		defer stop()
		s.appendMsg(t, "INBOX", msg("a@x"))
		s.waitIDs(t, "Processed", "a@x")

		p.freeze() // every open connection now swallows bytes both ways
		s.appendMsg(t, "INBOX", msg("b@x"))
		s.waitIDs(t, "Processed", "a@x", "b@x")
		ev := health.get()
		if !slices.ContainsFunc(ev, func(e string) bool { return strings.Contains(e, "did not answer") }) {
			t.Fatalf("health events %v, want a watchdog report", ev)
		}
		if created, _, _ := rec.snapshot(); !slices.Equal(created, []string{"a@x", "b@x"}) {
			t.Fatalf("created %v", created)
		}
	})
}

// freezeProxy forwards TCP connections to a target; freeze makes the
// connections open at that moment silently drop all data while staying
// open. Later connections work normally.
type freezeProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	live   []*atomic.Bool // frozen flag of each open pair
	wg     sync.WaitGroup
}

func startFreezeProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target}
	var conns sync.Map
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Store(c, u)
			frozen := &atomic.Bool{}
			p.mu.Lock()
			p.live = append(p.live, frozen)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pump(u, c, frozen)
			go p.pump(c, u, frozen)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(c, u any) bool {
			c.(net.Conn).Close()
			u.(net.Conn).Close()
			return true
		})
		p.wg.Wait()
	})
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.live {
		f.Store(true)
	}
	p.live = nil
}

// pump copies src to dst until either side fails, dropping the data
// instead once frozen; then it closes both.
func (p *freezeProxy) pump(dst, src net.Conn, frozen *atomic.Bool) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
