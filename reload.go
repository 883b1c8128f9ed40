package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"sync/atomic"
	"time"

	"rfadesk/bot"
	"rfadesk/chat"
	"rfadesk/config"
	"rfadesk/web"
)

// liveSettings are the daemon's reloadable settings as each component
// takes them. A reload (SIGHUP) that validates hands the desk the new
// configuration (bot.Desk.Reload) and then swaps in the settings built
// from it in one store; the components read them through liveSettings'
// methods whenever they need them (the web side per request, the chat
// console per card or command, the dependency watcher per sample, the
// shutdown once), so none holds a copy from the start. A file that
// does not validate changes nothing, here or in the desk.
//
// What a reload cannot change (listeners, the store, credentials and
// servers, the parse limits, ...: restartSettings) keeps its value from
// the start; a reload that changes it says so in the log.
type liveSettings struct {
	started *config.Config // the start's configuration: what restart-only settings stay at
	desk    *bot.Desk
	cur     atomic.Pointer[reloadable]
}

// reloadable is one configuration's reloadable settings.
type reloadable struct {
	web             web.Settings
	chat            chat.Settings
	orgLinks        *bot.OrgLinks
	dependencyGrace time.Duration
	shutdownGrace   time.Duration
}

// newLiveSettings returns the settings of cfg, the configuration desk
// was made with.
func newLiveSettings(cfg *config.Config, desk *bot.Desk) *liveSettings {
	l := &liveSettings{started: cfg, desk: desk}
	l.cur.Store(l.settingsOf(cfg))
	return l
}

// settingsOf builds cfg's reloadable settings around the desk's SLA
// policy and organisation links, so it must run once the desk has cfg:
// before desk.Run, or after desk.Reload(cfg.Desk) returned (which orders
// the desk's writes before these reads).
func (l *liveSettings) settingsOf(cfg *config.Config) *reloadable {
	sla := l.desk.SLA()
	loc := sla.Calendar.Location()
	ws := web.Settings{
		DeskName: cfg.Desk.Name, Contact: cfg.Desk.Contact, ResponseTarget: cfg.Desk.ResponseTarget,
		Opening: sla.Calendar, Location: loc,
		Clocks:    func(r *bot.RFA) []bot.ClockState { return sla.Clocks(r, time.Now()) },
		ConfirmBy: sla.ConfirmBy, ReopenBy: sla.ReopenBy,
	}
	if cfg.Calendar.Calendar != nil {
		ws.Calendar = cfg.Calendar.Year
		ws.Hours = cfg.Calendar.HoursText()
	}
	return &reloadable{
		web:             ws,
		chat:            chat.Settings{Clocks: sla, Location: loc},
		orgLinks:        l.desk.OrgLinks(),
		dependencyGrace: cfg.DependencyGrace,
		shutdownGrace:   cfg.ShutdownGrace,
	}
}

func (l *liveSettings) web() web.Settings              { return l.cur.Load().web }
func (l *liveSettings) chat() chat.Settings            { return l.cur.Load().chat }
func (l *liveSettings) dependencyGrace() time.Duration { return l.cur.Load().dependencyGrace }
func (l *liveSettings) shutdownGrace() time.Duration   { return l.cur.Load().shutdownGrace }

// orgLinks serves web's organisation pages from the current settings'
// organisation links (the organisations they may name, the clocks their
// pages show).
func (l *liveSettings) orgLinks() web.OrgLinks { return liveOrgLinks{l} }

type liveOrgLinks struct{ l *liveSettings }

var _ web.OrgLinks = liveOrgLinks{}

func (o liveOrgLinks) OrgPage(ctx context.Context, slug, token string, after uint64) (bot.OrgPage, error) {
	return o.l.cur.Load().orgLinks.OrgPage(ctx, slug, token, after)
}

func (o liveOrgLinks) Create(ctx context.Context, kind bot.OrgKind, name string) (bot.OrgLink, string, error) {
	return o.l.cur.Load().orgLinks.Create(ctx, kind, name)
}

func (o liveOrgLinks) List(ctx context.Context) ([]bot.OrgLink, error) {
	return o.l.cur.Load().orgLinks.List(ctx)
}

func (o liveOrgLinks) Revoke(ctx context.Context, id uint64) (bot.OrgLink, error) {
	return o.l.cur.Load().orgLinks.Revoke(ctx, id)
}

// reload applies cfg, a configuration that validated: the desk takes
// cfg.Desk, then the components' settings are swapped. It logs every
// restart-only setting that cfg changes (they keep their values from the
// start). If the desk does not take cfg, nothing changes and the error
// is returned.
func (l *liveSettings) reload(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if err := l.desk.Reload(ctx, cfg.Desk); err != nil {
		return err
	}
	l.cur.Store(l.settingsOf(cfg))
	for _, key := range needsRestart(l.started, cfg) {
		log.Warn("reload: this setting changed but needs a restart; the running value stays until then", "setting", key)
	}
	return nil
}

// restartSetting is part of the configuration a reload cannot change.
type restartSetting struct {
	key  string                   // as the operator writes it
	part func(*config.Config) any // compared with reflect.DeepEqual
}

// restartSettings are the parts of the configuration only a restart
// applies: what the daemon listens on and connects to (with the
// credentials), the store, the intake's parse limits and the sections
// read once at start. Everything else is reloadable.
func restartSettings() []restartSetting {
	return []restartSetting{
		{"desk.store", func(c *config.Config) any { return c.Store.Path }},
		{"desk.address", func(c *config.Config) any { return c.Desk.Address.Email }},
		{"desk.base_url", func(c *config.Config) any { return c.Desk.BaseURL }},
		{"desk.components", func(c *config.Config) any { return c.Components }},
		{"desk.max_attachment_bytes", func(c *config.Config) any { return c.Parse.MaxAttachmentSize }},
		{"desk.max_message_text", func(c *config.Config) any { return c.Desk.Limits }},
		{"[imap]", func(c *config.Config) any { return []any{c.IMAP, c.Parse.AuthServID} }},
		{"[smtp]", func(c *config.Config) any { return c.SMTP }},
		{"[discord]", func(c *config.Config) any { return c.Discord }},
		{"[web]", func(c *config.Config) any { return c.Web }},
		{"[metrics]", func(c *config.Config) any { return c.Metrics }},
		{"[log]", func(c *config.Config) any { return c.Log }},
		{"outages.inbound_subjects", func(c *config.Config) any { return c.Desk.Outages }},
		{"[releases]", func(c *config.Config) any { return c.Desk.Releases }},
		{"[capacity]", func(c *config.Config) any { return []any{c.Capacity, c.Desk.Capacity} }},
		{"[retention]", func(c *config.Config) any { return c.Retention }},
	}
}

// needsRestart returns the keys of restartSettings whose value differs
// between running and next, in the table's order. It never returns the
// values (they hold credentials).
func needsRestart(running, next *config.Config) []string {
	var keys []string
	for _, s := range restartSettings() {
		if !reflect.DeepEqual(s.part(running), s.part(next)) {
			keys = append(keys, s.key)
		}
	}
	return keys
}

// reloadOnSignal loads the configuration at path again on every value of
// reload and applies it (liveSettings.reload); a file that does not load
// is logged, problem by problem, and changes nothing. It returns
// ctx.Err() when ctx is done.
func reloadOnSignal(ctx context.Context, reload <-chan struct{}, path string, live *liveSettings, log *slog.Logger) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-reload:
		}
		if path == "" {
			log.Warn("reload: no configuration file to read; ignored")
			continue
		}
		cfg, err := config.Load(path, os.Getenv)
		if err != nil {
			var joined interface{ Unwrap() []error }
			problems := []error{err}
			if errors.As(err, &joined) {
				problems = joined.Unwrap()
			}
			for _, p := range problems {
				log.Error("reload refused: the configuration has a problem; still running on the old one", "file", path, "problem", p.Error())
			}
			continue
		}
		for _, w := range cfg.Warnings {
			log.Warn(w)
		}
		if err := live.reload(ctx, cfg, log); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Error("reload: the desk did not take the new configuration; nothing changed", "err", err)
			continue
		}
		log.Info("reload: configuration applied", "file", path)
	}
}
