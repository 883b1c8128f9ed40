package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
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

// TestOutageAnnouncementReachesEveryoneOnceAcrossSIGKILL runs the daemon
// as a child process with seven recent requesters at Oak Primary (which
// has no contacts configured), starts an outage through the admin API,
// and has the SMTP server SIGKILL the daemon as it accepts the third
// announcement. A restarted daemon sends the rest: every requester has
// exactly one announcement (one Message-ID; the one in flight at the
// kill may be sent twice under it, as the outbox's contract allows) and
// the outbox is empty.
func TestOutageAnnouncementReachesEveryoneOnceAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start child processes")
	}
	const people, killAt = 7, 3
	const token = "crash-admin-token-0123456789abcdef"
	srv := crashServers(t)["memserver"](t)
	var (
		mu        sync.Mutex
		child     *exec.Cmd
		announced atomic.Int32
		killedNow atomic.Bool
	)
	smtp, err := demo.StartSMTPCapture(&demo.SMTPCaptureOptions{OnAccept: func(m demo.CapturedMail) {
		if isAnnouncement(m) && int(announced.Add(1)) == killAt {
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
	for i := 1; i <= people; i++ {
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

	waitUntil(t, "every acknowledgement", func() bool { return distinctRecipients(smtp.Messages()) == people })
	// The daemon may die before it answers: the outage and its mails are
	// committed before any of them goes out.
	req, err := http.NewRequestWithContext(t.Context(), "POST", "http://"+webAddr+"/api/outages",
		strings.NewReader(`{"title": "The MIS is down", "components": ["MIS"], "organisations": []}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST /api/outages: %d\n%s", res.StatusCode, stderr.String())
		}
	}
	select {
	case err := <-waitErr:
		ws, _ := child.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child did not die at the third announcement: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("child never sent the third announcement\n%s", stderr.String())
	}

	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo)}) }()
	waitUntil(t, "an announcement for every requester", func() bool { return len(announcementIDs(smtp.Messages())) == people })
	time.Sleep(300 * time.Millisecond) // let a duplicate, if any is coming, arrive before counting
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("restarted daemon: %v", err)
	}

	ids := announcementIDs(smtp.Messages())
	sent := 0
	for i := 1; i <= people; i++ {
		rcpt := fmt.Sprintf("req%02d@oakprimary.sch.uk", i)
		if n := len(ids[rcpt]); n != 1 {
			t.Errorf("%s got %d distinct announcements, want 1: %v", rcpt, n, ids[rcpt])
		}
		for _, n := range ids[rcpt] {
			sent += n
		}
	}
	t.Logf("%d announcements for %d people, the daemon killed as it sent number %d", sent, people, killAt)
	if sent > people+1 {
		t.Errorf("%d announcements sent for %d people: more than the one in flight at the kill was repeated", sent, people)
	}
	db, err := store.Open(cfg.StorePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, _ := db.Stats(); st.Outbox != 0 {
		t.Errorf("%d outbox items left", st.Outbox)
	}
}

// isAnnouncement reports whether m is an outage announcement.
func isAnnouncement(m demo.CapturedMail) bool {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	return err == nil && strings.HasPrefix(msg.Header.Get("Subject"), "Service notice: ")
}

// announcementIDs counts the announcements sent to each recipient, by
// Message-ID.
func announcementIDs(msgs []demo.CapturedMail) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, m := range msgs {
		if !isAnnouncement(m) {
			continue
		}
		msg, _ := mail.ReadMessage(bytes.NewReader(m.Data))
		if out[m.To[0]] == nil {
			out[m.To[0]] = map[string]int{}
		}
		out[m.To[0]][msg.Header.Get("Message-Id")]++
	}
	return out
}
