package dovecottest_test

import (
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"rfadesk/mailbox/dovecottest"
)

func TestStartAppendRestart(t *testing.T) {
	s := dovecottest.Start(t, &dovecottest.Options{Mailboxes: []string{"Processed"}})
	raw := []byte("From: a@example.test\r\nSubject: hi\r\nMessage-ID: <1@example.test>\r\n\r\nbody\r\n")
	date := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if uid := s.Append(t, "INBOX", raw, date); uid != 1 {
		t.Fatalf("first UID = %d, want 1", uid)
	}
	if uid := s.Append(t, "Processed", raw, date); uid != 1 {
		t.Fatalf("first UID in Processed = %d, want 1", uid)
	}
	s.Restart(t)
	c := s.Dial(t)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || string(msgs[0].BodySection[0].Bytes) != string(raw) || !msgs[0].InternalDate.Equal(date) {
		t.Fatalf("after restart got %+v", msgs)
	}
	s.Stop()
	s.Stop() // idempotent
	if err := c.Noop().Wait(); err == nil {
		t.Fatal("NOOP succeeded after Stop")
	}
	if conn, err := net.Dial("tcp", s.Addr()); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after Stop")
	}
}

// BenchmarkDialLogin measures a fresh connection and LOGIN, which the
// intake tests do for every inspection.
func BenchmarkDialLogin(b *testing.B) {
	s := dovecottest.Start(b, nil)
	for b.Loop() {
		c := s.Dial(b)
		c.Close()
	}
}
