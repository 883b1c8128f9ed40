package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"rfadesk/bot"
)

// TestDaemonServesStatusBoard: the daemon wires the configured contact
// details and the desk's calendar into GET /status.
func TestDaemonServesStatusBoard(t *testing.T) {
	cfg := unreachableConfig(t, "")
	cfg.Desk.Contact = bot.Contact{Phone: "01603 631436 (option 1)", KnowledgeBaseURL: "https://help.example.org/kb"}
	base := startDaemon(t, cfg)
	var board struct {
		Open             bool
		NextOpen         string `json:"next_open"`
		Phone, Email     string
		KnowledgeBaseURL string `json:"knowledge_base_url"`
		Notices          []any
	}
	var status int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest("GET", base+"/status", nil)
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
