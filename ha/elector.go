// Package ha elects one leader among rfadesk instances that share an
// etcd cluster, so that only one of them runs intake, the deliverers,
// the jeopardy scheduler and the Discord gateway at a time.
//
// Each instance makes an Elector and calls Campaign, which returns a
// Term once the instance leads. The leader does its work until
// Term.Done is closed, then stops and may campaign again:
//
//	for {
//		term, err := el.Campaign(ctx)
//		if err != nil {
//			return err // ctx ended
//		}
//		runLeaderWork(term) // writes fenced with term.Fence(), stops at <-term.Done()
//	}
//
// The election follows etcd's concurrency.Election layout: each
// candidate puts Prefix+"leader/"+<lease id in hex> attached to its own
// lease; the key with the lowest create revision leads. Unlike
// concurrency.Session, the Elector renews its lease itself and ends a
// term on a local deadline (see Elector for the timing contract), so a
// leader cut off from etcd stops before anyone else can be elected.
//
// The term ending is advisory to the code it guards: a process paused
// past its deadline (GC, SIGSTOP, an overloaded host) may still act for
// a moment after another instance won. What keeps the store consistent
// is the fence: every write commits only while the term's election key
// exists with its create revision (kv.Fence), and etcd deletes that key
// before anyone else can lead.
package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Options configures an Elector. The zero value means the defaults.
type Options struct {
	// Lease is the etcd lease TTL: how long after the last renewal the
	// other instances wait before one of them takes over from a leader
	// that vanished. Default 5s; rounded up to whole seconds; at least
	// 1s. etcd may grant a longer TTL (its minimum is 1.5 × its election
	// timeout); the Elector still ends its terms by Lease.
	Lease time.Duration
	// Name identifies this instance; it is the election value, which
	// Leader returns. Default "hostname:pid".
	Name string
	// Prefix is the key prefix; the election lives under
	// Prefix+"leader/". Default "/rfadesk/"; a missing final "/" is
	// added.
	Prefix string
	// Logger receives term changes (Info) and lost leases (Warn).
	// Default: discard.
	Logger *slog.Logger
}

// Role is what an Elector is doing now, as shown on /healthz.
type Role string

const (
	// RoleLeader: a Term of this Elector is running.
	RoleLeader Role = "leader"
	// RoleStandby: this Elector holds a live lease and waits its turn
	// in the election, or its last campaign or term ended while etcd
	// was reachable (Resign, Campaign's ctx ended, the key was deleted).
	RoleStandby Role = "standby"
	// RoleUnavailable: this Elector has no live lease: before Campaign
	// first gets one, while Campaign cannot reach etcd and retries, and
	// after a term ended because its lease could not be renewed in time.
	RoleUnavailable Role = "unavailable"
)

// Errors a Term ends with (Term.Err, wrapped), and ErrBusy from Campaign.
var (
	// ErrLeaseLost: the lease was not renewed in time (etcd
	// unreachable or too slow), etcd reported it gone, or the client
	// was closed.
	ErrLeaseLost = errors.New("ha: lease lost")
	// ErrKeyLost: someone else deleted or wrote the election key while
	// the lease was live.
	ErrKeyLost = errors.New("ha: election key deleted or written by someone else")
	// ErrResigned: Term.Resign was called.
	ErrResigned = errors.New("ha: resigned")
	// ErrBusy: Campaign was called while a campaign or a term of the
	// same Elector was still running.
	ErrBusy = errors.New("ha: a campaign or term of this elector is already running")
)

// Elector campaigns for leadership on behalf of one instance. Its
// methods are safe for concurrent use, but only one Campaign or Term
// runs at a time.
//
// Timing contract. With L = Options.Lease and margin m = L/5, the
// Elector sends a keepalive for its lease every L/5 and remembers when
// each keepalive that succeeded was sent. A term ends (Done is closed,
// Role turns unavailable) at the latest at
//
//	last successful keepalive sent + L − m
//
// by this process's monotonic clock, without waiting for etcd or the
// network to report anything, and renewals stop then. etcd cannot
// expire the lease before last successful keepalive sent + L (it
// renewed the lease after that send), and another instance can only
// win after that expiry, so this term ends at least m earlier than any
// other term can begin, provided the two clocks run at nearly the same
// rate and this process is not paused. A term also ends when the
// election key is deleted or written by anyone (seen through a watch), when
// the client is closed, and at Resign. A keepalive failing transiently
// (an etcd leader election) is retried every L/5; only if none
// succeeds for L − m does the term end.
//
// Takeover: after a leader vanishes without resigning, another
// instance leads about L (up to L + 0.5 s, etcd's expiry check period)
// after the leader's last renewal, or later if etcd changes its raft
// leader meanwhile (the new raft leader extends every lease) or granted
// a TTL longer than L; after Resign, within one etcd round trip and a
// watch notification.
type Elector struct {
	cli       *clientv3.Client
	o         Options
	log       *slog.Logger
	electionP string // Prefix + "leader/"

	mu   sync.Mutex
	role Role
	busy bool // a Campaign or Term is running
}

// NewElector returns an Elector that campaigns through cli. It does no
// I/O. cli must stay open while the Elector is used; closing it ends any
// term at once.
func NewElector(cli *clientv3.Client, o Options) *Elector {
	if o.Lease <= 0 {
		o.Lease = 5 * time.Second
	}
	o.Lease = max(o.Lease, time.Second)
	if r := o.Lease % time.Second; r != 0 {
		o.Lease += time.Second - r
	}
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.Prefix == "" {
		o.Prefix = "/rfadesk/"
	}
	if !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Elector{
		cli:       cli,
		o:         o,
		log:       o.Logger.With("elector", o.Name),
		electionP: o.Prefix + "leader/",
		role:      RoleUnavailable,
	}
}

// Name is this instance's name in the election.
func (e *Elector) Name() string { return e.o.Name }

// Lease is the lease duration in use (Options.Lease after defaults and
// rounding).
func (e *Elector) Lease() time.Duration { return e.o.Lease }

// Role reports what the Elector is doing now; see the Role constants.
func (e *Elector) Role() Role {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.role
}

func (e *Elector) setRole(r Role) {
	e.mu.Lock()
	e.role = r
	e.mu.Unlock()
}

// release marks the Elector idle with role r, so Campaign may run again.
func (e *Elector) release(r Role) {
	e.mu.Lock()
	e.role, e.busy = r, false
	e.mu.Unlock()
}

// Leader returns the name of the instance whose election key is first
// in etcd, or "" if no instance is campaigning. That instance leads, is
// about to (its watch has not fired yet), or has just stopped (its term
// ended but etcd has not deleted its key yet); only a Term says for
// sure that this instance leads. The read is linearizable.
func (e *Elector) Leader(ctx context.Context) (string, error) {
	resp, err := e.cli.Get(ctx, e.electionP, clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("ha: leader: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// Campaign blocks until this instance leads, and returns its Term; or
// until ctx ends, and returns ctx's error after withdrawing from the
// election. While etcd cannot be reached, or the lease it campaigns
// with is lost, it retries with a fresh lease after a backoff with
// jitter (from L/5 up to L), with Role unavailable. Campaign may be
// called again after the previous Term ended (Done closed); called
// while another Campaign or a live Term of this Elector runs, it
// returns ErrBusy.
func (e *Elector) Campaign(ctx context.Context) (*Term, error) {
	e.mu.Lock()
	if e.busy {
		e.mu.Unlock()
		return nil, ErrBusy
	}
	e.busy = true
	e.mu.Unlock()

	backoff := e.o.Lease / 5
	for {
		term, hadLease, err := e.campaignOnce(ctx)
		if err == nil {
			return term, nil
		}
		if ctx.Err() != nil {
			e.release(e.Role())
			return nil, ctx.Err()
		}
		e.setRole(RoleUnavailable)
		if hadLease {
			backoff = e.o.Lease / 5
		}
		e.log.Warn("ha: campaign failed; retrying", "err", err, "backoff", backoff)
		sleep := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, e.o.Lease)
		timer := time.NewTimer(sleep)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			e.release(RoleUnavailable)
			return nil, ctx.Err()
		}
	}
}

// campaignOnce campaigns with one lease. It returns the Term when this
// instance leads; otherwise the error, and whether a lease was granted
// (etcd was reachable).
func (e *Elector) campaignOnce(ctx context.Context) (term *Term, hadLease bool, err error) {
	gctx, cancel := context.WithTimeout(ctx, e.o.Lease)
	lease, err := grantLease(gctx, e.cli, e.o, e.log)
	cancel()
	if err != nil {
		return nil, false, fmt.Errorf("grant lease: %w", err)
	}
	defer func() {
		if term == nil {
			lease.withdrawInBackground()
		}
	}()
	// The campaign's requests end when ctx ends or the lease is lost.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopAfter := context.AfterFunc(lease.ctx, cancel)
	defer stopAfter()

	key := fmt.Sprintf("%s%x", e.electionP, int64(lease.id))
	put, err := e.cli.Txn(wctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, e.o.Name, clientv3.WithLease(lease.id))).
		Commit()
	if err != nil {
		return nil, true, e.leaseOr(lease, fmt.Errorf("put election key: %w", err))
	}
	if !put.Succeeded {
		// A fresh lease's key cannot exist already.
		return nil, true, fmt.Errorf("election key %s already exists", key)
	}
	rev := put.Header.Revision
	lease.key, lease.keyRev = key, rev
	e.setRole(RoleStandby)
	e.log.Debug("ha: campaigning", "key", key, "rev", rev)

	for {
		err := e.waitTurn(wctx, rev)
		if err == nil {
			var fromRev int64
			fromRev, err = e.confirmKey(wctx, key, rev)
			if err == nil && lease.lostCause() != nil {
				// Too late: never hand out a term past its deadline.
				err = e.leaseOr(lease, nil)
			}
			if err == nil {
				return newTerm(e, lease, key, rev, fromRev), true, nil
			}
		}
		if ctx.Err() != nil || lease.lostCause() != nil || errors.Is(err, ErrKeyLost) {
			return nil, true, e.leaseOr(lease, err)
		}
		// A watch or read failed while the lease is live: try again;
		// if etcd stays away the lease is lost and we start over.
		e.log.Debug("ha: waiting for turn failed; retrying", "err", err)
		timer := time.NewTimer(lease.interval)
		select {
		case <-timer.C:
		case <-wctx.Done():
			timer.Stop()
		}
	}
}

// leaseOr returns ErrLeaseLost with its cause if lease is lost, else err.
func (e *Elector) leaseOr(lease *leaseKeeper, err error) error {
	if cause := lease.lostCause(); cause != nil {
		return fmt.Errorf("%w: %v", ErrLeaseLost, cause)
	}
	return err
}

// waitTurn returns nil once no election key created before rev exists.
func (e *Elector) waitTurn(ctx context.Context, rev int64) error {
	opts := append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(rev-1))
	for {
		resp, err := e.cli.Get(ctx, e.electionP, opts...)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		if err := e.waitDelete(ctx, string(resp.Kvs[0].Key), resp.Header.Revision+1); err != nil {
			return err
		}
	}
}

// waitDelete returns nil when key is deleted at or after revision from.
func (e *Elector) waitDelete(ctx context.Context, key string, from int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for wr := range e.cli.Watch(wctx, key, clientv3.WithRev(from)) {
		if err := wr.Err(); err != nil {
			return err
		}
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypeDelete {
				return nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("watch ended")
}

// confirmKey checks that key still exists as it was put at revision rev
// (created then and not written since) and returns the revision to
// watch it from.
func (e *Elector) confirmKey(ctx context.Context, key string, rev int64) (int64, error) {
	resp, err := e.cli.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != rev || resp.Kvs[0].ModRevision != rev {
		return 0, ErrKeyLost
	}
	return resp.Header.Revision + 1, nil
}
