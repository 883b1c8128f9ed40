package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/store"
	"rfadesk/web"
)

// cmdReport writes a month's service report (bot.MonthReport) to
// stdout: from the running daemon's GET /api/reports when one answers,
// otherwise from the store file itself.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report -config FILE -month YYYY-MM [-format csv|html|json]", stderr)
	path := fs.String("config", "", "configuration `file` of the desk")
	month := fs.String("month", "", "the `month` to report on, e.g. 2026-11")
	format := fs.String("format", bot.ReportHTML, "csv, html or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || *month == "" || fs.NArg() != 0 {
		fs.Usage()
		return usageError{"report: want -config FILE and -month YYYY-MM"}
	}
	m, err := bot.ParseMonth(*month)
	if err != nil {
		return usageError{"report: -month: " + err.Error()}
	}
	if *format != bot.ReportCSV && *format != bot.ReportHTML && *format != bot.ReportJSON {
		return usageError{fmt.Sprintf("report: -format %q: use csv, html or json", *format)}
	}
	cfg, err := loadForCommand("report", *path)
	if err != nil {
		return err
	}
	q := url.Values{"month": {m.String()}, "format": {*format}}
	return viaDaemonOrStore(ctx, cfg, "report", http.MethodGet, "/api/reports?"+q.Encode(), stdout,
		func(d *bot.Desk) error {
			rep, err := d.MonthReport(ctx, m)
			if err != nil {
				return err
			}
			return bot.WriteReport(stdout, rep, *format)
		})
}

// loadForCommand loads the configuration for command name.
func loadForCommand(name, path string) (*config.Config, error) {
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s: fix the configuration first", err, name)
	}
	return cfg, nil
}

// viaDaemonOrStore runs one of the report, export and purge commands:
// it asks the running daemon (method pathQuery at web.listen, with
// web.admin_token) and copies its answer to out; when no daemon answers
// it opens the store itself (which no daemon may hold) and runs offline
// on a desk over it.
func viaDaemonOrStore(ctx context.Context, cfg *config.Config, name, method, pathQuery string, out io.Writer, offline func(*bot.Desk) error) error {
	var daemonErr error
	if cfg.Web.AdminToken == "" {
		daemonErr = fmt.Errorf("%w: the admin API is off (web.admin_token is empty)", errNoDaemon)
	} else {
		base := strings.TrimSuffix(backupURL(cfg.Web.Listen), "/api/backup")
		daemonErr = askDaemon(ctx, name, method, base+pathQuery, cfg.Web.AdminToken, out)
		if !errors.Is(daemonErr, errNoDaemon) {
			return daemonErr
		}
	}
	if cfg.Store.Backend == config.BackendEtcd {
		return fmt.Errorf("%s: %v\n%s: on etcd the command goes through a running instance (any of them answers it): start one, or check web.listen and web.admin_token", name, daemonErr, name)
	}
	db, err := store.Open(cfg.Store.Path, &store.Options{Timeout: backupLockWait})
	if err != nil {
		return fmt.Errorf("%s: %v; and opening the store failed: %w\n%s: if a daemon runs, check web.listen and web.admin_token", name, daemonErr, err, name)
	}
	defer db.Close()
	desk := bot.NewDesk(db, cfg.Desk, &bot.DeskOptions{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { desk.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	return offline(desk)
}

// askDaemon sends one admin API request and streams a 200 answer's body
// to out. It wraps errNoDaemon when nothing answered (or a daemon too old
// to have the route); any other answer is the daemon's word.
func askDaemon(ctx context.Context, name, method, target, token string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: backupDialTimeout}).DialContext,
		ResponseHeaderTimeout: 5 * time.Minute,
		Proxy:                 nil, // the daemon is local: never through a proxy
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", errNoDaemon, req.URL.Host, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		if _, err := io.Copy(out, resp.Body); err != nil {
			return fmt.Errorf("%s: the daemon's answer ended early: %w", name, err)
		}
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s: the daemon refused web.admin_token (401)", name)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: the daemon at %s has no %s (404): an older rfadesk? Restart it on this version", errNoDaemon, req.URL.Host, req.URL.Path)
	}
	var e struct {
		Error string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
	return fmt.Errorf("%s: the daemon answered %s: %s", name, resp.Status, e.Error)
}

// deskReports is web.Reports over the daemon's desk: Purge applies the
// configured [retention] period.
type deskReports struct {
	*bot.Desk
	retention config.Retention
}

var _ web.Reports = deskReports{}

// Purge purges (or lists) the RFAs closed longer ago than
// retention.after_closure; bot.ErrNotAllowed when it is "off".
func (d deskReports) Purge(ctx context.Context, dryRun bool) ([]bot.PurgeItem, error) {
	before, ok := d.retention.ClosedBefore(time.Now())
	if !ok {
		return nil, fmt.Errorf("retention.after_closure is off: nothing is purged: %w", bot.ErrNotAllowed)
	}
	return d.Desk.Purge(ctx, before, dryRun)
}
