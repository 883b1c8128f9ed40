package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// This file keeps an RFA's records small (schema.go, version 2): the
// record in bucketRFAs carries no message text, the texts live in
// bucketBodies, and bucketSummaries holds the summary that lists and the
// status page's token check read instead of the RFA.

// appendFill is the FillPercent of the buckets keyed by RFA number.
const appendFill = 0.9

// putRecord stores r under its number in rfas: the text of each message
// not stored yet into bucketBodies, the record without texts, and the
// summary; and it moves what hangs off the summary it replaces: the
// status×severity counts and the breached-RFA index (rfa_counts.go), the
// organisation and trust index entries (org_index.go). A message text is
// immutable: one that differs from the text already stored for its index
// is refused (messages are only appended), and a message loaded without
// its text (TextOmitted) keeps the stored one. r itself is not changed.
func (t *tx) putRecord(rfas kv.Bucket, r *bot.RFA) error {
	bodies, err := t.bucket(bucketBodies)
	if err != nil {
		return err
	}
	summaries, err := t.bucket(bucketSummaries)
	if err != nil {
		return err
	}
	// Keys grow with the RFA number (and message index): new records are
	// appended, so on bbolt pages may be filled well past its default
	// half, which keeps the file and the pages a page of the list reads
	// small. Drivers without pages have no kv.FillPercenter.
	for _, b := range []kv.Bucket{rfas, bodies, summaries} {
		if f, ok := b.(kv.FillPercenter); ok {
			f.SetFillPercent(appendFill)
		}
	}
	rec := *r
	rec.Messages = make([]bot.Message, len(r.Messages))
	for i, m := range r.Messages {
		if m.Text != "" {
			key, err := bodyKey(r.Num, i)
			if err != nil {
				return err
			}
			// string(old) == m.Text compares without copying old.
			switch old := bodies.Get(key); {
			case old == nil:
				if err := bodies.Put(key, []byte(m.Text)); err != nil {
					return fmt.Errorf("store: put text of %s message %d: %w", r.Ref(), i, err)
				}
			case string(old) != m.Text:
				return fmt.Errorf("store: %s message %d: text differs from the one recorded (message texts never change; append a message instead)", r.Ref(), i)
			}
			m.TextLen, m.Text = len(m.Text), ""
		}
		rec.Messages[i] = m
	}
	key := encodeU64(r.Num)
	if err := putJSON(rfas, key, &rec, r.Ref()); err != nil {
		return err
	}
	sum, prev := bot.SummaryOf(r), bytes.Clone(summaries.Get(key))
	if err := t.countRFA(summaries, r.Num, statusSeverity{sum.Status, sum.Severity}); err != nil { // rfa_counts.go
		return err
	}
	if err := t.indexBreached(r); err != nil { // rfa_counts.go
		return fmt.Errorf("store: breached index of %s: %w", r.Ref(), err)
	}
	if err := putJSON(summaries, key, &sum, "summary of "+r.Ref()); err != nil {
		return err
	}
	return t.indexOrgs(r.Num, prev, &sum) // org_index.go
}

// RFAWithTexts is RFA with every message's text read from bucketBodies.
func (t *tx) RFAWithTexts(num uint64) (*bot.RFA, error) {
	r, err := t.RFA(num)
	if err != nil {
		return nil, err
	}
	for i := range r.Messages {
		if m := &r.Messages[i]; m.TextOmitted() {
			if m.Text, err = t.MessageText(num, i); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// MessageText reads one text from bucketBodies; "" when none is stored.
func (t *tx) MessageText(num uint64, i int) (string, error) {
	b, err := t.bucket(bucketBodies)
	if err != nil {
		return "", err
	}
	key, err := bodyKey(num, i)
	if err != nil {
		return "", err
	}
	return string(b.Get(key)), nil // string copies: b's memory lasts only the tx
}

func (t *tx) RFASummary(num uint64) (*bot.RFASummary, error) {
	b, err := t.bucket(bucketSummaries)
	if err != nil {
		return nil, err
	}
	s := new(bot.RFASummary)
	found, err := getJSON(b, encodeU64(num), s, "summary of "+bot.FormatRef(num))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("store: %s: %w", bot.FormatRef(num), bot.ErrNotFound)
	}
	return s, nil
}

// RFASummaries walks bucketSummaries with a cursor from after+1; like
// ForEachRFA, PutRFA and NextRFANumber fail inside fn.
func (t *tx) RFASummaries(after uint64, fn func(*bot.RFASummary) (bool, error)) (bool, error) {
	b, err := t.bucket(bucketSummaries)
	if err != nil {
		return false, err
	}
	return t.walkSummaries(b.Cursor(), after, func(k, v []byte) ([]byte, error) { return v, nil }, fn)
}

// walkSummaries calls fn for the summary of each key of c above after, in
// key order, until fn returns false or an error; summary turns a key and
// its value into the summary's JSON. It reports whether keys remain
// after the last one fn saw. PutRFA and NextRFANumber refuse meanwhile.
func (t *tx) walkSummaries(c kv.Cursor, after uint64, summary func(k, v []byte) ([]byte, error), fn func(*bot.RFASummary) (bool, error)) (bool, error) {
	if after == math.MaxUint64 {
		return false, nil
	}
	t.inRFAs++
	defer func() { t.inRFAs-- }()
	for k, v := c.Seek(encodeU64(after + 1)); k != nil; k, v = c.Next() {
		num, _ := decodeU64(k)
		data, err := summary(k, v)
		if err != nil {
			return false, err
		}
		s := new(bot.RFASummary)
		if err := json.Unmarshal(data, s); err != nil {
			return false, fmt.Errorf("store: decode summary of %s: %w", bot.FormatRef(num), err)
		}
		more, err := fn(s)
		if err != nil {
			return false, err
		}
		if !more {
			next, _ := c.Next()
			return next != nil, nil
		}
	}
	return false, nil
}
