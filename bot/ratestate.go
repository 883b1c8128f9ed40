package bot

import (
	"slices"
	"time"
)

// RateState is the stored state of one intake safeguard: a rate limit
// over recent events, and when staff were last told about it. The keys
// are the RateKey* functions and constants; the store keeps one
// RateState per key and knows nothing of their meaning.
type RateState struct {
	// Times are the recent events counted by the limit, oldest first.
	Times []time.Time `json:"times,omitempty"`
	// RFA is the RFA most recently opened under this key (per-sender
	// intake: where mail over the limit is recorded).
	RFA uint64 `json:"rfa,omitempty"`
	// Told is when staff were last told (or, for a batched alert, when
	// the alert waiting in the outbox goes out).
	Told time.Time `json:"told,omitzero"`
	// Items are outbox items of a batched alert still waiting to go out,
	// and Listed how many entries they list.
	Items  []uint64 `json:"items,omitempty"`
	Listed int      `json:"listed,omitempty"`
	// Capacity is the capacity gauges' state, under RateKeyCapacity
	// only (capacity.go).
	Capacity *CapacityState `json:"capacity,omitempty"`
	// Dependency is a raised dependency notice, under RateKeyDependency
	// keys only (dependency.go).
	Dependency *DependencyState `json:"dependency,omitempty"`
	// Seen is the last heartbeat of the instance leading a replicated
	// desk, under RateKeyLeader only (leader_heartbeat.go).
	Seen time.Time `json:"seen,omitzero"`
}

// IsZero reports whether st holds nothing (the store then deletes it).
func (st RateState) IsZero() bool {
	return len(st.Times) == 0 && st.RFA == 0 && st.Told.IsZero() && len(st.Items) == 0 && st.Listed == 0 && st.Capacity == nil && st.Dependency == nil && st.Seen.IsZero()
}

// Safeguard keys (RateState).
const (
	// RateKeyUnknownAcks limits acknowledgements to senders outside the
	// configured organisations, desk-wide.
	RateKeyUnknownAcks = "acks:unknown-domains"
	// RateKeyDeadLetterAlert batches the staff alerts about dead letters.
	RateKeyDeadLetterAlert = "alert:dead-letter"
)

// RateKeySender is the key of the per-sender limit on new RFAs; sender
// is a lower-cased address.
func RateKeySender(sender string) string { return "sender:" + sender }

// count returns how many of st.Times fall within window before now.
func (st RateState) count(window time.Duration, now time.Time) int {
	n := 0
	for _, at := range st.Times {
		if now.Sub(at) < window {
			n++
		}
	}
	return n
}

// record appends now to st.Times, dropping times older than window.
func (st *RateState) record(window time.Duration, now time.Time) {
	st.Times = slices.DeleteFunc(st.Times, func(at time.Time) bool { return now.Sub(at) >= window })
	st.Times = append(st.Times, now)
}
