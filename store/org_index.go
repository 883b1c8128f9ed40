package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// The organisation index (schema.go, bucketOrgIndex): each RFA with an
// organisation (a trust) has one entry under it, ordered newest first, so an organisation page reads its page
// of keys and the summaries they name. putRecord keeps them in the same
// transaction as the summary.

// Kind bytes that start an organisation index key.
const (
	orgIndexOrganisation = 'o'
	orgIndexTrust        = 't'
)

// orgIndexPrefix is kind | the lower-cased name | 0x00.
func orgIndexPrefix(kind byte, name string) []byte {
	k := append([]byte{kind}, strings.ToLower(strings.TrimSpace(name))...)
	return append(k, 0)
}

// orgIndexKey is orgIndexPrefix(kind, name) | MaxUint64 - num (8,
// big-endian), so a cursor walks one name's RFAs newest first. A name
// holding a NUL byte is told apart by the key's length (see OrgRFAs).
func orgIndexKey(kind byte, name string, num uint64) []byte {
	return binary.BigEndian.AppendUint64(orgIndexPrefix(kind, name), math.MaxUint64-num)
}

// indexOrgs moves RFA num's organisation and trust index entries from
// those of its previous summary (prev, the stored JSON; nil for a new
// RFA) to those of s. Unchanged names touch nothing.
func (t *tx) indexOrgs(num uint64, prev []byte, s *bot.RFASummary) error {
	// Absent before version 7: the migration to version 2 writes records
	// through putRecord, and migrateOrgIndex fills the index later.
	idx := t.ktx.Bucket(bucketOrgIndex)
	if idx == nil {
		return nil
	}
	var old struct {
		Organisation string `json:"organisation"`
		Trust        string `json:"trust"`
	}
	if prev != nil {
		if err := json.Unmarshal(prev, &old); err != nil {
			return fmt.Errorf("store: decode summary of %s: %w", bot.FormatRef(num), err)
		}
	}
	if err := moveIndexEntry(idx, orgIndexOrganisation, num, old.Organisation, s.Organisation); err != nil {
		return fmt.Errorf("store: organisation index of %s: %w", bot.FormatRef(num), err)
	}
	if err := moveIndexEntry(idx, orgIndexTrust, num, old.Trust, s.Trust); err != nil {
		return fmt.Errorf("store: trust index of %s: %w", bot.FormatRef(num), err)
	}
	return nil
}

// moveIndexEntry replaces num's entry under from with one under to; an
// empty name has no entry.
func moveIndexEntry(b kv.Bucket, kind byte, num uint64, from, to string) error {
	fk, tk := orgIndexKey(kind, from, num), orgIndexKey(kind, to, num)
	if strings.TrimSpace(from) != "" && !bytes.Equal(fk, tk) {
		if err := b.Delete(fk); err != nil {
			return err
		}
	}
	if strings.TrimSpace(to) == "" || b.Get(tk) != nil {
		return nil
	}
	return b.Put(tk, []byte{})
}

// OrgRFAs seeks the index to the entry after before and reads up to
// limit summaries from there.
func (t *tx) OrgRFAs(kind bot.OrgKind, name string, before uint64, limit int) ([]*bot.RFASummary, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: OrgRFAs limit %d: want at least 1", limit)
	}
	var kb byte
	switch kind {
	case bot.OrgKindOrganisation:
		kb = orgIndexOrganisation
	case bot.OrgKindTrust:
		kb = orgIndexTrust
	default:
		return nil, fmt.Errorf("store: OrgRFAs: unknown kind %q", kind)
	}
	idx, err := t.bucket(bucketOrgIndex)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" || before == 1 {
		return nil, nil
	}
	prefix := orgIndexPrefix(kb, name)
	seek := prefix
	if before != 0 {
		seek = orgIndexKey(kb, name, before-1)
	}
	var out []*bot.RFASummary
	c := idx.Cursor()
	for k, _ := c.Seek(seek); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
		if len(k) != len(prefix)+8 {
			continue // another name that starts with this one and a NUL
		}
		num := math.MaxUint64 - binary.BigEndian.Uint64(k[len(prefix):])
		s, err := t.RFASummary(num)
		if err != nil {
			return nil, fmt.Errorf("store: %s index names %s: %w", kind, bot.FormatRef(num), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// migrateOrgIndex (version 7) creates the organisation index and the
// link bucket, and indexes every RFA from its summary.
func migrateOrgIndex(ktx kv.Tx) error {
	for _, name := range []string{bucketOrgIndex, bucketOrgLinks} {
		if _, err := ktx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	sums := ktx.Bucket(bucketSummaries)
	if sums == nil {
		return fmt.Errorf("bucket %q missing", bucketSummaries)
	}
	t := &tx{ktx: ktx}
	return sums.ForEach(func(k, v []byte) error {
		num, err := decodeU64(k)
		if err != nil {
			return fmt.Errorf("summary key: %w", err)
		}
		var s bot.RFASummary
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("decode summary of %s: %w", bot.FormatRef(num), err)
		}
		return t.indexOrgs(num, nil, &s)
	})
}
