package demo

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func startTestIMAP(t *testing.T) *IMAPServer {
	t.Helper()
	s, err := StartIMAP(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dialTestIMAP(t *testing.T, s *IMAPServer, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.Addr(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(s.Username(), s.Password()).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIMAPAppendFetchAndCaps(t *testing.T) {
	s := startTestIMAP(t)
	raw := []byte("From: a@example.test\r\nSubject: hi\r\n\r\nbody\r\n")
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for want := uint32(1); want <= 2; want++ {
		uid, err := s.Append(context.Background(), "INBOX", raw, date)
		if err != nil || uid != want {
			t.Fatalf("Append = %d, %v; want %d", uid, err, want)
		}
	}
	if _, err := s.Append(context.Background(), "Nope", raw, date); err == nil {
		t.Fatal("Append to a missing mailbox succeeded")
	}

	c := dialTestIMAP(t, s, nil)
	caps := c.Caps()
	for _, cp := range []imap.Cap{imap.CapIdle, imap.CapMove, imap.CapUIDPlus} {
		if !caps.Has(cp) {
			t.Errorf("server lacks %s", cp)
		}
	}
	if caps.Has(imap.CapCondStore) {
		t.Error("server claims CONDSTORE")
	}
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, l := range list {
		names[l.Mailbox] = true
	}
	if !names["INBOX"] || !names["Processed"] || !names["Failed"] {
		t.Fatalf("mailboxes = %v", names)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 2 {
		t.Fatalf("select = %+v, %v", sel, err)
	}
	msgs, err := c.Fetch(imap.UIDSetNum(2), &imap.FetchOptions{
		InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch = %v, %v", msgs, err)
	}
	if got := msgs[0].BodySection[0].Bytes; string(got) != string(raw) || !msgs[0].InternalDate.Equal(date) {
		t.Fatalf("fetched %q at %v", got, msgs[0].InternalDate)
	}
}

func TestIMAPIdleSeesAppend(t *testing.T) {
	s := startTestIMAP(t)
	exists := make(chan uint32, 10)
	c := dialTestIMAP(t, s, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), "INBOX", []byte("Subject: x\r\n\r\n"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := <-exists; n != 1 {
		t.Fatalf("EXISTS %d, want 1", n)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestIMAPDropConnectionsKeepsMail(t *testing.T) {
	s := startTestIMAP(t)
	if _, err := s.Append(context.Background(), "INBOX", []byte("Subject: x\r\n\r\n"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	c := dialTestIMAP(t, s, nil)
	s.DropConnections()
	<-c.Closed()
	c2 := dialTestIMAP(t, s, nil)
	sel, err := c2.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("after drop: select = %+v, %v", sel, err)
	}
}

func TestIMAPRefusesBadPasswordAndNonLoopback(t *testing.T) {
	s := startTestIMAP(t)
	c, err := imapclient.DialInsecure(s.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(s.Username(), "wrong").Wait(); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if _, err := StartIMAP(&IMAPOptions{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("StartIMAP accepted a non-loopback address")
	}
	if _, err := StartIMAP(&IMAPOptions{ImplicitTLS: true}); err == nil {
		t.Fatal("StartIMAP accepted ImplicitTLS without a TLSConfig")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
