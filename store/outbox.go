package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// The outbox is three things kept in step by every write below: the items
// (bucketOutbox), the due index (bucketOutboxDue: kind | next attempt |
// id), and the attachment bytes of outgoing mail, stored once per content
// (bucketOutboxBlobs) with a count of the items that reference them
// (bucketOutboxBlobRefs). A stored item's attachments carry a Blob
// reference and no Data.

// Enqueue sets item.ID from the outbox bucket's sequence (rolled back
// with the transaction, like RFA numbers) and stores the item, its due
// index entry and its attachment bytes (once per content). item itself is
// left as given, apart from ID.
func (t *tx) Enqueue(item *bot.OutboxItem) (uint64, error) {
	b, err := t.writable(bucketOutbox)
	if err != nil {
		return 0, err
	}
	if item == nil {
		return 0, errors.New("store: Enqueue of a nil item")
	}
	id, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("store: next outbox id: %w", err)
	}
	item.ID = id
	if err := t.putItem(item, nil); err != nil {
		return 0, err
	}
	return id, nil
}

// UpdateOutbox replaces the item with item.ID; it returns an error
// wrapping bot.ErrNotFound if that item is no longer pending (it was
// deleted), so a delivered item is never brought back.
func (t *tx) UpdateOutbox(item *bot.OutboxItem) error {
	if _, err := t.writable(bucketOutbox); err != nil {
		return err
	}
	if item == nil {
		return errors.New("store: UpdateOutbox of a nil item")
	}
	old, err := t.OutboxItem(item.ID)
	if err != nil {
		return err
	}
	return t.putItem(item, old)
}

// DeleteOutbox removes item id with its index entry, and its attachment
// bytes when no other item references them; deleting an item that is
// not there is not an error.
func (t *tx) DeleteOutbox(id uint64) error {
	b, err := t.writable(bucketOutbox)
	if err != nil {
		return err
	}
	old, err := t.OutboxItem(id)
	if errors.Is(err, bot.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := t.unindex(old); err != nil {
		return err
	}
	if err := b.Delete(encodeU64(id)); err != nil {
		return fmt.Errorf("store: delete outbox item %d: %w", id, err)
	}
	return nil
}

// OutboxItem loads one pending item (attachments by reference).
func (t *tx) OutboxItem(id uint64) (*bot.OutboxItem, error) {
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return nil, err
	}
	it := new(bot.OutboxItem)
	found, err := getJSON(b, encodeU64(id), it, fmt.Sprintf("outbox item %d", id))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("store: outbox item %d: %w", id, bot.ErrNotFound)
	}
	return it, nil
}

// Outbox decodes every pending item, in ID order: for the admin listing.
func (t *tx) Outbox() ([]bot.OutboxItem, error) {
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return nil, err
	}
	var items []bot.OutboxItem
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var it bot.OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			id, _ := decodeU64(k)
			return nil, fmt.Errorf("store: decode outbox item %d: %w", id, err)
		}
		items = append(items, it)
	}
	return items, nil
}

// DueOutbox walks the due index: it decodes only the items it returns.
func (t *tx) DueOutbox(kind bot.OutboxKind, by time.Time, limit int) ([]bot.OutboxItem, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: DueOutbox needs a positive limit, got %d", limit)
	}
	idx, err := t.bucket(bucketOutboxDue)
	if err != nil {
		return nil, err
	}
	prefix, err := outboxDuePrefix(kind)
	if err != nil {
		return nil, err
	}
	end := dueNanos(by)
	var items []bot.OutboxItem
	c := idx.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(items) < limit; k, _ = c.Next() {
		at, id, err := splitOutboxDueKey(k, len(prefix))
		if err != nil {
			return nil, err
		}
		if at > end {
			break
		}
		it, err := t.OutboxItem(id)
		if err != nil {
			return nil, fmt.Errorf("store: due index names outbox item %d: %w", id, err)
		}
		items = append(items, *it)
	}
	return items, nil
}

// NextOutboxAttempt reads the first due index entry of kind.
func (t *tx) NextOutboxAttempt(kind bot.OutboxKind) (time.Time, bool, error) {
	idx, err := t.bucket(bucketOutboxDue)
	if err != nil {
		return time.Time{}, false, err
	}
	prefix, err := outboxDuePrefix(kind)
	if err != nil {
		return time.Time{}, false, err
	}
	k, _ := idx.Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return time.Time{}, false, nil
	}
	at, _, err := splitOutboxDueKey(k, len(prefix))
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Unix(0, int64(at)).UTC(), true, nil
}

// OutboxAttachment returns a copy of the bytes a stored attachment's
// Blob reference names.
func (t *tx) OutboxAttachment(ref string) ([]byte, error) {
	b, err := t.bucket(bucketOutboxBlobs)
	if err != nil {
		return nil, err
	}
	key, err := blobKey(ref)
	if err != nil {
		return nil, err
	}
	v := b.Get(key)
	if v == nil {
		return nil, fmt.Errorf("store: outbox attachment %s: %w", ref, bot.ErrNotFound)
	}
	return bytes.Clone(v), nil
}

// putItem writes item (replacing old, nil for a new item): its JSON with
// attachment bytes moved to the blob bucket, its due index entry, and the
// reference counts (the new item's taken before old's are dropped, so a
// blob both reference survives).
func (t *tx) putItem(item, old *bot.OutboxItem) error {
	b, err := t.writable(bucketOutbox)
	if err != nil {
		return err
	}
	stored, err := t.storeAttachments(item)
	if err != nil {
		return err
	}
	if old != nil {
		if err := t.unindex(old); err != nil {
			return err
		}
	}
	if err := putJSON(b, encodeU64(item.ID), stored, fmt.Sprintf("outbox item %d", item.ID)); err != nil {
		return err
	}
	idx, err := t.writable(bucketOutboxDue)
	if err != nil {
		return err
	}
	key, err := outboxDueKey(item.Kind, item.NextAttempt, item.ID)
	if err != nil {
		return err
	}
	if err := idx.Put(key, []byte{}); err != nil {
		return fmt.Errorf("store: index outbox item %d: %w", item.ID, err)
	}
	return nil
}

// unindex removes old's due index entry and drops its blob references.
func (t *tx) unindex(old *bot.OutboxItem) error {
	idx, err := t.writable(bucketOutboxDue)
	if err != nil {
		return err
	}
	key, err := outboxDueKey(old.Kind, old.NextAttempt, old.ID)
	if err != nil {
		return err
	}
	if err := idx.Delete(key); err != nil {
		return fmt.Errorf("store: unindex outbox item %d: %w", old.ID, err)
	}
	if old.Mail == nil {
		return nil
	}
	for _, a := range old.Mail.Attachments {
		if a.Blob == "" {
			continue
		}
		if err := t.dropBlobRef(a.Blob); err != nil {
			return err
		}
	}
	return nil
}

// storeAttachments returns the form of item that is stored: a copy whose
// mail attachments hold a Blob reference instead of Data. Bytes are put
// in the blob bucket (once per content); every reference it returns has
// been counted.
func (t *tx) storeAttachments(item *bot.OutboxItem) (*bot.OutboxItem, error) {
	if item.Mail == nil || len(item.Mail.Attachments) == 0 {
		return item, nil
	}
	stored := *item
	mail := *item.Mail
	mail.Attachments = make([]bot.Attachment, len(item.Mail.Attachments))
	for i, a := range item.Mail.Attachments {
		switch {
		case len(a.Data) > 0:
			ref, err := t.addBlob(a.Data)
			if err != nil {
				return nil, err
			}
			a.Blob, a.Data = ref, nil
		case a.Blob != "":
			if err := t.addBlobRef(a.Blob); err != nil {
				return nil, err
			}
		}
		mail.Attachments[i] = a
	}
	stored.Mail = &mail
	return &stored, nil
}

// putBlob stores data under its SHA-256 unless it is there already and
// returns its reference; it counts nothing.
func putBlob(blobs kv.Bucket, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	if blobs.Get(sum[:]) == nil {
		// Put keeps the value until commit: give it its own copy.
		if err := blobs.Put(sum[:], bytes.Clone(data)); err != nil {
			return "", fmt.Errorf("store: put outbox attachment: %w", err)
		}
	}
	return blobRefPrefix + hex.EncodeToString(sum[:]), nil
}

// addBlob stores data once per content and counts one more reference to
// it; it returns the reference.
func (t *tx) addBlob(data []byte) (string, error) {
	blobs, err := t.writable(bucketOutboxBlobs)
	if err != nil {
		return "", err
	}
	ref, err := putBlob(blobs, data)
	if err != nil {
		return "", err
	}
	return ref, t.addBlobRef(ref)
}

// addBlobRef counts one more reference to a stored blob.
func (t *tx) addBlobRef(ref string) error {
	refs, err := t.writable(bucketOutboxBlobRefs)
	if err != nil {
		return err
	}
	blobs, err := t.writable(bucketOutboxBlobs)
	if err != nil {
		return err
	}
	key, err := blobKey(ref)
	if err != nil {
		return err
	}
	if blobs.Get(key) == nil {
		return fmt.Errorf("store: outbox attachment %s: %w", ref, bot.ErrNotFound)
	}
	return addRef(refs, key)
}

// dropBlobRef counts one reference less, deleting the blob at zero.
func (t *tx) dropBlobRef(ref string) error {
	refs, err := t.writable(bucketOutboxBlobRefs)
	if err != nil {
		return err
	}
	key, err := blobKey(ref)
	if err != nil {
		return err
	}
	n, err := refCount(refs, key)
	if err != nil {
		return err
	}
	if n > 1 {
		if err := refs.Put(key, encodeU64(n-1)); err != nil {
			return fmt.Errorf("store: count outbox attachment reference: %w", err)
		}
		return nil
	}
	blobs, err := t.writable(bucketOutboxBlobs)
	if err != nil {
		return err
	}
	if err := errors.Join(refs.Delete(key), blobs.Delete(key)); err != nil {
		return fmt.Errorf("store: delete outbox attachment %s: %w", ref, err)
	}
	return nil
}

// refCount reads the reference count under key (0 if none).
func refCount(refs kv.Bucket, key []byte) (uint64, error) {
	v := refs.Get(key)
	if v == nil {
		return 0, nil
	}
	n, err := decodeU64(v)
	if err != nil {
		return 0, fmt.Errorf("store: outbox attachment reference count: %w", err)
	}
	return n, nil
}

// addRef counts one more reference under key.
func addRef(refs kv.Bucket, key []byte) error {
	n, err := refCount(refs, key)
	if err != nil {
		return err
	}
	if err := refs.Put(key, encodeU64(n+1)); err != nil {
		return fmt.Errorf("store: count outbox attachment reference: %w", err)
	}
	return nil
}
