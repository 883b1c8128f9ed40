package bot

import (
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"time"
)

// This file computes a month's service report (issue #11) from the RFAs
// logged in it: a pure function of the SLA policy, the RFAs and the
// moment the report is drawn up, so a fixture can be checked by hand.
// Reading the month's RFAs from the store is Desk.MonthReport
// (report_store.go); rendering is report_render.go.

// Month is a calendar month in the desk's zone.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads "2026-11".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Month{}, fmt.Errorf("bot: month %q: write it as YYYY-MM (2026-11)", s)
	}
	return Month{t.Year(), t.Month()}, nil
}

// String is "2026-11".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Bounds returns the month's first moment and the next month's first
// moment in loc.
func (m Month) Bounds(loc *time.Location) (from, to time.Time) {
	from = time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0)
}

// Next is the following month.
func (m Month) Next() Month {
	if m.Month == time.December {
		return Month{m.Year + 1, time.January}
	}
	return Month{m.Year, m.Month + 1}
}

// MonthlyReport is a month's figures, overall and per severity,
// organisation and trust.
type MonthlyReport struct {
	Month string    `json:"month"`
	AsOf  time.Time `json:"as_of"` // the moment open clocks were measured at
	// All covers every RFA logged in the month.
	All ReportFigures `json:"all"`
	// BySeverity, ByOrganisation and ByTrust are in a fixed order:
	// severities most severe first ("" last, as "Awaiting triage"),
	// names alphabetically. RFAs without a trust are not under any trust.
	BySeverity     []ReportGroup `json:"by_severity"`
	ByOrganisation []ReportGroup `json:"by_organisation"`
	ByTrust        []ReportGroup `json:"by_trust"`
	// Releases, Capacity and Availability are the service sections
	// (AddService, report_service.go); empty as MonthReport leaves them.
	Releases     ReleasesSection     `json:"releases"`
	Capacity     CapacitySection     `json:"capacity"`
	Availability AvailabilitySection `json:"availability"`
}

// ReportGroup is the figures of one severity, organisation or trust.
type ReportGroup struct {
	Name    string        `json:"name"`
	Figures ReportFigures `json:"figures"`
}

// ReportFigures are the RFA figures of a set of RFAs logged in a month.
// Each "within target" figure counts the RFAs whose clock was met
// without breach, out of those the clock applies to (Of). Times are in
// working hours (elapsed hours for a wall-clock target), over the clocks
// that were met.
type ReportFigures struct {
	Logged int `json:"logged"`
	// Responded: response clock (email and portal RFAs) met in target.
	Responded Ratio `json:"responded_in_target"`
	// FirstUpdate: first public staff message within its target.
	FirstUpdate Ratio `json:"first_update_in_target"`
	Triaged     Ratio `json:"triaged_in_target"`
	// WorkedAround: the current workaround cycle met in target, of the
	// RFAs with a severity.
	WorkedAround Ratio `json:"worked_around_in_target"`
	// Breaches lists every RFA with a breached clock, in number order.
	Breaches []ReportBreach `json:"breaches"`
	// Times per clock name (response, triage, first_update, workaround).
	Times map[ClockName]ReportTimes `json:"times"`
	// Escalations counts the requesters' escalations (EventEscalated).
	Escalations int `json:"escalations"`
	// Reopened: RFAs reopened at least once, of those cleared at least
	// once.
	Reopened Ratio `json:"reopen_rate"`
	// FirstContact: RFAs cleared and never reopened with no more than
	// one public staff message, the clearance included (cleared by its
	// first message), of those cleared at least once.
	FirstContact Ratio `json:"first_contact_resolution"`
}

// Ratio is N of Of.
type Ratio struct {
	N  int `json:"n"`
	Of int `json:"of"`
}

// Percent is N/Of as a whole percentage, "-" when Of is 0.
func (r Ratio) Percent() string {
	if r.Of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", int(math.Round(100*float64(r.N)/float64(r.Of))))
}

// ReportBreach is one RFA's breached clocks.
type ReportBreach struct {
	Ref    string      `json:"ref"`
	Clocks []ClockName `json:"clocks"`
}

// ReportTimes are the median and 90th percentile (nearest rank) of how
// long met clocks took, in hours rounded to two decimals; N is how many
// clocks were met.
type ReportTimes struct {
	N      int     `json:"n"`
	Median float64 `json:"median_hours"`
	P90    float64 `json:"p90_hours"`
}

// reportClocks are the clocks whose times a report gives.
var reportClocks = []ClockName{ClockResponse, ClockTriage, ClockFirstUpdate, ClockWorkaround}

// figuresAcc gathers one group's figures.
type figuresAcc struct {
	f     ReportFigures
	times map[ClockName][]time.Duration
}

// MonthReport computes month's report over rfas, the RFAs logged in the
// month (others and held ones are skipped), with every clock measured at
// asOf. It stops at the first error rfas yields.
func MonthReport(p *SLAPolicy, rfas iter.Seq2[*RFA, error], month Month, asOf time.Time) (*MonthlyReport, error) {
	from, to := month.Bounds(p.Calendar.Location())
	all := newFiguresAcc()
	sev, org, trust := map[string]*figuresAcc{}, map[string]*figuresAcc{}, map[string]*figuresAcc{}
	group := func(m map[string]*figuresAcc, k string) *figuresAcc {
		if m[k] == nil {
			m[k] = newFiguresAcc()
		}
		return m[k]
	}
	for r, err := range rfas {
		if err != nil {
			return nil, err
		}
		if r.Status.Held() || r.Created.Before(from) || !r.Created.Before(to) {
			continue
		}
		clocks := p.Clocks(r, asOf)
		accs := []*figuresAcc{all, group(sev, string(r.Severity)), group(org, r.Organisation)}
		if r.Trust != "" {
			accs = append(accs, group(trust, r.Trust))
		}
		for _, a := range accs {
			a.add(r, clocks)
		}
	}
	rep := &MonthlyReport{Month: month.String(), AsOf: asOf, All: all.done()}
	for _, s := range append(slices.Clone(Severities), "") {
		if a := sev[string(s)]; a != nil {
			rep.BySeverity = append(rep.BySeverity, ReportGroup{s.Title(), a.done()})
		}
	}
	rep.ByOrganisation = sortedGroups(org)
	rep.ByTrust = sortedGroups(trust)
	return rep, nil
}

func newFiguresAcc() *figuresAcc {
	return &figuresAcc{f: ReportFigures{Breaches: []ReportBreach{}}, times: map[ClockName][]time.Duration{}}
}

func sortedGroups(m map[string]*figuresAcc) []ReportGroup {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	out := make([]ReportGroup, 0, len(names))
	for _, n := range names {
		out = append(out, ReportGroup{n, m[n].done()})
	}
	return out
}

// add counts r, whose clocks at the report's moment are clocks.
func (a *figuresAcc) add(r *RFA, clocks []ClockState) {
	f := &a.f
	f.Logged++
	var breached []ClockName
	for _, c := range clocks {
		if c.BreachedAt != nil {
			breached = append(breached, c.Name)
		}
		inTarget := c.MetAt != nil && c.BreachedAt == nil
		var ratio *Ratio
		switch c.Name {
		case ClockResponse:
			ratio = &f.Responded
		case ClockFirstUpdate:
			ratio = &f.FirstUpdate
		case ClockTriage:
			ratio = &f.Triaged
		case ClockWorkaround:
			if c.Due.IsZero() {
				continue // awaiting triage: no target applies yet
			}
			ratio = &f.WorkedAround
		}
		if ratio != nil {
			ratio.Of++
			if inTarget {
				ratio.N++
			}
		}
		if c.MetAt != nil && slices.Contains(reportClocks, c.Name) {
			a.times[c.Name] = append(a.times[c.Name], c.Used)
		}
	}
	if breached != nil {
		f.Breaches = append(f.Breaches, ReportBreach{r.Ref(), breached})
	}
	staffMessages, cleared, reopened := 0, false, false
	for _, e := range r.Events {
		switch {
		case e.Kind == EventEscalated:
			f.Escalations++
		case e.Kind == EventReopened:
			reopened = true
		}
		if e.Kind == EventCleared {
			cleared = true
		}
		if slices.Contains(publicStaffMessage, e.Kind) {
			staffMessages++
		}
	}
	if cleared {
		f.Reopened.Of++
		f.FirstContact.Of++
		if reopened {
			f.Reopened.N++
		} else if staffMessages <= 1 {
			f.FirstContact.N++
		}
	}
}

// done returns the figures with their times computed.
func (a *figuresAcc) done() ReportFigures {
	f := a.f
	f.Times = map[ClockName]ReportTimes{}
	for _, name := range reportClocks {
		ds := a.times[name]
		slices.Sort(ds)
		f.Times[name] = ReportTimes{N: len(ds), Median: nearestRank(ds, 50), P90: nearestRank(ds, 90)}
	}
	return f
}

// nearestRank is the pct-th percentile of sorted ds by the nearest-rank
// method (the smallest value with at least pct% of values at or below
// it), in hours rounded to two decimals; 0 for no values.
func nearestRank(ds []time.Duration, pct int) float64 {
	if len(ds) == 0 {
		return 0
	}
	rank := (pct*len(ds) + 99) / 100 // ceil(pct/100 * n)
	if rank < 1 {
		rank = 1
	}
	return math.Round(ds[rank-1].Hours()*100) / 100
}
