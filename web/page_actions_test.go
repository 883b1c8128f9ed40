package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"

	"rfadesk/bot"
)

// pageCalls records every desk function the status page's buttons call.
type pageCalls struct {
	mu    sync.Mutex
	calls []string // "message RFA-1 <text> <file names>", "escalate ...", ...
	err   error    // what every call returns
}

func (p *pageCalls) record(s string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, s)
	return p.err
}

func (p *pageCalls) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func (p *pageCalls) message(kind string) func(context.Context, uint64, bot.RequesterMessage) error {
	return func(_ context.Context, num uint64, m bot.RequesterMessage) error {
		var names []string
		for _, a := range m.Attachments {
			names = append(names, fmt.Sprintf("%s=%q", a.Name, a.Data))
		}
		return p.record(fmt.Sprintf("%s %s %q %s", kind, bot.FormatRef(num), m.Text, strings.Join(names, ",")))
	}
}

// actionHandler is limitedActionHandler whose every request comes from
// an address of its own after the RFA's allowance has come back: the
// rate limits out of the way (TestPageActionsAreRateLimited tests them).
func actionHandler(t *testing.T, mod func(*Options)) (http.Handler, *pageCalls) {
	t.Helper()
	clk := &clock{now: fixedNow}
	h, calls := limitedActionHandler(t, func(o *Options) {
		o.Now = clk.Now
		if mod != nil {
			mod(o)
		}
	})
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		clk.advance(rfaPostBurst * rfaPostEvery)
		r.RemoteAddr = fmt.Sprintf("10.0.%d.%d:4000", n/250, n%250+1)
		h.ServeHTTP(w, r)
	}), calls
}

// limitedActionHandler is newTestHandler with every button's function
// recorded in calls, files of up to 100 bytes, and mod applied.
func limitedActionHandler(t *testing.T, mod func(*Options)) (http.Handler, *pageCalls) {
	t.Helper()
	calls := &pageCalls{}
	h := newTestHandler(t, func(o *Options) {
		o.AddMessage = calls.message("message")
		o.AnswerQuestion = calls.message("answer")
		o.Escalate = func(_ context.Context, num uint64, by bot.Actor, via, reason string) error {
			return calls.record(fmt.Sprintf("escalate %s %s %q", bot.FormatRef(num), by.ID, reason))
		}
		o.ConfirmFixed = func(_ context.Context, num uint64, by bot.Actor) error {
			return calls.record(fmt.Sprintf("fixed %s %s", bot.FormatRef(num), by.ID))
		}
		o.ReportStillBroken = func(_ context.Context, num uint64, by bot.Actor, reason string) error {
			return calls.record(fmt.Sprintf("broken %s %s %q", bot.FormatRef(num), by.ID, reason))
		}
		o.MaxFileBytes = 100
		o.PublicURL = "https://desk.example.org"
		if mod != nil {
			mod(o)
		}
	})
	return h, calls
}

// page1 is RFA-1's status page URL; csrf1 its anti-forgery value under
// the test handler's form key.
const page1 = "/rfa/RFA-1?t=" + token1

func csrfOf(ref, token string) string {
	h := &handler{formKey: []byte("test form key")}
	return h.csrfValue(ref, token)
}

var csrf1 = csrfOf("RFA-1", token1)

// part is one part of a multipart body: a field, or a file when file is
// not "".
type part struct{ name, file, value string }

// multipartBody encodes parts in order.
func multipartBody(t *testing.T, parts ...part) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.file != "" {
			hdr := textproto.MIMEHeader{}
			// As browsers send it: the name raw (UTF-8), quotes escaped.
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="%s"`, p.name, strings.ReplaceAll(p.file, `"`, `%22`)))
			hdr.Set("Content-Type", "text/plain")
			w, err = mw.CreatePart(hdr)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.value)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// send posts body with the content type and headers to h.
func send(t *testing.T, h http.Handler, target, ctype string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("POST", target, body)
	req.Header.Set("Content-Type", ctype)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func sendForm(t *testing.T, h http.Handler, target string, form url.Values, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	return send(t, h, target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), hdr)
}

// TestPageActionsRefuseForgery: a post without the anti-forgery field,
// with a wrong one, with another RFA's, or from another origin is
// refused with 403 and calls nothing; the page's own post (Origin
// "null", as our no-referrer pages make browsers send, or our host) is
// accepted.
func TestPageActionsRefuseForgery(t *testing.T) {
	h, calls := actionHandler(t, nil)
	esc := func(csrf string) url.Values {
		return url.Values{"action": {"escalate"}, "csrf": {csrf}}
	}
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no field", url.Values{"action": {"escalate"}}, nil},
		{"empty field", esc(""), nil},
		{"wrong field", esc("AAAA" + csrf1[4:]), nil},
		{"another RFA's field", esc(csrfOf("RFA-2", "token-of-rfa-2-BBBBBBBBBBBBBBBB")), nil},
		{"the status token as field", esc(token1), nil},
		{"other origin", esc(csrf1), map[string]string{"Origin": "https://evil.example"}},
		{"other referer", esc(csrf1), map[string]string{"Referer": "https://evil.example/x"}},
		{"cross-site fetch", esc(csrf1), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site fetch", esc(csrf1), map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"unparsable origin", esc(csrf1), map[string]string{"Origin": "::"}},
	}
	for _, c := range cases {
		res, _ := sendForm(t, h, page1, c.form, c.hdr)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", c.name, res.StatusCode)
		}
	}
	// Multipart: the field must come before any file.
	ct, body := multipartBody(t, part{"action", "", "message"}, part{"files", "a.txt", "hi"}, part{"csrf", "", csrf1})
	if res, _ := send(t, h, page1, ct, body, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("file before the field: %d, want 403", res.StatusCode)
	}
	ct, body = multipartBody(t, part{"action", "", "message"}, part{"text", "", "hi"})
	if res, _ := send(t, h, page1, ct, body, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("multipart without the field: %d, want 403", res.StatusCode)
	}
	if got := calls.got(); len(got) != 0 {
		t.Fatalf("refused posts called %q", got)
	}

	for _, hdr := range []map[string]string{
		nil,
		{"Origin": "null", "Sec-Fetch-Site": "same-origin"},
		{"Origin": "http://example.com"},                                           // httptest's Host
		{"Origin": "https://desk.example.org", "Referer": "https://evil.example/"}, // Origin wins
		{"Referer": "https://DESK.example.org/rfa/RFA-1"},
	} {
		res, _ := sendForm(t, h, page1, url.Values{"action": {"fixed"}, "csrf": {csrf1}}, hdr)
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("own page %v: %d, want 303", hdr, res.StatusCode)
		}
	}
}

// TestPageActionsWrongTokenIsTheSame404: a post to an unknown RFA, with a
// wrong or missing token or a bad ref answers byte for byte the 404 of
// GET, and calls nothing.
func TestPageActionsWrongTokenIsTheSame404(t *testing.T) {
	h, calls := actionHandler(t, nil)
	_, want := do(t, h, "GET", "/rfa/RFA-1?t=wrong", nil)
	form := url.Values{"action": {"escalate"}, "csrf": {csrf1}}
	for _, target := range []string{"/rfa/RFA-1?t=wrong", "/rfa/RFA-1", "/rfa/RFA-999?t=" + token1, "/rfa/nonsense?t=" + token1, "/rfa/RFA-2?t=" + token1} {
		res, body := sendForm(t, h, target, form, nil)
		if res.StatusCode != http.StatusNotFound || body != want {
			t.Errorf("%s: %d, same page as GET's 404: %v", target, res.StatusCode, body == want)
		}
	}
	if got := calls.got(); len(got) != 0 {
		t.Errorf("posts with wrong tokens called %q", got)
	}
}

// TestGetChangesNothing: a GET of the page (as a mail scanner opens a
// link), whatever its query or Accept, calls no desk function.
func TestGetChangesNothing(t *testing.T) {
	h, calls := actionHandler(t, nil)
	for _, target := range []string{
		page1, page1 + "&action=escalate&csrf=" + url.QueryEscape(csrf1),
		page1 + "&action=message&text=hi&csrf=" + url.QueryEscape(csrf1), page1 + "&escalated=1&done=message",
	} {
		for _, accept := range []string{"", "application/json"} {
			for _, method := range []string{"GET", "HEAD"} {
				if res, _ := do(t, h, method, target, map[string]string{"Accept": accept}); res.StatusCode != 200 {
					t.Errorf("%s %s: %d", method, target, res.StatusCode)
				}
			}
		}
	}
	if got := calls.got(); len(got) != 0 {
		t.Errorf("GETs called %q", got)
	}
}

// TestPageActionsAreRateLimited: once RFA-1's allowance is spent, posts
// with the right token and field get 429 and call nothing; one client's
// posts are limited whatever they post to.
func TestPageActionsAreRateLimited(t *testing.T) {
	h, calls := limitedActionHandler(t, nil)
	// Forged posts, even with the token, do not spend the allowance.
	for i := range 2 * rfaPostBurst {
		res := postFormFrom(t, h, fmt.Sprintf("203.0.113.%d:4000", i+1), page1, url.Values{"action": {"escalate"}, "csrf": {"forged"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("forged post %d: %d, want 403", i, res.StatusCode)
		}
	}
	form := url.Values{"action": {"escalate"}, "csrf": {csrf1}}
	for i := range rfaPostBurst + 2 {
		res := postFormFrom(t, h, fmt.Sprintf("192.0.2.%d:4000", i+1), page1, form)
		want := http.StatusSeeOther
		if i >= rfaPostBurst {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want || want == 429 && res.Header.Get("Retry-After") == "" {
			t.Errorf("post %d: %d, want %d", i, res.StatusCode, want)
		}
	}
	if n := len(calls.got()); n != rfaPostBurst {
		t.Errorf("%d calls, want %d", n, rfaPostBurst)
	}
	for i := range publicPostBurst + 1 {
		res := postFormFrom(t, h, "198.51.100.9:4000", "/rfa/RFA-2?t=wrong", form)
		if want := map[bool]int{true: 429, false: 404}[i == publicPostBurst]; res.StatusCode != want {
			t.Errorf("client post %d: %d, want %d", i, res.StatusCode, want)
		}
	}
}

func postFormFrom(t *testing.T, h http.Handler, remote, target string, form url.Values) *http.Response {
	t.Helper()
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// TestPageActionsCaps: a file over the cap, one file too many, files
// when the desk takes none, a body declared over the route's cap and a
// form over 64 KiB are refused with 413 and call nothing; within the caps
// the files reach AddMessage.
func TestPageActionsCaps(t *testing.T) {
	h, calls := actionHandler(t, nil)
	head := []part{{"csrf", "", csrf1}, {"action", "", "message"}, {"text", "", "see files"}}
	files := func(n, size int) []part {
		ps := append([]part{}, head...)
		for i := range n {
			ps = append(ps, part{"files", fmt.Sprintf("f%d.txt", i), strings.Repeat("x", size)})
		}
		return ps
	}
	for name, parts := range map[string][]part{
		"file over the cap":   files(1, 101),
		"too many files":      files(bot.MaxRequesterFiles+1, 1),
		"fields over the cap": append(append([]part{}, head...), part{"text", "", strings.Repeat("y", maxActionFields)}),
	} {
		ct, body := multipartBody(t, parts...)
		if res, _ := send(t, h, page1, ct, body, nil); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d, want 413", name, res.StatusCode)
		}
	}
	big := strings.Repeat("z", maxActionFields+bot.MaxRequesterFiles*(100+partOverhead)+1)
	if res, _ := sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {"message"}, "text": {big}}, nil); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the route's cap: %d, want 413", res.StatusCode)
	}
	if res, _ := sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {"message"}, "text": {big[:maxActionFields]}}, nil); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("urlencoded form over the cap: %d, want 413", res.StatusCode)
	}
	// The longest message the form allows fits, however it is encoded.
	longest := strings.Repeat("😀", bot.MaxRequesterText-1) + "\n"
	if res, _ := sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {"message"}, "text": {strings.ReplaceAll(longest, "\n", "\r\n")}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the longest message, urlencoded: %d, want 303", res.StatusCode)
	}
	ct, body := multipartBody(t, append(append([]part{}, head[:2]...), part{"text", "", longest})...)
	if res, _ := send(t, h, page1, ct, body, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the longest message, multipart: %d, want 303", res.StatusCode)
	}
	noFiles, noCalls := actionHandler(t, func(o *Options) { o.MaxFileBytes = 0 })
	ct, body = multipartBody(t, files(1, 1)...)
	if res, _ := send(t, noFiles, page1, ct, body, nil); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a file when the desk takes none: %d, want 413", res.StatusCode)
	}
	if got := append(calls.got(), noCalls.got()...); len(got) != 2 {
		t.Fatalf("refused posts called: %d calls, want the 2 longest messages only", len(got))
	}
	// Within the caps; an empty file input (no file name) is no file.
	ct, body = multipartBody(t, append(files(bot.MaxRequesterFiles, 100), part{"files", "", ""})...)
	res, _ := send(t, h, page1, ct, body, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page1+"&done=message" {
		t.Fatalf("within the caps: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := calls.got(); len(got) != 3 || strings.Count(got[2], "=\"xxx") != bot.MaxRequesterFiles || !strings.Contains(got[2], `"see files"`) {
		t.Errorf("calls %.200q", got)
	}
}

// TestButtonsFitTheState: each state shows only its buttons, a post of a
// button not shown is answered "refused" and calls nothing, and the
// lifecycle's buttons appear only when their functions are set.
func TestButtonsFitTheState(t *testing.T) {
	forms := map[string]string{
		"message": `value="message"`, "answer": `value="answer"`, "escalate": `value="escalate"`,
		"fixed": `value="fixed"`, "broken": `value="broken"`,
	}
	cases := []struct {
		status bot.Status
		shown  []string
	}{
		{bot.StatusNew, []string{"message", "escalate"}},
		{bot.StatusOpen, []string{"message", "escalate"}},
		{bot.StatusAwaitingRequester, []string{"answer", "escalate"}},
		{bot.StatusCleared, []string{"message", "escalate", "fixed", "broken"}},
		{bot.StatusClosed, nil},
	}
	for _, c := range cases {
		d := newDesk()
		d.rfas[1].Status = c.status
		h, calls := actionHandler(t, func(o *Options) { o.Desk = d })
		_, page := do(t, h, "GET", page1, nil)
		for name, marker := range forms {
			shown := strings.Contains(page, marker)
			want := false
			for _, s := range c.shown {
				want = want || s == name
			}
			if shown != want {
				t.Errorf("%s: %s shown %v, want %v", c.status, name, shown, want)
			}
			if want {
				continue
			}
			res, _ := sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {name}, "text": {"x"}}, nil)
			loc := res.Header.Get("Location")
			if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "&refused="+name) && !strings.HasSuffix(loc, "&escalated=0") {
				t.Errorf("%s: posting %s: %d %q", c.status, name, res.StatusCode, loc)
			}
		}
		if got := calls.got(); len(got) != 0 {
			t.Errorf("%s: buttons not shown called %q", c.status, got)
		}
	}
	d := newDesk()
	d.rfas[1].Status = bot.StatusCleared
	h, _ := actionHandler(t, func(o *Options) { o.Desk = d; o.ConfirmFixed, o.ReportStillBroken = nil, nil })
	if _, page := do(t, h, "GET", page1, nil); strings.Contains(page, forms["fixed"]) || strings.Contains(page, forms["broken"]) {
		t.Error("fixed/broken shown without their functions")
	}
}

// TestLifecycleButtonsDispatch: "it's fixed" and "still broken" call
// their functions as the requester, the reason cleaned; the page then
// says so. A desk refusal is said as refused.
func TestLifecycleButtonsDispatch(t *testing.T) {
	d := newDesk()
	d.rfas[1].Status = bot.StatusCleared
	h, calls := actionHandler(t, func(o *Options) { o.Desk = d })
	res, _ := sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {"fixed"}}, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != page1+"&done=fixed" {
		t.Fatalf("fixed: %d %q", res.StatusCode, loc)
	}
	sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {"broken"}, "reason": {" still\u202e down\r\n"}}, nil)
	if got := calls.got(); len(got) != 2 || got[0] != "fixed RFA-1 ann@oak.sch.uk" || got[1] != `broken RFA-1 ann@oak.sch.uk "still down"` {
		t.Errorf("calls %q", got)
	}
	if _, page := do(t, h, "GET", page1+"&done=fixed", nil); !strings.Contains(page, "Thank you for confirming that it is fixed.") {
		t.Error("page does not say the fix was confirmed")
	}
	calls.err = fmt.Errorf("already closed: %w", bot.ErrNotAllowed)
	res, _ = sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {"fixed"}}, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != page1+"&refused=fixed" {
		t.Errorf("refused: %d %q", res.StatusCode, loc)
	}
	if res, _ := sendForm(t, h, page1, url.Values{"csrf": {csrf1}, "action": {"dance"}}, nil); res.StatusCode != 400 {
		t.Errorf("unknown action: %d, want 400", res.StatusCode)
	}
	// The outcome banner shows fixed words only, never the query.
	if _, page := do(t, h, "GET", page1+"&refused=%3Cscript%3E&done=%3Cb%3E", nil); strings.Contains(page, "<script>") || strings.Contains(page, "<b>") {
		t.Error("the query reached the page")
	}
}
