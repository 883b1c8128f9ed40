package bot

import (
	"context"
	"errors"
	"fmt"
)

// Linked RFAs: staff link an RFA (the child) to another (its parent),
// the known issue behind it. Clearing the parent clears every RFA linked
// to it, directly or through another, with the same resolution: each
// child's requester gets the clearance mail and the child runs its own
// confirmation. Reopening a child leaves its parent as it is.
//
// Crash safety: a parent and all its children are cleared in one
// transaction, their clearance mails enqueued in it (the outbox, each
// mail with its own fixed Message-ID). A crash before the commit leaves
// nothing cleared and nothing queued; after it, the outbox delivers each
// mail once (receipts), whatever stops the daemon. maxLinked bounds the
// group, so that transaction's work is bounded too: no cascade is ever
// left half done, and none needs resuming.
//
// Rules (Link): no self-links, no loops (the parents above the new
// parent are walked, at most maxLinkDepth of them); the child must not
// be cleared or closed (its clearance is to come from the parent), nor
// linked already (unlink it first); the parent must not be cleared or
// closed, as its clearance, which would clear the child, is already
// done: clear the child on its own, or reopen the parent first. The
// status page tells a linked child's requester it is linked to a known
// issue; it never names the parent, which may be another school's.

// maxLinked bounds a linked group: an RFA with no parent and every RFA
// linked below it. Clearing the top clears the whole group in one
// transaction.
const maxLinked = 200

// maxLinkDepth bounds the chain of parents above an RFA.
const maxLinkDepth = 8

// Event kinds recorded on a child by staff linking it. Both are staff
// history, never shown on the status page.
const (
	EventLinked   EventKind = "linked"   // Text: "linked to RFA-M"
	EventUnlinked EventKind = "unlinked" // Text: "unlinked from RFA-M"
)

// Link makes RFA num a child of RFA parent, so that clearing parent
// clears num. It returns an error matching ErrInvalid for a self-link or
// an unknown parent, ErrNotAllowed when the rules above refuse it (a
// loop, a cleared or closed RFA, a group over maxLinked, num already
// linked elsewhere). Linking an RFA to its own parent again is a no-op.
func (d *Desk) Link(ctx context.Context, num, parent uint64, by Actor) error {
	switch {
	case parent == 0:
		return invalid("link needs the parent RFA as RFA-N")
	case parent == num:
		return invalid("%s cannot be linked to itself", FormatRef(num))
	}
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		switch {
		case r.Parent == parent:
			return nil
		case r.Parent != 0:
			return notAllowed(r, "is already linked to "+FormatRef(r.Parent)+": unlink it first")
		case r.Status == StatusCleared || r.Status == StatusClosed:
			return notAllowed(r, "is already "+string(r.Status)+": reopen it before linking it")
		}
		p, err := tx.RFA(parent)
		if errors.Is(err, ErrNotFound) {
			return invalid("there is no %s to link %s to", FormatRef(parent), r.Ref())
		}
		if err != nil {
			return err
		}
		if p.Status == StatusCleared || p.Status == StatusClosed {
			return notAllowed(r, "cannot be linked to "+p.Ref()+", which is already "+string(p.Status)+
				": clear "+r.Ref()+" on its own, or reopen "+p.Ref()+" first")
		}
		root, err := d.linkRoot(tx, r, p)
		if err != nil {
			return err
		}
		group, err := countLinked(tx, root, maxLinked)
		if err != nil {
			return err
		}
		below, err := countLinked(tx, r.Num, maxLinked)
		if err != nil {
			return err
		}
		if 1+group+1+below > maxLinked {
			return notAllowed(r, fmt.Sprintf("cannot be linked to %s: its group would have more than %d RFAs", p.Ref(), maxLinked))
		}
		r.Parent = parent
		r.addEvent(d.now(), EventLinked, by.String(), "linked to "+p.Ref())
		return nil
	})
}

// linkRoot walks up from p, the parent r is being linked to, and returns
// the top of p's group. It refuses a chain that comes back to r (a loop)
// or is longer than maxLinkDepth.
func (d *Desk) linkRoot(tx Tx, r, p *RFA) (uint64, error) {
	at := p
	for depth := 1; at.Parent != 0; depth++ {
		if at.Parent == r.Num {
			return 0, notAllowed(r, "cannot be linked to "+p.Ref()+": "+p.Ref()+" is linked to "+r.Ref()+
				" (directly or through others), which would make a loop")
		}
		if depth >= maxLinkDepth {
			return 0, notAllowed(r, fmt.Sprintf("cannot be linked to %s: the chain of links above it is longer than %d", p.Ref(), maxLinkDepth))
		}
		up, err := tx.RFA(at.Parent)
		if errors.Is(err, ErrNotFound) {
			break // a parent gone from the store: at is the top
		}
		if err != nil {
			return 0, err
		}
		at = up
	}
	return at.Num, nil
}

// countLinked counts the RFAs linked below top, directly or through
// another, stopping past limit.
func countLinked(tx Tx, top uint64, limit int) (int, error) {
	n := 0
	queue := []uint64{top}
	for len(queue) > 0 && n <= limit {
		kids, err := tx.RFAChildren(queue[0], limit+1)
		if err != nil {
			return 0, err
		}
		queue = append(queue[1:], kids...)
		n += len(kids)
	}
	return n, nil
}

// Unlink removes RFA num's link to its parent. ErrNotAllowed if it has
// none.
func (d *Desk) Unlink(ctx context.Context, num uint64, by Actor) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if r.Parent == 0 {
			return notAllowed(r, "is not linked to another RFA")
		}
		r.addEvent(d.now(), EventUnlinked, by.String(), "unlinked from "+FormatRef(r.Parent))
		r.Parent = 0
		return nil
	})
}

// clearLinked clears, inside the transaction that clears parent, every
// RFA linked below it that is not cleared or closed already: each with
// the resolution m (its own mail to its own requester, its own
// confirmation) and a staff note naming the parent. Children already
// cleared or closed are skipped, but the RFAs linked below them are
// still cleared. The walk stops at maxLinked RFAs, which Link never lets
// a group exceed.
func (d *Desk) clearLinked(tx Tx, parent *RFA, m StaffMessage) error {
	m.Origin = nil // the staff member's chat message belongs to the parent
	queue := []uint64{parent.Num}
	for seen := 0; len(queue) > 0; {
		up := queue[0]
		queue = queue[1:]
		kids, err := tx.RFAChildren(up, maxLinked+1)
		if err != nil {
			return err
		}
		for _, num := range kids {
			if seen++; seen > maxLinked {
				return fmt.Errorf("bot: %s has more than %d linked RFAs: unlink some before clearing it", parent.Ref(), maxLinked)
			}
			c, err := tx.RFA(num)
			if err != nil {
				return fmt.Errorf("bot: linked %s: %w", FormatRef(num), err)
			}
			queue = append(queue, num)
			if c.Status == StatusCleared || c.Status == StatusClosed {
				continue
			}
			if err := d.clear(tx, c, m); err != nil {
				return err
			}
			c.addEvent(d.now(), EventNote, "rfadesk", "Cleared with "+FormatRef(up)+", to which it is linked")
			if err := tx.PutRFA(c); err != nil {
				return err
			}
		}
	}
	return nil
}
