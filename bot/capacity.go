package bot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Capacity gauges against the contract's threshold (issue #11).
//
// A gauge is one service's use against its limit. The desk reports a
// gauge to the ops channel and the managers when it reaches the
// threshold, once per crossing: it must fall below threshold minus
// CapacityHysteresis points before it can be reported again, so a gauge
// hovering at the line does not flap. A surge held on a service delays
// its reports until the surge ends; the surge itself is kept as the
// recorded exception. The state lives in one RateState (RateKeyCapacity),
// so a restart neither forgets nor repeats a report.

// DefaultCapacityThreshold is the threshold, in percent, when none is
// configured.
const DefaultCapacityThreshold = 70.0

// CapacityHysteresis is how many points below the threshold a reported
// gauge must fall before it can be reported again.
const CapacityHysteresis = 5.0

// RateKeyCapacity is the RateState key holding CapacityState.
const RateKeyCapacity = "capacity"

// surgesKept bounds the recorded surges (oldest dropped first).
const surgesKept = 200

// healthKept is how long rfadesk's own downtime is kept.
const healthKept = 400 * 24 * time.Hour

// Gauge is one service's use against its limit, in any one unit (bytes,
// items, RFAs).
type Gauge struct {
	Service string  `json:"service"`
	Used    float64 `json:"used"`
	Limit   float64 `json:"limit"`
}

// Percent is Used as a percentage of Limit.
func (g Gauge) Percent() float64 { return 100 * g.Used / g.Limit }

// Validate reports a gauge that cannot be observed, naming the field.
func (g Gauge) Validate() error {
	if err := validService(g.Service); err != nil {
		return err
	}
	switch {
	case !(g.Limit > 0) || g.Limit > 1e300:
		return fmt.Errorf("bot: gauge %s: limit must be a positive number: %w", g.Service, ErrInvalid)
	case !(g.Used >= 0) || g.Used > 1e300:
		return fmt.Errorf("bot: gauge %s: used must be zero or more: %w", g.Service, ErrInvalid)
	}
	return nil
}

func validService(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("bot: a service name is 1 to 64 characters: %w", ErrInvalid)
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.:/", r)) {
			return fmt.Errorf("bot: service %q: only letters, digits and - _ . : / are allowed: %w", s, ErrInvalid)
		}
	}
	return nil
}

// CapacityState is the persisted capacity state (RateState.Capacity).
type CapacityState struct {
	// Gauges are the last observation and crossing state per service.
	Gauges map[string]GaugeState `json:"gauges,omitempty"`
	// Surges are the recorded surges, oldest first, active or not.
	Surges []Surge `json:"surges,omitempty"`
	// Down are rfadesk's own down intervals from its health history
	// (RecordHealth); the last has a zero To while it is down.
	Down []Downtime `json:"down,omitempty"`
	// Crossings are the reported crossings, oldest first (at most
	// crossingsKept), so a monthly report can count a month's.
	Crossings []Crossing `json:"crossings,omitempty"`
}

// Crossing is one gauge's crossing of the threshold, reported at At.
type Crossing struct {
	Service string    `json:"service"`
	At      time.Time `json:"at"`
	Percent float64   `json:"percent"`
}

// crossingsKept bounds the recorded crossings (oldest dropped first).
const crossingsKept = 2000

// GaugeState is one gauge's last observation and whether its current
// crossing was reported.
type GaugeState struct {
	Gauge
	At time.Time `json:"at"`
	// Reported is set when the crossing was reported and cleared when
	// the gauge falls below threshold - CapacityHysteresis.
	Reported   bool      `json:"reported,omitempty"`
	ReportedAt time.Time `json:"reported_at,omitzero"`
	// Held counts observations at or over the threshold held by a surge.
	Held int `json:"held,omitempty"`
}

// Surge is a one-off surge staff declared on a service: its reports are
// held from From until Until.
type Surge struct {
	Service string    `json:"service"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until"`
}

// crossing decides what observing g at now does to st, given the
// threshold in percent and whether a surge holds the service's reports.
// It returns true when the crossing is to be reported now.
func (st *GaugeState) crossing(g Gauge, threshold float64, held bool, now time.Time) bool {
	st.Gauge, st.At = g, now
	pct := g.Percent()
	if st.Reported {
		if pct < threshold-CapacityHysteresis {
			st.Reported = false
		}
		return false
	}
	if pct < threshold {
		return false
	}
	if held {
		st.Held++
		return false
	}
	st.Reported, st.ReportedAt = true, now
	return true
}

// ActiveSurge returns the surge holding service at now, if any.
func (cs *CapacityState) ActiveSurge(service string, now time.Time) (Surge, bool) {
	for i := len(cs.Surges) - 1; i >= 0; i-- {
		s := cs.Surges[i]
		if s.Service == service && !now.Before(s.From) && now.Before(s.Until) {
			return s, true
		}
	}
	return Surge{}, false
}

type capacityEvent struct {
	fn    func(tx Tx) (any, error)
	reply chan capacityReply
}

type capacityReply struct {
	v   any
	err error
}

func (capacityEvent) isEvent() {}

// updateCapacity runs fn on the capacity state in one transaction on the
// desk goroutine, storing the state when fn succeeds, and returns what
// fn returned. fn must not write variables of the caller: the caller
// may have stopped waiting (ctx) while it runs.
func updateCapacity[T any](ctx context.Context, d *Desk, fn func(tx Tx, cs *CapacityState) (T, error)) (T, error) {
	var zero T
	reply := make(chan capacityReply, 1)
	ev := capacityEvent{reply: reply, fn: func(tx Tx) (any, error) {
		st, err := tx.RateState(RateKeyCapacity)
		if err != nil {
			return nil, err
		}
		if st.Capacity == nil {
			st.Capacity = &CapacityState{}
		}
		v, err := fn(tx, st.Capacity)
		if err != nil {
			return nil, err
		}
		return v, tx.PutRateState(RateKeyCapacity, st)
	}}
	if err := d.send(ctx, ev); err != nil {
		return zero, err
	}
	r, err := await(ctx, d, reply)
	if err != nil {
		return zero, err
	}
	if r.err != nil {
		return zero, r.err
	}
	return r.v.(T), nil
}

func (d *Desk) runCapacity(ctx context.Context, ev capacityEvent) capacityReply {
	var v any
	err := d.store.Update(ctx, func(tx Tx) error {
		var err error
		v, err = ev.fn(tx)
		return err
	})
	return capacityReply{v, err}
}

// ObserveGauge records g and reports whether this observation crossed
// the threshold and was reported: a chat post to the ops channel and a
// mail to the managers (AlertTo when there are none), through the
// outbox in the same transaction. An invalid gauge is refused with an
// error wrapping ErrInvalid and changes nothing.
func (d *Desk) ObserveGauge(ctx context.Context, g Gauge) (reported bool, err error) {
	if err := g.Validate(); err != nil {
		return false, err
	}
	return updateCapacity(ctx, d, func(tx Tx, cs *CapacityState) (bool, error) {
		now := d.now()
		if cs.Gauges == nil {
			cs.Gauges = map[string]GaugeState{}
		}
		st := cs.Gauges[g.Service]
		_, held := cs.ActiveSurge(g.Service, now)
		reported := st.crossing(g, d.cfg.Capacity.threshold(), held, now)
		cs.Gauges[g.Service] = st
		if !reported {
			return false, nil
		}
		cs.Crossings = append(cs.Crossings, Crossing{Service: g.Service, At: now, Percent: g.Percent()})
		if n := len(cs.Crossings) - crossingsKept; n > 0 {
			cs.Crossings = slices.Delete(cs.Crossings, 0, n)
		}
		return true, d.tellCapacity(tx, capacityView{
			Service: g.Service, Percent: formatPercent(g.Percent()), Used: formatAmount(g.Used), Limit: formatAmount(g.Limit),
			Threshold: formatPercent(d.cfg.Capacity.threshold()),
		})
	})
}

// DeclareSurge records a one-off surge on service from now for length:
// its capacity reports are held until it ends. The surge is kept as the
// contract's recorded exception and announced on the ops channel.
func (d *Desk) DeclareSurge(ctx context.Context, service, reason string, length time.Duration, by Actor) (Surge, error) {
	if err := validService(service); err != nil {
		return Surge{}, err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "" || len(reason) > 500:
		return Surge{}, fmt.Errorf("bot: a surge needs a reason of at most 500 characters: %w", ErrInvalid)
	case length <= 0 || length > 31*24*time.Hour:
		return Surge{}, fmt.Errorf("bot: a surge lasts more than nothing and at most 31 days: %w", ErrInvalid)
	}
	return updateCapacity(ctx, d, func(tx Tx, cs *CapacityState) (Surge, error) {
		now := d.now()
		s := Surge{Service: service, Reason: reason, By: by.String(), From: now, Until: now.Add(length)}
		cs.Surges = append(cs.Surges, s)
		if n := len(cs.Surges) - surgesKept; n > 0 {
			cs.Surges = slices.Delete(cs.Surges, 0, n)
		}
		if !d.cfg.Chat {
			return s, nil
		}
		v := surgeView{Service: service, Until: s.Until.UTC().Format("2006-01-02 15:04 UTC"), By: s.By, Reason: reason}
		_, err := tx.Enqueue(&OutboxItem{Kind: OutboxChat, Created: now, NextAttempt: now, Chat: &ChatPost{Op: ChatOps,
			Text: d.render("surge.chat.tmpl", v)}})
		return s, err
	})
}

// tellCapacity posts the report v describes (capacity: its subject and
// text) to the ops channel and mails it to the managers (AlertTo when
// there are none).
func (d *Desk) tellCapacity(tx Tx, v capacityView) error {
	now := d.now()
	subject, text := d.subject("capacity", v), d.render("capacity.txt.tmpl", v)
	if d.cfg.Chat {
		if _, err := tx.Enqueue(&OutboxItem{Kind: OutboxChat, Created: now, NextAttempt: now, Chat: &ChatPost{Op: ChatOps, Text: subject + "\n" + text}}); err != nil {
			return err
		}
	}
	to := d.cfg.Managers
	if len(to) == 0 {
		to = d.cfg.AlertTo
	}
	if len(to) == 0 {
		return nil
	}
	mid, err := d.newMessageID(0)
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(&OutboxItem{Kind: OutboxMail, Created: now, NextAttempt: now, Mail: &OutgoingMail{
		To: to, Subject: subject, Text: text, MessageID: mid, Auto: true, Purpose: "capacity report",
	}})
	return err
}

// Capacity returns the stored capacity state: every gauge's last
// observation, the surges and rfadesk's own downtime.
func (d *Desk) Capacity(ctx context.Context) (CapacityState, error) {
	var cs CapacityState
	err := d.store.View(ctx, func(tx Tx) error {
		st, err := tx.RateState(RateKeyCapacity)
		if st.Capacity != nil {
			cs = *st.Capacity
		}
		return err
	})
	return cs, err
}

// Services returns the gauges' services, sorted.
func (cs CapacityState) Services() []string { return slices.Sorted(maps.Keys(cs.Gauges)) }

// RecordHealth records a change of rfadesk's own health at now: down
// opens a down interval, up closes the open one. Repeating the current
// state changes nothing. Intervals older than about 13 months are
// dropped.
func (d *Desk) RecordHealth(ctx context.Context, up bool) error {
	_, err := updateCapacity(ctx, d, func(_ Tx, cs *CapacityState) (struct{}, error) {
		now := d.now()
		open := len(cs.Down) > 0 && cs.Down[len(cs.Down)-1].To.IsZero()
		switch {
		case !up && !open:
			cs.Down = append(cs.Down, Downtime{Component: "rfadesk", From: now})
		case up && open:
			cs.Down[len(cs.Down)-1].To = now
		}
		cs.Down = slices.DeleteFunc(cs.Down, func(dt Downtime) bool { return !dt.To.IsZero() && now.Sub(dt.To) > healthKept })
		return struct{}{}, nil
	})
	return err
}

// CapacityConfig is the [capacity] configuration the desk needs.
type CapacityConfig struct {
	// Threshold is the percentage at which a gauge is reported; zero
	// means DefaultCapacityThreshold.
	Threshold float64
}

func (c CapacityConfig) threshold() float64 {
	if c.Threshold <= 0 {
		return DefaultCapacityThreshold
	}
	return c.Threshold
}

func formatPercent(p float64) string { return strconv.FormatFloat(p, 'f', 1, 64) + "%" }

func formatAmount(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// CapacityThreshold is the threshold in percent gauges are reported at.
func (d *Desk) CapacityThreshold() float64 { return d.cfg.Capacity.threshold() }
