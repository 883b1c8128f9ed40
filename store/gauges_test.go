package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
)

func TestGaugesReadCountsBacklogAndSchedule(t *testing.T) {
	db := newTestDB(t)
	now := at(30)
	update(t, db, func(tx bot.Tx) error {
		for i, next := range []time.Time{
			{},                        // 1: not scheduled
			at(10),                    // 2: overdue
			now,                       // 3: due now counts as overdue
			now.Add(time.Minute),      // 4: within the hour
			now.Add(time.Hour),        // 5: at the hour's end: within
			now.Add(61 * time.Minute), // 6: after
		} {
			r := sampleRFA(uint64(i + 1))
			r.NextEscalation = next
			if err := tx.PutRFA(r); err != nil {
				return err
			}
		}
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxMail, NextAttempt: at(5)})
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxMail, NextAttempt: at(50)})
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxChat})
		return nil
	})
	g, err := db.Gauges(context.Background(), now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if g.EscalationsOverdue != 2 || g.EscalationsSoon != 2 {
		t.Errorf("overdue, soon = %d, %d; want 2, 2", g.EscalationsOverdue, g.EscalationsSoon)
	}
	if want := map[bot.OutboxKind]int{bot.OutboxMail: 2, bot.OutboxChat: 1}; !reflect.DeepEqual(g.Backlog, want) {
		t.Errorf("backlog = %v, want %v", g.Backlog, want)
	}
	if want := []bot.RFACount{{Status: bot.StatusNew, N: 6}}; !reflect.DeepEqual(g.RFAs, want) {
		t.Errorf("RFA counts = %+v, want %+v", g.RFAs, want)
	}

	update(t, db, func(tx bot.Tx) error { return tx.DeleteOutbox(3) })
	if g, err = db.Gauges(context.Background(), now, time.Hour); err != nil || g.Backlog[bot.OutboxChat] != 0 {
		t.Errorf("chat backlog after delivery = %d, %v; want 0", g.Backlog[bot.OutboxChat], err)
	}
}
