package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// DeliveryReceipt says that the far side accepted outbox item Item at At.
type DeliveryReceipt struct {
	Item   uint64
	Result DeliveryResult
	At     time.Time
}

// ReceiptLog is a durable, append-only log of delivery receipts (the
// store package's Receipts). A mail Deliverer appends a receipt the
// moment a mail is accepted, instead of committing a transaction per
// mail, and applies the receipts to the store in batches; after a crash
// the receipts still in the log are applied before anything is sent, so
// no accepted mail is sent again.
type ReceiptLog interface {
	// Append makes r durable before returning nil. On error the receipt
	// may or may not be durable.
	Append(r DeliveryReceipt) error
	// All returns the receipts appended since the last Truncate, oldest
	// first.
	All() ([]DeliveryReceipt, error)
	// Truncate empties the log durably.
	Truncate() error
}

// Accepted is an outbox item the far side accepted, with what it created
// there and when.
type Accepted struct {
	Item   OutboxItem
	Result DeliveryResult
	At     time.Time
}

type deliveriesEvent struct {
	batch []Accepted
	reply chan error
}

func (deliveriesEvent) isEvent() {}

// RecordDeliveries records, in one transaction, that every item of batch
// was delivered: each leaves the outbox and its RFA gets the event a
// successful RecordDelivery would add. An item no longer in the outbox
// was recorded already (a receipt replayed after a crash that followed
// its batch) and is skipped, so replaying a batch changes nothing. On
// error nothing was recorded.
func (d *Desk) RecordDeliveries(ctx context.Context, batch []Accepted) error {
	if len(batch) == 0 {
		return nil
	}
	reply := make(chan error, 1)
	if err := d.send(ctx, deliveriesEvent{batch, reply}); err != nil {
		return err
	}
	err, werr := await(ctx, d, reply)
	if werr != nil {
		return werr
	}
	return err
}

// recordDeliveries runs RecordDeliveries on the desk goroutine.
func (d *Desk) recordDeliveries(ctx context.Context, batch []Accepted) error {
	return d.store.Update(ctx, func(tx Tx) error {
		for _, a := range batch {
			// UpdateOutbox refuses an item that is gone (ErrNotFound):
			// that is how an item recorded already is recognised.
			item := a.Item
			if err := tx.UpdateOutbox(&item); errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if err := d.applyDelivered(tx, item, a.Result, a.At); err != nil {
				return err
			}
		}
		return nil
	})
}

// applyDelivered records within tx that item was delivered at at: what
// RecordDelivery does for a nil error.
func (d *Desk) applyDelivered(tx Tx, item OutboxItem, rcpt DeliveryResult, at time.Time) error {
	if at.IsZero() {
		at = d.now()
	}
	if err := tx.DeleteOutbox(item.ID); err != nil {
		return err
	}
	if item.Kind == OutboxChat {
		return d.recordChatReceipt(tx, item, rcpt)
	}
	if item.Mail == nil {
		return nil
	}
	if o := item.Mail.Origin; o != nil && d.cfg.Chat {
		if err := d.enqueueChat(tx, item.RFA, &ChatPost{Op: ChatReact, Emoji: "✅", Origin: o}); err != nil {
			return err
		}
	}
	return updateItemRFA(tx, item, func(r *RFA) error {
		kind := EventMailSent
		if !slices.ContainsFunc(item.Mail.To, func(a Address) bool { return strings.EqualFold(a.Email, r.Requester.Email) }) {
			kind = EventStaffMailSent // to managers or staff: never shown to the requester
		}
		r.addEvent(at, kind, "rfadesk", describeItem(item)+" accepted by the mail server")
		if len(rcpt.Refused) > 0 {
			r.addEvent(at, EventMailFailed, "rfadesk", item.Mail.Purpose+" refused for good for "+strings.Join(rcpt.Refused, ", ")+": "+rcpt.RefusedWhy)
		}
		return nil
	})
}

// receiptBatch is how many receipts a Deliverer gathers before it
// applies them in one transaction (it also applies them when a pass
// ends).
const receiptBatch = 64

// receipt makes the acceptance of item durable in the receipt log and
// queues it for the next batch. It returns false (having changed
// nothing) if the log refused; the caller then records the item on its
// own.
func (l *Deliverer) receipt(item OutboxItem, rcpt DeliveryResult) bool {
	at := l.opts.Now()
	if err := l.opts.Receipts.Append(DeliveryReceipt{Item: item.ID, Result: rcpt, At: at}); err != nil {
		l.opts.Logger.Warn("receipt log refused a receipt; recording the delivery directly", "item", item.ID, "err", err)
		return false
	}
	l.pending = append(l.pending, Accepted{Item: item, Result: rcpt, At: at})
	return true
}

// flush applies the pending receipts in one transaction and then
// empties the receipt log. If the transaction fails the receipts stay
// pending (and in the log) for the next try; their items are not sent
// again meanwhile, since a pass flushes before it reads the outbox.
func (l *Deliverer) flush(ctx context.Context) error {
	if len(l.pending) == 0 {
		return nil
	}
	if err := l.desk.RecordDeliveries(ctx, l.pending); err != nil {
		l.opts.Health(false, string(l.t.Kind())+": cannot record deliveries: "+err.Error())
		return err
	}
	l.pending = nil // a fresh array: the desk has had this one
	if err := l.opts.Receipts.Truncate(); err != nil {
		// Harmless: what is in the log is applied, and applying it again
		// after a crash changes nothing. The next flush truncates.
		l.opts.Logger.Warn("receipt log not truncated", "err", err)
	}
	return nil
}

// replay reads the receipts a previous run left in the log (it crashed,
// or could not record them) and makes them pending, so the first pass
// applies them before it sends anything. Receipts whose item is no
// longer in the outbox were applied already and are dropped.
// It runs once, at the start of the first pass, before anything is
// pending.
func (l *Deliverer) replay(ctx context.Context) error {
	recs, err := l.opts.Receipts.All()
	if err != nil || len(recs) == 0 {
		return err
	}
	ids := make([]uint64, len(recs))
	for i, rc := range recs {
		ids[i] = rc.Item
	}
	byID, err := l.desk.outboxItems(ctx, ids)
	if err != nil {
		return err
	}
	queued := make(map[uint64]bool, len(recs))
	for _, rc := range recs {
		it, ok := byID[rc.Item]
		if !ok || queued[rc.Item] {
			continue
		}
		queued[rc.Item] = true
		l.pending = append(l.pending, Accepted{Item: it, Result: rc.Result, At: rc.At})
	}
	l.opts.Logger.Info("replaying delivery receipts left by the last run", "receipts", len(recs), "to-apply", len(l.pending))
	if len(l.pending) == 0 {
		return l.opts.Receipts.Truncate()
	}
	return nil
}
