package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/store"
)

// killMidSend is the shape of the "exactly once across a SIGKILL
// mid-send" tests. n school mails (req01..reqNN@oakprimary.sch.uk) are
// the backlog of a daemon running as a child process, with its admin API
// at webAddr; once every one is acknowledged, act queues one mail per
// requester (a clearance, an announcement) whose Subject holds subject,
// and the SMTP server SIGKILLs the child as it accepts the killAt-th of
// them, before its 250 is written. A daemon restarted in process sends
// the rest. run checks that every requester got exactly one such mail (one
// Message-ID; the one in flight at the kill may go twice under it, the
// outbox's contract) and that the outbox is empty, and returns the
// configuration for the test's own checks of the store.
type killMidSend struct {
	n, killAt int
	subject   string
	act       func(t *testing.T, webAddr, token string)
}

// killToken is the admin token of the daemons killMidSend runs.
const killToken = "crash-admin-token-0123456789abcdef"

func (k killMidSend) run(t *testing.T) *config.Config {
	t.Helper()
	srv := crashServers(t)["memserver"](t)
	var (
		mu     sync.Mutex
		child  *exec.Cmd
		seen   atomic.Int32
		killed atomic.Bool
	)
	smtp, err := demo.StartSMTPCapture(&demo.SMTPCaptureOptions{OnAccept: func(m demo.CapturedMail) {
		if hasSubject(m, k.subject) && int(seen.Add(1)) == k.killAt {
			mu.Lock()
			defer mu.Unlock()
			if child != nil && child.Process != nil && killed.CompareAndSwap(false, true) {
				child.Process.Kill() // SIGKILL before the 250 reply is written
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	for i := 1; i <= k.n; i++ {
		srv.append(schoolMail(i))
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, cfgPath, filepath.Join(dir, "rfadesk.db"), srv.addr, srv.user, srv.pass, smtp.Addr())
	webAddr := freeAddr(t)
	withWeb(t, cfgPath, webAddr, killToken)

	var stderr bytes.Buffer
	mu.Lock()
	child = exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "RFADESK_CRASH_AT=after-send", "RFADESK_CRASH_CONFIG="+cfgPath)
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		mu.Unlock()
		t.Fatal(err)
	}
	mu.Unlock()
	waitErr := make(chan error, 1)
	go func() { waitErr <- child.Wait() }()
	defer func() {
		if child.ProcessState == nil {
			child.Process.Kill()
			<-waitErr
		}
	}()

	waitUntil(t, "every acknowledgement", func() bool { return distinctRecipients(smtp.Messages()) == k.n })
	k.act(t, webAddr, killToken)
	select {
	case err := <-waitErr:
		ws, _ := child.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the child did not die at mail %d: %v\n%s", k.killAt, err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the child never sent mail %d\n%s", k.killAt, stderr.String())
	}

	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo)}) }()
	waitUntil(t, "a mail for every requester", func() bool { return len(mailIDs(smtp.Messages(), k.subject)) == k.n })
	time.Sleep(300 * time.Millisecond) // let a duplicate, if any is coming, arrive before counting
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("restarted daemon: %v", err)
	}

	ids := mailIDs(smtp.Messages(), k.subject)
	sent := 0
	for i := 1; i <= k.n; i++ {
		rcpt := fmt.Sprintf("req%02d@oakprimary.sch.uk", i)
		if n := len(ids[rcpt]); n != 1 {
			t.Errorf("%s got %d distinct %q mails, want 1: %v", rcpt, n, k.subject, ids[rcpt])
		}
		for _, n := range ids[rcpt] {
			sent += n
		}
	}
	t.Logf("%d %q mails for %d requesters, the daemon killed as it sent number %d", sent, k.subject, k.n, k.killAt)
	if sent > k.n+1 {
		t.Errorf("%d mails sent for %d requesters: more than the one in flight at the kill was repeated", sent, k.n)
	}
	db, err := store.Open(cfg.Store.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, _ := db.Stats(t.Context()); st.Outbox != 0 {
		t.Errorf("%d outbox items left", st.Outbox)
	}
	return cfg
}

// hasSubject reports whether m's Subject holds part.
func hasSubject(m demo.CapturedMail, part string) bool {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	return err == nil && strings.Contains(msg.Header.Get("Subject"), part)
}

// mailIDs counts the mails whose Subject holds part sent to each
// recipient, by Message-ID.
func mailIDs(msgs []demo.CapturedMail, part string) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil || !strings.Contains(msg.Header.Get("Subject"), part) {
			continue
		}
		if out[m.To[0]] == nil {
			out[m.To[0]] = map[string]int{}
		}
		out[m.To[0]][msg.Header.Get("Message-Id")]++
	}
	return out
}

// freeAddr returns a loopback address with a port free a moment ago, for
// a child process to listen on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// withWeb points the loopback config's web server at addr and opens its
// admin API with token.
func withWeb(t *testing.T, cfgPath, addr, token string) {
	t.Helper()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`listen = "127.0.0.1:0"`), fmt.Appendf(nil, "listen = %q\nadmin_token = %q", addr, token), 1)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// apiAction posts one staff action on RFA-num to the daemon's admin API
// and returns the status code, 0 when no answer came.
func apiAction(t *testing.T, addr, token string, num int, body string) int {
	t.Helper()
	return apiPost(t, addr, token, fmt.Sprintf("/api/rfas/RFA-%d/actions", num), body)
}

// apiPost posts body as JSON to path on the daemon's admin API and
// returns the status code, 0 when no answer came (the daemon may die
// before it answers).
func apiPost(t *testing.T, addr, token, path, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// waitUntil polls cond until it holds; the deadline only turns a hang
// into a readable failure.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
