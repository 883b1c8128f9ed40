package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rfadesk/config"
)

// TestDaemonWiresTheStaffAPI: a [[web.token]] from the config file opens
// the staff API of a running daemon: a phone RFA logged with it answers
// 201 with a status link, an action is recorded under the token's name,
// and a wrong token is refused with 401.
func TestDaemonWiresTheStaffAPI(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	// Nothing listens on the mail servers' ports: the API needs neither.
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:1", "support@example.org", "pw", "127.0.0.1:1")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	const token = "0123456789abcdef-priya"
	f.WriteString("\n[[web.token]]\nname = \"Priya Shah\"\ntoken = \"" + token + "\"\n")
	f.Close()
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelWarn), Listener: ln, StoreNoSync: true})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	call := func(method, url, bearer, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	code, rfa := call("POST", "/api/rfas", token, `{"name": "Sam Okafor", "organisation": "Oak Primary", "subject": "SIMS will not open", "description": "Since this morning."}`)
	if code != http.StatusCreated || !strings.Contains(rfa["status_url"].(string), "/rfa/RFA-1?t=") {
		t.Fatalf("POST /api/rfas = %d %v", code, rfa)
	}
	code, rfa = call("POST", "/api/rfas/RFA-1/actions", token, `{"action": "severity", "level": "serious"}`)
	if code != http.StatusOK || rfa["severity"] != "serious" {
		t.Fatalf("severity action = %d %v", code, rfa)
	}
	events, _ := json.Marshal(rfa["events"])
	if !strings.Contains(string(events), "Priya Shah") {
		t.Errorf("the severity change is not attributed to the token's name: %s", events)
	}
	if code, _ := call("POST", "/api/rfas/RFA-1/actions", "0123456789abcdef-wrong", `{"action": "note", "text": "x"}`); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", code)
	}
}
