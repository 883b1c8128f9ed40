package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

// TestPageFollowsTheClearanceLifecycle: over a real desk, a cleared RFA's
// page offers "it's fixed" and "still broken" with the date it closes by
// itself, and its JSON carries cleared_at and confirm_by; once the
// requester confirms on the page, it offers "still broken" only (within
// the reopen grace) and the JSON carries closed_at.
func TestPageFollowsTheClearanceLifecycle(t *testing.T) {
	e := newAPIEnv(t, nil)
	sla := e.desk.SLA()
	h := NewHandler(Options{
		Desk: e.desk, AdminToken: adminToken, Do: e.desk.Do, LogCall: e.desk.LogCall, StatusURL: e.desk.StatusURL,
		ConfirmFixed: e.desk.ConfirmFixed, ReportStillBroken: e.desk.ReportStillBroken,
		Settings: func() Settings { return Settings{ConfirmBy: sla.ConfirmBy, ReopenBy: sla.ReopenBy} },
		Logger:   testLogger(t), Now: func() time.Time { return fixedNow },
	})
	link := e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "MIS down", "description": "Nobody can log in."}`)
	u, err := url.Parse(link.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	page := u.Path + "?" + u.RawQuery
	get := func(accept string) string {
		t.Helper()
		req := httptest.NewRequest("GET", page, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", page, rec.Code)
		}
		return rec.Body.String()
	}
	jsonOf := func() map[string]any {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal([]byte(get("application/json")), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	if res := e.post(adminToken, "/api/rfas/RFA-1/actions", `{"action": "clear", "resolution": "Restarted the service."}`, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("clear: %d", res.StatusCode)
	}
	body := get("")
	for _, want := range []string{"Yes, it’s fixed", "No, it’s still broken", "If we hear nothing, we will close it on"} {
		if !strings.Contains(body, want) {
			t.Errorf("the cleared RFA's page lacks %q", want)
		}
	}
	v := jsonOf()
	if v["status"] != "cleared" || v["cleared_at"] == nil || v["confirm_by"] == nil || v["closed_at"] != nil {
		t.Errorf("cleared JSON: status %v, cleared_at %v, confirm_by %v, closed_at %v", v["status"], v["cleared_at"], v["confirm_by"], v["closed_at"])
	}

	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if csrf == nil {
		t.Fatal("no anti-forgery field on the page")
	}
	req := httptest.NewRequest("POST", page, strings.NewReader(url.Values{"action": {"fixed"}, "csrf": {csrf[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("pressing it's fixed: %d %s", rec.Code, rec.Body)
	}
	body = get("")
	if strings.Contains(body, "Yes, it’s fixed") || !strings.Contains(body, "It’s still broken") {
		t.Error("the closed RFA's page should offer only \"still broken\", within the reopen grace")
	}
	v = jsonOf()
	if v["status"] != "closed" || v["closed_at"] == nil || v["confirm_by"] != nil {
		t.Errorf("closed JSON: status %v, closed_at %v, confirm_by %v", v["status"], v["closed_at"], v["confirm_by"])
	}
}

// TestPageShowsTheOwnerAfterEscalation: once the requester escalates, the
// status page names the manager who owns the RFA now.
func TestPageShowsTheOwnerAfterEscalation(t *testing.T) {
	e := newAPIEnv(t, nil)
	link := e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "MIS down", "description": "Nobody can log in."}`)
	u, err := url.Parse(link.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	page := func() string {
		t.Helper()
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, httptest.NewRequest("GET", u.Path+"?"+u.RawQuery, nil))
		return rec.Body.String()
	}
	if strings.Contains(page(), "<dt>Owner</dt>") {
		t.Fatal("an RFA nobody escalated shows an owner")
	}
	if err := e.desk.Escalate(t.Context(), 1, bot.Actor{ID: "ann@oak.sch.uk"}, "from the status page", ""); err != nil {
		t.Fatal(err)
	}
	if body := page(); !strings.Contains(body, "<dt>Owner</dt><dd>the support team manager (escalated)</dd>") {
		t.Errorf("the escalated RFA's page does not name its owner:\n%s", body)
	}
}
