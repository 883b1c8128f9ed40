package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"rfadesk/bot"
)

func (e *apiEnv) get(token, path string, out any) int {
	e.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	if out != nil && rec.Code == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("GET %s: %v in %q", path, err, b)
		}
	}
	return rec.Code
}

func TestAPICapacityPushListSurge(t *testing.T) {
	e := newAPIEnv(t, func(o *Options) {
		o.Capacity = o.Desk.(*bot.Desk)
		o.Downtime = func(context.Context) ([]bot.Downtime, error) {
			return []bot.Downtime{
				{Component: "mis", From: time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 3, 10, 20, 0, 0, time.UTC)},
			}, nil
		}
	})

	if res := e.post("", "/api/capacity", `{"service":"mis-db","used":80,"limit":100}`, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d", res.StatusCode)
	}
	var pushed struct{ Reported bool }
	if res := e.post(adminToken, "/api/capacity", `{"service":"mis-db","used":80,"limit":100}`, &pushed); res.StatusCode != 200 || !pushed.Reported {
		t.Errorf("push: %d %+v", res.StatusCode, pushed)
	}
	if res := e.post(adminToken, "/api/capacity", `{"service":"mis-db","used":81,"limit":100}`, &pushed); res.StatusCode != 200 || pushed.Reported {
		t.Errorf("second push: %d %+v", res.StatusCode, pushed)
	}
	for _, bad := range []string{`{"service":"mis db","used":1,"limit":2}`, `{"service":"x","used":1,"limit":0}`, `{"service":"x","used":1,"limit":2,"extra":1}`, `[]`} {
		if res := e.post(adminToken, "/api/capacity", bad, nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, res.StatusCode)
		}
	}
	var s bot.Surge
	if res := e.post(adminToken, "/api/capacity/surge", `{"service":"mis-db","reason":"census day","hours":3}`, &s); res.StatusCode != http.StatusCreated || !s.Until.Equal(fixedNow.Add(3*time.Hour)) || s.By != "admin (api:admin)" {
		t.Errorf("surge: %d %+v", res.StatusCode, s)
	}
	if res := e.post(adminToken, "/api/capacity/surge", `{"service":"mis-db","reason":"x","hours":0}`, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("surge of 0 hours: %d", res.StatusCode)
	}
	var got capacityJSON
	if code := e.get(adminToken, "/api/capacity", &got); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	if got.Threshold != 70 || len(got.Gauges) != 1 || got.Gauges[0].Service != "mis-db" || got.Gauges[0].Percent != 81 ||
		!got.Gauges[0].Reported || got.Gauges[0].Surge == nil || len(got.Surges) != 1 {
		t.Errorf("GET /api/capacity = %+v", got)
	}
	var av availabilityJSON
	if code := e.get(adminToken, "/api/availability?month=2026-01", &av); code != 200 {
		t.Fatalf("availability: %d", code)
	}
	if len(av.Components) != 1 || av.Components[0].Down != 20*time.Minute || av.Rfadesk.Ratio != 1 {
		t.Errorf("availability = %+v", av)
	}
	if code := e.get(adminToken, "/api/availability?month=Jan", nil); code != http.StatusBadRequest {
		t.Errorf("bad month: %d", code)
	}
}
