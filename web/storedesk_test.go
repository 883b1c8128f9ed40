package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// storeDesk is a real bot.Desk over a real store in t.TempDir() holding
// rfas. Only its reads are used, so it is not run.
func storeDesk(t testing.TB, rfas ...*bot.RFA) *bot.Desk {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "rfadesk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(context.Background(), func(tx bot.Tx) error {
		for _, r := range rfas {
			if err := tx.PutRFA(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bot.NewDesk(db, bot.DeskConfig{}, &bot.DeskOptions{Logger: slog.New(slog.DiscardHandler)})
}

// rfaWithBody is fullRFA whose first message's text is size bytes.
func rfaWithBody(size int) *bot.RFA {
	r := fullRFA()
	r.Messages[0].Text = strings.Repeat("x", size)
	return r
}

// wrongTokenCost measures GET /rfa/RFA-1 with a wrong token on a store
// whose RFA-1 has a body of bodySize bytes: allocations and bytes
// allocated per request.
func wrongTokenCost(t *testing.T, bodySize int) (allocs float64, bytes uint64) {
	h := NewHandler(Options{Desk: storeDesk(t, rfaWithBody(bodySize)), Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return fixedNow }})
	// Each request from its own client, as the per-client guess limit
	// would otherwise answer 429 before the summary is read.
	clients := make([]string, 64)
	for i := range clients {
		clients[i] = fmt.Sprintf("198.51.100.%d:1234", i)
	}
	next := 0
	request := func() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/rfa/RFA-1?t=wrong-token-AAAAAAAAAAAAAAAAAAAA", nil)
		req.RemoteAddr = clients[next%len(clients)]
		next++
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Fatalf("wrong token: status %d", rec.Code)
		}
	}
	request() // warm up: templates, mmap
	const runs = 20
	allocs = testing.AllocsPerRun(runs, request)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		request()
	}
	runtime.ReadMemStats(&after)
	return allocs, (after.TotalAlloc - before.TotalAlloc) / runs
}

// TestWrongTokenCostDoesNotGrowWithTheBody: a wrong status token is
// turned away after reading the RFA's summary alone, so a 30 MB message
// costs it nothing more than a 1 KB one (issue #7).
func TestWrongTokenCostDoesNotGrowWithTheBody(t *testing.T) {
	smallAllocs, smallBytes := wrongTokenCost(t, 1<<10)
	bigAllocs, bigBytes := wrongTokenCost(t, 30<<20)
	t.Logf("1 KB body: %.0f allocs, %d B; 30 MB body: %.0f allocs, %d B", smallAllocs, smallBytes, bigAllocs, bigBytes)
	if bigAllocs > smallAllocs+10 {
		t.Errorf("allocations per wrong-token request grow with the body: %.0f (1 KB) vs %.0f (30 MB)", smallAllocs, bigAllocs)
	}
	if bigBytes > smallBytes+64<<10 {
		t.Errorf("bytes per wrong-token request grow with the body: %d (1 KB) vs %d (30 MB)", smallBytes, bigBytes)
	}
}

// TestRightTokenShowsTheConversation: once the token matches, the page
// shows every message's text, read from the store's bodies.
func TestRightTokenShowsTheConversation(t *testing.T) {
	r := rfaWithBody(0)
	r.Messages[0].Text = "The printer shows <E-17> & smokes"
	h := newTestHandler(t, func(o *Options) { o.Desk = storeDesk(t, r) })
	res, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if !strings.Contains(body, "The printer shows &lt;E-17&gt; &amp; smokes") {
		t.Errorf("first message's text missing from the page:\n%s", body)
	}
	if !strings.Contains(body, "Thanks, logged as RFA-1.") {
		t.Errorf("second message's text missing from the page")
	}
}

// BenchmarkWrongToken30MB is one wrong-token status request on an RFA
// whose message is 30 MB.
func BenchmarkWrongToken30MB(b *testing.B) {
	h := NewHandler(Options{Desk: storeDesk(b, rfaWithBody(30<<20)), Logger: slog.New(slog.DiscardHandler)})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/rfa/RFA-1?t=wrong-token", nil))
		if rec.Code != http.StatusNotFound {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
