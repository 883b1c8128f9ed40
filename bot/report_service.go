package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// This file fills a monthly report's service sections (issue #11):
// releases shipped against the cadence, capacity crossings and surges
// with the current gauges, and availability per component against the
// contract's 99.9%. AddService is a pure function of what the desk
// recorded; Desk.MonthReport gathers that record from the store.

// ServiceRecord is what the desk recorded that the service sections are
// computed from.
type ServiceRecord struct {
	// Releases are the stored releases (shipped ones count).
	Releases []ReleaseInfo
	// Capacity is the capacity state: gauges, crossings, surges and
	// rfadesk's own downtime (component "rfadesk").
	Capacity CapacityState
	// Threshold is the capacity threshold in percent.
	Threshold float64
	// Downtime is the outage notices' downtime per component.
	Downtime []Downtime
	// Terms are the school terms, as the release cadence sees them
	// (checkCadence): each one's start and when its major release is due.
	Terms []Term
}

// Term is one school term: Start is midnight at its first day, Due the
// end of its first working day, when its major release is due.
type Term struct {
	Start time.Time `json:"start"`
	Due   time.Time `json:"due"`
}

// ReleasesSection is the releases shipped in a month against the
// cadence: a minor release at most every two weeks, a major one a term.
type ReleasesSection struct {
	Shipped []ShippedRelease `json:"shipped"`
	Minor   int              `json:"minor"`
	Major   int              `json:"major"`
	// LongestMinorGapDays is the longest time, in days rounded to one
	// decimal, without a minor release shipped within the month (from
	// the last one before it, or the month's start when none, to the
	// month's end or the report's moment).
	LongestMinorGapDays float64 `json:"longest_minor_gap_days"`
	// MinorGapOverTwoWeeks is set when that gap exceeds two weeks.
	MinorGapOverTwoWeeks bool `json:"minor_gap_over_two_weeks"`
	// LastMajor is when the last major release up to the month's end
	// shipped; zero when none has.
	LastMajor time.Time `json:"last_major,omitzero"`
	// TermStart is the start of the school term current at the month's
	// end (or the report's moment); zero when no term is known.
	TermStart time.Time `json:"term_start,omitzero"`
	// MajorMissed is set when that term's major release was due by then
	// and none has shipped since the term began.
	MajorMissed bool `json:"major_missed"`
}

// ShippedRelease is one release shipped in the month.
type ShippedRelease struct {
	Name    string      `json:"name"`
	Kind    ReleaseKind `json:"kind"`
	Shipped time.Time   `json:"shipped"`
}

// CapacitySection is a month's capacity crossings and surges, and the
// gauges as last observed.
type CapacitySection struct {
	Threshold float64     `json:"threshold"`
	Crossings []Crossing  `json:"crossings"`
	Surges    []Surge     `json:"surges"`
	Gauges    []GaugeView `json:"gauges"`
}

// GaugeView is one gauge's last observation.
type GaugeView struct {
	Gauge
	Percent float64   `json:"percent"`
	At      time.Time `json:"at"`
}

// AvailabilitySection is a month's availability per component of the
// outage notices and rfadesk's own, against ContractAvailability.
type AvailabilitySection struct {
	Components []Availability `json:"components"`
	Rfadesk    Availability   `json:"rfadesk"`
}

// AddService fills rep's service sections for month (in loc) from rec,
// measured at rep.AsOf.
func (rep *MonthlyReport) AddService(rec ServiceRecord, month Month, loc *time.Location) {
	from, to := month.Bounds(loc)
	until := to
	if rep.AsOf.Before(until) {
		until = rep.AsOf
	}
	rep.Releases = releasesIn(rec.Releases, from, to, until)
	for _, term := range rec.Terms {
		if term.Start.Before(until) && term.Start.After(rep.Releases.TermStart) {
			rep.Releases.TermStart = term.Start
			rep.Releases.MajorMissed = term.Due.Before(until) && rep.Releases.LastMajor.Before(term.Start)
		}
	}
	c := CapacitySection{Threshold: rec.Threshold, Crossings: []Crossing{}, Surges: []Surge{}, Gauges: []GaugeView{}}
	for _, x := range rec.Capacity.Crossings {
		if !x.At.Before(from) && x.At.Before(to) {
			c.Crossings = append(c.Crossings, x)
		}
	}
	for _, s := range rec.Capacity.Surges {
		if s.From.Before(to) && s.Until.After(from) {
			c.Surges = append(c.Surges, s)
		}
	}
	for _, name := range rec.Capacity.Services() {
		g := rec.Capacity.Gauges[name]
		c.Gauges = append(c.Gauges, GaugeView{g.Gauge, g.Percent(), g.At})
	}
	rep.Capacity = c
	a := AvailabilitySection{Components: MonthlyAvailability(rec.Downtime, from, rep.AsOf)}
	if a.Components == nil {
		a.Components = []Availability{}
	}
	a.Rfadesk = MonthlyAvailability(rec.Capacity.Down, from, rep.AsOf, "rfadesk")[0]
	rep.Availability = a
}

// releasesIn computes the releases section over [from, to), the gaps
// measured up to until.
func releasesIn(all []ReleaseInfo, from, to, until time.Time) ReleasesSection {
	s := ReleasesSection{Shipped: []ShippedRelease{}}
	shipped := slices.DeleteFunc(slices.Clone(all), func(r ReleaseInfo) bool { return r.Shipped.IsZero() || !r.Shipped.Before(to) })
	slices.SortFunc(shipped, func(a, b ReleaseInfo) int { return a.Shipped.Compare(b.Shipped) })
	last := from // the last minor release shipped, or the month's start
	var gap time.Duration
	for _, r := range shipped {
		if r.Kind == ReleaseMajor {
			s.LastMajor = r.Shipped
		}
		if r.Shipped.Before(from) {
			if r.Kind == ReleaseMinor {
				last = r.Shipped
			}
			continue
		}
		s.Shipped = append(s.Shipped, ShippedRelease{r.Name, r.Kind, r.Shipped})
		if r.Kind == ReleaseMajor {
			s.Major++
			continue
		}
		s.Minor++
		gap = max(gap, r.Shipped.Sub(last))
		last = r.Shipped
	}
	if until.After(last) {
		gap = max(gap, until.Sub(last))
	}
	s.LongestMinorGapDays = float64(int(gap.Hours()/24*10+0.5)) / 10
	s.MinorGapOverTwoWeeks = gap > minorCadenceGap
	return s
}

// serviceRecord reads what AddService needs: the stored releases, the
// capacity state and the outage notices' downtime.
func (d *Desk) serviceRecord(ctx context.Context) (ServiceRecord, error) {
	rec := ServiceRecord{Threshold: d.cfg.Capacity.threshold()}
	for _, h := range d.jeop.policy().SchoolHolidays("") {
		start := addDays(h.To, 1)
		rec.Terms = append(rec.Terms, Term{Start: d.releaseShips(addDays(start, -1)), Due: d.releaseShips(d.nextWorkingDay(start))})
	}
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		if rec.Releases, err = tx.Releases(); err != nil {
			return err
		}
		st, err := tx.RateState(RateKeyCapacity)
		if err != nil {
			return err
		}
		if st.Capacity != nil {
			rec.Capacity = *st.Capacity
		}
		rec.Downtime, err = outageDowntime(tx)
		return err
	})
	return rec, err
}

// Downtime returns the outage notices' downtime: one interval per
// component of each notice, from its start to its end (zero To while it
// lasts). rfadesk's own downtime is CapacityState.Down, not here. It
// reads every stored notice: they are few (one per incident).
func (d *Desk) Downtime(ctx context.Context) ([]Downtime, error) {
	var out []Downtime
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = outageDowntime(tx)
		return err
	})
	return out, err
}

// outageDowntime reads the notices by id (1, 2, ... as PutOutage hands
// them out, none deleted) until the first missing one.
func outageDowntime(tx Tx) ([]Downtime, error) {
	var out []Downtime
	for id := uint64(1); ; id++ {
		o, err := tx.Outage(id)
		if errors.Is(err, ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, c := range o.Components {
			out = append(out, Downtime{Component: strings.TrimSpace(c), From: o.Started, To: o.Ended})
		}
	}
}
