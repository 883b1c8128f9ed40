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

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/store"
)

// TestParentClearanceReachesEveryChildOnceAcrossSIGKILL runs the daemon
// as a child process, links six RFAs to a seventh through the admin API
// and clears that parent; the SMTP server SIGKILLs the daemon when it
// has accepted the third clearance mail. A restarted daemon sends the
// rest: every requester has exactly one clearance (one Message-ID; the
// one mail in flight at the kill may be sent twice, under the same
// Message-ID, as the outbox's contract allows), every RFA is cleared and
// the outbox is empty.
func TestParentClearanceReachesEveryChildOnceAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start child processes")
	}
	const rfas, killAt = 7, 3
	const token = "crash-admin-token-0123456789abcdef"
	srv := crashServers(t)["memserver"](t)
	var (
		mu        sync.Mutex
		child     *exec.Cmd
		cleared   atomic.Int32
		killedNow atomic.Bool
	)
	smtp, err := demo.StartSMTPCapture(&demo.SMTPCaptureOptions{OnAccept: func(m demo.CapturedMail) {
		if isClearance(m) && int(cleared.Add(1)) == killAt {
			mu.Lock()
			defer mu.Unlock()
			if child != nil && child.Process != nil && killedNow.CompareAndSwap(false, true) {
				child.Process.Kill() // SIGKILL before the 250 reply is written
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	for i := 1; i <= rfas; i++ {
		srv.append(schoolMail(i))
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, cfgPath, filepath.Join(dir, "rfadesk.db"), srv.addr, srv.user, srv.pass, smtp.Addr())
	webAddr := freeAddr(t)
	withWeb(t, cfgPath, webAddr, token)

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

	waitUntil(t, "every acknowledgement", func() bool { return distinctRecipients(smtp.Messages()) == rfas })
	for i := 2; i <= rfas; i++ {
		if code := apiAction(t, webAddr, token, i, `{"action": "link", "parent": "RFA-1"}`); code != http.StatusOK {
			t.Fatalf("link RFA-%d: %d\n%s", i, code, stderr.String())
		}
	}
	// The daemon may die before it answers: the clearance is committed
	// before any of its mail goes out.
	apiAction(t, webAddr, token, 1, `{"action": "clear", "resolution": "The MIS service is fixed."}`)
	select {
	case err := <-waitErr:
		ws, _ := child.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child did not die at the third clearance: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("child never sent the third clearance\n%s", stderr.String())
	}

	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo)}) }()
	waitUntil(t, "a clearance for every requester", func() bool { return len(clearanceIDs(smtp.Messages())) == rfas })
	time.Sleep(300 * time.Millisecond) // let a duplicate, if any is coming, arrive before counting
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("restarted daemon: %v", err)
	}

	ids := clearanceIDs(smtp.Messages())
	sent := 0
	for i := 1; i <= rfas; i++ {
		rcpt := fmt.Sprintf("req%02d@oakprimary.sch.uk", i)
		if n := len(ids[rcpt]); n != 1 {
			t.Errorf("%s got %d distinct clearances, want 1: %v", rcpt, n, ids[rcpt])
		}
		for _, n := range ids[rcpt] {
			sent += n
		}
	}
	t.Logf("%d clearance mails for %d RFAs, the daemon killed as it sent clearance number %d", sent, rfas, killAt)
	if sent > rfas+1 {
		t.Errorf("%d clearance mails sent for %d RFAs: more than the one in flight at the kill was repeated", sent, rfas)
	}
	db, err := store.Open(cfg.StorePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, _ := db.Stats()
	if st.Outbox != 0 {
		t.Errorf("%d outbox items left", st.Outbox)
	}
	err = db.View(context.Background(), func(tx bot.Tx) error {
		for i := uint64(1); i <= rfas; i++ {
			r, err := tx.RFA(i)
			if err != nil {
				return err
			}
			if r.Status != bot.StatusCleared || (i > 1 && r.Parent != 1) {
				t.Errorf("%s: %s, parent %d; want cleared", r.Ref(), r.Status, r.Parent)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// isClearance reports whether m is a clearance mail ("[RFA-N] Cleared: ...").
func isClearance(m demo.CapturedMail) bool {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	return err == nil && strings.Contains(msg.Header.Get("Subject"), "] Cleared: ")
}

// clearanceIDs counts the clearance mails sent to each recipient, by
// Message-ID.
func clearanceIDs(msgs []demo.CapturedMail) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil || !strings.Contains(msg.Header.Get("Subject"), "] Cleared: ") {
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
	req, err := http.NewRequestWithContext(t.Context(), "POST", fmt.Sprintf("http://%s/api/rfas/RFA-%d/actions", addr, num), strings.NewReader(body))
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
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
