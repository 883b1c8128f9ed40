package store

import (
	"bytes"
	"fmt"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// Service notices (outages): bucketOutages holds each one, and
// bucketActiveOutages lists those not ended, so "what is on now" reads
// the live notices, not the history. PutOutage keeps both in step.

// PutOutage stores o, giving it the next id when o.ID is 0, and returns
// the id.
func (t *tx) PutOutage(o *bot.Outage) (uint64, error) {
	b, err := t.writable(bucketOutages)
	if err != nil {
		return 0, err
	}
	active, err := t.writable(bucketActiveOutages)
	if err != nil {
		return 0, err
	}
	if o.ID == 0 {
		if o.ID, err = b.NextSequence(); err != nil {
			return 0, fmt.Errorf("store: outage id: %w", err)
		}
	}
	key := encodeU64(o.ID)
	if o.Ended.IsZero() {
		err = active.Put(key, []byte{})
	} else {
		err = active.Delete(key)
	}
	if err != nil {
		return 0, fmt.Errorf("store: outage %d: %w", o.ID, err)
	}
	return o.ID, putJSON(b, key, o, fmt.Sprintf("outage %d", o.ID))
}

// Outage loads outage id; ErrNotFound if there is none.
func (t *tx) Outage(id uint64) (*bot.Outage, error) {
	b, err := t.bucket(bucketOutages)
	if err != nil {
		return nil, err
	}
	o := new(bot.Outage)
	found, err := getJSON(b, encodeU64(id), o, fmt.Sprintf("outage %d", id))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("store: outage %d: %w", id, bot.ErrNotFound)
	}
	return o, nil
}

// ActiveOutages returns the outages not ended, in id order, read through
// bucketActiveOutages.
func (t *tx) ActiveOutages() ([]*bot.Outage, error) {
	active, err := t.bucket(bucketActiveOutages)
	if err != nil {
		return nil, err
	}
	var ids [][]byte
	if err := active.ForEach(func(k, _ []byte) error {
		ids = append(ids, bytes.Clone(k))
		return nil
	}); err != nil {
		return nil, err
	}
	var out []*bot.Outage
	for _, k := range ids {
		id, err := decodeU64(k)
		if err != nil {
			return nil, fmt.Errorf("store: active outage key: %w", err)
		}
		o, err := t.Outage(id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// migrateOutages (version 9) creates the outage buckets.
func migrateOutages(ktx kv.Tx) error {
	for _, name := range []string{bucketOutages, bucketActiveOutages} {
		if _, err := ktx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	return nil
}
