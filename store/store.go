// Package store keeps rfadesk's state in one bbolt file and implements
// bot.Store on it. The layout (buckets, key and value encodings, schema
// version, migrations) is declared in schema.go.
//
// A DB is safe for concurrent use: read-write transactions are serialised
// by bbolt, read-only transactions run concurrently with each other and
// with the writer. A bot.Tx handed to fn is valid only until fn returns
// and must not be shared between goroutines.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"rfadesk/bot"
)

// Options configure Open. A nil *Options means the defaults.
type Options struct {
	// NoSync skips fsync on commit. For tests and benchmarks only: a
	// crash can lose or corrupt committed data.
	NoSync bool
	// Timeout is how long Open waits for the file lock another process
	// (or another DB in this process) holds; 0 means 1s, a negative
	// value means do not wait.
	Timeout time.Duration
}

// defaultTimeout is how long Open waits for the file lock by default.
const defaultTimeout = time.Second

// ErrReadOnly is returned by the write methods of a Tx from View.
var ErrReadOnly = errors.New("store: read-only transaction")

// DB is an open rfadesk database.
type DB struct {
	path string
	bolt *bolt.DB
}

var _ bot.Store = (*DB)(nil)

// Open opens (creating it with mode 0600 if needed) the database file at
// path, takes its exclusive file lock, and brings its layout to the
// current schema version in one transaction. It fails with a *SchemaError
// for a file written by a newer rfadesk, and with an error naming the
// file (wrapping bbolt's ErrTimeout) when another process holds the lock
// for longer than opts.Timeout.
func Open(path string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	timeout := o.Timeout
	switch {
	case timeout == 0:
		timeout = defaultTimeout
	case timeout < 0:
		// bbolt treats 0 as "wait forever"; any negative value fails
		// after the first attempt.
		timeout = -1
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: o.NoSync})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is locked by another process (waited %s; is another rfadesk running?): %w",
				path, max(timeout, 0), err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error { return migrate(tx, path) }); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return &DB{path: path, bolt: bdb}, nil
}

// Path returns the file path given to Open.
func (db *DB) Path() string { return db.path }

// Close releases the file lock and closes the file. It waits for
// transactions still running to end.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", db.path, err)
	}
	return nil
}

// Update runs fn in a read-write transaction and commits it when fn
// returns nil; if fn returns an error (returned as is) or panics, nothing
// fn wrote is kept, including sequence numbers it took. Updates are
// serialised: Update waits for the writer before it starts.
//
// ctx is checked once, before the transaction begins: a bbolt transaction
// cannot be interrupted, so once fn runs it runs to the end and a
// successful fn is committed even if ctx is canceled meanwhile. fn should
// do no network I/O. Do not call Update or View from inside fn (deadlock).
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: update not started: %w", err)
	}
	btx, err := db.bolt.Begin(true)
	if err != nil {
		return fmt.Errorf("store: begin update: %w", err)
	}
	t := &tx{btx: btx}
	defer func() {
		t.done = true
		if btx.DB() != nil { // not committed: fn failed or panicked
			_ = btx.Rollback()
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if err := btx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction that sees one consistent
// snapshot; the write methods of its Tx return ErrReadOnly. fn's error is
// returned as is. ctx is checked once, before the transaction begins.
// Keep views short: a long view keeps old pages from being reused and
// the file grows.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: view not started: %w", err)
	}
	btx, err := db.bolt.Begin(false)
	if err != nil {
		return fmt.Errorf("store: begin view: %w", err)
	}
	t := &tx{btx: btx}
	defer func() {
		t.done = true
		_ = btx.Rollback()
	}()
	return fn(t)
}

// Stats is a summary of the database for operators.
type Stats struct {
	SchemaVersion uint64 // layout version stored in the file
	RFAs          int    // RFAs stored
	LastRFANumber uint64 // highest RFA number ever allocated
	Outbox        int    // outbox items waiting for delivery
	DeadLetters   int    // dead letters kept
	FileBytes     int64  // size of the data in the file
}

// Stats reads the summary in one read-only transaction. It walks the
// pages of the counted buckets, so it costs more than a lookup.
func (db *DB) Stats() (Stats, error) {
	var s Stats
	err := db.bolt.View(func(btx *bolt.Tx) error {
		t := &tx{btx: btx}
		meta, err := t.bucket(bucketMeta)
		if err != nil {
			return err
		}
		if s.SchemaVersion, err = decodeU64(meta.Get([]byte(keySchemaVersion))); err != nil {
			return fmt.Errorf("store: schema version: %w", err)
		}
		rfas, err := t.bucket(bucketRFAs)
		if err != nil {
			return err
		}
		s.RFAs = rfas.Stats().KeyN
		s.LastRFANumber = rfas.Sequence()
		out, err := t.bucket(bucketOutbox)
		if err != nil {
			return err
		}
		s.Outbox = out.Stats().KeyN
		dead, err := t.bucket(bucketDeadLetters)
		if err != nil {
			return err
		}
		s.DeadLetters = dead.Stats().KeyN
		s.FileBytes = btx.Size()
		return nil
	})
	return s, err
}
