package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// The RFA indexes: the open-RFA index (bucketOpenRFAs) and the persisted
// jeopardy schedule (bucketJeopardy with its reverse bucketJeopardyRFAs).
// PutRFA keeps both in its transaction through indexRFA, so they never
// disagree with the RFAs they describe.

// indexRFA brings the open and jeopardy indexes in line with r, which
// PutRFA is storing in the same transaction: r is open unless closed
// or held unverified (bot.Status.Held),
// and its schedule entry is r.NextEscalation (zero: none).
func (t *tx) indexRFA(r *bot.RFA) error {
	open, err := t.writable(bucketOpenRFAs)
	if err != nil {
		return err
	}
	key := encodeU64(r.Num)
	// A held (unverified) web submission is not open work either.
	wantOpen := r.Status != bot.StatusClosed && !r.Status.Held()
	switch isOpen := open.Get(key) != nil; {
	case wantOpen && !isOpen:
		if err := open.Put(key, []byte{}); err != nil {
			return fmt.Errorf("store: index %s as open: %w", r.Ref(), err)
		}
	case !wantOpen && isOpen:
		if err := open.Delete(key); err != nil {
			return fmt.Errorf("store: drop %s from the open index: %w", r.Ref(), err)
		}
	}
	return t.setEscalation(r.Num, r.NextEscalation)
}

// setEscalation makes at the schedule entry of RFA num; zero removes it.
// An entry already at at is left as it is (no page is dirtied).
func (t *tx) setEscalation(num uint64, at time.Time) error {
	sched, err := t.writable(bucketJeopardy)
	if err != nil {
		return err
	}
	rev, err := t.writable(bucketJeopardyRFAs)
	if err != nil {
		return err
	}
	key := encodeU64(num)
	if old := rev.Get(key); old != nil {
		oldAt, err := decodeU64(old)
		if err != nil {
			return fmt.Errorf("store: jeopardy entry of %s: %w", bot.FormatRef(num), err)
		}
		if !at.IsZero() && oldAt == dueNanos(at) {
			return nil
		}
		if err := sched.Delete(jeopardyKey(time.Unix(0, int64(oldAt)), num)); err != nil {
			return fmt.Errorf("store: drop jeopardy entry of %s: %w", bot.FormatRef(num), err)
		}
		if err := rev.Delete(key); err != nil {
			return fmt.Errorf("store: drop jeopardy entry of %s: %w", bot.FormatRef(num), err)
		}
	}
	if at.IsZero() {
		return nil
	}
	if err := sched.Put(jeopardyKey(at, num), []byte{}); err != nil {
		return fmt.Errorf("store: schedule %s: %w", bot.FormatRef(num), err)
	}
	if err := rev.Put(key, encodeU64(dueNanos(at))); err != nil {
		return fmt.Errorf("store: schedule %s: %w", bot.FormatRef(num), err)
	}
	return nil
}

// RescheduleEscalation moves RFA num's schedule entry to at (zero removes
// it) without touching the RFA.
func (t *tx) RescheduleEscalation(num uint64, at time.Time) error {
	if num == 0 {
		return errors.New("store: RescheduleEscalation needs an RFA number")
	}
	return t.setEscalation(num, at)
}

// NextEscalation reads the schedule's first key: one cursor seek.
func (t *tx) NextEscalation() (num uint64, at time.Time, ok bool, err error) {
	sched, err := t.bucket(bucketJeopardy)
	if err != nil {
		return 0, time.Time{}, false, err
	}
	k, _ := sched.Cursor().First()
	if k == nil {
		return 0, time.Time{}, false, nil
	}
	at, num, err = decodeJeopardyKey(k)
	if err != nil {
		return 0, time.Time{}, false, fmt.Errorf("store: %w", err)
	}
	return num, at, true, nil
}

// DueEscalations walks the schedule from its start and stops at the
// first entry after until or at limit entries.
func (t *tx) DueEscalations(until time.Time, limit int) ([]uint64, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: DueEscalations limit %d: want at least 1", limit)
	}
	sched, err := t.bucket(bucketJeopardy)
	if err != nil {
		return nil, err
	}
	var nums []uint64
	c := sched.Cursor()
	for k, _ := c.First(); k != nil && len(nums) < limit; k, _ = c.Next() {
		at, num, err := decodeJeopardyKey(k)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if at.After(until) {
			break
		}
		nums = append(nums, num)
	}
	return nums, nil
}

// OpenRFAs seeks the open index to after+1 and decodes up to limit RFAs
// from there; the cursor is closed before it returns, so the caller may
// write what it read.
func (t *tx) OpenRFAs(after uint64, limit int) ([]*bot.RFA, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: OpenRFAs limit %d: want at least 1", limit)
	}
	open, err := t.bucket(bucketOpenRFAs)
	if err != nil {
		return nil, err
	}
	rfas, err := t.bucket(bucketRFAs)
	if err != nil {
		return nil, err
	}
	var out []*bot.RFA
	if after == ^uint64(0) {
		return nil, nil
	}
	c := open.Cursor()
	for k, _ := c.Seek(encodeU64(after + 1)); k != nil && len(out) < limit; k, _ = c.Next() {
		r, err := decodeIndexed(rfas, k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// OpenRFASummaries is RFASummaries through the open-RFA index: it calls
// fn for the summary of every RFA not closed (nor held) numbered above
// after, in number order, until fn returns false or an error. Its cost is
// the open RFAs it visits, whatever the archive holds.
func (t *tx) OpenRFASummaries(after uint64, fn func(*bot.RFASummary) (bool, error)) (bool, error) {
	open, err := t.bucket(bucketOpenRFAs)
	if err != nil {
		return false, err
	}
	sums, err := t.bucket(bucketSummaries)
	if err != nil {
		return false, err
	}
	return t.walkSummaries(open.Cursor(), after, func(k, _ []byte) ([]byte, error) {
		if v := sums.Get(k); v != nil {
			return v, nil
		}
		num, _ := decodeU64(k)
		return nil, fmt.Errorf("store: open index names %s, which has no summary", bot.FormatRef(num))
	}, fn)
}

// decodeIndexed decodes the RFA an index key names; a key without its
// RFA is reported, not skipped, as PutRFA never leaves one.
func decodeIndexed(rfas kv.Bucket, k []byte) (*bot.RFA, error) {
	num, err := decodeU64(k)
	if err != nil {
		return nil, fmt.Errorf("store: open index key: %w", err)
	}
	v := rfas.Get(k)
	if v == nil {
		return nil, fmt.Errorf("store: open index names %s, which is not stored", bot.FormatRef(num))
	}
	r := new(bot.RFA)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("store: decode %s: %w", bot.FormatRef(num), err)
	}
	return r, nil
}

// EscalationPolicy reads keyJeopardyPolicy; "" when absent.
func (t *tx) EscalationPolicy() (string, error) {
	meta, err := t.bucket(bucketMeta)
	if err != nil {
		return "", err
	}
	return string(meta.Get([]byte(keyJeopardyPolicy))), nil
}

// SetEscalationPolicy writes keyJeopardyPolicy; "" deletes it.
func (t *tx) SetEscalationPolicy(fingerprint string) error {
	meta, err := t.writable(bucketMeta)
	if err != nil {
		return err
	}
	if fingerprint == "" {
		err = meta.Delete([]byte(keyJeopardyPolicy))
	} else {
		err = meta.Put([]byte(keyJeopardyPolicy), []byte(fingerprint))
	}
	if err != nil {
		return fmt.Errorf("store: jeopardy policy fingerprint: %w", err)
	}
	return nil
}
