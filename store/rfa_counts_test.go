package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"rfadesk/bot"
)

// countsBySummaries counts the stored summaries by status and severity,
// the slow way the kept counts replace.
func countsBySummaries(t *testing.T, db *DB) map[bot.RFACount]bool {
	t.Helper()
	n := map[[2]string]uint64{}
	view(t, db, func(tx bot.Tx) error {
		_, err := tx.RFASummaries(0, func(s *bot.RFASummary) (bool, error) {
			n[[2]string{string(s.Status), string(s.Severity)}]++
			return true, nil
		})
		return err
	})
	out := map[bot.RFACount]bool{}
	for k, v := range n {
		out[bot.RFACount{Status: bot.Status(k[0]), Severity: bot.Severity(k[1]), N: v}] = true
	}
	return out
}

func rfaCounts(t *testing.T, db *DB) []bot.RFACount {
	t.Helper()
	var counts []bot.RFACount
	view(t, db, func(tx bot.Tx) error {
		var err error
		counts, err = tx.RFACounts()
		return err
	})
	return counts
}

// checkCounts asserts that the kept counts are exactly want, and agree
// with a walk of the summaries.
func checkCounts(t *testing.T, db *DB, want []bot.RFACount) {
	t.Helper()
	got := rfaCounts(t, db)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RFACounts = %+v\nwant %+v", got, want)
	}
	walked := countsBySummaries(t, db)
	set := map[bot.RFACount]bool{}
	for _, c := range got {
		set[c] = true
	}
	if !reflect.DeepEqual(set, walked) {
		t.Errorf("RFACounts = %+v, but the summaries count %+v", got, walked)
	}
}

func TestRFACountsFollowEveryPutRFA(t *testing.T) {
	db := newTestDB(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	put := func(r *bot.RFA) {
		t.Helper()
		update(t, db, func(tx bot.Tx) error { return tx.PutRFA(r) })
	}
	checkCounts(t, db, nil)
	a := &bot.RFA{Num: 1, Status: bot.StatusNew, Created: t0, Token: "a"}
	b := &bot.RFA{Num: 2, Status: bot.StatusNew, Created: t0, Token: "b"}
	put(a)
	put(b)
	put(b) // unchanged: still one RFA
	checkCounts(t, db, []bot.RFACount{{Status: bot.StatusNew, N: 2}})

	a.Status, a.Severity = bot.StatusOpen, bot.SeverityCritical
	put(a)
	checkCounts(t, db, []bot.RFACount{{Status: bot.StatusNew, N: 1}, {Status: bot.StatusOpen, Severity: bot.SeverityCritical, N: 1}})

	b.Status, b.Severity = bot.StatusOpen, bot.SeverityCritical
	put(b)
	a.Status = bot.StatusClosed
	put(a)
	checkCounts(t, db, []bot.RFACount{
		{Status: bot.StatusClosed, Severity: bot.SeverityCritical, N: 1},
		{Status: bot.StatusOpen, Severity: bot.SeverityCritical, N: 1},
	})
}

func TestRFACountsRollBackWithTheirTransaction(t *testing.T) {
	db := newTestDB(t)
	err := db.Update(context.Background(), func(tx bot.Tx) error {
		if err := tx.PutRFA(&bot.RFA{Num: 1, Status: bot.StatusNew, Token: "a"}); err != nil {
			return err
		}
		return context.Canceled
	})
	if err != context.Canceled {
		t.Fatalf("Update = %v", err)
	}
	checkCounts(t, db, nil)
}

// TestMigrationToV6CountsExistingRFAs opens the version-1 fixture (every
// migration runs) and a store taken back to version 5 without counts.
func TestMigrationToV6CountsExistingRFAs(t *testing.T) {
	path := copyV1(t)
	want := []bot.RFACount{
		{Status: bot.StatusClosed, Severity: bot.SeverityMinor, N: 1},
		{Status: bot.StatusNew, N: 1},
		{Status: bot.StatusOpen, Severity: bot.SeverityModerate, N: 1},
	}
	db := openTest(t, path)
	checkCounts(t, db, want)
	if n := breachedCount(t, db); n != 0 {
		t.Errorf("breached RFAs in the fixture = %d, want 0", n)
	}
	// RFA-1 (open) breaches; the index is then dropped with the counts.
	update(t, db, func(tx bot.Tx) error {
		r, err := tx.RFA(1)
		if err != nil {
			return err
		}
		r.Events = append(r.Events, bot.Event{Kind: bot.EventBreach, Text: "response"})
		return tx.PutRFA(r)
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Back to version 5: the counts gone, one left wrong on purpose.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(btx *bolt.Tx) error {
		meta := btx.Bucket([]byte(bucketMeta))
		for _, c := range want {
			k, _ := rfaCountKey(c.Status, c.Severity)
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		if err := btx.DeleteBucket([]byte(bucketBreachedRFAs)); err != nil {
			return err
		}
		k, _ := rfaCountKey(bot.StatusCleared, bot.SeverityCritical)
		if err := meta.Put(k, encodeU64(7)); err != nil {
			return err
		}
		return meta.Put([]byte(keySchemaVersion), encodeU64(5))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, path)
	checkCounts(t, db, want)
	if n := breachedCount(t, db); n != 1 {
		t.Errorf("breached RFAs after migration = %d, want 1 (RFA-1)", n)
	}
	st, err := db.Stats(t.Context())
	if err != nil || st.SchemaVersion != schemaVersion {
		t.Errorf("schema version = %d, %v; want %d", st.SchemaVersion, err, schemaVersion)
	}
}

func TestRFACountKeyRefusesNUL(t *testing.T) {
	if _, err := rfaCountKey("open\x00x", ""); err == nil {
		t.Error("a status with a NUL byte made a count key")
	}
	db := newTestDB(t)
	err := db.Update(context.Background(), func(tx bot.Tx) error {
		return tx.PutRFA(&bot.RFA{Num: 1, Status: "open\x00x", Token: "a"})
	})
	if err == nil {
		t.Error("PutRFA stored a status with a NUL byte")
	}
}

func breachedCount(t *testing.T, db *DB) int {
	t.Helper()
	g, err := db.Gauges(context.Background(), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return g.BreachedRFAs
}

func TestBreachedIndexHoldsOpenRFAsWithABreach(t *testing.T) {
	db := newTestDB(t)
	r := &bot.RFA{Num: 1, Status: bot.StatusOpen, Token: "a"}
	other := &bot.RFA{Num: 2, Status: bot.StatusOpen, Token: "b", Events: []bot.Event{{Kind: bot.EventJeopardy}}}
	put := func(rs ...*bot.RFA) {
		t.Helper()
		update(t, db, func(tx bot.Tx) error {
			for _, r := range rs {
				if err := tx.PutRFA(r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	put(r, other)
	if n := breachedCount(t, db); n != 0 {
		t.Fatalf("breached = %d before any breach", n)
	}
	r.Events = append(r.Events, bot.Event{Kind: bot.EventBreach, Text: "response"})
	put(r)
	put(r) // written again: still one
	if n := breachedCount(t, db); n != 1 {
		t.Errorf("breached = %d after RFA-1 breached, want 1", n)
	}
	r.Status = bot.StatusClosed
	put(r)
	if n := breachedCount(t, db); n != 0 {
		t.Errorf("breached = %d after RFA-1 closed, want 0", n)
	}
	r.Status = bot.StatusOpen // reopened: its history still holds the breach
	put(r)
	if n := breachedCount(t, db); n != 1 {
		t.Errorf("breached = %d after RFA-1 reopened, want 1", n)
	}
}
