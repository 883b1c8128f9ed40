package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
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

// unreachableConfig loads a config whose mail servers nobody listens on
// (the daemon keeps retrying them), for tests of the web side; extra is
// TOML appended to the file.
func unreachableConfig(t testing.TB, extra string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:1", "support@example.org", "pw", "127.0.0.1:1")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("\n" + extra)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startDaemon runs the daemon on cfg with its web side on a loopback
// port until the test ends, and returns the web side's base URL.
func startDaemon(t *testing.T, cfg *config.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo), Listener: ln, StoreNoSync: true})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
