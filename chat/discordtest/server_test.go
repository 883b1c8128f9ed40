package discordtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func call(t *testing.T, s *Server, method, path, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.APIBase()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bot x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestFaultsNonceAndHistory(t *testing.T) {
	s := New(nil)
	defer s.Close()
	s.Fail(Fault{Method: "POST", Path: "/channels/5/messages", Status: 429, RetryAfter: 0.25, Global: true})
	code, h, body := call(t, s, "POST", "/channels/5/messages", `{"content":"hi","nonce":"n1","enforce_nonce":true}`)
	if code != 429 || h.Get("X-RateLimit-Global") != "true" || h.Get("X-RateLimit-Scope") != "global" || h.Get("Retry-After") != "1" || !strings.Contains(body, `"retry_after":0.25`) {
		t.Fatalf("429 = %d %v %s", code, h, body)
	}
	if n := len(s.Messages("5")); n != 0 {
		t.Fatalf("a 429 created %d messages", n)
	}
	s.Fail(Fault{Status: 500, Commit: true})
	if code, _, _ := call(t, s, "POST", "/channels/5/messages", `{"content":"hi","nonce":"n1","enforce_nonce":true}`); code != 500 {
		t.Fatalf("commit fault answered %d", code)
	}
	code, _, body = call(t, s, "POST", "/channels/5/messages", `{"content":"hi","nonce":"n1","enforce_nonce":true}`)
	if code != 200 || len(s.Messages("5")) != 1 {
		t.Fatalf("retry with the nonce = %d %s; %d messages", code, body, len(s.Messages("5")))
	}
	later := s.AddMessage("5", "7", "second")
	s.AddMessage("5", "7", "third")
	_, _, body = call(t, s, "GET", "/channels/5/messages?after="+s.Messages("5")[0].ID+"&limit=1", "")
	var got []struct{ ID, Content string }
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 1 || got[0].ID != later.ID {
		t.Errorf("after+limit = %s, want only %q", body, later.ID)
	}
	s.Fail(Fault{Status: 401})
	if code, _, _ := call(t, s, "GET", "/guilds/100/members/7", ""); code != 401 {
		t.Errorf("401 fault answered %d", code)
	}
	if n := len(s.Requests()); n != 5 {
		t.Errorf("%d requests recorded, want 5", n)
	}
}

// TestRouteRateLimitInProcess: a route 429 carries Discord's route
// headers, and the in-process transport reaches the same handler.
func TestRouteRateLimitInProcess(t *testing.T) {
	s := New(&Options{InProcess: true})
	defer s.Close()
	s.Fail(Fault{Method: "POST", Path: "/channels/5/messages", Status: 429, RetryAfter: 0.25})
	c := &http.Client{Transport: s.Transport()}
	req, _ := http.NewRequest("POST", "https://discord.com/api/v9/channels/5/messages", strings.NewReader(`{"content":"hi"}`))
	req.Header.Set("Authorization", "Bot x")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 429 || h.Get("Retry-After") != "1" || h.Get("X-RateLimit-Scope") != "user" ||
		h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Reset-After") != "0.250" ||
		h.Get("X-RateLimit-Bucket") == "" || h.Get("X-RateLimit-Global") != "" {
		t.Fatalf("route 429 = %d %v", resp.StatusCode, h)
	}
	var body struct {
		Message    string  `json:"message"`
		RetryAfter float64 `json:"retry_after"`
		Global     *bool   `json:"global"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.RetryAfter != 0.25 || body.Global == nil || *body.Global ||
		body.Message != "You are being rate limited." {
		t.Fatalf("route 429 body = %s", b)
	}
	req, _ = http.NewRequest("POST", "https://discord.com/api/v9/channels/5/messages", strings.NewReader(`{"content":"hi"}`))
	req.Header.Set("Authorization", "Bot x")
	resp, err = c.Do(req)
	if err != nil || resp.StatusCode != 200 || len(s.Messages("5")) != 1 {
		t.Fatalf("after the 429: %v %v, %d messages", resp, err, len(s.Messages("5")))
	}
	resp.Body.Close()
}
