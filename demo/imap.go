package demo

import (
	"bytes"
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

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPOptions configures StartIMAP. A nil *IMAPOptions means all defaults.
type IMAPOptions struct {
	// Addr is the loopback address to listen on; default "127.0.0.1:0".
	// A non-loopback host is refused (the server takes passwords in clear).
	Addr string
	// Username and Password are the one account's credentials; defaults
	// "support@example.test" and "secret".
	Username, Password string
	// Mailboxes are created besides INBOX; default "Processed", "Failed"
	// (an empty non-nil slice creates none).
	Mailboxes []string
	// TLSConfig, when set, makes the server offer STARTTLS, or speak TLS
	// from the first byte when ImplicitTLS is also set.
	TLSConfig   *tls.Config
	ImplicitTLS bool
	// Logger receives go-imap's connection errors at debug level; nil
	// discards them.
	Logger *slog.Logger
}

// IMAPServer is an in-process IMAP server on loopback (go-imap's
// imapserver over its in-memory backend) with one account. It advertises
// IDLE, MOVE and UIDPLUS but not CONDSTORE; UIDVALIDITY counts 1, 2, 3
// as mailboxes are created. All methods are safe for concurrent use.
type IMAPServer struct {
	srv    *imapserver.Server
	ln     *trackingListener
	user   *imapmemserver.User
	opts   IMAPOptions
	served chan struct{} // closed when Serve returns
	close  sync.Once
}

// StartIMAP listens on opts.Addr and serves IMAP until Close.
func StartIMAP(opts *IMAPOptions) (*IMAPServer, error) {
	var o IMAPOptions
	if opts != nil {
		o = *opts
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Username == "" {
		o.Username = "support@example.test"
	}
	if o.Password == "" {
		o.Password = "secret"
	}
	if o.Mailboxes == nil {
		o.Mailboxes = []string{"Processed", "Failed"}
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: imap address %q: %w", o.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demo: imap address %q: only loopback is allowed", o.Addr)
	}

	if o.ImplicitTLS && o.TLSConfig == nil {
		return nil, errors.New("demo: imap: ImplicitTLS needs a TLSConfig")
	}
	user := imapmemserver.NewUser(o.Username, o.Password)
	for _, name := range append([]string{"INBOX"}, o.Mailboxes...) {
		if err := user.Create(name, nil); err != nil {
			return nil, fmt.Errorf("demo: imap create %q: %w", name, err)
		}
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: imap listen: %w", err)
	}
	var logger imapserver.Logger = log.New(io.Discard, "", 0)
	if o.Logger != nil {
		logger = slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug)
	}
	s := &IMAPServer{
		ln:     &trackingListener{Listener: ln, conns: make(map[net.Conn]struct{})},
		user:   user,
		opts:   o,
		served: make(chan struct{}),
	}
	var served net.Listener = s.ln
	var startTLS *tls.Config
	if o.ImplicitTLS {
		served = tls.NewListener(s.ln, o.TLSConfig)
	} else {
		startTLS = o.TLSConfig
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{user: user}, nil, nil
		},
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {},
			imap.CapNamespace: {},
			imap.CapUIDPlus:   {},
			imap.CapMove:      {},
		},
		Logger:       logger,
		TLSConfig:    startTLS,
		InsecureAuth: true, // loopback only, enforced above
	})
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(served)
	}()
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *IMAPServer) Addr() string { return s.ln.Addr().String() }

// Username returns the account's user name.
func (s *IMAPServer) Username() string { return s.opts.Username }

// Password returns the account's password.
func (s *IMAPServer) Password() string { return s.opts.Password }

// Append stores raw in mailbox as if it had just been delivered, with the
// given INTERNALDATE (now if zero), and returns its UID. Clients idling on
// the mailbox are told at once.
func (s *IMAPServer) Append(ctx context.Context, mailbox string, raw []byte, date time.Time) (uint32, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("demo: imap append: %w", err)
	}
	data, err := s.user.Append(mailbox, bytes.NewReader(raw), &imap.AppendOptions{Time: date})
	if err != nil {
		return 0, fmt.Errorf("demo: imap append to %q: %w", mailbox, err)
	}
	return uint32(data.UID), nil
}

// DropConnections closes every open client connection without a goodbye,
// as a network failure would; the server keeps listening and keeps its
// mail.
func (s *IMAPServer) DropConnections() {
	s.ln.dropAll()
}

// Close stops the server and drops open connections. It is idempotent.
func (s *IMAPServer) Close() error {
	var err error
	s.close.Do(func() {
		err = s.srv.Close()
		s.ln.dropAll()
		<-s.served
	})
	if err != nil {
		return fmt.Errorf("demo: imap close: %w", err)
	}
	return nil
}

// imapSession is imapmemserver's session for our one user, with an IDLE
// that cannot miss mail: the library's IDLE only wakes on updates queued
// after it starts, so a message appended between the previous command and
// IDLE would go unannounced until the next one. Ours polls the session's
// queue instead.
type imapSession struct {
	*imapmemserver.UserSession // nil until Login
	user                       *imapmemserver.User
}

var _ imapserver.SessionIMAP4rev2 = (*imapSession)(nil)

// idlePoll is how often IDLE looks for updates.
const idlePoll = 20 * time.Millisecond

func (s *imapSession) Login(username, password string) error {
	if err := s.user.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(s.user)
	return nil
}

func (s *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(idlePoll)
	defer t.Stop()
	for {
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}

// trackingListener remembers accepted connections so that they can be
// dropped together.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) dropAll() {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
