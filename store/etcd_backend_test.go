package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"rfadesk/store/kv"
	"rfadesk/store/kv/etcdtest"
)

// The store's driver-independent tests run on a real 3-member etcd
// cluster too (TestOnEtcd).

// etcdBackend returns a kv.DB over an empty key space of its own (a
// fresh key prefix) on a running etcd cluster; the caller closes it. t
// is TestOnEtcd's, not a subtest's: TestOnEtcd calls it once per
// subtest before the subtests run, so one cluster started with t (and
// shared by the later calls with the same t) lives until every subtest
// has ended. Each run of TestOnEtcd (go test -count=N) has a new t, whose
// cluster the previous one's cleanup does not outlive: start a cluster
// when t is not the one the last was started with. It is
// etcdTestBackend: a cluster shared by the calls with one t.
var etcdBackend func(t testing.TB) kv.DB = etcdTestBackend

var (
	etcdMu      sync.Mutex
	etcdCluster *etcdtest.Cluster
	etcdOwner   testing.TB // the t the cluster was started with
	etcdSpaces  atomic.Int64
)

// etcdTestBackend returns an etcd database over a fresh key prefix, on a
// cluster shared by every call with the same t (see etcdBackend).
func etcdTestBackend(t testing.TB) kv.DB {
	etcdMu.Lock()
	if etcdCluster == nil || etcdOwner != t {
		etcdCluster, etcdOwner = etcdtest.Start(t, nil), t
	}
	c := etcdCluster
	etcdMu.Unlock()
	prefix := fmt.Sprintf("/store-test-%d/", etcdSpaces.Add(1))
	return kv.NewEtcd(c.Client(t), &kv.EtcdOptions{Prefix: prefix})
}
