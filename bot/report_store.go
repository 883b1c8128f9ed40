package bot

import (
	"context"
	"errors"
	"iter"
	"time"
)

// This file reads a month's RFAs from the store for MonthReport without
// walking the store. RFA numbers are handed out in the order RFAs are
// logged (NextRFANumber in the transaction that sets Created), so the
// RFAs logged in a month are one range of numbers: its ends are found
// by a binary search over summaries, and the range is read in pages.

// reportPage is how many RFAs one read transaction of a report decodes.
const reportPage = 256

// MonthReport computes month's report (see the package function
// MonthReport) from the RFAs logged in it, with clocks measured now, and
// its service sections (AddService) from the stored releases, capacity
// state and outage notices.
// Its cost is the month's RFAs plus a few dozen summary lookups, not the
// store: each page of RFAs is read in its own short transaction. The
// service sections read every stored release and outage notice (a few
// per month) and the capacity state in one more.
func (d *Desk) MonthReport(ctx context.Context, month Month) (*MonthlyReport, error) {
	from, to := month.Bounds(d.SLA().Calendar.Location())
	lo, err := d.firstCreatedAtOrAfter(ctx, from)
	if err != nil {
		return nil, err
	}
	hi, err := d.firstCreatedAtOrAfter(ctx, to)
	if err != nil {
		return nil, err
	}
	rep, err := MonthReport(d.SLA(), d.rfaRange(ctx, lo, hi), month, d.now())
	if err != nil {
		return nil, err
	}
	rec, err := d.serviceRecord(ctx)
	if err != nil {
		return nil, err
	}
	rep.AddService(rec, month, d.SLA().Calendar.Location())
	return rep, nil
}

// rfaRange yields the RFAs numbered lo (inclusive) to hi (exclusive; 0:
// to the last), a page per read transaction; nothing when lo is 0.
func (d *Desk) rfaRange(ctx context.Context, lo, hi uint64) iter.Seq2[*RFA, error] {
	return func(yield func(*RFA, error) bool) {
		if lo == 0 {
			return
		}
		after := lo - 1
		for {
			var page []*RFA
			var rest bool
			err := d.store.View(ctx, func(tx Tx) error {
				page = page[:0]
				var err error
				rest, err = tx.RFASummaries(after, func(s *RFASummary) (bool, error) {
					if hi != 0 && s.Num >= hi {
						return false, errRangeEnd
					}
					r, err := tx.RFA(s.Num)
					if err != nil {
						return false, err
					}
					page = append(page, r)
					return len(page) < reportPage, nil
				})
				return err
			})
			end := errors.Is(err, errRangeEnd)
			if err != nil && !end {
				yield(nil, err)
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
				after = r.Num
			}
			if end || !rest || len(page) == 0 {
				return
			}
		}
	}
}

var errRangeEnd = errors.New("end of range")

// firstCreatedAtOrAfter returns the number of the first RFA logged at or
// after t, 0 when every RFA was logged before t. It relies on numbers
// growing with Created, and finds it by an exponential then binary
// search over summaries: O(log n) small reads.
func (d *Desk) firstCreatedAtOrAfter(ctx context.Context, t time.Time) (uint64, error) {
	var found uint64
	err := d.store.View(ctx, func(tx Tx) error {
		// atOrAfter(n) is the first summary numbered n or above; reached
		// reports whether it is missing or logged at or after t, which
		// is monotone in n.
		atOrAfter := func(n uint64) (*RFASummary, error) {
			var s *RFASummary
			_, err := tx.RFASummaries(n-1, func(x *RFASummary) (bool, error) { s = x; return false, nil })
			return s, err
		}
		reached := func(n uint64) (bool, *RFASummary, error) {
			s, err := atOrAfter(n)
			return s == nil || !s.Created.Before(t), s, err
		}
		lo, hi := uint64(1), uint64(1) // reached(hi) once the probe ends
		for {
			ok, _, err := reached(hi)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			lo, hi = hi+1, hi*2
		}
		for lo < hi { // reached(hi) holds; find the least such n >= lo
			mid := lo + (hi-lo)/2
			ok, _, err := reached(mid)
			if err != nil {
				return err
			}
			if ok {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		s, err := atOrAfter(lo)
		if s != nil {
			found = s.Num
		}
		return err
	})
	return found, err
}
