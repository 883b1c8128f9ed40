package kv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdTx is a transaction of the etcd driver. It reads at one revision,
// taken by its first read, and keeps its writes in per-bucket overlays
// until commit.
type etcdTx struct {
	ctx      context.Context
	db       *Etcd
	writable bool

	rev     int64 // snapshot revision; 0 until the first read
	err     error // the first read error; sticky
	buckets map[string]*etcdBucket

	// markersRead: the first page of bucket markers was read into
	// buckets; allMarkers: that page held every marker, so a name not in
	// buckets is a bucket that does not exist.
	markersRead, allMarkers bool
}

// result combines fn's error with the sticky read error (see Update).
func (tx *etcdTx) result(fnErr error) error {
	switch {
	case tx.err == nil:
		return fnErr
	case fnErr == nil:
		return tx.err
	case errors.Is(fnErr, tx.err):
		return fnErr
	}
	return errors.Join(tx.err, fnErr)
}

func (tx *etcdTx) fail(err error) {
	if tx.err == nil {
		tx.err = err
	}
}

// get runs one range read at the snapshot revision, taking the current
// revision on the first read. It returns nil once the tx has failed.
//
// The first read is linearizable. Later ones name their revision and
// are serializable: any member that has applied that revision answers
// from its own store without asking the raft leader, and one that has
// not yet says so (a future revision), when the read is repeated
// linearizably.
func (tx *etcdTx) get(key string, opts ...clientv3.OpOption) *clientv3.GetResponse {
	if tx.err != nil {
		return nil
	}
	if tx.rev != 0 {
		opts = append(opts, clientv3.WithRev(tx.rev))
	}
	ctx, cancel := tx.db.request(tx.ctx)
	defer cancel()
	resp, err := tx.db.cli.Get(ctx, key, append(opts, serializableAfterFirst(tx.rev)...)...)
	if tx.rev != 0 && errors.Is(err, rpctypes.ErrFutureRev) {
		resp, err = tx.db.cli.Get(ctx, key, opts...)
	}
	if err != nil {
		tx.fail(fmt.Errorf("kv: etcd read: %w", err))
		return nil
	}
	if tx.rev == 0 {
		tx.rev = resp.Header.Revision
	}
	return resp
}

func serializableAfterFirst(rev int64) []clientv3.OpOption {
	if rev == 0 {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithSerializable()}
}

func (tx *etcdTx) Writable() bool { return tx.writable }

// lookup returns the tx's bucket object for name. The first lookup reads
// one page of bucket markers, which usually holds them all (rfadesk has
// a few dozen buckets), so later lookups cost no request; beyond that
// page, a name's marker is read on its first lookup. b.exists is false
// when the bucket does not exist (or the read failed).
func (tx *etcdTx) lookup(name string) *etcdBucket {
	if b, ok := tx.buckets[name]; ok {
		return b
	}
	if !tx.markersRead {
		tx.readMarkers()
		if b, ok := tx.buckets[name]; ok {
			return b
		}
	}
	b := &etcdBucket{tx: tx, name: name}
	if !tx.allMarkers {
		if resp := tx.get(tx.db.layout.markerKey(name)); resp != nil && len(resp.Kvs) == 1 {
			b.setMarker(resp.Kvs[0].Value)
		}
	}
	if tx.err != nil {
		return b // not cached: nothing more will be read anyway
	}
	tx.remember(b)
	return b
}

// readMarkers reads the first page of bucket markers.
func (tx *etcdTx) readMarkers() {
	start, end := tx.db.layout.markerRange()
	resp := tx.get(start, clientv3.WithRange(end), clientv3.WithLimit(int64(tx.db.opts.PageSize)))
	if resp == nil {
		return
	}
	tx.markersRead, tx.allMarkers = true, !resp.More
	for _, kv := range resp.Kvs {
		b := &etcdBucket{tx: tx, name: string(kv.Key[len(start):])}
		b.setMarker(kv.Value)
		tx.remember(b)
	}
}

func (tx *etcdTx) remember(b *etcdBucket) {
	if tx.buckets == nil {
		tx.buckets = make(map[string]*etcdBucket)
	}
	tx.buckets[b.name] = b
}

func (tx *etcdTx) Bucket(name string) Bucket {
	if validBucketName(name) != nil {
		return nil
	}
	if b := tx.lookup(name); b.exists {
		return b
	}
	return nil
}

func (tx *etcdTx) CreateBucketIfNotExists(name string) (Bucket, error) {
	if !tx.writable {
		return nil, ErrReadOnly
	}
	if err := validBucketName(name); err != nil {
		return nil, err
	}
	b := tx.lookup(name)
	if tx.err != nil {
		return nil, tx.err
	}
	if !b.exists {
		b.exists, b.created, b.fresh = true, true, true
	}
	return b, nil
}

// ForEachBucket lists the bucket markers page by page, unless lookup has
// read them all, and merges in the buckets this tx created.
func (tx *etcdTx) ForEachBucket(fn func(name string, b Bucket) error) error {
	if !tx.markersRead {
		tx.readMarkers()
	}
	if tx.allMarkers {
		var names []string
		for name, b := range tx.buckets {
			if b.exists {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			if err := fn(name, tx.buckets[name]); err != nil {
				return err
			}
		}
		return tx.err
	}
	var created []string
	for name, b := range tx.buckets {
		if b.created {
			created = append(created, name)
		}
	}
	slices.Sort(created)
	emitCreatedBefore := func(limit string, all bool) error {
		for len(created) > 0 && (all || created[0] < limit) {
			name := created[0]
			created = created[1:]
			if err := fn(name, tx.buckets[name]); err != nil {
				return err
			}
		}
		return nil
	}
	start, end := tx.db.layout.markerRange()
	from := start
	for {
		resp := tx.get(from, clientv3.WithRange(end), clientv3.WithLimit(int64(tx.db.opts.PageSize)))
		if resp == nil {
			return tx.err
		}
		for _, kv := range resp.Kvs {
			name := strings.TrimPrefix(string(kv.Key), start)
			if err := emitCreatedBefore(name, false); err != nil {
				return err
			}
			b, ok := tx.buckets[name]
			if !ok {
				b = &etcdBucket{tx: tx, name: name}
				b.setMarker(kv.Value)
				tx.remember(b)
			}
			if err := fn(name, b); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	if err := emitCreatedBefore("", true); err != nil {
		return err
	}
	return tx.err
}

// decode returns the value a data key holds, reading its chunks when it
// is chunked. It returns nil when the tx has failed.
func (tx *etcdTx) decode(bucket string, key, raw []byte) []byte {
	inline, p, chunked, err := decodeData(raw)
	if err != nil {
		tx.fail(fmt.Errorf("kv: etcd bucket %q key %q: %w", bucket, key, err))
		return nil
	}
	if !chunked {
		return inline
	}
	v, err := tx.readChunks(tx.db.layout.chunkBase(bucket, key), p)
	if err != nil {
		tx.fail(fmt.Errorf("kv: etcd bucket %q key %q: %w", bucket, key, err))
		return nil
	}
	return v
}

// etcdBucket is one bucket as a tx sees it: the snapshot in etcd (unless
// fresh) under the tx's pending writes.
type etcdBucket struct {
	tx   *etcdTx
	name string

	exists  bool
	created bool // created by this tx: its marker is written at commit
	fresh   bool // did not exist at the snapshot: etcd holds none of its keys

	seq        uint64
	seqChanged bool
	ov         overlay
}

func (b *etcdBucket) setMarker(raw []byte) {
	seq, err := decodeSequence(raw)
	if err != nil {
		b.tx.fail(fmt.Errorf("kv: etcd bucket %q: %w", b.name, err))
		return
	}
	b.exists, b.seq = true, seq
}

func (b *etcdBucket) dataKey(key []byte) string {
	return b.tx.db.layout.dataPrefix(b.name) + string(key)
}

func (b *etcdBucket) checkWrite() error {
	switch {
	case !b.tx.writable:
		return ErrReadOnly
	case b.tx.err != nil:
		return b.tx.err
	case !b.exists:
		return ErrBucketNotFound
	}
	return nil
}

func (b *etcdBucket) Get(key []byte) []byte {
	if b.tx.err != nil || len(key) == 0 {
		return nil
	}
	if p, ok := b.ov.get(key); ok {
		if p.deleted {
			return nil
		}
		return nonNil(p.value)
	}
	if b.fresh {
		return nil
	}
	resp := b.tx.get(b.dataKey(key))
	if resp == nil || len(resp.Kvs) == 0 {
		return nil
	}
	return b.tx.decode(b.name, key, resp.Kvs[0].Value)
}

func (b *etcdBucket) Put(key, value []byte) error {
	if err := b.checkWrite(); err != nil {
		return err
	}
	if len(key) == 0 {
		return ErrEmptyKey
	}
	b.ov.set(key, pending{value: value})
	return nil
}

func (b *etcdBucket) Delete(key []byte) error {
	if err := b.checkWrite(); err != nil {
		return err
	}
	if len(key) == 0 {
		return nil
	}
	if b.fresh { // nothing to delete in etcd: forget the pending put
		b.ov.remove(key)
		return nil
	}
	b.ov.set(key, pending{deleted: true})
	return nil
}

func (b *etcdBucket) Cursor() Cursor { return &etcdCursor{b: b} }

func (b *etcdBucket) ForEach(fn func(k, v []byte) error) error {
	c := &etcdCursor{b: b}
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.tx.err
}

func (b *etcdBucket) Sequence() uint64 { return b.seq }

func (b *etcdBucket) SetSequence(n uint64) error {
	if err := b.checkWrite(); err != nil {
		return err
	}
	b.seq, b.seqChanged = n, true
	return nil
}

func (b *etcdBucket) NextSequence() (uint64, error) {
	if err := b.checkWrite(); err != nil {
		return 0, err
	}
	b.seq++
	b.seqChanged = true
	return b.seq, nil
}

// KeyN counts with one count-only read when the tx has no pending writes
// in the bucket, and otherwise walks the keys (without their values).
func (b *etcdBucket) KeyN() int {
	if b.tx.err != nil {
		return 0
	}
	if b.fresh {
		return b.ov.puts()
	}
	if len(b.ov.keys) == 0 {
		prefix := b.tx.db.layout.dataPrefix(b.name)
		resp := b.tx.get(prefix, clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix)), clientv3.WithCountOnly())
		if resp == nil {
			return 0
		}
		return int(resp.Count)
	}
	c := &etcdCursor{b: b, keysOnly: true}
	n := 0
	for h, ok := c.seekGE(nil); ok; h, ok = c.seekGE(successor(h.key)) {
		n++
	}
	if b.tx.err != nil {
		return 0
	}
	return n
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// successor returns the smallest key after k.
func successor(k []byte) []byte {
	s := make([]byte, len(k)+1)
	copy(s, k)
	return s
}
