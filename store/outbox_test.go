package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// ids lists the items' ids in order.
func ids(items []bot.OutboxItem) []uint64 {
	var out []uint64
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func enqueue(t *testing.T, tx bot.Tx, it *bot.OutboxItem) uint64 {
	t.Helper()
	id, err := tx.Enqueue(it)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDueOutboxByKindAndNextAttempt(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error {
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxMail, NextAttempt: at(5)})        // 1
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxChat, NextAttempt: at(1)})        // 2
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxMail, NextAttempt: at(1)})        // 3
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxMail})                            // 4: zero time, due at once
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxMail, NextAttempt: at(30)})       // 5
		enqueue(t, tx, &bot.OutboxItem{Kind: bot.OutboxKind("mai"), NextAttempt: at(0)}) // 6: a kind that prefixes another
		return nil
	})
	view(t, db, func(tx bot.Tx) error {
		due, err := tx.DueOutbox(bot.OutboxMail, at(5), 10)
		if err != nil {
			return err
		}
		if got := ids(due); !reflect.DeepEqual(got, []uint64{4, 3, 1}) {
			t.Errorf("due mail by minute 5 = %v, want [4 3 1] (next attempt, then id; no chat, no other kind)", got)
		}
		if due, _ := tx.DueOutbox(bot.OutboxMail, at(5), 2); !reflect.DeepEqual(ids(due), []uint64{4, 3}) {
			t.Errorf("limit 2 = %v, want [4 3]", ids(due))
		}
		if _, err := tx.DueOutbox(bot.OutboxMail, at(5), 0); err == nil {
			t.Error("DueOutbox with limit 0 succeeded")
		}
		next, ok, err := tx.NextOutboxAttempt(bot.OutboxChat)
		if err != nil || !ok || !next.Equal(at(1)) {
			t.Errorf("next chat attempt = %v %v %v, want %v", next, ok, err, at(1))
		}
		next, ok, _ = tx.NextOutboxAttempt(bot.OutboxMail)
		if !ok || !next.Equal(time.Unix(0, 0)) {
			t.Errorf("next mail attempt = %v %v, want the epoch (item 4 is due at once)", next, ok)
		}
		return nil
	})
	// Retrying item 4 later and delivering item 3 move the index with them.
	update(t, db, func(tx bot.Tx) error {
		it, err := tx.OutboxItem(4)
		if err != nil {
			return err
		}
		it.Attempts, it.NextAttempt = 1, at(20)
		if err := tx.UpdateOutbox(it); err != nil {
			return err
		}
		return tx.DeleteOutbox(3)
	})
	view(t, db, func(tx bot.Tx) error {
		due, _ := tx.DueOutbox(bot.OutboxMail, at(25), 10)
		if got := ids(due); !reflect.DeepEqual(got, []uint64{1, 4}) {
			t.Errorf("due mail by minute 25 = %v, want [1 4]", got)
		}
		if due[1].Attempts != 1 {
			t.Errorf("due item 4 = %+v, want the updated item", due[1])
		}
		return nil
	})
	update(t, db, func(tx bot.Tx) error {
		for _, id := range []uint64{1, 2, 4, 5, 6} {
			if err := tx.DeleteOutbox(id); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, func(tx bot.Tx) error {
		if _, ok, err := tx.NextOutboxAttempt(bot.OutboxMail); ok || err != nil {
			t.Errorf("next attempt of an empty outbox: ok %v, err %v", ok, err)
		}
		return nil
	})
	checkIndexMatches(t, db)
}

// checkIndexMatches asserts the due index has exactly one entry per item
// and that no blob is left without a reference.
func checkIndexMatches(t *testing.T, db *DB) {
	t.Helper()
	err := db.KV().View(t.Context(), func(ktx kv.Tx) error {
		want := map[string]bool{}
		err := ktx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var it bot.OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			key, err := outboxDueKey(it.Kind, it.NextAttempt, it.ID)
			want[string(key)] = true
			return err
		})
		if err != nil {
			return err
		}
		got := map[string]bool{}
		_ = ktx.Bucket(bucketOutboxDue).ForEach(func(k, _ []byte) error { got[string(k)] = true; return nil })
		if !reflect.DeepEqual(got, want) {
			t.Errorf("due index has %d entries, the items want %d:\n got %v\nwant %v", len(got), len(want), got, want)
		}
		blobs := ktx.Bucket(bucketOutboxBlobs).KeyN()
		refs := ktx.Bucket(bucketOutboxBlobRefs).KeyN()
		if blobs != refs {
			t.Errorf("%d blobs but %d reference counts", blobs, refs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mailWith(atts ...bot.Attachment) *bot.OutboxItem {
	return &bot.OutboxItem{Kind: bot.OutboxMail, RFA: 1, Created: at(0), NextAttempt: at(0), Mail: &bot.OutgoingMail{
		To: []bot.Address{{Email: "ann@school.example"}}, Subject: "[RFA-1] notes", Text: "Attached.",
		MessageID: "rfa-1.a@desk.example", Purpose: "reply", Attachments: atts,
	}}
}

func TestOutboxAttachmentStoredOnceAndFreedWithItsLastItem(t *testing.T) {
	db := newTestDB(t)
	pdf := bytes.Repeat([]byte("%PDF release notes "), 1000)
	att := bot.Attachment{Name: "notes.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), Data: pdf, Stored: true}
	var given *bot.OutboxItem
	update(t, db, func(tx bot.Tx) error {
		given = mailWith(att)
		enqueue(t, tx, given)
		enqueue(t, tx, mailWith(att, att)) // the same file twice more
		return nil
	})
	if given.Mail.Attachments[0].Data == nil || given.Mail.Attachments[0].Blob != "" {
		t.Errorf("Enqueue changed the caller's attachment: %+v", given.Mail.Attachments[0])
	}
	var ref string
	err := db.KV().View(t.Context(), func(ktx kv.Tx) error {
		v := ktx.Bucket(bucketOutbox).Get(encodeU64(2))
		if bytes.Contains(v, []byte(`"data"`)) || len(v) > 1000 {
			t.Errorf("stored item holds the bytes (%d bytes): %.200s", len(v), v)
		}
		if n := ktx.Bucket(bucketOutboxBlobs).KeyN(); n != 1 {
			t.Errorf("%d blobs stored for one file, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx bot.Tx) error {
		it, err := tx.OutboxItem(2)
		if err != nil {
			return err
		}
		a := it.Mail.Attachments[1]
		ref = a.Blob
		if a.Data != nil || ref == "" || a.Name != "notes.pdf" || a.Size != int64(len(pdf)) {
			t.Errorf("stored attachment = %+v, want a reference without data", a)
		}
		data, err := tx.OutboxAttachment(ref)
		if err != nil || !bytes.Equal(data, pdf) {
			t.Errorf("OutboxAttachment(%s) = %d bytes, %v", ref, len(data), err)
		}
		return nil
	})
	// A retry writes the item back by reference: the bytes stay once.
	update(t, db, func(tx bot.Tx) error {
		it, err := tx.OutboxItem(1)
		if err != nil {
			return err
		}
		it.Attempts, it.NextAttempt = 1, at(9)
		if err := tx.UpdateOutbox(it); err != nil {
			return err
		}
		return tx.DeleteOutbox(2)
	})
	view(t, db, func(tx bot.Tx) error {
		if _, err := tx.OutboxAttachment(ref); err != nil {
			t.Errorf("blob gone while item 1 still references it: %v", err)
		}
		return nil
	})
	checkIndexMatches(t, db)
	update(t, db, func(tx bot.Tx) error { return tx.DeleteOutbox(1) })
	view(t, db, func(tx bot.Tx) error {
		if _, err := tx.OutboxAttachment(ref); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("blob after its last item left: %v, want ErrNotFound", err)
		}
		return nil
	})
	checkIndexMatches(t, db)
}

func TestOutboxRollbackLeavesNoIndexOrBlob(t *testing.T) {
	db := newTestDB(t)
	boom := errors.New("boom")
	err := db.Update(t.Context(), func(tx bot.Tx) error {
		enqueue(t, tx, mailWith(bot.Attachment{Name: "a.txt", Data: []byte("lost"), Stored: true}))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	checkIndexMatches(t, db)
	view(t, db, func(tx bot.Tx) error {
		if next, ok, _ := tx.NextOutboxAttempt(bot.OutboxMail); ok {
			t.Errorf("index entry survived rollback: %v", next)
		}
		return nil
	})
}

// TestOutboxItemGolden pins the stored JSON of an outbox item: a renamed
// field must not silently change the file format. Run with -update to
// rewrite testdata/outbox_item.golden.json after a deliberate change
// (which then needs a migration).
func TestOutboxItemGolden(t *testing.T) {
	db := newTestDB(t)
	item := mailWith(bot.Attachment{Name: "notes.pdf", ContentType: "application/pdf", Size: 9, Data: []byte("%PDF-1.4\n"), Stored: true})
	item.Attempts, item.LastError = 2, "451 4.3.0 try later"
	item.Mail.InReplyTo, item.Mail.References = "m1@school.example", []string{"m1@school.example"}
	item.Mail.Auto, item.Mail.HTML = true, "<p>Attached.</p>"
	item.Mail.Origin = &bot.ChatOrigin{ChannelID: "111", MessageID: "222"}
	chat := &bot.OutboxItem{Kind: bot.OutboxChat, RFA: 1, Created: at(1), NextAttempt: at(1), Chat: &bot.ChatPost{
		Op: bot.ChatReact, Text: "t", Mention: "333", Emoji: "✅", Origin: &bot.ChatOrigin{ChannelID: "111", MessageID: "222"},
	}}
	update(t, db, func(tx bot.Tx) error {
		enqueue(t, tx, item)
		enqueue(t, tx, chat)
		return nil
	})
	var got bytes.Buffer
	err := db.KV().View(t.Context(), func(ktx kv.Tx) error {
		b := ktx.Bucket(bucketOutbox)
		for _, id := range []uint64{1, 2} {
			if err := json.Indent(&got, b.Get(encodeU64(id)), "", "  "); err != nil {
				return err
			}
			got.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "outbox_item.golden.json", got.Bytes())
}

// fillOutbox enqueues n mails due at minute 30 and one due at minute 0.
func fillOutbox(t testing.TB, db *DB, n int) {
	t.Helper()
	err := db.Update(context.Background(), func(tx bot.Tx) error {
		for range n {
			it := mailWith()
			it.NextAttempt = at(30)
			if _, err := tx.Enqueue(it); err != nil {
				return err
			}
		}
		_, err := tx.Enqueue(mailWith())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDueOutboxCostDoesNotGrowWithTheOutbox: reading the one due item
// allocates the same with 5000 items waiting for later as with none,
// so a deliverer's pass does not decode the outbox whole.
func TestDueOutboxCostDoesNotGrowWithTheOutbox(t *testing.T) {
	allocs := func(waiting int) float64 {
		db := newTestDB(t)
		fillOutbox(t, db, waiting)
		return testing.AllocsPerRun(20, func() {
			err := db.View(context.Background(), func(tx bot.Tx) error {
				due, err := tx.DueOutbox(bot.OutboxMail, at(1), 64)
				if len(due) != 1 {
					t.Fatalf("due = %d items, want 1", len(due))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// A deeper B-tree costs a few allocations a level (bbolt's cursor
	// stack, the bucket's root node), and sync.Pool reuse under the race
	// detector varies by one or two; decoding the waiting items would
	// cost thousands.
	empty, full := allocs(0), allocs(5000)
	if full > empty+16 {
		t.Errorf("DueOutbox allocates %v with 5000 items waiting, %v with none: its cost grows with the outbox", full, empty)
	}
}

// BenchmarkDueOutbox reads the due items of an outbox where 5000 mails
// wait for a later attempt.
func BenchmarkDueOutbox(b *testing.B) {
	db := newTestDB(b)
	fillOutbox(b, db, 5000)
	for b.Loop() {
		err := db.View(context.Background(), func(tx bot.Tx) error {
			_, err := tx.DueOutbox(bot.OutboxMail, at(1), 64)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
