package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

func children(t *testing.T, db *DB, parent uint64) []uint64 {
	t.Helper()
	var got []uint64
	view(t, db, func(tx bot.Tx) error {
		var err error
		got, err = tx.RFAChildren(parent, 100)
		return err
	})
	return got
}

func TestLinkedIndexFollowsParent(t *testing.T) {
	db := newTestDB(t)
	put := func(num, parent uint64) {
		t.Helper()
		update(t, db, func(tx bot.Tx) error {
			return tx.PutRFA(&bot.RFA{Num: num, Status: bot.StatusOpen, Parent: parent})
		})
	}
	// 1 and 256 share no key prefix byte but the last: a parent's seek
	// must not run into the next parent's children.
	put(1, 0)
	put(256, 0)
	put(5, 1)
	put(3, 1)
	put(4, 256)
	put(257, 1)
	if got, want := children(t, db, 1), []uint64{3, 5, 257}; !slices.Equal(got, want) {
		t.Errorf("children of RFA-1 = %v, want %v", got, want)
	}
	if got, want := children(t, db, 256), []uint64{4}; !slices.Equal(got, want) {
		t.Errorf("children of RFA-256 = %v, want %v", got, want)
	}
	put(5, 256) // moved
	put(3, 0)   // unlinked
	put(257, 1) // rewritten unchanged
	if got, want := children(t, db, 1), []uint64{257}; !slices.Equal(got, want) {
		t.Errorf("children of RFA-1 after the moves = %v, want %v", got, want)
	}
	if got, want := children(t, db, 256), []uint64{4, 5}; !slices.Equal(got, want) {
		t.Errorf("children of RFA-256 after the moves = %v, want %v", got, want)
	}
	view(t, db, func(tx bot.Tx) error {
		if got, err := tx.RFAChildren(256, 1); err != nil || !slices.Equal(got, []uint64{4}) {
			t.Errorf("RFAChildren(256, 1) = %v, %v", got, err)
		}
		if _, err := tx.RFAChildren(256, 0); err == nil {
			t.Error("RFAChildren with limit 0 was accepted")
		}
		return nil
	})
	err := db.Update(t.Context(), func(tx bot.Tx) error { return tx.PutRFA(&bot.RFA{Num: 9, Parent: 9}) })
	if err == nil {
		t.Error("an RFA stored as its own parent")
	}
}

// TestMigrationToV8IndexesLinks opens testdata/v1.db, finds the linked
// index created (empty: version 1 RFAs have no parent) and kept from
// then on.
func TestMigrationToV8IndexesLinks(t *testing.T) {
	path := copyV1(t)
	db := openTest(t, path)
	st, err := db.Stats(t.Context())
	if err != nil || st.SchemaVersion != schemaVersion {
		t.Fatalf("schema version after migration = %d, %v", st.SchemaVersion, err)
	}
	fixture := v1Fixture()
	if len(fixture) < 2 {
		t.Fatal("the v1 fixture has fewer than two RFAs")
	}
	parent, child := fixture[0].Num, fixture[1].Num
	if got := children(t, db, parent); len(got) != 0 {
		t.Errorf("children of %s after migration = %v, want none", bot.FormatRef(parent), got)
	}
	update(t, db, func(tx bot.Tx) error {
		r, err := tx.RFA(child)
		if err != nil {
			return err
		}
		r.Parent = parent
		return tx.PutRFA(r)
	})
	if got := children(t, db, parent); !slices.Equal(got, []uint64{child}) {
		t.Errorf("children after linking on a migrated store = %v, want [%d]", got, child)
	}
}

// TestMigrationToV8FillsLinksFromRecords runs the version 8 migration on
// a version 7 store whose records already name parents (as a store
// restored from a newer binary's backup might) and finds them indexed.
func TestMigrationToV8FillsLinksFromRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	writeOldFile(t, path, 7, []string{bucketRFAChildren, bucketRFAParents}, func(tx kv.Tx) error {
		rfas := tx.Bucket(bucketRFAs)
		for num, parent := range map[uint64]uint64{1: 0, 2: 1, 3: 1, 4: 2} {
			r := &bot.RFA{Num: num, Status: bot.StatusOpen, Parent: parent, Created: time.Now()}
			if err := putJSON(rfas, encodeU64(num), r, r.Ref()); err != nil {
				return err
			}
		}
		return rfas.SetSequence(4)
	})
	db := openTest(t, path)
	if got := children(t, db, 1); !slices.Equal(got, []uint64{2, 3}) {
		t.Errorf("children of RFA-1 = %v, want [2 3]", got)
	}
	if got := children(t, db, 2); !slices.Equal(got, []uint64{4}) {
		t.Errorf("children of RFA-2 = %v, want [4]", got)
	}
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(&bot.RFA{Num: 2, Status: bot.StatusOpen}) })
	if got := children(t, db, 1); !slices.Equal(got, []uint64{3}) {
		t.Errorf("children of RFA-1 after unlinking RFA-2 = %v, want [3]", got)
	}
}
