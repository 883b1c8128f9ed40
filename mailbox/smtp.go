package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"rfadesk/bot"
	"rfadesk/netaddr"
)

// Security modes for SMTPConfig.Security and IMAPConfig.Security.
const (
	SecurityTLS      = "tls"      // implicit TLS from the first byte (port 465)
	SecurityStartTLS = "starttls" // plain connect, STARTTLS required
	SecurityNone     = "none"     // no TLS: loopback hosts only
)

// Defaults for the zero values of SMTPConfig's fields.
const (
	// DefaultSMTPTimeout bounds each SMTP step.
	DefaultSMTPTimeout = 30 * time.Second
	// DefaultSMTPIdleTimeout is how long a connection is kept open
	// between mails.
	DefaultSMTPIdleTimeout = 30 * time.Second
	// DefaultSMTPMaxMailsPerConn is how many mails one connection carries.
	DefaultSMTPMaxMailsPerConn = 100
)

// SMTPConfig says how to reach the outgoing mail server.
type SMTPConfig struct {
	Address  string // host:port
	Security string // SecurityTLS, SecurityStartTLS or SecurityNone
	// Username and Password enable AUTH PLAIN; an empty Username sends
	// without AUTH. The password is never logged.
	Username, Password string
	// HeloName is the EHLO name; default "localhost".
	HeloName string
	// Timeout bounds each step (connect, each command, the message body);
	// default DefaultSMTPTimeout.
	Timeout time.Duration
	// TLSConfig is optional (tests trust a test CA with it). It is cloned;
	// ServerName defaults to the host of Address.
	TLSConfig *tls.Config
	// IdleTimeout is how long a connection is kept open after a mail,
	// waiting for the next one, before it is closed with QUIT; default
	// DefaultSMTPIdleTimeout. Keep it below the server's own idle limit
	// (RFC 5321 asks servers to wait at least 5 minutes).
	IdleTimeout time.Duration
	// MaxMailsPerConn is how many mails one connection carries before
	// it is closed with QUIT and the next mail dials afresh; default
	// DefaultSMTPMaxMailsPerConn; 1 means one connection per mail.
	MaxMailsPerConn int
}

// SenderOptions are the desk-side settings of a Sender.
type SenderOptions struct {
	// From is the desk address, used for the From header and MAIL FROM.
	From bot.Address
	// LoopValue is written as X-Rfadesk-Loop so our own mail is recognised
	// when it comes back. Empty omits the header; at most 250 octets.
	LoopValue string
	// Logger receives one debug line per delivery; nil discards.
	Logger *slog.Logger
}

// Sender delivers bot.OutgoingMail over SMTP. It keeps the connection of
// the last successful mail open for the next one (up to
// SMTPConfig.MaxMailsPerConn mails and SMTPConfig.IdleTimeout between
// them) and dials afresh after any failure. It is safe for concurrent
// use: concurrent Sends each use their own connection, and at most one
// idle connection is kept. Close releases it.
type Sender struct {
	cfg  SMTPConfig
	host string
	tls  *tls.Config
	opts SenderOptions
	log  *slog.Logger

	mu     sync.Mutex
	idle   *smtpConn   // the kept connection, nil if none
	timer  *time.Timer // closes idle after IdleTimeout
	closed bool        // Close was called: keep nothing
}

// NewSender returns a Sender for cfg as package config validated it; it
// reports no user-facing problems. It refuses only a cfg it cannot work
// with or that config would never produce: an Address without host and
// port, a Security that is not one of the three modes, Security "none"
// for a host that is not loopback (netaddr.IsLoopback: credentials and
// mail never cross a network in clear), or an opts.From that is not an
// address.
func NewSender(cfg SMTPConfig, opts SenderOptions) (*Sender, error) {
	host, port, err := net.SplitHostPort(cfg.Address)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("mailbox: smtp address %q: want host:port", cfg.Address)
	}
	if err := checkSecurity(cfg.Security, host); err != nil {
		return nil, fmt.Errorf("mailbox: smtp %w", err)
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultSMTPIdleTimeout
	}
	if cfg.MaxMailsPerConn <= 0 {
		cfg.MaxMailsPerConn = DefaultSMTPMaxMailsPerConn
	}
	if err := checkAddrSpec(opts.From.Email); err != nil {
		return nil, fmt.Errorf("mailbox: sender from address: %w", err)
	}
	if len(opts.LoopValue) > maxLoopValueLen {
		return nil, fmt.Errorf("mailbox: sender loop value is %d octets long, at most %d fit in a header", len(opts.LoopValue), maxLoopValueLen)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg, host: host, tls: tc, opts: opts, log: lg}, nil
}

// checkSecurity refuses a security mode rfadesk does not know (rather
// than fall back to plain text) and SecurityNone for a host off loopback.
func checkSecurity(security, host string) error {
	switch security {
	case SecurityTLS, SecurityStartTLS:
		return nil
	case SecurityNone:
		if !netaddr.IsLoopback(host) {
			return fmt.Errorf("security %q for %q: plain text is allowed for a loopback host only", security, host)
		}
		return nil
	}
	return fmt.Errorf("security %q: want %q, %q or %q", security, SecurityTLS, SecurityStartTLS, SecurityNone)
}

// SMTP steps, used to classify failures.
const (
	stepConnect  = "connect"
	stepStartTLS = "STARTTLS"
	stepAuth     = "AUTH"
	stepMail     = "MAIL FROM"
	stepRcpt     = "RCPT TO"
	stepData     = "DATA"
	stepBody     = "body"
)

// Send delivers one mail: Prepare, then Commit. It returns nil once the
// server accepted the message (250 after DATA), or a *bot.DeliveryError:
//   - DeliveryAuth for 530, 534, 535 or 538 replies at any step, and for
//     any non-4xx failure of AUTH itself (mechanism missing, TLS missing);
//   - DeliveryPermanent for other 5xx replies to MAIL, RCPT or DATA
//     (Recipient set for RCPT), and for a mail that cannot be sent as it
//     is (no recipient, bad address, invalid m.MessageID; an invalid
//     In-Reply-To or References id is left out, never an error);
//   - DeliveryTemporary for everything else: 4xx, dial errors, timeouts,
//     dropped connections, TLS failures, refusals at greeting or EHLO,
//     and ctx ending (the error then wraps ctx.Err()).
//
// Delivery is all or nothing: the first refused recipient aborts the
// transaction before DATA. ctx ending closes the connection at once.
//
// A kept connection that fails before the server has accepted MAIL FROM
// with a network error or a 421 (the server dropped or is closing an
// idle connection) is discarded and the mail is tried once more on a
// fresh connection, whose result is the answer: the server cannot have
// taken the mail on the dead one. Any later failure is reported as above
// and never retried here, so Send never delivers a mail twice.
func (s *Sender) Send(ctx context.Context, m *bot.OutgoingMail) error {
	p, err := s.Prepare(ctx, m)
	if err != nil {
		return err
	}
	return p.Commit(ctx)
}

// Prepared is a mail whose transaction has run up to the end of its
// data: the server holds the message but has not accepted it, and
// discards it if the connection ends before Commit. It holds a
// connection until Commit or Abort, exactly one of which must be
// called, from one goroutine.
//
// It lets a caller overlap the slow part of sending one mail with
// recording the previous one, while the server still accepts nothing
// before that record is durable.
type Prepared struct {
	s     *Sender
	sc    *smtpConn
	w     io.WriteCloser
	m     *bot.OutgoingMail
	rcpts int
	start time.Time
	// refused are recipients the server refused for good while others
	// were accepted; Commit reports them as a *bot.PartialDelivery.
	refused     []string
	refusedWhy  string
	refusedCode int
}

// Prepare composes m and runs its transaction on a kept or new
// connection up to, not including, the end of DATA. Its errors are
// those of Send, for the steps it runs, with the same retry of a kept
// connection.
func (s *Sender) Prepare(ctx context.Context, m *bot.OutgoingMail) (*Prepared, error) {
	msg, rcpts, err := s.compose(m)
	if err != nil {
		return nil, &bot.DeliveryError{Failure: bot.DeliveryPermanent, Err: err}
	}
	p := &Prepared{s: s, m: m, rcpts: len(rcpts), start: time.Now()}
	if derr := s.prepare(ctx, p, msg, rcpts); derr != nil {
		return nil, s.failed(ctx, m, derr)
	}
	return p, nil
}

func (s *Sender) prepare(ctx context.Context, p *Prepared, msg *mail.Msg, rcpts []string) *bot.DeliveryError {
	if err := ctx.Err(); err != nil {
		return fail(stepConnect, "", fmt.Errorf("mailbox: smtp: %w", err))
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return fail(stepMail, "", fmt.Errorf("mailbox: smtp sender: %w", err))
	}
	if sc := s.takeIdle(); sc != nil {
		derr, retry := s.begin(ctx, p, sc, msg, from, rcpts)
		if !retry {
			return derr
		}
		s.log.Debug("smtp: kept connection failed before MAIL FROM was accepted, redialling", "err", derr)
	}
	sc, derr := s.connect(ctx)
	if derr != nil {
		return derr
	}
	derr, _ = s.begin(ctx, p, sc, msg, from, rcpts)
	return derr
}

// failed applies Send's rule for ctx ending and logs the failure.
func (s *Sender) failed(ctx context.Context, m *bot.OutgoingMail, derr *bot.DeliveryError) error {
	if ctx.Err() != nil {
		derr.Failure = bot.DeliveryTemporary
		if !errors.Is(derr.Err, ctx.Err()) {
			derr.Err = errors.Join(derr.Err, ctx.Err())
		}
	}
	s.log.Debug("smtp send failed", "message_id", m.MessageID, "err", derr)
	return derr
}

// Commit ends the data and returns nil once the server has accepted the
// mail, or an error classified as Send's. The connection is kept for
// the next mail when all went well.
func (p *Prepared) Commit(ctx context.Context) error {
	s, sc := p.s, p.sc
	if sc == nil {
		return &bot.DeliveryError{Failure: bot.DeliveryTemporary, Err: errors.New("mailbox: smtp: prepared mail already committed or aborted")}
	}
	p.sc = nil
	stop := context.AfterFunc(ctx, func() { _ = sc.raw.Close() })
	var derr *bot.DeliveryError
	if err := ctx.Err(); err != nil {
		derr = fail(stepData, "", fmt.Errorf("mailbox: smtp: %w", err))
	} else {
		_ = sc.raw.SetDeadline(time.Now().Add(s.cfg.Timeout))
		if err := p.w.Close(); err != nil {
			derr = fail(stepData, "", fmt.Errorf("mailbox: smtp end of DATA: %w", err))
		}
	}
	if stop() && derr == nil {
		sc.sent++
		s.release(sc)
	} else {
		if derr == nil {
			sc.sent++ // accepted, then ctx ended: the mail went out
		}
		_ = sc.raw.Close()
	}
	if derr != nil {
		return s.failed(ctx, p.m, derr)
	}
	s.log.Debug("smtp sent", "message_id", p.m.MessageID, "to", p.rcpts,
		"purpose", p.m.Purpose, "took", time.Since(p.start))
	if len(p.refused) > 0 {
		return &bot.PartialDelivery{Refused: p.refused, Reason: p.refusedWhy}
	}
	return nil
}

// Abort drops the connection without ending the data, so the server
// discards the mail. It is a no-op after Commit or Abort.
func (p *Prepared) Abort() {
	if p.sc != nil {
		_ = p.sc.raw.Close()
		p.sc = nil
	}
}

// connect dials and takes the connection through greeting, EHLO,
// STARTTLS and AUTH as configured. On error the connection is closed.
func (s *Sender) connect(ctx context.Context) (sc *smtpConn, derr *bot.DeliveryError) {
	conn, err := s.dial(ctx)
	if err != nil {
		return nil, fail(stepConnect, "", fmt.Errorf("mailbox: smtp connect %s: %w", s.cfg.Address, err))
	}
	// Closing the raw connection is the only way to interrupt a blocked
	// read: smtp.Client.Close waits for the command lock.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer func() {
		if !stop() && derr == nil {
			sc, derr = nil, fail(stepConnect, "", fmt.Errorf("mailbox: smtp: %w", ctx.Err()))
		}
		if derr != nil {
			_ = conn.Close()
		}
	}()
	deadline := func() { _ = conn.SetDeadline(time.Now().Add(s.cfg.Timeout)) }
	deadline()
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return nil, fail(stepConnect, "", fmt.Errorf("mailbox: smtp greeting from %s: %w", s.cfg.Address, err))
	}
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return nil, fail(stepConnect, "", fmt.Errorf("mailbox: smtp EHLO: %w", err))
	}
	if s.cfg.Security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return nil, fail(stepStartTLS, "", fmt.Errorf("mailbox: smtp server %s does not offer STARTTLS, which is required", s.cfg.Address))
		}
		deadline()
		if err := c.StartTLS(s.tls); err != nil {
			return nil, fail(stepStartTLS, "", fmt.Errorf("mailbox: smtp STARTTLS: %w", err))
		}
	}
	if s.cfg.Username != "" {
		if ok, mechs := c.Extension("AUTH"); !ok || !hasWord(mechs, "PLAIN") {
			return nil, fail(stepAuth, "", fmt.Errorf("mailbox: smtp server %s does not offer AUTH PLAIN (offers %q)", s.cfg.Address, mechs))
		}
		deadline()
		// Unencrypted PLAIN only happens with SecurityNone, which
		// NewSender allows for loopback hosts only.
		auth := smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host, s.cfg.Security == SecurityNone)
		if err := c.Auth(auth); err != nil {
			return nil, fail(stepAuth, "", fmt.Errorf("mailbox: smtp AUTH as %q: %w", s.cfg.Username, err))
		}
	}
	return &smtpConn{raw: conn, c: c}, nil
}

// begin runs MAIL, RCPT, DATA and the message on sc, and flushes it
// all but the final "." to the server. On success p holds sc; on
// failure sc is closed. retry reports a failure on a kept connection
// before the server accepted MAIL FROM that looks like a dead or
// closing connection: the mail may be tried on a fresh one.
func (s *Sender) begin(ctx context.Context, p *Prepared, sc *smtpConn, msg *mail.Msg, from string, rcpts []string) (derr *bot.DeliveryError, retry bool) {
	kept := sc.sent > 0
	stop := context.AfterFunc(ctx, func() { _ = sc.raw.Close() })
	defer func() {
		if !stop() && derr == nil {
			derr = fail(stepBody, "", fmt.Errorf("mailbox: smtp: %w", ctx.Err()))
		}
		if derr != nil {
			_ = sc.raw.Close()
			return
		}
		p.sc = sc
	}()
	deadline := func() { _ = sc.raw.SetDeadline(time.Now().Add(s.cfg.Timeout)) }
	deadline()
	if err := sc.c.Mail(from); err != nil {
		derr := fail(stepMail, "", fmt.Errorf("mailbox: smtp MAIL FROM:<%s>: %w", from, err))
		return derr, kept && ctx.Err() == nil && (derr.Code == 421 || isNetworkError(err))
	}
	for _, r := range rcpts {
		deadline()
		if err := sc.c.Rcpt(r); err != nil {
			derr := fail(stepRcpt, r, fmt.Errorf("mailbox: smtp RCPT TO:<%s>: %w", r, err))
			if derr.Failure != bot.DeliveryPermanent || len(rcpts) == 1 {
				return derr, false
			}
			// One of several recipients refused for good (a manager who
			// left): the others still get the mail.
			p.refused = append(p.refused, r)
			p.refusedWhy, p.refusedCode = derr.Err.Error(), derr.Code
		}
	}
	if len(p.refused) == len(rcpts) {
		return &bot.DeliveryError{Failure: bot.DeliveryPermanent, Code: p.refusedCode, Recipient: p.refused[0],
			Err: fmt.Errorf("mailbox: smtp: every recipient refused: %s", p.refusedWhy)}, false
	}
	deadline()
	w, err := sc.c.Data()
	if err != nil {
		return fail(stepData, "", fmt.Errorf("mailbox: smtp DATA: %w", err)), false
	}
	if _, err := msg.WriteTo(&deadlineWriter{w: w, touch: deadline}); err != nil {
		return fail(stepBody, "", fmt.Errorf("mailbox: smtp writing message: %w", err)), false
	}
	// Send the data now, so Commit costs one round trip; the dot that
	// ends it is written by w.Close.
	deadline()
	if err := sc.c.Text.W.Flush(); err != nil {
		return fail(stepBody, "", fmt.Errorf("mailbox: smtp writing message: %w", err)), false
	}
	p.w = w
	return nil, false
}

// dial connects, with implicit TLS when configured, within ctx and the
// step timeout.
func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	d := &net.Dialer{}
	if s.cfg.Security == SecurityTLS {
		td := &tls.Dialer{NetDialer: d, Config: s.tls}
		return td.DialContext(dctx, "tcp", s.cfg.Address)
	}
	return d.DialContext(dctx, "tcp", s.cfg.Address)
}

// deadlineWriter pushes the connection deadline forward on every write,
// so a large message gets Timeout per chunk rather than in total.
type deadlineWriter struct {
	w     io.Writer
	touch func()
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.touch()
	return d.w.Write(p)
}

func hasWord(list, word string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, word) {
			return true
		}
	}
	return false
}

// fail classifies err, which happened at step, into a *bot.DeliveryError.
func fail(step, rcpt string, err error) *bot.DeliveryError {
	de := &bot.DeliveryError{Failure: bot.DeliveryTemporary, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		de.Code = te.Code
	}
	switch {
	case de.Code == 530 || de.Code == 534 || de.Code == 535 || de.Code == 538:
		de.Failure = bot.DeliveryAuth
	case step == stepAuth && de.Code == 0 && !isNetworkError(err):
		de.Failure = bot.DeliveryAuth
	case step == stepAuth && de.Code >= 500:
		de.Failure = bot.DeliveryAuth
	case (step == stepMail || step == stepRcpt || step == stepData) && de.Code >= 500:
		de.Failure = bot.DeliveryPermanent
		if step == stepRcpt {
			de.Recipient = rcpt
		}
	}
	return de
}

// isNetworkError reports a failure of the connection rather than of the
// protocol: I/O errors, timeouts, EOF.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

// PrepareMail is Prepare for bot.Deliverer (bot.MailPreparer): the
// deliverer prepares the next mail while the previous one's result is
// recorded.
func (s *Sender) PrepareMail(ctx context.Context, m *bot.OutgoingMail) (bot.PreparedMail, error) {
	p, err := s.Prepare(ctx, m)
	if err != nil {
		return nil, err
	}
	return p, nil
}

var _ bot.MailPreparer = (*Sender)(nil)
