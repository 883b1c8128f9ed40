package web

import (
	"net/http"
	"testing"
)

func TestMetricsNeedAnAPIToken(t *testing.T) {
	served := 0
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		w.Write([]byte("rfadesk_up 1\n"))
	})
	h := newTestHandler(t, func(o *Options) { o.Metrics = metrics })
	for _, auth := range []string{"", "Bearer wrong-token", "Basic " + adminToken} {
		res, body := do(t, h, "GET", "/metrics", map[string]string{"Authorization": auth})
		if res.StatusCode != http.StatusUnauthorized || body == "rfadesk_up 1\n" {
			t.Errorf("Authorization %q: %d %q, want 401", auth, res.StatusCode, body)
		}
	}
	if served != 0 {
		t.Fatalf("metrics served %d times without a token", served)
	}
	res, body := do(t, h, "GET", "/metrics", map[string]string{"Authorization": "Bearer " + adminToken})
	if res.StatusCode != http.StatusOK || body != "rfadesk_up 1\n" {
		t.Errorf("with the admin token: %d %q", res.StatusCode, body)
	}

	// No token configured: no /metrics on the web listener at all.
	open := newTestHandler(t, func(o *Options) { o.Metrics = metrics; o.AdminToken = "" })
	if res, _ := do(t, open, "GET", "/metrics", nil); res.StatusCode != http.StatusNotFound || served != 1 {
		t.Errorf("without tokens: %d (served %d), want 404", res.StatusCode, served)
	}
	// No handler: no route.
	if res, _ := do(t, newTestHandler(t, nil), "GET", "/metrics", map[string]string{"Authorization": "Bearer " + adminToken}); res.StatusCode != http.StatusNotFound {
		t.Errorf("without a metrics handler: %d, want 404", res.StatusCode)
	}
}
