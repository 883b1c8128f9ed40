package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// portalRig is the web side over a real, running desk and a real store.
type portalRig struct {
	t    *testing.T
	h    http.Handler
	desk *bot.Desk
	now  time.Time
	ip   string // RemoteAddr of the next request
}

const portalOrigin = "https://support.desk.test"

func newPortalRig(t *testing.T, maxFile int64) *portalRig {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "rfadesk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rig := &portalRig{t: t, now: fixedNow, ip: "192.0.2.1:1234"}
	desk := bot.NewDesk(db, bot.DeskConfig{
		Name: "Acme Service Desk", Address: bot.Address{Email: "support@desk.test"}, BaseURL: portalOrigin,
		Organisations: []bot.Organisation{{Name: "Oak Primary School", Domains: []string{"oakprimary.sch.uk"}}},
	}, &bot.DeskOptions{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return rig.now }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { desk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	rig.desk = desk
	rig.h = newTestHandler(t, func(o *Options) {
		o.Desk = desk
		o.Now = func() time.Time { return rig.now }
		o.Submit, o.ConfirmSubmission = desk.Submit, desk.ConfirmSubmission
		o.Components = []string{"Login", `Reports <"beta">`}
		o.MaxAttachmentBytes = maxFile
		o.BaseURL = portalOrigin + "/"
	})
	return rig
}

type upload struct{ name, data string }

// formField finds the anti-forgery field of a page.
var formField = regexp.MustCompile(`name="f" value="([^"]+)"`)

// formToken GETs path and returns the form's anti-forgery field.
func (rig *portalRig) formToken(path string) string {
	rig.t.Helper()
	res, page := rig.do("GET", path, nil, "", nil)
	m := formField.FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		rig.t.Fatalf("GET %s: %d, no form field:\n%s", path, res.StatusCode, page)
	}
	return html.UnescapeString(m[1])
}

func (rig *portalRig) do(method, target string, body io.Reader, contentType string, hdr map[string]string) (*http.Response, string) {
	rig.t.Helper()
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = rig.ip
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	rig.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

// submit posts the form (with a fresh anti-forgery field unless fields
// sets "f") from this site's origin unless origin says otherwise.
func (rig *portalRig) submit(fields url.Values, files []upload, origin string) (*http.Response, string) {
	rig.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if _, ok := fields["f"]; !ok {
		mw.WriteField("f", rig.formToken("/new"))
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("files", f.name)
		io.WriteString(w, f.data)
	}
	mw.Close()
	hdr := map[string]string{}
	if origin != "" {
		hdr["Origin"] = origin
	}
	return rig.do("POST", "/new", &buf, mw.FormDataContentType(), hdr)
}

func (rig *portalRig) rfa(num uint64) *bot.RFA {
	rig.t.Helper()
	r, err := rig.desk.RFAWithTexts(context.Background(), num)
	if err != nil {
		rig.t.Fatal(err)
	}
	return r
}

func (rig *portalRig) count() int {
	n := 0
	for num := uint64(1); ; num++ {
		if _, err := rig.desk.RFASummary(context.Background(), num); err != nil {
			return n
		}
		n++
	}
}

const hostile = `<script>alert("x")</script>`

func TestPortalFormIsSafeToGet(t *testing.T) {
	rig := newPortalRig(t, 1<<20)
	res, page := rig.do("GET", "/new", nil, "", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /new: %d", res.StatusCode)
	}
	for _, want := range []string{
		`<form class="card newrfa" method="post" action="/new" enctype="multipart/form-data">`,
		`<label for="email">`, `<input id="email" name="email" type="email"`, `name="component" value="Login"`,
		`value="Reports &lt;&#34;beta&#34;&gt;"`, `Up to 5 files, each at most 1 MB.`, `72 hours`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(page, `<"beta">`) || strings.Contains(page, "<script") {
		t.Error("a component name is not escaped, or the page has script")
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("headers %v", res.Header)
	}
	for _, p := range []string{"/new", "/new/sent", "/new/confirm?t=1.abc", "/new/done?ref=RFA-1&t=x"} {
		rig.do("GET", p, nil, "", nil)
	}
	if n := rig.count(); n != 0 {
		t.Errorf("GETs created %d RFAs", n)
	}
}

func TestPortalSubmitFromKnownDomain(t *testing.T) {
	rig := newPortalRig(t, 1<<20)
	res, _ := rig.submit(url.Values{
		"name": {"Priya " + hostile}, "email": {"Priya@OakPrimary.sch.uk"}, "site": {"Main building"},
		"component": {"Login", `Reports <"beta">`}, "can_replicate": {"yes"},
		"error_message": {"E1042"}, "description": {"The register will not save.\n" + hostile},
	}, []upload{{"shot.png", "\x89PNG\r\n\x1a\nrest"}}, portalOrigin)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/new/done?ref=RFA-1&t=") {
		t.Fatalf("POST /new: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	r := rig.rfa(1)
	if r.Status != bot.StatusNew || r.Channel != bot.ChannelPortal || r.Organisation != "Oak Primary School" ||
		strings.Join(r.Report.Components, "|") != `Login|Reports <"beta">` || r.Report.CanReplicate != bot.ReplicateYes {
		t.Errorf("RFA %+v", r)
	}
	if a := r.Messages[0].Attachments; len(a) != 1 || a[0].Name != "shot.png" || a[0].ContentType != "image/png" {
		t.Errorf("attachments %+v", a)
	}
	res, page := rig.do("GET", res.Header.Get("Location"), nil, "", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "RFA-1") || !strings.Contains(page, `href="/rfa/RFA-1?t=`+url.QueryEscape(r.Token)+`"`) {
		t.Errorf("done page %d:\n%s", res.StatusCode, page)
	}
	if res, _ := rig.do("GET", "/new/done?ref=RFA-1&t=wrong", nil, "", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("done page with a wrong token: %d, want 404", res.StatusCode)
	}
}

func TestPortalEscapesWhatItShowsAgain(t *testing.T) {
	rig := newPortalRig(t, 1<<20)
	res, page := rig.submit(url.Values{"name": {hostile}, "email": {"a@oakprimary.sch.uk"}, "site": {hostile}}, nil, portalOrigin)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Describe the problem") {
		t.Fatalf("no description: %d\n%s", res.StatusCode, page)
	}
	if strings.Contains(page, "<script") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("the form shows a sender's string unescaped:\n%s", page)
	}
	if rig.count() != 0 {
		t.Error("an invalid form created an RFA")
	}
}

func TestPortalRefusesForgedPosts(t *testing.T) {
	rig := newPortalRig(t, 1<<20)
	good := url.Values{"email": {"a@oakprimary.sch.uk"}, "description": {"x"}}
	for name, c := range map[string]struct {
		origin string
		form   string
	}{
		"no origin":       {"", ""},
		"null origin":     {"null", ""},
		"other site":      {"https://evil.example", ""},
		"forged field":    {portalOrigin, "1700000000.AAAA"},
		"stale field":     {portalOrigin, "stale"},
		"no field at all": {portalOrigin, "-"},
	} {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		switch c.form {
		case "stale":
			old := rig.now
			rig.now = rig.now.Add(-5 * time.Hour)
			f.Set("f", rig.formToken("/new"))
			rig.now = old
		case "-":
			f.Set("f", "")
		case "":
		default:
			f.Set("f", c.form)
		}
		if res, _ := rig.submit(f, nil, c.origin); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, res.StatusCode)
		}
	}
	if n := rig.count(); n != 0 {
		t.Errorf("forged posts created %d RFAs", n)
	}
}

func TestPortalCapsFilesAndBodies(t *testing.T) {
	rig := newPortalRig(t, 1<<10)
	base := url.Values{"email": {"a@oakprimary.sch.uk"}, "description": {"x"}}
	big := strings.Repeat("x", 1<<10+1)
	six := make([]upload, 6)
	for i := range six {
		six[i] = upload{fmt.Sprintf("f%d.txt", i), "hi"}
	}
	for name, c := range map[string]struct {
		files []upload
		code  int
		want  string
	}{
		"a file over the cap": {[]upload{{"big.log", big}}, http.StatusUnprocessableEntity, "is larger than 1 KB"},
		"too many files":      {six, http.StatusUnprocessableEntity, "Attach at most 5 files"},
	} {
		res, page := rig.submit(base, c.files, portalOrigin)
		if res.StatusCode != c.code || !strings.Contains(page, c.want) || !strings.Contains(page, "choose them again") {
			t.Errorf("%s: %d, want %d with %q", name, res.StatusCode, c.code, c.want)
		}
	}
	// A body over the cap, declared or not, is refused.
	huge := strings.Repeat("x", 1<<20)
	res, _ := rig.do("POST", "/new", strings.NewReader(huge), "multipart/form-data; boundary=x", map[string]string{"Origin": portalOrigin})
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared huge body: %d, want 413", res.StatusCode)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("f", rig.formToken("/new"))
	mw.WriteField("email", "a@oakprimary.sch.uk")
	w, _ := mw.CreateFormFile("files", "huge.bin")
	w.Write([]byte(huge))
	mw.Close()
	req := httptest.NewRequest("POST", "/new", &buf)
	req.ContentLength = -1 // sent chunked: only the read finds it too large
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", portalOrigin)
	rec := httptest.NewRecorder()
	rig.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "The form was too large") {
		t.Errorf("undeclared huge body: %d, want 413 with the form", rec.Code)
	}
	long := url.Values{"email": {"a@oakprimary.sch.uk"}, "description": {strings.Repeat("x", submitMax.Description+1)}}
	if res, page := rig.submit(long, nil, portalOrigin); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Description is too long") {
		t.Errorf("an over-long description: %d", res.StatusCode)
	}
	if n := rig.count(); n != 0 {
		t.Errorf("refused posts created %d RFAs", n)
	}
	// The bound counts characters as the browser's maxlength does: CRLF
	// line breaks (two bytes each) do not make a full field too long.
	lines := url.Values{"email": {"b@oakprimary.sch.uk"}, "description": {strings.Repeat("é\r\n", submitMax.Description/2)}}
	if res, _ := rig.submit(lines, nil, portalOrigin); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a description at its bound in characters: %d, want 303", res.StatusCode)
	}
}

func TestPortalRateLimits(t *testing.T) {
	rig := newPortalRig(t, 1<<10)
	one := func(email, ip string) int {
		rig.ip = ip
		res, _ := rig.submit(url.Values{"email": {email}, "description": {"x"}}, nil, portalOrigin)
		return res.StatusCode
	}
	// Per address: plus tags and case count as one mailbox.
	for i, e := range []string{"a@oakprimary.sch.uk", "A+1@oakprimary.sch.uk", "a+2@OAKPRIMARY.sch.uk"} {
		if code := one(e, fmt.Sprintf("192.0.2.%d:1", 10+i)); code != http.StatusSeeOther {
			t.Fatalf("submission %d: %d", i, code)
		}
	}
	if code := one("a+3@oakprimary.sch.uk", "192.0.2.20:1"); code != http.StatusTooManyRequests {
		t.Errorf("fourth from one address: %d, want 429", code)
	}
	// Per client address.
	for i := range submitClientBurst {
		if code := one(fmt.Sprintf("p%d@oakprimary.sch.uk", i), "198.51.100.7:1"); code != http.StatusSeeOther {
			t.Fatalf("client submission %d: %d", i, code)
		}
	}
	if code := one("q@oakprimary.sch.uk", "198.51.100.7:2"); code != http.StatusTooManyRequests {
		t.Errorf("one client past its limit: %d, want 429", code)
	}
}

func TestPortalHoldsUnknownDomainUntilConfirmed(t *testing.T) {
	rig := newPortalRig(t, 1<<10)
	res, _ := rig.submit(url.Values{"email": {"x@stranger.example"}, "description": {"help"}}, nil, portalOrigin)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/new/sent" {
		t.Fatalf("POST: %d to %q, want 303 to /new/sent", res.StatusCode, res.Header.Get("Location"))
	}
	if _, page := rig.do("GET", "/new/sent", nil, "", nil); !strings.Contains(page, "Check your email") || strings.Contains(page, "RFA-1") {
		t.Errorf("sent page:\n%s", page)
	}
	items, err := rig.desk.Outbox(context.Background())
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox %d items, %v; want the confirmation mail", len(items), err)
	}
	link := regexp.MustCompile(`https://\S+`).FindString(items[0].Mail.Text)
	u, err := url.Parse(link)
	if err != nil || u.Path != "/new/confirm" {
		t.Fatalf("confirmation link %q", link)
	}
	// Following the link (as a mail scanner does) confirms nothing.
	confirmPath := u.Path + "?" + u.RawQuery
	res, page := rig.do("GET", confirmPath, nil, "", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `<form method="post" action="/new/confirm">`) {
		t.Fatalf("confirm page %d:\n%s", res.StatusCode, page)
	}
	if r := rig.rfa(1); r.Status != bot.StatusUnverified {
		t.Fatalf("GET confirmed it: %s", r.Status)
	}
	// Staff can list held submissions.
	if res, body := rig.do("GET", "/api/rfas?status=unverified", nil, "", map[string]string{"Authorization": "Bearer " + adminToken}); res.StatusCode != http.StatusOK || !strings.Contains(body, `"RFA-1"`) {
		t.Errorf("admin list of held submissions: %d %s", res.StatusCode, body)
	}
	f := rig.formToken(confirmPath)
	post := func(tok, origin string) *http.Response {
		body := url.Values{"f": {f}, "t": {tok}}.Encode()
		res, _ := rig.do("POST", "/new/confirm", strings.NewReader(body), "application/x-www-form-urlencoded", map[string]string{"Origin": origin})
		return res
	}
	if res := post(u.Query().Get("t"), "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("confirm from another site: %d, want 403", res.StatusCode)
	}
	if res := post("1.wrong", portalOrigin); res.StatusCode != http.StatusNotFound {
		t.Errorf("a wrong token: %d, want 404", res.StatusCode)
	}
	res = post(u.Query().Get("t"), portalOrigin)
	r := rig.rfa(1)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != donePath(r) || r.Status != bot.StatusNew {
		t.Errorf("confirm: %d to %q, status %s", res.StatusCode, res.Header.Get("Location"), r.Status)
	}
}

// TestLandingPageLinksTheFormWhenItIsOn: the landing page offers the web
// form only when the desk takes submissions.
func TestLandingPageLinksTheFormWhenItIsOn(t *testing.T) {
	if _, page := do(t, newTestHandler(t, nil), "GET", "/", nil); strings.Contains(page, `href="/new"`) {
		t.Error("the landing page links a web form that is off")
	}
	rig := newPortalRig(t, 1024)
	if _, page := rig.do("GET", "/", nil, "", nil); !strings.Contains(page, `<a href="/new">fill in the web form</a>`) {
		t.Errorf("the landing page does not link the web form:\n%s", page)
	}
}
