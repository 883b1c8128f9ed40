package kv_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"rfadesk/store/kv"
	"rfadesk/store/kv/etcdtest"
)

// BenchmarkDrivers measures what rfadesk's transactions cost on each
// driver: a typical ingest (read 10 keys, write 15 values of 1 KiB in
// three buckets, take a sequence number), a View of one key, and, on
// etcd, Last on buckets of two sizes (a descending range read, which
// etcd 3.4 sorts over the whole range below the position). bbolt runs
// with fsync, as in production; the etcd cluster is 3 members on
// loopback with fsync.
func BenchmarkDrivers(b *testing.B) {
	bdb, err := bolt.Open(filepath.Join(b.TempDir(), "kv.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	boltDB := kv.NewBolt(bdb)
	defer boltDB.Close()
	cluster := etcdtest.Start(b, nil)
	etcdDB := kv.NewEtcd(cluster.Client(b), &kv.EtcdOptions{Prefix: "/bench/"})
	defer etcdDB.Close()

	for _, d := range []struct {
		name string
		db   kv.DB
	}{{"bolt", boltDB}, {"etcd", etcdDB}} {
		seedRecords(b, d.db, "records", 1000)
		b.Run(d.name+"/ingest", func(b *testing.B) { benchIngest(b, d.db) })
		b.Run(d.name+"/view-one", func(b *testing.B) { benchViewOne(b, d.db) })
	}
	for _, n := range []int{100, 10000} {
		bucket := fmt.Sprintf("last-%d", n)
		seedRecords(b, etcdDB, bucket, n)
		b.Run(fmt.Sprintf("etcd/last-of-%d", n), func(b *testing.B) { benchLast(b, etcdDB, bucket) })
	}
}

var kib = []byte(big(1<<10, 9))

// seedRecords writes n 1 KiB values into bucket, in commits etcd accepts.
func seedRecords(b *testing.B, db kv.DB, bucket string, n int) {
	for start := 0; start < n; start += 2000 {
		err := db.Update(context.Background(), func(tx kv.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			for i := start; i < min(start+2000, n); i++ {
				if err := bk.Put(fmt.Appendf(nil, "r%08d", i), kib); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchIngest(b *testing.B, db kv.DB) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		err := db.Update(ctx, func(tx kv.Tx) error {
			records := tx.Bucket("records")
			for j := range 10 {
				if records.Get(fmt.Appendf(nil, "r%08d", (i*10+j)%1000)) == nil {
					return fmt.Errorf("record missing")
				}
			}
			events, err := tx.CreateBucketIfNotExists("events")
			if err != nil {
				return err
			}
			seq, err := events.NextSequence()
			if err != nil {
				return err
			}
			for j := range 15 {
				bucket := []string{"events", "outbox", "index"}[j%3]
				bk, err := tx.CreateBucketIfNotExists(bucket)
				if err != nil {
					return err
				}
				if err := bk.Put(fmt.Appendf(nil, "%016d/%02d", seq, j), kib); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchViewOne(b *testing.B, db kv.DB) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		err := db.View(ctx, func(tx kv.Tx) error {
			if tx.Bucket("records").Get(fmt.Appendf(nil, "r%08d", i%1000)) == nil {
				return fmt.Errorf("record missing")
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchLast(b *testing.B, db kv.DB, bucket string) {
	ctx := context.Background()
	for b.Loop() {
		err := db.View(ctx, func(tx kv.Tx) error {
			if k, _ := tx.Bucket(bucket).Cursor().Last(); k == nil {
				return fmt.Errorf("empty bucket")
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
