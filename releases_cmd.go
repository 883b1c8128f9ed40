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
	"os"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/store"
	"rfadesk/web"
)

// cmdReleases lists the coming releases ([releases] and the ones staff
// added or moved): from the running daemon's GET /api/releases when one
// answers at web.listen with web.admin_token, otherwise from the store
// file (which no daemon may hold meanwhile).
func cmdReleases(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("releases", "releases -config FILE", stderr)
	path := fs.String("config", "", "configuration `file` of the desk")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 0 {
		fs.Usage()
		return usageError{"releases: want -config FILE and nothing else"}
	}
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		return fmt.Errorf("%w\nreleases: fix the configuration first", err)
	}
	var daemonErr error
	if cfg.Web.AdminToken == "" {
		daemonErr = fmt.Errorf("%w: the admin API is off (web.admin_token is empty)", errNoDaemon)
	} else {
		base := strings.TrimSuffix(backupURL(cfg.Web.Listen), "/api/backup")
		list, err := releasesFromDaemon(ctx, base, cfg.Web.AdminToken)
		if err == nil {
			printReleases(stdout, list)
			return nil
		}
		if !errors.Is(err, errNoDaemon) {
			return err
		}
		daemonErr = err
	}
	db, err := store.Open(cfg.StorePath, &store.Options{Timeout: backupLockWait})
	if err != nil {
		return fmt.Errorf("releases: %v; and opening the store failed: %w\nreleases: if a daemon runs, check web.listen and web.admin_token", daemonErr, err)
	}
	defer db.Close()
	// A desk that is not run: Releases only reads the store.
	desk := bot.NewDesk(db, cfg.Desk, &bot.DeskOptions{Logger: slog.New(slog.DiscardHandler)})
	rels, err := desk.Releases(ctx)
	if err != nil {
		return fmt.Errorf("releases: %w", err)
	}
	var list []web.ReleaseInfoJSON
	for _, r := range rels {
		list = append(list, web.ReleaseInfoJSON{Name: r.Name, Kind: string(r.Kind), Date: r.Date.String()})
	}
	printReleases(stdout, list)
	return nil
}

// releasesFromDaemon asks base's GET /api/releases. It wraps errNoDaemon
// when nothing answered.
func releasesFromDaemon(ctx context.Context, base, token string) ([]web.ReleaseInfoJSON, error) {
	ctx, cancel := context.WithTimeout(ctx, orgLinkAPITimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/releases", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{Timeout: backupDialTimeout}).DialContext,
		Proxy:       nil, // the daemon is local: never through a proxy
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", errNoDaemon, base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case err != nil:
		return nil, fmt.Errorf("releases: reading the daemon's answer: %w", err)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, errors.New("releases: the daemon refused web.admin_token (401)")
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("releases: the daemon at %s has no /api/releases (404): an older rfadesk? Restart it on this version", base)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("releases: the daemon answered %s", resp.Status)
	}
	var list web.ReleaseListJSON
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("releases: the daemon's answer: %w", err)
	}
	return list.Releases, nil
}

// printReleases writes one line per release: date, weekday, kind, name.
func printReleases(w io.Writer, list []web.ReleaseInfoJSON) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no coming releases")
		return
	}
	for _, r := range list {
		day := r.Date
		if t, err := time.Parse(time.DateOnly, r.Date); err == nil {
			day += " " + t.Format("Mon")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", day, r.Kind, r.Name)
	}
}
