// Package chat makes Discord the desk's staff console: every new RFA is
// posted to a channel with a thread, staff reply in the thread (the reply
// goes to the requester by email through the desk), and slash commands
// work the SLA. Posts are outbox items delivered by [Console.Transport];
// staff actions go to the desk as ordinary method calls.
package chat

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"rfadesk/netaddr"
)

// DefaultAPIBase is Discord's own REST base.
const DefaultAPIBase = "https://discord.com/api/v9"

// discordgoBase is the base discordgo builds every REST URL on (its
// Endpoint* strings are fixed at package init).
const discordgoBase = "https://discord.com/api/v9"

// Config is the [discord] section, as package config validates it (ids
// are Discord snowflakes, APIBase an http(s) URL, http on loopback only).
// New refuses only a Config it cannot work with: a required field empty
// or an APIBase it cannot use.
type Config struct {
	// Token is the bot token (with or without the "Bot " prefix).
	Token string
	// GuildID is the server; ChannelID is where new RFAs are posted.
	GuildID, ChannelID string
	// StaffRoleID is the role allowed to act; OnDutyRoleID is who the
	// jeopardy mentions ping (the desk puts it in ChatPost.Mention).
	StaffRoleID, OnDutyRoleID string
	// OpsChannelID receives alarms and dead letters; "" means ChannelID.
	OpsChannelID string
	// APIBase replaces DefaultAPIBase for every REST call and the gateway
	// lookup (a REST proxy, or a fake in tests). Plain http is allowed
	// for loopback hosts only.
	APIBase string
}

// isSnowflake reports whether s looks like a Discord id: 1 to 20 digits.
func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// parseBase reads an API base: https anywhere, http on loopback only
// (config reports a bad discord.api_base to people; this refuses one
// that reached chat anyway).
func parseBase(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("%q: want an absolute URL such as %s", s, DefaultAPIBase)
	case u.Scheme == "https":
	case u.Scheme == "http" && netaddr.IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("%q: plain http is only allowed for a loopback host; use https", s)
	default:
		return nil, fmt.Errorf("%q: want an http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q: no query or fragment allowed", s)
	}
	return u, nil
}

// rewriter sends discordgo's requests to the configured base and lets
// attachment downloads through to Discord's CDN (or the base's host).
type rewriter struct {
	base *url.URL // nil: Discord itself
	next http.RoundTripper
}

// newHTTPClient returns the client used for every REST call and
// download; base "" means Discord itself.
func newHTTPClient(base string, timeout time.Duration) (*http.Client, error) {
	rw := &rewriter{next: http.DefaultTransport}
	if base != "" && strings.TrimRight(base, "/") != DefaultAPIBase {
		u, err := parseBase(base)
		if err != nil {
			return nil, err
		}
		rw.base = u
	}
	return &http.Client{Transport: rw, Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("chat: too many redirects")
		}
		return checkTarget(req.URL, rw.base)
	}}, nil
}

// RoundTrip implements http.RoundTripper.
func (rw *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if rw.base != nil {
		if rest, ok := strings.CutPrefix(req.URL.String(), discordgoBase); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
			u, err := url.Parse(rw.base.String() + rest)
			if err != nil {
				return nil, fmt.Errorf("chat: rewriting %s: %w", req.URL.Redacted(), err)
			}
			req = req.Clone(req.Context())
			req.URL = u
			req.Host = u.Host
		}
	}
	if err := checkTarget(req.URL, rw.base); err != nil {
		return nil, err
	}
	return rw.next.RoundTrip(req)
}

// checkTarget allows Discord's own hosts and the configured base's host,
// and plain http only to loopback.
func checkTarget(u *url.URL, base *url.URL) error {
	host := u.Hostname()
	if u.Scheme == "http" && !netaddr.IsLoopback(host) {
		return fmt.Errorf("chat: refusing plain http to %s", host)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("chat: refusing %s URL", u.Scheme)
	}
	switch {
	case host == "discord.com", host == "cdn.discordapp.com", host == "media.discordapp.net":
		return nil
	case base != nil && host == base.Hostname():
		return nil
	}
	return fmt.Errorf("chat: refusing request to %s: not Discord nor discord.api_base", host)
}
