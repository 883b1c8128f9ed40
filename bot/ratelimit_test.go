package bot_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"rfadesk/bot"
)

// TestRateLimitIsRetriedAtItsWaitNotCounted records failures of one
// outbox item: a rate limit schedules the next attempt exactly its
// RetryAfter later (at most MaxRetryAfter) and leaves Attempts alone; a
// plain temporary failure counts and backs off as before.
func TestRateLimitIsRetriedAtItsWaitNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rd := startDesk(t, filepath.Join(t.TempDir(), "desk.db"))
		defer rd.stop()
		ctx := context.Background()
		rd.mail("r1@oakprimary.sch.uk", "s.okafor@oakprimary.sch.uk", "Cannot log in", "It is broken.", 1)
		item := func() bot.OutboxItem {
			t.Helper()
			items, err := rd.desk.Outbox(ctx)
			must(t, err)
			for _, it := range items {
				if it.Kind == bot.OutboxMail {
					return it
				}
			}
			t.Fatal("no mail item in the outbox")
			return bot.OutboxItem{}
		}
		for _, tc := range []struct {
			err      error
			wait     time.Duration
			attempts int
		}{
			{&bot.DeliveryError{Failure: bot.DeliveryTemporary, Code: 429, RetryAfter: 250 * time.Millisecond, Err: errors.New("slow down")}, 250 * time.Millisecond, 0},
			{&bot.DeliveryError{Failure: bot.DeliveryTemporary, Code: 429, RetryAfter: 3 * time.Hour, Global: true, Err: errors.New("slow down")}, bot.MaxRetryAfter, 0},
			{&bot.DeliveryError{Failure: bot.DeliveryTemporary, Err: errors.New("451 try later")}, 0, 1},
		} {
			now := time.Now()
			must(t, rd.desk.RecordDelivery(ctx, item(), bot.DeliveryResult{}, tc.err))
			got := item()
			if got.Attempts != tc.attempts || got.LastError == "" {
				t.Errorf("%v: attempts %d, last error %q; want %d and the error", tc.err, got.Attempts, got.LastError, tc.attempts)
			}
			if wait := got.NextAttempt.Sub(now); tc.wait != 0 && wait != tc.wait || tc.wait == 0 && wait < 30*time.Second {
				t.Errorf("%v: next attempt in %v, want %v (0: the backoff)", tc.err, wait, tc.wait)
			}
		}
	})
}
