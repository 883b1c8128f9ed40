package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"rfadesk/bot"
)

func TestRateStateRoundTrip(t *testing.T) {
	db := openTest(t, "")
	want := bot.RateState{Times: []time.Time{at(1), at(2)}, RFA: 7, Told: at(3), Items: []uint64{4, 5}, Listed: 2}
	update(t, db, func(tx bot.Tx) error {
		if st, err := tx.RateState(bot.RateKeySender("ann@school.example")); err != nil || !st.IsZero() {
			t.Errorf("RateState of an unknown key = %+v, %v", st, err)
		}
		return tx.PutRateState(bot.RateKeySender("ann@school.example"), want)
	})
	view(t, db, func(tx bot.Tx) error {
		st, err := tx.RateState(bot.RateKeySender("ann@school.example"))
		if err != nil || !reflect.DeepEqual(st, want) {
			t.Errorf("RateState = %+v, %v; want %+v", st, err, want)
		}
		if err := tx.PutRateState("x", want); !errors.Is(err, ErrReadOnly) {
			t.Errorf("PutRateState in View: %v, want ErrReadOnly", err)
		}
		return nil
	})
	update(t, db, func(tx bot.Tx) error {
		return tx.PutRateState(bot.RateKeySender("ann@school.example"), bot.RateState{})
	})
	db.Close()
	bdb, err := bolt.Open(db.path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	_ = bdb.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket([]byte(bucketRateStates)).Stats().KeyN; n != 0 {
			t.Errorf("a zero RateState left %d keys", n)
		}
		return nil
	})
}

// A file written at version 1 gains the rate-state bucket and keeps what
// it held.
func TestMigrationToVersion2AddsRateStates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets() {
			if name == bucketRateStates {
				continue
			}
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte(bucketDedupe)).Put([]byte("mid:kept@x"), encodeU64(3)); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchemaVersion), encodeU64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	db := openTest(t, path)
	update(t, db, func(tx bot.Tx) error {
		if n, seen, err := tx.Dedupe("mid:kept@x"); err != nil || !seen || n != 3 {
			t.Errorf("Dedupe after migration = %d, %v, %v", n, seen, err)
		}
		return tx.PutRateState(bot.RateKeyUnknownAcks, bot.RateState{Told: at(1)})
	})
	st, err := db.Stats()
	if err != nil || st.SchemaVersion != 2 {
		t.Errorf("schema version after migration = %d, %v", st.SchemaVersion, err)
	}
}
