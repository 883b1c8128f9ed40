package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"rfadesk/bot"
)

// TestDeleteRFAContentTakesOneRFAsTextsAndFiles: RFA 2's texts and
// attachments go; RFA 1's and RFA 3's (adjacent keys) stay.
func TestDeleteRFAContentTakesOneRFAsTextsAndFiles(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	err := db.Update(ctx, func(tx bot.Tx) error {
		for n := uint64(1); n <= 3; n++ {
			if _, err := tx.NextRFANumber(); err != nil {
				return err
			}
			r := &bot.RFA{Num: n, Status: bot.StatusClosed, Created: at, Token: "t",
				Messages: []bot.Message{{At: at, Text: "first"}, {At: at, Text: "second"}}}
			if err := tx.PutRFA(r); err != nil {
				return err
			}
			if err := tx.PutAttachment(n, 1, 0, []byte("data")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var texts, files int
	err = db.Update(ctx, func(tx bot.Tx) error {
		var err error
		texts, files, err = tx.DeleteRFAContent(2)
		return err
	})
	if err != nil || texts != 2 || files != 1 {
		t.Fatalf("DeleteRFAContent(2) = %d texts, %d files, %v; want 2, 1", texts, files, err)
	}
	db.View(ctx, func(tx bot.Tx) error {
		for n := uint64(1); n <= 3; n++ {
			text, _ := tx.MessageText(n, 1)
			_, ferr := tx.GetAttachment(n, 1, 0)
			if gone := n == 2; (text == "") != gone || errors.Is(ferr, bot.ErrNotFound) != gone {
				t.Errorf("RFA %d: text %q, attachment error %v", n, text, ferr)
			}
			if _, err := tx.RFASummary(n); err != nil {
				t.Errorf("RFA %d's summary: %v", n, err)
			}
		}
		return nil
	})
	if err := db.View(ctx, func(tx bot.Tx) error { _, _, err := tx.DeleteRFAContent(1); return err }); err == nil {
		t.Error("DeleteRFAContent in a read-only transaction succeeded")
	}
}
