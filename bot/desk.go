package bot

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"
)

// DeskConfig is the validated configuration the desk works with.
type DeskConfig struct {
	// Name is the desk's display name ("Example Service Desk").
	Name string
	// Address is the From: of every outgoing mail; mail from it is ours.
	Address Address
	// BaseURL is where status-page links point (no trailing slash).
	BaseURL string
	// LoopValue is the value of our X-Rfadesk-Loop header.
	LoopValue string
	// Organisations map sender domains to schools and trusts.
	Organisations []Organisation
	// ResponseTarget is the promised response time for email, as written
	// ("72 hours").
	ResponseTarget string
	// Hours describes the desk's opening hours for people.
	Hours string
	// Contact is the desk's phone, knowledge base and postal address;
	// acknowledgements carry a "Contact us" block when any is set.
	Contact Contact
	// RateTiers limit automatic mail per sender; nil means DefaultRateTiers.
	RateTiers []RateTier
	// AlertTo receive staff alerts by email (dead letters); may be empty.
	AlertTo []Address
	// Managers are told by email of escalations; ManagerName is how the
	// requester is told who owns an escalated RFA.
	Managers    []Address
	ManagerName string
	// Chat enables staff-chat posts in the outbox (a [discord] section
	// is configured). Without it the desk runs email-only.
	Chat bool
	// SLA is the service level agreement; nil means DefaultSLAPolicy on
	// the default calendar.
	SLA *SLAPolicy
	// Staff says whose mail is staff mail ([staff]): relayed to the
	// requester or noted, never an RFA (staff_mail.go). The zero value
	// has no staff.
	Staff StaffMatcher
	// Limits are the intake safeguards (safeguards.go); zero fields mean
	// their defaults.
	Limits IntakeLimits
	// Outages is the [outages] configuration (outage.go).
	Outages OutageConfig
	// Releases is the release calendar's policy ([releases], release.go).
	Releases ReleasePolicy
	// Capacity is the capacity threshold (capacity.go).
	Capacity CapacityConfig
	// Templates word every mail and chat notice (templates.go); nil
	// means DefaultTemplates.
	Templates *Templates
}

// DeskOptions carry the desk's collaborators; nil fields get defaults.
type DeskOptions struct {
	Now    func() time.Time // default time.Now
	Rand   io.Reader        // default crypto/rand.Reader; tokens and ids
	Logger *slog.Logger     // default slog.Default()
	// OnOutbox, if set, is called (without blocking for long) after
	// every commit that enqueued outgoing items, once the deliverers of
	// those kinds were kicked (the desk kicks them itself: see
	// NewDeliverer).
	OnOutbox func()
}

// Desk is the domain engine. One goroutine (Run) owns every change to
// RFA state; other goroutines send it typed events through its methods
// and wait for the committed result. Reads go straight to the store.
type Desk struct {
	store Store
	cfg   DeskConfig
	dir   *Directory
	now   func() time.Time
	rand  io.Reader
	log   *slog.Logger
	// kicks wakes the deliverers by kind after a commit that enqueued
	// (outgoing.go).
	kicks  *deliverers
	events chan event
	jeop   *jeopardy // SLA escalation schedule (jeopardy.go)
	// stopped is closed when Run returns, so that senders never wait
	// for a goroutine that is gone.
	stopped chan struct{}
}

// event is a request handled by the Run goroutine.
type event interface{ isEvent() }

type ingestEvent struct {
	mailbox     string
	uidValidity uint32
	batch       []Fetched
	pre         []readMail // readMails(batch, ...), computed by the caller
	reply       chan ingestReply
}

type ingestReply struct {
	outcomes []Outcome
	err      error
}

type deliveryEvent struct {
	item  OutboxItem
	rcpt  DeliveryResult
	err   error // nil: delivered
	reply chan error
}

func (ingestEvent) isEvent()   {}
func (deliveryEvent) isEvent() {}

// NewDesk returns a desk over st. Call Run to start it.
func NewDesk(st Store, cfg DeskConfig, opts *DeskOptions) *Desk {
	var o DeskOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if cfg.RateTiers == nil {
		cfg.RateTiers = DefaultRateTiers
	}
	if cfg.ResponseTarget == "" {
		cfg.ResponseTarget = "72 hours"
	}
	if cfg.Templates == nil {
		cfg.Templates = DefaultTemplates()
	}
	jeop := newJeopardy(cfg.SLA)
	kicks := &deliverers{}
	return &Desk{
		jeop:    jeop,
		store:   kicks.watch(jeop.observe(st), o.OnOutbox),
		kicks:   kicks,
		cfg:     cfg,
		dir:     NewDirectory(cfg.Organisations),
		now:     o.Now,
		rand:    o.Rand,
		log:     o.Logger,
		events:  make(chan event),
		stopped: make(chan struct{}),
	}
}

// ErrStopped is returned by the desk's methods once Run has returned.
var ErrStopped = errors.New("bot: the desk has stopped")

// Run handles events until ctx is done and returns ctx.Err(). It must
// be called once; afterwards every method that changes state returns
// ErrStopped.
func (d *Desk) Run(ctx context.Context) error {
	defer close(d.stopped)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-d.events:
			d.handle(ctx, ev)
		}
	}
}

func (d *Desk) handle(ctx context.Context, ev event) {
	switch ev := ev.(type) {
	case ingestEvent:
		out, err := d.ingest(ctx, ev.mailbox, ev.uidValidity, ev.batch, ev.pre)
		if err != nil && ctx.Err() == nil {
			out, err = d.ingestOneByOne(ctx, ev.mailbox, ev.uidValidity, ev.batch, ev.pre, err)
		}
		ev.reply <- ingestReply{out, err}
	case deliveryEvent:
		ev.reply <- d.recordDelivery(ctx, ev.item, ev.rcpt, ev.err)
	case deliveriesEvent:
		ev.reply <- d.recordDeliveries(ctx, ev.batch)
	case actionEvent:
		ev.reply <- d.runAction(ctx, ev)
	case phoneEvent:
		r, err := d.logCall(ctx, ev.call)
		ev.reply <- phoneReply{r, err}
	case portalEvent:
		ev.reply <- d.runPortal(ctx, ev)
	case jeopardyEvent:
		d.handleJeopardy(ctx, ev)
	case outageEvent:
		ev.reply <- d.store.Update(ctx, ev.fn)
	case runEvent: // release.go
		ev.reply <- ev.fn(ctx)
	case capacityEvent:
		ev.reply <- d.runCapacity(ctx, ev)
	case reloadEvent:
		ev.reply <- d.applyReload(ev.cfg)
	}
}

// send hands ev to the Run goroutine.
func (d *Desk) send(ctx context.Context, ev event) error {
	select {
	case d.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-d.stopped:
		return ErrStopped
	}
}

// await waits for the Run goroutine's reply to an event it accepted. The
// reply channels are buffered, so Run never blocks on an abandoned one.
func await[T any](ctx context.Context, d *Desk, reply chan T) (T, error) {
	select {
	case v := <-reply:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Ingest records a batch of fetched messages of one mailbox under one
// UIDVALIDITY and returns one Outcome per recorded message, in batch
// order. The batch is recorded in one transaction; if that fails, each
// message is recorded in its own, and one that still cannot be becomes a
// dead letter (ToFailed). Messages already recorded (same DedupeKey) are
// answered ResultDuplicate and change nothing. The mailbox's cursor
// advances to the highest recorded UID and never moves backwards.
//
// Outcomes may be fewer than the batch: when the store refuses even a
// dead letter after some messages were recorded, the outcomes so far are
// returned with a nil error, and the messages without one were not
// recorded (intake leaves them to be offered again). An error means the
// caller cannot tell what was recorded: the message-by-message fallback
// may have committed some messages before ctx ended, and if ctx ends
// while the desk is handling the batch, its transaction still commits
// or not on its own. Offering the same messages again is always safe,
// because recording is idempotent by DedupeKey.
func (d *Desk) Ingest(ctx context.Context, mailbox string, uidValidity uint32, batch []Fetched) ([]Outcome, error) {
	reply := make(chan ingestReply, 1)
	if err := d.send(ctx, ingestEvent{mailbox, uidValidity, batch, readMails(batch, d.cfg.Limits.maxMessageText()), reply}); err != nil {
		return nil, err
	}
	// If ctx ends first, the event is still handled: its transaction
	// either commits or not, and a later catch-up resolves it by dedupe.
	r, err := await(ctx, d, reply)
	if err != nil {
		return nil, err
	}
	return r.outcomes, r.err
}

// Cursor returns the committed intake position of a mailbox.
func (d *Desk) Cursor(ctx context.Context, mailbox string) (Cursor, error) {
	var c Cursor
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		c, err = tx.Cursor(mailbox)
		return err
	})
	return c, err
}

// RFA returns the RFA numbered num without its message texts (every
// message's Text is "", see Message.TextOmitted), or an error wrapping
// ErrNotFound. Use RFAWithTexts or MessageText to show a conversation.
func (d *Desk) RFA(ctx context.Context, num uint64) (*RFA, error) {
	var r *RFA
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		r, err = tx.RFA(num)
		return err
	})
	return r, err
}

// RFAWithTexts returns the RFA numbered num with every message's text,
// or an error wrapping ErrNotFound. It reads every text, however large:
// call it only for a caller entitled to the whole conversation.
func (d *Desk) RFAWithTexts(ctx context.Context, num uint64) (*RFA, error) {
	var r *RFA
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		r, err = tx.RFAWithTexts(num)
		return err
	})
	return r, err
}

// MessageText returns the text of message index i of RFA num ("" if
// it is empty or there is no such message), reading that text only.
func (d *Desk) MessageText(ctx context.Context, num uint64, i int) (string, error) {
	var text string
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		text, err = tx.MessageText(num, i)
		return err
	})
	return text, err
}

// RFASummary returns the summary of RFA num, or an error wrapping
// ErrNotFound. It reads one small record whatever the RFA holds, so it
// is what a secret check (the status token) looks at first.
func (d *Desk) RFASummary(ctx context.Context, num uint64) (*RFASummary, error) {
	var s *RFASummary
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		s, err = tx.RFASummary(num)
		return err
	})
	return s, err
}

// DeadLetters returns every message that could not become an RFA, oldest
// first, raw bytes included where they were kept.
func (d *Desk) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	var dls []DeadLetter
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		dls, err = tx.DeadLetters()
		return err
	})
	return dls, err
}

// DeadLetter returns dead letter id, raw bytes included, or an error
// wrapping ErrNotFound.
func (d *Desk) DeadLetter(ctx context.Context, id uint64) (*DeadLetter, error) {
	var dl *DeadLetter
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		dl, err = tx.DeadLetter(id)
		return err
	})
	return dl, err
}

// Outbox returns every pending outgoing item in ID order, decoding them
// all (attachments by reference): for listings, not for delivery, which
// reads the due index.
func (d *Desk) Outbox(ctx context.Context) ([]OutboxItem, error) {
	var items []OutboxItem
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		items, err = tx.Outbox()
		return err
	})
	return items, err
}

// RecordDelivery records the result of one delivery attempt of item:
// delivered (err nil), retry later (temporary: after the backoff, or
// after exactly the DeliveryError.RetryAfter of a rate limit), or given
// up (permanent).
// An authentication failure changes nothing: the item stays pending.
func (d *Desk) RecordDelivery(ctx context.Context, item OutboxItem, rcpt DeliveryResult, err error) error {
	reply := make(chan error, 1)
	if e := d.send(ctx, deliveryEvent{item, rcpt, err, reply}); e != nil {
		return e
	}
	e, werr := await(ctx, d, reply)
	if werr != nil {
		return werr
	}
	return e
}

func (d *Desk) recordDelivery(ctx context.Context, item OutboxItem, rcpt DeliveryResult, sendErr error) error {
	now := d.now()
	return d.store.Update(ctx, func(tx Tx) error {
		var de *DeliveryError
		failure := DeliveryTemporary
		if sendErr != nil && errors.As(sendErr, &de) {
			failure = de.Failure
		}
		if sendErr != nil && item.Kind == OutboxChat {
			// What the far side created before failing (a card whose
			// thread could not be opened) is remembered, so a retry
			// opens the thread rather than posting a second card.
			if err := d.recordChatReceipt(tx, item, rcpt); err != nil {
				return err
			}
		}
		switch {
		case sendErr == nil:
			return d.applyDelivered(tx, item, rcpt, now)
		case failure == DeliveryPermanent:
			if err := tx.DeleteOutbox(item.ID); err != nil {
				return err
			}
			if item.Kind == OutboxMail && d.cfg.Chat && item.RFA != 0 {
				if err := d.enqueueChat(tx, item.RFA, &ChatPost{Op: ChatThread, Text: "⚠️ " + describeItem(item) + " failed for good: " + sendErr.Error()}); err != nil {
					return err
				}
			}
			return d.noteOnRFA(tx, item, EventMailFailed, describeItem(item)+" refused for good: "+sendErr.Error())
		case failure == DeliveryAuth:
			return nil
		default:
			scheduleRetry(&item, sendErr, now, d.rand)
			return tx.UpdateOutbox(&item)
		}
	})
}

func describeItem(item OutboxItem) string {
	if item.Mail != nil {
		return item.Mail.Purpose + " to " + joinAddrs(item.Mail.To)
	}
	if item.Chat != nil {
		return "chat post to " + string(item.Chat.Op)
	}
	return string(item.Kind)
}

// recordChatReceipt remembers where a delivered chat post put the RFA.
func (d *Desk) recordChatReceipt(tx Tx, item OutboxItem, rcpt DeliveryResult) error {
	if rcpt.ChatPostID == "" && rcpt.ChatThreadID == "" {
		return nil
	}
	return updateItemRFA(tx, item, func(r *RFA) error {
		if rcpt.ChatPostID != "" {
			r.Chat.PostID = rcpt.ChatPostID
		}
		if rcpt.ChatThreadID != "" {
			r.Chat.ThreadID = rcpt.ChatThreadID
			return tx.PutChatThread(rcpt.ChatThreadID, r.Num)
		}
		return nil
	})
}

// noteOnRFA appends an event to the item's RFA, if it has one.
func (d *Desk) noteOnRFA(tx Tx, item OutboxItem, kind EventKind, text string) error {
	return updateItemRFA(tx, item, func(r *RFA) error {
		r.addEvent(d.now(), kind, "rfadesk", text)
		return nil
	})
}

// updateItemRFA applies fn to the RFA an outbox item belongs to and
// stores it. Desk-wide items, and items whose RFA is gone, are skipped.
func updateItemRFA(tx Tx, item OutboxItem, fn func(r *RFA) error) error {
	if item.RFA == 0 {
		return nil
	}
	r, err := tx.RFA(item.RFA)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := fn(r); err != nil {
		return err
	}
	return tx.PutRFA(r)
}

// RetryDelay is the wait before delivery attempt n+1 after n failures:
// 30s doubling to a cap of 30 minutes, with up to 20% random jitter
// drawn from rnd.
func RetryDelay(attempts int, rnd io.Reader) time.Duration {
	delay := 30 * time.Second
	for i := 1; i < attempts && delay < 30*time.Minute; i++ {
		delay *= 2
	}
	delay = min(delay, 30*time.Minute)
	var b [1]byte
	if _, err := io.ReadFull(rnd, b[:]); err == nil {
		delay += delay * time.Duration(b[0]) / 255 / 5
	}
	return delay
}

func itoa(n int) string { return strconv.Itoa(n) }

func joinAddrs(as []Address) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += a.Email
	}
	return s
}
