package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"rfadesk/ha"
	"rfadesk/store/kv"
)

// leadership decides when this instance runs the desk's active loops:
// intake, the deliverers, the schedulers and the Discord gateway. On
// bbolt the one process always leads. On etcd it leads only during a term
// won in the election (package ha), and every write it makes carries the
// term's fence, so once the term is over nothing it does can commit.
type leadership struct {
	// elector is nil on bbolt: this instance always leads.
	elector *ha.Elector
	// fence hands the store's etcd driver the fence of the term in hand
	// (the zero Fence between terms: writes are refused).
	fence func(kv.Fence)
	// begin runs once at the start of each term, fenced, before the
	// loops (the schema migration); an error ends the daemon.
	begin func(ctx context.Context) error
	lease time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	term    *ha.Term // the term in hand, nil between terms
	leading bool
}

// role is web.RoleFunc: "leader" while this instance leads, else the
// elector's view ("standby", "unavailable"), with the lease as the time
// a client should wait before it retries.
func (l *leadership) role() (string, time.Duration) {
	if l.elector == nil {
		return "leader", 0
	}
	l.mu.Lock()
	leading := l.leading
	l.mu.Unlock()
	if leading {
		return "leader", 0
	}
	return string(l.elector.Role()), l.lease
}

// isLeading reports whether this instance leads now.
func (l *leadership) isLeading() bool {
	role, _ := l.role()
	return role == "leader"
}

// run calls lead for every term this instance wins, with a context that
// ends when the term does (lease lost, etcd unreachable, another instance
// leads) or ctx does, until ctx is done. On bbolt it calls lead once with
// ctx. When ctx ends during a term the term is kept, so that the shutdown
// can flush the outbox under its fence; call resign afterwards. An error
// from lead other than its context ending is returned.
func (l *leadership) run(ctx context.Context, lead func(ctx context.Context) error) error {
	if l.elector == nil {
		return lead(ctx)
	}
	for {
		l.log.Info("standing by: campaigning for leadership")
		term, err := l.elector.Campaign(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		tctx, cancel := context.WithCancel(ctx)
		l.mu.Lock()
		l.term = term
		l.mu.Unlock()
		l.fence(term.Fence())
		go func() {
			select {
			case <-term.Done():
				l.setLeading(false) // refuse changes at once
				cancel()
			case <-tctx.Done():
			}
		}()
		err = l.begin(tctx)
		if err == nil {
			l.setLeading(true)
			l.log.Info("leading: this instance runs the desk", "fence_rev", term.Fence().Rev)
			err = lead(tctx)
		}
		ended := tctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.endTerm()
		if ended {
			l.log.Warn("stepped down: the leadership term ended; standing by")
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
}

// resign ends the term in hand, if any, so another instance leads at once
// rather than after the lease (a graceful stop or a rolling restart).
func (l *leadership) resign(ctx context.Context) {
	l.mu.Lock()
	term := l.term
	l.mu.Unlock()
	if term == nil {
		return
	}
	l.endTerm()
	if err := term.Resign(ctx); err != nil {
		l.log.Warn("resign: the leadership was not handed over; the lease expires instead", "err", err)
		return
	}
	l.log.Info("resigned: another instance may lead now")
}

func (l *leadership) endTerm() {
	l.mu.Lock()
	l.term = nil
	l.leading = false
	l.mu.Unlock()
	l.fence(kv.Fence{})
}

func (l *leadership) setLeading(v bool) {
	l.mu.Lock()
	l.leading = v
	l.mu.Unlock()
}

// leaderRecorder is what the heartbeat needs from the desk (*bot.Desk).
type leaderRecorder interface {
	RecordLeading(ctx context.Context, termStart bool, interval time.Duration) error
}

// heartbeat records that this instance leads (bot.Desk.RecordLeading):
// at once, as the term's start, then every interval until ctx ends, when
// it returns ctx.Err(). A failed heartbeat is logged and tried again at
// the next tick: it only measures availability.
func heartbeat(ctx context.Context, desk leaderRecorder, interval time.Duration, log *slog.Logger) error {
	start := true
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := desk.RecordLeading(ctx, start, interval); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Warn("leader heartbeat not recorded", "err", err)
		} else {
			start = false
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
