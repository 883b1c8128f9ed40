package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	bolt "go.etcd.io/bbolt"

	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/demo/faultproxy"
	"rfadesk/mailbox/dovecottest"
	"rfadesk/store"
)

// TestCrashLoopBurst is the crash loop of issue #12: the real daemon (this
// test binary re-executed, see crashChild) ingests a burst of mails from
// Dovecot while the test SIGKILLs it at random moments at least
// crashLoopKills times, restarting it on the same store and mailbox each
// time; then one last run finishes the work. At the end every mail must be
// exactly one RFA, every requester's acknowledgement must have been
// accepted by the SMTP server, the outbox must be empty and the bbolt file
// must pass bbolt's consistency check, and every mail must have moved
// from INBOX to Processed. Duplicate acknowledgements are
// counted and reported; each kill may cost at most one (the instant between
// the server's 250 and the outbox recording it). The kill moments come from
// a seeded generator whose seed is logged; RFADESK_CRASH_SEED replays one.
func TestCrashLoopBurst(t *testing.T) {
	mails, kills := 1000, 20
	if testing.Short() {
		mails, kills = 100, 5
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RFADESK_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("crash loop: %d mails, %d kills, seed %d (RFADESK_CRASH_SEED=%d replays the kill moments)", mails, kills, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	began := time.Now()

	srv := dovecottest.Start(t, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
	appendBurst(t, srv, mails)
	t.Logf("appended %d mails in %v", mails, time.Since(began).Round(time.Millisecond))

	smtp, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	// The daemon reaches the SMTP server over a path with a little
	// latency, as a real one has, so that the kills land while the burst
	// is still being worked through (on loopback it is done in a second).
	slow, err := faultproxy.New(smtp.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Delay(time.Millisecond)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, cfgPath, filepath.Join(dir, "rfadesk.db"), srv.Addr(), srv.User(), srv.Password(), slow.Addr())

	// The kills: each child runs for a random while, then gets SIGKILL.
	// A child that exits on its own before the kill is a failure.
	midBurst := 0
	for k := 1; k <= kills; k++ {
		delay := time.Duration(50+rng.IntN(650)) * time.Millisecond
		var stderr bytes.Buffer
		child := exec.Command(os.Args[0], "-test.run=^$")
		// "none" injects no crash point: the parent does the killing.
		child.Env = append(os.Environ(), "RFADESK_CRASH_AT=none", "RFADESK_CRASH_CONFIG="+cfgPath)
		child.Stderr = &stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- child.Wait() }()
		select {
		case err := <-exited:
			t.Fatalf("kill %d: the daemon exited before it was killed: %v\n%s", k, err, lastLines(stderr.String(), 30))
		case <-time.After(delay):
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		<-exited
		ws, _ := child.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: the daemon was not killed by SIGKILL: %v", k, child.ProcessState)
		}
		sofar := len(smtp.Messages())
		if sofar < mails {
			midBurst++
		}
		t.Logf("kill %d after %v: %d acknowledgements accepted so far", k, delay, sofar)
	}
	t.Logf("%d of %d kills landed before the last acknowledgement", midBurst, kills)

	// The last run, in process, until every requester has an answer.
	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelWarn)})
	}()
	deadline := time.Now().Add(5 * time.Minute)
	for len(ackIDsByRequest(smtp.Messages())) < mails && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Let a duplicate, if any is coming, arrive before counting.
	time.Sleep(500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("last run: %v", err)
	}

	acks := ackIDsByRequest(smtp.Messages())
	dups := 0
	for i := 1; i <= mails; i++ {
		ids := acks[crashLoopMessageID(i)]
		switch {
		case len(ids) == 0:
			t.Errorf("%s got no accepted acknowledgement", crashLoopMessageID(i))
		case len(ids) > 1:
			dups += len(ids) - 1
			// A re-send of the same outbox item keeps its Message-ID (a
			// mail client shows one message); a second id would be a
			// second acknowledgement, i.e. the mail recorded twice.
			if distinct := slices.Compact(slices.Sorted(slices.Values(ids))); len(distinct) != 1 {
				t.Errorf("%s was acknowledged %d times under different Message-IDs %q: not a re-send", crashLoopMessageID(i), len(ids), ids)
			}
		}
	}
	t.Logf("crash loop: %d kills, %d acknowledgements accepted for %d mails, %d duplicates, %v in all",
		kills, len(smtp.Messages()), mails, dups, time.Since(began).Round(time.Millisecond))
	if dups > kills {
		t.Errorf("%d duplicate acknowledgements after %d kills: at most one per kill is allowed", dups, kills)
	}

	db, err := store.Open(cfg.Store.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(t.Context())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.RFAs != mails || st.Outbox != 0 {
		t.Errorf("store: %d RFAs (want exactly %d), %d outbox items left (want 0)", st.RFAs, mails, st.Outbox)
	}
	checkBolt(t, cfg.Store.Path)
	inbox, processed := countMailboxes(t, mailServer{addr: srv.Addr(), user: srv.User(), pass: srv.Password()})
	if inbox != 0 || processed != uint32(mails) {
		t.Errorf("mailbox: %d left in INBOX, %d in Processed; want 0 and %d", inbox, processed, mails)
	}
}

// crashLoopMessageID is the Message-ID of burst mail i (see schoolMail).
func crashLoopMessageID(i int) string { return fmt.Sprintf("<crash-%d@oakprimary.sch.uk>", i) }

// appendBurst appends schoolMail(1..n) to INBOX over one connection.
func appendBurst(t *testing.T, srv *dovecottest.Server, n int) {
	t.Helper()
	c := srv.Dial(t)
	defer c.Close()
	for i := 1; i <= n; i++ {
		raw := schoolMail(i)
		cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: time.Now()})
		if _, err := cmd.Write(raw); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// ackIDsByRequest lists, for each request's Message-ID, the Message-IDs
// of the accepted messages answering it, one entry per acceptance.
func ackIDsByRequest(msgs []demo.CapturedMail) map[string][]string {
	ids := map[string][]string{}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			continue
		}
		if irt := strings.TrimSpace(msg.Header.Get("In-Reply-To")); irt != "" {
			ids[irt] = append(ids[irt], strings.TrimSpace(msg.Header.Get("Message-ID")))
		}
	}
	return ids
}

// checkBolt runs bbolt's consistency check (what `bbolt check` runs) on
// the closed store file and fails the test on every error it reports.
func checkBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("bbolt open: %v", err)
	}
	defer db.Close()
	problems := 0
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			problems++
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if problems == 0 {
		t.Logf("bbolt check: %s OK", filepath.Base(path))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
