package kv_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"rfadesk/store"
	"rfadesk/store/kv"
)

// openBolt opens (creating) a bbolt file in dir for a test, closed at
// cleanup. A large initial map lets a test write while a View is open
// without bbolt remapping under it.
func openBolt(t *testing.T, path string) *kv.Bolt {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, InitialMmapSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	b := kv.NewBolt(db)
	t.Cleanup(func() { b.Close() })
	return b
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// bigValue is 3 MiB: bigger than a batch and than etcd's request limit.
var bigValue = bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)

// fillSource writes a store-like database: the schema version in meta,
// a numbered bucket of 1,200 records with a sequence, a bucket with only
// a sequence, an empty bucket, empty values and a 3 MiB value.
func fillSource(t *testing.T, db kv.DB) {
	t.Helper()
	err := db.Update(context.Background(), func(tx kv.Tx) error {
		meta, _ := tx.CreateBucketIfNotExists("meta")
		meta.Put([]byte("schema_version"), u64(10))
		meta.Put([]byte("jeopardy_policy"), []byte("policy-1"))
		rfas, _ := tx.CreateBucketIfNotExists("rfas")
		for i := uint64(1); i <= 1200; i++ {
			rfas.Put(u64(i), fmt.Appendf(nil, `{"number":%d,"subject":"printer %d is jammed"}`, i, i))
		}
		rfas.SetSequence(1200)
		seqOnly, _ := tx.CreateBucketIfNotExists("dead_letters")
		seqOnly.SetSequence(7)
		tx.CreateBucketIfNotExists("cursors") // empty
		open, _ := tx.CreateBucketIfNotExists("open_rfas")
		for i := uint64(1); i <= 300; i++ {
			open.Put(u64(i), nil)
		}
		blobs, _ := tx.CreateBucketIfNotExists("outbox_blobs")
		blobs.Put([]byte("big"), bigValue)
		blobs.Put([]byte("empty"), []byte{})
		blobs.Put([]byte("small"), []byte("x"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCopyBoltToBolt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, dst := openBolt(t, filepath.Join(dir, "src.db")), openBolt(t, filepath.Join(dir, "dst.db"))
	fillSource(t, src)

	type batch struct{ keys, bytes int64 }
	var batches []batch
	var lastKeys, lastBytes int64
	rep, err := kv.Copy(ctx, dst, src, &kv.CopyOptions{Progress: func(keys int, size int64) {
		batches = append(batches, batch{int64(keys) - lastKeys, size - lastBytes})
		lastKeys, lastBytes = int64(keys), size
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Source.Digest != rep.Target.Digest || len(rep.Source.Digest) != 64 {
		t.Errorf("digests %s and %s", rep.Source.Digest, rep.Target.Digest)
	}
	want := []kv.BucketCount{
		{Name: "dead_letters", Sequence: 7}, {Name: "meta", Keys: 2}, {Name: "open_rfas", Keys: 300},
		{Name: "outbox_blobs", Keys: 3}, {Name: "rfas", Keys: 1200, Sequence: 1200},
	}
	if fmt.Sprint(rep.Source.Buckets) != fmt.Sprint(want) || fmt.Sprint(rep.Target.Buckets) != fmt.Sprint(want) {
		t.Errorf("buckets\nsource %v\ntarget %v\nwant   %v", rep.Source.Buckets, rep.Target.Buckets, want)
	}
	// The schema version is written twice: first as the placeholder.
	if rep.Source.Keys != 1505 || rep.Target.Keys != 1505 || lastKeys != 1505+1 || rep.Batches != len(batches) {
		t.Errorf("keys: source %d, target %d, written %d; batches %d, progress calls %d", rep.Source.Keys, rep.Target.Keys, lastKeys, rep.Batches, len(batches))
	}
	// Every batch is within the limits, but for the big value, alone.
	sawBig := false
	for i, b := range batches {
		switch {
		case b.bytes > kv.DefaultCopyBatchBytes && b.keys == 1:
			sawBig = true
		case b.keys > kv.DefaultCopyBatchKeys || b.bytes > kv.DefaultCopyBatchBytes:
			t.Errorf("batch %d: %d keys, %d bytes: over the limits", i, b.keys, b.bytes)
		}
	}
	if !sawBig || len(batches) < 5 {
		t.Errorf("%d batches, the 3 MiB value alone in one: %v", len(batches), sawBig)
	}

	// The target reads back as the source wrote it.
	err = dst.View(ctx, func(tx kv.Tx) error {
		blobs := tx.Bucket("outbox_blobs")
		if v := blobs.Get([]byte("empty")); v == nil || len(v) != 0 {
			t.Errorf("empty value = %v, want a non-nil empty slice", v)
		}
		if !bytes.Equal(blobs.Get([]byte("big")), bigValue) {
			t.Error("the 3 MiB value differs")
		}
		if v := tx.Bucket("open_rfas").Get(u64(300)); v == nil || len(v) != 0 {
			t.Errorf("a nil value put in the source = %v, want empty", v)
		}
		if s := tx.Bucket("rfas").Sequence(); s != 1200 {
			t.Errorf("rfas sequence %d", s)
		}
		if tx.Bucket("cursors") == nil {
			t.Error("the empty bucket was not created")
		}
		if v := tx.Bucket("meta").Get([]byte("schema_version")); !bytes.Equal(v, u64(10)) {
			t.Errorf("schema version %x", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Small batches give the same copy.
	dst2 := openBolt(t, filepath.Join(dir, "dst2.db"))
	rep2, err := kv.Copy(ctx, dst2, src, &kv.CopyOptions{BatchKeys: 7, BatchBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Target.Digest != rep.Target.Digest || rep2.Batches < 1505/7 {
		t.Errorf("small batches: digest %s vs %s, %d batches", rep2.Target.Digest, rep.Target.Digest, rep2.Batches)
	}
}

// Digest sees every value, sequence and bucket boundary, and ignores
// empty buckets.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	digest := func(name string, fill func(tx kv.Tx)) string {
		db := openBolt(t, filepath.Join(dir, name))
		if err := db.Update(ctx, func(tx kv.Tx) error { fill(tx); return nil }); err != nil {
			t.Fatal(err)
		}
		c, err := kv.Digest(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return c.Digest
	}
	put := func(tx kv.Tx, bucket, k, v string) {
		b, _ := tx.CreateBucketIfNotExists(bucket)
		b.Put([]byte(k), []byte(v))
	}
	base := digest("base", func(tx kv.Tx) { put(tx, "a", "k", "v"); put(tx, "b", "k2", "v2") })
	for name, fill := range map[string]func(kv.Tx){
		"another value":      func(tx kv.Tx) { put(tx, "a", "k", "w"); put(tx, "b", "k2", "v2") },
		"key and value join": func(tx kv.Tx) { put(tx, "a", "kv", ""); put(tx, "b", "k2", "v2") },
		"another bucket":     func(tx kv.Tx) { put(tx, "a", "k", "v"); put(tx, "c", "k2", "v2") },
		"one bucket":         func(tx kv.Tx) { put(tx, "a", "k", "v"); put(tx, "a", "k2", "v2") },
		"a sequence": func(tx kv.Tx) {
			put(tx, "a", "k", "v")
			put(tx, "b", "k2", "v2")
			tx.Bucket("b").SetSequence(1)
		},
		"a bucket with only a sequence": func(tx kv.Tx) {
			put(tx, "a", "k", "v")
			put(tx, "b", "k2", "v2")
			z, _ := tx.CreateBucketIfNotExists("z")
			z.SetSequence(1)
		},
	} {
		if d := digest(strings.ReplaceAll(name, " ", "-"), fill); d == base {
			t.Errorf("%s: same digest", name)
		}
	}
	if d := digest("with-empty", func(tx kv.Tx) {
		put(tx, "a", "k", "v")
		put(tx, "b", "k2", "v2")
		tx.CreateBucketIfNotExists("empty")
	}); d != base {
		t.Error("an empty bucket changed the digest")
	}
}

func TestCopyRefusesANonEmptyTarget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := openBolt(t, filepath.Join(dir, "src.db"))
	fillSource(t, src)
	for name, tc := range map[string]struct {
		fill func(kv.Tx)
		want string
	}{
		"keys": {func(tx kv.Tx) {
			b, _ := tx.CreateBucketIfNotExists("rfas")
			b.Put([]byte("a"), []byte("1"))
			b.Put([]byte("b"), nil)
		}, `target is not empty: bucket "rfas" has 2 keys`},
		"a sequence": {func(tx kv.Tx) {
			b, _ := tx.CreateBucketIfNotExists("outbox")
			b.SetSequence(3)
		}, `target is not empty: bucket "outbox" has sequence 3`},
	} {
		t.Run(name, func(t *testing.T) {
			dst := openBolt(t, filepath.Join(t.TempDir(), "dst.db"))
			if err := dst.Update(ctx, func(tx kv.Tx) error { tc.fill(tx); return nil }); err != nil {
				t.Fatal(err)
			}
			before, _ := kv.Digest(ctx, dst)
			_, err := kv.Copy(ctx, dst, src, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if after, _ := kv.Digest(ctx, dst); after.Digest != before.Digest {
				t.Error("the refused target was written")
			}
		})
	}
	// Empty buckets are no content: a target with them is taken.
	dst := openBolt(t, filepath.Join(dir, "empty-buckets.db"))
	dst.Update(ctx, func(tx kv.Tx) error { _, err := tx.CreateBucketIfNotExists("rfas"); return err })
	if _, err := kv.Copy(ctx, dst, src, nil); err != nil {
		t.Errorf("a target with only empty buckets: %v", err)
	}
}

// A copy cancelled half-way leaves a target that the store refuses to
// open and a second copy refuses to overwrite, both naming why.
func TestCopyInterrupted(t *testing.T) {
	dir := t.TempDir()
	src := openBolt(t, filepath.Join(dir, "src.db"))
	fillSource(t, src)
	dstPath := filepath.Join(dir, "dst.db")
	dst := openBolt(t, dstPath)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls, cancelledAt := 0, 0
	rep, err := kv.Copy(ctx, dst, src, &kv.CopyOptions{BatchKeys: 100, Progress: func(keys int, _ int64) {
		// Buckets go in name order: rfas, last, is being copied.
		if calls++; keys > 800 && cancelledAt == 0 {
			cancelledAt = calls
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "partial copy") {
		t.Fatalf("cancelled copy: %v", err)
	}
	if rep.Batches != cancelledAt {
		t.Errorf("%d batches written after cancelling at batch %d", rep.Batches, cancelledAt)
	}
	err = dst.View(context.Background(), func(tx kv.Tx) error {
		if v := tx.Bucket("meta").Get([]byte("schema_version")); string(v) != kv.IncompleteCopyMarker {
			t.Errorf("schema version of the partial copy = %q", v)
		}
		if n := tx.Bucket("rfas").KeyN(); n == 0 || n == 1200 {
			t.Errorf("%d of 1200 records copied: not a partial copy", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = kv.Copy(context.Background(), dst, src, nil)
	if err == nil || !strings.Contains(err.Error(), "the target holds an interrupted copy") {
		t.Errorf("copy onto the partial copy: %v", err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dstPath, &store.Options{NoSync: true})
	if err == nil {
		st.Close()
		t.Fatal("the store opened a partial copy")
	}
	if !strings.Contains(err.Error(), "bad schema version") {
		t.Errorf("the store's refusal: %v", err)
	}
}

// A source written after its snapshot was taken does not verify.
func TestCopyDetectsASourceWrittenDuringTheCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, dst := openBolt(t, filepath.Join(dir, "src.db")), openBolt(t, filepath.Join(dir, "dst.db"))
	fillSource(t, src)
	wrote := false
	_, err := kv.Copy(ctx, dst, src, &kv.CopyOptions{Progress: func(int, int64) {
		if wrote {
			return
		}
		wrote = true
		err := src.Update(ctx, func(tx kv.Tx) error {
			return tx.Bucket("rfas").Put(u64(1201), []byte(`{"number":1201}`))
		})
		if err != nil {
			t.Error(err)
		}
	}})
	if err == nil || !strings.Contains(err.Error(), `bucket "rfas": source has 1201 keys and sequence 1200, target 1200 and 1200`) ||
		!strings.Contains(err.Error(), "digest: source") {
		t.Errorf("copy of a source written meanwhile: %v", err)
	}
}

// With Live, a source written during the copy (an etcd store whose
// instances keep running) is copied and verified as of the snapshot the
// copy read: the write after it is neither copied nor a mismatch.
func TestCopyLiveVerifiesAgainstTheSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, dst := openBolt(t, filepath.Join(dir, "src.db")), openBolt(t, filepath.Join(dir, "dst.db"))
	fillSource(t, src)
	before, err := kv.Digest(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	wrote := false
	rep, err := kv.Copy(ctx, dst, src, &kv.CopyOptions{Live: true, Progress: func(int, int64) {
		if wrote {
			return
		}
		wrote = true
		err := src.Update(ctx, func(tx kv.Tx) error {
			return tx.Bucket("rfas").Put(u64(1201), []byte(`{"number":1201}`))
		})
		if err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatalf("live copy: %v", err)
	}
	if !wrote {
		t.Fatal("nothing was written during the copy: the test proves nothing")
	}
	if rep.Source.Digest != before.Digest || rep.Target.Digest != before.Digest {
		t.Errorf("live copy digests: source %s target %s, want the snapshot's %s", rep.Source.Digest, rep.Target.Digest, before.Digest)
	}
	after, _ := kv.Digest(ctx, src)
	if after.Digest == before.Digest {
		t.Error("the write during the copy did not reach the source")
	}
}
