package store

import (
	"context"
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"

	"rfadesk/store/kv"
)

// noWrites is a kv.DB that refuses every Update: what a standby's fenced
// etcd driver does before it leads.
type noWrites struct{ kv.DB }

func (noWrites) Update(context.Context, func(kv.Tx) error) error {
	return errors.New("noWrites: Update called")
}

// TestAttachWritesNothingAndMigrateBringsUpToDate: Attach accepts an
// empty store without writing (a standby cannot), Migrate then brings it
// to the current layout, and Attach refuses a store a newer rfadesk
// wrote.
func TestAttachWritesNothingAndMigrateBringsUpToDate(t *testing.T) {
	ctx := t.Context()
	b := newTestBackend(t)
	kdb := b.kdb
	if kdb == nil {
		bdb, err := bolt.Open(b.path, 0o600, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		kdb = kv.NewBolt(bdb)
		t.Cleanup(func() { kdb.Close() })
	}
	if _, err := Attach(ctx, noWrites{keepOpen{kdb}}, "empty"); err != nil {
		t.Fatalf("Attach of an empty store: %v (it must not write)", err)
	}
	db, err := Attach(ctx, keepOpen{kdb}, "empty")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	var have uint64
	if err := kdb.View(ctx, func(tx kv.Tx) error {
		var err error
		have, err = checkVersion(tx, "migrated")
		return err
	}); err != nil || have != schemaVersion {
		t.Fatalf("after Migrate the version is %d (%v), want %d", have, err, schemaVersion)
	}
	if _, err := db.Stats(ctx); err != nil {
		t.Errorf("Stats after Migrate: %v", err)
	}
	if err := kdb.Update(ctx, func(tx kv.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte(keySchemaVersion), encodeU64(schemaVersion+1))
	}); err != nil {
		t.Fatal(err)
	}
	var se *SchemaError
	if _, err := Attach(ctx, noWrites{keepOpen{kdb}}, "newer"); !errors.As(err, &se) || se.Version != schemaVersion+1 {
		t.Fatalf("Attach of a newer store: %v, want a *SchemaError for version %d", err, schemaVersion+1)
	}
	if err := db.Migrate(ctx); !errors.As(err, &se) {
		t.Fatalf("Migrate of a newer store: %v, want a *SchemaError", err)
	}
}
