package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/mailbox/dovecottest"
	"rfadesk/store"
)

// The crash tests run the daemon as a child process (this test binary,
// re-executed with RFADESK_CRASH_AT set), kill it with SIGKILL at an
// injected point, restart it on the same store and mailbox, and check
// that every email became exactly one RFA and got its acknowledgement.

func TestMain(m *testing.M) {
	if os.Getenv("RFADESK_TEST_AS_MAIN") == "1" {
		main() // the real command line, e.g. "run -config FILE" (failover tests)
		os.Exit(0)
	}
	if point := os.Getenv("RFADESK_CRASH_AT"); point != "" {
		os.Exit(crashChild(point))
	}
	os.Exit(m.Run())
}

// crashChild runs the daemon from RFADESK_CRASH_CONFIG and kills itself
// at the RFADESK_CRASH_AFTER-th passage through point.
func crashChild(point string) int {
	cfg, err := config.Load(os.Getenv("RFADESK_CRASH_CONFIG"), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 3
	}
	after, _ := strconv.Atoi(os.Getenv("RFADESK_CRASH_AFTER"))
	var passes atomic.Int32
	die := func() {
		if int(passes.Add(1)) == after {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	o := daemonOptions{Logger: newLogger(os.Stderr, slog.LevelDebug)}
	switch point {
	case "after-fetch":
		o.wrapParse = func(parse func([]byte) (*bot.Mail, error)) func([]byte) (*bot.Mail, error) {
			return func(raw []byte) (*bot.Mail, error) { die(); return parse(raw) }
		}
	case "after-commit":
		o.afterCommit = die
	case "after-send": // the parent's SMTP server kills us
	}
	if err := runDaemon(context.Background(), cfg, o); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	return 0
}

// mailServer is the support mailbox as the crash tests need it.
type mailServer struct {
	addr, user, pass string
	append           func(raw []byte)
}

func crashServers(t *testing.T) map[string]func(t *testing.T) mailServer {
	return map[string]func(t *testing.T) mailServer{
		"memserver": func(t *testing.T) mailServer {
			s, err := demo.StartIMAP(nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return mailServer{s.Addr(), s.Username(), s.Password(), func(raw []byte) {
				if _, err := s.Append(context.Background(), "INBOX", raw, time.Now()); err != nil {
					t.Fatal(err)
				}
			}}
		},
		"dovecot": func(t *testing.T) mailServer {
			s := dovecottest.Start(t, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
			return mailServer{s.Addr(), s.User(), s.Password(), func(raw []byte) { s.Append(t, "INBOX", raw, time.Now()) }}
		},
	}
}

func schoolMail(i int) []byte {
	return []byte(fmt.Sprintf("From: Requester %02d <req%02d@oakprimary.sch.uk>\r\n"+
		"To: support@example.org\r\nSubject: Problem number %d\r\n"+
		"Date: Thu, 26 Nov 2026 09:%02d:00 +0000\r\nMessage-ID: <crash-%d@oakprimary.sch.uk>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Site: Main building\r\nComponent: Attendance\r\nError message: E%d\r\n", i, i, i, i%60, i, i))
}

func TestCrashAnywhereLosesNothingAndDoublesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start child processes")
	}
	const mails = 20
	points := []struct {
		point string
		after int // which passage through the point kills the child
	}{
		{"after-fetch", 7},
		{"after-commit", 1},
		{"after-send", 5},
	}
	for name, start := range crashServers(t) {
		for _, p := range points {
			t.Run(name+"/"+p.point, func(t *testing.T) {
				srv := start(t)
				var (
					mu       sync.Mutex
					child    *exec.Cmd
					accepted atomic.Int32
				)
				smtp, err := demo.StartSMTPCapture(&demo.SMTPCaptureOptions{OnAccept: func(demo.CapturedMail) {
					if p.point == "after-send" && int(accepted.Add(1)) == p.after {
						mu.Lock()
						defer mu.Unlock()
						if child != nil && child.Process != nil {
							child.Process.Kill() // SIGKILL before the 250 reply is written
						}
					}
				}})
				if err != nil {
					t.Fatal(err)
				}
				defer smtp.Close()
				for i := 1; i <= mails; i++ {
					srv.append(schoolMail(i))
				}
				dir := t.TempDir()
				cfgPath := filepath.Join(dir, "rfadesk.toml")
				writeLoopbackConfig(t, cfgPath, filepath.Join(dir, "rfadesk.db"), srv.addr, srv.user, srv.pass, smtp.Addr())

				// Phase 1: a child that dies at the injected point.
				var stderr bytes.Buffer
				mu.Lock()
				child = exec.Command(os.Args[0], "-test.run=^$")
				child.Env = append(os.Environ(), "RFADESK_CRASH_AT="+p.point, "RFADESK_CRASH_CONFIG="+cfgPath, "RFADESK_CRASH_AFTER="+strconv.Itoa(p.after))
				child.Stderr = &stderr
				if err := child.Start(); err != nil {
					mu.Unlock()
					t.Fatal(err)
				}
				mu.Unlock()
				waitErr := make(chan error, 1)
				go func() { waitErr <- child.Wait() }()
				select {
				case err := <-waitErr:
					ws, _ := child.ProcessState.Sys().(syscall.WaitStatus)
					if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
						t.Fatalf("child did not die at %s: %v\n%s", p.point, err, stderr.String())
					}
				case <-time.After(60 * time.Second):
					child.Process.Kill()
					t.Fatalf("child never reached %s\n%s", p.point, stderr.String())
				}

				// Phase 2: restart on the same store until every email is answered.
				cfg, err := config.Load(cfgPath, os.Getenv)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo)}) }()
				deadline := time.Now().Add(60 * time.Second)
				for distinctRecipients(smtp.Messages()) < mails && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				// Let a duplicate, if any is coming, arrive before counting.
				time.Sleep(300 * time.Millisecond)
				cancel()
				if err := <-done; err != nil {
					t.Fatalf("restarted daemon: %v", err)
				}

				perRecipient := map[string]int{}
				for _, m := range smtp.Messages() {
					perRecipient[m.To[0]]++
				}
				dups := 0
				for i := 1; i <= mails; i++ {
					rcpt := fmt.Sprintf("req%02d@oakprimary.sch.uk", i)
					switch n := perRecipient[rcpt]; {
					case n == 0:
						t.Errorf("%s got no acknowledgement", rcpt)
					case n > 1:
						dups += n - 1
					}
				}
				allowed := 0
				if p.point == "after-send" {
					allowed = 1 // accepted by the server in the instant before the outbox recorded it
				}
				if dups > allowed {
					t.Errorf("%d duplicate acknowledgements, at most %d allowed", dups, allowed)
				}
				t.Logf("%s: %d acknowledgements for %d mails (%d duplicates)", p.point, len(smtp.Messages()), mails, dups)

				db, err := store.Open(cfg.Store.Path, nil)
				if err != nil {
					t.Fatal(err)
				}
				st, _ := db.Stats(t.Context())
				db.Close()
				if st.RFAs != mails || st.Outbox != 0 {
					t.Errorf("store: %d RFAs (want %d), %d outbox items left (want 0)", st.RFAs, mails, st.Outbox)
				}
				inbox, processed := countMailboxes(t, srv)
				if inbox != 0 || processed != mails {
					t.Errorf("mailbox: %d left in INBOX, %d in Processed; want 0 and %d", inbox, processed, mails)
				}
			})
		}
	}
}

func distinctRecipients(msgs []demo.CapturedMail) int {
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.To[0]] = true
	}
	return len(seen)
}

// writeLoopbackConfig writes a config for a daemon on loopback servers:
// the store at storePath, plain IMAP and SMTP, the web server on a free
// port, and Oak Primary School as the one organisation.
func writeLoopbackConfig(tb testing.TB, path, storePath, imapAddr, user, pass, smtpAddr string) {
	tb.Helper()
	body := fmt.Sprintf(`[desk]
name = "Test Desk"
address = "support@example.org"
store = %q
base_url = "https://support.example.org"
[imap]
address = %q
security = "none"
username = %q
password = %q
[smtp]
address = %q
security = "none"
[web]
listen = "127.0.0.1:0"
[[organisation]]
name = "Oak Primary School"
domains = ["oakprimary.sch.uk"]
`, storePath, imapAddr, user, pass, smtpAddr)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
}

func countMailboxes(t *testing.T, srv mailServer) (inbox, processed uint32) {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(srv.user, srv.pass).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, mb := range []struct {
		name string
		n    *uint32
	}{{"INBOX", &inbox}, {"Processed", &processed}} {
		data, err := c.Select(mb.name, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		*mb.n = data.NumMessages
	}
	return inbox, processed
}
