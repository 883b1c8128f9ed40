package ha

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// leaseKeeper holds one etcd lease and renews it itself, one keepalive
// request at a time, so that it knows when each renewal that succeeded
// was sent. A renewal sent at S and answered with a live TTL means the
// server moved the lease's expiry to at least S+TTL, because the server
// renewed it after S. The keeper therefore trusts the lease until
// deadline = S + ttl − margin for the latest such S (ttl being the
// smaller of the configured lease and the TTL etcd reports), and
// declares the lease lost the moment the deadline passes, whatever the
// network does, without waiting for any answer or error.
//
// Once lost, a keeper never renews again, so a lease this process has
// stopped trusting also expires on the server.
type leaseKeeper struct {
	cli      *clientv3.Client
	id       clientv3.LeaseID
	ttl      time.Duration
	margin   time.Duration
	interval time.Duration
	log      *slog.Logger

	// ctx is cancelled when the lease is lost or stop is called; every
	// request made on behalf of the lease uses it.
	ctx    context.Context
	cancel context.CancelFunc
	lost   chan struct{} // closed when the lease is lost
	wg     sync.WaitGroup

	mu       sync.Mutex
	deadline time.Time
	lostErr  error // why the lease was lost; set once, with lost closed

	// key and keyRev name the election key put with this lease, once
	// it is put; set before the keeper is shared with other goroutines.
	key    string
	keyRev int64
}

// errLeaseNotRenewed is the cause recorded when the deadline passed.
var errLeaseNotRenewed = errors.New("no keepalive succeeded in time")

// grantLease asks etcd for a lease of o.Lease and starts keeping it.
// The caller must call withdraw when done with it.
func grantLease(ctx context.Context, cli *clientv3.Client, o Options, log *slog.Logger) (*leaseKeeper, error) {
	sent := time.Now()
	resp, err := cli.Grant(ctx, int64(o.Lease/time.Second))
	if err != nil {
		return nil, err
	}
	k := &leaseKeeper{
		cli:      cli,
		id:       resp.ID,
		ttl:      o.Lease,
		margin:   o.Lease / 5,
		interval: o.Lease / 5,
		log:      log.With("lease", int64(resp.ID)),
		lost:     make(chan struct{}),
	}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	k.deadline = k.deadlineFrom(sent, resp.TTL)
	k.wg.Add(2)
	go k.renew()
	go k.watchdog()
	return k, nil
}

// deadlineFrom is the end of trust for a renewal sent at sent that etcd
// answered with a TTL of ttlSeconds.
func (k *leaseKeeper) deadlineFrom(sent time.Time, ttlSeconds int64) time.Time {
	ttl := min(k.ttl, time.Duration(ttlSeconds)*time.Second)
	return sent.Add(ttl - k.margin)
}

// renew sends one keepalive every interval (at once after a failure
// that took the whole interval) until the lease is lost or stopped.
func (k *leaseKeeper) renew() {
	defer k.wg.Done()
	for {
		sent := time.Now()
		// A member without a raft leader cannot renew: fail at once
		// instead of waiting for the timeout.
		actx, cancel := context.WithTimeout(clientv3.WithRequireLeader(k.ctx), k.interval)
		resp, err := k.cli.KeepAliveOnce(actx, k.id)
		cancel()
		switch {
		case resp != nil && resp.TTL <= 0:
			k.markLost(errors.New("etcd reports the lease gone"))
			return
		case err == nil:
			k.extend(k.deadlineFrom(sent, resp.TTL))
		case k.ctx.Err() != nil:
			return
		default:
			k.log.Debug("ha: keepalive failed", "err", err)
		}
		wait := time.NewTimer(time.Until(sent.Add(k.interval)))
		select {
		case <-wait.C:
		case <-k.ctx.Done():
			wait.Stop()
			return
		}
	}
}

// watchdog declares the lease lost when its deadline passes or the
// client is closed.
func (k *leaseKeeper) watchdog() {
	defer k.wg.Done()
	for {
		k.mu.Lock()
		left := time.Until(k.deadline)
		k.mu.Unlock()
		if left <= 0 {
			k.markLost(errLeaseNotRenewed)
			return
		}
		timer := time.NewTimer(left)
		select {
		case <-timer.C:
		case <-k.cli.Ctx().Done():
			timer.Stop()
			k.markLost(errors.New("etcd client closed"))
			return
		case <-k.ctx.Done():
			timer.Stop()
			return
		}
	}
}

// extend moves the deadline to d if that is later, unless the lease is
// already lost: a late answer never revives it.
func (k *leaseKeeper) extend(d time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lostErr == nil && d.After(k.deadline) {
		k.deadline = d
	}
}

// markLost records why the lease is lost, closes lost and stops the
// renewals. Only the first call counts; it does nothing after stop.
func (k *leaseKeeper) markLost(cause error) {
	k.mu.Lock()
	if k.lostErr == nil && k.ctx.Err() == nil {
		k.lostErr = cause
		close(k.lost)
		k.log.Warn("ha: lease lost", "cause", cause, "deadline", k.deadline)
	}
	k.mu.Unlock()
	k.cancel()
}

// lostCause returns why the lease was lost, or nil.
func (k *leaseKeeper) lostCause() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lostErr
}

// stop ends the renewals without revoking; the lease then expires on
// the server within its TTL. It waits for the keeper's goroutines.
func (k *leaseKeeper) stop() {
	k.cancel()
	k.wg.Wait()
}

// withdraw stops the renewals, deletes the election key attached to
// the lease if it is still the one this lease put (create and mod
// revision unchanged: the key may have been re-written without the
// lease, and would then outlive it), and revokes the lease, which
// deletes every key still attached to it. On error the lease is left
// to expire by itself.
func (k *leaseKeeper) withdraw(ctx context.Context) error {
	k.stop()
	// The client retries even "connection closing": stop when it closes.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(k.cli.Ctx(), cancel)()
	var errDelete error
	if k.key != "" {
		_, errDelete = k.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(k.key), "=", k.keyRev)).
			Then(clientv3.OpDelete(k.key)).
			Commit()
	}
	_, errRevoke := k.cli.Revoke(ctx, k.id)
	return errors.Join(errDelete, errRevoke)
}

// withdrawInBackground withdraws without making the caller wait,
// giving up after one lease period (by then the lease has expired).
func (k *leaseKeeper) withdrawInBackground() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), k.ttl)
		defer cancel()
		if err := k.withdraw(ctx); err != nil {
			k.log.Debug("ha: withdraw failed; the lease will expire", "err", err)
		}
	}()
}
