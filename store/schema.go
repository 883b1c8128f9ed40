package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// This file is the one place that declares the layout: every bucket, how
// its keys and values are encoded, the schema version and the migrations
// that reach it. Nothing else in the package names a bucket or encodes a
// key by hand. The layout is the same on every kv driver: on bbolt the
// buckets are the file's top-level buckets; how another driver lays out
// buckets and sequences in its own key space is its business (package kv).
//
// Integers in keys and values are 8-byte big-endian unsigned, so a cursor
// (kv keeps keys in byte order) walks numeric keys in numeric order. JSON values are the
// encoding/json form of the named Go type.
//
// Beside the database file, at ReceiptsPath(db) (db + ".receipts", mode
// 0600), is the delivery-receipt log (receipts.go): a sequence of
// records, each
//
//	length   4 bytes, big-endian: the payload's size (at most 64 KiB)
//	crc      4 bytes, big-endian: CRC-32C (Castagnoli) of the payload
//	payload  JSON {"item": outbox item id, "chat_post_id", "chat_thread_id",
//	         "refused" (recipients refused for good), "refused_why" (all
//	         omitted when empty), "at": RFC 3339 time of acceptance}
//
// appended and synced one at a time. Reading stops at the first record
// that is short or fails its CRC (a torn append), which OpenReceipts cuts
// off. Every receipt means "this outbox item was accepted"; applying one
// whose item has left the outbox changes nothing. The log is emptied
// once its receipts are committed to the database. It has no version of
// its own: a change of its format raises schemaVersion.

// schemaVersion is the layout this binary reads and writes. Raise it by
// one and append to migrations() whenever the layout changes; Open refuses
// a file whose version is higher.
const schemaVersion = 10

// Bucket names. Each is a top-level bucket.
const (
	// bucketMeta holds database-wide settings.
	//   key "schema_version" -> 8-byte uint64: the layout version.
	bucketMeta = "meta"

	// bucketRFAs holds every RFA, without message texts.
	//   key   RFA number, 8 bytes
	//   value JSON bot.RFA; every message's "text" is "" and its
	//         "text_len" the length of the text in bucketBodies
	// The bucket's sequence (NextSequence) is the RFA number allocator: it
	// is never used for anything else.
	bucketRFAs = "rfas"

	// bucketDedupe records every email intake has handled.
	//   key   bot.Mail.DedupeKey ("mid:..." or "sha256:...")
	//   value RFA number, 8 bytes; 0 when the email made no RFA
	bucketDedupe = "dedupe"

	// bucketThreads maps a message to the RFA whose conversation it is on.
	//   key   normalised Message-ID (bot.NormalizeMessageID)
	//   value RFA number, 8 bytes
	bucketThreads = "threads"

	// bucketOutbox holds side effects waiting for delivery.
	//   key   outbox item id, 8 bytes (from the bucket's NextSequence)
	//   value JSON bot.OutboxItem; mail attachments carry "blob" (a
	//         reference into bucketOutboxBlobs), never "data"
	bucketOutbox = "outbox"

	// bucketOutboxDue indexes the outbox by kind and next attempt, so a
	// deliverer reads only its due items. One entry per item.
	//   key   outboxDueKey: kind | 0x00 | next attempt (8, unix nanos,
	//         clamped to 0 before 1970) | item id (8)
	//   value empty
	bucketOutboxDue = "outbox_due"

	// bucketOutboxBlobs holds the bytes of outbox mail attachments, once
	// per content.
	//   key   SHA-256 of the bytes, 32 bytes (reference "sha256:" + hex)
	//   value the bytes
	bucketOutboxBlobs = "outbox_blobs"

	// bucketOutboxBlobRefs counts the outbox items referencing a blob;
	// the blob is deleted with its last reference.
	//   key   as bucketOutboxBlobs
	//   value count, 8 bytes
	bucketOutboxBlobRefs = "outbox_blob_refs"

	// bucketCursors holds the intake position of each mailbox.
	//   key   mailbox name as given by the intake (e.g. "INBOX")
	//   value JSON bot.Cursor
	bucketCursors = "cursors"

	// bucketDeadLetters holds messages that could not become RFAs.
	//   key   dead letter id, 8 bytes (from the bucket's NextSequence)
	//   value JSON bot.DeadLetter (Raw included)
	bucketDeadLetters = "dead_letters"

	// bucketAutoReplies rate-limits automatic mail per recipient.
	//   key   recipient address, lower-cased
	//   value JSON []time.Time, oldest first
	bucketAutoReplies = "auto_replies"

	// bucketAttachments holds stored attachment content.
	//   key   attachmentKey: RFA number (8) | message index (4) | part index (4)
	//   value the decoded attachment bytes
	bucketAttachments = "attachments"

	// bucketChatThreads maps a staff-chat thread to its RFA.
	//   key   chat thread id (Discord channel snowflake, decimal text)
	//   value RFA number, 8 bytes
	bucketChatThreads = "chat_threads"

	// bucketBodies holds the text of every message with a non-empty one
	// (bot.Message.Text), apart from the RFA record. Texts are written
	// once and never change.
	//   key   bodyKey: RFA number (8) | message index (4)
	//   value the text, UTF-8
	bucketBodies = "bodies"

	// bucketSummaries holds each RFA's summary, written with the RFA.
	//   key   RFA number, 8 bytes
	//   value JSON bot.RFASummary (bot.SummaryOf of the stored RFA)
	bucketSummaries = "rfa_summaries"

	// bucketRateStates holds the state of the desk's intake safeguards
	// (since version 3): per-sender RFA openings, the acknowledgement
	// limit for unknown domains, batched staff alerts.
	//   key   a safeguard key chosen by the bot package (bot.RateKey*)
	//   value JSON bot.RateState
	bucketRateStates = "rate_states"

	// bucketOpenRFAs indexes every RFA whose status is not closed, so
	// "what is live" costs the live RFAs, not the archive.
	//   key   RFA number, 8 bytes
	//   value empty
	// PutRFA keeps it in the same transaction as the RFA.
	bucketOpenRFAs = "open_rfas"

	// bucketJeopardy is the persisted jeopardy schedule: one entry per RFA
	// with an escalation point to come, ordered by when it is due.
	//   key   jeopardyKey: at (8, unix nanoseconds, big-endian) | RFA number (8)
	//   value empty
	// PutRFA writes bot.RFA.NextEscalation here (a zero time: no entry);
	// Tx.RescheduleEscalation moves an entry without the RFA.
	bucketJeopardy = "jeopardy"

	// bucketJeopardyRFAs is bucketJeopardy's reverse, so that a write
	// finds the entry it replaces without decoding the old RFA.
	//   key   RFA number, 8 bytes
	//   value at, 8 bytes (unix nanoseconds, as in the jeopardy key)
	// It has an entry exactly when bucketJeopardy has one for the RFA.
	bucketJeopardyRFAs = "jeopardy_rfas"

	// bucketBreachedRFAs indexes the RFAs not closed whose history holds
	// an SLA breach (bot.EventBreach), since version 6, so metrics count
	// them without reading an RFA.
	//   key   RFA number, 8 bytes
	//   value empty
	// putRecord keeps it in the transaction that writes the RFA.
	bucketBreachedRFAs = "breached_rfas"

	// bucketOrgIndex indexes RFAs by organisation and by trust (since
	// version 7), for organisation pages: newest first within each name.
	//   key   orgIndexKey: kind ('o': bot.RFA.Organisation, 't':
	//         bot.RFA.Trust) | the name, lower-cased | 0x00 |
	//         math.MaxUint64 - RFA number (8)
	//   value empty
	// putRecord keeps it with the summary; an empty name has no entry.
	bucketOrgIndex = "org_index"

	// bucketOrgLinks holds the private organisation-page links (since
	// version 7). The bucket's sequence allocates link ids.
	//   key   SHA-256 of the link's token, 32 bytes (never the token)
	//   value JSON bot.OrgLink
	bucketOrgLinks = "org_links"

	// bucketRFAChildren indexes linked RFAs by their parent (since
	// version 8), so clearing a parent finds its children without
	// walking the store.
	//   key   linkKey: parent RFA number (8) | child RFA number (8)
	//   value empty
	// PutRFA keeps it in the same transaction as the child (bot.RFA.Parent).
	bucketRFAChildren = "rfa_children"

	// bucketRFAParents is bucketRFAChildren's reverse, so that a write
	// finds the entry it replaces without decoding the old RFA.
	//   key   child RFA number, 8 bytes
	//   value parent RFA number, 8 bytes
	// It has an entry exactly when bucketRFAChildren has one for the child.
	bucketRFAParents = "rfa_parents"

	// bucketOutages holds the service notices (since version 9). The
	// bucket's sequence allocates outage ids.
	//   key   outage id, 8 bytes
	//   value JSON bot.Outage
	bucketOutages = "outages"

	// bucketActiveOutages lists the outages not ended (since version 9).
	//   key   outage id, 8 bytes
	//   value empty
	// PutOutage keeps it in the transaction that writes the outage.
	bucketActiveOutages = "active_outages"

	// bucketReleases holds the releases staff added, moved or shipped
	// (since version 10; computed releases are not stored until then).
	//   key   release name, lower-cased
	//   value JSON bot.ReleaseInfo
	bucketReleases = "releases"

	// bucketReleaseRFAs indexes the RFAs planned for a release that are
	// not cleared, closed or held (since version 10), so shipping finds
	// them without walking the store.
	//   key   releaseRFAKey: release name, lower-cased | 0x00 | RFA number (8)
	//   value empty
	// PutRFA keeps it in the RFA's transaction (bot.RFA.Release).
	bucketReleaseRFAs = "release_rfas"

	// bucketRFAReleases is bucketReleaseRFAs' reverse.
	//   key   RFA number, 8 bytes
	//   value release name, lower-cased
	bucketRFAReleases = "rfa_releases"
)

// keyReleaseCadence is the key in bucketMeta of the JSON
// bot.ReleaseCadence: the cadence alerts sent (since version 9).
const keyReleaseCadence = "release_cadence"

// keySchemaVersion is the key of the version in bucketMeta.
const keySchemaVersion = "schema_version"

// keyJeopardyPolicy is the key in bucketMeta of the fingerprint of the
// escalation policy the jeopardy schedule was computed with (text, as
// given to Tx.SetEscalationPolicy). Absent: the schedule was never
// computed, and the domain rebuilds it.
const keyJeopardyPolicy = "jeopardy_policy"

// keyRFACountPrefix starts the keys in bucketMeta that count RFAs by
// status and severity (since version 6):
//
//	key   rfaCountKey: "rfa_count\x00" | status | 0x00 | severity ("" when none)
//	value count, 8 bytes; a pair with no RFA has no key
//
// putRecord keeps them in the transaction that writes the RFA.
const keyRFACountPrefix = "rfa_count\x00"

// rfaCountKey is the bucketMeta key of the count of one pair.
func rfaCountKey(status bot.Status, severity bot.Severity) ([]byte, error) {
	if strings.IndexByte(string(status), 0) >= 0 || strings.IndexByte(string(severity), 0) >= 0 {
		return nil, fmt.Errorf("store: status %q or severity %q contains a NUL byte", status, severity)
	}
	return []byte(keyRFACountPrefix + string(status) + "\x00" + string(severity)), nil
}

// allBuckets lists every bucket the current schema has.
func allBuckets() []string {
	return []string{
		bucketMeta, bucketRFAs, bucketDedupe, bucketThreads, bucketOutbox,
		bucketCursors, bucketDeadLetters, bucketAutoReplies, bucketAttachments,
		bucketChatThreads, bucketBodies, bucketSummaries, bucketRateStates,
		bucketOutboxDue, bucketOutboxBlobs, bucketOutboxBlobRefs,
		bucketOpenRFAs, bucketJeopardy, bucketJeopardyRFAs, bucketBreachedRFAs,
		bucketOrgIndex, bucketOrgLinks,
		bucketRFAChildren, bucketRFAParents,
		bucketOutages, bucketActiveOutages,
		bucketReleases, bucketReleaseRFAs, bucketRFAReleases,
	}
}

// migration moves the layout from version to-1 to version to. It runs
// inside the one Update that Open (OpenOn) uses for all pending
// migrations, so a failing migration leaves the store as it was.
type migration struct {
	to   uint64
	name string
	fn   func(kv.Tx) error
}

// migrations returns every migration in order; the last one's "to" is
// schemaVersion.
func migrations() []migration {
	return []migration{
		{to: 1, name: "create buckets", fn: func(tx kv.Tx) error {
			for _, name := range allBuckets() {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("create bucket %q: %w", name, err)
				}
			}
			return nil
		}},
		{to: 2, name: "message texts and summaries out of the RFA record", fn: migrateTextsOut},
		{to: 3, name: "intake safeguards", fn: func(tx kv.Tx) error {
			if _, err := tx.CreateBucketIfNotExists(bucketRateStates); err != nil {
				return fmt.Errorf("create bucket %q: %w", bucketRateStates, err)
			}
			return nil
		}},
		{to: 4, name: "index the outbox, store its attachments once", fn: migrateOutboxIndex},
		{to: 5, name: "open-RFA and jeopardy indexes", fn: migrateIndexes},
		{to: 6, name: "RFA counts by status and severity, breached-RFA index", fn: migrateRFACounts},
		{to: 7, name: "organisation indexes and links", fn: migrateOrgIndex},  // org_index.go
		{to: 8, name: "linked-RFA index", fn: migrateLinks},                   // rfa_links.go
		{to: 9, name: "service notices", fn: migrateOutages},                  // outages.go
		{to: 10, name: "releases and the release index", fn: migrateReleases}, // releases.go
	}
}

// migrateTextsOut (version 2) moves every message text out of the RFA
// records into bucketBodies and writes every RFA's summary. It uses the
// store's own record writing (rfa_records.go), not PutRFA, so that what
// later versions add to PutRFA does not run before its buckets exist.
func migrateTextsOut(ktx kv.Tx) error {
	for _, name := range []string{bucketBodies, bucketSummaries} {
		if _, err := ktx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	rfas := ktx.Bucket(bucketRFAs)
	var keys [][]byte
	if err := rfas.ForEach(func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	t := &tx{ktx: ktx}
	for _, k := range keys {
		r := new(bot.RFA)
		if err := json.Unmarshal(rfas.Get(k), r); err != nil {
			num, _ := decodeU64(k)
			return fmt.Errorf("decode %s: %w", bot.FormatRef(num), err)
		}
		if err := t.putRecord(rfas, r); err != nil {
			return err
		}
	}
	return nil
}

// migrateIndexes (version 5) creates the open-RFA and jeopardy indexes of
// an existing store. The open index is filled from each RFA's status
// (only that field is decoded). The jeopardy index is left empty and the
// policy fingerprint absent: the domain computes every open RFA's next
// point once at start-up (see Tx.EscalationPolicy).
func migrateIndexes(tx kv.Tx) error {
	for _, name := range []string{bucketOpenRFAs, bucketJeopardy, bucketJeopardyRFAs} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	rfas := tx.Bucket(bucketRFAs)
	if rfas == nil {
		return fmt.Errorf("bucket %q missing", bucketRFAs)
	}
	open := tx.Bucket(bucketOpenRFAs)
	err := rfas.ForEach(func(k, v []byte) error {
		var r struct {
			Status bot.Status `json:"status"`
		}
		if err := json.Unmarshal(v, &r); err != nil {
			num, _ := decodeU64(k)
			return fmt.Errorf("decode %s: %w", bot.FormatRef(num), err)
		}
		if r.Status == bot.StatusClosed {
			return nil
		}
		return open.Put(bytes.Clone(k), []byte{})
	})
	if err != nil {
		return err
	}
	if meta := tx.Bucket(bucketMeta); meta != nil {
		return meta.Delete([]byte(keyJeopardyPolicy))
	}
	return nil
}

// checkVersion returns the schema version stored in tx (0 for an empty
// store), or a *SchemaError when it is newer than this binary's.
func checkVersion(tx kv.Tx, name string) (uint64, error) {
	var have uint64
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get([]byte(keySchemaVersion)); v != nil {
			n, err := decodeU64(v)
			if err != nil {
				return 0, fmt.Errorf("store: %s: bad schema version: %w", name, err)
			}
			have = n
		}
	}
	if have > schemaVersion {
		return have, &SchemaError{Path: name, Version: have, Supports: schemaVersion}
	}
	return have, nil
}

// SchemaError is returned by Open and OpenOn for a store written by a
// newer rfadesk.
type SchemaError struct {
	Path     string // the store's name: the file path on bbolt (DB.Name)
	Version  uint64 // version found in the store
	Supports uint64 // highest version this binary understands
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d, this binary understands up to %d: upgrade rfadesk",
		e.Path, e.Version, e.Supports)
}

// migrate brings the store called name to schemaVersion within tx: it
// reads the stored version (0 for a fresh store), refuses a newer one,
// runs the pending migrations in order, writes the new version and checks
// that every bucket exists.
func migrate(tx kv.Tx, name string) error {
	have, err := checkVersion(tx, name)
	if err != nil {
		return err
	}
	for _, m := range migrations() {
		if m.to <= have {
			continue
		}
		if err := m.fn(tx); err != nil {
			return fmt.Errorf("store: %s: migration to version %d (%s): %w", name, m.to, m.name, err)
		}
		have = m.to
	}
	if have != schemaVersion {
		return fmt.Errorf("store: %s: migrations end at version %d, want %d", name, have, schemaVersion)
	}
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return fmt.Errorf("store: %s: bucket %q missing after migration", name, bucketMeta)
	}
	if err := meta.Put([]byte(keySchemaVersion), encodeU64(schemaVersion)); err != nil {
		return fmt.Errorf("store: %s: write schema version: %w", name, err)
	}
	for _, bucket := range allBuckets() {
		if tx.Bucket(bucket) == nil {
			return fmt.Errorf("store: %s: bucket %q missing at schema version %d", name, bucket, have)
		}
	}
	return nil
}

// encodeU64 is the 8-byte big-endian form of n, used for RFA numbers,
// outbox and dead letter ids, and numeric values.
func encodeU64(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// decodeU64 reverses encodeU64.
func decodeU64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("want 8 bytes, got %d", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// bodyKey is num(8) | msg(4), both big-endian, so the texts of one RFA
// are adjacent and in message order.
func bodyKey(num uint64, msg int) ([]byte, error) {
	if msg < 0 || msg > math.MaxUint32 {
		return nil, fmt.Errorf("store: message index %d out of range", msg)
	}
	k := make([]byte, 0, 12)
	k = binary.BigEndian.AppendUint64(k, num)
	return binary.BigEndian.AppendUint32(k, uint32(msg)), nil
}

// attachmentKey is num(8) | msg(4) | part(4), all big-endian, so the
// attachments of one RFA are adjacent and ordered by message and part.
func attachmentKey(num uint64, msg, part int) ([]byte, error) {
	if msg < 0 || msg > math.MaxUint32 || part < 0 || part > math.MaxUint32 {
		return nil, fmt.Errorf("store: attachment index out of range (message %d, part %d)", msg, part)
	}
	k := make([]byte, 0, 16)
	k = binary.BigEndian.AppendUint64(k, num)
	k = binary.BigEndian.AppendUint32(k, uint32(msg))
	k = binary.BigEndian.AppendUint32(k, uint32(part))
	return k, nil
}

// blobRefPrefix starts every outbox attachment reference.
const blobRefPrefix = "sha256:"

// blobKey is the bucketOutboxBlobs key of a reference.
func blobKey(ref string) ([]byte, error) {
	h, ok := strings.CutPrefix(ref, blobRefPrefix)
	key, err := hex.DecodeString(h)
	if !ok || err != nil || len(key) != sha256.Size {
		return nil, fmt.Errorf("store: bad outbox attachment reference %q", ref)
	}
	return key, nil
}

// outboxDuePrefix is kind | 0x00: the start of every due index key of kind.
func outboxDuePrefix(kind bot.OutboxKind) ([]byte, error) {
	if strings.IndexByte(string(kind), 0) >= 0 {
		return nil, fmt.Errorf("store: outbox kind %q contains a NUL byte", kind)
	}
	return append([]byte(kind), 0), nil
}

// outboxDueKey is kind | 0x00 | dueNanos(at) (8) | id (8), so a cursor
// walks one kind's items by next attempt, then id.
func outboxDueKey(kind bot.OutboxKind, at time.Time, id uint64) ([]byte, error) {
	k, err := outboxDuePrefix(kind)
	if err != nil {
		return nil, err
	}
	k = binary.BigEndian.AppendUint64(k, dueNanos(at))
	return binary.BigEndian.AppendUint64(k, id), nil
}

// splitOutboxDueKey reads the time and id after a prefix of n bytes.
func splitOutboxDueKey(k []byte, n int) (at, id uint64, err error) {
	if len(k) != n+16 {
		return 0, 0, fmt.Errorf("store: outbox due key of %d bytes, want %d", len(k), n+16)
	}
	return binary.BigEndian.Uint64(k[n : n+8]), binary.BigEndian.Uint64(k[n+8:]), nil
}

// dueNanos is t in unix nanoseconds, 0 for anything before 1970 (the
// zero time: due at once) and the maximum after 2262.
func dueNanos(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// migrateOutboxIndex (version 4) creates the due index and blob buckets,
// moves the attachment bytes of every pending outbox item into the blob
// bucket (one copy per content, counted per item) and indexes the item.
func migrateOutboxIndex(ktx kv.Tx) error {
	for _, name := range []string{bucketOutboxDue, bucketOutboxBlobs, bucketOutboxBlobRefs} {
		if _, err := ktx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	out := ktx.Bucket(bucketOutbox)
	if out == nil {
		return fmt.Errorf("bucket %q missing", bucketOutbox)
	}
	// Read first: the outbox is rewritten below, never under its cursor.
	var items []bot.OutboxItem
	err := out.ForEach(func(k, v []byte) error {
		var it bot.OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			id, _ := decodeU64(k)
			return fmt.Errorf("decode outbox item %d: %w", id, err)
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return err
	}
	t := &tx{ktx: ktx}
	for i := range items {
		if err := t.putItem(&items[i], nil); err != nil {
			return err
		}
	}
	return nil
}

// jeopardyKey is at(8) | num(8), both big-endian: at as unix nanoseconds
// (a time before 1970 counts as 1970), so a cursor walks the schedule in
// time order and, within an instant, in RFA number order.
func jeopardyKey(at time.Time, num uint64) []byte {
	k := make([]byte, 0, 16)
	k = binary.BigEndian.AppendUint64(k, dueNanos(at))
	return binary.BigEndian.AppendUint64(k, num)
}

// linkKey is parent(8) | child(8), both big-endian, so the children of
// one parent are adjacent and in number order.
func linkKey(parent, child uint64) []byte {
	k := make([]byte, 0, 16)
	k = binary.BigEndian.AppendUint64(k, parent)
	return binary.BigEndian.AppendUint64(k, child)
}

// decodeJeopardyKey reverses jeopardyKey; times come back in UTC.
func decodeJeopardyKey(k []byte) (at time.Time, num uint64, err error) {
	if len(k) != 16 {
		return time.Time{}, 0, fmt.Errorf("jeopardy key: want 16 bytes, got %d", len(k))
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(), binary.BigEndian.Uint64(k[8:]), nil
}
