package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/config"
)

// TestHealthzNamesTheSettingWhenTheMailboxIsUnreachable runs the daemon
// against a mailbox nobody listens on: it keeps running, and /healthz
// answers 503 with a reason that names the setting to fix, to the admin
// token only: the public answer is a bare "unhealthy".
func TestHealthzNamesTheSettingWhenTheMailboxIsUnreachable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close() // nothing listens there now
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), deadAddr, "support@example.org", "pw", "127.0.0.1:1")
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Web.AdminToken = "healthz-test-admin-token"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo), Listener: ln, StoreNoSync: true})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	var code int
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/healthz", nil)
		req.Header.Set("Authorization", "Bearer "+cfg.Web.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code, body = resp.StatusCode, string(b)
		if strings.Contains(body, "imap.address") {
			break
		}
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "imap.address") {
		t.Errorf("/healthz = %d %q, want 503 naming imap.address", code, body)
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || string(b) != "unhealthy" {
		t.Errorf("public /healthz = %d %q, want 503 \"unhealthy\"", resp.StatusCode, b)
	}
	select {
	case err := <-done:
		t.Fatalf("the daemon exited instead of retrying: %v", err)
	default:
	}
}
