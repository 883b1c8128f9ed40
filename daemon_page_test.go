package main

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestDaemonWiresTheStatusPageButtons: on a running daemon, the status
// page's message form, posted as a browser would with a file, is recorded
// on the RFA (the admin API sees the message and its file), and the page
// it returns to says so.
func TestDaemonWiresTheStatusPageButtons(t *testing.T) {
	const token = "0123456789abcdef-priya"
	base := startDaemon(t, unreachableConfig(t, "[[web.token]]\nname = \"Priya Shah\"\ntoken = \""+token+"\"\n"))
	api := func(method, url, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return v
	}
	rfa := api("POST", "/api/rfas", `{"name": "Sam Okafor", "email": "s.okafor@oakprimary.sch.uk", "organisation": "Oak Primary", "subject": "SIMS", "description": "Down."}`)
	page := rfa["status_url_path"].(string)

	resp, err := http.Get(base + page)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sm := regexp.MustCompile(`<form method="post" action="([^"]+)" enctype="multipart/form-data">\s*<input type="hidden" name="csrf" value="([^"]+)">`).FindStringSubmatch(string(b))
	if sm == nil {
		t.Fatalf("no message form with files on the page:\n%s", b)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", sm[2])
	mw.WriteField("action", "message")
	mw.WriteField("text", "Still down after a restart.")
	fw, _ := mw.CreateFormFile("files", "log.txt")
	fw.Write([]byte("E1042"))
	mw.Close()
	req, _ := http.NewRequest("POST", base+html.UnescapeString(sm[1]), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", base)
	resp, err = http.DefaultClient.Do(req) // follows the 303 back to the page
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "your message has been added") || !strings.Contains(string(b), "log.txt") {
		t.Fatalf("after the post: %d\n%s", resp.StatusCode, b)
	}
	after := api("GET", "/api/rfas/RFA-1", "")
	events, _ := json.Marshal(after["events"])
	if after["messages"] != float64(3) || !strings.Contains(string(events), "message added on the status page") {
		t.Errorf("RFA-1 after the post (the call, its ack and the page's message): %v messages, events %s", after["messages"], events)
	}
}
