package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/store"
)

// Gauge services the sampler observes (bot.Gauge.Service).
const (
	gaugeStore    = "store"     // the store file against capacity.store_limit
	gaugeDisk     = "disk"      // the file system holding the store
	gaugeOutbox   = "outbox"    // pending outbox items against capacity.outbox_limit
	gaugeMailbox  = "mailbox"   // the support mailbox's IMAP QUOTA (STORAGE)
	gaugeOpenRFAs = "open-rfas" // RFAs not closed against capacity.open_rfas
)

// capacityEvery is how often the sampler reads the gauges; the IMAP
// quota, a login of its own, is read every quotaEvery samples.
const (
	capacityEvery = time.Minute
	quotaEvery    = 15
)

// quotaFunc reads the support mailbox's quota (mailbox.IMAPQuota): ok is
// false when the server offers none.
type quotaFunc func(ctx context.Context) (used, limit int64, ok bool, err error)

// capacityDesk is what the sampler needs from the desk (*bot.Desk).
type capacityDesk interface {
	ObserveGauge(ctx context.Context, g bot.Gauge) (bool, error)
	RecordHealth(ctx context.Context, up bool) error
}

// capacitySampler reads the desk's own gauges and health and hands them
// to the desk, which reports crossings and records downtime. It is used
// by one goroutine.
type capacitySampler struct {
	desk      capacityDesk
	db        *store.DB
	storePath string // the bbolt file; "" on etcd
	diskPath  string // a file on the disk gauged
	cfg       config.Capacity
	// healthy is the daemon's health as availability counts it
	// (health.settled).
	healthy func() (bool, string)
	// statfs reads the file system holding a path (syscall.Statfs).
	statfs func(path string, st *syscall.Statfs_t) error
	now    func() time.Time
	log    *slog.Logger
	// quota reads the mailbox's quota; nil, or once the server said it
	// offers none, it is not read.
	quota quotaFunc
	// samples counts sample calls (the quota is read on every quotaEvery-th).
	samples int
	// lastUp is the health last recorded; nil before the first.
	lastUp *bool
}

// newCapacitySampler samples the gauges of cfg's [capacity] and the
// daemon's health into desk.
func newCapacitySampler(desk capacityDesk, db *store.DB, cfg *config.Config, healthy func() (bool, string), quota quotaFunc, log *slog.Logger) *capacitySampler {
	// On etcd there is no local store file: the disk gauged is the one
	// holding the instance's receipt log.
	storePath, diskPath := cfg.Store.Path, cfg.Store.Path
	if cfg.Store.Backend == config.BackendEtcd {
		storePath, diskPath = "", cfg.Store.Receipts
	}
	return &capacitySampler{desk: desk, db: db, storePath: storePath, diskPath: diskPath, cfg: cfg.Capacity, healthy: healthy,
		quota: quota, statfs: syscall.Statfs, now: time.Now, log: log}
}

// runner is run bound to ctx, for an errgroup.
func (s *capacitySampler) runner(ctx context.Context) func() error {
	return func() error { return s.run(ctx) }
}

// run samples every capacityEvery until ctx is done, and returns nil.
// A failed reading is logged and tried again at the next tick.
func (s *capacitySampler) run(ctx context.Context) error {
	t := time.NewTicker(capacityEvery)
	defer t.Stop()
	for {
		if err := s.sample(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("capacity: sampling failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sample reads every gauge once, observes each, and records a change of
// health. It returns the errors joined; a gauge that cannot be read does
// not stop the others.
func (s *capacitySampler) sample(ctx context.Context) error {
	var errs []error
	if s.healthy != nil {
		up, _ := s.healthy()
		if s.lastUp == nil || *s.lastUp != up {
			if err := s.desk.RecordHealth(ctx, up); err != nil {
				errs = append(errs, err)
			} else {
				s.lastUp = &up
			}
		}
	}
	gauges, err := s.read(ctx)
	errs = append(errs, err)
	if s.quota != nil && s.samples%quotaEvery == 0 {
		used, limit, ok, err := s.quota(ctx)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("imap quota: %w", err))
		case !ok:
			s.log.Info("capacity: the IMAP server offers no storage quota; the mailbox is not gauged")
			s.quota = nil
		default:
			gauges = append(gauges, bot.Gauge{Service: gaugeMailbox, Used: float64(used), Limit: float64(limit)})
		}
	}
	s.samples++
	for _, g := range gauges {
		if _, err := s.desk.ObserveGauge(ctx, g); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// read returns the gauges that can be read now.
func (s *capacitySampler) read(ctx context.Context) ([]bot.Gauge, error) {
	var gs []bot.Gauge
	var errs []error
	if s.cfg.StoreLimit > 0 && s.storePath != "" {
		if fi, err := os.Stat(s.storePath); err != nil {
			errs = append(errs, err)
		} else {
			gs = append(gs, bot.Gauge{Service: gaugeStore, Used: float64(fi.Size()), Limit: float64(s.cfg.StoreLimit)})
		}
	}
	var fs syscall.Statfs_t
	if err := s.statfs(filepath.Dir(s.diskPath), &fs); err != nil {
		errs = append(errs, err)
	} else {
		// As df counts: blocks reserved for root are neither used nor
		// available to us.
		used := float64(fs.Blocks-fs.Bfree) * float64(fs.Bsize)
		if limit := used + float64(fs.Bavail)*float64(fs.Bsize); limit > 0 {
			gs = append(gs, bot.Gauge{Service: gaugeDisk, Used: used, Limit: limit})
		}
	}
	st, err := s.db.Gauges(ctx, s.now(), 0)
	if err != nil {
		return gs, errors.Join(append(errs, err)...)
	}
	backlog := 0
	for _, n := range st.Backlog {
		backlog += n
	}
	if s.cfg.OutboxLimit > 0 {
		gs = append(gs, bot.Gauge{Service: gaugeOutbox, Used: float64(backlog), Limit: float64(s.cfg.OutboxLimit)})
	}
	if s.cfg.OpenRFAs > 0 {
		var open uint64
		for _, c := range st.RFAs {
			if c.Status != bot.StatusClosed {
				open += c.N
			}
		}
		gs = append(gs, bot.Gauge{Service: gaugeOpenRFAs, Used: float64(open), Limit: float64(s.cfg.OpenRFAs)})
	}
	return gs, errors.Join(errs...)
}
