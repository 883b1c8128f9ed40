package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"rfadesk/bot"
)

// TestOutagesStoredAndIndexed: ids are allocated, an ended outage leaves
// the active list, and both survive reopening the file.
func TestOutagesStoredAndIndexed(t *testing.T) {
	backend := newTestBackend(t)
	db := backend.open()
	ctx := context.Background()
	err := db.Update(ctx, func(tx bot.Tx) error {
		for _, title := range []string{"one", "two"} {
			if _, err := tx.PutOutage(&bot.Outage{Title: title, Components: []string{"Login"}}); err != nil {
				return err
			}
		}
		o, err := tx.Outage(1)
		if err != nil {
			return err
		}
		o.Ended = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		_, err = tx.PutOutage(o)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = backend.open()
	err = db.View(ctx, func(tx bot.Tx) error {
		live, err := tx.ActiveOutages()
		if err != nil {
			return err
		}
		if len(live) != 1 || live[0].ID != 2 || live[0].Title != "two" {
			t.Errorf("active %+v, want outage 2 only", live)
		}
		if o, err := tx.Outage(1); err != nil || o.Ended.IsZero() {
			t.Errorf("outage 1: %+v, %v", o, err)
		}
		if _, err := tx.Outage(3); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("outage 3: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
