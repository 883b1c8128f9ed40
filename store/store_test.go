package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// openTest opens the bbolt file at path and closes it when the test ends:
// for tests about bbolt files (fixtures, crafted old files, backups).
// Every other test gets its store from newTestDB (backends_test.go).
func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func update(t testing.TB, db *DB, fn func(bot.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t testing.TB, db *DB, fn func(bot.Tx) error) {
	t.Helper()
	if err := db.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func TestOpenWritesSchemaAndBuckets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.SchemaVersion != schemaVersion || st.RFAs != 0 || st.Outbox != 0 || st.DeadLetters != 0 {
		t.Errorf("Stats of a fresh file = %+v", st)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Inspect the file with bbolt directly.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets() {
			if tx.Bucket([]byte(name)) == nil {
				t.Errorf("bucket %q missing", name)
			}
		}
		v := tx.Bucket([]byte(bucketMeta)).Get([]byte(keySchemaVersion))
		if n, err := decodeU64(v); err != nil || n != schemaVersion {
			t.Errorf("stored schema version = %v, %v; want %d", n, err, schemaVersion)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeVersion creates a bbolt file at path holding only a meta bucket
// with the given schema version.
func writeVersion(t *testing.T, path string, version uint64) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("schema_version"), encodeU64(version))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeOldFile writes a bbolt file at path as an older rfadesk left it:
// every bucket of migration 1 except drop (those a later version added),
// schema version version, and what fill writes (records in the form of
// that version).
func writeOldFile(t *testing.T, path string, version uint64, drop []string, fill func(kv.Tx) error) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	kdb := kv.NewBolt(bdb)
	err = kdb.Update(t.Context(), func(tx kv.Tx) error {
		if err := migrations()[0].fn(tx); err != nil {
			return err
		}
		for _, name := range drop {
			if err := kv.BoltTx(tx).DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put([]byte(keySchemaVersion), encodeU64(version)); err != nil {
			return err
		}
		return fill(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := kdb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	newer := uint64(schemaVersion + 1)
	writeVersion(t, path, newer)
	db, err := Open(path, nil)
	if err == nil {
		db.Close()
		t.Fatalf("Open of a version %d file succeeded", newer)
	}
	want := fmt.Sprintf("store: %s has schema version %d, this binary understands up to %d: upgrade rfadesk", path, newer, schemaVersion)
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	var se *SchemaError
	if !errors.As(err, &se) || se.Version != newer || se.Supports != schemaVersion {
		t.Errorf("error %#v is not the expected *SchemaError", err)
	}
	// The refused file is untouched and unlocked: bbolt opens it and
	// still finds the newer version and no other bucket.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("file left locked or damaged: %v", err)
	}
	defer bdb.Close()
	_ = bdb.View(func(tx *bolt.Tx) error {
		if n, _ := decodeU64(tx.Bucket([]byte("meta")).Get([]byte("schema_version"))); n != newer {
			t.Errorf("version rewritten to %d", n)
		}
		if tx.Bucket([]byte(bucketRFAs)) != nil {
			t.Error("refused file was migrated")
		}
		return nil
	})
}

func TestOpenMigratesVersionZeroFile(t *testing.T) {
	// A bbolt file with no meta bucket at all is version 0.
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	db := openTest(t, path)
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.SchemaVersion != schemaVersion {
		t.Errorf("schema version after migration = %d, want %d", st.SchemaVersion, schemaVersion)
	}
}

func TestOpenRefusesNonBoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	writeFile(t, path, strings.Repeat("not a database\n", 1000))
	db, err := Open(path, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open of a text file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	first := openTest(t, path)
	start := time.Now()
	second, err := Open(path, &Options{Timeout: 200 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	t.Logf("refused after %s: %v", time.Since(start), err)
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("error %v does not wrap bbolt's ErrTimeout", err)
	}
	for _, want := range []string{path, "locked", "200ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// Once the first handle is closed the file opens again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, &Options{Timeout: -1})
	if err != nil {
		t.Fatalf("Open after the lock was released: %v", err)
	}
	again.Close()
	// openTest's cleanup closes first again: bbolt allows that.
}

func TestCanceledContextRefused(t *testing.T) {
	db := newTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	fn := func(bot.Tx) error { ran = true; return nil }
	if err := db.Update(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with canceled ctx: %v, want context.Canceled", err)
	}
	if err := db.View(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("View with canceled ctx: %v, want context.Canceled", err)
	}
	if ran {
		t.Error("fn ran under a canceled context")
	}
}

func TestViewRefusesWrites(t *testing.T) {
	db := newTestDB(t)
	view(t, db, func(tx bot.Tx) error {
		writes := map[string]func() error{
			"NextRFANumber":  func() error { _, err := tx.NextRFANumber(); return err },
			"PutRFA":         func() error { return tx.PutRFA(&bot.RFA{Num: 1}) },
			"PutDedupe":      func() error { return tx.PutDedupe("mid:a@b", 1) },
			"PutThread":      func() error { return tx.PutThread("a@b", 1) },
			"Enqueue":        func() error { _, err := tx.Enqueue(&bot.OutboxItem{}); return err },
			"UpdateOutbox":   func() error { return tx.UpdateOutbox(&bot.OutboxItem{ID: 1}) },
			"DeleteOutbox":   func() error { return tx.DeleteOutbox(1) },
			"SetCursor":      func() error { return tx.SetCursor("INBOX", bot.Cursor{LastUID: 1}) },
			"PutDeadLetter":  func() error { return tx.PutDeadLetter(&bot.DeadLetter{}) },
			"PutAutoReplies": func() error { return tx.PutAutoReplies("a@b", []time.Time{time.Now()}) },
			"PutAttachment":  func() error { return tx.PutAttachment(1, 0, 0, []byte("x")) },
		}
		for name, w := range writes {
			if err := w(); !errors.Is(err, ErrReadOnly) {
				t.Errorf("%s in View: %v, want ErrReadOnly", name, err)
			}
		}
		return nil
	})
	if ErrReadOnly.Error() != "store: read-only transaction" {
		t.Errorf("ErrReadOnly = %q", ErrReadOnly)
	}
}

func TestTxUnusableAfterReturn(t *testing.T) {
	db := newTestDB(t)
	var kept bot.Tx
	update(t, db, func(tx bot.Tx) error { kept = tx; return nil })
	if _, _, err := kept.Dedupe("x"); !errors.Is(err, errTxDone) {
		t.Errorf("Dedupe on an ended Tx: %v, want errTxDone", err)
	}
	if err := kept.PutDedupe("x", 1); !errors.Is(err, errTxDone) {
		t.Errorf("PutDedupe on an ended Tx: %v, want errTxDone", err)
	}
}

func TestUpdateErrorRollsBackEverything(t *testing.T) {
	db := newTestDB(t)
	boom := errors.New("boom")
	var num uint64
	err := db.Update(context.Background(), func(tx bot.Tx) error {
		var err error
		if num, err = tx.NextRFANumber(); err != nil {
			return err
		}
		return errors.Join(
			tx.PutRFA(&bot.RFA{Num: num, Subject: "lost"}),
			tx.PutDedupe("mid:lost@x", num),
			tx.PutThread("lost@x", num),
			func() error { _, err := tx.Enqueue(&bot.OutboxItem{Kind: bot.OutboxMail}); return err }(),
			tx.SetCursor("INBOX", bot.Cursor{UIDValidity: 7, LastUID: 9}),
			tx.PutDeadLetter(&bot.DeadLetter{Reason: "lost"}),
			tx.PutAutoReplies("a@b", []time.Time{time.Now()}),
			tx.PutAttachment(num, 0, 0, []byte("lost")),
			boom,
		)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	if num != 1 {
		t.Fatalf("first number = %d, want 1", num)
	}
	view(t, db, func(tx bot.Tx) error {
		if _, err := tx.RFA(num); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("RFA after rollback: %v", err)
		}
		if _, seen, _ := tx.Dedupe("mid:lost@x"); seen {
			t.Error("dedupe survived rollback")
		}
		if _, ok, _ := tx.ThreadByMessageID("lost@x"); ok {
			t.Error("thread survived rollback")
		}
		if items, _ := tx.Outbox(); len(items) != 0 {
			t.Errorf("outbox after rollback: %+v", items)
		}
		if c, _ := tx.Cursor("INBOX"); c != (bot.Cursor{}) {
			t.Errorf("cursor after rollback: %+v", c)
		}
		if dls, _ := tx.DeadLetters(); len(dls) != 0 {
			t.Errorf("dead letters after rollback: %+v", dls)
		}
		if ts, _ := tx.AutoReplies("a@b"); len(ts) != 0 {
			t.Errorf("auto replies after rollback: %v", ts)
		}
		if _, err := tx.GetAttachment(num, 0, 0); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("attachment after rollback: %v", err)
		}
		return nil
	})
	// The sequences were not advanced: the next Update gets 1 again.
	update(t, db, func(tx bot.Tx) error {
		n, err := tx.NextRFANumber()
		if n != 1 {
			t.Errorf("number after rollback = %d, want 1", n)
		}
		id, err2 := tx.Enqueue(&bot.OutboxItem{})
		if id != 1 {
			t.Errorf("outbox id after rollback = %d, want 1", id)
		}
		return errors.Join(err, err2)
	})
}

func TestUpdatePanicRollsBack(t *testing.T) {
	db := newTestDB(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic in fn was swallowed")
			}
		}()
		_ = db.Update(context.Background(), func(tx bot.Tx) error {
			if err := tx.PutDedupe("mid:p@x", 0); err != nil {
				return err
			}
			panic("fn failed")
		})
	}()
	// The writer lock was released and the write discarded.
	update(t, db, func(tx bot.Tx) error {
		if _, seen, _ := tx.Dedupe("mid:p@x"); seen {
			t.Error("write of a panicking Update was kept")
		}
		return nil
	})
}

func TestRFANumbersIncreaseAcrossReopen(t *testing.T) {
	backend := newTestBackend(t)
	var last uint64
	for round := range 3 {
		db := backend.open()
		for range 4 {
			update(t, db, func(tx bot.Tx) error {
				n, err := tx.NextRFANumber()
				if err != nil {
					return err
				}
				if n <= last {
					t.Errorf("round %d: number %d after %d", round, n, last)
				}
				last = n
				return tx.PutRFA(&bot.RFA{Num: n})
			})
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if last != 12 {
		t.Errorf("last number = %d, want 12", last)
	}
}

func TestPutRFAAdvancesAllocator(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(&bot.RFA{Num: 41}) })
	update(t, db, func(tx bot.Tx) error {
		n, err := tx.NextRFANumber()
		if n != 42 {
			t.Errorf("NextRFANumber after importing RFA-41 = %d, want 42", n)
		}
		if err := tx.PutRFA(&bot.RFA{Num: 0}); err == nil {
			t.Error("PutRFA with number 0 succeeded")
		}
		return err
	})
}

func TestConcurrentUpdatesNeverShareANumber(t *testing.T) {
	db := newTestDB(t)
	const workers, each = 4, 25
	nums := make(chan uint64, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				err := db.Update(context.Background(), func(tx bot.Tx) error {
					n, err := tx.NextRFANumber()
					if err != nil {
						return err
					}
					nums <- n
					return tx.PutRFA(&bot.RFA{Num: n})
				})
				if err != nil {
					t.Error(err)
				}
				// Readers run alongside the writers.
				if err := db.View(context.Background(), func(tx bot.Tx) error {
					_, err := tx.RFASummaries(0, func(*bot.RFASummary) (bool, error) { return true, nil })
					return err
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(nums)
	seen := map[uint64]bool{}
	for n := range nums {
		if seen[n] {
			t.Errorf("number %d handed out twice", n)
		}
		seen[n] = true
	}
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.RFAs != workers*each || st.LastRFANumber != workers*each {
		t.Errorf("Stats = %+v, want %d RFAs", st, workers*each)
	}
}
