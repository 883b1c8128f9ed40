package store

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"rfadesk/bot"
)

// Organisation links (schema.go, bucketOrgLinks): keyed by the SHA-256
// of the token, so a presented token is found by one lookup of its hash
// and the store never holds a token that would open a page.

// PutOrgLink assigns l the bucket's next sequence as its id.
func (t *tx) PutOrgLink(tokenHash []byte, l bot.OrgLink) (uint64, error) {
	b, err := t.writable(bucketOrgLinks)
	if err != nil {
		return 0, err
	}
	if len(tokenHash) != sha256.Size {
		return 0, fmt.Errorf("store: organisation link: token hash of %d bytes, want %d", len(tokenHash), sha256.Size)
	}
	if b.Get(tokenHash) != nil {
		return 0, fmt.Errorf("store: organisation link: that token is already stored")
	}
	id, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("store: organisation link id: %w", err)
	}
	l.ID = id
	return id, putJSON(b, tokenHash, &l, fmt.Sprintf("organisation link %d", id))
}

func (t *tx) OrgLinkByHash(tokenHash []byte) (*bot.OrgLink, error) {
	b, err := t.bucket(bucketOrgLinks)
	if err != nil {
		return nil, err
	}
	l := new(bot.OrgLink)
	found, err := getJSON(b, tokenHash, l, "organisation link")
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("store: organisation link: %w", bot.ErrNotFound)
	}
	return l, nil
}

// OrgLinks decodes every link (there are a few per school) and sorts
// them by id.
func (t *tx) OrgLinks() ([]bot.OrgLink, error) {
	b, err := t.bucket(bucketOrgLinks)
	if err != nil {
		return nil, err
	}
	var out []bot.OrgLink
	err = b.ForEach(func(k, v []byte) error {
		var l bot.OrgLink
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("store: decode organisation link: %w", err)
		}
		out = append(out, l)
		return nil
	})
	sortLinks(out)
	return out, err
}

// sortLinks orders links by id (insertion sort: lists are short).
func sortLinks(ls []bot.OrgLink) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].ID < ls[j-1].ID; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// RevokeOrgLink finds link id by walking the (small) link bucket.
func (t *tx) RevokeOrgLink(id uint64, at time.Time) (bot.OrgLink, error) {
	b, err := t.writable(bucketOrgLinks)
	if err != nil {
		return bot.OrgLink{}, err
	}
	var key []byte
	var l bot.OrgLink
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var cand bot.OrgLink
		if err := json.Unmarshal(v, &cand); err != nil {
			return bot.OrgLink{}, fmt.Errorf("store: decode organisation link: %w", err)
		}
		if cand.ID == id {
			key, l = append([]byte(nil), k...), cand
			break
		}
	}
	if key == nil {
		return bot.OrgLink{}, fmt.Errorf("store: organisation link %d: %w", id, bot.ErrNotFound)
	}
	if !l.Revoked.IsZero() {
		return l, nil
	}
	l.Revoked = at
	return l, putJSON(b, key, &l, fmt.Sprintf("organisation link %d", id))
}
