package web

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// TestBackupAPI streams a real store: only with the admin token, as an
// uncached octet stream whose first Rfadesk-Store-Size bytes are a store
// that opens and whose rest is the pending receipt log.
func TestBackupAPI(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "live.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	receipts, err := store.OpenReceipts(store.ReceiptsPath(db.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer receipts.Close()
	for range 3 {
		if err := db.Update(context.Background(), func(tx bot.Tx) error {
			num, err := tx.NextRFANumber()
			if err != nil {
				return err
			}
			return tx.PutRFA(&bot.RFA{Num: num, Subject: "in the backup"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := receipts.Append(bot.DeliveryReceipt{Item: 4, At: fixedNow}); err != nil {
		t.Fatal(err)
	}
	snapshots := 0
	h := newTestHandler(t, func(o *Options) {
		o.Backup = func() (BackupSnapshot, error) {
			snapshots++
			return db.Snapshot(receipts)
		}
	})

	res, _ := do(t, h, "GET", "/api/backup", nil)
	if res.StatusCode != 401 || snapshots != 0 {
		t.Fatalf("without the token: %d after %d snapshots, want 401 and none", res.StatusCode, snapshots)
	}
	res, body := do(t, h, "GET", "/api/backup", map[string]string{"Authorization": "Bearer " + adminToken})
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/octet-stream", "Cache-Control": "no-store",
		"Content-Length": strconv.Itoa(len(body)),
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	size, err := strconv.Atoi(res.Header.Get(BackupStoreSizeHeader))
	if err != nil || size <= 0 || size > len(body) {
		t.Fatalf("%s = %q for a body of %d bytes", BackupStoreSizeHeader, res.Header.Get(BackupStoreSizeHeader), len(body))
	}
	if n, _ := strconv.Atoi(res.Header.Get(BackupReceiptsSizeHeader)); n != len(body)-size || n == 0 {
		t.Errorf("%s = %d, want the %d bytes after the store", BackupReceiptsSizeHeader, n, len(body)-size)
	}
	out := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(out, []byte(body[:size]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store.ReceiptsPath(out), []byte(body[size:]), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := store.VerifyBackup(out, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if info.RFAs != 3 || info.Receipts != 1 {
		t.Errorf("copy has %d RFAs and %d receipts, want 3 and 1", info.RFAs, info.Receipts)
	}
}

// TestBackupAPIAbsentWithoutOption: no Backup option, no route.
func TestBackupAPIAbsentWithoutOption(t *testing.T) {
	h := newTestHandler(t, nil)
	res, _ := do(t, h, "GET", "/api/backup", map[string]string{"Authorization": "Bearer " + adminToken})
	if res.StatusCode != 404 {
		t.Errorf("status %d, want 404", res.StatusCode)
	}
}
