package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/store"
)

// samplerEnv is a sampler over a real desk on a real bbolt file.
type samplerEnv struct {
	desk *bot.Desk
	s    *capacitySampler
	up   bool
}

func newSamplerEnv(t *testing.T, capCfg config.Capacity, statfs func(string, *syscall.Statfs_t) error) *samplerEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	desk := bot.NewDesk(db, bot.DeskConfig{Chat: true, Managers: []bot.Address{{Email: "head@example.org"}},
		Address: bot.Address{Email: "support@example.org"}, LoopValue: "support@example.org"},
		&bot.DeskOptions{Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { desk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &samplerEnv{desk: desk, up: true}
	cfg := &config.Config{Store: config.Store{Path: path}, Capacity: capCfg}
	e.s = newCapacitySampler(desk, db, cfg, func() (bool, string) { return e.up, "" }, nil, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if statfs != nil {
		e.s.statfs = statfs
	}
	e.s.now = func() time.Time { return now }
	return e
}

// The mailbox's quota is read on the first sample and every quotaEvery-th;
// a server offering none is not asked again.
func TestCapacitySamplerQuota(t *testing.T) {
	e := newSamplerEnv(t, config.Capacity{}, nil)
	calls, offered := 0, true
	e.s.quota = func(context.Context) (int64, int64, bool, error) {
		calls++
		return 800 << 20, 1 << 30, offered, nil
	}
	ctx := context.Background()
	for range quotaEvery + 1 {
		e.s.sample(ctx)
	}
	if calls != 2 {
		t.Errorf("quota read %d times in %d samples, want 2", calls, quotaEvery+1)
	}
	if g := e.gauges(t).Gauges[gaugeMailbox]; g.Used != 800<<20 || g.Limit != 1<<30 || !g.Reported {
		t.Errorf("mailbox gauge = %+v", g)
	}
	offered = false
	for range 2 * quotaEvery {
		e.s.sample(ctx)
	}
	if calls != 3 {
		t.Errorf("quota read %d times, want 3 (not again once none is offered)", calls)
	}
}

func (e *samplerEnv) gauges(t *testing.T) bot.CapacityState {
	t.Helper()
	cs, err := e.desk.Capacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestCapacitySamplerReadsEveryGauge(t *testing.T) {
	// A file system of 1000 blocks of 4096 bytes: 750 in use, 50
	// reserved for root, 200 available: 750/(750+200) = 78.9%.
	statfs := func(path string, st *syscall.Statfs_t) error {
		*st = syscall.Statfs_t{Bsize: 4096, Blocks: 1000, Bfree: 250, Bavail: 200}
		return nil
	}
	e := newSamplerEnv(t, config.Capacity{StoreLimit: 1 << 30, OpenRFAs: 4, OutboxLimit: 1000}, statfs)
	ctx := context.Background()
	for _, subj := range []string{"Printer", "Login", "Wi-Fi"} {
		if _, err := e.desk.LogCall(ctx, bot.PhoneCall{Subject: subj, By: bot.Actor{Name: "Priya"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.sample(ctx); err != nil {
		t.Fatal(err)
	}
	cs := e.gauges(t)
	fi, err := os.Stat(e.s.storePath)
	if err != nil {
		t.Fatal(err)
	}
	if g := cs.Gauges[gaugeStore]; g.Used != float64(fi.Size()) || g.Limit != 1<<30 || g.Reported {
		t.Errorf("store gauge = %+v (file is %d bytes)", g, fi.Size())
	}
	if g := cs.Gauges[gaugeDisk]; g.Used != 750*4096 || g.Limit != 950*4096 || !g.Reported {
		t.Errorf("disk gauge = %+v, want 750 of 950 blocks, reported", g)
	}
	// 3 of 4 open RFAs: 75%, reported.
	if g := cs.Gauges[gaugeOpenRFAs]; g.Used != 3 || g.Limit != 4 || !g.Reported {
		t.Errorf("open-rfas gauge = %+v", g)
	}
	if g := cs.Gauges[gaugeOutbox]; g.Used < 3 || g.Limit != 1000 || g.Reported {
		t.Errorf("outbox gauge = %+v, want the RFAs' chat posts at least", g)
	}
	if len(cs.Down) != 0 {
		t.Errorf("down = %+v while healthy", cs.Down)
	}
}

func TestCapacitySamplerRecordsHealthAndKeepsGoing(t *testing.T) {
	broken := errors.New("statfs: no such file system")
	e := newSamplerEnv(t, config.Capacity{OutboxLimit: 10}, func(string, *syscall.Statfs_t) error { return broken })
	ctx := context.Background()
	e.up = false
	if err := e.s.sample(ctx); !errors.Is(err, broken) {
		t.Errorf("sample = %v, want the statfs error", err)
	}
	if _, ok := e.gauges(t).Gauges[gaugeOutbox]; !ok {
		t.Error("the outbox gauge was not read after the disk failed")
	}
	e.up = true
	e.s.sample(ctx)
	cs := e.gauges(t)
	if len(cs.Down) != 1 || cs.Down[0].Component != "rfadesk" || cs.Down[0].To.IsZero() {
		t.Errorf("down = %+v, want one closed interval", cs.Down)
	}
}

// The real file system holding a temporary directory can be read.
func TestCapacitySamplerRealDisk(t *testing.T) {
	e := newSamplerEnv(t, config.Capacity{}, nil)
	if err := e.s.sample(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g := e.gauges(t).Gauges[gaugeDisk]; !(g.Limit > 0 && g.Used > 0 && g.Used <= g.Limit) {
		t.Errorf("disk gauge = %+v", g)
	}
}
