package mailbox_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/mailbox"
)

// smtpTestCert returns demo.LoopbackCertificate, failing t on error.
func smtpTestCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := demo.LoopbackCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}

func TestSendOverTLS(t *testing.T) {
	cert, pool := smtpTestCert(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	for _, tc := range []struct {
		name     string
		implicit bool
		security string
	}{
		{"starttls", false, mailbox.SecurityStartTLS},
		{"implicit tls", true, mailbox.SecurityTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capOpts := &demo.SMTPCaptureOptions{Username: "desk", Password: "s3cret", TLSConfig: serverTLS, ImplicitTLS: tc.implicit}
			capture, s := smtpSetup(t, capOpts, func(c *mailbox.SMTPConfig) {
				c.Security = tc.security
				c.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			})
			if err := s.Send(context.Background(), smtpMail("tls-1@desk.example.test")); err != nil {
				t.Fatal(err)
			}
			smtpOnly(t, capture, "ann@school.test")

			// The same server is not trusted without the test CA.
			_, untrusting := smtpSetup(t, nil, func(c *mailbox.SMTPConfig) {
				c.Address = capture.Addr()
				c.Security = tc.security
			})
			smtpWantFailure(t, untrusting.Send(context.Background(), smtpMail("tls-2@x.test")), bot.DeliveryTemporary, 0, "")
		})
	}
}

func TestSendStartTLSRequired(t *testing.T) {
	capture, s := smtpSetup(t, nil, func(c *mailbox.SMTPConfig) { c.Security = mailbox.SecurityStartTLS })
	err := s.Send(context.Background(), smtpMail("nostarttls-1@x.test"))
	smtpWantFailure(t, err, bot.DeliveryTemporary, 0, "")
	if !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("err = %v, want it to name STARTTLS", err)
	}
	if n := len(capture.Messages()); n != 0 {
		t.Errorf("mail sent in clear when STARTTLS was required")
	}
}
