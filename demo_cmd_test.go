package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
)

// TestDemoFlow runs the demo's world end to end: the seeded backlog and
// the live mails become RFAs, each person's report is acknowledged once
// with a working status link, the out-of-office and the unreadable mail
// get none, and the admin API shows the parsed fields.
func TestDemoFlow(t *testing.T) {
	env, err := startDemo("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, env.cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelDebug), Listener: env.ln, Sent: env.sent, StoreNoSync: true})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	if err := env.deliverLive(ctx, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Acks for RFA-1..4 and the staff alert about the unreadable mail.
	waitCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	msgs, err := env.smtp.Wait(waitCtx, 5)
	if err != nil {
		t.Fatalf("waiting for 5 mails: %v (got %d)", err, len(env.smtp.Messages()))
	}
	base := "http://" + env.ln.Addr().String()
	var links []string
	to := map[string]int{}
	for _, m := range msgs {
		to[m.To[0]]++
		body := plainText(t, m.Data)
		links = append(links, regexp.MustCompile(regexp.QuoteMeta(base)+`/rfa/RFA-\d+\?t=[A-Za-z0-9_%-]+`).FindAllString(body, -1)...)
	}
	for _, addr := range []string{"s.okafor@oakprimary.sch.uk", "sian.pritchard@elmpark.sch.uk", "t.becker@hollyfield.sch.uk", "it@elmpark-academy.org.uk", "desk-manager@rfadesk.test"} {
		if to[addr] != 1 {
			t.Errorf("%s got %d mails, want 1", addr, to[addr])
		}
	}
	if to["head@oakprimary.sch.uk"] != 0 {
		t.Error("the out-of-office reply was answered")
	}
	if len(links) == 0 {
		t.Fatal("no status link in any acknowledgement")
	}
	resp, err := http.Get(links[0])
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "RFA-") {
		t.Errorf("status link %s: %d", links[0], resp.StatusCode)
	}

	// The reply that fills RFA-3's missing fields arrives after its ack.
	deadline := time.Now().Add(30 * time.Second)
	var rfa3 map[string]any
	for time.Now().Before(deadline) {
		rfa3 = apiGet(t, base+"/api/rfas/RFA-3")
		if rfa3["site"] == "Sixth form centre" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rfa3["site"] != "Sixth form centre" || rfa3["level"] != "Bronze" || rfa3["organisation"] != "Hollyfield School" {
		t.Errorf("RFA-3 after the reply: %v", rfa3)
	}
	list := apiGet(t, base+"/api/rfas")["rfas"].([]any)
	if len(list) != 4 {
		t.Errorf("RFAs = %d, want 4", len(list))
	}
	if list[0].(map[string]any)["url"] != "/api/rfas/RFA-1" {
		t.Errorf("first listed = %v", list[0])
	}
	rfa1 := apiGet(t, base+"/api/rfas/RFA-1")
	if rfa1["error_message"] != "Invalid session token (E1042)" || rfa1["can_replicate"] != "yes" {
		t.Errorf("RFA-1 = %v", rfa1)
	}
	dls := apiGet(t, base+"/api/dead-letters")["dead_letters"].([]any)
	if len(dls) != 1 || !strings.Contains(dls[0].(map[string]any)["reason"].(string), "From") {
		t.Fatalf("dead letters = %v, want the scanner's log", dls)
	}
	req, _ := http.NewRequest("GET", base+"/api/dead-letters/1/raw", nil)
	req.Header.Set("Authorization", "Bearer "+demoAdminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "message/rfc822" || !strings.Contains(string(raw), "X-Scanner: MFP-3rd-floor") {
		t.Errorf("raw dead letter: %s %q", resp.Header.Get("Content-Type"), raw)
	}
	resp, err = http.Get(base + "/api/dead-letters")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dead letters without the admin token: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
}

// plainText returns the decoded text/plain part of a raw message.
func plainText(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("reading sent mail: %v", err)
	}
	var text string
	err = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		if ct, _, _ := part.Header.ContentType(); ct == "text/plain" && text == "" {
			b, err := io.ReadAll(part.Body)
			text = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking sent mail: %v", err)
	}
	return text
}

func apiGet(t *testing.T, url string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+demoAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return v
}

func TestCalendarAPI(t *testing.T) {
	env, err := startDemo("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- runDaemon(ctx, env.cfg, daemonOptions{Listener: env.ln, StoreNoSync: true, Ready: func(string) { close(ready) }})
	}()
	defer func() { cancel(); <-done }()
	<-ready
	cal := apiGet(t, "http://"+env.ln.Addr().String()+"/api/calendar?year=2022")
	closed := cal["closed"].([]any)
	var names []string
	for _, c := range closed {
		names = append(names, c.(map[string]any)["date"].(string))
	}
	for _, want := range []string{"2022-06-02", "2022-06-03", "2022-09-19", "2022-12-27"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("2022 closures %v lack %s", names, want)
		}
	}
	if cal["open"] != "08:00" || cal["timezone"] != "Europe/London" || cal["covered"] != true {
		t.Errorf("calendar = %v", cal)
	}
}

// TestDemoRefusesPublicListen: the demo's admin token is a constant and
// its status links are public, so anything but loopback is refused
// before a server starts, unless -unsafe-public is given.
func TestDemoRefusesPublicListen(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:0": true, "[::1]:0": true, "localhost:0": true, "[::ffff:127.0.0.1]:0": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:0": false, "192.0.2.10:80": false, "desk.example.org:80": false, "nonsense": false,
	} {
		err := checkDemoListen(addr, false)
		if (err == nil) != ok {
			t.Errorf("-listen %s: %v, want allowed %v", addr, err, ok)
		}
		if err == nil || addr == "nonsense" {
			continue
		}
		if !strings.Contains(err.Error(), "-unsafe-public") {
			t.Errorf("-listen %s: error %q does not name -unsafe-public", addr, err)
		}
		if err := checkDemoListen(addr, true); err != nil {
			t.Errorf("-listen %s -unsafe-public: %v", addr, err)
		}
	}
	// The command itself refuses before starting anything.
	var out, errOut bytes.Buffer
	err := cmdDemo(context.Background(), []string{"-listen", "0.0.0.0:0"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") || out.Len() != 0 {
		t.Errorf("demo -listen 0.0.0.0:0: %v, printed %q", err, out.String())
	}
}
