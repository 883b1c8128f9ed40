package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"rfadesk/bot"
)

// The RFA counts (schema.go, version 6): how many RFAs have each status
// and severity, kept in bucketMeta under rfaCountKey by putRecord in the
// transaction that writes the RFA, so metrics read a few keys instead of
// walking the RFAs.

// statusSeverity is the part of a stored summary the counts need.
type statusSeverity struct {
	Status   bot.Status   `json:"status"`
	Severity bot.Severity `json:"severity,omitempty"`
}

// countRFA moves RFA num's count from the pair its stored summary (in
// summaries, read before it is replaced) records to now's pair: a new
// RFA only adds, an unchanged pair writes nothing.
func (t *tx) countRFA(summaries *bolt.Bucket, num uint64, now statusSeverity) error {
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
func addRFACount(meta *bolt.Bucket, pair statusSeverity, delta int) error {
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
// any counts already there.
func migrateRFACounts(btx *bolt.Tx) error {
	meta := btx.Bucket([]byte(bucketMeta))
	summaries := btx.Bucket([]byte(bucketSummaries))
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
