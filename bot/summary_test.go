package bot_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"rfadesk/bot"
)

// putRFAs stores RFAs 1..n straight into the fixture's store: odd ones
// from Hill School, even ones from Vale; every third one closed; RFA i
// last updated at hour i.
func putRFAs(t *testing.T, f *fixture, n int) {
	t.Helper()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	err := f.db.Update(context.Background(), func(tx bot.Tx) error {
		for i := 1; i <= n; i++ {
			r := &bot.RFA{Num: uint64(i), Status: bot.StatusOpen, Subject: "s", Created: base,
				Organisation: "Hill School", Token: "tok", Requester: bot.Address{Email: "a@hill.example"},
				Events: []bot.Event{{At: base.Add(time.Duration(i) * time.Hour), Kind: bot.EventNote}}}
			if i%2 == 0 {
				r.Organisation, r.Severity = "Vale", bot.SeverityMinor
			}
			if i%3 == 0 {
				r.Status = bot.StatusClosed
			}
			if err := tx.PutRFA(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func nums(p bot.RFAPage) []uint64 {
	var ns []uint64
	for _, s := range p.RFAs {
		ns = append(ns, s.Num)
	}
	return ns
}

func TestRFAPageWalksAndFilters(t *testing.T) {
	f := newFixture(t)
	putRFAs(t, f, 12)
	ctx := context.Background()
	page := func(q bot.RFAQuery) bot.RFAPage {
		t.Helper()
		p, err := f.desk.RFAPage(ctx, q)
		if err != nil {
			t.Fatalf("RFAPage(%+v): %v", q, err)
		}
		return p
	}

	// Pages of 5 cover every RFA once, in order, and the last says so.
	var all []uint64
	q := bot.RFAQuery{Limit: 5}
	for range 10 {
		p := page(q)
		all = append(all, nums(p)...)
		if p.Next == 0 {
			break
		}
		q.After = p.Next
	}
	if want := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !reflect.DeepEqual(all, want) {
		t.Errorf("paged walk = %v", all)
	}
	// A page that ends on the last RFA has no Next.
	if p := page(bot.RFAQuery{After: 8, Limit: 4}); p.Next != 0 || len(p.RFAs) != 4 {
		t.Errorf("last full page: %v next %d", nums(p), p.Next)
	}

	for _, tt := range []struct {
		q    bot.RFAQuery
		want []uint64
	}{
		{bot.RFAQuery{Status: bot.StatusClosed}, []uint64{3, 6, 9, 12}},
		{bot.RFAQuery{Organisation: "VALE", Status: bot.StatusOpen}, []uint64{2, 4, 8, 10}},
		{bot.RFAQuery{Severity: bot.SeverityMinor, After: 6}, []uint64{8, 10, 12}},
		{bot.RFAQuery{UpdatedSince: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)}, []uint64{10, 11, 12}},
	} {
		if p := page(tt.q); !reflect.DeepEqual(nums(p), tt.want) || p.Next != 0 {
			t.Errorf("RFAPage(%+v) = %v next %d, want %v", tt.q, nums(p), p.Next, tt.want)
		}
	}

	if _, err := f.desk.RFAPage(ctx, bot.RFAQuery{Limit: bot.MaxRFAPage + 1}); !errors.Is(err, bot.ErrBadQuery) {
		t.Errorf("limit over the maximum: %v, want ErrBadQuery", err)
	}
}

func TestSummarySubjectCutOnACharacter(t *testing.T) {
	for _, tt := range []struct{ subject, want string }{
		{"short", "short"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100)},           // 2 bytes each: cut exactly
		{strings.Repeat("€", 67), strings.Repeat("€", 66)},             // 3 bytes each: 201 bytes, the last one dropped whole
		{"a" + strings.Repeat("€", 67), "a" + strings.Repeat("€", 66)}, // 202 bytes: 199 kept
	} {
		got := bot.SummaryOf(&bot.RFA{Subject: tt.subject}).Subject
		if got != tt.want || !utf8.ValidString(got) || len(got) > bot.MaxSummarySubject {
			t.Errorf("subject of %d bytes cut to %d bytes %q, want %d bytes", len(tt.subject), len(got), got, len(tt.want))
		}
	}
}

// TestOpenFilterWalksTheOpenIndex: behind an archive of closed RFAs
// longer than one page's scan, a filter on an open status still finds
// the open RFA in the first page: it walks the open-RFA index, not every
// summary. A walk of every summary would stop at its scan bound and
// answer an empty page with a Next.
func TestOpenFilterWalksTheOpenIndex(t *testing.T) {
	f := newFixture(t)
	const archive = 5000 // more than maxRFAScan
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	err := f.db.Update(context.Background(), func(tx bot.Tx) error {
		for i := 1; i <= archive+1; i++ {
			r := &bot.RFA{Num: uint64(i), Status: bot.StatusClosed, Subject: "s", Created: base, Token: "tok"}
			if i == archive+1 {
				r.Status = bot.StatusOpen
			}
			if err := tx.PutRFA(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.desk.RFAPage(context.Background(), bot.RFAQuery{Status: bot.StatusOpen})
	if err != nil {
		t.Fatal(err)
	}
	if got := nums(p); len(got) != 1 || got[0] != archive+1 || p.Next != 0 {
		t.Errorf("status=open page = %v, next %d; want [%d] and no next page", got, p.Next, archive+1)
	}
	all, err := f.desk.RFAPage(context.Background(), bot.RFAQuery{Status: bot.StatusClosed, Limit: bot.MaxRFAPage})
	if err != nil || len(all.RFAs) != bot.MaxRFAPage || all.Next != bot.MaxRFAPage {
		t.Errorf("status=closed page: %d RFAs, next %d, %v; want %d and a next page", len(all.RFAs), all.Next, err, bot.MaxRFAPage)
	}
}
