// Package store keeps rfadesk's state in an ordered key-value database
// (package kv) and implements bot.Store on it. Two backends carry the
// same records, indexes and migrations: one bbolt file (Open), for a desk
// run by one process, and a replicated etcd cluster (OpenOn with kv's
// etcd driver), shared by several rfadesk instances. The layout (buckets,
// key and value encodings, schema version, migrations) is declared in
// schema.go. What only a file can do (streaming a backup, the file's
// size) works on bbolt and reports that it cannot on another backend.
//
// A DB is safe for concurrent use: read-write transactions are serialised
// by the backend, read-only transactions run concurrently with each other
// and with the writer. A bot.Tx handed to fn is valid only until fn
// returns and must not be shared between goroutines.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"rfadesk/bot"
	"rfadesk/store/kv"
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

// ErrReadOnly is returned by the write methods of a Tx from View. It also
// matches kv.ErrReadOnly (errors.Is), a driver's error for the same
// mistake.
var ErrReadOnly error = readOnlyError{}

type readOnlyError struct{}

func (readOnlyError) Error() string        { return "store: read-only transaction" }
func (readOnlyError) Is(target error) bool { return target == kv.ErrReadOnly }

// ErrNotBolt is wrapped by the error of what only a bbolt file can do
// (Snapshot) when the store is on another backend.
var ErrNotBolt = errors.New("the store is not a bbolt file")

// DB is an open rfadesk database.
type DB struct {
	name string
	kv   kv.DB
	bolt *bolt.DB // the file when kv is bbolt's driver; nil on another backend
}

var _ bot.Store = (*DB)(nil)

// Open opens (creating it with mode 0600 if needed) the bbolt file at
// path, takes its exclusive file lock, and brings its layout to the
// current schema version in one transaction (OpenOn). It fails with a
// *SchemaError for a file written by a newer rfadesk, and with an error
// naming the file (wrapping bbolt's ErrTimeout) when another process
// holds the lock for longer than opts.Timeout.
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
	db, err := OpenOn(context.Background(), kv.NewBolt(bdb), path)
	if err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return db, nil
}

// OpenOn opens the store kept in kdb, a database of any kv driver, and
// brings its layout to the current schema version in one Update, as Open
// does for a file: it fails with a *SchemaError when the store was
// written by a newer rfadesk, and a failing migration leaves it as it
// was. name identifies the store in errors and is what Name reports: the
// file path for bbolt, e.g. "etcd /rfadesk/" for etcd. ctx bounds the
// migration's transaction where the driver does I/O.
//
// On success the DB owns kdb: Close closes it. On failure kdb is left
// open, for the caller to close.
func OpenOn(ctx context.Context, kdb kv.DB, name string) (*DB, error) {
	db := newDB(kdb, name)
	if err := db.migrate(ctx, "open"); err != nil {
		return nil, err
	}
	return db, nil
}

// newDB is the DB over kdb named name, without any I/O.
func newDB(kdb kv.DB, name string) *DB {
	db := &DB{name: name, kv: kdb}
	if b, ok := kdb.(*kv.Bolt); ok {
		db.bolt = b.Raw()
	}
	return db
}

// Attach opens the store kept in kdb without writing to it, for an
// instance that may not write yet: a standby on etcd, whose writes are
// fenced. It reads the schema version in one View and fails with a
// *SchemaError when the store was written by a newer rfadesk; an older
// or empty store is accepted, for the instance that leads to bring up to
// date with Migrate (until then reads of a missing bucket fail). On
// success the DB owns kdb: Close closes it. On failure kdb is left open.
func Attach(ctx context.Context, kdb kv.DB, name string) (*DB, error) {
	err := kdb.View(ctx, func(tx kv.Tx) error {
		_, err := checkVersion(tx, name)
		return err
	})
	if err != nil {
		var se *SchemaError
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	return newDB(kdb, name), nil
}

// Migrate brings the store's layout to the current schema version in one
// Update, as OpenOn does; on a current store it only rewrites the
// version. It fails with a *SchemaError for a store a newer rfadesk
// wrote in the meantime.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx, "migrate") }

// migrate runs the migrations in one Update. A migration's own error
// (it names the store; a *SchemaError) is returned as is, any other is
// wrapped with op and the store's name.
func (db *DB) migrate(ctx context.Context, op string) error {
	var migErr error
	err := db.kv.Update(ctx, func(tx kv.Tx) error {
		migErr = migrate(tx, db.name)
		return migErr
	})
	switch {
	case err != nil && migErr != nil:
		return err
	case err != nil:
		return fmt.Errorf("store: %s %s: %w", op, db.name, err)
	}
	return nil
}

// Name returns the name the store was opened with: the file path for
// Open, the name given to OpenOn.
func (db *DB) Name() string { return db.name }

// Path returns Name. For a store on bbolt it is the file's path; File
// tells whether there is a file.
func (db *DB) Path() string { return db.name }

// File returns the path of the bbolt file the store lives in, and false
// when the store is on another backend (there is no file to stat, copy
// or check).
func (db *DB) File() (path string, ok bool) {
	if db.bolt == nil {
		return "", false
	}
	return db.bolt.Path(), true
}

// KV returns the key-value database the store is kept in, for tools that
// copy a store from one backend to another. Writing it behind the
// store's back breaks the store's indexes: use Update for anything else.
func (db *DB) KV() kv.DB { return db.kv }

// notBolt is the error of op, which only a bbolt file can do, on another
// backend.
func (db *DB) notBolt(op string) error {
	return fmt.Errorf("store: %s a bbolt file; this desk is on %s (use rfadesk store copy -to bbolt): %w", op, db.name, ErrNotBolt)
}

// Close closes the store and its backend: on bbolt it releases the file
// lock and closes the file. It waits for transactions still running to
// end.
func (db *DB) Close() error {
	if err := db.kv.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", db.name, err)
	}
	return nil
}

// Update runs fn in a read-write transaction and commits it when fn
// returns nil; if fn returns an error (returned as is) or panics, nothing
// fn wrote is kept, including sequence numbers it took. Updates from one
// DB are serialised: Update waits for the writer before it starts.
//
// ctx is checked before the transaction begins. On bbolt that is the
// only check: a bbolt transaction cannot be interrupted, so once fn runs
// it runs to the end and a successful fn is committed even if ctx is
// canceled meanwhile. On a driver that does I/O (etcd) ctx also bounds
// the reads and the commit; a commit sent before ctx ended may still
// take effect. Such a driver's read that fails inside fn reads as absent
// and fails the Update with the read error when fn returns nil, and
// nothing is committed; fn must therefore do no outside side effects,
// and should do no network I/O. Do not call Update or View from inside
// fn (deadlock).
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: update not started: %w", err)
	}
	return db.run(ctx, true, fn)
}

// View runs fn in a read-only transaction that sees one consistent
// snapshot; the write methods of its Tx return ErrReadOnly. fn's error is
// returned as is; otherwise a read error of the driver, if one failed.
// ctx is checked before the transaction begins and, on a driver that does
// I/O, bounds its reads. Keep views short: on bbolt a long view keeps old
// pages from being reused and the file grows.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: view not started: %w", err)
	}
	return db.run(ctx, false, fn)
}

// run runs fn in a read-write (write) or read-only transaction of the
// backend, on a *tx that refuses use once fn has returned. fn's error is
// returned as is; an error of the backend's own (begin, read, commit) is
// wrapped with the store's name.
func (db *DB) run(ctx context.Context, write bool, fn func(bot.Tx) error) error {
	var fnErr error
	body := func(ktx kv.Tx) error {
		t := &tx{ktx: ktx}
		defer func() { t.done = true }()
		fnErr = fn(t)
		return fnErr
	}
	var err error
	if write {
		err = db.kv.Update(ctx, body)
	} else {
		err = db.kv.View(ctx, body)
	}
	if err != nil && fnErr == nil {
		return fmt.Errorf("store: %s: %w", db.name, err)
	}
	return err
}

// Stats is a summary of the database for operators.
type Stats struct {
	SchemaVersion uint64 // layout version stored
	RFAs          int    // RFAs stored
	LastRFANumber uint64 // highest RFA number ever allocated
	Outbox        int    // outbox items waiting for delivery
	DeadLetters   int    // dead letters kept
	FileBytes     int64  // size of the data in the bbolt file; 0 on another backend
}

// Stats reads the summary in one read-only transaction. It counts the
// keys of the counted buckets (kv.Bucket.KeyN), so it costs more than a
// lookup.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := db.run(ctx, false, func(btx bot.Tx) error {
		t := btx.(*tx)
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
		s.RFAs = rfas.KeyN()
		s.LastRFANumber = rfas.Sequence()
		out, err := t.bucket(bucketOutbox)
		if err != nil {
			return err
		}
		s.Outbox = out.KeyN()
		dead, err := t.bucket(bucketDeadLetters)
		if err != nil {
			return err
		}
		s.DeadLetters = dead.KeyN()
		if btx := kv.BoltTx(t.ktx); db.bolt != nil && btx != nil {
			s.FileBytes = btx.Size()
		}
		return nil
	})
	return s, err
}
