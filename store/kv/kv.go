// Package kv is the ordered key-value transaction interface the typed
// store (package store) is built on, with two drivers: bbolt (one file,
// one process; see NewBolt) and etcd (a replicated cluster shared by
// several rfadesk instances; see NewEtcd).
//
// The interface has bbolt's shape: named buckets of byte keys kept in
// byte order, a per-bucket sequence, cursors. A driver whose reads can
// fail (etcd's go over the network) makes the error sticky: the read
// returns nil, every later call of the transaction is a no-op, and
// Update and View return the error when fn returns, so a transaction
// that met an I/O error is never committed and its caller always learns
// of it. Code running inside fn may therefore treat a nil Get as "absent"
// without checking an error at each step; it must not perform outside
// side effects it cannot undo before fn returns.
package kv

import (
	"context"
	"errors"
)

// DB is an ordered key-value database.
type DB interface {
	// Update runs fn in a read-write transaction and commits what fn
	// wrote when fn returns nil. If fn returns an error (returned as
	// is), panics, or a read inside it failed, nothing is kept. Update
	// calls from one DB are serialised. ctx bounds the waiting and the
	// I/O of the transaction where the driver does I/O; a transaction
	// whose commit was sent before ctx ended may still be committed.
	// Do not call Update or View from inside fn.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot; write methods return ErrReadOnly. fn's error is
	// returned (joined with the first read error, if a read failed too:
	// errors.Is finds either); otherwise the first read error, if any.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the database. Transactions still running end
	// first.
	Close() error
}

// Tx is one transaction. It is valid only until the fn it was handed
// to returns and must not be shared between goroutines.
type Tx interface {
	// Bucket returns the named bucket, or nil when it does not exist.
	Bucket(name string) Bucket
	// CreateBucketIfNotExists returns the named bucket, creating it
	// first in a read-write transaction.
	CreateBucketIfNotExists(name string) (Bucket, error)
	// Writable reports whether this is a read-write transaction.
	Writable() bool
	// ForEachBucket calls fn for every bucket in name order, stopping at
	// fn's first error (returned).
	ForEachBucket(fn func(name string, b Bucket) error) error
}

// Bucket is a named, ordered set of key-value pairs. Keys are compared
// as bytes. A value returned by Get or a Cursor is valid only for the
// life of the transaction and must not be modified; copy it to keep it.
// Put copies neither key nor value until commit: do not modify them
// after the call.
type Bucket interface {
	// Get returns the value of key, or nil when key is absent. An
	// empty value stored with Put is returned as a non-nil empty slice.
	Get(key []byte) []byte
	// Put sets key to value. The key must not be empty.
	Put(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
	// Cursor returns a cursor over the bucket, positioned nowhere.
	Cursor() Cursor
	// ForEach calls fn for every pair in key order, stopping at fn's
	// first error (returned). fn must not modify the bucket.
	ForEach(fn func(k, v []byte) error) error
	// Sequence returns the bucket's sequence number.
	Sequence() uint64
	// SetSequence sets the bucket's sequence number.
	SetSequence(n uint64) error
	// NextSequence increments the bucket's sequence and returns it.
	NextSequence() (uint64, error)
	// KeyN counts the keys in the bucket. It may walk the bucket.
	KeyN() int
}

// Cursor walks a bucket in key order. Each move returns the key and
// value it lands on, or two nils past either end.
type Cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	// Seek moves to key, or to the first key after it.
	Seek(key []byte) (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
	// Delete removes the pair the cursor is on. Where the cursor lands
	// afterwards differs between drivers (bbolt's Next then skips a
	// key): after Delete, Seek again before moving on.
	Delete() error
}

// FillPercenter is implemented by buckets of drivers that lay keys out in
// pages (bbolt). A bucket whose keys are only ever appended in order can
// be packed tighter; other drivers ignore the hint.
type FillPercenter interface {
	SetFillPercent(f float64)
}

// Errors shared by the drivers.
var (
	// ErrReadOnly is returned by the write methods in a View.
	ErrReadOnly = errors.New("kv: read-only transaction")
	// ErrBucketNotFound is returned when writing to a bucket that was
	// deleted or never created.
	ErrBucketNotFound = errors.New("kv: bucket not found")
	// ErrEmptyKey is returned by Put with an empty key.
	ErrEmptyKey = errors.New("kv: empty key")
	// ErrNotLeader is returned by a fenced commit when this process no
	// longer holds the leadership the fence names (see Fence).
	ErrNotLeader = errors.New("kv: not the leader: write refused")
)

// Fence names the leadership a fenced write depends on: the etcd key this
// instance created when it won the election, and that key's create
// revision. A fenced commit succeeds only while the key still exists with
// that revision, so an instance that lost leadership (its lease expired,
// another instance now leads) cannot write, however late it wakes up.
// The zero Fence means "not leading".
type Fence struct {
	Key string
	Rev int64
}
