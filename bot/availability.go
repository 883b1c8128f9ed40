package bot

import (
	"slices"
	"time"
)

// Downtime is one interval during which a component was down: the input
// of MonthlyAvailability. Outage notices with components give one per
// component; rfadesk's own health history (RecordHealth) gives those of
// component "rfadesk". A zero To means still down.
type Downtime struct {
	Component string    `json:"component"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to,omitzero"`
}

// ContractAvailability is the contract's availability target, 99.9%.
const ContractAvailability = 0.999

// Availability is one component's availability over one month.
type Availability struct {
	Component string `json:"component"`
	// Month is the first instant of the month, in the caller's zone.
	Month time.Time `json:"month"`
	// Period is how long the month is (up to now for the current one).
	Period time.Duration `json:"period"`
	// Down is the union of its downtime within Period.
	Down time.Duration `json:"down"`
	// Ratio is 1 - Down/Period.
	Ratio float64 `json:"ratio"`
	// Target is the contract's ratio (ContractAvailability).
	Target float64 `json:"target"`
	// AllowanceLeft is (1-Target) of the whole month less Down;
	// negative when the allowance is spent.
	AllowanceLeft time.Duration `json:"allowance_left"`
}

// MonthlyAvailability computes, for the month holding month (in month's
// location) and each component with downtime in it (and each name in
// also, even without downtime), availability = 1 - downtime / time. A
// month in progress counts up to now; an interval still open (zero To)
// runs until now. Overlapping intervals of one component count once.
// The result is sorted by component.
func MonthlyAvailability(downs []Downtime, month, now time.Time, also ...string) []Availability {
	start := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, month.Location())
	end := start.AddDate(0, 1, 0)
	full := end.Sub(start)
	until := end
	if now.Before(until) {
		until = now
	}
	if until.Before(start) {
		until = start
	}
	per := map[string][]Downtime{}
	for _, c := range also {
		per[c] = nil
	}
	for _, dt := range downs {
		to := dt.To
		if to.IsZero() || to.After(until) {
			to = until
		}
		from := dt.From
		if from.Before(start) {
			from = start
		}
		if !from.Before(to) {
			continue
		}
		per[dt.Component] = append(per[dt.Component], Downtime{dt.Component, from, to})
	}
	var out []Availability
	for c, ivs := range per {
		a := Availability{Component: c, Month: start, Period: until.Sub(start), Target: ContractAvailability}
		a.Down = unionLength(ivs)
		a.Ratio = 1
		if a.Period > 0 {
			a.Ratio = 1 - float64(a.Down)/float64(a.Period)
		}
		a.AllowanceLeft = time.Duration(float64(full)*(1-ContractAvailability)) - a.Down
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Availability) int {
		switch {
		case a.Component < b.Component:
			return -1
		case a.Component > b.Component:
			return 1
		}
		return 0
	})
	return out
}

// unionLength is the total length covered by ivs, overlaps counted once.
func unionLength(ivs []Downtime) time.Duration {
	slices.SortFunc(ivs, func(a, b Downtime) int { return a.From.Compare(b.From) })
	var total time.Duration
	var curFrom, curTo time.Time
	for i, iv := range ivs {
		if i == 0 || iv.From.After(curTo) {
			total += curTo.Sub(curFrom)
			curFrom, curTo = iv.From, iv.To
			continue
		}
		if iv.To.After(curTo) {
			curTo = iv.To
		}
	}
	return total + curTo.Sub(curFrom)
}
