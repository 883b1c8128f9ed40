package mailbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Stages of connecting, kept in errors so that the health reason can name
// the setting to check.
const (
	stageConnect = "connect"
	stageTLS     = "tls"
	stageLogin   = "login"
)

// errLoginDisabled is the server announcing LOGINDISABLED (no login
// before TLS).
var errLoginDisabled = errors.New("server refuses LOGIN on this connection (LOGINDISABLED)")

// imapDialError is a failure to get a logged-in connection.
type imapDialError struct {
	stage string
	err   error
}

func (e *imapDialError) Error() string {
	return fmt.Sprintf("mailbox: imap %s: %v", e.stage, e.err)
}
func (e *imapDialError) Unwrap() error { return e.err }

// dial connects, secures and logs in. Every step is bounded by ctx and by
// the command timeout.
func (i *Intake) dial(ctx context.Context, handler *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	cfg := i.cfg
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", cfg.Address)
	if err != nil {
		return nil, &imapDialError{stageConnect, err}
	}
	// Until the client exists, the watchdog and ctx close the socket.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	var fired atomic.Bool
	timer := time.AfterFunc(i.cmdTimeout, func() {
		fired.Store(true)
		raw.Close()
	})
	defer timer.Stop()
	fail := func(stage string, err error) error {
		if fired.Load() {
			return &imapDialError{stageConnect, fmt.Errorf("no answer within %v", i.cmdTimeout)}
		}
		return &imapDialError{stage, err}
	}

	tlsConfig := &tls.Config{}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName, _, _ = net.SplitHostPort(cfg.Address)
	}
	opts := &imapclient.Options{UnilateralDataHandler: handler, TLSConfig: tlsConfig}

	var c *imapclient.Client
	switch cfg.Security {
	case "tls":
		if tlsConfig.NextProtos == nil {
			tlsConfig.NextProtos = []string{"imap"}
		}
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fail(stageTLS, err)
		}
		c = imapclient.New(tc, opts)
	case "starttls":
		c, err = imapclient.NewStartTLS(raw, opts)
		if err != nil {
			raw.Close()
			return nil, fail(stageTLS, err)
		}
	default:
		c = imapclient.New(raw, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fail(stageConnect, err)
	}
	if c.Caps().Has(imap.CapLoginDisabled) {
		c.Close()
		return nil, fail(stageLogin, errLoginDisabled)
	}
	if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
		c.Close()
		return nil, fail(stageLogin, err)
	}
	if !timer.Stop() {
		c.Close()
		return nil, &imapDialError{stageConnect, fmt.Errorf("no answer within %v", i.cmdTimeout)}
	}
	return c, nil
}

// healthReason turns a session error into a one-line health reason that names
// the setting most likely at fault. It never includes the password.
func healthReason(cfg IMAPConfig, err error) string {
	if err == nil {
		return "imap: disconnected"
	}
	var ie ingestError
	if errors.As(err, &ie) {
		return fmt.Sprintf("intake: the desk could not record mail: %v", ie.err)
	}
	var imapErr *imap.Error
	var ce *imapCommandError
	if errors.As(err, &ce) {
		switch {
		case ce.timeout:
			return fmt.Sprintf("imap: %s did not answer %s: %v; reconnecting", cfg.Address, ce.what, imapOneLine(ce.err))
		case !errors.As(ce.err, &imapErr):
			// a network error: fall through to "connection lost"
		case strings.HasPrefix(ce.what, "select "):
			return fmt.Sprintf("imap: cannot open mailbox %q: %s: check imap.mailbox", cfg.Mailbox, imapOneLine(imapErr))
		case strings.HasPrefix(ce.what, "create "), strings.HasPrefix(ce.what, "move to "):
			return fmt.Sprintf("imap: %s failed: %s: check imap.processed and imap.failed", ce.what, imapOneLine(imapErr))
		default:
			return fmt.Sprintf("imap: %s refused by %s: %s", ce.what, cfg.Address, imapOneLine(imapErr))
		}
	}
	var de *imapDialError
	if !errors.As(err, &de) {
		return fmt.Sprintf("imap: connection to %s lost: %v", cfg.Address, imapOneLine(err))
	}
	switch de.stage {
	case stageLogin:
		if errors.Is(de.err, errLoginDisabled) || errors.As(de.err, &imapErr) && imapErr.Code == imap.ResponseCodePrivacyRequired {
			return fmt.Sprintf("imap: %s refuses login without TLS: check imap.security", cfg.Address)
		}
		if errors.As(de.err, &imapErr) {
			return fmt.Sprintf("imap: login failed for %s: %s: check imap.username and imap.password", cfg.Username, imapOneLine(imapErr))
		}
		return fmt.Sprintf("imap: login to %s failed: %v", cfg.Address, imapOneLine(de.err))
	case stageTLS:
		var certErr *tls.CertificateVerificationError
		var hostErr x509.HostnameError
		var authErr x509.UnknownAuthorityError
		if errors.As(de.err, &certErr) || errors.As(de.err, &hostErr) || errors.As(de.err, &authErr) {
			return fmt.Sprintf("imap: the TLS certificate of %s is not trusted: %v: check imap.address and imap.security", cfg.Address, imapOneLine(de.err))
		}
		return fmt.Sprintf("imap: TLS with %s failed (%s): %v: check imap.security", cfg.Address, cfg.Security, imapOneLine(de.err))
	}
	var dnsErr *net.DNSError
	switch {
	case errors.Is(de.err, syscall.ECONNREFUSED):
		return fmt.Sprintf("imap: cannot connect to %s: connection refused: check imap.address", cfg.Address)
	case errors.As(de.err, &dnsErr):
		return fmt.Sprintf("imap: cannot resolve %q: check imap.address", dnsErr.Name)
	case isIMAPTimeout(de.err):
		return fmt.Sprintf("imap: cannot connect to %s: timed out: check imap.address and the firewall", cfg.Address)
	}
	if cfg.Security == "none" && strings.Contains(de.err.Error(), "greeting") {
		return fmt.Sprintf("imap: %s did not greet in IMAP: %v: check imap.address and imap.security", cfg.Address, imapOneLine(de.err))
	}
	return fmt.Sprintf("imap: cannot connect to %s: %v: check imap.address", cfg.Address, imapOneLine(de.err))
}

func isIMAPTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// imapOneLine keeps a reason on one line.
func imapOneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
