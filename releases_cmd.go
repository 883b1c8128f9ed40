package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"rfadesk/bot"
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
	cfg, err := loadForCommand("releases", *path)
	if err != nil {
		return err
	}
	var answer bytes.Buffer
	offline := false
	err = viaDaemonOrStore(ctx, cfg, "releases", http.MethodGet, "/api/releases", &answer, func(d *bot.Desk) error {
		offline = true
		rels, err := d.Releases(ctx)
		if err != nil {
			return fmt.Errorf("releases: %w", err)
		}
		var list []web.ReleaseInfoJSON
		for _, r := range rels {
			list = append(list, web.ReleaseInfoJSON{Name: r.Name, Kind: string(r.Kind), Date: r.Date.String()})
		}
		printReleases(stdout, list)
		return nil
	})
	if err != nil || offline {
		return err
	}
	var list web.ReleaseListJSON
	if err := json.Unmarshal(answer.Bytes(), &list); err != nil {
		return fmt.Errorf("releases: the daemon's answer: %w", err)
	}
	printReleases(stdout, list.Releases)
	return nil
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
