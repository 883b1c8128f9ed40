package kv_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"rfadesk/store"
	"rfadesk/store/kv"
	"rfadesk/store/kv/etcdtest"
)

// Copy moves a store-like database from bbolt to a real etcd cluster and
// back: chunked values, empty values, sequences and empty buckets
// survive, each copy verifies, and the last file's digest is the first's.
// A second copy onto the cluster's prefix is refused, and a copy
// interrupted half-way is not taken for a store. (This package's
// other etcd tests share TestEtcd's cluster, in a file this test leaves
// alone, so it starts its own.)
func TestCopyBoltToEtcdAndBack(t *testing.T) {
	ctx := context.Background()
	cluster := etcdtest.Start(t, nil)
	cli := cluster.Client(t)
	dir := t.TempDir()
	src := openBolt(t, filepath.Join(dir, "src.db"))
	fillSource(t, src)
	onEtcd := kv.NewEtcd(cli, &kv.EtcdOptions{Prefix: "/copytest/"})

	there, err := kv.Copy(ctx, onEtcd, src, nil)
	if err != nil {
		t.Fatalf("bbolt -> etcd: %v", err)
	}
	back := openBolt(t, filepath.Join(dir, "back.db"))
	// Small pages and batches on the way back: several pages per bucket.
	again, err := kv.Copy(ctx, back, kv.NewEtcd(cli, &kv.EtcdOptions{Prefix: "/copytest/", PageSize: 50}), &kv.CopyOptions{BatchKeys: 90})
	if err != nil {
		t.Fatalf("etcd -> bbolt: %v", err)
	}
	first, err := kv.Digest(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	last, err := kv.Digest(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	for what, c := range map[string]kv.Contents{"on etcd": there.Target, "read back from etcd": again.Source, "back in bbolt": last} {
		if c.Digest != first.Digest || c.Keys != first.Keys || c.Bytes != first.Bytes || fmt.Sprint(c.Buckets) != fmt.Sprint(first.Buckets) {
			t.Errorf("%s: %+v\nwant %+v", what, c, first)
		}
	}
	if _, err := kv.Copy(ctx, onEtcd, src, nil); err == nil || !strings.Contains(err.Error(), "target is not empty") {
		t.Errorf("second copy onto the prefix: %v", err)
	}

	// A copy to etcd cancelled half-way: neither an instance that would
	// migrate it (OpenOn) nor a standby (Attach) takes it for a store.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	partial := kv.NewEtcd(cli, &kv.EtcdOptions{Prefix: "/partial/"})
	_, err = kv.Copy(cctx, partial, src, &kv.CopyOptions{BatchKeys: 100, Progress: func(keys int, _ int64) {
		if keys > 800 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v", err)
	}
	if _, err := store.Attach(ctx, partial, "etcd /partial/"); err == nil || !strings.Contains(err.Error(), "bad schema version") {
		t.Errorf("Attach of a partial copy: %v", err)
	}
	if _, err := store.OpenOn(ctx, partial, "etcd /partial/"); err == nil || !strings.Contains(err.Error(), "bad schema version") {
		t.Errorf("OpenOn of a partial copy: %v", err)
	}
}
