package kv_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rfadesk/store/kv"
	"rfadesk/store/kv/etcdtest"
)

// TestEtcd runs every etcd test on one cluster (a cluster takes seconds
// to start); each test has its own key prefix. The tests that kill a
// member run last.
func TestEtcd(t *testing.T) {
	cluster := etcdtest.Start(t, nil)
	e := &etcdEnv{cluster: cluster, cli: cluster.Client(t)}
	t.Run("Conformance", func(t *testing.T) {
		runConformance(t, func(t *testing.T) subject {
			db := e.open(t, &kv.EtcdOptions{PageSize: 3})
			return subject{db: db, chunkKeys: func(t *testing.T) []string { return e.keys(t, db.Prefix()+"c/") }}
		})
	})
	for _, c := range []struct {
		name string
		run  func(t *testing.T, e *etcdEnv)
	}{
		{"BucketsInOneMarkerPage", func(t *testing.T, e *etcdEnv) { testBuckets(t, subject{db: e.open(t, nil)}) }},
		{"MaxTxnOpsRefusesBeforeSending", testMaxTxnOps},
		{"ServerRefusalIsNotAmbiguous", testServerRefusal},
		{"FenceRefusesADeposedLeader", testFence},
		{"FenceLostBetweenChunks", testFenceLostMidCommit},
		{"RequireFenceWithoutFence", testRequireFence},
		{"WritesDuringIteration", testWritesDuringIteration},
		{"ViewSeesOneRevision", testSnapshot},
		{"MissingChunkIsAnError", testMissingChunk},
		{"ContextCanceledInsideUpdate", testCancelInsideUpdate},
		{"CloseLeavesTheClientOpen", testClose},
		{"MemberDiesMidTransaction", testMemberDies},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, e) })
	}
}

type etcdEnv struct {
	cluster *etcdtest.Cluster
	cli     *clientv3.Client
	n       atomic.Int64
}

// prefix returns a key prefix no other test uses.
func (e *etcdEnv) prefix() string { return fmt.Sprintf("/kvtest/%d/", e.n.Add(1)) }

// open returns a driver on a fresh prefix over the shared client (or
// opts.Prefix when set).
func (e *etcdEnv) open(t *testing.T, opts *kv.EtcdOptions) *kv.Etcd {
	return e.openWith(t, e.cli, opts)
}

func (e *etcdEnv) openWith(t *testing.T, cli *clientv3.Client, opts *kv.EtcdOptions) *kv.Etcd {
	var o kv.EtcdOptions
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = e.prefix()
	}
	db := kv.NewEtcd(cli, &o)
	t.Cleanup(func() { db.Close() })
	return db
}

// keys lists the raw keys under prefix.
func (e *etcdEnv) keys(t *testing.T, prefix string) []string {
	t.Helper()
	return slices.Sorted(maps.Keys(e.raw(t, prefix)))
}

// raw returns every key and value under prefix.
func (e *etcdEnv) raw(t *testing.T, prefix string) map[string]string {
	t.Helper()
	resp, err := e.cli.Get(testCtx(t), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("raw read: %v", err)
	}
	m := make(map[string]string)
	for _, kv := range resp.Kvs {
		m[string(kv.Key)] = string(kv.Value)
	}
	return m
}

func putKeys(n int, value string) func(kv.Tx) error {
	return func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists("b")
		if err != nil {
			return err
		}
		for i := range n {
			if err := b.Put(fmt.Appendf(nil, "k%05d", i), []byte(value)); err != nil {
				return err
			}
		}
		return nil
	}
}

func testMaxTxnOps(t *testing.T, e *etcdEnv) {
	db := e.open(t, &kv.EtcdOptions{MaxTxnOps: 10})
	// 1 bucket marker + 2 per put: 5 puts fit, 6 do not.
	mustUpdate(t, db, putKeys(4, "v"))
	err := db.Update(testCtx(t), putKeys(6, "v"))
	if err == nil || !strings.Contains(err.Error(), "--max-txn-ops") || !strings.Contains(err.Error(), "12 etcd operations") {
		t.Fatalf("Update of 12 ops with MaxTxnOps 10 = %v; want a refusal naming --max-txn-ops", err)
	}
	mustView(t, db, func(tx kv.Tx) error {
		if n := tx.Bucket("b").KeyN(); n != 4 {
			t.Errorf("KeyN = %d after the refused commit, want 4", n)
		}
		return nil
	})
}

// A driver allowed more operations than the cluster gets etcd's refusal,
// reported as definite, not as an unknown outcome.
func testServerRefusal(t *testing.T, e *etcdEnv) {
	db := e.open(t, &kv.EtcdOptions{MaxTxnOps: 20000})
	// 8404 ops, the cluster allows 8192; the large value's chunks are
	// written first, then deleted when etcd refuses the main Txn.
	err := db.Update(testCtx(t), func(tx kv.Tx) error {
		if err := putKeys(4200, "v")(tx); err != nil {
			return err
		}
		return tx.Bucket("b").Put([]byte("big"), []byte(big(2<<20, 5)))
	})
	if err == nil || errors.Is(err, kv.ErrCommitUnknown) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Update over the cluster's --max-txn-ops = %v; want a definite refusal", err)
	}
	if keys := e.keys(t, db.Prefix()); len(keys) != 0 {
		t.Errorf("%d keys written by a refused commit", len(keys))
	}
}

func testFence(t *testing.T, e *etcdEnv) {
	ctx := testCtx(t)
	fenceKey := e.prefix() + "leader"
	lease, err := e.cli.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	put, err := e.cli.Put(ctx, fenceKey, "instance-1", clientv3.WithLease(lease.ID))
	if err != nil {
		t.Fatal(err)
	}
	db := e.open(t, &kv.EtcdOptions{RequireFence: true, InlineMax: 1 << 10, ChunkSize: 4 << 10})
	db.SetFence(kv.Fence{Key: fenceKey, Rev: put.Header.Revision})
	write := func(key string) func(kv.Tx) error {
		return func(tx kv.Tx) error {
			b, err := tx.CreateBucketIfNotExists("b")
			if err != nil {
				return err
			}
			if err := b.Put([]byte(key), []byte("small")); err != nil {
				return err
			}
			return b.Put([]byte(key+"-big"), []byte(big(20<<10, 7))) // 5 chunk Txns
		}
	}
	mustUpdate(t, db, write("while-leading"))
	before := e.raw(t, db.Prefix())
	// A deposed leader writes nothing at all: not even chunks it would
	// delete again. No other test writes meanwhile, so etcd's revision
	// must not move.
	revision := func() int64 {
		resp, err := e.cli.Get(ctx, "any")
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	refused := func(when string) {
		t.Helper()
		rev := revision()
		if err := db.Update(ctx, write("deposed")); !errors.Is(err, kv.ErrNotLeader) {
			t.Fatalf("%s: Update = %v, want ErrNotLeader", when, err)
		}
		if after := revision(); after != rev {
			t.Errorf("%s: a refused commit wrote to etcd (revision %d -> %d)", when, rev, after)
		}
		if after := e.raw(t, db.Prefix()); !maps.Equal(before, after) {
			t.Fatalf("%s: a refused commit changed the keyspace: %d keys before, %d after", when, len(before), len(after))
		}
	}
	if _, err := e.cli.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	refused("after the lease was revoked")
	again, err := e.cli.Put(ctx, fenceKey, "instance-2")
	if err != nil {
		t.Fatal(err)
	}
	refused("after another instance created the key again")
	db.SetFence(kv.Fence{Key: fenceKey, Rev: again.Header.Revision})
	mustUpdate(t, db, write("leading-again"))
	mustView(t, db, func(tx kv.Tx) error {
		b := tx.Bucket("b")
		if b.Get([]byte("deposed")) != nil || b.Get([]byte("leading-again")) == nil {
			t.Error("the deposed write is there or the new leader's is not")
		}
		return nil
	})
}

// testFenceLostMidCommit takes the fence away as soon as the first chunk
// of a 10-chunk value is in etcd: the commit is refused and the chunks
// already written are deleted again.
func testFenceLostMidCommit(t *testing.T, e *etcdEnv) {
	ctx := testCtx(t)
	fenceKey := e.prefix() + "leader"
	put, err := e.cli.Put(ctx, fenceKey, "instance-1")
	if err != nil {
		t.Fatal(err)
	}
	db := e.open(t, &kv.EtcdOptions{RequireFence: true, ChunkSize: 1 << 20})
	db.SetFence(kv.Fence{Key: fenceKey, Rev: put.Header.Revision})
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	events := e.cli.Watch(watchCtx, db.Prefix()+"c/", clientv3.WithPrefix())
	deposed := make(chan error, 1)
	go func() {
		for resp := range events {
			if len(resp.Events) > 0 {
				_, err := e.cli.Delete(watchCtx, fenceKey)
				deposed <- err
				return
			}
		}
		deposed <- errors.New("watch ended before a chunk was written")
	}()
	err = db.Update(ctx, func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists("b")
		if err != nil {
			return err
		}
		return b.Put([]byte("big"), []byte(big(10<<20, 11)))
	})
	if werr := <-deposed; werr != nil {
		t.Fatal(werr)
	}
	if err == nil {
		t.Skip("every chunk Txn finished before the fence was deleted; the interruption was not tested")
	}
	if !errors.Is(err, kv.ErrNotLeader) {
		t.Fatalf("Update = %v, want ErrNotLeader", err)
	}
	if keys := e.keys(t, db.Prefix()); len(keys) != 0 {
		t.Errorf("%d keys left by a commit refused between its chunks", len(keys))
	}
}

func testRequireFence(t *testing.T, e *etcdEnv) {
	db := e.open(t, &kv.EtcdOptions{RequireFence: true})
	if err := db.Update(testCtx(t), putKeys(1, "v")); !errors.Is(err, kv.ErrNotLeader) {
		t.Fatalf("Update without a fence = %v, want ErrNotLeader", err)
	}
	// An Update that writes nothing needs no fence.
	mustUpdate(t, db, func(tx kv.Tx) error { tx.Bucket("b"); return nil })
	if keys := e.keys(t, db.Prefix()); len(keys) != 0 {
		t.Errorf("keys written without a fence: %q", keys)
	}
}

// The etcd cursor follows its key, so writes during iteration behave as
// they read: Next after Delete is the next key (bbolt skips one), a key
// put ahead is met, a value put on the current key is seen.
func testWritesDuringIteration(t *testing.T, e *etcdEnv) {
	db := e.open(t, &kv.EtcdOptions{PageSize: 3})
	mustUpdate(t, db, putKeys(10, "v"))
	mustUpdate(t, db, func(tx kv.Tx) error {
		b := tx.Bucket("b")
		c := b.Cursor()
		var seen []string
		for k, v := c.First(); k != nil; k, v = c.Next() {
			seen = append(seen, string(k)+"="+string(v))
			switch string(k) {
			case "k00002", "k00003", "k00004":
				if err := c.Delete(); err != nil {
					return err
				}
			case "k00005":
				mustPut(t, b, "k00005", "changed")
				mustPut(t, b, "k00007a", "added")
			}
		}
		want := []string{"k00000=v", "k00001=v", "k00002=v", "k00003=v", "k00004=v", "k00005=v",
			"k00006=v", "k00007=v", "k00007a=added", "k00008=v", "k00009=v"}
		if !slices.Equal(seen, want) {
			t.Errorf("walk saw %v\nwant %v", seen, want)
		}
		if v := b.Get([]byte("k00005")); string(v) != "changed" {
			t.Errorf("k00005 = %q", v)
		}
		if n := b.KeyN(); n != 8 {
			t.Errorf("KeyN = %d, want 8", n)
		}
		return nil
	})
}

// A View walking page by page keeps seeing its revision while another
// instance commits.
func testSnapshot(t *testing.T, e *etcdEnv) {
	db := e.open(t, &kv.EtcdOptions{PageSize: 3})
	other := e.open(t, &kv.EtcdOptions{Prefix: db.Prefix()})
	mustUpdate(t, db, putKeys(10, "v"))
	var seen []string
	mustView(t, db, func(tx kv.Tx) error {
		c := tx.Bucket("b").Cursor()
		k, _ := c.First()
		mustUpdate(t, other, func(tx kv.Tx) error {
			b := tx.Bucket("b")
			mustPut(t, b, "k00005", "changed")
			mustPut(t, b, "k00005a", "added")
			return b.Delete([]byte("k00008"))
		})
		for ; k != nil; k, _ = c.Next() {
			seen = append(seen, string(k))
		}
		if v := tx.Bucket("b").Get([]byte("k00005")); string(v) != "v" {
			t.Errorf("Get in the old snapshot = %q", v)
		}
		return nil
	})
	if len(seen) != 10 || slices.Contains(seen, "k00005a") {
		t.Errorf("the View saw %v, want the 10 keys of its revision", seen)
	}
}

func testClose(t *testing.T, e *etcdEnv) {
	db := e.open(t, nil)
	mustUpdate(t, db, putKeys(1, "v"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(testCtx(t), putKeys(1, "v")); err == nil {
		t.Error("Update after Close succeeded")
	}
	if err := db.View(testCtx(t), func(kv.Tx) error { return nil }); err == nil {
		t.Error("View after Close succeeded")
	}
	if _, err := e.cli.Get(testCtx(t), "x"); err != nil {
		t.Errorf("the client is unusable after Close: %v", err)
	}
}
