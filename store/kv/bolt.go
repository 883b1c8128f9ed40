package kv

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the bbolt driver: one file, locked by one process. Its reads
// cannot fail, so it never makes an error sticky.
type Bolt struct {
	db *bolt.DB
}

var _ DB = (*Bolt)(nil)

// NewBolt wraps an open bbolt database. The caller keeps ownership of
// options such as NoSync; Close closes db.
func NewBolt(db *bolt.DB) *Bolt { return &Bolt{db: db} }

// Raw returns the bbolt database, for what only bbolt has: consistent
// file copies (Tx.WriteTo), page checks and file size.
func (b *Bolt) Raw() *bolt.DB { return b.db }

// Update implements DB. ctx is checked once, before the transaction
// begins: a bbolt transaction cannot be interrupted.
func (b *Bolt) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kv: update not started: %w", err)
	}
	btx, err := b.db.Begin(true)
	if err != nil {
		return fmt.Errorf("kv: begin update: %w", err)
	}
	defer func() {
		if btx.DB() != nil { // not committed: fn failed or panicked
			_ = btx.Rollback()
		}
	}()
	if err := fn(boltTx{btx}); err != nil {
		return err
	}
	if err := btx.Commit(); err != nil {
		return fmt.Errorf("kv: commit: %w", err)
	}
	return nil
}

// View implements DB. ctx is checked once, before the transaction begins.
func (b *Bolt) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kv: view not started: %w", err)
	}
	btx, err := b.db.Begin(false)
	if err != nil {
		return fmt.Errorf("kv: begin view: %w", err)
	}
	defer func() { _ = btx.Rollback() }()
	return fn(boltTx{btx})
}

// Close implements DB.
func (b *Bolt) Close() error { return b.db.Close() }

// BoltTx returns the bbolt transaction behind tx, or nil when tx is not
// from the bbolt driver.
func BoltTx(tx Tx) *bolt.Tx {
	if t, ok := tx.(boltTx); ok {
		return t.tx
	}
	return nil
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Writable() bool { return t.tx.Writable() }

func (t boltTx) Bucket(name string) Bucket {
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		return nil
	}
	return boltBucket{b}
}

func (t boltTx) CreateBucketIfNotExists(name string) (Bucket, error) {
	if !t.tx.Writable() {
		return nil, ErrReadOnly
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, err
	}
	return boltBucket{b}, nil
}

func (t boltTx) ForEachBucket(fn func(name string, b Bucket) error) error {
	return t.tx.ForEach(func(name []byte, b *bolt.Bucket) error { return fn(string(name), boltBucket{b}) })
}

type boltBucket struct{ b *bolt.Bucket }

func (b boltBucket) Get(key []byte) []byte { return b.b.Get(key) }

func (b boltBucket) Put(key, value []byte) error {
	if !b.b.Writable() {
		return ErrReadOnly
	}
	if len(key) == 0 {
		return ErrEmptyKey
	}
	if value == nil { // else Get returns nil for it until commit
		value = []byte{}
	}
	return b.b.Put(key, value)
}

func (b boltBucket) Delete(key []byte) error {
	if !b.b.Writable() {
		return ErrReadOnly
	}
	return b.b.Delete(key)
}

func (b boltBucket) Cursor() Cursor { return boltCursor{b.b.Cursor()} }

func (b boltBucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }

func (b boltBucket) Sequence() uint64 { return b.b.Sequence() }

func (b boltBucket) SetSequence(n uint64) error {
	if !b.b.Writable() {
		return ErrReadOnly
	}
	return b.b.SetSequence(n)
}

func (b boltBucket) NextSequence() (uint64, error) {
	if !b.b.Writable() {
		return 0, ErrReadOnly
	}
	return b.b.NextSequence()
}

// KeyN implements Bucket. bbolt's Stats count committed pages only, so
// in a write transaction KeyN walks the keys instead.
func (b boltBucket) KeyN() int {
	if !b.b.Writable() {
		return b.b.Stats().KeyN
	}
	n := 0
	c := b.b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

func (b boltBucket) SetFillPercent(f float64) { b.b.FillPercent = f }

type boltCursor struct{ c *bolt.Cursor }

func (c boltCursor) First() ([]byte, []byte)        { return c.c.First() }
func (c boltCursor) Last() ([]byte, []byte)         { return c.c.Last() }
func (c boltCursor) Seek(k []byte) ([]byte, []byte) { return c.c.Seek(k) }
func (c boltCursor) Next() ([]byte, []byte)         { return c.c.Next() }
func (c boltCursor) Prev() ([]byte, []byte)         { return c.c.Prev() }
func (c boltCursor) Delete() error {
	if !c.c.Bucket().Writable() {
		return ErrReadOnly
	}
	return c.c.Delete()
}
