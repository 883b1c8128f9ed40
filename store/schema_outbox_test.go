package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"rfadesk/bot"
)

// writeVersion1Outbox writes a file as rfadesk wrote it at schema version
// 1: every version 1 bucket, and outbox items JSON-encoded whole, their
// attachment bytes inline.
func writeVersion1Outbox(t *testing.T, path string, items []bot.OutboxItem) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(btx *bolt.Tx) error {
		for _, name := range []string{"meta", "rfas", "dedupe", "threads", "outbox", "cursors", "dead_letters", "auto_replies", "attachments", "chat_threads"} {
			if _, err := btx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := btx.Bucket([]byte("meta")).Put([]byte("schema_version"), encodeU64(1)); err != nil {
			return err
		}
		out := btx.Bucket([]byte("outbox"))
		for _, it := range items {
			data, err := json.Marshal(it)
			if err != nil {
				return err
			}
			if err := out.Put(encodeU64(it.ID), data); err != nil {
				return err
			}
		}
		return out.SetSequence(uint64(len(items)))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrationIndexesOutboxAndMovesAttachmentBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	pdf := bytes.Repeat([]byte("%PDF "), 2000)
	att := bot.Attachment{Name: "notes.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), Data: pdf, Stored: true}
	m1, m2 := mailWith(att), mailWith(att)
	m1.ID, m2.ID = 1, 3
	m2.Attempts, m2.NextAttempt = 2, at(40)
	chat := bot.OutboxItem{ID: 2, Kind: bot.OutboxChat, RFA: 1, Created: at(0), NextAttempt: at(0), Chat: &bot.ChatPost{Op: bot.ChatThread, Text: "hi"}}
	writeVersion1Outbox(t, path, []bot.OutboxItem{*m1, chat, *m2})
	if !bytes.Contains(mustRead(t, path), []byte(`"data":"JVBERi`)) {
		t.Fatal("the version 1 file does not hold the bytes inline: the fixture is wrong")
	}

	db := openTest(t, path)
	if st, _ := db.Stats(t.Context()); st.SchemaVersion != schemaVersion || st.Outbox != 3 {
		t.Errorf("after migration: %+v", st)
	}
	checkIndexMatches(t, db)
	err := db.bolt.View(func(btx *bolt.Tx) error {
		if n := btx.Bucket([]byte(bucketOutboxBlobs)).Stats().KeyN; n != 1 {
			t.Errorf("%d blobs for one file referenced twice, want 1", n)
		}
		return btx.Bucket([]byte(bucketOutbox)).ForEach(func(k, v []byte) error {
			if bytes.Contains(v, []byte(`"data"`)) {
				t.Errorf("item %x still holds its bytes", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx bot.Tx) error {
		due, err := tx.DueOutbox(bot.OutboxMail, at(10), 10)
		if err != nil {
			return err
		}
		if got := ids(due); !reflect.DeepEqual(got, []uint64{1}) {
			t.Errorf("due mail = %v, want [1] (item 3 is due at minute 40)", got)
		}
		if due, _ := tx.DueOutbox(bot.OutboxChat, at(10), 10); !reflect.DeepEqual(ids(due), []uint64{2}) {
			t.Errorf("due chat = %v, want [2]", ids(due))
		}
		data, err := tx.OutboxAttachment(due[0].Mail.Attachments[0].Blob)
		if err != nil || !bytes.Equal(data, pdf) {
			t.Errorf("migrated attachment: %d bytes, %v", len(data), err)
		}
		return nil
	})
	// Both mails delivered: the bytes go with the last of them.
	update(t, db, func(tx bot.Tx) error { return tx.DeleteOutbox(1) })
	checkIndexMatches(t, db)
	update(t, db, func(tx bot.Tx) error { return tx.DeleteOutbox(3) })
	_ = db.bolt.View(func(btx *bolt.Tx) error {
		if n := btx.Bucket([]byte(bucketOutboxBlobs)).Stats().KeyN; n != 0 {
			t.Errorf("%d blobs left after every mail was delivered", n)
		}
		return nil
	})
	update(t, db, func(tx bot.Tx) error {
		if id, err := tx.Enqueue(&bot.OutboxItem{Kind: bot.OutboxMail}); id != 4 || err != nil {
			t.Errorf("next id after migration = %d, %v; want 4", id, err)
		}
		return nil
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
