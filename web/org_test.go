package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

const orgAdmin = "admin-secret-token-0123456789"

// orgFixture is a handler with organisation pages over a real store.
type orgFixture struct {
	h     http.Handler
	links *bot.OrgLinks
}

var orgTestOrgs = []bot.Organisation{
	{Name: "Hill <School>", Trust: "North & Trust", Domains: []string{"hill.sch.uk"}},
	{Name: "Vale Academy", Trust: "North & Trust", Domains: []string{"vale.sch.uk"}},
	{Name: "Oak Primary", Domains: []string{"oak.sch.uk"}},
}

// newOrgFixture stores n RFAs per organisation, numbered round-robin
// (1: Hill, 2: Vale, 3: Oak, 4: Hill, ...), each with a subject naming
// its school.
func newOrgFixture(t *testing.T, n int) *orgFixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "rfadesk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(context.Background(), func(tx bot.Tx) error {
		num := uint64(0)
		for i := range n {
			for _, o := range orgTestOrgs {
				num++
				r := &bot.RFA{
					Num: num, Token: fmt.Sprintf("rfa-token-%d", num), Status: bot.StatusOpen, Severity: bot.SeveritySerious,
					Subject: fmt.Sprintf("<script>alert(%d)</script> %s request %d", num, o.Name, i), Organisation: o.Name, Trust: o.Trust,
					Requester: bot.Address{Name: "Ann <i>Admin</i>", Email: "ann@" + o.Domains[0]},
					Created:   fixedNow.Add(time.Duration(num) * time.Minute),
				}
				if err := tx.PutRFA(r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	due := fixedNow.Add(3 * time.Hour)
	links := &bot.OrgLinks{Store: db, Orgs: orgTestOrgs, BaseURL: "https://desk.example",
		Now: func() time.Time { return fixedNow },
		Clocks: func(r *bot.RFA) []bot.ClockState {
			met := fixedNow
			return []bot.ClockState{{Name: bot.ClockResponse, Due: fixedNow, MetAt: &met}, {Name: bot.ClockWorkaround, Due: due}}
		}}
	h := NewHandler(Options{Desk: storeDesk(t), AdminToken: orgAdmin, OrgLinks: links,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fixedNow },
		Settings: func() Settings { return Settings{Location: time.UTC} }})
	return &orgFixture{h: h, links: links}
}

// get requests target from client addr; accept "" asks for HTML.
func (f *orgFixture) get(t *testing.T, target, addr, accept string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.RemoteAddr = addr
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// link creates a link through the admin API and returns its path and query.
func (f *orgFixture) link(t *testing.T, body string) (path string, id uint64) {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/org-links", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+orgAdmin)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /api/org-links %s: %d %s", body, rec.Code, rec.Body)
	}
	var got struct {
		ID  uint64 `json:"id"`
		URL string `json:"url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got.URL)
	if err != nil || u.Host != "desk.example" || len(u.Query().Get("t")) < 22 {
		t.Fatalf("link URL %q: want https://desk.example/org/...?t=<128-bit token>", got.URL)
	}
	return u.RequestURI(), got.ID
}

func TestOrgPageShowsOnlyItsOwnRFAs(t *testing.T) {
	f := newOrgFixture(t, 3)
	hill, _ := f.link(t, `{"organisation": "hill <school>"}`)
	if !strings.HasPrefix(hill, "/org/hill-school?t=") {
		t.Fatalf("Hill's link %q: want slug hill-school", hill)
	}
	rec := f.get(t, hill, "192.0.2.1:1000", "")
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("Hill's page: %d %s", rec.Code, body)
	}
	if strings.Contains(body, "Vale Academy") || strings.Contains(body, "Oak Primary") {
		t.Errorf("Hill's page shows another school's RFA:\n%s", body)
	}
	for _, num := range []int{7, 4, 1} {
		if !strings.Contains(body, fmt.Sprintf(`href="/rfa/RFA-%d?t=rfa-token-%d"`, num, num)) {
			t.Errorf("Hill's page lacks a link to RFA-%d with its own token", num)
		}
	}
	if i7, i1 := strings.Index(body, "RFA-7"), strings.Index(body, "RFA-1?"); i7 < 0 || i1 < 0 || i7 > i1 {
		t.Error("Hill's page is not newest first")
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", rec.Header().Get("Cache-Control"))
	}

	trust, _ := f.link(t, `{"trust": "North & Trust"}`)
	var page orgJSON
	rec = f.get(t, trust, "192.0.2.1:1000", "application/json")
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != 200 {
		t.Fatalf("trust JSON: %d %s", rec.Code, rec.Body)
	}
	var refs []string
	for _, r := range page.RFAs {
		if r.Organisation == "Oak Primary" {
			t.Errorf("the trust's page shows %s of Oak Primary, outside the trust", r.Ref)
		}
		if strings.Contains(r.StatusURL, trust[strings.Index(trust, "t=")+2:]) {
			t.Errorf("%s's link carries the organisation token", r.Ref)
		}
		if r.NextDue != fixedNow.Add(3*time.Hour).Format(time.RFC3339) {
			t.Errorf("%s next_due = %q, want the unmet clock's due", r.Ref, r.NextDue)
		}
		refs = append(refs, r.Ref)
	}
	if got, want := strings.Join(refs, " "), "RFA-8 RFA-7 RFA-5 RFA-4 RFA-2 RFA-1"; got != want {
		t.Errorf("trust page = %s, want %s", got, want)
	}
	if page.Kind != bot.OrgKindTrust || page.Name != "North & Trust" {
		t.Errorf("trust page names %q %q", page.Kind, page.Name)
	}
}

func TestOrgPageEscapesEveryUserString(t *testing.T) {
	f := newOrgFixture(t, 1)
	path, _ := f.link(t, `{"trust": "North & Trust"}`)
	body := f.get(t, path, "192.0.2.1:1000", "").Body.String()
	for _, raw := range []string{"<script>", "<School>", "<i>Admin</i>", "North & Trust"} {
		if strings.Contains(body, raw) {
			t.Errorf("page holds %q unescaped", raw)
		}
	}
	for _, esc := range []string{"&lt;script&gt;", "Hill &lt;School&gt;", "Ann &lt;i&gt;Admin&lt;/i&gt;", "North &amp; Trust"} {
		if !strings.Contains(body, esc) {
			t.Errorf("page lacks %q", esc)
		}
	}
}

func TestOrgPagePagesNewestFirst(t *testing.T) {
	f := newOrgFixture(t, bot.OrgPageSize+5) // Oak holds RFA-3, 6, ... 90
	path, _ := f.link(t, `{"organisation": "Oak Primary"}`)
	var seen []string
	next := path
	for range 5 {
		rec := f.get(t, next, "192.0.2.1:1000", "application/json")
		var page orgJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.RFAs {
			seen = append(seen, r.Ref)
		}
		if page.NextAfter == 0 {
			break
		}
		next = fmt.Sprintf("%s&after=%d", path, page.NextAfter)
	}
	if len(seen) != bot.OrgPageSize+5 || seen[0] != "RFA-90" || seen[len(seen)-1] != "RFA-3" {
		t.Errorf("paged through %d RFAs, %v … %v", len(seen), seen[:1], seen[len(seen)-1:])
	}
	html := f.get(t, path, "192.0.2.1:1000", "").Body.String()
	if !strings.Contains(html, `href="/org/oak-primary?after=18&amp;t=`) || !strings.Contains(html, "Older requests") {
		t.Errorf("first HTML page has no link to the older ones")
	}
	if rec := f.get(t, path+"&after=x", "192.0.2.1:1000", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("after=x: %d", rec.Code)
	}
}

func TestOrgPageNotFoundIsAlwaysTheSame(t *testing.T) {
	f := newOrgFixture(t, 1)
	good, id := f.link(t, `{"organisation": "Vale Academy"}`)
	revoked, rid := f.link(t, `{"organisation": "Vale Academy"}`)
	req := httptest.NewRequest("DELETE", fmt.Sprintf("/api/org-links/%d", rid), nil)
	req.Header.Set("Authorization", "Bearer "+orgAdmin)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != 200 || id == rid {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	token := good[strings.Index(good, "t=")+2:]
	for _, accept := range []string{"", "application/json"} {
		var first string
		for i, target := range []string{
			"/org/vale-academy?t=AAAAAAAAAAAAAAAAAAAAAA", // wrong token
			revoked,                       // revoked
			"/org/hill-school?t=" + token, // another slug
			"/org/no-such-school?t=" + token,
			"/org/vale-academy",
		} {
			rec := f.get(t, target, fmt.Sprintf("192.0.2.%d:1", 10+i), accept)
			got := fmt.Sprint(rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s (%q): %d", target, accept, rec.Code)
			}
			if i == 0 {
				first = got
			} else if got != first {
				t.Errorf("%s (%q) answers differently from a wrong token:\n%s\n---\n%s", target, accept, got, first)
			}
		}
	}
	if rec := f.get(t, good, "192.0.2.99:1", ""); rec.Code != 200 {
		t.Errorf("the unrevoked link: %d", rec.Code)
	}
}

func TestOrgPageLimitsEachClient(t *testing.T) {
	f := newOrgFixture(t, 1)
	for i := range orgPageBurst {
		if rec := f.get(t, fmt.Sprintf("/org/x?t=guess%d", i), "198.51.100.7:1", ""); rec.Code != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	path, _ := f.link(t, `{"organisation": "Oak Primary"}`)
	rec := f.get(t, path, "198.51.100.7:2", "")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("past the burst, even the right token: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := f.get(t, path, "198.51.100.8:1", ""); rec.Code != 200 {
		t.Errorf("another client: %d", rec.Code)
	}
}

func TestOrgLinksAdminAPI(t *testing.T) {
	f := newOrgFixture(t, 1)
	do := func(method, target, body, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec
	}
	for _, body := range []string{`{"organisation": "Nowhere"}`, `{}`, `{"organisation": "Oak Primary", "trust": "North & Trust"}`, `{"school": "x"}`, `{"trust": "Oak Primary"}`} {
		if rec := do("POST", "/api/org-links", body, orgAdmin); rec.Code != http.StatusBadRequest {
			t.Errorf("POST %s: %d %s", body, rec.Code, rec.Body)
		}
	}
	if rec := do("POST", "/api/org-links", `{"organisation": "Oak Primary"}`, "wrong"); rec.Code != http.StatusUnauthorized {
		t.Errorf("without the admin token: %d", rec.Code)
	}
	path, id := f.link(t, `{"organisation": "Oak Primary"}`)
	rec := do("GET", "/api/org-links", "", orgAdmin)
	token := path[strings.Index(path, "t=")+2:]
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"name": "Oak Primary"`) || strings.Contains(rec.Body.String(), token) {
		t.Errorf("GET /api/org-links: %d %s", rec.Code, rec.Body)
	}
	if rec := do("DELETE", "/api/org-links/99", "", orgAdmin); rec.Code != http.StatusNotFound {
		t.Errorf("revoking an unknown id: %d", rec.Code)
	}
	if rec := do("DELETE", fmt.Sprintf("/api/org-links/%d", id), "", orgAdmin); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"revoked"`) {
		t.Errorf("revoke: %d %s", rec.Code, rec.Body)
	}
	if rec := f.get(t, path, "192.0.2.1:1", ""); rec.Code != http.StatusNotFound {
		t.Errorf("revoked link: %d", rec.Code)
	}
}
