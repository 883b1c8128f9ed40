package kv

import (
	"slices"
	"strings"
)

// pending is a write a tx holds until commit.
type pending struct {
	value   []byte
	deleted bool
}

// overlay is one bucket's pending writes, with their keys kept sorted for
// cursors.
type overlay struct {
	keys []string // sorted
	m    map[string]pending
}

func (o *overlay) get(key []byte) (pending, bool) {
	p, ok := o.m[string(key)]
	return p, ok
}

func (o *overlay) has(key []byte) bool {
	_, ok := o.m[string(key)]
	return ok
}

func (o *overlay) set(key []byte, p pending) {
	if o.m == nil {
		o.m = make(map[string]pending)
	}
	k := string(key)
	if _, ok := o.m[k]; !ok {
		i, _ := slices.BinarySearch(o.keys, k)
		o.keys = slices.Insert(o.keys, i, k)
	}
	o.m[k] = p
}

func (o *overlay) remove(key []byte) {
	k := string(key)
	if _, ok := o.m[k]; !ok {
		return
	}
	delete(o.m, k)
	i, _ := slices.BinarySearch(o.keys, k)
	o.keys = slices.Delete(o.keys, i, i+1)
}

func (o *overlay) puts() int {
	n := 0
	for _, p := range o.m {
		if !p.deleted {
			n++
		}
	}
	return n
}

// putAtOrAfter returns the first pending put at or after from.
func (o *overlay) putAtOrAfter(from []byte) ([]byte, []byte, bool) {
	i, _ := slices.BinarySearchFunc(o.keys, from, func(k string, t []byte) int { return strings.Compare(k, string(t)) })
	for ; i < len(o.keys); i++ {
		if p := o.m[o.keys[i]]; !p.deleted {
			return []byte(o.keys[i]), nonNil(p.value), true
		}
	}
	return nil, nil, false
}

// putBefore returns the last pending put before to (toEnd: before the
// end of the bucket).
func (o *overlay) putBefore(to []byte, toEnd bool) ([]byte, []byte, bool) {
	i := len(o.keys)
	if !toEnd {
		i, _ = slices.BinarySearchFunc(o.keys, to, func(k string, t []byte) int { return strings.Compare(k, string(t)) })
	}
	for i--; i >= 0; i-- {
		if p := o.m[o.keys[i]]; !p.deleted {
			return []byte(o.keys[i]), nonNil(p.value), true
		}
	}
	return nil, nil, false
}
