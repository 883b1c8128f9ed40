package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/store"
)

// orgLinkAPITimeout bounds one request to the daemon's admin API.
const orgLinkAPITimeout = 10 * time.Second

// errNoDaemon wraps why no daemon answered at web.listen: then, and
// only then, "rfadesk org-link" opens the store itself.
var errNoDaemon = errors.New("no daemon answered")

// cmdOrgLink creates (NAME), lists (-list) or revokes (-revoke ID) the
// private links of organisation pages. It asks the running daemon's
// admin API at web.listen with web.admin_token; when no daemon answers
// there, it opens the store itself (which a daemon would hold).
func cmdOrgLink(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("org-link", "org-link -config FILE [-trust] NAME | -list | -revoke ID", stderr)
	path := fs.String("config", "", "configuration `file` of the desk")
	trust := fs.Bool("trust", false, "NAME is a trust: the link shows every school in it")
	list := fs.Bool("list", false, "list every link (without tokens)")
	revoke := fs.Uint64("revoke", 0, "revoke the link with this `id` (from -list)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	name := strings.Join(fs.Args(), " ")
	modes := 0
	for _, on := range []bool{*list, *revoke != 0, name != ""} {
		if on {
			modes++
		}
	}
	if *path == "" || modes != 1 || *trust && name == "" {
		fs.Usage()
		return usageError{"org-link: want -config FILE and one of NAME, -list or -revoke ID"}
	}
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		return fmt.Errorf("%w\norg-link: fix the configuration first", err)
	}
	kind := bot.OrgKindOrganisation
	if *trust {
		kind = bot.OrgKindTrust
	}
	do := func(o orgLinker) error {
		switch {
		case *list:
			ls, err := o.List(ctx)
			if err != nil {
				return err
			}
			printOrgLinks(stdout, ls)
		case *revoke != 0:
			l, err := o.Revoke(ctx, *revoke)
			if errors.Is(err, bot.ErrNotFound) {
				return fmt.Errorf("org-link: there is no link %d: see org-link -list", *revoke)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked link %d (%s %s): it opens nothing now\n", l.ID, l.Kind, l.Name)
		default:
			l, url, err := o.Create(ctx, kind, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "link %d for %s %s (give it to them only; revoke with -revoke %d):\n%s\n", l.ID, l.Kind, l.Name, l.ID, url)
		}
		return nil
	}
	var daemonErr error
	if cfg.Web.AdminToken == "" {
		daemonErr = fmt.Errorf("%w: the admin API is off (web.admin_token is empty)", errNoDaemon)
	} else {
		daemonErr = do(&orgLinkClient{base: strings.TrimSuffix(backupURL(cfg.Web.Listen), "/api/backup"), token: cfg.Web.AdminToken})
		if !errors.Is(daemonErr, errNoDaemon) {
			return daemonErr
		}
	}
	if cfg.Store.Backend == config.BackendEtcd {
		return fmt.Errorf("org-link: %v\norg-link: on etcd the command goes through the instance that leads: start one, or check web.listen and web.admin_token", daemonErr)
	}
	db, err := store.Open(cfg.Store.Path, &store.Options{Timeout: backupLockWait})
	if err != nil {
		return fmt.Errorf("org-link: %v; and opening the store failed: %w\norg-link: if a daemon runs, check web.listen and web.admin_token", daemonErr, err)
	}
	defer db.Close()
	return do(&bot.OrgLinks{Store: db, Orgs: cfg.Desk.Organisations, BaseURL: cfg.Desk.BaseURL})
}

// orgLinker is what cmdOrgLink does, over the daemon or the store.
type orgLinker interface {
	Create(ctx context.Context, kind bot.OrgKind, name string) (bot.OrgLink, string, error)
	List(ctx context.Context) ([]bot.OrgLink, error)
	Revoke(ctx context.Context, id uint64) (bot.OrgLink, error)
}

// printOrgLinks writes one line per link.
func printOrgLinks(w io.Writer, ls []bot.OrgLink) {
	if len(ls) == 0 {
		fmt.Fprintln(w, "no links yet: create one with rfadesk org-link -config FILE NAME")
		return
	}
	for _, l := range ls {
		state := "active"
		if !l.Revoked.IsZero() {
			state = "revoked " + l.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t/org/%s\tcreated %s\t%s\n", l.ID, l.Kind, l.Name, l.Slug(), l.Created.Format(time.RFC3339), state)
	}
}

// orgLinkClient asks a running daemon's /api/org-links.
type orgLinkClient struct {
	base, token string
}

// call sends a request with a JSON body (nil: none) and decodes a 2xx
// answer into out. It wraps errNoDaemon when nothing answered; any
// answer is the daemon's word, as an error naming its status.
func (c *orgLinkClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, orgLinkAPITimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{Timeout: backupDialTimeout}).DialContext,
		Proxy:       nil, // the daemon is local: never through a proxy
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", errNoDaemon, c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("org-link: reading the daemon's answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return errors.New("org-link: the daemon refused web.admin_token (401)")
	case resp.StatusCode == http.StatusNotFound && method == http.MethodDelete:
		return bot.ErrNotFound
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("org-link: the daemon at %s has no /api/org-links (404): an older rfadesk? Restart it on this version", c.base)
	case resp.StatusCode/100 != 2:
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(data, &e)
		return fmt.Errorf("org-link: the daemon answered %s: %s", resp.Status, e.Error)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("org-link: the daemon's answer: %w", err)
	}
	return nil
}

// orgLinkAnswer is one link as /api/org-links gives it.
type orgLinkAnswer struct {
	bot.OrgLink
	URL string `json:"url"`
}

func (c *orgLinkClient) Create(ctx context.Context, kind bot.OrgKind, name string) (bot.OrgLink, string, error) {
	var a orgLinkAnswer
	err := c.call(ctx, http.MethodPost, "/api/org-links", map[string]string{string(kind): name}, &a)
	return a.OrgLink, a.URL, err
}

func (c *orgLinkClient) List(ctx context.Context) ([]bot.OrgLink, error) {
	var a struct {
		Links []bot.OrgLink `json:"links"`
	}
	err := c.call(ctx, http.MethodGet, "/api/org-links", nil, &a)
	return a.Links, err
}

func (c *orgLinkClient) Revoke(ctx context.Context, id uint64) (bot.OrgLink, error) {
	var a bot.OrgLink
	err := c.call(ctx, http.MethodDelete, "/api/org-links/"+strconv.FormatUint(id, 10), nil, &a)
	return a, err
}
