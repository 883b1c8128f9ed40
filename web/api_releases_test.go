package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"rfadesk/bot"
)

func TestAPIReleases(t *testing.T) {
	e := newAPIEnv(t, func(o *Options) { o.Releases = o.Desk.(*bot.Desk) })
	e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "Typo on reports", "description": "A typo."}`)
	var v RFALinkJSON
	// fixedNow is Wednesday 14 January 2026; minor releases ship every
	// other Friday from 2 January.
	if res := e.post(adminToken, "/api/rfas/RFA-1/actions", `{"action": "release", "name": "next-minor"}`, &v); res.StatusCode != http.StatusOK ||
		v.Release == nil || v.Release.Name != "minor-2026-01-16" {
		t.Fatalf("release next-minor = %d %+v", res.StatusCode, v.Release)
	}

	// The requester's status page shows the release.
	page := httptest.NewRecorder()
	e.h.ServeHTTP(page, httptest.NewRequest("GET", strings.TrimPrefix(v.StatusURL, "https://support.desk.test"), nil))
	if !strings.Contains(page.Body.String(), "The fix is planned for release minor-2026-01-16, shipping Friday 16 January 2026.") {
		t.Errorf("status page = %d, without the release:\n%.2000s", page.Code, page.Body.String())
	}

	var rel ReleaseInfoJSON
	if res := e.post(adminToken, "/api/releases", `{"name": "Hotfix 1", "date": "2026-01-20"}`, &rel); res.StatusCode != http.StatusOK ||
		rel.Date != "2026-01-20" || rel.Kind != "minor" {
		t.Errorf("add = %d %+v", res.StatusCode, rel)
	}
	for _, body := range []string{`{"name": "x", "date": "soon"}`, `{"name": "", "date": "2026-01-20"}`, `{"name": "x", "date": "2026-01-20", "extra": 1}`} {
		var ae apiError
		if res := e.post(adminToken, "/api/releases", body, &ae); res.StatusCode != http.StatusBadRequest || ae.Error == "" {
			t.Errorf("add %s = %d %+v, want 400", body, res.StatusCode, ae)
		}
	}
	req := httptest.NewRequest("GET", "/api/releases", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	var list ReleaseListJSON
	if err := json.Unmarshal(b, &list); err != nil || rec.Code != http.StatusOK || len(list.Releases) < 2 ||
		list.Releases[0] != (ReleaseInfoJSON{Name: "minor-2026-01-16", Kind: "minor", Date: "2026-01-16"}) || list.Releases[1].Name != "Hotfix 1" {
		t.Errorf("GET /api/releases = %d %.300s", rec.Code, b)
	}

	var ae apiError
	if res := e.post(adminToken, "/api/releases/minor-2026-01-16/ship", `{}`, &ae); res.StatusCode != http.StatusBadRequest {
		t.Errorf("ship without notes = %d %+v, want 400", res.StatusCode, ae)
	}
	if res := e.post(adminToken, "/api/releases/nosuch/ship", `{"notes": "x"}`, &ae); res.StatusCode != http.StatusBadRequest {
		t.Errorf("ship of an unknown release = %d %+v, want 400", res.StatusCode, ae)
	}
	var ship ShipJSON
	if res := e.post(adminToken, "/api/releases/minor-2026-01-16/ship", `{"notes": "Typos fixed."}`, &ship); res.StatusCode != http.StatusOK || ship.Cleared != 1 {
		t.Fatalf("ship = %d %+v", res.StatusCode, ship)
	}
	if r := e.rfa(1); r.Status != bot.StatusCleared {
		t.Errorf("RFA-1 after the ship: %s, want cleared", r.Status)
	}
	if res := e.post("", "/api/releases/minor-2026-01-16/ship", `{"notes": "x"}`, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("ship without a token = %d, want 401", res.StatusCode)
	}
}
