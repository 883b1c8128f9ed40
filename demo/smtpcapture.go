// Package demo holds in-process servers used by `rfadesk demo` and by
// tests: they speak the real protocols over loopback, keep everything in
// memory and can be told to fail.
package demo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPCaptureOptions configures StartSMTPCapture. A nil *SMTPCaptureOptions
// means all defaults.
type SMTPCaptureOptions struct {
	// Addr is the loopback address to listen on; default "127.0.0.1:0".
	// A non-loopback host is refused.
	Addr string
	// Username and Password, when Username is set, make AUTH PLAIN
	// required before MAIL (530 otherwise; 535 for wrong credentials).
	Username, Password string
	// TLSConfig, when set, makes the server offer STARTTLS, or speak TLS
	// from the first byte when ImplicitTLS is also set.
	TLSConfig   *tls.Config
	ImplicitTLS bool
	// OnAccept is called for every accepted message after it is recorded
	// and before the 250 reply is written (crash tests count or kill
	// here). It runs on the connection's goroutine; it must not call Wait.
	OnAccept func(CapturedMail)
	// Logger receives go-smtp's connection errors at debug level; nil
	// discards them.
	Logger *slog.Logger
}

// CapturedMail is one message the capture server accepted.
type CapturedMail struct {
	From string   // MAIL FROM address
	To   []string // RCPT TO addresses, in order
	Data []byte   // the message as received (CRLF line ends, dot-unstuffed)
	At   time.Time
}

// Fault stages accepted by SMTPCapture.FailNext.
const (
	FaultConnect = "connect" // close the connection at greeting
	FaultAuth    = "auth"    // fail AUTH
	FaultMail    = "mail"    // fail MAIL FROM
	FaultRcpt    = "rcpt"    // fail RCPT TO (each RCPT counts once)
	FaultData    = "data"    // fail at the end of DATA
)

// SMTPCapture is an in-process SMTP server on loopback that records every
// message it accepts. All methods are safe for concurrent use.
type SMTPCapture struct {
	srv      *smtp.Server
	ln       net.Listener
	opts     SMTPCaptureOptions
	served   chan struct{} // closed when Serve returns
	closed   chan struct{} // closed by Close
	closeOne sync.Once

	mu      sync.Mutex
	msgs    []CapturedMail
	changed chan struct{} // closed and replaced on every accepted message
	faults  map[string]captureFault
	down    bool
}

type captureFault struct {
	code, n int
}

// StartSMTPCapture listens on opts.Addr and serves SMTP until Close.
func StartSMTPCapture(opts *SMTPCaptureOptions) (*SMTPCapture, error) {
	var o SMTPCaptureOptions
	if opts != nil {
		o = *opts
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: smtp capture address %q: %w", o.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demo: smtp capture address %q: only loopback is allowed", o.Addr)
	}
	if o.ImplicitTLS && o.TLSConfig == nil {
		return nil, errors.New("demo: smtp capture: ImplicitTLS needs a TLSConfig")
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: smtp capture listen: %w", err)
	}
	s := &SMTPCapture{
		ln:      ln,
		opts:    o,
		served:  make(chan struct{}),
		closed:  make(chan struct{}),
		changed: make(chan struct{}),
		faults:  make(map[string]captureFault),
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "capture.localhost"
	srv.AllowInsecureAuth = true // loopback only, enforced above
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 32 << 20
	srv.EnableSMTPUTF8 = true
	if o.Logger != nil {
		srv.ErrorLog = slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug)
	} else {
		srv.ErrorLog = log.New(io.Discard, "", 0)
	}
	var served net.Listener = &gateListener{Listener: ln, s: s}
	if o.TLSConfig != nil {
		if o.ImplicitTLS {
			served = tls.NewListener(served, o.TLSConfig)
		} else {
			srv.TLSConfig = o.TLSConfig
		}
	}
	s.srv = srv
	go func() {
		defer close(s.served)
		_ = srv.Serve(served)
	}()
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *SMTPCapture) Addr() string { return s.ln.Addr().String() }

// Close stops the server, drops open connections and wakes every Wait.
// It is idempotent.
func (s *SMTPCapture) Close() error {
	var err error
	s.closeOne.Do(func() {
		close(s.closed)
		err = s.srv.Close()
		// Serve may not have registered the listener yet: close it here
		// too so a Serve that starts late returns at once.
		if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
			err = lerr
		}
		<-s.served
	})
	if err != nil {
		return fmt.Errorf("demo: smtp capture close: %w", err)
	}
	return nil
}

// Messages returns a copy of the accepted messages in acceptance order.
func (s *SMTPCapture) Messages() []CapturedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked()
}

func (s *SMTPCapture) snapshotLocked() []CapturedMail {
	out := make([]CapturedMail, len(s.msgs))
	for i, m := range s.msgs {
		m.To = append([]string(nil), m.To...)
		m.Data = append([]byte(nil), m.Data...)
		out[i] = m
	}
	return out
}

// Wait blocks until at least n messages have been accepted and returns a
// copy of all of them. It fails when ctx ends or the server is closed first.
func (s *SMTPCapture) Wait(ctx context.Context, n int) ([]CapturedMail, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := s.snapshotLocked()
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		have := len(s.msgs)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("demo: smtp capture: waiting for %d messages, have %d: %w", n, have, ctx.Err())
		case <-s.closed:
			return nil, fmt.Errorf("demo: smtp capture: closed while waiting for %d messages, have %d", n, have)
		}
	}
}

// FailNext makes the next n commands of the given stage fail with the SMTP
// reply code (for "connect": the next n connections are closed right
// after accept, preceded by a reply with that code when code is not 0).
// n <= 0 clears the stage's fault. It panics on an unknown stage.
func (s *SMTPCapture) FailNext(stage string, code int, n int) {
	switch stage {
	case FaultConnect, FaultAuth, FaultMail, FaultRcpt, FaultData:
	default:
		panic("demo: SMTPCapture.FailNext: unknown stage " + stage)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.faults, stage)
		return
	}
	s.faults[stage] = captureFault{code: code, n: n}
}

// SetDown makes the server refuse new connections (each one gets
// "421 service not available" and is closed) while down is true.
// Connections already open are not affected.
func (s *SMTPCapture) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// takeFault consumes one pending fault for stage and returns its code.
func (s *SMTPCapture) takeFault(stage string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults[stage]
	if !ok {
		return 0, false
	}
	f.n--
	if f.n <= 0 {
		delete(s.faults, stage)
	} else {
		s.faults[stage] = f
	}
	return f.code, true
}

func faultError(code int) *smtp.SMTPError {
	return &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0},
		Message:      "injected fault",
	}
}

func (s *SMTPCapture) accept(m CapturedMail) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if s.opts.OnAccept != nil {
		s.opts.OnAccept(m)
	}
}

// gateListener applies SetDown and "connect" faults before go-smtp sees a
// connection.
type gateListener struct {
	net.Listener
	s *SMTPCapture
}

func (l *gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.mu.Lock()
		down := l.s.down
		l.s.mu.Unlock()
		if down {
			refuse(c, "421 4.3.2 service not available")
			continue
		}
		if code, ok := l.s.takeFault(FaultConnect); ok {
			line := ""
			if code != 0 {
				line = fmt.Sprintf("%d %d.0.0 injected fault", code, code/100)
			}
			refuse(c, line)
			continue
		}
		return c, nil
	}
}

// refuse writes an optional reply line and closes c. With implicit TLS
// the line is not TLS-framed: the client sees a handshake failure, which
// is as good a refusal.
func refuse(c net.Conn, line string) {
	if line != "" {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, line+"\r\n")
	}
	_ = c.Close()
}

// captureSession is one SMTP connection's state.
type captureSession struct {
	s      *SMTPCapture
	authed bool
	from   string
	to     []string
}

func (s *SMTPCapture) newSession(*smtp.Conn) (smtp.Session, error) {
	return &captureSession{s: s}, nil
}

var _ smtp.AuthSession = (*captureSession)(nil)

// AuthMechanisms offers PLAIN only when credentials are configured.
func (cs *captureSession) AuthMechanisms() []string {
	if cs.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (cs *captureSession) Auth(mech string) (sasl.Server, error) {
	if cs.s.opts.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if code, ok := cs.s.takeFault(FaultAuth); ok {
			return faultError(code)
		}
		if user != cs.s.opts.Username || pass != cs.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		cs.authed = true
		return nil
	}), nil
}

func (cs *captureSession) Mail(from string, _ *smtp.MailOptions) error {
	if cs.s.opts.Username != "" && !cs.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if code, ok := cs.s.takeFault(FaultMail); ok {
		return faultError(code)
	}
	cs.from = from
	return nil
}

func (cs *captureSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code, ok := cs.s.takeFault(FaultRcpt); ok {
		return faultError(code)
	}
	cs.to = append(cs.to, to)
	return nil
}

func (cs *captureSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if code, ok := cs.s.takeFault(FaultData); ok {
		return faultError(code)
	}
	cs.s.accept(CapturedMail{
		From: cs.from,
		To:   append([]string(nil), cs.to...),
		Data: data,
		At:   time.Now(),
	})
	return nil
}

func (cs *captureSession) Reset() {
	cs.from = ""
	cs.to = nil
}

func (cs *captureSession) Logout() error { return nil }
