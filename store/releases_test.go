package store

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
	"rfadesk/store/kv"
)

func TestReleaseIndexFollowsRFAs(t *testing.T) {
	db := newTestDB(t)
	put := func(num uint64, status bot.Status, release string) {
		t.Helper()
		r := &bot.RFA{Num: num, Status: status}
		if release != "" {
			r.Release = &bot.Release{Name: release, Ships: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}
		}
		update(t, db, func(tx bot.Tx) error { return tx.PutRFA(r) })
	}
	rfas := func(name string, after uint64) []uint64 {
		t.Helper()
		var got []uint64
		view(t, db, func(tx bot.Tx) (err error) { got, err = tx.ReleaseRFAs(name, after, 100); return err })
		return got
	}
	put(2, bot.StatusOpen, "Minor-2026-12-04")
	put(1, bot.StatusOpen, "minor-2026-12-04")
	put(300, bot.StatusOpen, "minor-2026-12-04")
	put(3, bot.StatusOpen, "minor-2026-12-04x") // a name that extends another
	put(4, bot.StatusOpen, "")
	if got, want := rfas("MINOR-2026-12-04", 0), []uint64{1, 2, 300}; !slices.Equal(got, want) {
		t.Errorf("RFAs of minor-2026-12-04 = %v, want %v", got, want)
	}
	if got, want := rfas("minor-2026-12-04", 2), []uint64{300}; !slices.Equal(got, want) {
		t.Errorf("RFAs of minor-2026-12-04 after RFA-2 = %v, want %v", got, want)
	}
	put(2, bot.StatusCleared, "minor-2026-12-04") // cleared: leaves the index
	put(300, bot.StatusOpen, "major-2027-01-05")  // moved
	put(1, bot.StatusOpen, "minor-2026-12-04")    // rewritten unchanged
	if got, want := rfas("minor-2026-12-04", 0), []uint64{1}; !slices.Equal(got, want) {
		t.Errorf("after clearing and moving = %v, want %v", got, want)
	}
	view(t, db, func(tx bot.Tx) error {
		names, err := tx.PlannedReleases()
		if want := []string{"major-2027-01-05", "minor-2026-12-04", "minor-2026-12-04x"}; err != nil || !slices.Equal(names, want) {
			t.Errorf("PlannedReleases = %v, %v; want %v", names, err, want)
		}
		return nil
	})

	rel := bot.ReleaseInfo{Name: "Hotfix 7", Kind: bot.ReleaseMinor, Date: workcal.Date{Year: 2026, Month: 12, Day: 1}, Stored: true}
	update(t, db, func(tx bot.Tx) error { return tx.PutRelease(rel) })
	view(t, db, func(tx bot.Tx) error {
		got, err := tx.Release("hotfix 7")
		if err != nil || *got != rel {
			t.Errorf("Release(hotfix 7) = %+v, %v", got, err)
		}
		if _, err := tx.Release("nope"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Release(nope): %v, want ErrNotFound", err)
		}
		return nil
	})
}

// TestMigrationToV10IndexesReleases runs the version 10 migration on a
// version 9 store whose records plan releases: the open ones are
// indexed, the cleared one is not.
func TestMigrationToV10IndexesReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	writeOldFile(t, path, 9, []string{bucketReleases, bucketReleaseRFAs, bucketRFAReleases}, func(tx kv.Tx) error {
		rfas := tx.Bucket(bucketRFAs)
		for num, st := range map[uint64]bot.Status{1: bot.StatusOpen, 2: bot.StatusCleared, 3: bot.StatusOpen} {
			r := &bot.RFA{Num: num, Status: st, Created: time.Now(), Release: &bot.Release{Name: "2026.12", Ships: time.Now()}}
			if err := putJSON(rfas, encodeU64(num), r, r.Ref()); err != nil {
				return err
			}
		}
		return rfas.SetSequence(3)
	})
	db := openTest(t, path)
	view(t, db, func(tx bot.Tx) error {
		if got, err := tx.ReleaseRFAs("2026.12", 0, 10); err != nil || !slices.Equal(got, []uint64{1, 3}) {
			t.Errorf("RFAs of 2026.12 after migration = %v, %v; want [1 3]", got, err)
		}
		return nil
	})
}
