package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// The linked-RFA index: bucketRFAChildren (parent | child) with its
// reverse bucketRFAParents (child -> parent). PutRFA keeps both in its
// transaction through indexParent, from bot.RFA.Parent.

// indexParent brings the linked-RFA index in line with r, which PutRFA
// is storing in the same transaction: r is its parent's child when
// r.Parent is not 0. An entry already right is left as it is.
func (t *tx) indexParent(r *bot.RFA) error {
	children, err := t.writable(bucketRFAChildren)
	if err != nil {
		return err
	}
	parents, err := t.writable(bucketRFAParents)
	if err != nil {
		return err
	}
	key := encodeU64(r.Num)
	if old := parents.Get(key); old != nil {
		oldParent, err := decodeU64(old)
		if err != nil {
			return fmt.Errorf("store: parent of %s: %w", r.Ref(), err)
		}
		if oldParent == r.Parent {
			return nil
		}
		if err := children.Delete(linkKey(oldParent, r.Num)); err != nil {
			return fmt.Errorf("store: unlink %s: %w", r.Ref(), err)
		}
		if err := parents.Delete(key); err != nil {
			return fmt.Errorf("store: unlink %s: %w", r.Ref(), err)
		}
	}
	if r.Parent == 0 {
		return nil
	}
	if r.Parent == r.Num {
		return fmt.Errorf("store: %s cannot be its own parent", r.Ref())
	}
	if err := children.Put(linkKey(r.Parent, r.Num), []byte{}); err != nil {
		return fmt.Errorf("store: link %s to %s: %w", r.Ref(), bot.FormatRef(r.Parent), err)
	}
	if err := parents.Put(key, encodeU64(r.Parent)); err != nil {
		return fmt.Errorf("store: link %s to %s: %w", r.Ref(), bot.FormatRef(r.Parent), err)
	}
	return nil
}

// RFAChildren seeks the linked-RFA index to parent's first entry and
// reads up to limit child numbers: its cost is the children returned.
func (t *tx) RFAChildren(parent uint64, limit int) ([]uint64, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: RFAChildren limit %d: want at least 1", limit)
	}
	children, err := t.bucket(bucketRFAChildren)
	if err != nil {
		return nil, err
	}
	prefix := encodeU64(parent)
	var out []uint64
	c := children.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
		if len(k) != 16 {
			return nil, fmt.Errorf("store: linked-RFA key of %d bytes, want 16", len(k))
		}
		child, _ := decodeU64(k[8:])
		out = append(out, child)
	}
	return out, nil
}

// migrateLinks (version 8) creates the linked-RFA index and fills it
// from each RFA's parent (only that field is decoded; RFAs written before
// version 8 have none, so on most stores it stays empty).
func migrateLinks(ktx kv.Tx) error {
	for _, name := range []string{bucketRFAChildren, bucketRFAParents} {
		if _, err := ktx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	rfas := ktx.Bucket(bucketRFAs)
	if rfas == nil {
		return fmt.Errorf("bucket %q missing", bucketRFAs)
	}
	children, parents := ktx.Bucket(bucketRFAChildren), ktx.Bucket(bucketRFAParents)
	return rfas.ForEach(func(k, v []byte) error {
		var r struct {
			Parent uint64 `json:"parent"`
		}
		if err := json.Unmarshal(v, &r); err != nil {
			num, _ := decodeU64(k)
			return fmt.Errorf("decode %s: %w", bot.FormatRef(num), err)
		}
		num, err := decodeU64(k)
		if err != nil || r.Parent == 0 || r.Parent == num {
			return err
		}
		if err := children.Put(linkKey(r.Parent, num), []byte{}); err != nil {
			return err
		}
		return parents.Put(bytes.Clone(k), encodeU64(r.Parent))
	})
}
