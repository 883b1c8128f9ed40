package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// MailSender sends one outgoing mail. It returns nil once the server has
// accepted the mail, or an error; a *DeliveryError classifies it, any
// other error counts as temporary.
type MailSender interface {
	Send(ctx context.Context, m *OutgoingMail) error
}

// Transport performs outbox items of one kind. Deliver returns nil once
// the far side has accepted the item, or an error classified like
// MailSender's. The DeliveryResult carries what the far side created (a chat
// post and thread) so the desk can record it with the result.
type Transport interface {
	Kind() OutboxKind
	Deliver(ctx context.Context, item OutboxItem) (DeliveryResult, error)
}

// DeliveryResult is what a delivery created at the far side.
type DeliveryResult struct {
	// ChatPostID and ChatThreadID are set by the chat transport when it
	// posted an RFA and opened its thread.
	ChatPostID, ChatThreadID string
	// Refused lists recipients of a delivered mail that the server
	// refused for good (RefusedWhy says why).
	Refused    []string `json:",omitempty"`
	RefusedWhy string   `json:",omitempty"`
}

// partial turns a sender's *PartialDelivery into a receipt: the mail was
// delivered, some recipients were refused.
func partial(err error) (DeliveryResult, error) {
	var pd *PartialDelivery
	if errors.As(err, &pd) {
		return DeliveryResult{Refused: pd.Refused, RefusedWhy: pd.Reason}, nil
	}
	return DeliveryResult{}, err
}

// MailTransport adapts a MailSender to a Transport for OutboxMail items.
func MailTransport(s MailSender) Transport { return mailTransport{s} }

type mailTransport struct{ s MailSender }

func (mailTransport) Kind() OutboxKind { return OutboxMail }

func (t mailTransport) Deliver(ctx context.Context, item OutboxItem) (DeliveryResult, error) {
	if item.Mail == nil {
		return DeliveryResult{}, &DeliveryError{Failure: DeliveryPermanent, Err: errors.New("mail item without a mail")}
	}
	return partial(t.s.Send(ctx, item.Mail))
}

// MailPreparer is an optional capability of a MailSender: PrepareMail
// does everything short of handing the mail over (for SMTP: the envelope
// and the body, all but the final dot), and PreparedMail.Commit hands it
// over. A prepared mail that is never committed is never delivered. A
// Deliverer uses it to prepare the next mail while the previous one's
// result is being recorded, without ever having two mails handed over
// and unrecorded at once.
type MailPreparer interface {
	PrepareMail(ctx context.Context, m *OutgoingMail) (PreparedMail, error)
}

// PreparedMail is a mail ready to be handed over. Exactly one of Commit
// and Abort must be called; Commit returns what MailSender.Send would.
type PreparedMail interface {
	Commit(ctx context.Context) error
	Abort()
}

// preparing is the next item's preparation, running while the previous
// item's result is recorded.
type preparing struct {
	item OutboxItem
	done chan struct{}
	p    PreparedMail
	err  error
}

// deliver hands item over through the transport. A panic in the
// transport (a rendering bug on odd input, say) becomes a permanent
// failure of that item, so one bad item can never stop the daemon.
func (l *Deliverer) deliver(ctx context.Context, item OutboxItem) (rcpt DeliveryResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			l.opts.Logger.Error("delivery panicked; item given up", "kind", item.Kind, "item", item.ID, "panic", p)
			err = &DeliveryError{Failure: DeliveryPermanent, Err: fmt.Errorf("bot: delivering %s item %d panicked: %v", item.Kind, item.ID, p)}
		}
	}()
	return l.t.Deliver(ctx, item)
}

// prepareAhead starts preparing item in the background, or returns nil
// when the transport cannot prepare (chat, or a sender without
// MailPreparer) or the item's attachments cannot be read (the item is
// then sent, and fails, on its own turn).
func (l *Deliverer) prepareAhead(ctx context.Context, item OutboxItem) *preparing {
	mt, ok := l.t.(mailTransport)
	if !ok || item.Mail == nil {
		return nil
	}
	mp, ok := mt.s.(MailPreparer)
	if !ok {
		return nil
	}
	full, err := l.desk.withAttachments(ctx, item)
	if err != nil {
		return nil
	}
	pr := &preparing{item: item, done: make(chan struct{})}
	go func() {
		defer close(pr.done)
		pr.p, pr.err = mp.PrepareMail(ctx, full.Mail)
	}()
	return pr
}

// send reads item's attachment bytes and hands it over. Bytes that are
// gone from the store make a permanent failure (no retry brings them
// back); a store that cannot be read, a temporary one.
func (l *Deliverer) send(ctx context.Context, item OutboxItem) (DeliveryResult, error) {
	full, err := l.desk.withAttachments(ctx, item)
	if err != nil {
		failure := DeliveryTemporary
		if errors.Is(err, ErrNotFound) {
			failure = DeliveryPermanent
		}
		return DeliveryResult{}, &DeliveryError{Failure: failure, Err: fmt.Errorf("attachments of %s: %w", describeItem(item), err)}
	}
	return l.deliver(ctx, full)
}

// commit hands the prepared item over.
func (pr *preparing) commit(ctx context.Context) (DeliveryResult, error) {
	<-pr.done
	if pr.err != nil {
		return DeliveryResult{}, pr.err
	}
	return partial(pr.p.Commit(ctx))
}

// abort drops the preparation: the item stays pending, undelivered.
func (pr *preparing) abort() {
	<-pr.done
	if pr.err == nil && pr.p != nil {
		pr.p.Abort()
	}
}

// deliveryRecorder is what the deliverer needs from the desk.
type deliveryRecorder interface {
	dueOutbox(ctx context.Context, kind OutboxKind, by time.Time, limit int) ([]OutboxItem, error)
	nextOutboxAttempt(ctx context.Context, kind OutboxKind) (time.Time, bool, error)
	outboxItems(ctx context.Context, ids []uint64) (map[uint64]OutboxItem, error)
	withAttachments(ctx context.Context, item OutboxItem) (OutboxItem, error)
	RecordDelivery(ctx context.Context, item OutboxItem, rcpt DeliveryResult, err error) error
	RecordDeliveries(ctx context.Context, batch []Accepted) error
}

var _ deliveryRecorder = (*Desk)(nil)

// dueOutbox reads up to limit items of kind due by by (Tx.DueOutbox).
func (d *Desk) dueOutbox(ctx context.Context, kind OutboxKind, by time.Time, limit int) ([]OutboxItem, error) {
	var items []OutboxItem
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		items, err = tx.DueOutbox(kind, by, limit)
		return err
	})
	return items, err
}

// nextOutboxAttempt reads when the next item of kind is due.
func (d *Desk) nextOutboxAttempt(ctx context.Context, kind OutboxKind) (at time.Time, ok bool, err error) {
	err = d.store.View(ctx, func(tx Tx) error {
		at, ok, err = tx.NextOutboxAttempt(kind)
		return err
	})
	return at, ok, err
}

// outboxItems reads the items of ids still pending, by id.
func (d *Desk) outboxItems(ctx context.Context, ids []uint64) (map[uint64]OutboxItem, error) {
	items := make(map[uint64]OutboxItem, len(ids))
	err := d.store.View(ctx, func(tx Tx) error {
		for _, id := range ids {
			it, err := tx.OutboxItem(id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			items[id] = *it
		}
		return nil
	})
	return items, err
}

// withAttachments returns item with a copy of its mail whose attachments
// hold their bytes (read through Tx.OutboxAttachment); item itself, as
// stored, keeps the references. An item without attachments is returned
// as is.
func (d *Desk) withAttachments(ctx context.Context, item OutboxItem) (OutboxItem, error) {
	if item.Mail == nil || !slices.ContainsFunc(item.Mail.Attachments, func(a Attachment) bool { return a.Blob != "" && a.Data == nil }) {
		return item, nil
	}
	mail := *item.Mail
	mail.Attachments = slices.Clone(item.Mail.Attachments)
	err := d.store.View(ctx, func(tx Tx) error {
		for i, a := range mail.Attachments {
			if a.Blob == "" || a.Data != nil {
				continue
			}
			data, err := tx.OutboxAttachment(a.Blob)
			if err != nil {
				return err
			}
			mail.Attachments[i].Data = data
		}
		return nil
	})
	if err != nil {
		return item, err
	}
	item.Mail = &mail
	return item, nil
}

// DelivererOptions configure a Deliverer; nil fields get defaults.
type DelivererOptions struct {
	Now    func() time.Time
	Logger *slog.Logger
	// Health is told when sending is paused (auth failure) or resumes.
	Health func(ok bool, reason string)
	// AuthHint names the settings to check when the far side refuses our
	// credentials (default "check smtp.username and smtp.password").
	AuthHint string
	// AuthPause is how long sending pauses after an authentication
	// failure before trying again (default 5 minutes).
	AuthPause time.Duration
	// Idle is the longest the loop sleeps without a kick (default 1 minute):
	// a safety net, not the mechanism.
	Idle time.Duration
	// Receipts, for a mail deliverer, is the durable receipt log: each
	// accepted mail is recorded there (one small synced append) and the
	// outbox is updated in batches. Nil, or a chat deliverer: each
	// result is committed to the store before the next item is sent.
	// Give each log to one deliverer only.
	Receipts ReceiptLog
	// ReceiptBatch is how many receipts wait in the log before they are
	// applied to the store (0: receiptBatch, 64). A replicated store sets
	// 1: the log is on this machine only, so an instance that takes over
	// after a crash cannot read it, and every accepted mail must be in
	// the store before the next is sent for a failover to send at most
	// one mail twice.
	ReceiptBatch int
	// Observe, when set, is told each delivery attempt's result once it
	// is durable (recorded in the store, or in the receipt log): err is
	// nil for an item the far side accepted, else the send's error
	// (a *DeliveryError says which kind of failure). It runs on the
	// deliverer's goroutine, so it must return quickly (for metrics).
	Observe func(item OutboxItem, err error)
}

// Deliverer performs the outbox items of one kind (mail, or chat: each
// kind has its own deliverer so a chat outage never holds up mail). It
// reads only the items of its kind that are due (Tx.DueOutbox, at most
// dueBatch a pass) and sleeps until the next one is due (at most Idle),
// unless the desk kicks it after a commit that enqueued an item of its
// kind. It sends each due item once, by next attempt then ID, one at a
// time, and makes the
// result durable before sending the next: a failure, or a chat
// delivery, is committed through the desk; a mail accepted by a
// deliverer with a receipt log gets a receipt there, and the receipts
// are applied to the outbox in batches (at most ReceiptBatch, and
// whenever a pass ends), after any left by a crash were applied at
// start. A crash between the server accepting a mail and its result
// being durable is the only way a mail goes out twice, and then only
// that one mail. A rate-limited item (DeliveryError.RetryAfter) is
// retried after exactly the wait the far side asked for, and nothing
// else of its kind is sent before then: a route's limit holds every
// route, like a global one, so that no item overtakes the held one.
type Deliverer struct {
	desk deliveryRecorder
	t    Transport
	opts DelivererOptions
	kick chan struct{}

	// accepted holds items the far side accepted whose result could not
	// be recorded (the store refused the write): they are never handed
	// over again, only their record is retried. Owned by Run.
	accepted map[uint64]DeliveryResult
	// pausedUntil keeps a credentials pause in force even when kicked.
	pausedUntil time.Time
	// limitedUntil holds every item while the far side's rate limit
	// lasts, even when kicked. It is on the real clock (time.Now, the
	// bubble's under synctest), not opts.Now: the far side's limit runs
	// in real time whatever the desk's clock says.
	limitedUntil time.Time
	// pending holds accepted items whose receipts are in the log but not
	// yet applied to the store; replayed is set once the receipts of a
	// previous run have been read. Owned by Run.
	pending  []Accepted
	replayed bool
}

// NewDeliverer returns a deliverer for the items of t's kind in desk's
// outbox, and registers it with desk: every commit that enqueues an item
// of that kind kicks it.
func NewDeliverer(desk *Desk, t Transport, opts *DelivererOptions) *Deliverer {
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
	if o.Observe == nil {
		o.Observe = func(OutboxItem, error) {}
	}
	if o.AuthHint == "" {
		o.AuthHint = "check smtp.username and smtp.password"
	}
	if t.Kind() != OutboxMail {
		o.Receipts = nil
	}
	if o.ReceiptBatch <= 0 {
		o.ReceiptBatch = receiptBatch
	}
	l := &Deliverer{desk: desk, t: t, opts: o, kick: make(chan struct{}, 1), accepted: make(map[uint64]DeliveryResult)}
	desk.kicks.add(t.Kind(), l.Kick)
	return l
}

// Kick wakes the deliverer to look at the outbox now. It never blocks;
// kicks that come while one is waiting are one kick.
func (l *Deliverer) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done and returns ctx.Err(). A mail being
// sent when ctx ends is recorded if the server accepted it. With a
// receipt log, the receipts a previous run left are applied before
// anything is sent; the desk must be running.
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
// next one is due. Items are handed over one at a time and each result
// is made durable before the next is handed over; with a MailPreparer the
// next mail is prepared while that record is written. Receipts are
// applied before the outbox is read and again when the pass ends.
func (l *Deliverer) pass(ctx context.Context) (wait time.Duration, err error) {
	// A send once started is finished and recorded even if ctx ends.
	work := context.WithoutCancel(ctx)
	if l.opts.Receipts != nil {
		if !l.replayed {
			if err := l.replay(ctx); err != nil {
				return l.opts.Idle, err
			}
			l.replayed = true
		}
		if err := l.flush(work); err != nil {
			return l.opts.Idle, err
		}
		defer func() {
			if ferr := l.flush(work); ferr != nil && err == nil {
				err = ferr
			}
		}()
	}
	if hold := time.Until(l.limitedUntil); hold > 0 {
		return hold, nil
	}
	now := l.opts.Now()
	if now.Before(l.pausedUntil) {
		return l.pausedUntil.Sub(now), nil
	}
	due, err := l.desk.dueOutbox(ctx, l.t.Kind(), now, dueBatch)
	if err != nil {
		return l.opts.Idle, err
	}
	// Items that are due go out in the order they were queued, whatever
	// their retry times: a card held back by a rate limit still goes
	// before its thread's posts and before later RFAs' cards.
	slices.SortFunc(due, func(a, b OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	next := l.opts.Idle
	var ahead *preparing
	defer func() {
		if ahead != nil {
			ahead.abort()
		}
	}()
	for i, item := range due {
		if ctx.Err() != nil {
			return next, nil
		}
		var rcpt DeliveryResult
		var sendErr error
		if r, ok := l.accepted[item.ID]; ok {
			rcpt = r // handed over already: only the record is missing
		} else if ahead != nil {
			rcpt, sendErr = ahead.commit(work)
			ahead = nil
		} else {
			rcpt, sendErr = l.send(work, item)
		}
		if sendErr == nil && i+1 < len(due) {
			ahead = l.prepareAhead(work, due[i+1])
		}
		if sendErr == nil && l.opts.Receipts != nil && l.receipt(item, rcpt) {
			delete(l.accepted, item.ID)
			l.opts.Health(true, "")
			l.opts.Observe(item, nil)
			l.opts.Logger.Debug("delivered", "kind", item.Kind, "item", item.ID, RFAAttr(item.RFA), "what", describeItem(item))
			if len(l.pending) >= l.opts.ReceiptBatch {
				if err := l.flush(work); err != nil {
					return next, err
				}
			}
			continue
		}
		if err := l.desk.RecordDelivery(work, item, rcpt, sendErr); err != nil {
			if sendErr == nil {
				l.accepted[item.ID] = rcpt
			}
			l.opts.Health(false, string(item.Kind)+": cannot record deliveries: "+err.Error())
			return next, err
		}
		delete(l.accepted, item.ID)
		l.opts.Observe(item, sendErr)
		var de *DeliveryError
		switch {
		case sendErr == nil:
			l.opts.Health(true, "")
			l.opts.Logger.Debug("delivered", "kind", item.Kind, "item", item.ID, RFAAttr(item.RFA), "what", describeItem(item))
		case errors.As(sendErr, &de) && de.Failure == DeliveryAuth:
			l.opts.Health(false, string(item.Kind)+": credentials refused: "+l.opts.AuthHint+" ("+sendErr.Error()+")")
			l.opts.Logger.Error("delivery paused: credentials refused", "kind", item.Kind, "err", sendErr, "pause", l.opts.AuthPause)
			l.pausedUntil = l.opts.Now().Add(l.opts.AuthPause)
			return l.opts.AuthPause, nil
		case errors.As(sendErr, &de) && de.Failure == DeliveryPermanent:
			l.opts.Logger.Warn("refused for good", "kind", item.Kind, "item", item.ID, RFAAttr(item.RFA), "err", sendErr)
		default:
			if hold, ok := retryAfter(sendErr); ok {
				// Rate limited: the item is due again after exactly
				// hold (RecordDelivery); nothing of this kind is sent
				// before then, so no item overtakes it.
				l.limitedUntil = time.Now().Add(hold)
				l.opts.Logger.Info("rate limited, holding deliveries", "kind", item.Kind, "item", item.ID, RFAAttr(item.RFA), "for", hold, "global", errors.As(sendErr, &de) && de.Global)
				return hold, nil
			}
			// The far side is likely down or busy: stop this pass rather
			// than try every item against it; the next pass honours
			// NextAttempt.
			l.opts.Logger.Warn("delivery failed, will retry", "kind", item.Kind, "item", item.ID, RFAAttr(item.RFA), "attempt", item.Attempts+1, "err", sendErr)
			return time.Second, nil
		}
	}
	if len(due) == dueBatch {
		return 0, nil // more may be due: the next pass reads them at once
	}
	if l.opts.Receipts != nil {
		// Applied now, so the items just delivered do not count as due.
		if err := l.flush(work); err != nil {
			return l.opts.Idle, err
		}
	}
	at, ok, err := l.desk.nextOutboxAttempt(ctx, l.t.Kind())
	if err != nil || !ok {
		return l.opts.Idle, err
	}
	return min(max(at.Sub(l.opts.Now()), 0), l.opts.Idle), nil
}

// dueBatch is how many due items a pass reads at most; a full batch
// makes the next pass start at once.
const dueBatch = 64
