package bot

import (
	"context"
	"time"
)

// RateKeyLeader is the RateState key holding the last heartbeat (Seen) of
// the instance that leads a replicated desk.
const RateKeyLeader = "ha:leader"

// RecordLeading is the heartbeat of the instance leading a replicated
// desk (several rfadesk instances on one etcd store, one of them leading
// at a time). The leader calls it at the start of its term (termStart),
// then every interval, and once more just before it hands over.
//
// Availability counts the desk as down only while no instance leads: at
// the start of a term, when the last heartbeat of any leader is older
// than interval, the time from that heartbeat to now is recorded as
// rfadesk downtime (to within one interval: the old leader led for at
// most that long after its last heartbeat). When rfadesk's own health
// history already has an open down interval, that interval covers the
// gap and nothing is added.
func (d *Desk) RecordLeading(ctx context.Context, termStart bool, interval time.Duration) error {
	reply := make(chan capacityReply, 1)
	ev := capacityEvent{reply: reply, fn: func(tx Tx) (any, error) {
		now := d.now()
		st, err := tx.RateState(RateKeyLeader)
		if err != nil {
			return nil, err
		}
		if termStart && !st.Seen.IsZero() && now.Sub(st.Seen) > interval {
			if err := recordLeaderless(tx, st.Seen, now); err != nil {
				return nil, err
			}
		}
		st.Seen = now
		return nil, tx.PutRateState(RateKeyLeader, st)
	}}
	if err := d.send(ctx, ev); err != nil {
		return err
	}
	r, err := await(ctx, d, reply)
	if err != nil {
		return err
	}
	return r.err
}

// recordLeaderless adds [from, to) to rfadesk's downtime unless an open
// down interval already covers it.
func recordLeaderless(tx Tx, from, to time.Time) error {
	st, err := tx.RateState(RateKeyCapacity)
	if err != nil {
		return err
	}
	if st.Capacity == nil {
		st.Capacity = &CapacityState{}
	}
	cs := st.Capacity
	if n := len(cs.Down); n > 0 && cs.Down[n-1].To.IsZero() {
		return nil
	}
	cs.Down = append(cs.Down, Downtime{Component: "rfadesk", From: from, To: to})
	return tx.PutRateState(RateKeyCapacity, st)
}
