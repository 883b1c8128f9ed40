package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// openNums pages through the open index limit at a time.
func openNums(t *testing.T, db *DB, limit int) []uint64 {
	t.Helper()
	var nums []uint64
	view(t, db, func(tx bot.Tx) error {
		var after uint64
		for {
			page, err := tx.OpenRFAs(after, limit)
			if err != nil {
				return err
			}
			for _, r := range page {
				nums = append(nums, r.Num)
			}
			if len(page) < limit {
				return nil
			}
			after = page[len(page)-1].Num
		}
	})
	return nums
}

func TestPutRFAKeepsTheOpenIndex(t *testing.T) {
	db := newTestDB(t)
	statuses := []bot.Status{bot.StatusNew, bot.StatusClosed, bot.StatusOpen, bot.StatusAwaitingRequester, bot.StatusCleared, bot.StatusClosed}
	update(t, db, func(tx bot.Tx) error {
		for i, s := range statuses {
			if err := tx.PutRFA(&bot.RFA{Num: uint64(i + 1), Status: s, Subject: "s"}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, limit := range []int{1, 2, 10} {
		if got, want := openNums(t, db, limit), []uint64{1, 3, 4, 5}; !slices.Equal(got, want) {
			t.Errorf("open RFAs in pages of %d = %v, want %v", limit, got, want)
		}
	}
	// Closing leaves the index, reopening returns to it; a failed
	// Update changes neither.
	update(t, db, func(tx bot.Tx) error {
		if err := tx.PutRFA(&bot.RFA{Num: 3, Status: bot.StatusClosed}); err != nil {
			return err
		}
		return tx.PutRFA(&bot.RFA{Num: 2, Status: bot.StatusOpen})
	})
	failed := errors.New("no")
	if err := db.Update(context.Background(), func(tx bot.Tx) error {
		if err := tx.PutRFA(&bot.RFA{Num: 1, Status: bot.StatusClosed}); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if got, want := openNums(t, db, 2), []uint64{1, 2, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("open RFAs after changes = %v, want %v", got, want)
	}
	view(t, db, func(tx bot.Tx) error {
		if rs, err := tx.OpenRFAs(5, 10); err != nil || len(rs) != 0 {
			t.Errorf("OpenRFAs after the last = %v, %v", rs, err)
		}
		if _, err := tx.OpenRFAs(0, 0); err == nil {
			t.Error("OpenRFAs with limit 0 succeeded")
		}
		return nil
	})
}

func TestPutRFAKeepsTheJeopardySchedule(t *testing.T) {
	db := newTestDB(t)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	put := func(num uint64, at time.Time) {
		t.Helper()
		update(t, db, func(tx bot.Tx) error {
			return tx.PutRFA(&bot.RFA{Num: num, Status: bot.StatusOpen, NextEscalation: at})
		})
	}
	check := func(what string, until time.Time, wantNext uint64, wantDue ...uint64) {
		t.Helper()
		view(t, db, func(tx bot.Tx) error {
			num, _, ok, err := tx.NextEscalation()
			if err != nil || (ok && num != wantNext) || ok != (wantNext != 0) {
				t.Errorf("%s: NextEscalation = %d, %v, %v; want %d", what, num, ok, err, wantNext)
			}
			due, err := tx.DueEscalations(until, 10)
			if err != nil || !slices.Equal(due, wantDue) {
				t.Errorf("%s: due by %v = %v, %v; want %v", what, until.Format("15:04"), due, err, wantDue)
			}
			return nil
		})
	}
	put(1, t0.Add(2*time.Hour))
	put(2, t0.Add(time.Hour))
	put(3, time.Time{})
	check("three written", t0.Add(90*time.Minute), 2, 2)
	view(t, db, func(tx bot.Tx) error {
		_, at, _, _ := tx.NextEscalation()
		if !at.Equal(t0.Add(time.Hour)) {
			t.Errorf("first entry at %v, want %v", at, t0.Add(time.Hour))
		}
		if due, _ := tx.DueEscalations(t0.Add(5*time.Hour), 1); !slices.Equal(due, []uint64{2}) {
			t.Errorf("due with limit 1 = %v, want [2]", due)
		}
		return nil
	})
	put(2, t0.Add(3*time.Hour)) // moved: the old key goes
	check("RFA-2 moved", t0.Add(5*time.Hour), 1, 1, 2)
	put(1, time.Time{}) // nothing to come
	check("RFA-1 done", t0.Add(5*time.Hour), 2, 2)
	update(t, db, func(tx bot.Tx) error { return tx.RescheduleEscalation(2, t0) })
	check("RFA-2 rescheduled", t0, 2, 2)
	update(t, db, func(tx bot.Tx) error { return tx.RescheduleEscalation(2, time.Time{}) })
	check("RFA-2 unscheduled", t0.Add(100*time.Hour), 0)

	// One key per scheduled RFA in each direction, nothing stale.
	put(1, t0)
	put(1, t0.Add(time.Minute))
	put(3, t0.Add(time.Minute))
	err := db.KV().View(t.Context(), func(ktx kv.Tx) error {
		if n := ktx.Bucket(bucketJeopardy).KeyN(); n != 2 {
			t.Errorf("%d schedule keys, want 2", n)
		}
		if n := ktx.Bucket(bucketJeopardyRFAs).KeyN(); n != 2 {
			t.Errorf("%d reverse keys, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check("same instant", t0.Add(time.Minute), 1, 1, 3)
}

func TestEscalationPolicyFingerprint(t *testing.T) {
	db := newTestDB(t)
	get := func() string {
		var fp string
		view(t, db, func(tx bot.Tx) error {
			var err error
			fp, err = tx.EscalationPolicy()
			return err
		})
		return fp
	}
	if fp := get(); fp != "" {
		t.Errorf("fresh store's fingerprint = %q", fp)
	}
	update(t, db, func(tx bot.Tx) error { return tx.SetEscalationPolicy("abc") })
	if fp := get(); fp != "abc" {
		t.Errorf("fingerprint = %q, want abc", fp)
	}
	update(t, db, func(tx bot.Tx) error { return tx.SetEscalationPolicy("") })
	if fp := get(); fp != "" {
		t.Errorf("forgotten fingerprint = %q", fp)
	}
	view(t, db, func(tx bot.Tx) error {
		if err := tx.SetEscalationPolicy("x"); !errors.Is(err, ErrReadOnly) {
			t.Errorf("SetEscalationPolicy in a view: %v", err)
		}
		if err := tx.RescheduleEscalation(1, time.Now()); !errors.Is(err, ErrReadOnly) {
			t.Errorf("RescheduleEscalation in a view: %v", err)
		}
		return nil
	})
}

// TestMigrationBuildsTheIndexes opens a version 1 store, written as the
// version 1 code wrote it (RFAs as JSON bot.RFA under their number, no
// index buckets), and finds the open index built from the RFAs' status,
// the schedule empty and the policy fingerprint absent.
func TestMigrationBuildsTheIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rfadesk.db")
	statuses := map[uint64]bot.Status{1: bot.StatusClosed, 2: bot.StatusOpen, 3: bot.StatusClosed, 4: bot.StatusCleared, 5: bot.StatusNew}
	writeOldFile(t, path, 1, []string{bucketOpenRFAs, bucketJeopardy, bucketJeopardyRFAs}, func(tx kv.Tx) error {
		rfas := tx.Bucket(bucketRFAs)
		for num := uint64(1); num <= 5; num++ {
			r := &bot.RFA{Num: num, Status: statuses[num], Subject: "Printer", Created: time.Now(),
				Events: []bot.Event{{At: time.Now(), Kind: bot.EventCreated}}}
			if err := putJSON(rfas, encodeU64(num), r, r.Ref()); err != nil {
				return err
			}
		}
		return rfas.SetSequence(5)
	})

	db := openTest(t, path)
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.SchemaVersion != schemaVersion || st.RFAs != 5 {
		t.Errorf("after migration: %+v", st)
	}
	if got, want := openNums(t, db, 2), []uint64{2, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("open index after migration = %v, want %v", got, want)
	}
	view(t, db, func(tx bot.Tx) error {
		if _, _, ok, err := tx.NextEscalation(); ok || err != nil {
			t.Errorf("schedule after migration not empty: %v, %v", ok, err)
		}
		if fp, err := tx.EscalationPolicy(); fp != "" || err != nil {
			t.Errorf("fingerprint after migration = %q, %v", fp, err)
		}
		return nil
	})
	// The migrated store keeps its indexes like a fresh one.
	update(t, db, func(tx bot.Tx) error {
		return tx.PutRFA(&bot.RFA{Num: 2, Status: bot.StatusClosed})
	})
	if got, want := openNums(t, db, 10), []uint64{4, 5}; !slices.Equal(got, want) {
		t.Errorf("open index after closing RFA-2 = %v, want %v", got, want)
	}
}
