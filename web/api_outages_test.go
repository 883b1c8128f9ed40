package web

import (
	"net/http"
	"strings"
	"testing"

	"rfadesk/bot"
)

// TestAPIOutages starts an outage for Oak Primary through the admin API
// (201 with its id), shows it on /status and as a banner on Oak's status
// pages but not Elm's, updates and ends it, and refuses bad requests.
func TestAPIOutages(t *testing.T) {
	e := newAPIEnv(t, func(o *Options) {
		o.Outages = o.Desk.(*bot.Desk)
		o.Notices = OutageNotices(o.Outages)
	})
	oak := e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "MIS down at Oak", "description": "Nobody can log in."}`)
	elm := e.logCall(`{"name": "Eve Bell", "email": "eve@elm.sch.uk", "subject": "Printer", "description": "Jammed."}`)

	var ae apiError
	if res := e.post(adminToken, "/api/outages", `{"title": "MIS down"}`, &ae); res.StatusCode != 400 || !strings.Contains(ae.Error, "components") {
		t.Errorf("no components: %d %q, want 400", res.StatusCode, ae.Error)
	}
	if res := e.post("", "/api/outages", `{"title": "MIS down", "components": ["MIS"]}`, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", res.StatusCode)
	}
	var created outageAnswer
	res := e.post(adminToken, "/api/outages", `{"title": "MIS <b>down</b>", "components": ["MIS"], "organisations": ["oak primary"]}`, &created)
	if res.StatusCode != http.StatusCreated || created.ID != 1 {
		t.Fatalf("start: %d, id %d; want 201 with id 1", res.StatusCode, created.ID)
	}

	page := func(url string) string {
		t.Helper()
		_, body := do(t, e.h, "GET", strings.TrimPrefix(url, "https://support.desk.test"), nil)
		return body
	}
	const banner = "Service notice: MIS &lt;b&gt;down&lt;/b&gt;"
	if p := page(oak.StatusURL); !strings.Contains(p, banner) {
		t.Errorf("Oak's status page has no escaped banner:\n%s", p)
	}
	if p := page(elm.StatusURL); strings.Contains(p, "Service notice") {
		t.Errorf("Elm's status page shows Oak's outage:\n%s", p)
	}
	if p := page("/status"); !strings.Contains(p, "MIS &lt;b&gt;down&lt;/b&gt;") || strings.Contains(p, "Oak Primary") {
		t.Errorf("/status does not show the notice, or names the school:\n%s", p)
	}

	if res := e.post(adminToken, "/api/outages/1/update", `{"text": "Supplier is on it"}`, nil); res.StatusCode != http.StatusOK {
		t.Errorf("update: %d", res.StatusCode)
	}
	if res := e.post(adminToken, "/api/outages/7/update", `{"text": "x"}`, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("update of an unknown outage: %d, want 400", res.StatusCode)
	}
	if res := e.post(adminToken, "/api/outages/1/end", `{"resolution": "MIS is back", "x": 1}`, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown field: %d, want 400", res.StatusCode)
	}
	if res := e.post(adminToken, "/api/outages/1/end", `{"resolution": "MIS is back"}`, nil); res.StatusCode != http.StatusOK {
		t.Errorf("end: %d", res.StatusCode)
	}
	if res := e.post(adminToken, "/api/outages/1/end", `{"resolution": "again"}`, nil); res.StatusCode != http.StatusConflict {
		t.Errorf("end twice: %d, want 409", res.StatusCode)
	}
	if p := page(oak.StatusURL); strings.Contains(p, "Service notice") {
		t.Error("the banner stays after the outage ended")
	}
	if p := page("/status"); strings.Contains(p, "MIS &lt;b&gt;down") {
		t.Error("/status shows an ended outage")
	}
}
