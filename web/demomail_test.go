package web

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// rawMail builds a captured message as an SMTP client would send it.
func rawMail(subject, contentType, cte, body string) []byte {
	return []byte(strings.Join([]string{
		"From: \"Acme Service Desk\" <support@desk.test>",
		"To: ann@oak.sch.uk",
		"Subject: " + subject,
		"Date: Wed, 14 Jan 2026 10:00:00 +0000",
		"Message-ID: <x1@desk.test>",
		"MIME-Version: 1.0",
		"Content-Type: " + contentType,
		"Content-Transfer-Encoding: " + cte,
		"",
		body,
	}, "\r\n"))
}

func TestDemoMail(t *testing.T) {
	older := SentMail{
		From: "support@desk.test", To: []string{"bob@elm.sch.uk"}, At: fixedNow.Add(-time.Hour),
		Raw: rawMail("Plain old subject", "text/plain; charset=utf-8", "7bit", "First mail.\r\n"),
	}
	// An encoded-word subject, a multipart/alternative body in
	// quoted-printable ISO-8859-1, hostile text and a status link.
	multipart := strings.Join([]string{
		"--BOUNDARY",
		"Content-Type: text/plain; charset=iso-8859-1",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"Caf=E9 <script>alert(1)</script>",
		"Your status page: http://127.0.0.1:8080/rfa/RFA-1?t=3Dabc&x=3D1.",
		"Also /rfa/RFA-1?t=3Dabc and javascript:alert(1) and not/rfa/RFA-9 here.",
		"--BOUNDARY",
		"Content-Type: text/html; charset=utf-8",
		"",
		"<p>HTML-PART-MUST-NOT-SHOW</p>",
		"--BOUNDARY--",
		"",
	}, "\r\n")
	newer := SentMail{
		From: "support@desk.test", To: []string{"ann@oak.sch.uk", "cc@oak.sch.uk"}, At: fixedNow,
		Raw: rawMail("=?UTF-8?Q?[RFA-1]_Caf=C3=A9_=E2=80=93_received?=",
			`multipart/alternative; boundary="BOUNDARY"`, "7bit", multipart),
	}
	sent := []SentMail{older, newer}
	h := newTestHandler(t, func(o *Options) { o.Sent = func() []SentMail { return sent } })
	res, body := do(t, h, "GET", "/demo/mail", nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	for _, want := range []string{
		"[RFA-1] Café – received", // encoded-word decoded
		"Café &lt;script&gt;alert(1)&lt;/script&gt;",
		`<a href="http://127.0.0.1:8080/rfa/RFA-1?t=abc&amp;x=1" rel="noopener noreferrer">http://127.0.0.1:8080/rfa/RFA-1?t=abc&amp;x=1</a>.`,
		`<a href="/rfa/RFA-1?t=abc" rel="noopener noreferrer">/rfa/RFA-1?t=abc</a>`,
		"javascript:alert(1) and not/rfa/RFA-9 here.",
		"ann@oak.sch.uk, cc@oak.sch.uk",
		`Acme Service Desk &lt;support@desk.test&gt;`,
		`<meta http-equiv="refresh" content="3">`,
		"2 captured",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q in\n%s", want, body)
		}
	}
	for _, bad := range []string{"<script>", "HTML-PART-MUST-NOT-SHOW", `href="javascript`} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if i, j := strings.Index(body, "Café – received"), strings.Index(body, "Plain old subject"); i < 0 || j < 0 || i > j {
		t.Errorf("not newest first (newer at %d, older at %d)", i, j)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	// The page must not reorder the caller's slice.
	if sent[0].At != older.At {
		t.Error("demo page sorted the caller's slice in place")
	}
}

func TestDemoMailBroken(t *testing.T) {
	sent := []SentMail{
		{At: fixedNow, To: []string{"x@y.test"}, Raw: []byte("no header separator and no colon")},
		{At: fixedNow, To: []string{"x@y.test"}, Raw: rawMail("Only HTML", "text/html", "7bit", "<p>hi</p>")},
	}
	h := newTestHandler(t, func(o *Options) { o.Sent = func() []SentMail { return sent } })
	res, body := do(t, h, "GET", "/demo/mail", nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{"unreadable header", "no text/plain part", "Only HTML"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// No mail at all.
	h = newTestHandler(t, func(o *Options) { o.Sent = func() []SentMail { return nil } })
	if _, body := do(t, h, "GET", "/demo/mail", nil); !strings.Contains(body, "No mail sent yet.") {
		t.Error("empty page lacks its notice")
	}
}

func TestLinkify(t *testing.T) {
	for _, c := range []struct {
		in    string
		links []string
	}{
		{"see https://desk.example/rfa/RFA-1?t=x.", []string{"https://desk.example/rfa/RFA-1?t=x"}},
		{"(http://a.test/x)", []string{"http://a.test/x"}},
		{"/rfa/RFA-2?t=y", []string{"/rfa/RFA-2?t=y"}},
		{"path a/rfa/RFA-2 is text", nil},
		{"javascript:alert(1) data:text/html,x ftp://a.test/", nil},
		{"http:///nohost and http://user:pw@evil.test/", nil},
		{"two: http://a.test and https://b.test/p", []string{"http://a.test", "https://b.test/p"}},
		{"", nil},
	} {
		segs := linkify(c.in)
		var links []string
		var text strings.Builder
		for _, s := range segs {
			if s.Href != "" {
				links = append(links, s.Href)
			}
			text.WriteString(s.Text)
		}
		if !slices.Equal(links, c.links) {
			t.Errorf("linkify(%q) links %q, want %q", c.in, links, c.links)
		}
		if text.String() != c.in {
			t.Errorf("linkify(%q) lost text: %q", c.in, text.String())
		}
	}
}
