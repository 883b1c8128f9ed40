package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/store"
)

// TestFilesAreCreatedOwnerOnly pins issue #12's file modes: the store, its
// receipt log, and a backup with its receipts are created 0600, whether
// the daemon creates them on a fresh install or `rfadesk backup` writes
// them. They hold every requester's mail and every status token.
func TestFilesAreCreatedOwnerOnly(t *testing.T) {
	wantOwnerOnly := func(t *testing.T, path string) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
			return
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(path), fi.Mode().Perm())
		}
	}

	// The daemon on a fresh install creates the store and the receipt log.
	dir := t.TempDir()
	imap, err := demo.StartIMAP(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer imap.Close()
	smtp, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	live := filepath.Join(dir, "rfadesk.db")
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, cfgPath, live, imap.Addr(), imap.Username(), imap.Password(), smtp.Addr())
	if _, err := imap.Append(context.Background(), "INBOX", schoolMail(1), time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelWarn)}) }()
	if _, err := smtp.Wait(context.Background(), 1); err != nil { // the acknowledgement: the daemon is up and working
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("daemon: %v", err)
	}
	wantOwnerOnly(t, live)
	wantOwnerOnly(t, store.ReceiptsPath(live))

	// A pending receipt, so that the backup carries a receipt log too.
	receipts, err := store.OpenReceipts(store.ReceiptsPath(live))
	if err != nil {
		t.Fatal(err)
	}
	if err := receipts.Append(bot.DeliveryReceipt{Item: 1, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	receipts.Close()

	// `rfadesk backup` (no daemon running: from the store file).
	backup := filepath.Join(dir, "backup.db")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"backup", "-config", cfgPath, backup}, &stdout, &stderr); err != nil {
		t.Fatalf("backup: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	wantOwnerOnly(t, backup)
	wantOwnerOnly(t, store.ReceiptsPath(backup))
	if info, err := store.VerifyBackup(backup, time.Second); err != nil || info.RFAs != 1 || info.Receipts != 1 {
		t.Errorf("backup: %+v, %v; want 1 RFA and 1 receipt", info, err)
	}
}
