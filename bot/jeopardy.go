package bot

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"rfadesk/bot/workcal"
)

// Jeopardy management: every clock's escalation points (SLAPolicy.Points)
// are delivered once per clock and cycle, by one timer for the whole desk.
//
// The desk goroutine owns an in-memory min-heap holding, for every RFA
// with a point still to come, the instant of its earliest one. It is
// loaded from the store when RunJeopardy starts (read off the desk
// goroutine, see LoadSchedule) and kept current by the desk's store
// wrapper: every RFA written in a committed Update has its next point
// recomputed (cost: one RFA's clocks plus a heap fix). After
// every change the desk hands the heap's minimum to the RunJeopardy
// goroutine, which sleeps on a single time.Timer until then and asks the
// desk to fire what is due. Whether a point has fired is read from the
// RFA's history (an EventJeopardy "<clock> <percent>%" after the cycle's
// start), recorded in the same transaction as its outbox items, so a
// restart never repeats one.

// jeopardyRetry is how long the desk waits before retrying a failed load
// of the schedule or a failed firing transaction.
const jeopardyRetry = time.Minute

// schedEntry is one RFA's earliest pending point.
type schedEntry struct {
	num uint64
	at  time.Time
}

// schedule is a min-heap of schedEntry by at, indexed by RFA number.
type schedule struct {
	h   []schedEntry
	pos map[uint64]int
}

func (s *schedule) Len() int           { return len(s.h) }
func (s *schedule) Less(i, j int) bool { return s.h[i].at.Before(s.h[j].at) }
func (s *schedule) Swap(i, j int) {
	s.h[i], s.h[j] = s.h[j], s.h[i]
	s.pos[s.h[i].num] = i
	s.pos[s.h[j].num] = j
}
func (s *schedule) Push(x any) {
	e := x.(schedEntry)
	s.pos[e.num] = len(s.h)
	s.h = append(s.h, e)
}
func (s *schedule) Pop() any {
	e := s.h[len(s.h)-1]
	s.h = s.h[:len(s.h)-1]
	delete(s.pos, e.num)
	return e
}

// set makes at the entry of RFA num; a zero at removes it.
func (s *schedule) set(num uint64, at time.Time) {
	i, ok := s.pos[num]
	switch {
	case ok && at.IsZero():
		heap.Remove(s, i)
	case ok:
		s.h[i].at = at
		heap.Fix(s, i)
	case !at.IsZero():
		heap.Push(s, schedEntry{num, at})
	}
}

// popDue removes and returns the RFAs whose entry is at or before now.
func (s *schedule) popDue(now time.Time) []uint64 {
	var nums []uint64
	for len(s.h) > 0 && !s.h[0].at.After(now) {
		nums = append(nums, heap.Pop(s).(schedEntry).num)
	}
	return nums
}

// jeopardy is the desk's scheduler state. Every field but wake and policy
// (immutable) is used on the desk goroutine only.
type jeopardy struct {
	policy *SLAPolicy
	// loaded: sched holds every RFA's next point. loads counts loads
	// under way; while there are any, changes committed go to dirty as
	// well, to override what the loads read.
	loaded bool
	loads  int
	sched  schedule
	dirty  map[uint64]time.Time
	// pending holds the next points of RFAs written in the Update under
	// way; applied when it commits.
	pending map[uint64]time.Time
	// wake carries the heap's minimum (zero: nothing scheduled) to the
	// RunJeopardy goroutine. Capacity 1, written only by the desk
	// goroutine, which replaces an unread value: it never blocks.
	wake           chan time.Time
	sent           time.Time
	sentOK, sentAt bool
}

func newJeopardy(policy *SLAPolicy) *jeopardy {
	if policy == nil {
		policy = DefaultSLAPolicy(workcal.Default())
	}
	return &jeopardy{
		policy:  policy,
		sched:   schedule{pos: map[uint64]int{}},
		dirty:   map[uint64]time.Time{},
		pending: map[uint64]time.Time{},
		wake:    make(chan time.Time, 1),
	}
}

// track records r's next point for the Update under way.
func (j *jeopardy) track(r *RFA) {
	at, _ := j.policy.NextPoint(r)
	j.pending[r.Num] = at
}

// endLoad ends one load; the last one forgets the tracked changes.
func (j *jeopardy) endLoad() {
	if j.loads > 0 {
		j.loads--
	}
	if j.loads == 0 {
		clear(j.dirty)
	}
}

// kick hands the heap's minimum to RunJeopardy if it changed since the
// last hand-over.
func (j *jeopardy) kick() {
	var at time.Time
	ok := len(j.sched.h) > 0
	if ok {
		at = j.sched.h[0].at
	}
	if j.sentAt && ok == j.sentOK && at.Equal(j.sent) {
		return
	}
	j.sent, j.sentOK, j.sentAt = at, ok, true
	select {
	case <-j.wake:
	default:
	}
	j.wake <- at
}

// observe wraps st so that every committed write of an RFA reschedules
// it. The wrapper's Update must be called on the desk goroutine only
// (the desk is the only writer of RFA state); View passes through.
func (j *jeopardy) observe(st Store) Store { return &observedStore{Store: st, j: j} }

type observedStore struct {
	Store
	j *jeopardy
}

func (s *observedStore) Update(ctx context.Context, fn func(Tx) error) error {
	j := s.j
	if !j.loaded && j.loads == 0 {
		return s.Store.Update(ctx, fn) // nothing to keep current yet
	}
	clear(j.pending)
	err := s.Store.Update(ctx, func(tx Tx) error {
		clear(j.pending)
		return fn(observedTx{Tx: tx, j: j})
	})
	if err == nil && len(j.pending) > 0 {
		for num, at := range j.pending {
			if j.loads > 0 {
				j.dirty[num] = at
			}
			if j.loaded {
				j.sched.set(num, at)
			}
		}
		if j.loaded {
			j.kick()
		}
	}
	clear(j.pending)
	return err
}

type observedTx struct {
	Tx
	j *jeopardy
}

func (t observedTx) PutRFA(r *RFA) error {
	if err := t.Tx.PutRFA(r); err != nil {
		return err
	}
	t.j.track(r)
	return nil
}

// jeopardyOp is what a jeopardyEvent asks of the desk goroutine.
type jeopardyOp int

const (
	opFire    jeopardyOp = iota // fire the points due by now
	opTrack                     // a load starts: track changes from now on
	opLoaded                    // a load read entries: install them, then fire
	opUntrack                   // the load failed: stop tracking
)

// jeopardyEvent is a request from the scheduler to the desk goroutine.
type jeopardyEvent struct {
	op      jeopardyOp
	entries []schedEntry // opLoaded
	reply   chan ScheduleStatus
}

func (jeopardyEvent) isEvent() {}

// ScheduleStatus describes the jeopardy schedule.
type ScheduleStatus struct {
	// RFAs is how many RFAs have an escalation point still to come.
	RFAs int
	// Next is the earliest delivery time of any point; zero if none.
	Next time.Time
}

// SLA returns the desk's service level agreement (DeskConfig.SLA or the
// default), for computing clocks with [SLAPolicy.Clocks].
func (d *Desk) SLA() *SLAPolicy { return d.jeop.policy }

// call sends a jeopardy request to the desk goroutine and waits for it.
func (d *Desk) callJeopardy(ctx context.Context, ev jeopardyEvent) (ScheduleStatus, error) {
	ev.reply = make(chan ScheduleStatus, 1)
	if err := d.send(ctx, ev); err != nil {
		return ScheduleStatus{}, err
	}
	select {
	case st := <-ev.reply:
		return st, nil
	case <-ctx.Done():
		return ScheduleStatus{}, ctx.Err()
	}
}

// LoadSchedule (re)builds the jeopardy schedule from the store, fires the
// points already due and returns the schedule's state. The store is read
// on the caller's goroutine, in one read transaction, so the desk keeps
// handling mail meanwhile; RFAs it changes during the load are tracked
// and win over what the load read. Run must be running. RunJeopardy
// calls it at start; calling it again, even concurrently, is harmless.
func (d *Desk) LoadSchedule(ctx context.Context) (ScheduleStatus, error) {
	if _, err := d.callJeopardy(ctx, jeopardyEvent{op: opTrack}); err != nil {
		return ScheduleStatus{}, err
	}
	var entries []schedEntry
	err := d.store.View(ctx, func(tx Tx) error {
		return tx.ForEachRFA(func(r *RFA) error {
			if at, ok := d.jeop.policy.NextPoint(r); ok {
				entries = append(entries, schedEntry{r.Num, at})
			}
			return nil
		})
	})
	if err != nil {
		// Best effort: the desk stops tracking when it gets this.
		_, _ = d.callJeopardy(ctx, jeopardyEvent{op: opUntrack})
		return ScheduleStatus{}, fmt.Errorf("bot: loading the jeopardy schedule: %w", err)
	}
	return d.callJeopardy(ctx, jeopardyEvent{op: opLoaded, entries: entries})
}

// RunJeopardy is the jeopardy scheduler goroutine: it loads the schedule
// (LoadSchedule, retried every minute until it works), then sleeps on one
// timer until the earliest escalation point of any RFA, has the desk fire
// what is due, and so on until ctx is done; it returns ctx.Err(). Run must
// be running. Call it once per Desk (a second concurrent call steals the
// first one's wake-ups).
func (d *Desk) RunJeopardy(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		st, err := d.LoadSchedule(ctx)
		if err == nil {
			d.log.Info("jeopardy schedule loaded", "rfas", st.RFAs, "next", st.Next)
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Error("jeopardy: loading the schedule failed; retrying", "err", err, "in", jeopardyRetry)
		timer.Reset(jeopardyRetry)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case at := <-d.jeop.wake:
			timer.Stop()
			if !at.IsZero() {
				timer.Reset(at.Sub(d.now()))
			}
		case <-timer.C:
			if err := d.send(ctx, jeopardyEvent{op: opFire}); err != nil {
				return err
			}
		}
	}
}

// handleJeopardy runs a scheduler request on the desk goroutine.
func (d *Desk) handleJeopardy(ctx context.Context, ev jeopardyEvent) {
	j := d.jeop
	switch ev.op {
	case opTrack:
		j.loads++
	case opUntrack:
		j.endLoad()
	case opLoaded:
		s := schedule{h: ev.entries, pos: make(map[uint64]int, len(ev.entries))}
		for i, e := range s.h {
			s.pos[e.num] = i
		}
		heap.Init(&s)
		for num, at := range j.dirty {
			s.set(num, at)
		}
		j.sched, j.loaded = s, true
		j.endLoad()
		d.fireDue(ctx)
	case opFire:
		if j.loaded {
			d.fireDue(ctx)
		}
	}
	if ev.reply != nil {
		st := ScheduleStatus{RFAs: len(j.sched.h)}
		if st.RFAs > 0 {
			st.Next = j.sched.h[0].at
		}
		ev.reply <- st
	}
}

// fireDue fires every point due by now in one transaction and hands the
// next wake-up to RunJeopardy.
func (d *Desk) fireDue(ctx context.Context) {
	j := d.jeop
	j.sentAt = false // the timer may have fired: always hand over the next one
	now := d.now()
	nums := j.sched.popDue(now)
	if len(nums) == 0 {
		j.kick()
		return
	}
	err := d.store.Update(ctx, func(tx Tx) error {
		for _, num := range nums {
			r, err := tx.RFA(num)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			n, err := d.firePoints(tx, r, now)
			if err != nil {
				return err
			}
			if n > 0 {
				if err := tx.PutRFA(r); err != nil {
					return err
				}
				continue
			}
			j.track(r) // nothing due after all: just reschedule
		}
		return nil
	})
	if err != nil {
		d.log.Error("jeopardy: firing escalation points failed; retrying", "err", err, "rfas", len(nums), "in", jeopardyRetry)
		for _, num := range nums {
			j.sched.set(num, now.Add(jeopardyRetry))
		}
	}
	j.kick()
}

// firePoints records and acts on every point of r due by now, in order.
// It reports how many points fired.
func (d *Desk) firePoints(tx Tx, r *RFA, now time.Time) (int, error) {
	n := 0
	for _, pp := range d.jeop.policy.pendingPoints(r) {
		if pp.at.After(now) {
			break
		}
		n++
		r.addEvent(now, EventJeopardy, "rfadesk", jeopardyText(pp.clock, pp.point))
		if err := d.escalationAction(tx, r, pp, now); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// escalationAction performs pp's action on r: a chat note to the
// assignee, a mention of the on-duty role, the manager by email and chat,
// or a breach record plus the manager.
func (d *Desk) escalationAction(tx Tx, r *RFA, pp pendingPoint, now time.Time) error {
	what := d.describePoint(r, pp)
	switch pp.point.Action {
	case ActionNoteAssignee:
		to := r.Assignee
		if to == "" {
			to = "nobody yet (unassigned)"
		}
		return d.enqueueChat(tx, r.Num, &ChatPost{Channel: ChatThread, Text: "For " + to + ": " + what})
	case ActionMentionDuty:
		return d.enqueueChat(tx, r.Num, &ChatPost{Channel: ChatThread, Mention: d.jeop.policy.OnDutyRole, Text: "On-duty staff: " + what})
	case ActionManager:
		return d.tellManager(tx, r, "SLA jeopardy", what)
	case ActionBreach:
		r.addEvent(now, EventBreach, "rfadesk", pp.clock)
		return d.tellManager(tx, r, "SLA breached", what)
	}
	d.log.Warn("jeopardy: unknown escalation action; recorded only", "action", pp.point.Action, "rfa", r.Ref())
	return nil
}

// describePoint says in one sentence which clock of r passed which point.
func (d *Desk) describePoint(r *RFA, pp pendingPoint) string {
	s := r.Ref() + " (" + r.Severity.Title()
	if r.Organisation != "" {
		s += ", " + r.Organisation
	}
	s += ") \"" + r.Subject + "\": the " + strings.ToLower(ClockLabel(pp.clock)) + " clock "
	if pp.point.Fraction >= 1 {
		s += "has run out its " + pp.target.String()
	} else {
		s += "has used " + percent(pp.point.Fraction) + "% of its " + pp.target.String()
	}
	if !pp.due.IsZero() {
		s += "; due " + pp.due.In(d.jeop.policy.Calendar.Location()).Format("Mon 2 Jan 2006 15:04 MST")
	}
	return s + "."
}

// tellManager mails the managers (when configured) and posts to the ops
// channel.
func (d *Desk) tellManager(tx Tx, r *RFA, label, what string) error {
	if len(d.cfg.Managers) > 0 {
		text := what + "\n\nOrganisation: " + r.Organisation + "\nRequester: " + r.Requester.String() +
			"\nAssignee: " + r.Assignee + "\nStatus: " + string(r.Status) + "\n"
		if _, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
			To: d.cfg.Managers, Subject: "[" + r.Ref() + "] " + label + ": " + r.Subject,
			Text: text, Auto: true, Purpose: "SLA escalation to manager",
		}); err != nil {
			return err
		}
	}
	return d.enqueueChat(tx, r.Num, &ChatPost{Channel: ChatOps, Text: label + ": " + what})
}
