package bot

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// enqueueChat writes a staff-chat item to the outbox when chat is on
// (DeskConfig.Chat); without chat it does nothing.
func (d *Desk) enqueueChat(tx Tx, num uint64, post *ChatPost) error {
	if !d.cfg.Chat {
		return nil
	}
	now := d.now()
	_, err := tx.Enqueue(&OutboxItem{Kind: OutboxChat, RFA: num, Created: now, NextAttempt: now, Chat: post})
	return err
}

// enqueueMail gives out a Message-ID (recorded for threading when the
// mail belongs to an RFA) and writes the mail to the outbox.
func (d *Desk) enqueueMail(tx Tx, num uint64, om *OutgoingMail) (uint64, error) {
	if om.MessageID == "" {
		id, err := d.newMessageID(num)
		if err != nil {
			return 0, err
		}
		om.MessageID = id
	}
	if num != 0 {
		if err := tx.PutThread(om.MessageID, num); err != nil {
			return 0, err
		}
	}
	now := d.now()
	return tx.Enqueue(&OutboxItem{Kind: OutboxMail, RFA: num, Created: now, NextAttempt: now, Mail: om})
}

func (d *Desk) newMessageID(num uint64) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(d.rand, b[:]); err != nil {
		return "", fmt.Errorf("bot: message id: %w", err)
	}
	prefix := "rfadesk"
	if num != 0 {
		prefix = strings.ToLower(FormatRef(num))
	}
	domain := d.cfg.Address.Domain()
	if domain == "" {
		domain = "rfadesk.invalid"
	}
	return prefix + "." + hex.EncodeToString(b[:]) + "@" + domain, nil
}

// newToken returns 128 random bits, base64url without padding.
func newToken(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("bot: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// deliverers wakes the deliverers of each outbox kind after a commit
// that enqueued items of that kind. Deliverers register with NewDeliverer,
// from any goroutine; kicks come from the desk goroutine.
type deliverers struct {
	mu    sync.Mutex
	kicks map[OutboxKind][]func()
}

// add registers kick for items of kind.
func (ds *deliverers) add(kind OutboxKind, kick func()) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.kicks == nil {
		ds.kicks = make(map[OutboxKind][]func())
	}
	ds.kicks[kind] = append(ds.kicks[kind], kick)
}

// kick wakes the deliverers of every kind in kinds.
func (ds *deliverers) kick(kinds []OutboxKind) {
	ds.mu.Lock()
	var fns []func()
	for _, k := range kinds {
		fns = append(fns, ds.kicks[k]...)
	}
	ds.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// watch wraps st so that every Update records which kinds of items it
// enqueued and, once it has committed, kicks their deliverers and then
// calls after (if not nil). Nothing that enqueues has to say so: the
// transaction knows. View passes through.
func (ds *deliverers) watch(st Store, after func()) Store {
	return &enqueueWatch{Store: st, ds: ds, after: after}
}

type enqueueWatch struct {
	Store
	ds    *deliverers
	after func()
}

func (s *enqueueWatch) Update(ctx context.Context, fn func(Tx) error) error {
	var kinds []OutboxKind
	err := s.Store.Update(ctx, func(tx Tx) error {
		kinds = kinds[:0]
		return fn(enqueueTx{Tx: tx, kinds: &kinds})
	})
	if err != nil || len(kinds) == 0 {
		return err
	}
	s.ds.kick(kinds)
	if s.after != nil {
		s.after()
	}
	return nil
}

// enqueueTx records the kind of every item enqueued through it.
type enqueueTx struct {
	Tx
	kinds *[]OutboxKind
}

func (t enqueueTx) Enqueue(item *OutboxItem) (uint64, error) {
	id, err := t.Tx.Enqueue(item)
	if err == nil && !slices.Contains(*t.kinds, item.Kind) {
		*t.kinds = append(*t.kinds, item.Kind)
	}
	return id, err
}
