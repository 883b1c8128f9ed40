package mailbox

import (
	"net"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// smtpConn is one connection past greeting, EHLO, STARTTLS and AUTH.
type smtpConn struct {
	raw  net.Conn
	c    *smtp.Client
	sent int       // mails accepted on this connection
	idle time.Time // when it was last put aside
}

// release keeps sc as the idle connection, or says goodbye when it has
// carried its share, the Sender is closed, or another is already kept.
func (s *Sender) release(sc *smtpConn) {
	s.mu.Lock()
	if sc.sent >= s.cfg.MaxMailsPerConn || s.closed || s.idle != nil {
		s.mu.Unlock()
		s.quit(sc)
		return
	}
	sc.idle = time.Now()
	s.idle = sc
	if s.timer == nil {
		s.timer = time.AfterFunc(s.cfg.IdleTimeout, s.expire)
	} else {
		s.timer.Reset(s.cfg.IdleTimeout)
	}
	s.mu.Unlock()
}

// takeIdle returns the kept connection, if it is still fresh, and
// forgets it: the caller owns it.
func (s *Sender) takeIdle() *smtpConn {
	s.mu.Lock()
	sc := s.idle
	s.idle = nil
	s.mu.Unlock()
	if sc != nil && time.Since(sc.idle) >= s.cfg.IdleTimeout {
		s.quit(sc)
		return nil
	}
	return sc
}

// expire closes the kept connection once it has been idle for
// IdleTimeout (run by the timer).
func (s *Sender) expire() {
	s.mu.Lock()
	sc := s.idle
	if sc != nil && time.Since(sc.idle) < s.cfg.IdleTimeout {
		sc = nil // put aside again since the timer was set
	}
	if sc != nil {
		s.idle = nil
	}
	s.mu.Unlock()
	if sc != nil {
		s.quit(sc)
	}
}

// quit ends a healthy connection politely; its failure changes nothing.
func (s *Sender) quit(sc *smtpConn) {
	_ = sc.raw.SetDeadline(time.Now().Add(min(s.cfg.Timeout, 5*time.Second)))
	_ = sc.c.Quit()
	_ = sc.raw.Close()
}

// Close says goodbye on the kept connection, if any, and makes later
// Sends close their connection after use. It waits at most
// min(Timeout, 5s) for the server and always returns nil.
func (s *Sender) Close() error {
	s.mu.Lock()
	s.closed = true
	sc := s.idle
	s.idle = nil
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	if sc != nil {
		s.quit(sc)
	}
	return nil
}
