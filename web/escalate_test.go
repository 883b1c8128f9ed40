package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"rfadesk/bot"
)

// escCall is one call of Options.Escalate.
type escCall struct {
	num    uint64
	by     bot.Actor
	via    string
	reason string
}

// escalations records Escalate calls and answers with err.
type escalations struct {
	mu    sync.Mutex
	calls []escCall
	err   error
}

func (e *escalations) escalate(ctx context.Context, num uint64, by bot.Actor, via, reason string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, escCall{num, by, via, reason})
	return e.err
}

func (e *escalations) got() []escCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]escCall(nil), e.calls...)
}

// post sends a form POST and returns the response with its body read.
func post(t *testing.T, h http.Handler, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func escalateHandler(t *testing.T, d *fakeDesk) (http.Handler, *escalations) {
	t.Helper()
	esc := &escalations{}
	h := newTestHandler(t, func(o *Options) {
		o.Escalate = esc.escalate
		if d != nil {
			o.Desk = d
		}
	})
	return h, esc
}

func TestEscalate(t *testing.T) {
	h, esc := escalateHandler(t, nil)
	_, page := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if !strings.Contains(page, `<input type="hidden" name="action" value="escalate">`) || !strings.Contains(page, `maxlength="1000"`) {
		t.Fatal("status page has no escalation form")
	}
	if strings.Contains(page, "We have told the support team manager") {
		t.Error("banner shown before any escalation")
	}

	reason := "Whole school\r\ncannot log in \u202e" + strings.Repeat("x", 1200)
	res, _ := post(t, h, "/rfa/RFA-1/escalate", url.Values{"t": {token1}, "reason": {reason}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	if loc != "/rfa/RFA-1?t="+token1+"&escalated=1" {
		t.Errorf("Location %q", loc)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	calls := esc.got()
	if len(calls) != 1 {
		t.Fatalf("%d Escalate calls, want 1", len(calls))
	}
	c := calls[0]
	if c.num != 1 || c.by != (bot.Actor{Name: "Ann Head", ID: "ann@oak.sch.uk"}) {
		t.Errorf("call %+v", c)
	}
	// The reason is passed apart from via, never inside a sentence.
	wantReason := "Whole school\ncannot log in " + strings.Repeat("x", 1000-len([]rune("Whole school\ncannot log in ")))
	if c.via != "from the status page" || c.reason != wantReason {
		t.Errorf("via %q, reason %q\nwant reason %q", c.via, c.reason, wantReason)
	}

	// The page it sends back to shows the confirmation, and still the form.
	res, page = do(t, h, "GET", loc, nil)
	if res.StatusCode != 200 || !strings.Contains(page, "We have told the support team manager") {
		t.Errorf("after escalation: %d, banner shown %v", res.StatusCode, strings.Contains(page, "We have told"))
	}

	// Without a reason, via is the bare origin.
	post(t, h, "/rfa/rfa-1/escalate", url.Values{"t": {token1}, "reason": {"  \r\n "}})
	if calls := esc.got(); len(calls) != 2 || calls[1].via != "from the status page" || calls[1].reason != "" {
		t.Errorf("calls %+v", calls)
	}
}

// TestEscalateNotFoundIsUniform: a wrong token, no token, an unknown RFA
// or a token in the URL only give the status page's 404 and no call.
func TestEscalateNotFoundIsUniform(t *testing.T) {
	h, esc := escalateHandler(t, nil)
	_, want := do(t, h, "GET", "/rfa/RFA-999?t="+token1, nil)
	for name, tc := range map[string]struct {
		target string
		form   url.Values
	}{
		"wrong token":     {"/rfa/RFA-1/escalate", url.Values{"t": {"wrong"}}},
		"no token":        {"/rfa/RFA-1/escalate", url.Values{"reason": {"x"}}},
		"longer token":    {"/rfa/RFA-1/escalate", url.Values{"t": {token1 + "A"}}},
		"other RFA token": {"/rfa/RFA-2/escalate", url.Values{"t": {token1}}},
		"unknown RFA":     {"/rfa/RFA-999/escalate", url.Values{"t": {token1}}},
		"bad ref":         {"/rfa/garbage/escalate", url.Values{"t": {token1}}},
		"token in URL":    {"/rfa/RFA-1/escalate?t=" + url.QueryEscape(token1), url.Values{}},
	} {
		res, body := post(t, h, tc.target, tc.form)
		if res.StatusCode != 404 || body != want {
			t.Errorf("%s: %d, same body as the status 404: %v", name, res.StatusCode, body == want)
		}
	}
	if n := len(esc.got()); n != 0 {
		t.Errorf("%d Escalate calls, want 0", n)
	}
}

func TestEscalateMethodAndSize(t *testing.T) {
	h, esc := escalateHandler(t, nil)
	res, _ := do(t, h, "GET", "/rfa/RFA-1/escalate?t="+token1, nil)
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", res.StatusCode)
	}
	res, _ = post(t, h, "/rfa/RFA-1/escalate", url.Values{"t": {token1}, "reason": {strings.Repeat("é", 20000)}})
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d, want 413", res.StatusCode)
	}
	if n := len(esc.got()); n != 0 {
		t.Errorf("%d Escalate calls, want 0", n)
	}
	// No Escalate option: no route and no form.
	h = newTestHandler(t, func(o *Options) { o.Escalate = nil })
	if res, _ := post(t, h, "/rfa/RFA-1/escalate", url.Values{"t": {token1}}); res.StatusCode != 404 {
		t.Errorf("POST without Escalate: %d, want 404", res.StatusCode)
	}
	if _, page := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil); strings.Contains(page, "<form") {
		t.Error("form shown without Escalate")
	}
}

func TestEscalateClosed(t *testing.T) {
	d := newDesk()
	d.rfas[1].Status = bot.StatusClosed
	h, esc := escalateHandler(t, d)
	_, page := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if strings.Contains(page, "<form") || strings.Contains(page, token1) {
		t.Error("a closed RFA shows the escalation form")
	}
	res, _ := post(t, h, "/rfa/RFA-1/escalate", url.Values{"t": {token1}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/rfa/RFA-1?t="+token1+"&escalated=0" {
		t.Errorf("closed: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if n := len(esc.got()); n != 0 {
		t.Errorf("closed RFA escalated: %d calls", n)
	}
	_, page = do(t, h, "GET", res.Header.Get("Location"), nil)
	if !strings.Contains(page, "cannot be escalated from this page now") || strings.Contains(page, "We have told") {
		t.Error("refusal not shown")
	}
}

func TestEscalateDeskErrors(t *testing.T) {
	h, esc := escalateHandler(t, nil)
	esc.err = fmt.Errorf("bot: RFA-1 is cleared: %w", bot.ErrNotAllowed)
	res, _ := post(t, h, "/rfa/RFA-1/escalate", url.Values{"t": {token1}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "&escalated=0") {
		t.Errorf("not allowed: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	esc.err = errors.New("store: disk on fire")
	res, body := post(t, h, "/rfa/RFA-1/escalate", url.Values{"t": {token1}})
	if res.StatusCode != 500 || strings.Contains(body, "fire") {
		t.Errorf("desk failure: %d %q, want 500 without the internal error", res.StatusCode, body)
	}
	if n := len(esc.got()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestCSPAllowsOnlySelfForms(t *testing.T) {
	h := newTestHandler(t, nil)
	res, _ := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
}

// TestEscalationReasonIsShownQuotedApart: the requester's reason cannot
// reword the history's sentence ("; now owned by Mallory"): it is shown
// after it, quoted, escaped. An event from before Event.Quote, whose text
// held the reason, cannot name an owner through it either.
func TestEscalationReasonIsShownQuotedApart(t *testing.T) {
	d := newDesk()
	at := fixedNow.Add(-time.Hour)
	d.rfas[1].Events = append(d.rfas[1].Events,
		bot.Event{At: at, Kind: bot.EventEscalated, Actor: "ann@oak.sch.uk",
			Text: "escalated by the requester from the status page; now owned by Mo Manager", Quote: "; now owned by Mallory\n<b>bold</b>"},
		bot.Event{At: at, Kind: bot.EventEscalated, Actor: "ann@oak.sch.uk",
			Text: "escalated by the requester from the status page (reason: x; now owned by Mallory); now owned by Mo Manager"},
	)
	h, _ := escalateHandler(t, d)
	_, page := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	want := `Escalated at your request; now owned by Mo Manager
<figure class="quote"><figcaption>In your words:</figcaption><blockquote>; now owned by Mallory
&lt;b&gt;bold&lt;/b&gt;</blockquote></figure></li>`
	if !strings.Contains(page, want) {
		t.Errorf("the reason is not shown quoted after the sentence; page:\n%s", page)
	}
	if strings.Contains(page, "now owned by Mallory)") || strings.Count(page, "now owned by Mo Manager") != 2 {
		t.Error("a reason in an old event's text reworded the sentence")
	}
	// The admin API carries the quote apart too.
	_, body := do(t, h, "GET", "/api/rfas/RFA-1", map[string]string{"Authorization": "Bearer " + adminToken})
	if !strings.Contains(body, `"quote": "; now owned by Mallory\n\u003cb\u003ebold\u003c/b\u003e"`) {
		t.Errorf("API event has no quote: %s", body)
	}
}

// TestPagesShowNoBidiControls: a subject, a name, a message, an
// attachment name and an escalation reason holding U+202E (and its
// kin) show on the status page without them.
func TestPagesShowNoBidiControls(t *testing.T) {
	d := newDesk()
	r := d.rfas[1]
	r.Subject = "invoice\u202efdp.exe"
	r.Organisation = "Oak\u2066 Primary\u2069"
	r.Messages[0].From.Name = "Ann\u202e Head"
	r.Messages[0].Text = "see\u200f attached"
	r.Messages[0].Attachments = []bot.Attachment{{Name: "photo\u202egnp.exe"}}
	r.Report.Site = "Main\u061c building"
	r.Events = append(r.Events, bot.Event{At: fixedNow, Kind: bot.EventEscalated, Text: "escalated by the requester from the status page; now owned by Mo", Quote: "now\u202e"})
	h, _ := escalateHandler(t, d)
	_, page := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if strings.ContainsFunc(page, func(c rune) bool { return bot.NeutralizeBidi(string(c)) == "" }) {
		t.Errorf("the page shows a bidirectional control")
	}
	for _, want := range []string{"invoicefdp.exe", "Oak Primary", "Ann Head", "photognp.exe", "Main building", "see attached"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
