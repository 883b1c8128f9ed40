package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

func TestRateStateRoundTrip(t *testing.T) {
	db := newTestDB(t)
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
	err := db.KV().View(t.Context(), func(tx kv.Tx) error {
		if n := tx.Bucket(bucketRateStates).KeyN(); n != 0 {
			t.Errorf("a zero RateState left %d keys", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A store written by version-1 code (testdata/v1.db) gains the rate-state
// bucket and keeps what it held.
func TestMigrationAddsRateStates(t *testing.T) {
	path := copyV1(t)
	before := dump(t, path)
	db := openTest(t, path)
	update(t, db, func(tx bot.Tx) error {
		for key, num := range before[bucketDedupe] {
			if key == "\x00seq" {
				continue
			}
			n, seen, err := tx.Dedupe(key)
			if err != nil || !seen || string(encodeU64(n)) != num {
				t.Errorf("Dedupe(%q) after migration = %d, %v, %v", key, n, seen, err)
			}
		}
		return tx.PutRateState(bot.RateKeyUnknownAcks, bot.RateState{Told: at(1)})
	})
	st, err := db.Stats(t.Context())
	if err != nil || st.SchemaVersion != schemaVersion {
		t.Errorf("schema version after migration = %d, %v", st.SchemaVersion, err)
	}
}
