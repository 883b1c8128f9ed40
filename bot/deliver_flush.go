package bot

import (
	"context"
	"time"
)

// Flush sends what is due now, pass after pass, until nothing of its
// kind is due or ctx is done, and returns nil or ctx.Err(). It is the
// shutdown's last delivery: call it after Run has returned (never
// concurrently with it), while the desk is still running. An item that
// fails is rescheduled as Run would and no longer counts as due. Once
// ctx is done no new send starts; a send in progress is finished and
// recorded, so a transport that hangs holds Flush up to its own
// timeouts.
func (l *Deliverer) Flush(ctx context.Context) error {
	for {
		wait, err := l.pass(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			l.opts.Logger.Error("outbox pass failed while flushing", "err", err)
		}
		due, derr := l.desk.dueOutbox(ctx, l.t.Kind(), l.opts.Now(), 1)
		if derr != nil {
			return derr
		}
		if len(due) == 0 {
			return nil
		}
		// Still due: held by a rate limit or a pause, or the pass failed.
		timer := time.NewTimer(max(min(wait, time.Second), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}
