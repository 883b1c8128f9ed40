package kv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"rfadesk/store/kv"
)

// subject is one database under test, fresh for each conformance case.
type subject struct {
	db kv.DB
	// chunkKeys lists the raw etcd keys holding chunks of large values
	// under the database's prefix; nil for drivers without chunks.
	chunkKeys func(t *testing.T) []string
}

// opener returns a fresh, empty database for one test.
type opener func(t *testing.T) subject

// conformance is the behaviour both drivers must share. Each case gets a
// fresh database.
var conformance = []struct {
	name string
	run  func(t *testing.T, s subject)
}{
	{"KeysAreInByteOrder", testByteOrder},
	{"AbsentAndEmptyValues", testAbsentAndEmpty},
	{"CursorEdgesAndPages", testCursorEdges},
	{"WritesAreSeenBeforeCommit", testOverlay},
	{"DeleteWhileIterating", testDeleteWhileIterating},
	{"Sequences", testSequences},
	{"RollbackOnError", testRollbackOnError},
	{"RollbackOnPanic", testRollbackOnPanic},
	{"ViewIsReadOnly", testReadOnly},
	{"Buckets", testBuckets},
	{"LargeValueLeavesNoChunks", testLargeValue},
	{"ManyMidSizeValues", testManyMidSizeValues},
	{"CanceledContext", testCanceledContext},
}

func runConformance(t *testing.T, open opener) {
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

func TestBoltConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) subject {
		bdb, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		db := kv.NewBolt(bdb)
		t.Cleanup(func() { db.Close() })
		return subject{db: db}
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustUpdate(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.Update(testCtx(t), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func mustView(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.View(testCtx(t), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func mustBucket(t *testing.T, tx kv.Tx, name string) kv.Bucket {
	t.Helper()
	if tx.Writable() {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			t.Fatalf("create bucket %q: %v", name, err)
		}
		return b
	}
	b := tx.Bucket(name)
	if b == nil {
		t.Fatalf("bucket %q missing", name)
	}
	return b
}

func mustPut(t *testing.T, b kv.Bucket, k, v string) {
	t.Helper()
	if err := b.Put([]byte(k), []byte(v)); err != nil {
		t.Fatalf("put %q: %v", k, err)
	}
}

func testByteOrder(t *testing.T, s subject) {
	keys := []string{"\x00", "\x00\x00", "\x01", "a", "a\x00", "a\x00b", "ab", "\xff", "\xff\xff", "\xff\xff\x00"}
	shuffled := slices.Clone(keys)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// Half committed first, half written in the tx that reads them.
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "order")
		for _, k := range shuffled[:5] {
			mustPut(t, b, k, "v"+k)
		}
		return nil
	})
	var want []string
	for _, k := range keys {
		want = append(want, fmt.Sprintf("%q=%q", k, "v"+k))
	}
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "order")
		for _, k := range shuffled[5:] {
			mustPut(t, b, k, "v"+k)
		}
		if got := forward(t, b); !slices.Equal(got, want) {
			t.Errorf("in the writing tx: forward %v, want %v", got, want)
		}
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "order")
		if got := forward(t, b); !slices.Equal(got, want) {
			t.Errorf("forward %v, want %v", got, want)
		}
		if got := backward(b); !slices.Equal(got, reversed(want)) {
			t.Errorf("backward %v, want %v", got, reversed(want))
		}
		if k, _ := b.Cursor().Seek([]byte("a\x00")); string(k) != "a\x00" {
			t.Errorf("Seek(a\\x00) = %q", k)
		}
		if k, _ := b.Cursor().Seek([]byte("\xff\x00")); string(k) != "\xff\xff" {
			t.Errorf("Seek(\\xff\\x00) = %q", k)
		}
		return nil
	})
}

func testAbsentAndEmpty(t *testing.T, s subject) {
	check := func(b kv.Bucket, where string) {
		t.Helper()
		for _, k := range []string{"empty", "nil"} {
			if v := b.Get([]byte(k)); v == nil || len(v) != 0 {
				t.Errorf("%s: Get(%s) = %#v, want a non-nil empty value", where, k, v)
			}
		}
		if v := b.Get([]byte("absent")); v != nil {
			t.Errorf("%s: Get(absent) = %#v, want nil", where, v)
		}
		if v := b.Get(nil); v != nil {
			t.Errorf("%s: Get(nil) = %#v, want nil", where, v)
		}
		c := b.Cursor()
		if k, v := c.Seek([]byte("empty")); string(k) != "empty" || v == nil || len(v) != 0 {
			t.Errorf("%s: Seek(empty) = %q, %#v", where, k, v)
		}
	}
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		mustPut(t, b, "empty", "")
		if err := b.Put([]byte("nil"), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(nil, []byte("x")); !errors.Is(err, kv.ErrEmptyKey) {
			t.Errorf("Put(empty key) = %v, want ErrEmptyKey", err)
		}
		check(b, "writing tx")
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		check(mustBucket(t, tx, "b"), "view")
		return nil
	})
}

func testSequences(t *testing.T, s subject) {
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		a, b := mustBucket(t, tx, "a"), mustBucket(t, tx, "b")
		if a.Sequence() != 0 {
			t.Errorf("new bucket sequence = %d", a.Sequence())
		}
		for want := uint64(1); want <= 3; want++ {
			if n, err := a.NextSequence(); err != nil || n != want {
				t.Errorf("NextSequence = %d, %v; want %d", n, err, want)
			}
		}
		if err := b.SetSequence(100); err != nil {
			t.Fatal(err)
		}
		if a.Sequence() != 3 || b.Sequence() != 100 {
			t.Errorf("sequences %d, %d", a.Sequence(), b.Sequence())
		}
		return nil
	})
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		if n, err := b.NextSequence(); err != nil || n != 101 {
			t.Errorf("NextSequence after SetSequence(100) = %d, %v", n, err)
		}
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		if a, b := tx.Bucket("a").Sequence(), tx.Bucket("b").Sequence(); a != 3 || b != 101 {
			t.Errorf("committed sequences %d, %d; want 3, 101", a, b)
		}
		return nil
	})
}

// seedForRollback commits one key and sequence 5 in bucket b.
func seedForRollback(t *testing.T, s subject) {
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		mustPut(t, b, "kept", "1")
		return b.SetSequence(5)
	})
}

// checkRolledBack asserts that a failed Update kept nothing of its writes.
func checkRolledBack(t *testing.T, s subject) {
	t.Helper()
	mustView(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		if got := forward(t, b); !slices.Equal(got, []string{`"kept"="1"`}) {
			t.Errorf("content after rollback: %v", got)
		}
		if b.Sequence() != 5 {
			t.Errorf("sequence after rollback = %d, want 5", b.Sequence())
		}
		if tx.Bucket("other") != nil {
			t.Error("a bucket created by the rolled-back tx exists")
		}
		return nil
	})
}

func rollbackWrites(t *testing.T, tx kv.Tx) {
	b := mustBucket(t, tx, "b")
	mustPut(t, b, "lost", big(200<<10, 1)) // a chunked value on etcd
	mustPut(t, b, "kept", "changed")
	if _, err := b.NextSequence(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, mustBucket(t, tx, "other"), "x", "y")
}

func testRollbackOnError(t *testing.T, s subject) {
	seedForRollback(t, s)
	errBoom := errors.New("boom")
	err := s.db.Update(testCtx(t), func(tx kv.Tx) error {
		rollbackWrites(t, tx)
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	checkRolledBack(t, s)
}

func testRollbackOnPanic(t *testing.T, s subject) {
	seedForRollback(t, s)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = s.db.Update(testCtx(t), func(tx kv.Tx) error {
			rollbackWrites(t, tx)
			panic("boom")
		})
	}()
	checkRolledBack(t, s)
	// The panic released the writer: another Update runs.
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		mustPut(t, mustBucket(t, tx, "b"), "after", "1")
		return nil
	})
}

func testReadOnly(t *testing.T, s subject) {
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		if !tx.Writable() {
			t.Error("Update's tx is not writable")
		}
		mustPut(t, mustBucket(t, tx, "b"), "k", "v")
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		if tx.Writable() {
			t.Error("View's tx is writable")
		}
		b := tx.Bucket("b")
		c := b.Cursor()
		c.First()
		_, errSeq := b.NextSequence()
		_, errCreate := tx.CreateBucketIfNotExists("c")
		for name, err := range map[string]error{
			"Put": b.Put([]byte("k"), []byte("x")), "Delete": b.Delete([]byte("k")),
			"SetSequence": b.SetSequence(9), "NextSequence": errSeq,
			"CreateBucketIfNotExists": errCreate, "Cursor.Delete": c.Delete(),
		} {
			if !errors.Is(err, kv.ErrReadOnly) {
				t.Errorf("%s in a View = %v, want ErrReadOnly", name, err)
			}
		}
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		if v := tx.Bucket("b").Get([]byte("k")); string(v) != "v" {
			t.Errorf("k = %q after the View's refused writes", v)
		}
		return nil
	})
}

func listBuckets(t *testing.T, tx kv.Tx) []string {
	t.Helper()
	var names []string
	if err := tx.ForEachBucket(func(name string, b kv.Bucket) error {
		if b == nil {
			t.Errorf("ForEachBucket handed a nil bucket for %q", name)
		}
		names = append(names, name)
		return nil
	}); err != nil {
		t.Fatalf("ForEachBucket: %v", err)
	}
	return names
}

func testBuckets(t *testing.T, s subject) {
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		if tx.Bucket("m") != nil {
			t.Error("Bucket(m) exists before creation")
		}
		if _, err := tx.CreateBucketIfNotExists(""); err == nil {
			t.Error("a bucket with an empty name was created")
		}
		for _, name := range []string{"m", "a/b", "Z"} {
			mustBucket(t, tx, name)
		}
		mustPut(t, mustBucket(t, tx, "m"), "k", "1") // the same bucket again
		if v := tx.Bucket("m").Get([]byte("k")); string(v) != "1" {
			t.Errorf("Bucket(m) after a second create: k = %q", v)
		}
		return nil
	})
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		for _, name := range []string{"b", "zz", "a"} {
			mustBucket(t, tx, name)
		}
		want := []string{"Z", "a", "a/b", "b", "m", "zz"}
		if got := listBuckets(t, tx); !slices.Equal(got, want) {
			t.Errorf("ForEachBucket in the creating tx: %v, want %v", got, want)
		}
		stop := errors.New("stop")
		n := 0
		if err := tx.ForEachBucket(func(string, kv.Bucket) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Errorf("ForEachBucket returned %v after %d calls; want fn's error after 1", err, n)
		}
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		want := []string{"Z", "a", "a/b", "b", "m", "zz"}
		if got := listBuckets(t, tx); !slices.Equal(got, want) {
			t.Errorf("ForEachBucket: %v, want %v", got, want)
		}
		if v := tx.Bucket("m").Get([]byte("k")); string(v) != "1" {
			t.Errorf("m/k = %q", v)
		}
		return nil
	})
}

// big returns n bytes of deterministic noise.
func big(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

func testLargeValue(t *testing.T, s subject) {
	const size = 5 << 20
	v1, v2 := big(size, 1), big(size, 2)
	checkChunks := func(when string, want int) {
		t.Helper()
		if s.chunkKeys == nil {
			return
		}
		if got := len(s.chunkKeys(t)); got != want {
			t.Errorf("%s: %d chunk keys in etcd, want %d", when, got, want)
		}
	}
	get := func(key string) string {
		var v string
		mustView(t, s.db, func(tx kv.Tx) error {
			v = string(tx.Bucket("b").Get([]byte(key)))
			k, cv := tx.Bucket("b").Cursor().Seek([]byte(key))
			if string(k) == key && string(cv) != v {
				t.Errorf("the cursor's value of %q differs from Get's", key)
			}
			return nil
		})
		return v
	}
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		mustPut(t, b, "big", v1)
		mustPut(t, b, "small", "s")
		if got := string(b.Get([]byte("big"))); got != v1 {
			t.Error("the pending 5 MiB value reads back different")
		}
		return nil
	})
	if get("big") != v1 {
		t.Fatal("the 5 MiB value did not round-trip")
	}
	checkChunks("after the first write", 10)
	mustUpdate(t, s.db, func(tx kv.Tx) error { return tx.Bucket("b").Put([]byte("big"), []byte(v2)) })
	if get("big") != v2 {
		t.Fatal("the second 5 MiB value did not round-trip")
	}
	checkChunks("after overwriting by another large value", 10)
	mustUpdate(t, s.db, func(tx kv.Tx) error { return tx.Bucket("b").Put([]byte("big"), []byte("tiny")) })
	if got := get("big"); got != "tiny" {
		t.Fatalf("after overwrite: %d bytes", len(got))
	}
	checkChunks("after overwriting by a small value", 0)
	mustUpdate(t, s.db, func(tx kv.Tx) error { return tx.Bucket("b").Put([]byte("big"), []byte(v1)) })
	checkChunks("after writing it again", 10)
	mustUpdate(t, s.db, func(tx kv.Tx) error { return tx.Bucket("b").Delete([]byte("big")) })
	if get("big") != "" || get("small") != "s" {
		t.Fatal("after delete: big is still there or small is gone")
	}
	checkChunks("after deleting it", 0)
}

// testManyMidSizeValues commits 3 MiB in 30 values above InlineMax, then
// 3 MiB in 50 values below it, which must still not go in one request.
func testManyMidSizeValues(t *testing.T, s subject) {
	for _, c := range []struct{ n, size int }{{30, 100 << 10}, {50, 60 << 10}} {
		mustUpdate(t, s.db, func(tx kv.Tx) error {
			b := mustBucket(t, tx, fmt.Sprint(c.size))
			for i := range c.n {
				mustPut(t, b, fmt.Sprintf("k%02d", i), big(c.size, uint64(i)))
			}
			return nil
		})
		mustView(t, s.db, func(tx kv.Tx) error {
			b := tx.Bucket(fmt.Sprint(c.size))
			i, cur := 0, b.Cursor()
			for k, v := cur.First(); k != nil; k, v = cur.Next() {
				if string(v) != big(c.size, uint64(i)) {
					t.Errorf("%d-byte value %s differs", c.size, k)
				}
				i++
			}
			if i != c.n {
				t.Errorf("%d values of %d bytes read back, want %d", i, c.size, c.n)
			}
			return nil
		})
	}
}

func testCanceledContext(t *testing.T, s subject) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	fn := func(kv.Tx) error { called = true; return nil }
	if err := s.db.Update(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context = %v", err)
	}
	if err := s.db.View(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context = %v", err)
	}
	if called {
		t.Error("fn ran under a canceled context")
	}
}
