package mailbox

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/demo"
)

// testCert returns demo.LoopbackCertificate, failing t on error.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := demo.LoopbackCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}

// Intake speaks implicit TLS and STARTTLS, verifying the server against
// IMAPConfig.TLSConfig, and names imap.security when the certificate is
// not trusted.
func TestIntakeTLS(t *testing.T) {
	cert, pool := testCert(t)
	for _, tc := range []struct {
		security string
		implicit bool
	}{{"tls", true}, {"starttls", false}} {
		t.Run(tc.security, func(t *testing.T) {
			m, err := demo.StartIMAP(&demo.IMAPOptions{
				TLSConfig:   &tls.Config{Certificates: []tls.Certificate{cert}},
				ImplicitTLS: tc.implicit,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			s := &server{name: "memserver", addr: m.Addr(), user: m.Username(), password: m.Password(),
				appendAt: func(t *testing.T, mailbox string, raw []byte, date time.Time) uint32 {
					uid, err := m.Append(t.Context(), mailbox, raw, date)
					if err != nil {
						t.Fatal(err)
					}
					return uid
				}}
			s.appendMsg(t, "INBOX", msg("a@x"))

			rec := newRecorder()
			_, stop := runIntake(t, s, rec, nil, func(c *IMAPConfig, _ *Intake) {
				c.Security, c.TLSConfig = tc.security, &tls.Config{RootCAs: pool}
			})
			eventually(t, "a@x recorded", func() bool {
				created, _, _ := rec.snapshot()
				return slices.Equal(created, []string{"a@x"})
			})
			stop()

			health := &healthLog{}
			_, stop = runIntake(t, s, newRecorder(), health, func(c *IMAPConfig, _ *Intake) {
				c.Security = tc.security // system roots: our certificate is unknown
			})
			eventually(t, "a down report", func() bool { return len(health.get()) > 0 })
			stop()
			if ev := health.get()[0]; !strings.Contains(ev, "not trusted") || !strings.Contains(ev, "imap.security") {
				t.Fatalf("health %q, want an untrusted-certificate reason naming imap.security", ev)
			}
		})
	}
}
