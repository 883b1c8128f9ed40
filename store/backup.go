package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// A backup is two files, like the live store: the database (a bbolt
// file written by a read transaction's WriteTo) and, when the receipt
// log held receipts not yet applied, a copy of that log at
// ReceiptsPath(backup). Both come from one Snapshot, so they are
// consistent: every mail the server accepted before the snapshot is
// either recorded in the database copy or has its receipt in the log
// copy, and a daemon started on the pair replays the receipts before it
// sends anything, so a restore sends no accepted mail again.

// Snapshot is one consistent view of a database and its receipt log,
// for a backup. It holds a read transaction: the database file cannot
// shrink or reuse the snapshot's pages until Close, and a writer that
// must grow the file's memory map waits for Close. Write it out and
// close it promptly. A Snapshot is used by one goroutine.
type Snapshot struct {
	tx       *bolt.Tx
	receipts []byte
	closeDB  func() error // set when the Snapshot opened the file itself
}

// Snapshot begins a snapshot of db. receipts is the receipt log the
// daemon appends to (nil if there is none): its records are copied at
// the instant the read transaction begins, with appends and truncations
// held off meanwhile, so no receipt falls between the two. A backup
// streams a bbolt file: on another backend Snapshot fails with an error
// wrapping ErrNotBolt.
func (db *DB) Snapshot(receipts *Receipts) (*Snapshot, error) {
	if db.bolt == nil {
		return nil, db.notBolt("backup streams")
	}
	if receipts == nil {
		btx, err := db.bolt.Begin(false)
		if err != nil {
			return nil, fmt.Errorf("store: begin snapshot: %w", err)
		}
		return &Snapshot{tx: btx}, nil
	}
	receipts.mu.Lock()
	defer receipts.mu.Unlock()
	if receipts.f == nil {
		return nil, fmt.Errorf("store: receipts %s: closed", receipts.path)
	}
	btx, err := db.bolt.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("store: begin snapshot: %w", err)
	}
	log := make([]byte, receipts.size)
	if _, err := receipts.f.ReadAt(log, 0); err != nil {
		_ = btx.Rollback()
		return nil, fmt.Errorf("store: read receipts %s: %w", receipts.path, err)
	}
	return &Snapshot{tx: btx, receipts: log}, nil
}

// OpenSnapshot snapshots the store at path when no daemon runs on it:
// it opens the file read-only (taking a shared lock, so no daemon can
// start on it until Close) and reads the receipt log beside it. It
// waits at most timeout for the lock and then fails with an error
// wrapping ErrLocked. The file is not migrated: the snapshot is the
// file as it is.
func OpenSnapshot(path string, timeout time.Duration) (*Snapshot, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: max(timeout, time.Millisecond)})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is locked (waited %s): %w", path, timeout, ErrLocked)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	log, err := readReceiptsFile(ReceiptsPath(path))
	if err != nil {
		_ = bdb.Close()
		return nil, err
	}
	btx, err := bdb.Begin(false)
	if err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("store: begin snapshot: %w", err)
	}
	return &Snapshot{tx: btx, receipts: log, closeDB: bdb.Close}, nil
}

// ErrLocked is wrapped by OpenSnapshot's error when another process (a
// running daemon) holds the store's lock.
var ErrLocked = errors.New("store: the file is locked by another process")

// readReceiptsFile returns the whole records of the receipt log at path
// (nil if there is no log) without changing the file.
func readReceiptsFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: open receipts %s: %w", path, err)
	}
	defer f.Close()
	r := &Receipts{path: path, f: f}
	_, end, err := r.read(-1)
	if err != nil {
		return nil, err
	}
	log := make([]byte, end)
	if _, err := f.ReadAt(log, 0); err != nil {
		return nil, fmt.Errorf("store: read receipts %s: %w", path, err)
	}
	return log, nil
}

// Size is the number of bytes WriteTo writes.
func (s *Snapshot) Size() int64 { return s.tx.Size() }

// WriteTo writes the database as of the snapshot to w: a complete bbolt
// file of exactly Size bytes.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	n, err := s.tx.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("store: write snapshot: %w", err)
	}
	return n, nil
}

// Receipts returns the receipt log's whole records as of the snapshot,
// in the log's file format (schema.go); empty when none were pending.
// Written to ReceiptsPath of the database copy, they are replayed by the
// daemon started on it.
func (s *Snapshot) Receipts() []byte { return s.receipts }

// Close ends the read transaction (and closes the file OpenSnapshot
// opened).
func (s *Snapshot) Close() error {
	err := s.tx.Rollback()
	if s.closeDB != nil {
		err = errors.Join(err, s.closeDB())
	}
	return err
}

// BackupInfo describes a backup VerifyBackup checked.
type BackupInfo struct {
	SchemaVersion uint64 // layout version of the file
	RFAs          int    // RFAs in it
	LastRFANumber uint64 // highest RFA number allocated
	Receipts      int    // pending receipts in the log beside it
}

// VerifyBackup checks, without changing it, that the file at path is a
// store this binary can open: bbolt's consistency check passes, the
// schema version is one it reads (a newer one is a *SchemaError), every
// bucket is there, and the receipt log beside it (if any) decodes to its
// end. It takes a shared lock and waits at most timeout for it.
func VerifyBackup(path string, timeout time.Duration) (BackupInfo, error) {
	var info BackupInfo
	if _, err := os.Stat(path); err != nil {
		return info, fmt.Errorf("store: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: max(timeout, time.Millisecond)})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return info, fmt.Errorf("store: %s is locked (waited %s): %w", path, timeout, ErrLocked)
		}
		return info, fmt.Errorf("store: open %s: %w", path, err)
	}
	defer bdb.Close()
	err = bdb.View(func(btx *bolt.Tx) error {
		var damage error
		for cerr := range btx.Check() { // drain: Check's goroutine sends every problem
			if damage == nil {
				damage = fmt.Errorf("store: %s is damaged: %w", path, cerr)
			}
		}
		if damage != nil {
			return damage
		}
		meta := btx.Bucket([]byte(bucketMeta))
		if meta == nil {
			return fmt.Errorf("store: %s is not an rfadesk store (no %q bucket)", path, bucketMeta)
		}
		v, err := decodeU64(meta.Get([]byte(keySchemaVersion)))
		if err != nil {
			return fmt.Errorf("store: %s: bad schema version: %w", path, err)
		}
		info.SchemaVersion = v
		if v > schemaVersion {
			return &SchemaError{Path: path, Version: v, Supports: schemaVersion}
		}
		if v == schemaVersion {
			// An older file is migrated when a daemon opens it; the
			// buckets of this version must all be in a current one.
			for _, name := range allBuckets() {
				if btx.Bucket([]byte(name)) == nil {
					return fmt.Errorf("store: %s: bucket %q missing at schema version %d", path, name, v)
				}
			}
		}
		if rfas := btx.Bucket([]byte(bucketRFAs)); rfas != nil {
			info.RFAs = rfas.Stats().KeyN
			info.LastRFANumber = rfas.Sequence()
		}
		return nil
	})
	if err != nil {
		return info, err
	}
	rpath := ReceiptsPath(path)
	f, err := os.Open(rpath)
	if errors.Is(err, os.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("store: open receipts %s: %w", rpath, err)
	}
	defer f.Close()
	r := &Receipts{path: rpath, f: f}
	recs, end, err := r.read(-1)
	if err != nil {
		return info, err
	}
	if fi, err := f.Stat(); err != nil {
		return info, fmt.Errorf("store: receipts %s: %w", rpath, err)
	} else if fi.Size() != end {
		return info, fmt.Errorf("store: receipts %s: %d bytes after the last whole record: the copy is damaged", rpath, fi.Size()-end)
	}
	info.Receipts = len(recs)
	return info, nil
}
