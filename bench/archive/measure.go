package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
	"rfadesk/web"
)

// figures are one store's measurements; durations in nanoseconds.
type figures struct {
	RFAs, Open     int
	FileBytes      int64
	Cold           time.Duration // start-up with the file out of the page cache
	ColdCached     float64       // share of the file cached just before the cold start
	Warm           time.Duration // median of warm start-ups
	Rest           memory        // after start-up, garbage collected
	Status         latency       // GET /rfa/RFA-N?t=TOKEN
	One            latency       // GET /api/rfas/RFA-N
	Page           latency       // GET /api/rfas?after=RFA-N&limit=100
	PageFiltered   latency       // the same with status=open&organisation=...
	ServePeak      memory        // peak while serving the requests above
	Queue          time.Duration // median of ForEachOpenRFA + clocks over all open RFAs
	QueueRead      int           // open RFAs the queue read
	Export         time.Duration // paging GET /api/rfas?limit=1000 to the end
	ExportRFAs     int
	ExportPeak     memory
	ExportPeakHalf memory // the peak until half the RFAs were listed
}

// latency is a median and a 99th percentile.
type latency struct{ P50, P99 time.Duration }

func percentiles(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	return latency{P50: ds[len(ds)/2], P99: ds[min(len(ds)-1, len(ds)*99/100)]}
}

// Sample sizes.
const (
	warmStarts    = 5
	statusReads   = 2000
	oneReads      = 2000
	pageReads     = 300
	queueRuns     = 3
	exportPage    = 1000
	adminToken    = "bench-admin-token-0123456789abcdef"
	filterOrgName = "Oak Primary School"
)

// runningDesk is a started desk over an open store.
type runningDesk struct {
	db   *store.DB
	desk *bot.Desk
	stop func()
}

func (r *runningDesk) close() { r.stop(); r.db.Close() }

// startDesk is the daemon's start-up as far as the archive matters:
// open the store (fsync on, as in production), start the desk and arm
// its jeopardy schedule. It returns the schedule's status.
func startDesk(ctx context.Context, path string) (*runningDesk, bot.ScheduleStatus, error) {
	db, err := store.Open(path, nil)
	if err != nil {
		return nil, bot.ScheduleStatus{}, err
	}
	d := bot.NewDesk(db, bot.DeskConfig{
		Name: "Bench Desk", Address: bot.Address{Name: "Service Desk", Email: "support@example.org"},
		BaseURL: "https://desk.example.org", SLA: benchPolicy(), Organisations: deskOrganisations(),
	}, &bot.DeskOptions{
		Now:    func() time.Time { return benchNow },
		Logger: slog.New(slog.DiscardHandler),
	})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	rd := &runningDesk{db: db, desk: d, stop: func() { cancel(); <-done }}
	st, err := d.ArmSchedule(ctx)
	if err != nil {
		rd.close()
		return nil, st, err
	}
	return rd, st, nil
}

func deskOrganisations() []bot.Organisation {
	var orgs []bot.Organisation
	for _, o := range organisations {
		orgs = append(orgs, bot.Organisation{Name: o.name, Domains: []string{o.domain}})
	}
	return orgs
}

// measure takes the figures of the store at path, whose RFAs are
// numbered 1 to last (last >= 1), in this order: start-ups, memory at
// rest, the web requests, the queue and the export.
func measure(ctx context.Context, path string, last uint64) (*figures, error) {
	f := &figures{}
	if st, err := os.Stat(path); err == nil {
		f.FileBytes = st.Size()
	}
	// Start-ups: cold (file dropped from the page cache), then warm.
	if !dropPageCache(path) {
		return nil, fmt.Errorf("cannot drop %s from the page cache", path)
	}
	f.ColdCached = cachedFraction(path)
	t0 := time.Now()
	rd, st, err := startDesk(ctx, path)
	if err != nil {
		return nil, err
	}
	f.Cold = time.Since(t0)
	if st.Rebuilt != 0 || st.Fired != 0 {
		rd.close()
		return nil, fmt.Errorf("start-up rebuilt %d and fired %d: the store was not armed", st.Rebuilt, st.Fired)
	}
	var warm []time.Duration
	for range warmStarts {
		rd.close()
		t0 = time.Now()
		if rd, _, err = startDesk(ctx, path); err != nil {
			return nil, err
		}
		warm = append(warm, time.Since(t0))
	}
	defer rd.close()
	f.Warm = percentiles(warm).P50
	f.Rest = restingMemory()

	f.RFAs = int(last)

	h := web.NewHandler(web.Options{
		Desk: rd.desk, AdminToken: adminToken, StatusURL: rd.desk.StatusURL,
		Now: func() time.Time { return benchNow },
		Settings: func() web.Settings {
			return web.Settings{Clocks: func(r *bot.RFA) []bot.ClockState { return rd.desk.SLA().Clocks(r, benchNow) }}
		},
	})
	peak := samplePeak()
	if err := measureWeb(ctx, h, rd.desk, last, f); err != nil {
		return nil, err
	}
	f.ServePeak = peak.end()

	if err := measureQueue(ctx, rd.desk, f); err != nil {
		return nil, err
	}
	restingMemory()
	return f, measureExport(h, f)
}

// get serves one request and times it; it fails on any status but 200.
func get(h http.Handler, target string, admin bool) (time.Duration, *httptest.ResponseRecorder, error) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if admin {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	w := httptest.NewRecorder()
	t0 := time.Now()
	h.ServeHTTP(w, req)
	d := time.Since(t0)
	if w.Code != http.StatusOK {
		return d, w, fmt.Errorf("GET %s: %d %s", target, w.Code, w.Body.String())
	}
	return d, w, nil
}

// measureWeb times the status page, one RFA's JSON and list pages of
// random RFAs among 1..last. Only the request is timed: the target
// (and the status token it carries, read from the RFA's summary) is
// made before.
func measureWeb(ctx context.Context, h http.Handler, d *bot.Desk, last uint64, f *figures) error {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() uint64 { return 1 + rng.Uint64N(last) }
	var targetErr error
	timeMany := func(n int, target func() (string, bool)) (latency, error) {
		var ds []time.Duration
		for range n {
			t, admin := target()
			if targetErr != nil {
				return latency{}, targetErr
			}
			d, _, err := get(h, t, admin)
			if err != nil {
				return latency{}, err
			}
			ds = append(ds, d)
		}
		return percentiles(ds), nil
	}
	var err error
	if f.Status, err = timeMany(statusReads, func() (string, bool) {
		num := pick()
		sum, err := d.RFASummary(ctx, num)
		if err != nil {
			targetErr = err
			return "", false
		}
		return "/rfa/" + bot.FormatRef(num) + "?t=" + sum.Token, false
	}); err != nil {
		return err
	}
	if f.One, err = timeMany(oneReads, func() (string, bool) { return "/api/rfas/" + bot.FormatRef(pick()), true }); err != nil {
		return err
	}
	if f.Page, err = timeMany(pageReads, func() (string, bool) {
		return "/api/rfas?limit=100&after=" + bot.FormatRef(1+rng.Uint64N(max(1, last-100))), true
	}); err != nil {
		return err
	}
	f.PageFiltered, err = timeMany(pageReads, func() (string, bool) {
		return "/api/rfas?limit=100&status=open&organisation=" + url.QueryEscape(filterOrgName) + "&after=" + bot.FormatRef(pick()), true
	})
	return err
}

// measureQueue times the data /desk queue loads: every open RFA and its
// clocks (the same walk a gateway reconnect's catch-up makes).
func measureQueue(ctx context.Context, d *bot.Desk, f *figures) error {
	pol := d.SLA()
	var ds []time.Duration
	for range queueRuns {
		n := 0
		t0 := time.Now()
		err := d.ForEachOpenRFA(ctx, func(r *bot.RFA) error {
			n++
			_ = pol.Clocks(r, benchNow)
			return nil
		})
		ds = append(ds, time.Since(t0))
		if err != nil {
			return err
		}
		f.QueueRead = n
	}
	f.Queue = percentiles(ds).P50
	return nil
}

// measureExport pages GET /api/rfas to the end, a thousand at a time,
// sampling the resident set throughout.
func measureExport(h http.Handler, f *figures) error {
	peak := samplePeak()
	t0 := time.Now()
	after := ""
	for {
		target := "/api/rfas?limit=" + strconv.Itoa(exportPage)
		if after != "" {
			target += "&after=" + after
		}
		_, w, err := get(h, target, true)
		if err != nil {
			peak.end()
			return err
		}
		var page struct {
			RFAs []json.RawMessage `json:"rfas"`
			Next string            `json:"next"`
		}
		if err := json.NewDecoder(io.Reader(w.Body)).Decode(&page); err != nil {
			peak.end()
			return err
		}
		f.ExportRFAs += len(page.RFAs)
		if f.ExportPeakHalf == (memory{}) && f.ExportRFAs >= f.RFAs/2 {
			f.ExportPeakHalf = peak.snapshot()
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	f.Export = time.Since(t0)
	f.ExportPeak = peak.end()
	if f.ExportRFAs != f.RFAs {
		return fmt.Errorf("the export listed %d RFAs, want %d", f.ExportRFAs, f.RFAs)
	}
	return nil
}
