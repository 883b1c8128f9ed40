package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"rfadesk/bot"
)

// Gauges is the state metrics read at scrape time: cheap to read, as it
// walks index keys only (no value is decoded but the RFA counts).
type Gauges struct {
	// RFAs counts the RFAs by status and severity (Tx.RFACounts).
	RFAs []bot.RFACount
	// Backlog counts the pending outbox items by kind.
	Backlog map[bot.OutboxKind]int
	// EscalationsOverdue counts the jeopardy schedule's entries at or
	// before now: escalation points due and not yet fired.
	EscalationsOverdue int
	// EscalationsSoon counts its entries after now and at or before
	// now+within.
	EscalationsSoon int
	// BreachedRFAs counts the RFAs not closed with an SLA breach in
	// their history (bot.EventBreach).
	BreachedRFAs int
}

// Gauges reads g in one read-only transaction. Its cost is the outbox's
// keys, the breached RFAs' keys and the schedule's entries due by
// now+within, never the RFAs.
func (db *DB) Gauges(ctx context.Context, now time.Time, within time.Duration) (Gauges, error) {
	var g Gauges
	err := db.View(ctx, func(btx bot.Tx) error {
		t := btx.(*tx)
		var err error
		if g.RFAs, err = t.RFACounts(); err != nil {
			return err
		}
		if g.Backlog, err = t.outboxBacklog(); err != nil {
			return err
		}
		if g.BreachedRFAs, err = t.breachedRFAs(); err != nil {
			return err
		}
		g.EscalationsOverdue, g.EscalationsSoon, err = t.escalationsDue(now, now.Add(within))
		return err
	})
	return g, err
}

// outboxBacklog counts the due index's keys by their kind prefix.
func (t *tx) outboxBacklog() (map[bot.OutboxKind]int, error) {
	due, err := t.bucket(bucketOutboxDue)
	if err != nil {
		return nil, err
	}
	backlog := map[bot.OutboxKind]int{}
	err = due.ForEach(func(k, _ []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			return fmt.Errorf("store: outbox due key %x has no kind", k)
		}
		backlog[bot.OutboxKind(k[:i])]++
		return nil
	})
	return backlog, err
}

// escalationsDue counts the schedule's entries at or before now, and
// those after now and at or before until, walking it from its start.
func (t *tx) escalationsDue(now, until time.Time) (overdue, soon int, err error) {
	sched, err := t.bucket(bucketJeopardy)
	if err != nil {
		return 0, 0, err
	}
	nowN, untilN := dueNanos(now), dueNanos(until)
	c := sched.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		at, _, err := decodeJeopardyKey(k)
		if err != nil {
			return 0, 0, fmt.Errorf("store: %w", err)
		}
		switch n := dueNanos(at); {
		case n <= nowN:
			overdue++
		case n <= untilN:
			soon++
		default:
			return overdue, soon, nil
		}
	}
	return overdue, soon, nil
}
