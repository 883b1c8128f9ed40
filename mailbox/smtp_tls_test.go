package mailbox_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/mailbox"
)

// smtpTestCert makes a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func smtpTestCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rfadesk test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
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
