package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// orgRFA is a minimal RFA of organisation org in trust.
func orgRFA(num uint64, org, trust string) *bot.RFA {
	return &bot.RFA{Num: num, Token: fmt.Sprintf("tok%d", num), Status: bot.StatusNew, Subject: "s",
		Organisation: org, Trust: trust, Created: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

// orgNums pages through kind/name with page size n and returns every
// number seen, in order.
func orgNums(t *testing.T, db *DB, kind bot.OrgKind, name string, n int) []uint64 {
	t.Helper()
	var out []uint64
	var before uint64
	for range 100 {
		var page []*bot.RFASummary
		view(t, db, func(tx bot.Tx) error {
			var err error
			page, err = tx.OrgRFAs(kind, name, before, n)
			return err
		})
		for _, s := range page {
			out = append(out, s.Num)
		}
		if len(page) < n {
			return out
		}
		before = page[len(page)-1].Num
	}
	t.Fatal("paging did not end")
	return nil
}

func TestOrgIndexNewestFirstPagedAndNeverAnotherOrg(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error {
		for i := uint64(1); i <= 12; i++ {
			org, trust := "Hill School", "North Trust"
			switch i % 3 {
			case 1:
				org, trust = "Vale Academy", "North Trust"
			case 2:
				// A name extending Hill's with a NUL must not show on Hill's page.
				org, trust = "Hill School\x00x", ""
			}
			if err := tx.PutRFA(orgRFA(i, org, trust)); err != nil {
				return err
			}
		}
		return tx.PutRFA(orgRFA(13, "", ""))
	})
	for _, n := range []int{1, 2, 3, 100} {
		if got, want := orgNums(t, db, bot.OrgKindOrganisation, "hill school", n), []uint64{12, 9, 6, 3}; !slices.Equal(got, want) {
			t.Errorf("Hill School, pages of %d = %v, want %v", n, got, want)
		}
	}
	if got, want := orgNums(t, db, bot.OrgKindTrust, "North Trust", 2), []uint64{12, 10, 9, 7, 6, 4, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("North Trust = %v, want %v", got, want)
	}
	if got := orgNums(t, db, bot.OrgKindOrganisation, "", 5); len(got) != 0 {
		t.Errorf("empty name lists %v", got)
	}
	view(t, db, func(tx bot.Tx) error {
		if _, err := tx.OrgRFAs("school", "Hill School", 0, 5); err == nil {
			t.Error("unknown kind accepted")
		}
		if _, err := tx.OrgRFAs(bot.OrgKindTrust, "North Trust", 0, 0); err == nil {
			t.Error("limit 0 accepted")
		}
		return nil
	})
}

func TestOrgIndexFollowsACorrectedOrganisation(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(orgRFA(1, "Hill School", "North Trust")) })
	update(t, db, func(tx bot.Tx) error {
		r, err := tx.RFA(1)
		if err != nil {
			return err
		}
		r.Organisation, r.Trust = "Vale Academy", "South Trust"
		return tx.PutRFA(r)
	})
	if got := orgNums(t, db, bot.OrgKindOrganisation, "Hill School", 5); len(got) != 0 {
		t.Errorf("old organisation still lists %v", got)
	}
	if got := orgNums(t, db, bot.OrgKindTrust, "North Trust", 5); len(got) != 0 {
		t.Errorf("old trust still lists %v", got)
	}
	if got := orgNums(t, db, bot.OrgKindOrganisation, "Vale Academy", 5); !slices.Equal(got, []uint64{1}) {
		t.Errorf("new organisation lists %v", got)
	}
	if got := orgNums(t, db, bot.OrgKindTrust, "South Trust", 5); !slices.Equal(got, []uint64{1}) {
		t.Errorf("new trust lists %v", got)
	}
	entries := 0
	db.KV().View(t.Context(), func(ktx kv.Tx) error {
		entries = ktx.Bucket(bucketOrgIndex).KeyN()
		return nil
	})
	if entries != 2 {
		t.Errorf("index holds %d entries, want 2", entries)
	}
}

func TestMigrationToV7IndexesOrganisations(t *testing.T) {
	path := copyV1(t)
	db := openTest(t, path)
	if got, want := orgNums(t, db, bot.OrgKindOrganisation, "Hill School", 1), []uint64{4, 1}; !slices.Equal(got, want) {
		t.Errorf("Hill School after migration = %v, want %v", got, want)
	}
	if got, want := orgNums(t, db, bot.OrgKindTrust, "north trust", 5), []uint64{4, 1}; !slices.Equal(got, want) {
		t.Errorf("North Trust after migration = %v, want %v", got, want)
	}
	if got := orgNums(t, db, bot.OrgKindOrganisation, "Vale Academy", 5); !slices.Equal(got, []uint64{2}) {
		t.Errorf("Vale Academy after migration = %v", got)
	}
	if got := orgNums(t, db, bot.OrgKindTrust, "", 5); len(got) != 0 {
		t.Errorf("RFA without a trust indexed: %v", got)
	}
}

func TestOrgLinksStoreOnlyTheHashAndRevoke(t *testing.T) {
	db := newTestDB(t)
	token := "secret-token-value"
	hash := sha256.Sum256([]byte(token))
	var id uint64
	update(t, db, func(tx bot.Tx) error {
		var err error
		id, err = tx.PutOrgLink(hash[:], bot.OrgLink{ID: 99, Kind: bot.OrgKindTrust, Name: "North Trust"})
		if err != nil {
			return err
		}
		if _, err := tx.PutOrgLink(hash[:], bot.OrgLink{Kind: bot.OrgKindTrust, Name: "X"}); err == nil {
			t.Error("same hash stored twice")
		}
		return nil
	})
	if id != 1 {
		t.Errorf("first id = %d, want 1", id)
	}
	db.KV().View(t.Context(), func(ktx kv.Tx) error {
		return ktx.ForEachBucket(func(name string, b kv.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if bytes.Contains(k, []byte(token)) || bytes.Contains(v, []byte(token)) {
					t.Errorf("bucket %s holds the token", name)
				}
				return nil
			})
		})
	})
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	update(t, db, func(tx bot.Tx) error {
		l, err := tx.RevokeOrgLink(id, at)
		if err != nil || !l.Revoked.Equal(at) {
			t.Errorf("RevokeOrgLink = %+v, %v", l, err)
		}
		if _, err := tx.RevokeOrgLink(id+1, at); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("revoking an unknown id: %v", err)
		}
		return nil
	})
	view(t, db, func(tx bot.Tx) error {
		l, err := tx.OrgLinkByHash(hash[:])
		if err != nil || l.ID != id || l.Name != "North Trust" || !l.Revoked.Equal(at) {
			t.Errorf("OrgLinkByHash = %+v, %v", l, err)
		}
		wrong := sha256.Sum256([]byte("other"))
		if _, err := tx.OrgLinkByHash(wrong[:]); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("unknown hash: %v", err)
		}
		ls, err := tx.OrgLinks()
		if err != nil || len(ls) != 1 || ls[0].ID != id {
			t.Errorf("OrgLinks = %+v, %v", ls, err)
		}
		return nil
	})
}

// TestOrgRFAsCostDoesNotGrowWithTheArchive: a page of one school's RFAs
// allocates about the same with 6000 RFAs of other schools stored as
// with 600 (issue #8: nothing daily walks the whole store). Only the
// trees' depth may add a few allocations; a walk would add thousands.
func TestOrgRFAsCostDoesNotGrowWithTheArchive(t *testing.T) {
	allocs := func(others int) float64 {
		db := newTestDB(t)
		update(t, db, func(tx bot.Tx) error {
			num := uint64(0)
			for i := range others {
				num++
				if err := tx.PutRFA(orgRFA(num, fmt.Sprintf("School %d", i%50), "Big Trust")); err != nil {
					return err
				}
			}
			for range 3 {
				num++
				if err := tx.PutRFA(orgRFA(num, "Hill School", "North Trust")); err != nil {
					return err
				}
			}
			return nil
		})
		return testing.AllocsPerRun(20, func() {
			view(t, db, func(tx bot.Tx) error {
				page, err := tx.OrgRFAs(bot.OrgKindOrganisation, "Hill School", 0, 25)
				if len(page) != 3 {
					t.Fatalf("page of %d, want 3", len(page))
				}
				return err
			})
		})
	}
	small, big := allocs(600), allocs(6000)
	t.Logf("OrgRFAs allocates %v with 600 other RFAs stored, %v with 6000", small, big)
	if big > small+16 { // a few a B-tree level; reading every RFA would cost thousands
		t.Errorf("OrgRFAs allocates %v with 6000 other RFAs stored, %v with 600", big, small)
	}
}
