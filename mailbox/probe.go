package mailbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/wneessen/go-mail/smtp"

	"rfadesk/bot"
)

// ProbeTimeout bounds each step of ProbeIMAP and ProbeSMTP (a deadline
// of their context can shorten it).
const ProbeTimeout = 15 * time.Second

// ProbeError is what a connection check found wrong, in one line: the
// setting to look at (Key, e.g. "imap.password"), what is wrong and what
// to do. Err is the underlying error.
type ProbeError struct {
	Key     string
	Problem string // what is wrong, naming the server and the value
	Fix     string // what to do
	Err     error
}

func (e *ProbeError) Error() string { return e.Key + ": " + e.Problem + "; " + e.Fix }
func (e *ProbeError) Unwrap() error { return e.Err }

// ProbeIMAP connects to the IMAP server of cfg, secures the connection
// and logs in exactly as intake does, then checks that cfg.Mailbox
// exists. It returns nil or a *ProbeError, and notes that are not
// errors (a processed or failed folder that intake will create). It
// changes nothing on the server.
func ProbeIMAP(ctx context.Context, cfg IMAPConfig) (notes []string, err error) {
	// An Intake that never reads mail: it dials as the daemon's would.
	in, err := NewIntake(cfg, probeIngester{}, IntakeOptions{
		Parse:     func([]byte) (*bot.Mail, error) { return nil, errProbeOnly },
		DedupeKey: DedupeKey,
	})
	if err != nil {
		return nil, &ProbeError{Key: "imap.address", Problem: err.Error(), Fix: "check the [imap] section", Err: err}
	}
	cfg = in.cfg // defaults applied
	wait := ProbeTimeout
	if d, ok := ctx.Deadline(); ok {
		wait = max(min(wait, time.Until(d)).Round(time.Millisecond), time.Millisecond)
	}
	in.cmdTimeout = wait
	c, err := in.dial(ctx, nil)
	if err != nil {
		return nil, classifyIMAPDial(cfg, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	timer := time.AfterFunc(wait, func() { c.Close() })
	defer timer.Stop()

	missing := func(name string) (bool, error) {
		_, err := c.Status(name, &imap.StatusOptions{NumMessages: true}).Wait()
		var ie *imap.Error
		switch {
		case err == nil:
			return false, nil
		case errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo:
			return true, nil
		}
		return false, err
	}
	if gone, err := missing(cfg.Mailbox); err != nil {
		return nil, &ProbeError{Key: "imap.address", Problem: fmt.Sprintf("%s stopped answering: %v", cfg.Address, imapOneLine(err)), Fix: "try again; check the server", Err: err}
	} else if gone {
		return nil, &ProbeError{Key: "imap.mailbox",
			Problem: fmt.Sprintf("%s has no folder %q for %s (it has: %s)", cfg.Address, cfg.Mailbox, cfg.Username, listFolders(c)),
			Fix:     "set imap.mailbox to the folder mail arrives in (usually INBOX)"}
	}
	for _, f := range []struct{ key, name string }{{"imap.processed", cfg.Processed}, {"imap.failed", cfg.Failed}} {
		if gone, err := missing(f.name); err != nil {
			return notes, &ProbeError{Key: "imap.address", Problem: fmt.Sprintf("%s stopped answering: %v", cfg.Address, imapOneLine(err)), Fix: "try again; check the server", Err: err}
		} else if gone {
			notes = append(notes, fmt.Sprintf("%s: folder %q does not exist yet; rfadesk creates it when it first connects", f.key, f.name))
		}
	}
	_ = c.Logout().Wait()
	return notes, nil
}

// errProbeOnly is what the probe's Intake answers if asked to take mail
// (it never is: the probe only dials).
var errProbeOnly = errors.New("mailbox: a connection check takes no mail")

// probeIngester is the Ingester of the probe's Intake.
type probeIngester struct{}

func (probeIngester) Cursor(context.Context, string) (bot.Cursor, error) {
	return bot.Cursor{}, errProbeOnly
}

func (probeIngester) Ingest(context.Context, string, uint32, []bot.Fetched) ([]bot.Outcome, error) {
	return nil, errProbeOnly
}

// listFolders names at most 20 of the account's folders, for a message.
func listFolders(c *imapclient.Client) string {
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return "folders unknown: " + imapOneLine(err)
	}
	var names []string
	for _, mb := range list {
		names = append(names, fmt.Sprintf("%q", mb.Mailbox))
	}
	slices.Sort(names)
	if len(names) > 20 {
		names = append(names[:20], "...")
	}
	return strings.Join(names, ", ")
}

// classifyIMAPDial turns a failure to get a logged-in connection into a
// ProbeError.
func classifyIMAPDial(cfg IMAPConfig, err error) *ProbeError {
	var de *imapDialError
	if !errors.As(err, &de) {
		return &ProbeError{Key: "imap.address", Problem: imapOneLine(err), Fix: "check imap.address", Err: err}
	}
	switch de.stage {
	case stageConnect:
		if pe := classifyNet("imap", cfg.Address, cfg.Security, de.err); pe != nil {
			return pe
		}
		if cfg.Security == SecurityNone {
			return &ProbeError{Key: "imap.security", Problem: fmt.Sprintf("%s did not greet in plain IMAP: %v", cfg.Address, imapOneLine(de.err)),
				Fix: `the port may expect TLS: set imap.security = "tls" (port 993) or "starttls" (port 143)`, Err: err}
		}
		return &ProbeError{Key: "imap.address", Problem: fmt.Sprintf("%s: %v", cfg.Address, imapOneLine(de.err)), Fix: "check imap.address", Err: err}
	case stageTLS:
		if pe := classifyNet("imap", cfg.Address, cfg.Security, de.err); pe != nil {
			return pe
		}
		return &ProbeError{Key: "imap.security", Problem: fmt.Sprintf("STARTTLS with %s failed: %v", cfg.Address, imapOneLine(de.err)),
			Fix: `check imap.security ("tls" for port 993, "starttls" for 143)`, Err: err}
	}
	var ie *imap.Error
	switch {
	case errors.Is(de.err, errLoginDisabled), errors.As(de.err, &ie) && ie.Code == imap.ResponseCodePrivacyRequired:
		return &ProbeError{Key: "imap.security", Problem: fmt.Sprintf("%s refuses to log in without TLS", cfg.Address),
			Fix: `set imap.security = "tls" or "starttls"`, Err: err}
	case errors.As(de.err, &ie):
		return &ProbeError{Key: "imap.password", Problem: fmt.Sprintf("%s refused the login of %q: %s", cfg.Address, cfg.Username, imapOneLine(ie)),
			Fix: "check imap.username and imap.password (or password_file, RFADESK_IMAP_PASSWORD)", Err: err}
	}
	return &ProbeError{Key: "imap.address", Problem: fmt.Sprintf("login to %s failed: %v", cfg.Address, imapOneLine(de.err)), Fix: "check imap.address and imap.security", Err: err}
}

// ProbeSMTP connects to the SMTP server of cfg as the Sender does
// (implicit TLS or STARTTLS, AUTH PLAIN when a username is set), then
// offers from as the envelope sender, and resets and quits without
// sending anything. It returns nil or a *ProbeError.
func ProbeSMTP(ctx context.Context, cfg SMTPConfig, from string) error {
	s, err := NewSender(cfg, SenderOptions{From: bot.Address{Email: from}})
	if err != nil {
		return &ProbeError{Key: "smtp.address", Problem: err.Error(), Fix: "check the [smtp] section", Err: err}
	}
	dctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	s.cfg.Timeout = min(s.cfg.Timeout, ProbeTimeout)
	conn, err := s.dial(dctx)
	if err != nil {
		if pe := classifyNet("smtp", cfg.Address, cfg.Security, err); pe != nil {
			return pe
		}
		return &ProbeError{Key: "smtp.address", Problem: fmt.Sprintf("cannot connect to %s: %v", cfg.Address, imapOneLine(err)), Fix: "check smtp.address", Err: err}
	}
	defer conn.Close()
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(s.cfg.Timeout))
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		if cfg.Security == SecurityNone {
			return &ProbeError{Key: "smtp.security", Problem: fmt.Sprintf("%s did not greet in plain SMTP: %v", cfg.Address, imapOneLine(err)),
				Fix: `the port may expect TLS: set smtp.security = "tls" (port 465) or "starttls" (port 587)`, Err: err}
		}
		return &ProbeError{Key: "smtp.address", Problem: fmt.Sprintf("%s did not greet: %v", cfg.Address, imapOneLine(err)), Fix: "check smtp.address", Err: err}
	}
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return &ProbeError{Key: "smtp.helo_name", Problem: fmt.Sprintf("%s refused EHLO %s: %v", cfg.Address, s.cfg.HeloName, imapOneLine(err)), Fix: "set smtp.helo_name to this machine's name", Err: err}
	}
	if cfg.Security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &ProbeError{Key: "smtp.security", Problem: fmt.Sprintf("%s does not offer STARTTLS", cfg.Address),
				Fix: `set smtp.security = "tls" if the port speaks TLS from the start (465), or use the server's submission port (587)`}
		}
		if err := c.StartTLS(s.tls); err != nil {
			if pe := classifyNet("smtp", cfg.Address, cfg.Security, err); pe != nil {
				return pe
			}
			return &ProbeError{Key: "smtp.security", Problem: fmt.Sprintf("STARTTLS with %s failed: %v", cfg.Address, imapOneLine(err)), Fix: "check smtp.security", Err: err}
		}
	}
	if cfg.Username != "" {
		if ok, mechs := c.Extension("AUTH"); !ok || !hasWord(mechs, "PLAIN") {
			fix := "ask for AUTH PLAIN, or leave smtp.username empty if the server takes mail without login"
			if cfg.Security == SecurityNone {
				fix = "the server may offer login only over TLS: set smtp.security"
			}
			return &ProbeError{Key: "smtp.username", Problem: fmt.Sprintf("%s does not offer AUTH PLAIN (offers %q)", cfg.Address, mechs), Fix: fix}
		}
		auth := smtp.PlainAuth("", cfg.Username, cfg.Password, s.host, cfg.Security == SecurityNone)
		if err := c.Auth(auth); err != nil {
			return &ProbeError{Key: "smtp.password", Problem: fmt.Sprintf("%s refused the login of %q: %v", cfg.Address, cfg.Username, imapOneLine(err)),
				Fix: "check smtp.username and smtp.password (or password_file, RFADESK_SMTP_PASSWORD)", Err: err}
		}
	}
	if err := c.Mail(from); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && (te.Code == 530 || te.Code == 534 || te.Code == 535) {
			return &ProbeError{Key: "smtp.username", Problem: fmt.Sprintf("%s wants a login before it takes mail: %v", cfg.Address, imapOneLine(err)),
				Fix: "set smtp.username and smtp.password", Err: err}
		}
		return &ProbeError{Key: "desk.address", Problem: fmt.Sprintf("%s refused %s as the sender: %v", cfg.Address, from, imapOneLine(err)),
			Fix: "let the SMTP account send as desk.address, or change desk.address", Err: err}
	}
	_ = c.Reset()
	_ = c.Quit()
	return nil
}

// classifyNet names DNS, TCP and TLS failures; nil if err is none of
// those. service is "imap" or "smtp".
func classifyNet(service, address, security string, err error) *ProbeError {
	key := service + ".address"
	host, _, _ := net.SplitHostPort(address)
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr):
		what := "does not exist"
		if !dnsErr.IsNotFound {
			what = "could not be looked up: " + dnsErr.Err
		}
		return &ProbeError{Key: key, Problem: fmt.Sprintf("DNS: the host name %q %s", dnsErr.Name, what), Fix: "check the host name in " + key + " and this machine's DNS", Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("TCP: %s refused the connection (nothing listens on that port)", address), Fix: "check the port in " + key, Err: err}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("TCP: %s is unreachable: %v", address, imapOneLine(err)), Fix: "check " + key + " and this machine's network", Err: err}
	case isIMAPTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("TCP: %s did not answer in time", address), Fix: "check " + key + " and any firewall on the way", Err: err}
	case errors.As(err, &hostErr):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("TLS: the certificate of %s is not for %q: %v", address, host, imapOneLine(hostErr)),
			Fix: "use in " + key + " the host name the certificate names", Err: err}
	case errors.As(err, &authErr):
		problem := fmt.Sprintf("TLS: the certificate of %s is signed by %q, which this machine does not trust", address, issuerName(authErr.Cert))
		if c := authErr.Cert; c != nil && c.CheckSignatureFrom(c) == nil {
			problem = fmt.Sprintf("TLS: the certificate of %s is self-signed (%q), so this machine does not trust it", address, issuerName(c))
		}
		return &ProbeError{Key: key, Problem: problem,
			Fix: "give the server a certificate from a public authority, or add its authority to this machine's trusted certificates", Err: err}
	case errors.As(err, &invErr):
		problem := fmt.Sprintf("TLS: the certificate of %s is invalid: %v", address, imapOneLine(invErr))
		if invErr.Reason == x509.Expired && invErr.Cert != nil {
			problem = fmt.Sprintf("TLS: the certificate of %s is valid from %s to %s, not now", address,
				invErr.Cert.NotBefore.UTC().Format(time.RFC3339), invErr.Cert.NotAfter.UTC().Format(time.RFC3339))
		}
		return &ProbeError{Key: key, Problem: problem, Fix: "renew the server's certificate (or fix this machine's clock)", Err: err}
	case errors.As(err, &certErr):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("TLS: the certificate of %s is not trusted: %v", address, imapOneLine(certErr)), Fix: "check the server's certificate", Err: err}
	case errors.As(err, &recErr):
		return &ProbeError{Key: service + ".security", Problem: fmt.Sprintf("TLS: %s does not speak TLS on that port (security %q)", address, security),
			Fix: fmt.Sprintf(`set %s.security = "starttls" for a port that starts in plain text, or use the server's TLS port`, service), Err: err}
	}
	return nil
}

// issuerName is a certificate's issuer for a message.
func issuerName(c *x509.Certificate) string {
	if c == nil {
		return "an unknown authority"
	}
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return c.Issuer.String()
}
