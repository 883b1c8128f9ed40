package web

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestStatusPage(t *testing.T) {
	h := newTestHandler(t, nil)
	res, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	for _, want := range []string{
		"RFA-1", "In progress", "Oak Primary", "Acorn Trust",
		"Main building", "MIS, Email", "Gold", "Restarted the server", "Yes",
		"The MIS is down.", "Thanks, logged as RFA-1.", "Ann Head", "Service Desk", "screen.png",
		"Logged from email", "Acknowledgement sent",
		"Mon 12 Jan 2026, 08:05 GMT", // Europe/London in winter
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	for _, leak := range []string{"INTERNAL-FLAG-TEXT", "named another school"} {
		if strings.Contains(body, leak) {
			t.Errorf("status page shows %q", leak)
		}
	}
	// The token is in the page only where its forms post: the page's own URL.
	forms := strings.Count(body, `<form method="post" action="/rfa/RFA-1?t=`+token1+`"`)
	if n := strings.Count(body, token1); n == 0 || n != forms {
		t.Errorf("token shown %d times, want once in each of the %d forms' action", n, forms)
	}
	if strings.Contains(body, "We still need") {
		t.Error("complete report shown as missing fields")
	}
	// Lower-case ref works too.
	if res, _ := do(t, h, "GET", "/rfa/rfa-1?t="+token1, nil); res.StatusCode != 200 {
		t.Errorf("lower-case ref: %d", res.StatusCode)
	}
}

func TestStatusPageMissingFields(t *testing.T) {
	h := newTestHandler(t, nil)
	res, body := do(t, h, "GET", "/rfa/RFA-2?t=token-of-rfa-2-BBBBBBBBBBBBBBBB", nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{"Received", "We still need the following", "<li>Site location</li><li>Service component(s) affected</li>",
		"<li>Can you replicate the error?</li></ul>", "Not given yet", "No messages yet."} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(body, `class="missing"`); n != len(bot.RequiredFields) {
		t.Errorf("%d fields marked missing, want the %d the contract asks for", n, len(bot.RequiredFields))
	}
	if strings.Contains(body, "Support tier") {
		t.Error("the page asks for or shows a support tier nobody gave")
	}
}

func TestStatusPageSummerTime(t *testing.T) {
	d := newDesk()
	d.rfas[1].Created = time.Date(2026, 7, 1, 7, 30, 0, 0, time.UTC)
	h := newTestHandler(t, func(o *Options) { o.Desk = d })
	_, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if !strings.Contains(body, "Wed 1 Jul 2026, 08:30 BST") {
		t.Error("created time not shown in British Summer Time")
	}
}

// TestStatusNotFoundIsUniform: a wrong token, no token, an unknown RFA and
// a malformed reference are indistinguishable.
func TestStatusNotFoundIsUniform(t *testing.T) {
	h := newTestHandler(t, nil)
	_, want := do(t, h, "GET", "/rfa/RFA-999?t="+token1, nil)
	if !strings.Contains(want, "Page not found") {
		t.Fatalf("404 page: %s", want)
	}
	for _, target := range []string{
		"/rfa/RFA-1?t=wrong",
		"/rfa/RFA-1",
		"/rfa/RFA-1?t=",
		"/rfa/RFA-1?t=" + token1[:len(token1)-1],
		"/rfa/RFA-1?t=" + token1 + "A",
		"/rfa/RFA-2?t=" + token1, // another RFA's token
		"/rfa/RFA-999",
		"/rfa/garbage?t=" + token1,
		"/rfa/RFA-0",
	} {
		res, body := do(t, h, "GET", target, nil)
		if res.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", target, res.StatusCode)
		}
		if body != want {
			t.Errorf("%s: 404 body differs from the unknown-RFA one", target)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", target, res.Header.Get("Cache-Control"))
		}
	}
	// An RFA whose token is empty never opens, not even with an empty t.
	d := newDesk()
	d.rfas[1].Token = ""
	h = newTestHandler(t, func(o *Options) { o.Desk = d })
	if res, _ := do(t, h, "GET", "/rfa/RFA-1?t=", nil); res.StatusCode != 404 {
		t.Errorf("empty token opened the page: %d", res.StatusCode)
	}
}

func TestStatusDeskError(t *testing.T) {
	d := newDesk()
	d.err = errors.New("store: disk on fire")
	h := newTestHandler(t, func(o *Options) { o.Desk = d })
	res, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if res.StatusCode != 500 || strings.Contains(body, "fire") {
		t.Errorf("got %d %q, want 500 without the internal error", res.StatusCode, body)
	}
}

func TestStatusEscapesUserText(t *testing.T) {
	h := newTestHandler(t, nil)
	_, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	for _, raw := range []string{"<script>", "<img", "<b>not bold</b>", `"'>`} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	for _, esc := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; &amp; &#39;single&#39;",
		"&#34;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;",
		"&lt;b&gt;not bold&lt;/b&gt;",
	} {
		if !strings.Contains(body, esc) {
			t.Errorf("page lacks escaped %q", esc)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newTestHandler(t, nil)
	for _, target := range []string{"/rfa/RFA-1?t=" + token1, "/rfa/RFA-1?t=bad", "/", "/healthz"} {
		res, _ := do(t, h, "GET", target, nil)
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", target, csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows script or inline: %q", target, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", target, k, got, v)
			}
		}
	}
	res, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("status page Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	if strings.Contains(body, "<script") || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
		t.Error("status page has inline script or style, which the CSP would block")
	}
}

// TestTokenNotLogged: the request log carries the path, not the query.
func TestTokenNotLogged(t *testing.T) {
	var logs bytes.Buffer
	h := newTestHandler(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	do(t, h, "GET", "/api/rfas", map[string]string{"Authorization": "Bearer " + adminToken})
	if !strings.Contains(logs.String(), "/rfa/RFA-1") {
		t.Fatalf("request not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), token1) || strings.Contains(logs.String(), adminToken) {
		t.Errorf("a secret reached the log: %s", logs.String())
	}
}

// TestStatusGolden compares the whole status page with testdata; run
// with -update after an intended change.
func TestStatusGolden(t *testing.T) {
	h := newTestHandler(t, nil)
	for name, target := range map[string]string{
		"status-full.html": "/rfa/RFA-1?t=" + token1,
		"status-bare.html": "/rfa/RFA-2?t=token-of-rfa-2-BBBBBBBBBBBBBBBB",
		"notfound.html":    "/rfa/RFA-999",
	} {
		_, body := do(t, h, "GET", target, nil)
		golden := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if body != string(want) {
			t.Errorf("%s differs from %s (run go test -update if intended):\n%s", target, golden, body)
		}
	}
}

// TestStatusPageSaysAMessageWasCut: a message cut at intake
// (Message.FullSize) says so on the page, and where the whole of it is.
func TestStatusPageSaysAMessageWasCut(t *testing.T) {
	d := newDesk()
	r := d.rfas[1]
	r.Messages[0].FullSize = 300 << 10
	r.Messages[0].Attachments = append(r.Messages[0].Attachments, bot.Attachment{Name: bot.FullTextName, ContentType: "text/plain", Size: 300 << 10, Stored: true})
	h := newTestHandler(t, func(o *Options) { o.Desk = d })
	_, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if !strings.Contains(body, `<p class="cut">This message was longer than the desk shows (300 kB in all): it is cut here, and kept whole as the attachment full-message.txt.</p>`) {
		t.Errorf("the page does not say the message was cut:\n%s", body)
	}
	if n := strings.Count(body, `class="cut"`); n != 1 {
		t.Errorf("%d cut notes, want the one message's", n)
	}
}
