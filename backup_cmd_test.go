package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/store"
)

const backupTestToken = "backup-test-admin-token-0123456789"

// writeAdminConfig writes writeLoopbackConfig's file with web.listen set
// to listen and web.admin_token to backupTestToken.
func writeAdminConfig(t *testing.T, path, storePath, imapAddr, user, pass, smtpAddr, listen string) {
	t.Helper()
	writeLoopbackConfig(t, path, storePath, imapAddr, user, pass, smtpAddr)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(b), `listen = "127.0.0.1:0"`,
		fmt.Sprintf("listen = %q\nadmin_token = %q", listen, backupTestToken), 1)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTestDaemon runs the daemon of the config at cfgPath on ln until
// the test ends.
func startTestDaemon(t *testing.T, cfgPath string, ln net.Listener) {
	t.Helper()
	cfg, err := config.Load(cfgPath, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelWarn), Listener: ln, StoreNoSync: true})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon on %s: %v", cfg.Store.Path, err)
		}
	})
}

// listRFAs returns ref -> subject of every RFA the daemon at addr has,
// following the admin list's pages ("next") when it has them.
func listRFAs(t *testing.T, addr string) map[string]string {
	t.Helper()
	m := map[string]string{}
	after := ""
	for {
		url := "http://" + addr + "/api/rfas"
		if after != "" {
			url += "?after=" + after
		}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+backupTestToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			RFAs []struct {
				Ref     string `json:"ref"`
				Subject string `json:"subject"`
			} `json:"rfas"`
			Next string `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
		}
		for _, r := range page.RFAs {
			m[r.Ref] = r.Subject
		}
		if page.Next == "" || page.Next == after {
			return m
		}
		after = page.Next
	}
}

// adminDaemon is a daemon on the demo's loopback IMAP and SMTP servers
// with its admin API on a free port, as the commands that ask a running
// daemon (backup, releases, org-link, report, ...) find it.
type adminDaemon struct {
	cfgPath, storePath string
	webAddr            string // host:port of its web side and API
	imap               *demo.IMAPServer
	smtp               *demo.SMTPCapture
}

// startAdminDaemon writes an admin config in a fresh directory, runs
// prepare (if not nil) on the store's path before the daemon holds it,
// and runs the daemon until the test ends.
func startAdminDaemon(t *testing.T, prepare func(storePath string)) adminDaemon {
	t.Helper()
	d, ln := newAdminDaemon(t)
	if prepare != nil {
		prepare(d.storePath)
	}
	startTestDaemon(t, d.cfgPath, ln)
	return d
}

// newAdminDaemon starts the mail servers and writes the admin config of
// a daemon in a fresh directory, and returns it with the listener its
// web side is to serve on; the daemon is not started.
func newAdminDaemon(t *testing.T) (adminDaemon, net.Listener) {
	t.Helper()
	imapSrv, err := demo.StartIMAP(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	smtpSrv, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpSrv.Close() })
	dir := t.TempDir()
	ln := listen(t)
	d := adminDaemon{cfgPath: filepath.Join(dir, "live.toml"), storePath: filepath.Join(dir, "live.db"), webAddr: ln.Addr().String(), imap: imapSrv, smtp: smtpSrv}
	writeAdminConfig(t, d.cfgPath, d.storePath, imapSrv.Addr(), imapSrv.Username(), imapSrv.Password(), smtpSrv.Addr(), ln.Addr().String())
	return d, ln
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestBackupUnderLoadStartsADaemonOnTheCopy backs up a running daemon
// while mail keeps arriving, then starts a second daemon on the copy:
// every RFA that existed when the backup began is there, the copy has
// mode 0600, and it holds nothing the live store did not.
func TestBackupUnderLoadStartsADaemonOnTheCopy(t *testing.T) {
	live := startAdminDaemon(t, nil)
	cfgPath, imapSrv, dir := live.cfgPath, live.imap, filepath.Dir(live.cfgPath)

	// Mail flows for the whole test.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if _, err := imapSrv.Append(context.Background(), "INBOX", schoolMail(i), time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	var before map[string]string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if before = listRFAs(t, live.webAddr); len(before) >= 10 {
			break
		}
	}
	if len(before) < 10 {
		t.Fatalf("only %d RFAs after a minute of mail", len(before))
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"backup", "-config", cfgPath, out}, &stdout, &stderr); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr.String())
	}
	after := listRFAs(t, live.webAddr)
	t.Logf("%s", stdout.String())
	if !strings.Contains(stdout.String(), "from the running daemon") {
		t.Errorf("backup did not come from the daemon: %s", stdout.String())
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	copyCfg := filepath.Join(dir, "copy.toml")
	copyLn := listen(t)
	// The copy's daemon reads no mail: its mailbox is nobody.
	writeAdminConfig(t, copyCfg, out, "127.0.0.1:1", "nobody", "pw", live.smtp.Addr(), copyLn.Addr().String())
	startTestDaemon(t, copyCfg, copyLn)
	restored := listRFAs(t, copyLn.Addr().String())
	for ref, subject := range before {
		if got, ok := restored[ref]; !ok || got != subject {
			t.Errorf("RFA %s (%q) existed before the backup; in the copy: %q, %v", ref, subject, got, ok)
		}
	}
	for ref := range restored {
		if _, ok := after[ref]; !ok {
			t.Errorf("the copy has RFA %s, which the live store did not have after the backup", ref)
		}
	}
	t.Logf("%d RFAs before the backup, %d in the copy, %d after", len(before), len(restored), len(after))
}

// TestBackupWithoutDaemonAndRestore: with no daemon the command copies
// the file (receipt log included); with the store held by a daemon that
// does not answer it says which settings to check; restore refuses a
// held store, then replaces a stopped one and keeps the old.
func TestBackupWithoutDaemonAndRestore(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	db, err := store.Open(live, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	addRFAs := func(db *store.DB, n int) {
		for range n {
			if err := db.Update(context.Background(), func(tx bot.Tx) error {
				num, err := tx.NextRFANumber()
				if err != nil {
					return err
				}
				return tx.PutRFA(&bot.RFA{Num: num, Subject: "kept"})
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	addRFAs(db, 4)
	receipts, err := store.OpenReceipts(store.ReceiptsPath(live))
	if err != nil {
		t.Fatal(err)
	}
	if err := receipts.Append(bot.DeliveryReceipt{Item: 1, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	receipts.Close()
	closed := listen(t)
	deadAddr := closed.Addr().String()
	closed.Close()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeAdminConfig(t, cfgPath, live, "127.0.0.1:1", "u", "p", "127.0.0.1:1", deadAddr)
	backup := filepath.Join(dir, "backup.db")
	cmd := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}

	// The store is held and nothing answers at web.listen.
	if out, err := cmd("backup", "-config", cfgPath, backup); err == nil || !strings.Contains(err.Error(), "web.admin_token") {
		t.Errorf("backup of a held store: %v %s; want an error naming web.admin_token", err, out)
	}
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Errorf("a failed backup left %s: %v", backup, err)
	}
	if out, err := cmd("restore", "-config", cfgPath, live); err == nil {
		t.Errorf("restoring the live store onto itself: %s", out)
	}
	db.Close()

	out, err := cmd("backup", "-config", cfgPath, backup)
	if err != nil || !strings.Contains(out, "from the store file") {
		t.Fatalf("backup without a daemon: %v\n%s", err, out)
	}
	info, err := store.VerifyBackup(backup, time.Second)
	if err != nil || info.RFAs != 4 || info.Receipts != 1 {
		t.Fatalf("backup: %+v, %v; want 4 RFAs and 1 receipt", info, err)
	}

	// The desk moves on, then is restored to the backup.
	db, err = store.Open(live, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	addRFAs(db, 3)
	if out, err := cmd("restore", "-config", cfgPath, backup); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Errorf("restore onto a held store: %v %s; want a refusal", err, out)
	}
	db.Close()
	if out, err := cmd("restore", "-config", cfgPath, backup); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	info, err = store.VerifyBackup(live, time.Second)
	if err != nil || info.RFAs != 4 || info.Receipts != 1 {
		t.Errorf("restored store: %+v, %v; want 4 RFAs and 1 receipt", info, err)
	}
	if fi, err := os.Stat(live); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("restored store: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	kept, _ := filepath.Glob(live + ".replaced-*Z")
	if len(kept) != 1 {
		t.Fatalf("kept stores: %v, want one", kept)
	}
	if info, err := store.VerifyBackup(kept[0], time.Second); err != nil || info.RFAs != 7 {
		t.Errorf("kept store: %+v, %v; want the 7 RFAs it had", info, err)
	}
}
