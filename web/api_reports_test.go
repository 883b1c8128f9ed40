package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"rfadesk/bot"
)

// deskReports is Reports over a real desk, purging RFAs closed before
// a fixed moment.
type deskReports struct{ *bot.Desk }

func (d deskReports) Purge(ctx context.Context, dry bool) ([]bot.PurgeItem, error) {
	return d.Desk.Purge(ctx, fixedNow, dry)
}

func TestReportExportPurgeRoutes(t *testing.T) {
	var desk *bot.Desk
	e := newAPIEnv(t, func(o *Options) { desk = o.Desk.(*bot.Desk); o.Reports = deskReports{desk} })
	e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "=MIS down", "description": "Nobody can log in."}`)
	admin := map[string]string{"Authorization": "Bearer " + adminToken}

	for _, path := range []string{"/api/reports?month=2026-01", "/admin/reports?month=2026-01", "/api/export?format=csv"} {
		if res, _ := do(t, e.h, "GET", path, nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, res.StatusCode)
		}
	}
	res, body := do(t, e.h, "GET", "/api/reports?month=2026-01", admin)
	var rep bot.MonthlyReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil || res.StatusCode != 200 || rep.All.Logged != 1 || rep.ByOrganisation[0].Name != "Oak Primary" {
		t.Fatalf("JSON report %d %v: %s", res.StatusCode, err, body)
	}
	if res, body := do(t, e.h, "GET", "/admin/reports?month=2026-01", admin); res.StatusCode != 200 || !strings.Contains(body, "<svg") {
		t.Errorf("admin page %d:\n%s", res.StatusCode, body)
	}
	// The admin page shows the current gauges beside the month's figures.
	if _, err := desk.ObserveGauge(context.Background(), bot.Gauge{Service: "mail-store", Used: 30, Limit: 100}); err != nil {
		t.Fatal(err)
	}
	if _, body := do(t, e.h, "GET", "/admin/reports?month=2026-01", admin); !strings.Contains(body, "<h3>Current gauges</h3>") || !strings.Contains(body, "<td>mail-store</td><td>30</td><td>100</td><td>30.0%</td>") {
		t.Errorf("admin page without the current gauge:\n%s", body)
	}
	if res, body := do(t, e.h, "GET", "/api/reports?month=2026-01&format=csv", admin); res.StatusCode != 200 || !strings.HasPrefix(body, "month,group") {
		t.Errorf("CSV report %d:\n%s", res.StatusCode, body)
	}
	for _, path := range []string{"/api/reports?month=January", "/api/reports?month=2026-01&format=pdf", "/api/export?format=xls"} {
		if res, _ := do(t, e.h, "GET", path, admin); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, res.StatusCode)
		}
	}
	if res, body := do(t, e.h, "GET", "/api/export?format=csv", admin); res.StatusCode != 200 || !strings.Contains(body, "RFA-1,new,phone,,'=MIS down") {
		t.Errorf("CSV export %d:\n%s", res.StatusCode, body)
	}
	if res, body := do(t, e.h, "GET", "/api/export?organisation=oak+primary", admin); res.StatusCode != 200 || !strings.Contains(body, "RFA-1/rfa.json") {
		t.Errorf("organisation archive %d: %.200q", res.StatusCode, body)
	}
	res, body = do(t, e.h, "POST", "/api/purge?dry_run=true", admin)
	var p PurgeJSON
	if err := json.Unmarshal([]byte(body), &p); err != nil || res.StatusCode != 200 || !p.DryRun || len(p.RFAs) != 0 {
		t.Errorf("dry-run purge %d %v: %s", res.StatusCode, err, body)
	}
}

// offReports is Reports whose retention is off.
type offReports struct{ deskReports }

func (offReports) Purge(context.Context, bool) ([]bot.PurgeItem, error) {
	return nil, fmt.Errorf("retention.after_closure is off: %w", bot.ErrNotAllowed)
}

func TestPurgeRouteWithRetentionOffAndBadFlag(t *testing.T) {
	e := newAPIEnv(t, func(o *Options) { o.Reports = offReports{deskReports{o.Desk.(*bot.Desk)}} })
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	if res, body := do(t, e.h, "POST", "/api/purge?dry_run=false", admin); res.StatusCode != http.StatusConflict || !strings.Contains(body, "retention.after_closure is off") {
		t.Errorf("purge with retention off: %d %s", res.StatusCode, body)
	}
	if res, _ := do(t, e.h, "POST", "/api/purge?dry_run=maybe", admin); res.StatusCode != http.StatusBadRequest {
		t.Errorf("dry_run=maybe: %d", res.StatusCode)
	}
	if res, _ := do(t, e.h, "GET", "/api/purge?dry_run=true", admin); res.StatusCode == http.StatusOK {
		t.Error("GET /api/purge purged")
	}
}
