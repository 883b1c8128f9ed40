package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"rfadesk/bot"
)

// headerRoute is one request of the header walk: pattern is the mux
// pattern it exercises (as registered), so that the walk can check it
// covers every route the handler registers.
type headerRoute struct {
	pattern, method, target string
	hdr                     map[string]string
	// token: the response may show an RFA or a secret; it must not be
	// cached (Cache-Control: no-store).
	token bool
}

// TestSecurityHeadersOnEveryRoute pins the security headers of issue #12
// on every route the handler serves, with and without tokens, GETs and
// POSTs, found or not: a script-free Content-Security-Policy with
// frame-ancestors 'none', nosniff, Referrer-Policy no-referrer
// (same-origin on the /new portal pages, whose POSTs need the Origin),
// and Cache-Control: no-store on every page that shows an RFA or a
// secret. It also fails when a route is registered (any mux.HandleFunc
// in this package) that the walk does not request, so routes other
// issues add must be added here.
func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	rig := newPortalRig(t, 0)
	orgs := newOrgFixture(t, 1)
	orgPath, _ := orgs.link(t, `{"organisation": "Oak Primary"}`)
	h := newTestHandler(t, func(o *Options) {
		o.Submit, o.ConfirmSubmission = rig.desk.Submit, rig.desk.ConfirmSubmission
		o.OrgLinks = orgs.links
		o.LogCall = func(context.Context, bot.PhoneCall) (*bot.RFA, error) { return nil, errors.New("not in this test") }
		o.Do = func(context.Context, uint64, bot.StaffAction, bot.Actor) error { return errors.New("not in this test") }
		withSettings(o, func(s *Settings) { s.Calendar = func(year int) CalendarJSON { return CalendarJSON{Year: year} } })
		o.Backup = func() (BackupSnapshot, error) { return nil, errors.New("no backup in this test") }
		o.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("rfadesk_up 1\n")) })
		o.DeadLetters = func(context.Context) ([]bot.DeadLetter, error) {
			return []bot.DeadLetter{{ID: 1, Reason: "<b>x</b>"}}, nil
		}
		o.DeadLetter = func(context.Context, uint64) (*bot.DeadLetter, error) { return &bot.DeadLetter{ID: 1}, nil }
		o.Sent = func() []SentMail { return nil }
		o.Outages, o.Releases, o.Capacity = rig.desk, rig.desk, rig.desk
		o.Reports = deskReports{rig.desk}
	})
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	wrong := map[string]string{"Authorization": "Bearer not-the-token"}
	tok := fullRFA().Token
	routes := []headerRoute{
		{pattern: "GET /{$}", method: "GET", target: "/"},
		{pattern: "GET /healthz", method: "GET", target: "/healthz"},
		{pattern: "GET /healthz", method: "GET", target: "/healthz", hdr: admin},
		{pattern: "GET /healthz/leader", method: "GET", target: "/healthz/leader"},
		{pattern: "GET /status", method: "GET", target: "/status"},
		{pattern: "GET /static/style.css", method: "GET", target: "/static/style.css"},
		{pattern: "GET /rfa/{ref}", method: "GET", target: "/rfa/RFA-1?t=" + tok, token: true},
		{pattern: "GET /rfa/{ref}", method: "GET", target: "/rfa/RFA-1", token: true},
		{pattern: "GET /rfa/{ref}", method: "GET", target: "/rfa/RFA-1?t=wrong", token: true},
		{pattern: "GET /rfa/{ref}", method: "GET", target: "/rfa/RFA-999?t=" + tok, token: true},
		{pattern: "POST /rfa/{ref}", method: "POST", target: "/rfa/RFA-1?t=" + tok, token: true},
		{pattern: "POST /rfa/{ref}", method: "POST", target: "/rfa/RFA-1?t=" + tok, token: true, hdr: map[string]string{"Origin": "https://evil.example"}},
		{pattern: "POST /rfa/{ref}/escalate", method: "POST", target: "/rfa/RFA-1/escalate", token: true},
		{pattern: "GET /org/{slug}", method: "GET", target: orgPath, token: true},
		{pattern: "GET /org/{slug}", method: "GET", target: "/org/no-such-page", token: true},
		{pattern: "GET /new", method: "GET", target: "/new", token: true},
		{pattern: "POST /new", method: "POST", target: "/new", token: true},
		{pattern: "GET /new/done", method: "GET", target: "/new/done?ref=RFA-1&t=" + tok, token: true},
		{pattern: "GET /new/done", method: "GET", target: "/new/done?ref=RFA-1&t=wrong", token: true},
		{pattern: "GET /new/sent", method: "GET", target: "/new/sent", token: true},
		{pattern: "GET /new/confirm", method: "GET", target: "/new/confirm?t=some-confirm-token", token: true},
		{pattern: "GET /new/confirm", method: "GET", target: "/new/confirm", token: true},
		{pattern: "POST /new/confirm", method: "POST", target: "/new/confirm", token: true},
		{pattern: "/api/", method: "GET", target: "/api/nothing-here", token: true},
		{pattern: "GET /api/rfas", method: "GET", target: "/api/rfas", hdr: admin, token: true},
		{pattern: "GET /api/rfas", method: "GET", target: "/api/rfas", token: true},
		{pattern: "GET /api/rfas", method: "GET", target: "/api/rfas", hdr: wrong, token: true},
		{pattern: "GET /api/rfas/{ref}", method: "GET", target: "/api/rfas/RFA-1", hdr: admin, token: true},
		{pattern: "GET /api/rfas/{ref}", method: "GET", target: "/api/rfas/RFA-1", token: true},
		{pattern: "POST /api/rfas", method: "POST", target: "/api/rfas", hdr: admin, token: true},
		{pattern: "POST /api/rfas/{ref}/actions", method: "POST", target: "/api/rfas/RFA-1/actions", hdr: admin, token: true},
		{pattern: "POST /api/rfas/{ref}/actions", method: "POST", target: "/api/rfas/RFA-1/actions", token: true},
		{pattern: "GET /api/calendar", method: "GET", target: "/api/calendar", hdr: admin, token: true},
		{pattern: "GET /api/backup", method: "GET", target: "/api/backup", hdr: admin, token: true},
		{pattern: "GET /api/backup", method: "GET", target: "/api/backup", token: true},
		{pattern: "GET /metrics", method: "GET", target: "/metrics", hdr: admin}, // gauges, no RFA
		{pattern: "GET /metrics", method: "GET", target: "/metrics"},
		{pattern: "POST /api/org-links", method: "POST", target: "/api/org-links", hdr: admin, token: true},
		{pattern: "GET /api/org-links", method: "GET", target: "/api/org-links", hdr: admin, token: true},
		{pattern: "DELETE /api/org-links/{id}", method: "DELETE", target: "/api/org-links/999999", hdr: admin, token: true},
		{pattern: "GET /api/dead-letters", method: "GET", target: "/api/dead-letters", hdr: admin, token: true},
		{pattern: "GET /api/dead-letters/{id}/raw", method: "GET", target: "/api/dead-letters/1/raw", hdr: admin, token: true},
		{pattern: "POST /api/outages", method: "POST", target: "/api/outages", hdr: admin, token: true},
		{pattern: "POST /api/outages/{id}/update", method: "POST", target: "/api/outages/1/update", hdr: admin, token: true},
		{pattern: "POST /api/outages/{id}/end", method: "POST", target: "/api/outages/1/end", token: true},
		{pattern: "GET /api/releases", method: "GET", target: "/api/releases", hdr: admin, token: true},
		{pattern: "POST /api/releases", method: "POST", target: "/api/releases", hdr: admin, token: true},
		{pattern: "POST /api/releases/{name}/ship", method: "POST", target: "/api/releases/2026.12/ship", token: true},
		{pattern: "POST /api/capacity", method: "POST", target: "/api/capacity", hdr: admin, token: true},
		{pattern: "GET /api/capacity", method: "GET", target: "/api/capacity", hdr: admin, token: true},
		{pattern: "POST /api/capacity/surge", method: "POST", target: "/api/capacity/surge", token: true},
		{pattern: "GET /api/availability", method: "GET", target: "/api/availability?month=2026-11", hdr: admin, token: true},
		{pattern: "GET /api/reports", method: "GET", target: "/api/reports?month=2026-11&format=json", hdr: admin, token: true},
		{pattern: "GET /admin/reports", method: "GET", target: "/admin/reports?month=2026-11", hdr: admin, token: true},
		{pattern: "GET /admin/reports", method: "GET", target: "/admin/reports?month=2026-11", token: true},
		{pattern: "GET /api/export", method: "GET", target: "/api/export?format=json", hdr: admin, token: true},
		{pattern: "POST /api/purge", method: "POST", target: "/api/purge?dry_run=true", token: true},
		{pattern: "GET /demo/mail", method: "GET", target: "/demo/mail", token: true},
		{pattern: "", method: "GET", target: "/no/such/page"},
		{pattern: "", method: "PUT", target: "/status"},
	}

	for _, rt := range routes {
		req := httptest.NewRequest(rt.method, rt.target, nil)
		req.RemoteAddr = "192.0.2.9:1234"
		for k, v := range rt.hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		name := rt.method + " " + rt.target
		if rt.hdr != nil {
			name += " (with " + strings.Join(headerNames(rt.hdr), ", ") + ")"
		}
		checkSecurityHeaders(t, name, rec, rt)
	}

	// Every registered route is walked.
	walked := map[string]bool{}
	for _, rt := range routes {
		walked[rt.pattern] = true
	}
	for _, p := range registeredPatterns(t) {
		if !walked[p] {
			t.Errorf("route %q is registered but not in the header walk: add it to TestSecurityHeadersOnEveryRoute", p)
		}
	}
}

func headerNames(hdr map[string]string) []string {
	var out []string
	for k := range hdr {
		out = append(out, k)
	}
	return out
}

// checkSecurityHeaders asserts the headers every response must carry.
func checkSecurityHeaders(t *testing.T, name string, rec *httptest.ResponseRecorder, rt headerRoute) {
	t.Helper()
	hd := rec.Result().Header
	cspValue := hd.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(cspValue, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			directives[f[0]] = strings.Join(f[1:], " ")
		}
	}
	if directives["default-src"] != "'none'" || directives["frame-ancestors"] != "'none'" {
		t.Errorf("%s (%d): CSP %q lacks default-src 'none' or frame-ancestors 'none'", name, rec.Code, cspValue)
	}
	for _, d := range []string{"script-src", "script-src-elem", "script-src-attr", "worker-src", "connect-src"} {
		if _, ok := directives[d]; ok {
			t.Errorf("%s (%d): CSP %q allows %s: the pages are script-free", name, rec.Code, cspValue, d)
		}
	}
	if got := hd.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s (%d): X-Content-Type-Options %q, want nosniff", name, rec.Code, got)
	}
	wantReferrer := "no-referrer"
	if rt.pattern == "GET /new" || strings.HasPrefix(rt.pattern, "GET /new/") || strings.HasPrefix(rt.pattern, "POST /new") {
		wantReferrer = "same-origin" // the portal's POSTs need the Origin
	}
	if got := hd.Values("Referrer-Policy"); len(got) != 1 || got[0] != wantReferrer {
		t.Errorf("%s (%d): Referrer-Policy %q, want exactly %q", name, rec.Code, got, wantReferrer)
	}
	if rt.token && !strings.Contains(hd.Get("Cache-Control"), "no-store") {
		t.Errorf("%s (%d): Cache-Control %q on a token page, want no-store", name, rec.Code, hd.Get("Cache-Control"))
	}
	if ct := hd.Get("Content-Type"); strings.HasPrefix(ct, "text/html") && !strings.Contains(ct, "charset=utf-8") {
		t.Errorf("%s (%d): HTML without a charset: %q", name, rec.Code, ct)
	}
}

// routePattern matches a route registration in this package's source.
var routePattern = regexp.MustCompile(`mux\.Handle(?:Func)?\("([^"]+)"`)

// registeredPatterns returns every pattern the package's source registers.
func registeredPatterns(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d route registrations: has the routing moved?", len(out))
	}
	return out
}
