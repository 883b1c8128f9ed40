// Package mailbox is rfadesk's email edge: it reads the support mailbox
// over IMAP (Intake), turns raw email into the domain's bot.Mail, and sends
// mail over SMTP.
package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"rfadesk/bot"
)

// IMAPConfig says where the support mailbox is and how intake watches it.
// The zero values of the optional fields mean the documented defaults.
type IMAPConfig struct {
	// Address is host:port of the IMAP server (setting imap.address).
	Address string
	// Security is SecurityTLS (implicit TLS, usually port 993),
	// SecurityStartTLS or SecurityNone; "none" is refused unless Address
	// is on loopback.
	Security string
	// Username and Password log in (imap.username, imap.password). The
	// password is never logged.
	Username, Password string
	// Mailbox is the folder read; default "INBOX".
	Mailbox string
	// Processed and Failed are where handled and dead-lettered messages
	// are moved; defaults "Processed" and "Failed". They are created at
	// connect if missing.
	Processed string
	Failed    string
	// PollInterval is how often the mailbox is swept when the server has
	// no IDLE, and the safety sweep while idling; default 60s.
	PollInterval time.Duration
	// IdleRestart bounds how long one IDLE command runs; default 10m
	// (servers may drop a client idle for 30 minutes).
	IdleRestart time.Duration
	// TLSConfig is used for "tls" and "starttls"; nil means the system
	// roots, with ServerName taken from Address.
	TLSConfig *tls.Config
}

// Ingester is what intake needs from the desk (implemented by bot.Desk).
// Both methods may be called from the intake goroutine only, one at a
// time.
type Ingester interface {
	// Cursor returns how far intake has committed in mailbox.
	Cursor(ctx context.Context, mailbox string) (bot.Cursor, error)
	// Ingest records a batch in one transaction and returns one Outcome
	// per message (matched by UID). The batch is in ascending UID order
	// under uidValidity. It may hold messages at or below the cursor's
	// LastUID (left in the mailbox by a crash between commit and move):
	// those are answered by DedupeKey like any redelivery. On success the
	// cursor becomes {uidValidity, max(LastUID, last UID of the batch)}
	// when uidValidity equals the stored one, else {uidValidity, last UID}.
	// On error nothing is recorded; intake offers the same messages again.
	Ingest(ctx context.Context, mailbox string, uidValidity uint32, batch []bot.Fetched) ([]bot.Outcome, error)
}

// IntakeOptions are the collaborators of an Intake.
type IntakeOptions struct {
	// Parse turns a raw message into Mail (required). Intake sets
	// Mail.Received from the IMAP INTERNALDATE afterwards. A panic in
	// Parse is turned into a parse error.
	Parse func(raw []byte) (*bot.Mail, error)
	// DedupeKey identifies a raw message (required); used when Parse
	// fails or leaves Mail.DedupeKey empty.
	DedupeKey func(raw []byte) string
	// BatchSize is the number of messages per Ingest call; default 100.
	BatchSize int
	// BatchBytes bounds the raw bytes of one batch, so a run of large
	// mails cannot exhaust memory; default 64 MiB. A message larger than
	// it is a batch on its own.
	BatchBytes int64
	// Logger receives progress and errors; nil discards them.
	Logger *slog.Logger
	// Health, if set, is called from the intake goroutine whenever the
	// connection becomes healthy (mailbox selected) or unhealthy, with a
	// one-line reason naming the setting to check. It must not block.
	Health func(healthy bool, reason string)
	// Observe, if set, is called from the intake goroutine after the
	// desk committed a batch: fetched is how many messages the batch
	// held, outcomes what the desk did with each (bot.Outcome.Result).
	// It must not block (it feeds metrics).
	Observe func(fetched int, outcomes []bot.Outcome)
}

// Intake watches one IMAP mailbox and hands every message in it to the
// desk exactly once, moving it away only after the desk has committed.
// Run must be called at most once at a time; Kick is safe from any
// goroutine.
type Intake struct {
	cfg  IMAPConfig
	in   Ingester
	opts IntakeOptions
	log  *slog.Logger
	wake chan struct{} // capacity 1: a pending catch-up request

	// Knobs below are fixed by NewIntake; tests in this package shorten them.
	backoffMin, backoffMax time.Duration
	cmdTimeout             time.Duration // watchdog for one command's answer
	noIdle                 bool          // behave as if the server lacked IDLE
	moveMode               moveMode      // 0: pick from the server's capabilities

	healthMu   sync.Mutex
	healthSet  bool
	lastHealth bool
	lastReason string
}

// NewIntake returns an Intake for cfg as package config validated it,
// with the defaults of cfg's zero fields applied; it reports no
// user-facing problems. It refuses only what it cannot work with or
// config would never produce: an Address without host and port, an
// unknown Security or "none" off loopback (see NewSender), Processed or
// Failed equal to Mailbox, or a missing collaborator.
func NewIntake(cfg IMAPConfig, in Ingester, opts IntakeOptions) (*Intake, error) {
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.Processed == "" {
		cfg.Processed = "Processed"
	}
	if cfg.Failed == "" {
		cfg.Failed = "Failed"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 60 * time.Second
	}
	if cfg.IdleRestart <= 0 {
		cfg.IdleRestart = 10 * time.Minute
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 64 << 20
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	var errs []error
	host, _, err := net.SplitHostPort(cfg.Address)
	if err != nil {
		errs = append(errs, fmt.Errorf("imap address %q: want host:port", cfg.Address))
	} else if err := checkSecurity(cfg.Security, host); err != nil {
		errs = append(errs, fmt.Errorf("imap %w", err))
	}
	if cfg.Processed == cfg.Mailbox || cfg.Failed == cfg.Mailbox {
		errs = append(errs, fmt.Errorf("imap: the processed and failed folders must differ from the mailbox %q", cfg.Mailbox))
	}
	if in == nil {
		errs = append(errs, errors.New("intake: no Ingester"))
	}
	if opts.Parse == nil || opts.DedupeKey == nil {
		errs = append(errs, errors.New("intake: Parse and DedupeKey are required"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("mailbox: %w", errors.Join(errs...))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Intake{
		cfg:        cfg,
		in:         in,
		opts:       opts,
		log:        log.With("mailbox", cfg.Mailbox),
		wake:       make(chan struct{}, 1),
		backoffMin: time.Second,
		backoffMax: 2 * time.Minute,
		cmdTimeout: 90 * time.Second,
	}, nil
}

// Kick asks for an immediate catch-up. It never blocks; kicks that arrive
// while one is pending are merged.
func (i *Intake) Kick() {
	select {
	case i.wake <- struct{}{}:
	default:
	}
}

// Run watches the mailbox until ctx is done. It reconnects after any error
// (server, network or Ingest) with exponential backoff and jitter, from 1s
// doubling to 2 min, reset once a session has completed a catch-up; it
// never returns for such errors. It returns ctx.Err() on shutdown.
func (i *Intake) Run(ctx context.Context) error {
	failures := 0
	for {
		progressed, err := i.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if progressed {
			failures = 0
		}
		i.health(false, healthReason(i.cfg, err))
		wait := i.backoff(failures)
		failures++
		i.log.Warn("imap intake: session ended, reconnecting", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff returns the delay before reconnect attempt n (0-based): min
// doubled n times, capped at max, with the upper half jittered.
func (i *Intake) backoff(n int) time.Duration {
	d := i.backoffMin
	for k := 0; k < n && d < i.backoffMax; k++ {
		d *= 2
	}
	d = min(d, i.backoffMax)
	return d/2 + rand.N(d/2+1)
}

// health reports a state change to opts.Health; repeats are dropped.
func (i *Intake) health(ok bool, reason string) {
	i.healthMu.Lock()
	changed := !i.healthSet || ok != i.lastHealth || reason != i.lastReason
	i.healthSet, i.lastHealth, i.lastReason = true, ok, reason
	i.healthMu.Unlock()
	if changed && i.opts.Health != nil {
		i.opts.Health(ok, reason)
	}
}
