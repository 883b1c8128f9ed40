package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
)

// TestDaemonServesStatusBoard: the daemon wires the configured contact
// details and the desk's calendar into GET /status.
func TestDaemonServesStatusBoard(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:1", "support@example.org", "pw", "127.0.0.1:1")
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Desk.Contact = bot.Contact{Phone: "01603 631436 (option 1)", KnowledgeBaseURL: "https://help.example.org/kb"}
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
	var board struct {
		Open             bool
		NextOpen         string `json:"next_open"`
		Phone, Email     string
		KnowledgeBaseURL string `json:"knowledge_base_url"`
		Notices          []any
	}
	var status int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/status", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		status = resp.StatusCode
		err = json.NewDecoder(resp.Body).Decode(&board)
		resp.Body.Close()
		if err == nil {
			break
		}
	}
	if status != http.StatusOK {
		t.Fatalf("GET /status: %d", status)
	}
	if board.Phone != cfg.Desk.Contact.Phone || board.Email != "support@example.org" || board.KnowledgeBaseURL != cfg.Desk.Contact.KnowledgeBaseURL {
		t.Errorf("board contact = %+v", board)
	}
	next, err := time.Parse(time.RFC3339, board.NextOpen)
	if err != nil || !next.After(time.Now()) || board.Notices == nil || len(board.Notices) != 0 {
		t.Errorf("board next_open %q (%v), notices %v: want a future opening and no notices", board.NextOpen, err, board.Notices)
	}
}
