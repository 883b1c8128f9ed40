package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rfadesk/bot"
)

// putRFAs stores n new RFAs, one transaction each.
func putRFAs(t *testing.T, db *DB, n int) {
	t.Helper()
	for range n {
		update(t, db, func(tx bot.Tx) error {
			num, err := tx.NextRFANumber()
			if err != nil {
				return err
			}
			return tx.PutRFA(&bot.RFA{Num: num, Subject: "backup me"})
		})
	}
}

// writeBackup writes s to path and its receipts beside it.
func writeBackup(t *testing.T, s *Snapshot, path string) {
	t.Helper()
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	if err != nil || n != s.Size() {
		t.Fatalf("WriteTo = %d, %v; want %d bytes", n, err, s.Size())
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(s.Receipts()) > 0 {
		if err := os.WriteFile(ReceiptsPath(path), s.Receipts(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackupSnapshotOfALiveStoreOpens backs up a store that stays open and
// keeps being written: the copy holds what was there at the snapshot
// and nothing after, opens with Open, and carries the pending receipts.
func TestBackupSnapshotOfALiveStoreOpens(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, filepath.Join(dir, "live.db"))
	r := openReceiptsTest(t, ReceiptsPath(db.Path()))
	putRFAs(t, db, 5)
	appendReceipts(t, r, 7, 8)

	s, err := db.Snapshot(r)
	if err != nil {
		t.Fatal(err)
	}
	// Written after the snapshot began: not in the copy. The writer may
	// have to wait for the snapshot to close (to grow the file's map), so
	// it runs beside the copy.
	appendReceipts(t, r, 9)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for range 3 {
			if err := db.Update(context.Background(), func(tx bot.Tx) error {
				num, err := tx.NextRFANumber()
				if err != nil {
					return err
				}
				return tx.PutRFA(&bot.RFA{Num: num, Subject: "after"})
			}); err != nil {
				t.Error(err)
			}
		}
	}()
	out := filepath.Join(dir, "backup.db")
	writeBackup(t, s, out)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-wrote

	info, err := VerifyBackup(out, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if info.RFAs != 5 || info.LastRFANumber != 5 || info.Receipts != 2 || info.SchemaVersion != schemaVersion {
		t.Errorf("VerifyBackup = %+v, want 5 RFAs, last 5, 2 receipts, schema %d", info, schemaVersion)
	}
	copyDB := openTest(t, out)
	st, err := copyDB.Stats(t.Context())
	if err != nil || st.RFAs != 5 {
		t.Errorf("copy: %+v, %v; want 5 RFAs", st, err)
	}
	cr := openReceiptsTest(t, ReceiptsPath(out))
	all, err := cr.All()
	if err != nil {
		t.Fatal(err)
	}
	wantReceipts(t, all, 7, 8)
}

// TestBackupOpenSnapshotRefusesAStoreInUse: while a daemon (an open DB) holds
// the file, OpenSnapshot fails with ErrLocked; once it closes, the
// snapshot reads the file and its receipt log as they are.
func TestBackupOpenSnapshotRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	db, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	putRFAs(t, db, 2)
	r, err := OpenReceipts(ReceiptsPath(path))
	if err != nil {
		t.Fatal(err)
	}
	appendReceipts(t, r, 1)
	if _, err := OpenSnapshot(path, 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("OpenSnapshot of a held store = %v, want ErrLocked", err)
	}
	r.Close()
	db.Close()

	s, err := OpenSnapshot(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The shared lock keeps a daemon from starting meanwhile.
	if _, err := Open(path, &Options{Timeout: -1}); err == nil {
		t.Error("Open succeeded while a snapshot holds the file")
	}
	out := filepath.Join(dir, "backup.db")
	writeBackup(t, s, out)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := VerifyBackup(out, time.Second)
	if err != nil || info.RFAs != 2 || info.Receipts != 1 {
		t.Errorf("VerifyBackup = %+v, %v; want 2 RFAs and 1 receipt", info, err)
	}
}

// TestVerifyBackupRefuses a newer schema, a file that is not a store, a
// torn receipt log, and a missing file.
func TestVerifyBackupRefuses(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	writeVersion(t, newer, schemaVersion+1)
	var se *SchemaError
	if _, err := VerifyBackup(newer, time.Second); !errors.As(err, &se) || se.Version != schemaVersion+1 {
		t.Errorf("newer schema: %v, want *SchemaError", err)
	}

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("x"), 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyBackup(junk, time.Second); err == nil {
		t.Error("a file of junk passed")
	}

	good := filepath.Join(dir, "good.db")
	db := openTest(t, good)
	putRFAs(t, db, 1)
	s, err := db.Snapshot(nil)
	if err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(dir, "torn.db")
	writeBackup(t, s, torn)
	s.Close()
	if err := os.WriteFile(ReceiptsPath(torn), []byte{0, 0, 0, 9, 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyBackup(torn, time.Second); err == nil {
		t.Error("a torn receipt log passed")
	}

	if _, err := VerifyBackup(filepath.Join(dir, "missing.db"), time.Second); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}
