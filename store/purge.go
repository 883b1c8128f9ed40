package store

import (
	"bytes"
	"fmt"

	"rfadesk/bot"
)

// DeleteRFAContent deletes every message text (bucketBodies) and every
// attachment (bucketAttachments) of RFA num: the keys of both start with
// the RFA's number, so this is two prefix walks, whatever else the
// store holds. The RFA record, its summary and indexes are untouched:
// the caller rewrites the record (bot.Desk.Purge) so it no longer
// claims texts it lost.
func (t *tx) DeleteRFAContent(num uint64) (texts, attachments int, err error) {
	prefix := encodeU64(num)
	for _, bk := range []struct {
		name string
		n    *int
	}{{bucketBodies, &texts}, {bucketAttachments, &attachments}} {
		b, err := t.writable(bk.name)
		if err != nil {
			return 0, 0, err
		}
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return 0, 0, fmt.Errorf("store: purge %s from %s: %w", bot.FormatRef(num), bk.name, err)
			}
			*bk.n++
		}
	}
	return texts, attachments, nil
}
