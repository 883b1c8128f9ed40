package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// The RFA counts (schema.go, version 6): how many RFAs have each status
// and severity, kept in bucketMeta under rfaCountKey, and the index of
// open RFAs with a breach (bucketBreachedRFAs), both kept by putRecord in
// the transaction that writes the RFA, so metrics read a few keys
// instead of walking the RFAs.

// statusSeverity is the part of a stored summary the counts need.
type statusSeverity struct {
	Status   bot.Status   `json:"status"`
	Severity bot.Severity `json:"severity,omitempty"`
}

// countRFA moves RFA num's count from the pair its stored summary (in
// summaries, read before it is replaced) records to now's pair: a new
// RFA only adds, an unchanged pair writes nothing.
func (t *tx) countRFA(summaries kv.Bucket, num uint64, now statusSeverity) error {
	meta, err := t.bucket(bucketMeta)
	if err != nil {
		return err
	}
	if v := summaries.Get(encodeU64(num)); v != nil {
		var old statusSeverity
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("store: decode summary of %s: %w", bot.FormatRef(num), err)
		}
		if old == now {
			return nil
		}
		if err := addRFACount(meta, old, -1); err != nil {
			return err
		}
	}
	return addRFACount(meta, now, 1)
}

// addRFACount adds delta (+1 or -1) to the count of pair; a count that
// reaches zero is deleted, one that would go below zero is an error (the
// counts disagree with the summaries).
func addRFACount(meta kv.Bucket, pair statusSeverity, delta int) error {
	key, err := rfaCountKey(pair.Status, pair.Severity)
	if err != nil {
		return err
	}
	var n uint64
	if v := meta.Get(key); v != nil {
		if n, err = decodeU64(v); err != nil {
			return fmt.Errorf("store: RFA count %s/%s: %w", pair.Status, pair.Severity, err)
		}
	}
	switch {
	case delta < 0 && n == 0:
		return fmt.Errorf("store: RFA count %s/%s would go below zero", pair.Status, pair.Severity)
	case delta < 0 && n == 1:
		return meta.Delete(key)
	case delta < 0:
		n--
	default:
		n++
	}
	if err := meta.Put(key, encodeU64(n)); err != nil {
		return fmt.Errorf("store: RFA count %s/%s: %w", pair.Status, pair.Severity, err)
	}
	return nil
}

// breached reports whether r belongs in bucketBreachedRFAs: not closed,
// with a breach in its history.
func breached(r *bot.RFA) bool {
	if r.Status == bot.StatusClosed {
		return false
	}
	for i := range r.Events {
		if r.Events[i].Kind == bot.EventBreach {
			return true
		}
	}
	return false
}

// indexBreached brings r's entry in bucketBreachedRFAs in line with r. A
// store before version 6 has no such bucket (the version-2 migration
// writes records through putRecord): nothing is written, and the
// version-6 migration builds the index.
func (t *tx) indexBreached(r *bot.RFA) error {
	b := t.ktx.Bucket(bucketBreachedRFAs)
	if b == nil {
		return nil
	}
	key := encodeU64(r.Num)
	switch now, was := breached(r), b.Get(key) != nil; {
	case now && !was:
		return b.Put(key, []byte{})
	case !now && was:
		return b.Delete(key)
	}
	return nil
}

// breachedRFAs counts bucketBreachedRFAs' keys.
func (t *tx) breachedRFAs() (int, error) {
	b, err := t.bucket(bucketBreachedRFAs)
	if err != nil {
		return 0, err
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n, nil
}

// RFACounts reads the count keys with one cursor walk of their prefix.
func (t *tx) RFACounts() ([]bot.RFACount, error) {
	meta, err := t.bucket(bucketMeta)
	if err != nil {
		return nil, err
	}
	var counts []bot.RFACount
	prefix := []byte(keyRFACountPrefix)
	c := meta.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		status, severity, ok := strings.Cut(string(k[len(prefix):]), "\x00")
		if !ok {
			return nil, fmt.Errorf("store: bad RFA count key %q", k)
		}
		n, err := decodeU64(v)
		if err != nil {
			return nil, fmt.Errorf("store: RFA count %s/%s: %w", status, severity, err)
		}
		counts = append(counts, bot.RFACount{Status: bot.Status(status), Severity: bot.Severity(severity), N: n})
	}
	return counts, nil
}

// migrateRFACounts (version 6) computes the counts of an existing store
// from its summaries (only status and severity are decoded), replacing
// any counts already there, and builds the breached-RFA index from the
// RFAs (only status and event kinds are decoded).
func migrateRFACounts(ktx kv.Tx) error {
	if err := migrateBreached(ktx); err != nil {
		return err
	}
	meta := ktx.Bucket(bucketMeta)
	summaries := ktx.Bucket(bucketSummaries)
	if meta == nil || summaries == nil {
		return fmt.Errorf("bucket %q or %q missing", bucketMeta, bucketSummaries)
	}
	var stale [][]byte
	prefix := []byte(keyRFACountPrefix)
	c := meta.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		stale = append(stale, bytes.Clone(k))
	}
	for _, k := range stale {
		if err := meta.Delete(k); err != nil {
			return err
		}
	}
	counts := map[statusSeverity]uint64{}
	err := summaries.ForEach(func(k, v []byte) error {
		var pair statusSeverity
		if err := json.Unmarshal(v, &pair); err != nil {
			num, _ := decodeU64(k)
			return fmt.Errorf("decode summary of %s: %w", bot.FormatRef(num), err)
		}
		counts[pair]++
		return nil
	})
	if err != nil {
		return err
	}
	for pair, n := range counts {
		key, err := rfaCountKey(pair.Status, pair.Severity)
		if err != nil {
			return err
		}
		if err := meta.Put(key, encodeU64(n)); err != nil {
			return err
		}
	}
	return nil
}

// migrateBreached fills bucketBreachedRFAs from every RFA record.
func migrateBreached(ktx kv.Tx) error {
	idx, err := ktx.CreateBucketIfNotExists(bucketBreachedRFAs)
	if err != nil {
		return fmt.Errorf("create bucket %q: %w", bucketBreachedRFAs, err)
	}
	rfas := ktx.Bucket(bucketRFAs)
	if rfas == nil {
		return fmt.Errorf("bucket %q missing", bucketRFAs)
	}
	return rfas.ForEach(func(k, v []byte) error {
		var r struct {
			Status bot.Status `json:"status"`
			Events []struct {
				Kind bot.EventKind `json:"kind"`
			} `json:"events"`
		}
		if err := json.Unmarshal(v, &r); err != nil {
			num, _ := decodeU64(k)
			return fmt.Errorf("decode %s: %w", bot.FormatRef(num), err)
		}
		rec := bot.RFA{Status: r.Status}
		for _, e := range r.Events {
			rec.Events = append(rec.Events, bot.Event{Kind: e.Kind})
		}
		if !breached(&rec) {
			return nil
		}
		return idx.Put(bytes.Clone(k), []byte{})
	})
}
