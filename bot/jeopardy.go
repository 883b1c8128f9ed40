package bot

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"rfadesk/bot/workcal"
)

// Jeopardy management: every clock's escalation points (SLAPolicy.Points,
// or FirstContactPoints for the triage and first_update clocks of RFAs
// that are not Critical) are delivered once per clock and cycle, the
// one reminder about missing report fields once per RFA
// (jeopardy_reminder.go), and a cleared RFA's reminder to confirm and its
// closure at the end of the confirmation window (lifecycle_clear.go), by
// one timer for the whole desk.
//
// The schedule lives in the store, not in memory. Every RFA carries its
// next point (RFA.NextEscalation), which the desk's store wrapper
// computes before each PutRFA; the store indexes it by time in the same
// transaction (Tx.PutRFA). RunJeopardy keeps one timer set to the
// index's first entry (Tx.NextEscalation) and re-reads it whenever a
// commit put an entry in (a kick), as mox's queue asks its database for
// the next work. When the timer fires, the desk goroutine fires the due
// points in batches of at most fireBatch RFAs, one transaction each.
// Whether a point has fired is read from the RFA's history (an
// EventJeopardy "<clock> <percent>%" after the cycle's start), recorded
// in the same transaction as its outbox items, so a restart never
// repeats one.
//
// The entries are valid for the policy they were computed with: its
// fingerprint (SLAPolicy.Fingerprint) is stored beside them. At start-up
// and after a reload that changed the policy (Desk.Reload), ArmSchedule
// finds a different or missing fingerprint, which makes the desk compute
// every open RFA's next point again, walking the open-RFA index in pages
// of rebuildBatch, one transaction each.

// jeopardyRetry is how long the scheduler waits after a failed
// transaction before trying again, and how far an RFA whose points cannot
// be fired is put back in the schedule.
const jeopardyRetry = time.Minute

// fireBatch bounds the RFAs fired in one transaction; rebuildBatch the
// open RFAs rescheduled in one transaction of a rebuild.
const (
	fireBatch    = 64
	rebuildBatch = 256
)

// jeopardy is the desk's scheduler state. The policy is replaced whole
// by a reload (setPolicy, on the desk goroutine, between transactions)
// and read from any goroutine.
type jeopardy struct {
	cur atomic.Pointer[jeopardyPolicy]
	// kick wakes RunJeopardy to re-read the schedule's first entry.
	// Capacity 1; senders never block (a pending kick is enough).
	kick chan struct{}
	// rearm asks RunJeopardy to run ArmSchedule again: the policy was
	// replaced by a reload. Capacity 1, like kick.
	rearm chan struct{}
}

// jeopardyPolicy is a policy with its fingerprint.
type jeopardyPolicy struct {
	policy      *SLAPolicy
	fingerprint string // policy.Fingerprint()
}

func newJeopardy(policy *SLAPolicy) *jeopardy {
	j := &jeopardy{kick: make(chan struct{}, 1), rearm: make(chan struct{}, 1)}
	j.setPolicy(policy)
	return j
}

// setPolicy makes policy (nil: the default) current and reports
// whether its fingerprint differs from the one before.
func (j *jeopardy) setPolicy(policy *SLAPolicy) (changed bool) {
	if policy == nil {
		policy = DefaultSLAPolicy(workcal.Default())
	}
	next := &jeopardyPolicy{policy: policy, fingerprint: policy.Fingerprint()}
	prev := j.cur.Swap(next)
	return prev == nil || prev.fingerprint != next.fingerprint
}

func (j *jeopardy) policy() *SLAPolicy  { return j.cur.Load().policy }
func (j *jeopardy) fingerprint() string { return j.cur.Load().fingerprint }

// askRearm asks RunJeopardy to re-arm the schedule, without blocking.
func (j *jeopardy) askRearm() {
	select {
	case j.rearm <- struct{}{}:
	default:
	}
}

// wake kicks RunJeopardy without blocking.
func (j *jeopardy) wake() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// observe wraps st so that every RFA written carries its next escalation
// point, and a commit that scheduled an RFA anew kicks the scheduler.
// Its Update may be called from any goroutine (the desk's is the only
// one that writes RFAs); View passes through.
func (j *jeopardy) observe(st Store) Store { return &observedStore{Store: st, j: j} }

type observedStore struct {
	Store
	j *jeopardy
}

func (s *observedStore) Update(ctx context.Context, fn func(Tx) error) error {
	var scheduled bool
	err := s.Store.Update(ctx, func(tx Tx) error {
		scheduled = false
		return fn(observedTx{Tx: tx, policy: s.j.policy(), scheduled: &scheduled})
	})
	if err == nil && scheduled {
		s.j.wake()
	}
	return err
}

type observedTx struct {
	Tx
	policy    *SLAPolicy
	scheduled *bool // set when a PutRFA gave an RFA a new, non-zero point
}

// PutRFA sets r.NextEscalation from the policy, then stores r.
func (t observedTx) PutRFA(r *RFA) error {
	at, _ := t.policy.NextPoint(r)
	if !at.IsZero() && !at.Equal(r.NextEscalation) {
		*t.scheduled = true
	}
	r.NextEscalation = at
	return t.Tx.PutRFA(r)
}

// jeopardyOp is what a jeopardyEvent asks of the desk goroutine.
type jeopardyOp int

const (
	opFire    jeopardyOp = iota // fire one batch of the points due by now
	opRebuild                   // reschedule one page of open RFAs
)

// jeopardyEvent is a request from the scheduler to the desk goroutine.
type jeopardyEvent struct {
	op    jeopardyOp
	after uint64 // opRebuild: the page starts after this RFA number
	reply chan jeopardyReply
}

type jeopardyReply struct {
	more bool   // opFire: more points may be due; opRebuild: more pages
	last uint64 // opRebuild: the page's last RFA number
	n    int    // RFAs fired (opFire) or rescheduled (opRebuild)
	read int    // opRebuild: open RFAs read
	err  error
}

func (jeopardyEvent) isEvent() {}

// ScheduleStatus describes the jeopardy schedule after ArmSchedule.
type ScheduleStatus struct {
	// Next is the earliest delivery time of any point; zero if none.
	Next time.Time
	// Rebuilt is how many open RFAs had their next point recomputed
	// because the policy's fingerprint differed from the stored one
	// (0 when the stored schedule was current); Rescheduled how many of
	// them moved.
	Rebuilt, Rescheduled int
	// Fired is how many RFAs had points fired that were already due.
	Fired int
}

// SLA returns the desk's service level agreement (DeskConfig.SLA or the
// default), for computing clocks with [SLAPolicy.Clocks].
func (d *Desk) SLA() *SLAPolicy { return d.jeop.policy() }

// callJeopardy sends a jeopardy request to the desk goroutine and waits.
func (d *Desk) callJeopardy(ctx context.Context, ev jeopardyEvent) (jeopardyReply, error) {
	ev.reply = make(chan jeopardyReply, 1)
	if err := d.send(ctx, ev); err != nil {
		return jeopardyReply{}, err
	}
	r, err := await(ctx, d, ev.reply)
	if err != nil {
		return jeopardyReply{}, err
	}
	return r, r.err
}

// ArmSchedule readies the persisted jeopardy schedule: if it was computed
// under another policy (or never), every open RFA's next point is
// computed again, a page per transaction on the desk goroutine, and the
// policy's fingerprint stored with the last page; then the points
// already due are fired and the earliest one to come is returned. Its
// cost is one index lookup when the schedule is current. Run must be
// running. RunJeopardy calls it at start and after a reload that
// changed the policy; calling it again is harmless.
func (d *Desk) ArmSchedule(ctx context.Context) (ScheduleStatus, error) {
	var st ScheduleStatus
	var stored string
	if err := d.store.View(ctx, func(tx Tx) error {
		var err error
		stored, err = tx.EscalationPolicy()
		return err
	}); err != nil {
		return st, fmt.Errorf("bot: reading the jeopardy policy: %w", err)
	}
	if stored != d.jeop.fingerprint() {
		for more, after := true, uint64(0); more; {
			r, err := d.callJeopardy(ctx, jeopardyEvent{op: opRebuild, after: after})
			if err != nil {
				return st, fmt.Errorf("bot: rebuilding the jeopardy schedule after %s: %w", FormatRef(after), err)
			}
			st.Rebuilt += r.read
			st.Rescheduled += r.n
			more, after = r.more, r.last
		}
	}
	n, err := d.fireAllDue(ctx)
	st.Fired = n
	if err != nil {
		return st, err
	}
	next, ok, err := d.nextEscalation(ctx)
	if ok {
		st.Next = next
	}
	return st, err
}

// fireAllDue has the desk fire batches until nothing is due.
func (d *Desk) fireAllDue(ctx context.Context) (int, error) {
	total := 0
	for {
		r, err := d.callJeopardy(ctx, jeopardyEvent{op: opFire})
		total += r.n
		if err != nil {
			return total, fmt.Errorf("bot: firing escalation points: %w", err)
		}
		if !r.more {
			return total, nil
		}
	}
}

// nextEscalation reads the schedule's first entry in a short view.
func (d *Desk) nextEscalation(ctx context.Context) (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		_, at, ok, err = tx.NextEscalation()
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bot: reading the jeopardy schedule: %w", err)
	}
	return at, ok, nil
}

// RunJeopardy is the jeopardy scheduler goroutine: it arms the schedule
// (ArmSchedule, retried every minute until it works), then sleeps on one
// timer until the schedule's first entry, has the desk fire what is due,
// and so on until ctx is done; it returns ctx.Err(). A commit that
// schedules an RFA kicks it to re-read the first entry; a reload that
// changed the policy makes it arm the schedule again. Run must be
// running. Call it once per Desk (a second concurrent call steals the
// first one's kicks).
func (d *Desk) RunJeopardy(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// pause waits out jeopardyRetry; false when ctx ended first.
	pause := func() bool {
		timer.Reset(jeopardyRetry)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}
	for {
		st, err := d.ArmSchedule(ctx)
		if err == nil {
			d.log.Info("jeopardy schedule armed", "next", st.Next, "rebuilt", st.Rebuilt, "rescheduled", st.Rescheduled, "fired", st.Fired)
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Error("jeopardy: arming the schedule failed; retrying", "err", err, "in", jeopardyRetry)
		if !pause() {
			return ctx.Err()
		}
	}
	for {
		next, ok, err := d.nextEscalation(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d.log.Error("jeopardy: reading the schedule failed; retrying", "err", err, "in", jeopardyRetry)
			if !pause() {
				return ctx.Err()
			}
			continue
		}
		var fire <-chan time.Time
		if ok {
			timer.Reset(next.Sub(d.now()))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.jeop.kick:
			timer.Stop()
		case <-d.jeop.rearm:
			timer.Stop()
			st, err := d.ArmSchedule(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				d.log.Error("jeopardy: re-arming after a reload failed; retrying", "err", err, "in", jeopardyRetry)
				d.jeop.askRearm()
				if !pause() {
					return ctx.Err()
				}
				continue
			}
			d.log.Info("jeopardy schedule re-armed after a reload", "next", st.Next, "rebuilt", st.Rebuilt, "rescheduled", st.Rescheduled, "fired", st.Fired)
		case <-fire:
			if _, err := d.fireAllDue(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				d.log.Error("jeopardy: firing escalation points failed; retrying", "err", err, "in", jeopardyRetry)
				if !pause() {
					return ctx.Err()
				}
			}
		}
	}
}

// handleJeopardy runs a scheduler request on the desk goroutine.
func (d *Desk) handleJeopardy(ctx context.Context, ev jeopardyEvent) {
	var r jeopardyReply
	switch ev.op {
	case opFire:
		r = d.fireBatch(ctx)
	case opRebuild:
		r = d.rebuildPage(ctx, ev.after)
	}
	ev.reply <- r
}

// rebuildPage recomputes the next point of the open RFAs after after, up
// to rebuildBatch of them, in one transaction; the last page also stores
// the policy's fingerprint. An RFA whose point is unchanged keeps its
// record and only has its schedule entry rewritten.
func (d *Desk) rebuildPage(ctx context.Context, after uint64) jeopardyReply {
	var r jeopardyReply
	err := d.store.Update(ctx, func(tx Tx) error {
		r = jeopardyReply{last: after}
		page, err := tx.OpenRFAs(after, rebuildBatch)
		if err != nil {
			return err
		}
		r.read = len(page)
		for _, rfa := range page {
			r.last = rfa.Num
			at, _ := d.jeop.policy().NextPoint(rfa)
			if !at.Equal(rfa.NextEscalation) {
				r.n++
				if err := tx.PutRFA(rfa); err != nil {
					return err
				}
				continue
			}
			if err := tx.RescheduleEscalation(rfa.Num, at); err != nil {
				return err
			}
		}
		if len(page) < rebuildBatch {
			return tx.SetEscalationPolicy(d.jeop.fingerprint())
		}
		r.more = true
		return nil
	})
	r.err = err
	return r
}

// fireBatch fires the points due by now of up to fireBatch RFAs, in one
// transaction. Should that fail, each RFA is tried in its own, and one
// that still fails is put back in the schedule jeopardyRetry later, so
// one bad RFA does not hold up the rest. more reports that another batch
// may be due.
func (d *Desk) fireBatch(ctx context.Context) jeopardyReply {
	now := d.now()
	var nums []uint64
	var r jeopardyReply
	err := d.store.Update(ctx, func(tx Tx) error {
		r = jeopardyReply{}
		var err error
		if nums, err = tx.DueEscalations(now, fireBatch+1); err != nil {
			return err
		}
		if len(nums) > fireBatch {
			nums, r.more = nums[:fireBatch], true
		}
		for _, num := range nums {
			fired, err := d.fireRFA(tx, num, now)
			if err != nil {
				return fmt.Errorf("%s: %w", FormatRef(num), err)
			}
			if fired {
				r.n++
			}
		}
		return nil
	})
	if err != nil && len(nums) > 0 && ctx.Err() == nil {
		d.log.Warn("jeopardy: firing a batch failed; firing its RFAs one by one", "err", err, "rfas", len(nums))
		r.more, r.n, err = true, 0, nil
		for _, num := range nums {
			if e := d.fireOne(ctx, num, now, &r.n); e != nil {
				err = e
				break
			}
		}
	}
	r.err = err
	return r
}

// fireOne fires RFA num's due points in a transaction of its own; if
// that fails, it puts the RFA back in the schedule jeopardyRetry later.
// Only a failure of that, too, is returned.
func (d *Desk) fireOne(ctx context.Context, num uint64, now time.Time, n *int) error {
	fired := false
	err := d.store.Update(ctx, func(tx Tx) error {
		var err error
		fired, err = d.fireRFA(tx, num, now)
		return err
	})
	if err == nil {
		if fired {
			*n++
		}
		return nil
	}
	d.log.Error("jeopardy: firing escalation points failed; retrying", "rfa", FormatRef(num), "err", err, "in", jeopardyRetry)
	return d.store.Update(ctx, func(tx Tx) error {
		return tx.RescheduleEscalation(num, now.Add(jeopardyRetry))
	})
}

// fireRFA fires RFA num's points due by now within tx and stores it with
// its next point. It reports whether any point fired. An entry left due (which the policy never
// gives) is moved jeopardyRetry ahead, so the scheduler cannot spin.
func (d *Desk) fireRFA(tx Tx, num uint64, now time.Time) (fired bool, err error) {
	r, err := tx.RFA(num)
	if errors.Is(err, ErrNotFound) {
		return false, tx.RescheduleEscalation(num, time.Time{})
	}
	if err != nil {
		return false, err
	}
	n, err := d.firePoints(tx, r, now)
	if err != nil {
		return false, err
	}
	if err := tx.PutRFA(r); err != nil {
		return false, err
	}
	if !r.NextEscalation.IsZero() && !r.NextEscalation.After(now) {
		if err := tx.RescheduleEscalation(num, now.Add(jeopardyRetry)); err != nil {
			return false, err
		}
	}
	return n > 0, nil
}
