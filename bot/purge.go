package bot

import (
	"context"
	"strconv"
	"time"
)

// EventPurged records that the retention purge deleted an RFA's message
// texts and attachments. Text: "N texts, M attachments". The record, its
// history and so its SLA figures stay.
const EventPurged EventKind = "purged"

// PurgeItem is one RFA the retention purge took (or would take) the
// content of.
type PurgeItem struct {
	Ref      string    `json:"ref"`
	ClosedAt time.Time `json:"closed_at"`
	Messages int       `json:"messages"`
}

// Purge deletes the message texts and attachments of every RFA closed
// before closedBefore and not purged already, and returns them in number
// order; with dryRun it only lists them. Each RFA is purged in its own
// transaction by the desk's goroutine: its messages keep their date,
// direction, sender and subject but lose their text and attachment list,
// and an EventPurged is added, so clocks, summaries and the month
// report come out as before. A closed RFA was logged before it closed,
// so the walk reads the summaries of RFAs logged before closedBefore
// only.
func (d *Desk) Purge(ctx context.Context, closedBefore time.Time, dryRun bool) ([]PurgeItem, error) {
	end, err := d.firstCreatedAtOrAfter(ctx, closedBefore)
	if err != nil {
		return nil, err
	}
	items := []PurgeItem{}
	for q := (RFAQuery{Status: StatusClosed, Limit: MaxRFAPage}); ; {
		page, err := d.RFAPage(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, s := range page.RFAs {
			if end != 0 && s.Num >= end {
				return items, nil
			}
			r, err := d.RFA(ctx, s.Num)
			if err != nil {
				return nil, err
			}
			closed, ok := r.ClosedAt()
			if !ok || !closed.Before(closedBefore) || purged(r) {
				continue
			}
			items = append(items, PurgeItem{Ref: r.Ref(), ClosedAt: closed, Messages: len(r.Messages)})
			if !dryRun {
				if err := d.purgeOne(ctx, r.Num, closedBefore); err != nil {
					return items, err
				}
			}
		}
		if page.Next == 0 || (end != 0 && page.Next >= end) {
			return items, nil
		}
		q.After = page.Next
	}
}

func purged(r *RFA) bool {
	for _, e := range r.Events {
		if e.Kind == EventPurged {
			return true
		}
	}
	return false
}

// purgeOne purges RFA num unless, by the time the desk's goroutine gets
// to it, it was reopened or purged.
func (d *Desk) purgeOne(ctx context.Context, num uint64, closedBefore time.Time) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if closed, ok := r.ClosedAt(); !ok || !closed.Before(closedBefore) || purged(r) {
			return nil
		}
		texts, atts, err := tx.DeleteRFAContent(num)
		if err != nil {
			return err
		}
		for i := range r.Messages {
			m := &r.Messages[i]
			m.Text, m.TextLen, m.FullSize, m.Attachments = "", 0, 0, nil
		}
		r.addEvent(d.now(), EventPurged, "rfadesk", strconv.Itoa(texts)+" texts, "+strconv.Itoa(atts)+" attachments")
		return nil
	})
}
