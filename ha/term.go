package ha

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rfadesk/store/kv"
)

// Term is one period during which this instance leads. It ends once,
// for good; campaign again for a new Term. Its methods are safe for
// concurrent use.
type Term struct {
	e     *Elector
	lease *leaseKeeper
	fence kv.Fence
	start time.Time

	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	err  error // why the term ended; set before done is closed
}

// newTerm starts a term on the election key (key, rev), watching the
// key from revision fromRev.
func newTerm(e *Elector, lease *leaseKeeper, key string, rev, fromRev int64) *Term {
	t := &Term{
		e:     e,
		lease: lease,
		fence: kv.Fence{Key: key, Rev: rev},
		start: time.Now(),
		done:  make(chan struct{}),
	}
	e.setRole(RoleLeader)
	e.log.Info("ha: leading", "key", key, "rev", rev)
	go t.endOnLeaseLoss()
	go t.watchKey(fromRev)
	return t
}

// Fence returns the election key and its create revision, for fenced
// writes (kv.Fence): a write fenced with it commits only while this
// term's key still exists in etcd, so it fails once another instance
// can have won, even if this process has not yet noticed the end.
func (t *Term) Fence() kv.Fence { return t.fence }

// Done is closed when the term is over: the lease could not be renewed
// in time (see Elector for the deadline), etcd reported it gone, the
// client was closed, the election key was deleted or written by
// someone else, or
// Resign was called. Leader-only work must stop when it is closed.
func (t *Term) Done() <-chan struct{} { return t.done }

// Err returns nil while the term runs, then why it ended: an error
// wrapping ErrLeaseLost, ErrKeyLost or ErrResigned.
func (t *Term) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Resign ends the term at once (Done is closed before Resign does any
// I/O), then deletes the election key and revokes the lease, so the next
// candidate leads without waiting for the lease to expire. Call it on
// graceful shutdown or a rolling restart, after the leader-only work has
// stopped. An error means etcd could not be told: the key then lives
// until the lease expires (at most one lease), and nobody leads until
// then. Resigning an ended term does nothing and returns nil.
func (t *Term) Resign(ctx context.Context) error {
	if !t.end(ErrResigned, RoleStandby) {
		return nil
	}
	if err := t.lease.withdraw(ctx); err != nil {
		return fmt.Errorf("ha: resign: %w", err)
	}
	return nil
}

// end ends the term with cause, leaving the Elector in role r and free
// to campaign again. It reports whether this call ended it.
func (t *Term) end(cause error, r Role) bool {
	ended := false
	t.once.Do(func() {
		ended = true
		t.mu.Lock()
		t.err = cause
		t.mu.Unlock()
		// Role first, so that whoever wakes on Done sees the new role.
		t.e.release(r)
		close(t.done)
		t.e.log.Info("ha: term over", "key", t.fence.Key, "cause", cause, "led", time.Since(t.start).Round(time.Millisecond))
	})
	return ended
}

// endOnLeaseLoss ends the term the moment the lease keeper gives the
// lease up.
func (t *Term) endOnLeaseLoss() {
	select {
	case <-t.lease.lost:
		if t.end(fmt.Errorf("%w: %v", ErrLeaseLost, t.lease.lostCause()), RoleUnavailable) {
			// Renewals have stopped; revoking too lets the next
			// candidate in sooner if etcd is reachable after all.
			t.lease.withdrawInBackground()
		}
	case <-t.done:
	}
}

// watchKey ends the term when the election key is deleted or written.
// When the watch breaks (etcd unreachable, compaction) it reads the key
// again and resumes; while etcd stays away, the lease
// deadline ends the term. It returns when the term or the lease ends.
func (t *Term) watchKey(from int64) {
	ctx := t.lease.ctx // cancelled when the lease is lost or withdrawn
	for {
		err := t.watchOnce(ctx, from)
		if errors.Is(err, ErrKeyLost) {
			if t.end(err, RoleStandby) {
				t.lease.withdrawInBackground()
			}
			return
		}
		select {
		case <-t.done:
			return
		case <-ctx.Done():
			return
		case <-time.After(t.lease.interval):
		}
		rctx, cancel := context.WithTimeout(ctx, t.lease.interval)
		from, err = t.e.confirmKey(rctx, t.fence.Key, t.fence.Rev)
		cancel()
		if errors.Is(err, ErrKeyLost) {
			if t.end(err, RoleStandby) {
				t.lease.withdrawInBackground()
			}
			return
		}
		if err != nil {
			from = 0 // cannot read: confirm again next time round
			t.e.log.Debug("ha: cannot confirm the election key", "err", err)
		}
	}
}

// watchOnce watches the election key from revision from until it is
// deleted or written (ErrKeyLost) or the watch ends (another error).
// from 0 means nothing to watch yet.
func (t *Term) watchOnce(ctx context.Context, from int64) error {
	if from == 0 {
		return errors.New("election key not confirmed")
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for wr := range t.e.cli.Watch(wctx, t.fence.Key, clientv3.WithRev(from)) {
		if err := wr.Err(); err != nil {
			return err
		}
		for _, ev := range wr.Events {
			// The key is never written again by its owner: any event
			// (a delete, or a put that may detach it from the lease)
			// means it is no longer this term's.
			if ev.Type == clientv3.EventTypeDelete || ev.Kv.ModRevision != t.fence.Rev {
				return ErrKeyLost
			}
		}
	}
	return errors.New("watch ended")
}
