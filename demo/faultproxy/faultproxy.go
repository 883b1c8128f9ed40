// Package faultproxy is a TCP proxy for tests that sits between rfadesk
// and a server (Dovecot, the SMTP capture, the fake Discord) and breaks
// the connection on demand: it cuts a connection mid-response, black-holes
// it (stops forwarding both ways while keeping both sockets open), delays
// it, or refuses new connections, until Heal.
//
// Faults act on whole TCP connections and know nothing of the protocol
// above, except that a cut can wait for a byte pattern from the server
// ("* 1 FETCH", "+ idling", "354"). Every method is safe for concurrent
// use. It listens on 127.0.0.1 only.
package faultproxy

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"time"
)

// Proxy forwards every connection accepted on Addr to its target.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu       sync.Mutex
	conns    []*Conn // open connections, in accept order
	accepted []time.Time
	refused  int
	refuse   bool
	delay    time.Duration
	cuts     []*cutRule // armed cuts, oldest first
	closed   bool
}

// Cut arms a cut: the next connection whose server side has sent After
// bytes, or has sent the pattern When (whichever is set; When wins),
// counted from the moment the cut is armed, is closed both ways right
// after those bytes are forwarded to the client. The client thus sees a
// response that stops in the middle.
type Cut struct {
	// After is a byte count from the server; used when When is empty.
	After int64
	// When is a byte pattern from the server; the connection is cut just
	// after its last byte has been forwarded.
	When []byte
}

type cutRule struct {
	Cut
	fired chan struct{} // closed when the cut happened
}

// New listens on 127.0.0.1:0 and forwards each connection to target
// (host:port), dialled when the connection is accepted. Close stops it.
func New(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the host:port clients dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, closes every open connection and waits for the
// forwarding goroutines. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	err := p.ln.Close()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
	return err
}

// Accepted is how many connections the proxy accepted, refused ones
// included.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.accepted)
}

// AcceptedAt returns when each connection was accepted, in order.
func (p *Proxy) AcceptedAt() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.accepted...)
}

// Refused is how many connections were refused (RefuseNew).
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// Conns returns the open connections, oldest first.
func (p *Proxy) Conns() []*Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Conn(nil), p.conns...)
}

// CutNext arms c on the open connections and on those accepted later;
// the first connection it matches is cut and the cut is used up. The
// returned channel is closed when the cut happens.
func (p *Proxy) CutNext(c Cut) <-chan struct{} {
	r := &cutRule{Cut: c, fired: make(chan struct{})}
	p.mu.Lock()
	p.cuts = append(p.cuts, r)
	conns := append([]*Conn(nil), p.conns...)
	p.mu.Unlock()
	for _, cn := range conns {
		cn.arm(r)
	}
	return r.fired
}

// BlackHole makes every open connection stop forwarding both ways; the
// sockets stay open and what is sent is neither delivered nor refused,
// as across a dead NAT entry. Connections accepted later are not
// affected. Heal resumes forwarding.
func (p *Proxy) BlackHole() {
	for _, c := range p.Conns() {
		c.BlackHole()
	}
}

// Delay holds every chunk forwarded, either way, on open and later
// connections, for d before it is written on; 0 ends the delay.
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// RefuseNew makes the proxy close every new connection as soon as it is
// accepted, without dialling the target (the client sees its connection
// reset before any greeting); open connections are not affected.
func (p *Proxy) RefuseNew() {
	p.mu.Lock()
	p.refuse = true
	p.mu.Unlock()
}

// Heal ends every fault: new connections are forwarded again, delays
// and armed cuts are dropped, and black-holed connections forward again
// (with what they held back). Cut connections stay closed.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.refuse, p.delay, p.cuts = false, 0, nil
	conns := append([]*Conn(nil), p.conns...)
	p.mu.Unlock()
	for _, c := range conns {
		c.heal()
	}
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted = append(p.accepted, time.Now())
		refuse := p.refuse
		if refuse {
			p.refused++
		}
		p.mu.Unlock()
		if refuse {
			if tc, ok := client.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset, not a polite close
			}
			client.Close()
			continue
		}
		server, err := net.DialTimeout("tcp", p.target, 10*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		c := &Conn{p: p, client: client, server: server, resume: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.close()
			return
		}
		p.conns = append(p.conns, c)
		for _, r := range p.cuts {
			c.cuts = append(c.cuts, &armedCut{rule: r})
		}
		p.mu.Unlock()
		p.wg.Add(2)
		go c.pump(client, server, true)
		go c.pump(server, client, false)
	}
}

// useCut reports whether r may still fire, and marks it fired: each
// rule cuts one connection.
func (p *Proxy) useCut(r *cutRule) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.cuts {
		if x == r {
			p.cuts = append(p.cuts[:i], p.cuts[i+1:]...)
			close(r.fired)
			return true
		}
	}
	return false
}

func (p *Proxy) forget(c *Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.conns {
		if x == c {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			return
		}
	}
}

func (p *Proxy) currentDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
}

// Conn is one proxied connection.
type Conn struct {
	p              *Proxy
	client, server net.Conn
	closeOnce      sync.Once

	mu     sync.Mutex
	holed  bool
	resume chan struct{} // closed by heal while holed
	cuts   []*armedCut
	fromSv int64 // bytes forwarded from the server
	done   bool
}

// armedCut is a cut rule as one connection tracks it.
type armedCut struct {
	rule *cutRule
	seen int64  // server bytes since armed
	tail []byte // the last len(When)-1 bytes, for a pattern split across reads
}

// BlackHole stops forwarding on this connection both ways, keeping its
// sockets open, until Heal.
func (c *Conn) BlackHole() {
	c.mu.Lock()
	c.holed = true
	c.mu.Unlock()
}

// Cut closes this connection both ways now.
func (c *Conn) Cut() { c.close() }

// FromServer is how many bytes have been forwarded from the server.
func (c *Conn) FromServer() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fromSv
}

func (c *Conn) arm(r *cutRule) {
	c.mu.Lock()
	c.cuts = append(c.cuts, &armedCut{rule: r})
	c.mu.Unlock()
}

func (c *Conn) heal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cuts = nil
	if c.holed {
		c.holed = false
		close(c.resume)
		c.resume = make(chan struct{})
	}
}

// gate blocks while the connection is black-holed; false means it was
// closed meanwhile.
func (c *Conn) gate() bool {
	for {
		c.mu.Lock()
		holed, resume, done := c.holed, c.resume, c.done
		c.mu.Unlock()
		if done {
			return false
		}
		if !holed {
			return true
		}
		<-resume
	}
}

func (c *Conn) close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.done = true
		if c.holed {
			close(c.resume) // wake the gated pumps so they see done
			c.resume = make(chan struct{})
		}
		c.mu.Unlock()
		c.p.forget(c) // before the client can see the close
		c.client.Close()
		c.server.Close()
	})
}

// pump forwards src to dst until either side ends, applying the faults;
// fromServer marks the server-to-client direction, where cuts watch.
func (c *Conn) pump(dst, src net.Conn, fromServer bool) {
	defer c.p.wg.Done()
	defer c.close()
	buf := make([]byte, 32<<10)
	for {
		// A black hole stops reading, so the sender's bytes wait in the
		// kernel buffers as on a stalled path: nothing is lost or refused.
		if !c.gate() {
			return
		}
		n, err := src.Read(buf)
		if n > 0 {
			if d := c.p.currentDelay(); d > 0 {
				time.Sleep(d)
			}
			if !c.gate() {
				return
			}
			chunk, cut := buf[:n], false
			if fromServer {
				chunk, cut = c.applyCuts(chunk)
			}
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
			if cut {
				return
			}
		}
		if err != nil {
			return // EOF or failure either way: both sides are closed
		}
	}
}

// applyCuts counts chunk against the armed cuts and returns what to
// forward: all of it, or up to the point where a cut fires (then cut is
// true and the caller closes the connection after writing it).
func (c *Conn) applyCuts(chunk []byte) (forward []byte, cut bool) {
	c.mu.Lock()
	c.fromSv += int64(len(chunk))
	cuts := append([]*armedCut(nil), c.cuts...)
	c.mu.Unlock()
	end := -1 // the earliest firing point in chunk
	var fired *armedCut
	for _, a := range cuts {
		at := a.match(chunk)
		if at >= 0 && (end < 0 || at < end) {
			end, fired = at, a
		}
	}
	if fired == nil || !c.p.useCut(fired.rule) {
		return chunk, false
	}
	c.mu.Lock()
	c.cuts = nil
	c.mu.Unlock()
	return chunk[:end], true
}

// match feeds chunk to the cut and returns the index in chunk just past
// which it fires, or -1.
func (a *armedCut) match(chunk []byte) int {
	if len(a.rule.When) == 0 {
		left := a.rule.After - a.seen
		a.seen += int64(len(chunk))
		if left <= int64(len(chunk)) {
			return int(max(left, 0))
		}
		return -1
	}
	w := a.rule.When
	joined := append(append([]byte(nil), a.tail...), chunk...)
	if i := bytes.Index(joined, w); i >= 0 {
		return i + len(w) - len(a.tail)
	}
	if k := len(w) - 1; len(joined) > k {
		a.tail = append(a.tail[:0], joined[len(joined)-k:]...)
	} else {
		a.tail = joined
	}
	return -1
}
