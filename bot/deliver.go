package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// MailSender sends one outgoing mail. It returns nil once the server has
// accepted the mail, or an error; a *DeliveryError classifies it, any
// other error counts as temporary.
type MailSender interface {
	Send(ctx context.Context, m *OutgoingMail) error
}

// deliveryRecorder is what the deliverer needs from the desk.
type deliveryRecorder interface {
	Outbox(ctx context.Context) ([]OutboxItem, error)
	RecordDelivery(ctx context.Context, item OutboxItem, err error) error
}

var _ deliveryRecorder = (*Desk)(nil)

// DelivererOptions configure a Deliverer; nil fields get defaults.
type DelivererOptions struct {
	Now    func() time.Time
	Logger *slog.Logger
	// Health is told when sending is paused (auth failure) or resumes.
	Health func(ok bool, reason string)
	// AuthPause is how long sending pauses after an authentication
	// failure before trying again (default 5 minutes).
	AuthPause time.Duration
	// Idle is the longest the loop sleeps without a kick (default 1 minute):
	// a safety net, not the mechanism.
	Idle time.Duration
}

// Deliverer performs the outbox: it sends each due item once, in ID
// order, one at a time, and records the result through the desk before
// sending the next. A crash between the server accepting a mail and the
// record being committed is the only way a mail goes out twice, and then
// only that one mail.
type Deliverer struct {
	desk deliveryRecorder
	mail MailSender
	opts DelivererOptions
	kick chan struct{}
}

// NewDeliverer returns a deliverer for desk's outbox sending mail with mail.
func NewDeliverer(desk *Desk, mail MailSender, opts *DelivererOptions) *Deliverer {
	var o DelivererOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Health == nil {
		o.Health = func(bool, string) {}
	}
	if o.AuthPause == 0 {
		o.AuthPause = 5 * time.Minute
	}
	if o.Idle == 0 {
		o.Idle = time.Minute
	}
	return &Deliverer{desk: desk, mail: mail, opts: o, kick: make(chan struct{}, 1)}
}

// Kick wakes the deliverer to look at the outbox now. It never blocks.
func (l *Deliverer) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done and returns ctx.Err(). A mail being
// sent when ctx ends is recorded if the server accepted it.
func (l *Deliverer) Run(ctx context.Context) error {
	for {
		wait, err := l.pass(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			l.opts.Logger.Error("outbox pass failed", "err", err)
			wait = min(wait, 5*time.Second)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-l.kick:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// pass sends every due item and returns how long to sleep before the
// next one is due.
func (l *Deliverer) pass(ctx context.Context) (time.Duration, error) {
	items, err := l.desk.Outbox(ctx)
	if err != nil {
		return l.opts.Idle, err
	}
	next := l.opts.Idle
	for _, item := range items {
		if ctx.Err() != nil {
			return next, nil
		}
		now := l.opts.Now()
		if item.NextAttempt.After(now) {
			next = min(next, item.NextAttempt.Sub(now))
			continue
		}
		if item.Kind != OutboxMail || item.Mail == nil {
			continue // chat items belong to the chat poster
		}
		sendErr := l.mail.Send(context.WithoutCancel(ctx), item.Mail)
		if err := l.desk.RecordDelivery(context.WithoutCancel(ctx), item, sendErr); err != nil {
			return next, err
		}
		var de *DeliveryError
		switch {
		case sendErr == nil:
			l.opts.Health(true, "")
			l.opts.Logger.Info("mail delivered", "item", item.ID, "rfa", item.RFA, "purpose", item.Mail.Purpose)
		case errors.As(sendErr, &de) && de.Failure == DeliveryAuth:
			l.opts.Health(false, "smtp: authentication refused: check smtp.username and smtp.password ("+sendErr.Error()+")")
			l.opts.Logger.Error("mail sending paused: SMTP authentication failed", "err", sendErr, "pause", l.opts.AuthPause)
			return l.opts.AuthPause, nil
		case errors.As(sendErr, &de) && de.Failure == DeliveryPermanent:
			l.opts.Logger.Warn("mail refused for good", "item", item.ID, "rfa", item.RFA, "err", sendErr)
		default:
			// The server is likely down or busy: stop this pass rather than
			// try every item against it; the next pass honours NextAttempt.
			l.opts.Logger.Warn("mail delivery failed, will retry", "item", item.ID, "rfa", item.RFA, "attempt", item.Attempts+1, "err", sendErr)
			return time.Second, nil
		}
	}
	return next, nil
}
