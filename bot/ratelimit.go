package bot

import (
	"errors"
	"io"
	"time"
)

// MaxRetryAfter caps the wait a far side may ask for before the next
// attempt (DeliveryError.RetryAfter): a longer ask waits this long.
const MaxRetryAfter = time.Hour

// retryAfter returns the wait a rate-limited delivery asked for, capped
// at MaxRetryAfter, and whether sendErr is such a delivery (a temporary
// *DeliveryError with a positive RetryAfter).
func retryAfter(sendErr error) (time.Duration, bool) {
	var de *DeliveryError
	if !errors.As(sendErr, &de) || de.Failure != DeliveryTemporary || de.RetryAfter <= 0 {
		return 0, false
	}
	return min(de.RetryAfter, MaxRetryAfter), true
}

// scheduleRetry sets item's next attempt after the temporary failure
// sendErr at now. A rate limit is retried after exactly the wait the far
// side asked for and is not counted in Attempts (the far side did not
// fail, it asked us to wait); any other failure is counted and backs off
// by RetryDelay.
func scheduleRetry(item *OutboxItem, sendErr error, now time.Time, rnd io.Reader) {
	item.LastError = sendErr.Error()
	if wait, ok := retryAfter(sendErr); ok {
		item.NextAttempt = now.Add(wait)
		return
	}
	item.Attempts++
	item.NextAttempt = now.Add(RetryDelay(item.Attempts, rnd))
}
