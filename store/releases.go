package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// The release calendar's records (bucketReleases), the release index
// (bucketReleaseRFAs with its reverse bucketRFAReleases) that PutRFA
// keeps through indexRelease, and the cadence record (keyReleaseCadence
// in bucketMeta).

// releaseKey is a release's key in bucketReleases: its name, lower-cased.
func releaseKey(name string) ([]byte, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return nil, fmt.Errorf("store: release name %q: want a non-empty name without NUL bytes", name)
	}
	return []byte(name), nil
}

// releaseRFAKey is an entry of bucketReleaseRFAs.
func releaseRFAKey(name []byte, num uint64) []byte {
	k := make([]byte, 0, len(name)+9)
	k = append(append(k, name...), 0)
	return append(k, encodeU64(num)...)
}

// Release implements bot.Tx.
func (t *tx) Release(name string) (*bot.ReleaseInfo, error) {
	b, err := t.bucket(bucketReleases)
	if err != nil {
		return nil, err
	}
	key, err := releaseKey(name)
	if err != nil {
		return nil, err
	}
	v := b.Get(key)
	if v == nil {
		return nil, fmt.Errorf("store: release %q: %w", name, bot.ErrNotFound)
	}
	var rel bot.ReleaseInfo
	if err := json.Unmarshal(v, &rel); err != nil {
		return nil, fmt.Errorf("store: decode release %q: %w", name, err)
	}
	return &rel, nil
}

// PutRelease implements bot.Tx.
func (t *tx) PutRelease(rel bot.ReleaseInfo) error {
	b, err := t.writable(bucketReleases)
	if err != nil {
		return err
	}
	key, err := releaseKey(rel.Name)
	if err != nil {
		return err
	}
	v, err := json.Marshal(rel)
	if err != nil {
		return fmt.Errorf("store: encode release %q: %w", rel.Name, err)
	}
	return b.Put(key, v)
}

// Releases implements bot.Tx.
func (t *tx) Releases() ([]bot.ReleaseInfo, error) {
	b, err := t.bucket(bucketReleases)
	if err != nil {
		return nil, err
	}
	var out []bot.ReleaseInfo
	err = b.ForEach(func(k, v []byte) error {
		var rel bot.ReleaseInfo
		if err := json.Unmarshal(v, &rel); err != nil {
			return fmt.Errorf("store: decode release %q: %w", k, err)
		}
		out = append(out, rel)
		return nil
	})
	return out, err
}

// indexRelease brings the release index in line with r, which PutRFA is
// storing in the same transaction: r is listed under its release when
// it has one and is not cleared, closed or held.
func (t *tx) indexRelease(r *bot.RFA) error {
	rfas, err := t.writable(bucketReleaseRFAs)
	if err != nil {
		return err
	}
	back, err := t.writable(bucketRFAReleases)
	if err != nil {
		return err
	}
	var want []byte
	if r.Release != nil && r.Status != bot.StatusCleared && r.Status != bot.StatusClosed && !r.Status.Held() {
		if want, err = releaseKey(r.Release.Name); err != nil {
			return err
		}
	}
	key := encodeU64(r.Num)
	old := back.Get(key)
	if bytes.Equal(old, want) && (old == nil) == (want == nil) {
		return nil
	}
	if old != nil {
		if err := rfas.Delete(releaseRFAKey(old, r.Num)); err != nil {
			return fmt.Errorf("store: release index of %s: %w", r.Ref(), err)
		}
		if err := back.Delete(key); err != nil {
			return fmt.Errorf("store: release index of %s: %w", r.Ref(), err)
		}
	}
	if want == nil {
		return nil
	}
	if err := rfas.Put(releaseRFAKey(want, r.Num), []byte{}); err != nil {
		return fmt.Errorf("store: release index of %s: %w", r.Ref(), err)
	}
	return back.Put(key, want)
}

// ReleaseRFAs implements bot.Tx: a seek to name's first entry after after.
func (t *tx) ReleaseRFAs(name string, after uint64, limit int) ([]uint64, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: ReleaseRFAs limit %d: want at least 1", limit)
	}
	b, err := t.bucket(bucketReleaseRFAs)
	if err != nil {
		return nil, err
	}
	n, err := releaseKey(name)
	if err != nil {
		return nil, err
	}
	prefix := append(n, 0)
	var out []uint64
	c := b.Cursor()
	for k, _ := c.Seek(releaseRFAKey(n, after+1)); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
		if len(k) != len(prefix)+8 {
			return nil, fmt.Errorf("store: release index key of %d bytes, want %d", len(k), len(prefix)+8)
		}
		num, _ := decodeU64(k[len(prefix):])
		out = append(out, num)
	}
	return out, nil
}

// PlannedReleases implements bot.Tx: one seek per release name.
func (t *tx) PlannedReleases() ([]string, error) {
	b, err := t.bucket(bucketReleaseRFAs)
	if err != nil {
		return nil, err
	}
	var out []string
	c := b.Cursor()
	for k, _ := c.First(); k != nil; {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			return nil, errors.New("store: release index key without its separator")
		}
		name := string(k[:i])
		out = append(out, name)
		k, _ = c.Seek(append([]byte(name), 1))
	}
	return out, nil
}

// ReleaseCadence implements bot.Tx.
func (t *tx) ReleaseCadence() (bot.ReleaseCadence, error) {
	var rc bot.ReleaseCadence
	b, err := t.bucket(bucketMeta)
	if err != nil {
		return rc, err
	}
	if v := b.Get([]byte(keyReleaseCadence)); v != nil {
		if err := json.Unmarshal(v, &rc); err != nil {
			return rc, fmt.Errorf("store: decode release cadence: %w", err)
		}
	}
	return rc, nil
}

// PutReleaseCadence implements bot.Tx.
func (t *tx) PutReleaseCadence(rc bot.ReleaseCadence) error {
	b, err := t.writable(bucketMeta)
	if err != nil {
		return err
	}
	v, err := json.Marshal(rc)
	if err != nil {
		return err
	}
	return b.Put([]byte(keyReleaseCadence), v)
}

// migrateReleases (version 10) creates the release buckets and indexes
// each RFA that has a release (only those fields are decoded).
func migrateReleases(ktx kv.Tx) error {
	for _, name := range []string{bucketReleases, bucketReleaseRFAs, bucketRFAReleases} {
		if _, err := ktx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	rfas := ktx.Bucket(bucketRFAs)
	if rfas == nil {
		return fmt.Errorf("bucket %q missing", bucketRFAs)
	}
	index, back := ktx.Bucket(bucketReleaseRFAs), ktx.Bucket(bucketRFAReleases)
	return rfas.ForEach(func(k, v []byte) error {
		var r struct {
			Status  bot.Status   `json:"status"`
			Release *bot.Release `json:"release"`
		}
		num, err := decodeU64(k)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode %s: %w", bot.FormatRef(num), err)
		}
		if r.Release == nil || r.Status == bot.StatusCleared || r.Status == bot.StatusClosed || r.Status.Held() {
			return nil
		}
		name, err := releaseKey(r.Release.Name)
		if err != nil {
			return nil // a release without a usable name stays unindexed
		}
		if err := index.Put(releaseRFAKey(name, num), []byte{}); err != nil {
			return err
		}
		return back.Put(bytes.Clone(k), name)
	})
}
