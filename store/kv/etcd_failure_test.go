package kv_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rfadesk/store/kv"
)

// Failures inside transactions: reads that fail, contexts that end,
// members that die. Run by TestEtcd.

func testMissingChunk(t *testing.T, e *etcdEnv) {
	db := e.open(t, &kv.EtcdOptions{InlineMax: 1 << 10, ChunkSize: 4 << 10})
	mustUpdate(t, db, func(tx kv.Tx) error {
		b, _ := tx.CreateBucketIfNotExists("b")
		return b.Put([]byte("big"), []byte(big(16<<10, 3)))
	})
	chunks := e.keys(t, db.Prefix()+"c/")
	if len(chunks) != 4 {
		t.Fatalf("%d chunks, want 4", len(chunks))
	}
	if _, err := e.cli.Delete(testCtx(t), chunks[2]); err != nil {
		t.Fatal(err)
	}
	var got []byte
	err := db.View(testCtx(t), func(tx kv.Tx) error {
		got = tx.Bucket("b").Get([]byte("big"))
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "chunk 2") || got != nil {
		t.Fatalf("View of a value missing a chunk = %v (value %d bytes); want an error naming chunk 2", err, len(got))
	}
	// The same failed read inside an Update: fn carries on and returns
	// nil, and the Update returns the read's error and commits nothing,
	// though etcd is reachable.
	err = db.Update(testCtx(t), func(tx kv.Tx) error {
		b := tx.Bucket("b")
		mustPut(t, b, "before-the-failure", "v")
		if v := b.Get([]byte("big")); v != nil {
			t.Error("a failed read returned a value")
		}
		if err := b.Put([]byte("after-the-failure"), []byte("v")); err == nil {
			t.Error("Put after a failed read succeeded")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "chunk 2") {
		t.Fatalf("Update whose read failed = %v, want the read's error", err)
	}
	mustView(t, db, func(tx kv.Tx) error {
		if tx.Bucket("b").Get([]byte("before-the-failure")) != nil {
			t.Error("an Update whose read failed committed")
		}
		return nil
	})
}

func testCancelInsideUpdate(t *testing.T, e *etcdEnv) {
	db := e.open(t, nil)
	mustUpdate(t, db, putKeys(2, "v"))
	ctx, cancel := context.WithCancel(testCtx(t))
	err := db.Update(ctx, func(tx kv.Tx) error {
		b := tx.Bucket("b")
		mustPut(t, b, "new", "v")
		cancel()
		if v := b.Get([]byte("k00001")); v != nil {
			t.Errorf("a read after cancel returned %q", v)
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update canceled inside fn = %v, want context.Canceled", err)
	}
	mustView(t, db, func(tx kv.Tx) error {
		if tx.Bucket("b").Get([]byte("new")) != nil {
			t.Error("the canceled Update committed")
		}
		return nil
	})
}

// testMemberDies runs transactions through a client of one member and
// kills that member in the middle: reads fail, the error is sticky and
// returned, and nothing is committed.
func testMemberDies(t *testing.T, e *etcdEnv) {
	const victim = 2
	single, err := clientv3.New(clientv3.Config{Endpoints: []string{e.cluster.Endpoint(victim)}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	db := e.openWith(t, single, &kv.EtcdOptions{PageSize: 3})
	mustUpdate(t, db, putKeys(10, "v"))
	restart := func() {
		t.Helper()
		e.cluster.Restart(victim)
		ctx := testCtx(t)
		for {
			if _, err := single.Get(ctx, "ready"); err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("member %d did not come back", victim)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	shortCtx := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		t.Cleanup(cancel)
		return ctx
	}

	t.Run("View", func(t *testing.T) {
		var afterKill []byte
		err := db.View(shortCtx(), func(tx kv.Tx) error {
			b := tx.Bucket("b")
			if k, _ := b.Cursor().First(); k == nil {
				t.Fatal("the first read failed")
			}
			e.cluster.Kill(victim)
			afterKill = b.Get([]byte("k00007"))
			if k, _ := b.Cursor().First(); k != nil {
				t.Error("a cursor moved after a failed read")
			}
			return nil
		})
		restart()
		if err == nil || afterKill != nil {
			t.Fatalf("View = %v with a read of %q after the kill; want the read's error", err, afterKill)
		}
	})
	t.Run("UpdateReadFails", func(t *testing.T) {
		err := db.Update(shortCtx(), func(tx kv.Tx) error {
			b := tx.Bucket("b")
			mustPut(t, b, "lost", "v")
			e.cluster.Kill(victim)
			b.Get([]byte("k00003"))
			return nil
		})
		restart()
		if err == nil {
			t.Fatal("an Update whose read failed returned nil")
		}
	})
	t.Run("CommitFails", func(t *testing.T) {
		err := db.Update(shortCtx(), func(tx kv.Tx) error {
			b := tx.Bucket("b")
			mustPut(t, b, "lost-at-commit", "v")
			e.cluster.Kill(victim)
			return nil
		})
		restart()
		if !errors.Is(err, kv.ErrCommitUnknown) {
			t.Fatalf("an Update whose commit could not reach etcd = %v, want ErrCommitUnknown", err)
		}
	})
	mustView(t, db, func(tx kv.Tx) error {
		for _, k := range []string{"lost", "lost-at-commit"} {
			if tx.Bucket("b").Get([]byte(k)) != nil {
				t.Errorf("%s was committed", k)
			}
		}
		return nil
	})
}
