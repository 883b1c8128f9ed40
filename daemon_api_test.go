package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestDaemonWiresTheStaffAPI: a [[web.token]] from the config file opens
// the staff API of a running daemon: a phone RFA logged with it answers
// 201 with a status link, an action is recorded under the token's name,
// and a wrong token is refused with 401.
func TestDaemonWiresTheStaffAPI(t *testing.T) {
	const token = "0123456789abcdef-priya"
	cfg := unreachableConfig(t, "[[web.token]]\nname = \"Priya Shah\"\ntoken = \""+token+"\"\n")
	base := startDaemon(t, cfg)
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
