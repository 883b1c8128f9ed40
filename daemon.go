package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"rfadesk/bot"
	"rfadesk/chat"
	"rfadesk/config"
	"rfadesk/mailbox"
	"rfadesk/store"
	"rfadesk/web"
)

// daemonOptions carry what differs between the real daemon, the demo and
// tests. The zero value is the real daemon.
type daemonOptions struct {
	Logger *slog.Logger
	// Listener, when set, is used for the web server instead of
	// listening on config.Web.Listen.
	Listener net.Listener
	// MetricsListener, when set, serves /metrics without a token as
	// config.Metrics.Listen would (tests).
	MetricsListener net.Listener
	// Sent enables the demo's outgoing-mail page.
	Sent func() []web.SentMail
	// TLSConfig overrides TLS settings for IMAP and SMTP (tests).
	TLSConfig *tls.Config
	// StoreNoSync skips fsync (tests only).
	StoreNoSync bool
	// Ready is called once every loop has started, with the web address.
	Ready func(webAddr string)
	// Reload, when set, asks for the configuration to be loaded again
	// from ConfigPath (SIGHUP): on success the desk gets the new
	// organisations, staff, SLA policy and templates (bot.Desk.Reload)
	// and the web side, the chat console and the dependency watcher
	// their new settings (liveSettings, reload.go); on failure every
	// problem is logged and the old configuration stays.
	Reload     <-chan struct{}
	ConfigPath string

	// Crash-test seams (tests only): wrapParse wraps the MIME parser, so
	// a test can stop the process after a fetch; afterCommit runs after
	// every desk commit that queued outgoing items.
	wrapParse   func(parse func([]byte) (*bot.Mail, error)) func([]byte) (*bot.Mail, error)
	afterCommit func()
}

// warnUntrustedAuthentication logs one warning at start-up when no
// authserv-id is configured: no Authentication-Results header is then
// trusted, so a reply joins an RFA on its From header alone.
func warnUntrustedAuthentication(cfg *config.Config, log *slog.Logger) {
	if cfg.Parse.AuthServID != "" {
		return
	}
	log.Warn("imap.authserv_id is empty: replies are trusted on the From header alone (a forged From can join an RFA); set it to your mail server's authserv-id")
}

// runDaemon wires the daemon and runs it until ctx is done. The web
// server and the desk goroutine run for the whole life of the process;
// intake, the deliverers, the schedulers and the Discord gateway run only
// while this instance leads (always on bbolt; during an election term on
// etcd: see leadership.go). Shutdown is in three phases: first intake,
// the web server, the chat console's gateway and the deliverers stop
// taking work (a mail or post being sent is finished and recorded); then,
// if this instance leads, the mail and chat deliverers send what is due
// until nothing is or the one desk.shutdown_grace has passed
// (flushOutboxes) and the leadership is handed over; then the desk
// goroutine stops and the store closes. What is not sent stays in the
// outbox for the next start.
func runDaemon(ctx context.Context, cfg *config.Config, o daemonOptions) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	warnUntrustedAuthentication(cfg, log)
	b, err := openBackend(ctx, cfg, o, log) // store_backend.go
	if err != nil {
		return err
	}
	defer b.close()
	st := b.st
	// The receipt log is a local file (beside a bbolt database, under its
	// file lock) and closes first (defers run last in, first out).
	receipts, err := store.OpenReceipts(b.receiptsPath)
	if err != nil {
		return err
	}
	defer receipts.Close()
	lead := &leadership{elector: b.elector, fence: b.fence, begin: b.begin, lease: b.lease, log: log.With("component", "ha")}

	h := newHealth()
	m := newMetrics(st, h.states, log.With("component", "metrics"))
	var deliverer, chatDeliverer *bot.Deliverer
	desk := bot.NewDesk(st, cfg.Desk, &bot.DeskOptions{
		Logger: log.With("component", "desk"),
		OnOutbox: func() {
			if o.afterCommit != nil {
				o.afterCommit()
			}
			deliverer.Kick()
			if chatDeliverer != nil {
				chatDeliverer.Kick()
			}
		},
	})
	smtpConfig := cfg.SMTP
	smtpConfig.TLSConfig = o.TLSConfig
	sender, err := mailbox.NewSender(smtpConfig, mailbox.SenderOptions{From: cfg.Desk.Address, LoopValue: cfg.Desk.LoopValue, Logger: log.With("component", "smtp")})
	if err != nil {
		return err
	}
	defer sender.Close()
	deliverer = bot.NewDeliverer(desk, bot.MailTransport(sender), &bot.DelivererOptions{
		Logger:   log.With("component", "outbox"),
		Health:   h.reporter("smtp", ""),
		Receipts: receipts,
		// On etcd the log is this machine's only: apply each receipt
		// at once, so a failover sends at most one mail twice.
		ReceiptBatch: b.receiptBatch,
		Observe:      m.observeDelivery,
	})
	live := newLiveSettings(cfg, desk) // reload.go
	var console *chat.Console
	if cfg.Discord.Enabled {
		console, err = chat.New(cfg.Discord.Config, desk, &chat.Options{Logger: log.With("component", "discord"), Settings: live.chat, MaxAttachment: cfg.Parse.MaxAttachmentSize})
		if err != nil {
			return err
		}
		chatDeliverer = bot.NewDeliverer(desk, console.Transport(), &bot.DelivererOptions{
			Logger:   log.With("component", "chat-outbox"),
			Health:   h.reporter("discord", ""),
			AuthHint: "check discord.token",
			Observe:  m.observeDelivery,
		})
	}
	parseOpts := cfg.Parse
	parse := func(raw []byte) (*bot.Mail, error) { return mailbox.Parse(raw, parseOpts) }
	if o.wrapParse != nil {
		parse = o.wrapParse(parse)
	}
	imapConfig := cfg.IMAP
	imapConfig.TLSConfig = o.TLSConfig
	intake, err := mailbox.NewIntake(imapConfig, desk, mailbox.IntakeOptions{
		Parse:     parse,
		DedupeKey: mailbox.DedupeKey,
		Logger:    log.With("component", "imap"),
		Health:    h.reporter("imap", "imap: connecting to "+cfg.IMAP.Address),
		Observe:   m.observeIntake,
	})
	if err != nil {
		return err
	}
	metricsLn, webMetrics, err := metricsListener(cfg, o, m, log)
	if err != nil {
		return err
	}
	if metricsLn != nil {
		defer metricsLn.Close() // closed by web.Serve unless start-up fails first
	}
	handler := web.NewHandler(web.Options{
		Desk: desk, Health: h.check, Role: lead.role, AdminToken: cfg.Web.AdminToken, Tokens: cfg.Web.Tokens,
		LogCall: desk.LogCall, Do: desk.Do, StatusURL: desk.StatusURL,
		SupportEmail: cfg.Desk.Address.Email, Settings: live.web, // name, hours, contact, calendar, clocks
		Sent: o.Sent, Logger: log.With("component", "web"),
		// The status page's buttons (no FormKey: random per run, so pages
		// opened before a restart must be reloaded before they post).
		AddMessage: desk.AddMessage, AnswerQuestion: desk.AnswerQuestion,
		ConfirmFixed: desk.ConfirmFixed, ReportStillBroken: desk.ReportStillBroken,
		MaxFileBytes: cfg.Parse.MaxAttachmentSize, PublicURL: cfg.Desk.BaseURL,
		Escalate:    desk.Escalate,
		DeadLetters: desk.DeadLetters,
		DeadLetter:  desk.DeadLetter,
		Backup:      func() (web.BackupSnapshot, error) { return st.Snapshot(receipts) },
		Metrics:     webMetrics,
		OrgLinks:    live.orgLinks(),
		Outages:     desk, Notices: web.OutageNotices(desk), // service notices
		Releases: desk, // api_releases.go
		Capacity: desk,
		Downtime: desk.Downtime,
		Reports:  deskReports{desk, cfg.Retention}, // report_cmd.go
		// The self-service form (/new).
		Submit: desk.Submit, ConfirmSubmission: desk.ConfirmSubmission,
		Components: cfg.Components, MaxAttachmentBytes: cfg.Parse.MaxAttachmentSize,
		BaseURL: cfg.Desk.BaseURL,
	})
	ln := o.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Web.Listen)
		if err != nil {
			return fmt.Errorf("web.listen: cannot listen on %s: %w", cfg.Web.Listen, err)
		}
	}

	// The desk outlives the loops that send it events.
	deskCtx, stopDesk := context.WithCancel(context.WithoutCancel(ctx))
	deskDone := make(chan error, 1)
	go func() { deskDone <- desk.Run(deskCtx) }()
	defer func() { stopDesk(); <-deskDone }()

	// The loops only the leader runs; on bbolt this instance always leads.
	leading := func(ctx context.Context) error {
		lg, lctx := errgroup.WithContext(ctx)
		lg.Go(func() error { return intake.Run(lctx) })
		lg.Go(func() error { return deliverer.Run(lctx) })
		lg.Go(func() error { return desk.RunJeopardy(lctx) })
		lg.Go(func() error { return desk.RunReleaseChecks(lctx) }) // release_check.go
		quota := func(ctx context.Context) (int64, int64, bool, error) { return mailbox.IMAPQuota(ctx, imapConfig) }
		lg.Go(newCapacitySampler(desk, st, cfg, h.settled, quota, log.With("component", "capacity")).runner(lctx))
		lg.Go(func() error { return desk.RunMonthlyReports(lctx) }) // bot/report_mail.go
		lg.Go(newDependencyWatcher(desk, h.dependencies, live.dependencyGrace, log.With("component", "dependencies")).runner(lctx))
		if console != nil {
			lg.Go(func() error { return console.Run(lctx) })
			lg.Go(func() error { return chatDeliverer.Run(lctx) })
			chatDeliverer.Kick()
		}
		if lead.elector != nil { // availability counts leaderless time
			lg.Go(func() error { return heartbeat(lctx, desk, lead.lease, log.With("component", "ha")) })
		}
		deliverer.Kick()
		return lg.Wait()
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return lead.run(gctx, leading) })
	if o.Reload != nil {
		g.Go(func() error { return reloadOnSignal(gctx, o.Reload, o.ConfigPath, live, log) })
	}
	g.Go(func() error {
		if err := web.Serve(gctx, ln, handler, log.With("component", "web")); err != nil {
			return err
		}
		return gctx.Err()
	})
	if metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.handler())
		g.Go(func() error {
			if err := web.Serve(gctx, metricsLn, mux, log.With("component", "metrics")); err != nil {
				return err
			}
			return gctx.Err()
		})
	}
	log.Info("rfadesk running", "desk", cfg.Desk.Address.Email, "web", ln.Addr().String(), "store", st.Name())
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		if lead.isLeading() { // a standby sends nothing
			flushOutboxes(ctx, live.shutdownGrace(), log, deliverer, chatDeliverer)
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if lead.elector != nil && lead.isLeading() {
			if err := desk.RecordLeading(rctx, false, lead.lease); err != nil {
				log.Warn("last leader heartbeat not recorded", "err", err)
			}
		}
		lead.resign(rctx)
		cancel()
		log.Info("rfadesk stopped")
		return nil
	}
	return err
}

// flushOutboxes gives the deliverers (mail, and chat when it is on: nil
// is skipped) up to grace, together, to send what is due once
// everything else has stopped taking work; the desk is still running,
// and the chat transport posts over REST without the console's gateway.
// What is left stays in the outbox for the next start.
func flushOutboxes(ctx context.Context, grace time.Duration, log *slog.Logger, deliverers ...*bot.Deliverer) {
	if grace <= 0 {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	var g errgroup.Group
	for _, d := range deliverers {
		if d != nil {
			g.Go(func() error { return d.Flush(fctx) })
		}
	}
	if err := g.Wait(); err != nil {
		log.Warn("shutdown: items still due after the grace; they are sent at the next start", "grace", grace, "err", err)
		return
	}
	log.Info("shutdown: outbox flushed")
}

// metricsListener decides where /metrics is served: on its own
// listener without a token when metrics.listen is set (or o gives one),
// else on the web listener behind an API token (webMetrics). With
// neither, metrics are off and a line says how to turn them on.
func metricsListener(cfg *config.Config, o daemonOptions, m *metrics, log *slog.Logger) (ln net.Listener, webMetrics http.Handler, err error) {
	switch {
	case o.MetricsListener != nil:
		return o.MetricsListener, nil, nil
	case cfg.Metrics.Listen != "":
		ln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			return nil, nil, fmt.Errorf("metrics.listen: cannot listen on %s: %w", cfg.Metrics.Listen, err)
		}
		return ln, nil, nil
	case cfg.Web.AdminToken == "" && len(cfg.Web.Tokens) == 0:
		log.Info("metrics off: set web.admin_token or a [[web.token]] to read /metrics with it, or metrics.listen to serve it without a token")
	}
	return nil, m.handler(), nil
}

// newLogger returns a text logger at level writing to w.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return newConfigLogger(w, config.Log{Level: level, Format: "text"})
}

// newConfigLogger returns the logger [log] asks for, writing to w: JSON
// objects or key=value text, one line per event, at c.Level and above.
func newConfigLogger(w io.Writer, c config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
