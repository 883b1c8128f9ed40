package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// tx implements bot.Tx over one kv transaction (bbolt's or etcd's: the
// records, indexes and migrations are the same on both). Every value it returns
// is decoded or copied into fresh memory, so callers may keep and mutate
// it after the transaction ends. Getters report a missing record with an
// error wrapping bot.ErrNotFound (test with errors.Is).
type tx struct {
	ktx  kv.Tx
	done bool // set when Update/View returns; further use is an error
	// inRFAs counts running RFASummaries loops: PutRFA and NextRFANumber
	// refuse while one runs, as writing a bucket under an open cursor
	// is undefined (kv.Bucket.ForEach; bbolt's cursors).
	inRFAs int
}

var _ bot.Tx = (*tx)(nil)

// errTxDone is returned when a Tx is used after its Update or View ended.
var errTxDone = errors.New("store: transaction used after it ended")

// errRFAsBusy is returned by writes to the RFA bucket inside RFASummaries.
var errRFAsBusy = errors.New("store: RFA written inside RFASummaries: write after the loop")

// bucket returns the named bucket, or an error if the transaction has
// ended or the bucket is missing (which Open's checks rule out).
func (t *tx) bucket(name string) (kv.Bucket, error) {
	if t.done {
		return nil, errTxDone
	}
	b := t.ktx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("store: bucket %q missing", name)
	}
	return b, nil
}

// writable is bucket for write methods: it refuses read-only transactions.
func (t *tx) writable(name string) (kv.Bucket, error) {
	if t.done {
		return nil, errTxDone
	}
	if !t.ktx.Writable() {
		return nil, ErrReadOnly
	}
	return t.bucket(name)
}

func putJSON(b kv.Bucket, key []byte, v any, what string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", what, err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("store: put %s: %w", what, err)
	}
	return nil
}

func getJSON(b kv.Bucket, key []byte, v any, what string) (found bool, err error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("store: decode %s: %w", what, err)
	}
	return true, nil
}

// NextRFANumber takes the next value of the RFA bucket's sequence. The
// sequence is part of the transaction: if the Update rolls back, so does
// the allocation, and the number is handed out again by a later Update.
// That is correct, since the RFA that held it never existed. A number
// that was committed is never handed out again.
func (t *tx) NextRFANumber() (uint64, error) {
	b, err := t.writable(bucketRFAs)
	if err != nil {
		return 0, err
	}
	if t.inRFAs > 0 {
		return 0, errRFAsBusy
	}
	n, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("store: next RFA number: %w", err)
	}
	return n, nil
}

// RFA decodes the record alone: message texts stay in bucketBodies.
func (t *tx) RFA(num uint64) (*bot.RFA, error) {
	b, err := t.bucket(bucketRFAs)
	if err != nil {
		return nil, err
	}
	r := new(bot.RFA)
	found, err := getJSON(b, encodeU64(num), r, bot.FormatRef(num))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("store: %s: %w", bot.FormatRef(num), bot.ErrNotFound)
	}
	return r, nil
}

// PutRFA inserts or replaces r under r.Num, which must not be 0, with its
// message texts and summary (putRecord, rfa_records.go). A number
// above the allocator's last value (an imported RFA) advances the
// allocator, so NextRFANumber never returns a number already stored. The
// open-RFA, jeopardy, linked-RFA and release indexes follow r in the
// same transaction (indexRFA, indexParent, indexRelease).
func (t *tx) PutRFA(r *bot.RFA) error {
	b, err := t.writable(bucketRFAs)
	if err != nil {
		return err
	}
	if t.inRFAs > 0 {
		return errRFAsBusy
	}
	if r == nil || r.Num == 0 {
		return errors.New("store: PutRFA needs an RFA with a number")
	}
	if err := t.putRecord(b, r); err != nil { // rfa_records.go: texts, record, summary
		return err
	}
	if err := t.indexRFA(r); err != nil { // rfa_indexes.go
		return err
	}
	if err := t.indexParent(r); err != nil { // rfa_links.go
		return err
	}
	if err := t.indexRelease(r); err != nil { // releases.go
		return err
	}
	if r.Num > b.Sequence() {
		if err := b.SetSequence(r.Num); err != nil {
			return fmt.Errorf("store: advance RFA number to %d: %w", r.Num, err)
		}
	}
	return nil
}

// getNum reads an 8-byte number value under a string key.
func (t *tx) getNum(bucket, key string) (num uint64, ok bool, err error) {
	b, err := t.bucket(bucket)
	if err != nil {
		return 0, false, err
	}
	v := b.Get([]byte(key))
	if v == nil {
		return 0, false, nil
	}
	num, err = decodeU64(v)
	if err != nil {
		return 0, false, fmt.Errorf("store: %s %q: %w", bucket, key, err)
	}
	return num, true, nil
}

// putNum writes an 8-byte number value under a non-empty string key.
func (t *tx) putNum(bucket, key string, num uint64) error {
	b, err := t.writable(bucket)
	if err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("store: %s: empty key", bucket)
	}
	if err := b.Put([]byte(key), encodeU64(num)); err != nil {
		return fmt.Errorf("store: %s %q: %w", bucket, key, err)
	}
	return nil
}

func (t *tx) Dedupe(key string) (uint64, bool, error) {
	return t.getNum(bucketDedupe, key)
}

func (t *tx) PutDedupe(key string, num uint64) error {
	return t.putNum(bucketDedupe, key, num)
}

// ThreadByMessageID looks id up as given: the caller normalises it with
// bot.NormalizeMessageID.
func (t *tx) ThreadByMessageID(id string) (uint64, bool, error) {
	return t.getNum(bucketThreads, id)
}

func (t *tx) PutThread(id string, num uint64) error {
	return t.putNum(bucketThreads, id, num)
}

func (t *tx) RFAByChatThread(id string) (uint64, bool, error) {
	return t.getNum(bucketChatThreads, id)
}

func (t *tx) PutChatThread(id string, num uint64) error {
	return t.putNum(bucketChatThreads, id, num)
}

func (t *tx) Cursor(mailbox string) (bot.Cursor, error) {
	b, err := t.bucket(bucketCursors)
	if err != nil {
		return bot.Cursor{}, err
	}
	var c bot.Cursor
	if _, err := getJSON(b, []byte(mailbox), &c, "cursor of "+mailbox); err != nil {
		return bot.Cursor{}, err
	}
	return c, nil
}

func (t *tx) SetCursor(mailbox string, c bot.Cursor) error {
	b, err := t.writable(bucketCursors)
	if err != nil {
		return err
	}
	if mailbox == "" {
		return errors.New("store: SetCursor needs a mailbox name")
	}
	return putJSON(b, []byte(mailbox), c, "cursor of "+mailbox)
}

func (t *tx) PutDeadLetter(dl *bot.DeadLetter) error {
	b, err := t.writable(bucketDeadLetters)
	if err != nil {
		return err
	}
	if dl == nil {
		return errors.New("store: PutDeadLetter of a nil dead letter")
	}
	id, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("store: next dead letter id: %w", err)
	}
	dl.ID = id
	return putJSON(b, encodeU64(id), dl, fmt.Sprintf("dead letter %d", id))
}

func (t *tx) DeadLetter(id uint64) (*bot.DeadLetter, error) {
	b, err := t.bucket(bucketDeadLetters)
	if err != nil {
		return nil, err
	}
	dl := new(bot.DeadLetter)
	found, err := getJSON(b, encodeU64(id), dl, fmt.Sprintf("dead letter %d", id))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("store: dead letter %d: %w", id, bot.ErrNotFound)
	}
	return dl, nil
}

func (t *tx) DeadLetters() ([]bot.DeadLetter, error) {
	b, err := t.bucket(bucketDeadLetters)
	if err != nil {
		return nil, err
	}
	var dls []bot.DeadLetter
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var dl bot.DeadLetter
		if err := json.Unmarshal(v, &dl); err != nil {
			id, _ := decodeU64(k)
			return nil, fmt.Errorf("store: decode dead letter %d: %w", id, err)
		}
		dls = append(dls, dl)
	}
	return dls, nil
}

// AutoReplies lower-cases sender itself, so either case finds the list.
func (t *tx) AutoReplies(sender string) ([]time.Time, error) {
	b, err := t.bucket(bucketAutoReplies)
	if err != nil {
		return nil, err
	}
	var times []time.Time
	if _, err := getJSON(b, []byte(strings.ToLower(sender)), &times, "auto replies to "+sender); err != nil {
		return nil, err
	}
	return times, nil
}

// PutAutoReplies stores times under the lower-cased sender; an empty list
// deletes the entry.
func (t *tx) PutAutoReplies(sender string, times []time.Time) error {
	b, err := t.writable(bucketAutoReplies)
	if err != nil {
		return err
	}
	if sender == "" {
		return errors.New("store: PutAutoReplies needs a sender")
	}
	key := []byte(strings.ToLower(sender))
	if len(times) == 0 {
		if err := b.Delete(key); err != nil {
			return fmt.Errorf("store: delete auto replies to %s: %w", sender, err)
		}
		return nil
	}
	return putJSON(b, key, times, "auto replies to "+sender)
}

// RateState returns the safeguard state stored under key, or the zero
// RateState when there is none.
func (t *tx) RateState(key string) (bot.RateState, error) {
	var st bot.RateState
	b, err := t.bucket(bucketRateStates)
	if err != nil {
		return st, err
	}
	_, err = getJSON(b, []byte(key), &st, "rate state "+key)
	return st, err
}

// PutRateState stores st under key; the zero RateState deletes the entry.
func (t *tx) PutRateState(key string, st bot.RateState) error {
	b, err := t.writable(bucketRateStates)
	if err != nil {
		return err
	}
	if key == "" {
		return errors.New("store: PutRateState needs a key")
	}
	if st.IsZero() {
		if err := b.Delete([]byte(key)); err != nil {
			return fmt.Errorf("store: delete rate state %s: %w", key, err)
		}
		return nil
	}
	return putJSON(b, []byte(key), st, "rate state "+key)
}

// PutAttachment copies data, so the caller may reuse its buffer at once.
func (t *tx) PutAttachment(num uint64, msg, part int, data []byte) error {
	b, err := t.writable(bucketAttachments)
	if err != nil {
		return err
	}
	key, err := attachmentKey(num, msg, part)
	if err != nil {
		return err
	}
	// kv.Bucket.Put keeps a reference to the value until commit; never
	// nil, so an empty attachment is still found.
	if err := b.Put(key, append([]byte{}, data...)); err != nil {
		return fmt.Errorf("store: put attachment %s/%d/%d: %w", bot.FormatRef(num), msg, part, err)
	}
	return nil
}

func (t *tx) GetAttachment(num uint64, msg, part int) ([]byte, error) {
	b, err := t.bucket(bucketAttachments)
	if err != nil {
		return nil, err
	}
	key, err := attachmentKey(num, msg, part)
	if err != nil {
		return nil, err
	}
	v := b.Get(key)
	if v == nil {
		return nil, fmt.Errorf("store: attachment %s/%d/%d: %w", bot.FormatRef(num), msg, part, bot.ErrNotFound)
	}
	return bytes.Clone(v), nil // v is valid only until the tx ends
}
