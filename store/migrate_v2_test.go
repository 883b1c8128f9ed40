package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"rfadesk/bot"
)

// copyV1 copies testdata/v1.db (schema version 1) into a temporary
// directory and returns the copy's path.
func copyV1(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dump reads every bucket of the file at path: bucket -> key -> value,
// plus each bucket's sequence under the key "\x00seq".
func dump(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	out := map[string]map[string]string{}
	err = bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string]string{"\x00seq": string(encodeU64(b.Sequence()))}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error { m[string(k)] = string(v); return nil })
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrationToV2MovesTextsOutInPlace(t *testing.T) {
	path := copyV1(t)
	before := dump(t, path)
	if v := before[bucketMeta][keySchemaVersion]; v != string(encodeU64(1)) {
		t.Fatalf("fixture is not at schema version 1: %x", v)
	}
	for num, rec := range before[bucketRFAs] {
		if num != "\x00seq" && !bytes.Contains([]byte(rec), []byte(`"text":"The`)) && !bytes.Contains([]byte(rec), []byte(`"text":"Called`)) {
			t.Fatalf("fixture record %x holds no text to move: %s", num, rec)
		}
	}

	db := openTest(t, path)
	fixture := v1Fixture()
	view(t, db, func(tx bot.Tx) error {
		for _, want := range fixture {
			got, err := tx.RFAWithTexts(want.Num)
			if err != nil {
				t.Fatalf("%s: %v", want.Ref(), err)
			}
			if !reflect.DeepEqual(got, withTextLens(want)) {
				t.Errorf("%s after migration:\n got %+v\nwant %+v", want.Ref(), got, want)
			}
			bare, err := tx.RFA(want.Num)
			if err != nil || !reflect.DeepEqual(bare, withoutTexts(want)) {
				t.Errorf("%s without texts = %+v, %v", want.Ref(), bare, err)
			}
			for i, m := range want.Messages {
				if text, err := tx.MessageText(want.Num, i); err != nil || text != m.Text {
					t.Errorf("%s message %d text = %q, %v; want %q", want.Ref(), i, text, err, m.Text)
				}
			}
			sum, err := tx.RFASummary(want.Num)
			if err != nil || !reflect.DeepEqual(*sum, bot.SummaryOf(want)) {
				t.Errorf("%s summary = %+v, %v\nwant %+v", want.Ref(), sum, err, bot.SummaryOf(want))
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	after := dump(t, path)
	if v := after[bucketMeta][keySchemaVersion]; v != string(encodeU64(schemaVersion)) {
		t.Errorf("schema version after migration = %x", v)
	}
	// Every other bucket is as it was, sequences included, but the
	// outbox, whose attachment bytes version 4 moves out (tested in
	// schema_outbox_test.go).
	for name, want := range before {
		if name == bucketMeta || name == bucketRFAs || name == bucketOutbox {
			continue
		}
		if !reflect.DeepEqual(after[name], want) {
			t.Errorf("bucket %q changed by the migration", name)
		}
	}
	if after[bucketRFAs]["\x00seq"] != before[bucketRFAs]["\x00seq"] {
		t.Error("RFA number allocator changed by the migration")
	}
	for k, rec := range after[bucketRFAs] {
		if k != "\x00seq" && bytes.Contains([]byte(rec), []byte("export stops")) {
			t.Errorf("record %x still holds a message text", k)
		}
	}

	// A second Open changes nothing.
	openTest(t, path).Close()
	if again := dump(t, path); !reflect.DeepEqual(again, after) {
		t.Error("a second Open changed the migrated file")
	}

	// A file newer than this binary is still refused.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchemaVersion), encodeU64(schemaVersion+1))
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	if db, err := Open(path, nil); !errors.As(err, new(*SchemaError)) {
		if err == nil {
			db.Close()
		}
		t.Errorf("Open of a newer file: %v, want a *SchemaError", err)
	}
}
