package web

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

var boardContact = bot.Contact{
	Phone:            "01603 631436 (option 1)",
	KnowledgeBaseURL: "https://help.example.org/kb?a=1&b=2",
	PostalAddress:    "Acme Service Desk\nCounty Hall & Annexe\nNorwich NR1 2DH",
}

// boardHandler is the test handler with contact details and the clock
// at now.
func boardHandler(t *testing.T, now time.Time, mod func(*Options)) (h func(accept string) (int, string, map[string]string)) {
	t.Helper()
	hd := newTestHandler(t, func(o *Options) {
		o.Now = func() time.Time { return now }
		withSettings(o, func(s *Settings) { s.Contact = boardContact })
		if mod != nil {
			mod(o)
		}
	})
	return func(accept string) (int, string, map[string]string) {
		hdr := map[string]string{}
		if accept != "" {
			hdr["Accept"] = accept
		}
		res, body := do(t, hd, "GET", "/status", hdr)
		got := map[string]string{}
		for _, k := range []string{"Content-Type", "Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "Vary"} {
			got[k] = res.Header.Get(k)
		}
		return res.StatusCode, body, got
	}
}

// TestBoardGolden compares the whole board, open and closed, with
// testdata; run with -update after an intended change.
func TestBoardGolden(t *testing.T) {
	for name, now := range map[string]time.Time{
		"board-open.html":   fixedNow,                                      // Wed 14 Jan 2026, 10:30 GMT
		"board-closed.html": time.Date(2026, 3, 27, 18, 0, 0, 0, time.UTC), // Fri evening before the clocks change
	} {
		_, body, _ := boardHandler(t, now, nil)("")
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
			t.Errorf("%s differs from %s (run go test -update if intended):\n%s", name, golden, body)
		}
	}
}

func TestBoardOpenNow(t *testing.T) {
	code, body, hdr := boardHandler(t, fixedNow, nil)("text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8")
	if code != 200 || !strings.HasPrefix(hdr["Content-Type"], "text/html") {
		t.Fatalf("status %d, %q", code, hdr["Content-Type"])
	}
	for _, want := range []string{
		"<h1>Service status</h1>",
		`<strong>Open now</strong>, until <time datetime="2026-01-14T17:00:00Z">Wed 14 Jan 2026, 17:00 GMT</time>.`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("board lacks %q", want)
		}
	}
	if strings.Contains(body, "Closed now") {
		t.Error("board says closed while open")
	}
}

// Closed: the next opening is named in UK time, across a weekend and the
// change to summer time, across a bank holiday, and across Christmas.
func TestBoardClosedNamesNextOpening(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 3, 27, 18, 0, 0, 0, time.UTC), `Next open <time datetime="2026-03-30T07:00:00Z">Mon 30 Mar 2026, 08:00 BST</time>.`},
		{time.Date(2026, 8, 31, 9, 0, 0, 0, time.UTC), `Next open <time datetime="2026-09-01T07:00:00Z">Tue 1 Sep 2026, 08:00 BST</time>.`},
		{time.Date(2026, 10, 23, 16, 30, 0, 0, time.UTC), `Next open <time datetime="2026-10-26T08:00:00Z">Mon 26 Oct 2026, 08:00 GMT</time>.`},
		{time.Date(2026, 12, 24, 17, 0, 0, 0, time.UTC), `Next open <time datetime="2026-12-29T08:00:00Z">Tue 29 Dec 2026, 08:00 GMT</time>.`},
	} {
		_, body, _ := boardHandler(t, tc.now, nil)("")
		if !strings.Contains(body, "<strong>Closed now.</strong>") || !strings.Contains(body, tc.want) {
			t.Errorf("at %v the board lacks %q:\n%s", tc.now, tc.want, body)
		}
		if strings.Contains(body, "Open now") {
			t.Errorf("at %v the board says open", tc.now)
		}
	}
}

func TestBoardShowsContactAndNoNotices(t *testing.T) {
	_, body, _ := boardHandler(t, fixedNow, nil)("")
	for _, want := range []string{
		`<dt>Phone</dt><dd><a href="tel:01603631436">01603 631436 (option 1)</a></dd>`,
		`<dt>Email</dt><dd><a href="mailto:support@desk.test">support@desk.test</a></dd>`,
		`<a href="https://help.example.org/kb?a=1&amp;b=2">https://help.example.org/kb?a=1&amp;b=2</a>`,
		`<address>Acme Service Desk<br>County Hall &amp; Annexe<br>Norwich NR1 2DH</address>`,
		"There are no current service notices.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("board lacks %q", want)
		}
	}
}

// The board reads no RFA: it never calls the Desk, and no reference or
// token appears in it, as HTML or JSON.
func TestBoardHasNoRFAData(t *testing.T) {
	get := boardHandler(t, fixedNow, func(o *Options) { o.Desk = panicDesk{} })
	for _, accept := range []string{"", "application/json"} {
		code, body, _ := get(accept)
		if code != 200 {
			t.Fatalf("Accept %q: status %d", accept, code)
		}
		for _, leak := range []string{"RFA-", "rfa/", token1, "Oak Primary", "MIS"} {
			if strings.Contains(body, leak) {
				t.Errorf("Accept %q: board shows %q", accept, leak)
			}
		}
	}
}

// panicDesk fails the test run if any RFA is read.
type panicDesk struct{ Desk }

func (panicDesk) RFA(context.Context, uint64) (*bot.RFA, error) { panic("board read an RFA") }
func (panicDesk) RFAWithTexts(context.Context, uint64) (*bot.RFA, error) {
	panic("board read an RFA")
}
func (panicDesk) RFASummary(context.Context, uint64) (*bot.RFASummary, error) {
	panic("board read an RFA")
}
func (panicDesk) RFAPage(context.Context, bot.RFAQuery) (bot.RFAPage, error) {
	panic("board read an RFA")
}

func TestBoardSecurityHeaders(t *testing.T) {
	_, _, hdr := boardHandler(t, fixedNow, nil)("")
	if hdr["Content-Security-Policy"] != csp || hdr["Referrer-Policy"] != "no-referrer" || hdr["X-Content-Type-Options"] != "nosniff" {
		t.Errorf("security headers: %v", hdr)
	}
	if hdr["Vary"] != "Accept" {
		t.Errorf("Vary = %q, want Accept", hdr["Vary"])
	}
}

// Service notices are shown escaped; a failure to load them is a 500.
func TestBoardNotices(t *testing.T) {
	since := time.Date(2026, 1, 14, 9, 15, 0, 0, time.UTC)
	_, body, _ := boardHandler(t, fixedNow, func(o *Options) {
		o.Notices = func(context.Context) ([]ServiceNotice, error) {
			return []ServiceNotice{{Title: "Email <slow>", Text: "Mail to & from\nschools is delayed.", Since: since}}, nil
		}
	})("")
	for _, want := range []string{
		`<li><strong>Email &lt;slow&gt;</strong> <span class="since">(since <time datetime="2026-01-14T09:15:00Z">Wed 14 Jan 2026, 09:15 GMT</time>)</span><p class="text">Mail to &amp; from`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("board lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "no current service notices") {
		t.Error("board says there are no notices")
	}
	code, _, _ := boardHandler(t, fixedNow, func(o *Options) {
		o.Notices = func(context.Context) ([]ServiceNotice, error) { return nil, errors.New("store down") }
	})("")
	if code != 500 {
		t.Errorf("notices failing: status %d, want 500", code)
	}
}

func TestBoardJSON(t *testing.T) {
	closed := time.Date(2026, 3, 27, 18, 0, 0, 0, time.UTC)
	code, body, hdr := boardHandler(t, closed, nil)("application/json")
	if code != 200 || hdr["Content-Type"] != "application/json" {
		t.Fatalf("status %d, %q", code, hdr["Content-Type"])
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"open": false, "next_open": "2026-03-30T08:00:00+01:00",
		"hours": "Monday to Friday, 08:00–17:00 UK time, closed on bank holidays",
		"phone": boardContact.Phone, "email": "support@desk.test",
		"knowledge_base_url": boardContact.KnowledgeBaseURL, "postal_address": boardContact.PostalAddress,
		"notices": []any{},
	}
	for k, v := range want {
		g, _ := json.Marshal(got[k])
		w, _ := json.Marshal(v)
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
	if _, ok := got["closes"]; ok {
		t.Error("closes set while closed")
	}
	_, body, _ = boardHandler(t, fixedNow, nil)("application/json")
	if !strings.Contains(body, `"open":true,"closes":"2026-01-14T17:00:00Z","next_open":"2026-01-15T08:00:00Z"`) {
		t.Errorf("open board JSON: %s", body)
	}
}

func TestTelURL(t *testing.T) {
	for in, want := range map[string]string{
		"01603 631436 (option 1)": "tel:01603631436",
		"(01603) 631-436 ext 2":   "tel:01603631436",
		"+44 1603 631436":         "tel:+441603631436",
		"ask at reception":        "",
		"12 (option 1)":           "",
	} {
		if got := string(telURL(in)); got != want {
			t.Errorf("telURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// The landing page and the requester's status page show the contact
// details when set (the goldens show them absent when not), and the
// landing page links to the board.
func TestLandingAndStatusShowContact(t *testing.T) {
	h := newTestHandler(t, func(o *Options) { withSettings(o, func(s *Settings) { s.Contact = boardContact }) })
	for _, target := range []string{"/", "/rfa/RFA-1?t=" + token1} {
		_, body := do(t, h, "GET", target, nil)
		for _, want := range []string{
			`<h2 id="contact-us">Contact us</h2>`,
			`<a href="tel:01603631436">01603 631436 (option 1)</a>`,
			`<a href="https://help.example.org/kb?a=1&amp;b=2">`,
			`<address>Acme Service Desk<br>County Hall &amp; Annexe<br>Norwich NR1 2DH</address>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", target, want)
			}
		}
	}
	_, body := do(t, h, "GET", "/", nil)
	if !strings.Contains(body, `<a href="/status">service status</a>`) {
		t.Error("landing page does not link to the board")
	}
	_, body = do(t, newTestHandler(t, nil), "GET", "/", nil)
	if strings.Contains(body, "Contact us") {
		t.Error("landing page shows an empty contact block")
	}
}
