package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"rfadesk/demo"
	"rfadesk/mailbox/dovecottest"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// wantProbe checks that err is a *ProbeError for key whose line says
// every one of words.
func wantProbe(t *testing.T, err error, key string, words ...string) {
	t.Helper()
	var pe *ProbeError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *ProbeError for %s", err, key)
	}
	if pe.Key != key {
		t.Errorf("key %q, want %q: %v", pe.Key, key, err)
	}
	line := err.Error()
	t.Log(line)
	if strings.Contains(line, "\n") || !strings.HasPrefix(line, key+": ") {
		t.Errorf("not one line starting with %q: %q", key+": ", line)
	}
	for _, w := range words {
		if !strings.Contains(line, w) {
			t.Errorf("%q does not say %q", line, w)
		}
	}
}

func startProbeIMAP(t *testing.T, opts *demo.IMAPOptions) *demo.IMAPServer {
	t.Helper()
	s, err := demo.StartIMAP(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConnectProbeIMAP(t *testing.T) {
	ctx := context.Background()
	plain := startProbeIMAP(t, &demo.IMAPOptions{Mailboxes: []string{"Processed"}})
	good := IMAPConfig{Address: plain.Addr(), Security: SecurityNone, Username: plain.Username(), Password: plain.Password()}

	notes, err := ProbeIMAP(ctx, good)
	if err != nil {
		t.Fatalf("good config: %v", err)
	}
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "imap.failed: ") {
		t.Errorf("notes %q, want one about the missing Failed folder", notes)
	}

	cfg := good
	cfg.Password = "wrong"
	_, err = ProbeIMAP(ctx, cfg)
	wantProbe(t, err, "imap.password", plain.Username(), "imap.username")

	cfg = good
	cfg.Mailbox = "Support"
	_, err = ProbeIMAP(ctx, cfg)
	wantProbe(t, err, "imap.mailbox", `"Support"`, `"INBOX"`)

	cfg = good
	cfg.Address = closedAddr(t)
	_, err = ProbeIMAP(ctx, cfg)
	wantProbe(t, err, "imap.address", "TCP", "refused")

	cfg = good
	cfg.Address, cfg.Security = "nonexistent.invalid:993", SecurityTLS
	_, err = ProbeIMAP(ctx, cfg)
	wantProbe(t, err, "imap.address", "DNS", "nonexistent.invalid")

	cert, _ := testCert(t)
	for _, implicit := range []bool{true, false} {
		tlsSrv := startProbeIMAP(t, &demo.IMAPOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ImplicitTLS: implicit})
		cfg = good
		cfg.Address, cfg.Security = tlsSrv.Addr(), SecurityStartTLS
		if implicit {
			cfg.Security = SecurityTLS
		}
		_, err = ProbeIMAP(ctx, cfg) // system roots: the certificate is unknown
		wantProbe(t, err, "imap.address", "TLS", "self-signed", "rfadesk loopback")
	}

	tlsSrv := startProbeIMAP(t, &demo.IMAPOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ImplicitTLS: true})
	cfg = good
	cfg.Address = tlsSrv.Addr() // plain text to a TLS port: no greeting comes
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err = ProbeIMAP(short, cfg)
	wantProbe(t, err, "imap.security", "tls")

	cfg = good
	cfg.Security = SecurityTLS // TLS to a plain-text port
	_, err = ProbeIMAP(ctx, cfg)
	wantProbe(t, err, "imap.security", "does not speak TLS")
}

func startProbeSMTP(t *testing.T, opts *demo.SMTPCaptureOptions) *demo.SMTPCapture {
	t.Helper()
	s, err := demo.StartSMTPCapture(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConnectProbeSMTP(t *testing.T) {
	ctx := context.Background()
	const from = "support@example.org"
	cert, pool := testCert(t)
	srv := startProbeSMTP(t, &demo.SMTPCaptureOptions{Username: "desk", Password: "secret", TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
	good := SMTPConfig{Address: srv.Addr(), Security: SecurityStartTLS, Username: "desk", Password: "secret", TLSConfig: &tls.Config{RootCAs: pool}}
	if err := ProbeSMTP(ctx, good, from); err != nil {
		t.Fatalf("good config: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("the probe sent %d mails", n)
	}

	cfg := good
	cfg.Password = "wrong"
	wantProbe(t, ProbeSMTP(ctx, cfg, from), "smtp.password", `"desk"`, "535")

	cfg = good
	cfg.TLSConfig = nil // system roots
	wantProbe(t, ProbeSMTP(ctx, cfg, from), "smtp.address", "TLS", "self-signed")

	srv.FailNext(demo.FaultMail, 553, 1)
	wantProbe(t, ProbeSMTP(ctx, good, from), "desk.address", from, "553")

	cfg = good
	cfg.Address = closedAddr(t)
	wantProbe(t, ProbeSMTP(ctx, cfg, from), "smtp.address", "TCP", "refused")

	cfg = good
	cfg.Address = "nonexistent.invalid:587"
	wantProbe(t, ProbeSMTP(ctx, cfg, from), "smtp.address", "DNS", "nonexistent.invalid")

	plain := startProbeSMTP(t, nil)
	cfg = good
	cfg.Address = plain.Addr() // no STARTTLS offered
	wantProbe(t, ProbeSMTP(ctx, cfg, from), "smtp.security", "STARTTLS")

	implicit := startProbeSMTP(t, &demo.SMTPCaptureOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ImplicitTLS: true})
	cfg = SMTPConfig{Address: implicit.Addr(), Security: SecurityTLS}
	wantProbe(t, ProbeSMTP(ctx, cfg, from), "smtp.address", "TLS", "self-signed")
	cfg.TLSConfig = &tls.Config{RootCAs: pool}
	if err := ProbeSMTP(ctx, cfg, from); err != nil {
		t.Errorf("implicit TLS, trusted: %v", err)
	}
	cfg = SMTPConfig{Address: plain.Addr(), Security: SecurityTLS}
	wantProbe(t, ProbeSMTP(ctx, cfg, from), "smtp.security", "does not speak TLS")
}

// TestConnectProbeIMAPDovecot checks the same login and folder problems
// against a real Dovecot.
func TestConnectProbeIMAPDovecot(t *testing.T) {
	d := dovecottest.Start(t, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
	good := IMAPConfig{Address: d.Addr(), Security: SecurityNone, Username: d.User(), Password: d.Password()}
	ctx := context.Background()
	if notes, err := ProbeIMAP(ctx, good); err != nil || len(notes) != 0 {
		t.Fatalf("good config: %v, notes %q", err, notes)
	}
	cfg := good
	cfg.Password = "wrong"
	_, err := ProbeIMAP(ctx, cfg)
	wantProbe(t, err, "imap.password", d.User())
	cfg = good
	cfg.Mailbox, cfg.Processed = "Support", "Done"
	_, err = ProbeIMAP(ctx, cfg)
	wantProbe(t, err, "imap.mailbox", `"Support"`, `"INBOX"`, `"Failed"`)
}
