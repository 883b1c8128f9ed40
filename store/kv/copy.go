package kv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
)

// Defaults of CopyOptions.
const (
	DefaultCopyBatchKeys  = 500
	DefaultCopyBatchBytes = 512 << 10
	// DefaultMarkerBucket and DefaultMarkerKey name the pair that makes a
	// database a store: the schema version (bucketMeta and
	// keySchemaVersion in store/schema.go).
	DefaultMarkerBucket = "meta"
	DefaultMarkerKey    = "schema_version"
)

// IncompleteCopyMarker is the marker's value while Copy runs: not an
// 8-byte version, so the store refuses to open an interrupted copy ("bad
// schema version") instead of taking it for a fresh store to migrate.
const IncompleteCopyMarker = "rfadesk: incomplete copy"

// CopyOptions tunes Copy. A nil *CopyOptions means the defaults.
type CopyOptions struct {
	// BatchKeys is the most keys one target Update writes (default 500;
	// etcd must allow that many operations a transaction: its
	// --max-txn-ops, 8192 for rfadesk).
	BatchKeys int
	// BatchBytes is the most bytes of keys and values one target Update
	// writes (default 512 KiB, well under etcd's 1.5 MiB request limit).
	// A pair bigger than that is written alone.
	BatchBytes int
	// MarkerBucket and MarkerKey name the pair written last (default
	// "meta" and "schema_version": the store's schema version). While
	// the copy runs the target holds IncompleteCopyMarker there. A
	// source without the pair is copied without this protection.
	MarkerBucket, MarkerKey string
	// Progress, when set, is called after each target Update with the
	// keys and bytes written so far.
	Progress func(keys int, bytes int64)
	// Live says the source may be written during the copy (an etcd store
	// whose instances keep running): its Contents are then taken in the
	// View the copy reads, from the same snapshot, instead of being read
	// again afterwards, so the target is verified against what was
	// copied. Without Live a write to the source during the copy is a
	// mismatch.
	Live bool
}

// BucketCount is one bucket's size in a CopyReport or Digest.
type BucketCount struct {
	Name     string
	Keys     int
	Sequence uint64
}

// Contents is what Digest reads from a database: every bucket holding a
// key or a non-zero sequence, in name order, and the digest over them.
type Contents struct {
	Buckets []BucketCount
	Keys    int
	Bytes   int64 // keys and values
	// Digest is the SHA-256, in hex, over each such bucket in name
	// order: its name and sequence, then every pair in key order, each
	// field preceded by its length (8 bytes, big-endian). Empty buckets
	// with sequence 0 do not count: they are the same as no bucket.
	Digest string
}

// CopyReport is what Copy did and found.
type CopyReport struct {
	// Source and Target are Digest of each side after the copy; equal
	// when Copy returns no error.
	Source, Target Contents
	// Batches is the number of target Updates.
	Batches int
}

// Digest reads db in one View and returns its Contents.
func Digest(ctx context.Context, db DB) (Contents, error) {
	var c Contents
	err := db.View(ctx, func(tx Tx) error {
		var err error
		c, err = digestTx(ctx, tx)
		return err
	})
	if err != nil {
		return Contents{}, fmt.Errorf("kv: digest: %w", err)
	}
	return c, nil
}

// digestTx returns the Contents tx sees.
func digestTx(ctx context.Context, tx Tx) (Contents, error) {
	var c Contents
	h := sha256.New()
	err := tx.ForEachBucket(func(name string, b Bucket) error {
		bc := BucketCount{Name: name, Sequence: b.Sequence()}
		header := func() {
			writeField(h, []byte(name))
			writeField(h, binary.BigEndian.AppendUint64(nil, bc.Sequence))
		}
		err := b.ForEach(func(k, v []byte) error {
			if bc.Keys == 0 {
				header()
			}
			writeField(h, k)
			writeField(h, v)
			bc.Keys++
			c.Bytes += int64(len(k) + len(v))
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		if bc.Keys == 0 && bc.Sequence == 0 {
			return nil
		}
		if bc.Keys == 0 {
			header()
		}
		c.Buckets = append(c.Buckets, bc)
		c.Keys += bc.Keys
		return nil
	})
	if err != nil {
		return Contents{}, err
	}
	c.Digest = hex.EncodeToString(h.Sum(nil))
	return c, nil
}

// writeField writes one length-prefixed field into h.
func writeField(h hash.Hash, b []byte) {
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
	h.Write(b)
}

// Copy copies every bucket of src, its keys, values and sequence, into
// dst, then verifies the copy. It refuses a dst that has any key or
// non-zero sequence.
//
// src is read in one View, a single consistent snapshot (on etcd: one
// revision, which must not be compacted during the copy); dst is written
// in Updates of at most BatchKeys keys and BatchBytes bytes, so dst is
// not written atomically. The first Update sets the marker pair (the
// store's schema version) to IncompleteCopyMarker and the last writes its
// real value, so a copy that stopped half-way (ctx cancelled, an error, a
// crash) is refused by the store and by a second Copy, and must be
// removed before copying again.
//
// Nobody may write dst during the copy, nor src unless opts.Live (then
// src's Contents come from the snapshot copied). Verification reads dst
// again, and src too without Live, each in a new View, and compares
// per-bucket key counts and sequences and the Digest: without Live a
// source written after its snapshot was taken shows up as a mismatch,
// which is an error. The report is filled as far as Copy got.
func Copy(ctx context.Context, dst, src DB, opts *CopyOptions) (CopyReport, error) {
	o := CopyOptions{}
	if opts != nil {
		o = *opts
	}
	if o.BatchKeys <= 0 {
		o.BatchKeys = DefaultCopyBatchKeys
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultCopyBatchBytes
	}
	if o.MarkerBucket == "" && o.MarkerKey == "" {
		o.MarkerBucket, o.MarkerKey = DefaultMarkerBucket, DefaultMarkerKey
	}
	var rep CopyReport
	if err := checkEmpty(ctx, dst, &o); err != nil {
		return rep, err
	}
	w := &copyWriter{ctx: ctx, dst: dst, opts: &o}
	err := src.View(ctx, func(tx Tx) error {
		var marker []byte
		if mb := tx.Bucket(o.MarkerBucket); mb != nil {
			marker = mb.Get([]byte(o.MarkerKey))
		}
		if marker != nil {
			w.create(o.MarkerBucket, 0)
			w.put(o.MarkerBucket, []byte(o.MarkerKey), []byte(IncompleteCopyMarker))
			if err := w.flush(); err != nil {
				return err
			}
		}
		err := tx.ForEachBucket(func(name string, b Bucket) error {
			w.create(name, b.Sequence())
			return b.ForEach(func(k, v []byte) error {
				if marker != nil && name == o.MarkerBucket && string(k) == o.MarkerKey {
					return nil
				}
				return w.put(name, k, v)
			})
		})
		if err != nil {
			return err
		}
		if err := w.flush(); err != nil {
			return err
		}
		if marker != nil {
			w.put(o.MarkerBucket, []byte(o.MarkerKey), marker)
			if err := w.flush(); err != nil {
				return err
			}
		}
		if o.Live { // the snapshot just copied
			var err error
			if rep.Source, err = digestTx(ctx, tx); err != nil {
				return fmt.Errorf("verifying the source: %w", err)
			}
		}
		return nil
	})
	rep.Batches = w.batches
	switch {
	case err != nil && w.batches == 0:
		return rep, fmt.Errorf("kv: copy: nothing written: %w", err)
	case err != nil:
		return rep, fmt.Errorf("kv: copy stopped after %d keys in %d batches; the target holds a partial copy, marked as such: remove it before copying again: %w", w.keys, w.batches, err)
	}
	if !o.Live {
		if rep.Source, err = Digest(ctx, src); err != nil {
			return rep, fmt.Errorf("kv: copy done, verifying the source: %w", err)
		}
	}
	if rep.Target, err = Digest(ctx, dst); err != nil {
		return rep, fmt.Errorf("kv: copy done, verifying the target: %w", err)
	}
	return rep, compareContents(rep.Source, rep.Target)
}

// checkEmpty refuses a dst with any key or sequence, naming an
// interrupted copy when it finds the marker's placeholder.
func checkEmpty(ctx context.Context, dst DB, o *CopyOptions) error {
	return dst.View(ctx, func(tx Tx) error {
		if mb := tx.Bucket(o.MarkerBucket); mb != nil && string(mb.Get([]byte(o.MarkerKey))) == IncompleteCopyMarker {
			return fmt.Errorf("kv: copy: the target holds an interrupted copy (%s/%s = %q): remove it first", o.MarkerBucket, o.MarkerKey, IncompleteCopyMarker)
		}
		return tx.ForEachBucket(func(name string, b Bucket) error {
			if n := b.KeyN(); n > 0 {
				return fmt.Errorf("kv: copy: target is not empty: bucket %q has %d keys", name, n)
			}
			if s := b.Sequence(); s != 0 {
				return fmt.Errorf("kv: copy: target is not empty: bucket %q has sequence %d", name, s)
			}
			return nil
		})
	})
}

// compareContents names the first difference between source and target.
func compareContents(src, dst Contents) error {
	var diffs []error
	byName := map[string]BucketCount{}
	for _, b := range dst.Buckets {
		byName[b.Name] = b
	}
	for _, s := range src.Buckets {
		d := byName[s.Name]
		if d.Keys != s.Keys || d.Sequence != s.Sequence {
			diffs = append(diffs, fmt.Errorf("bucket %q: source has %d keys and sequence %d, target %d and %d", s.Name, s.Keys, s.Sequence, d.Keys, d.Sequence))
		}
		delete(byName, s.Name)
	}
	for _, d := range dst.Buckets {
		if _, extra := byName[d.Name]; extra {
			diffs = append(diffs, fmt.Errorf("bucket %q: only in the target (%d keys, sequence %d)", d.Name, d.Keys, d.Sequence))
		}
	}
	if src.Digest != dst.Digest {
		diffs = append(diffs, fmt.Errorf("digest: source %s, target %s", src.Digest, dst.Digest))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("kv: copy does not match its source: %w", errors.Join(diffs...))
	}
	return nil
}

// copyWriter gathers pairs into target Updates of bounded size.
type copyWriter struct {
	ctx  context.Context
	dst  DB
	opts *CopyOptions

	pending      []copyOp
	pendingKeys  int
	pendingBytes int

	keys    int
	bytes   int64
	batches int
}

// copyOp is one write of a batch: a bucket to create with its sequence,
// or a pair to put.
type copyOp struct {
	bucket     string
	create     bool
	seq        uint64
	key, value []byte
}

// create queues the creation of bucket with sequence seq. It counts as a
// key towards BatchKeys (a driver may store a bucket as a key).
func (w *copyWriter) create(bucket string, seq uint64) {
	w.pending = append(w.pending, copyOp{bucket: bucket, create: true, seq: seq})
	w.pendingKeys++
}

// put queues a pair, first writing out the batch when the pair would
// make it too big, and after it when the pair alone fills it. k and v
// must stay valid until the batch is written (the source's transaction
// is open throughout Copy).
func (w *copyWriter) put(bucket string, k, v []byte) error {
	size := len(k) + len(v)
	if len(w.pending) > 0 && (w.pendingKeys+1 > w.opts.BatchKeys || w.pendingBytes+size > w.opts.BatchBytes) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if v == nil {
		v = []byte{} // an empty value stays an empty value
	}
	w.pending = append(w.pending, copyOp{bucket: bucket, key: k, value: v})
	w.pendingKeys++
	w.pendingBytes += size
	if w.pendingBytes >= w.opts.BatchBytes {
		return w.flush()
	}
	return nil
}

// flush writes the pending operations in one target Update.
func (w *copyWriter) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	var keys, size int
	err := w.dst.Update(w.ctx, func(tx Tx) error {
		keys, size = 0, 0
		buckets := map[string]Bucket{}
		for _, op := range w.pending {
			b := buckets[op.bucket]
			if b == nil {
				var err error
				if b, err = tx.CreateBucketIfNotExists(op.bucket); err != nil {
					return fmt.Errorf("create bucket %q: %w", op.bucket, err)
				}
				buckets[op.bucket] = b
			}
			if op.create {
				if op.seq != 0 {
					if err := b.SetSequence(op.seq); err != nil {
						return fmt.Errorf("bucket %q: set sequence: %w", op.bucket, err)
					}
				}
				continue
			}
			if err := b.Put(op.key, op.value); err != nil {
				return fmt.Errorf("bucket %q: put %q: %w", op.bucket, clip(op.key), err)
			}
			keys++
			size += len(op.key) + len(op.value)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.batches++
	w.keys += keys
	w.bytes += int64(size)
	w.pending, w.pendingKeys, w.pendingBytes = w.pending[:0], 0, 0
	if w.opts.Progress != nil {
		w.opts.Progress(w.keys, w.bytes)
	}
	return nil
}

// clip shortens a key for an error message.
func clip(k []byte) []byte {
	if len(k) > 32 {
		return append(bytes.Clone(k[:32]), "..."...)
	}
	return k
}
