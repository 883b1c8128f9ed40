package kv

import (
	"bytes"
	"errors"
	"sort"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdCursor walks a bucket as its tx sees it: the bucket's etcd range at
// the snapshot revision, read one page at a time in the direction of
// travel, merged with the tx's pending writes (a pending put wins over
// the key in etcd; a pending delete hides it).
//
// The cursor remembers the key it is on, not an index, so writes during
// iteration cannot confuse it: after Delete, Next moves to the key after
// the deleted one and Prev to the key before it; a key put after the
// cursor's position is met later. (bbolt differs: there Next after Delete
// skips a key. Code meant for both drivers deletes and then Seeks.)
// Moving past either end returns nils and leaves the cursor on the edge
// key, as in bbolt; a Seek past the end leaves it after the end, where
// Prev returns the last key.
type etcdCursor struct {
	b        *etcdBucket
	keysOnly bool // read keys without values (KeyN)

	state cursorState
	pos   []byte // the key the cursor is on, when state is onKey
	pg    cursorPage
}

type cursorState int

const (
	nowhere cursorState = iota
	onKey
	afterEnd
)

// cursorPage is the last page read from etcd. It holds every etcd key of
// the bucket in [lo, hi) (an empty lo: from the bucket's start; hiEnd: to
// its end), in ascending order, whichever direction it was read in.
type cursorPage struct {
	valid bool
	lo    []byte
	hi    []byte
	hiEnd bool
	kvs   []pageEntry
}

type pageEntry struct{ key, raw []byte }

// hit is a key found by a seek: from the overlay (val is the value) or
// from etcd (val is the encoded data value).
type hit struct {
	key, val []byte
	encoded  bool
}

func (c *etcdCursor) First() ([]byte, []byte) {
	h, ok := c.seekGE(nil)
	return c.land(h, ok, nowhere)
}

func (c *etcdCursor) Last() ([]byte, []byte) {
	h, ok := c.seekLT(nil, true)
	return c.land(h, ok, nowhere)
}

func (c *etcdCursor) Seek(key []byte) ([]byte, []byte) {
	h, ok := c.seekGE(key)
	return c.land(h, ok, afterEnd)
}

func (c *etcdCursor) Next() ([]byte, []byte) {
	if c.state != onKey {
		return nil, nil
	}
	h, ok := c.seekGE(successor(c.pos))
	return c.land(h, ok, onKey)
}

func (c *etcdCursor) Prev() ([]byte, []byte) {
	switch c.state {
	case afterEnd:
		return c.Last()
	case onKey:
		h, ok := c.seekLT(c.pos, false)
		return c.land(h, ok, onKey)
	}
	return nil, nil
}

func (c *etcdCursor) Delete() error {
	if err := c.b.checkWrite(); err != nil {
		return err
	}
	if c.state != onKey {
		return errors.New("kv: cursor delete: the cursor is on no key")
	}
	return c.b.Delete(c.pos)
}

// land moves the cursor to h, or, when nothing was found, into the state
// onMiss (onKey: stay where it is).
func (c *etcdCursor) land(h hit, ok bool, onMiss cursorState) ([]byte, []byte) {
	if !ok || c.b.tx.err != nil {
		if onMiss != onKey {
			c.state, c.pos = onMiss, nil
		}
		return nil, nil
	}
	c.state, c.pos = onKey, h.key
	if !h.encoded {
		return h.key, h.val
	}
	v := c.b.tx.decode(c.b.name, h.key, h.val)
	if v == nil {
		return nil, nil
	}
	return h.key, v
}

// seekGE finds the first key at or after from (nil: the first key).
func (c *etcdCursor) seekGE(from []byte) (hit, bool) {
	var e pageEntry
	eok := false
	if !c.b.fresh {
		for f := from; ; f = successor(e.key) {
			if e, eok = c.pageGE(f); !eok || !c.b.ov.has(e.key) {
				break
			}
		}
	}
	ok, ov, ook := c.b.ov.putAtOrAfter(from)
	switch {
	case ook && (!eok || bytes.Compare(ok, e.key) < 0):
		return hit{key: ok, val: ov}, true
	case eok:
		return hit{key: e.key, val: e.raw, encoded: true}, true
	}
	return hit{}, false
}

// seekLT finds the last key before to (toEnd: the last key).
func (c *etcdCursor) seekLT(to []byte, toEnd bool) (hit, bool) {
	var e pageEntry
	eok := false
	if !c.b.fresh {
		t, tEnd := to, toEnd
		for {
			if e, eok = c.pageLT(t, tEnd); !eok || !c.b.ov.has(e.key) {
				break
			}
			t, tEnd = e.key, false
		}
	}
	ok, ov, ook := c.b.ov.putBefore(to, toEnd)
	switch {
	case ook && (!eok || bytes.Compare(ok, e.key) > 0):
		return hit{key: ok, val: ov}, true
	case eok:
		return hit{key: e.key, val: e.raw, encoded: true}, true
	}
	return hit{}, false
}

// pageGE returns the first etcd key at or after from, reading pages
// upwards as needed.
func (c *etcdCursor) pageGE(from []byte) (pageEntry, bool) {
	for {
		pg := &c.pg
		if pg.valid && bytes.Compare(from, pg.lo) >= 0 && (pg.hiEnd || bytes.Compare(from, pg.hi) < 0) {
			i := sort.Search(len(pg.kvs), func(i int) bool { return bytes.Compare(pg.kvs[i].key, from) >= 0 })
			if i < len(pg.kvs) {
				return pg.kvs[i], true
			}
			if pg.hiEnd {
				return pageEntry{}, false
			}
			from = pg.hi // not covered: the next round reads from there
			continue
		}
		if !c.readPage(from, nil, false) {
			return pageEntry{}, false
		}
	}
}

// pageLT returns the last etcd key before to (toEnd: the last key),
// reading pages downwards as needed.
func (c *etcdCursor) pageLT(to []byte, toEnd bool) (pageEntry, bool) {
	for {
		if !toEnd && len(to) == 0 {
			return pageEntry{}, false
		}
		pg := &c.pg
		if pg.valid && (toEnd || len(pg.lo) == 0 || bytes.Compare(to, pg.lo) > 0) &&
			(pg.hiEnd || (!toEnd && bytes.Compare(to, pg.hi) <= 0)) {
			i := len(pg.kvs)
			if !toEnd {
				i = sort.Search(len(pg.kvs), func(i int) bool { return bytes.Compare(pg.kvs[i].key, to) >= 0 })
			}
			if i > 0 {
				return pg.kvs[i-1], true
			}
			if len(pg.lo) == 0 {
				return pageEntry{}, false
			}
			to, toEnd = pg.lo, false
			continue
		}
		if !c.readPage(nil, to, toEnd) {
			return pageEntry{}, false
		}
	}
}

// readPage reads one page: upwards from `from` when to is nil and !toEnd,
// else downwards from before to (toEnd: from the bucket's end). It
// returns false when the read failed.
func (c *etcdCursor) readPage(from, to []byte, toEnd bool) bool {
	tx := c.b.tx
	prefix := tx.db.layout.dataPrefix(c.b.name)
	end := clientv3.GetPrefixRangeEnd(prefix)
	down := to != nil || toEnd
	opts := []clientv3.OpOption{clientv3.WithLimit(int64(tx.db.opts.PageSize))}
	if c.keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	start := prefix + string(from)
	if down {
		start = prefix
		if !toEnd {
			end = prefix + string(to)
		}
		opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	}
	resp := tx.get(start, append(opts, clientv3.WithRange(end))...)
	if resp == nil {
		c.pg = cursorPage{}
		return false
	}
	kvs := make([]pageEntry, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		kvs[i] = pageEntry{key: kv.Key[len(prefix):], raw: kv.Value}
	}
	more := resp.More && len(kvs) > 0
	if !down {
		c.pg = cursorPage{valid: true, lo: from, hiEnd: !more, kvs: kvs}
		if more {
			c.pg.hi = successor(kvs[len(kvs)-1].key)
		}
		return true
	}
	for i, j := 0, len(kvs)-1; i < j; i, j = i+1, j-1 {
		kvs[i], kvs[j] = kvs[j], kvs[i]
	}
	c.pg = cursorPage{valid: true, hi: to, hiEnd: toEnd, kvs: kvs}
	if more {
		c.pg.lo = kvs[0].key
	}
	return true
}
