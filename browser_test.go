package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's headless Chromium through the pages a
// requester sees. They skip when Chromium is not installed, unless
// RFADESK_REQUIRE_CHROMIUM=1 (as CI sets it). With RFADESK_SCREENSHOTS=DIR
// they also write the README's screenshots there.

// browser returns a chromedp context on a fresh headless Chromium, closed
// when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("RFADESK_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("RFADESK_REQUIRE_CHROMIUM=1 but chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(412, 915), // a phone: the pages must read well there
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// screenshot saves the whole page as DIR/name.png when
// RFADESK_SCREENSHOTS=DIR is set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("RFADESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// text returns the visible text of the first element matching the CSS
// selector css.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

// waitText waits (up to ten seconds) until the text of css holds want,
// and returns the text it last read. A read that fails because the page
// is still navigating (a form's redirect destroys the document being
// read: "Cannot find context with specified id") is tried again; one
// that never succeeds fails the test.
func waitText(t *testing.T, ctx context.Context, css, want string) string {
	t.Helper()
	var got string
	var err error
	read := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var s string
		if s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css))); err != nil {
			continue
		}
		got, read = s, true
		if strings.Contains(got, want) {
			break
		}
	}
	if !read {
		t.Fatalf("text of %s: %v", css, err)
	}
	return got
}

// demoDaemon runs the demo's world (embedded IMAP and SMTP, the seeded
// mails) with the daemon until the test ends, and returns it once the
// first acknowledgements are out.
func demoDaemon(t *testing.T) *demoEnv {
	t.Helper()
	env, err := startDemo("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, env.cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelWarn), Listener: env.ln, Sent: env.sent, StoreNoSync: true})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		env.Close()
	})
	waitCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if _, err := env.smtp.Wait(waitCtx, 1); err != nil {
		t.Fatalf("waiting for an acknowledgement: %v", err)
	}
	return env
}

// statusLinkOf returns the status link in the first captured mail to addr.
func statusLinkOf(t *testing.T, env *demoEnv, addr string) string {
	t.Helper()
	base := "http://" + env.ln.Addr().String()
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/rfa/RFA-\d+\?t=[A-Za-z0-9_%-]+`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range env.smtp.Messages() {
			if m.To[0] == addr {
				if l := link.FindString(plainText(t, m.Data)); l != "" {
					return l
				}
			}
		}
	}
	t.Fatalf("no acknowledgement with a status link reached %s", addr)
	return ""
}

// TestBrowserStatusPageFromAcknowledgement opens the status link of a real
// acknowledgement in Chromium and reads the page as the requester sees it.
func TestBrowserStatusPageFromAcknowledgement(t *testing.T) {
	ctx := browser(t)
	env := demoDaemon(t)
	link := statusLinkOf(t, env, "s.okafor@oakprimary.sch.uk")
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	heading := text(t, ctx, "h1")
	body := text(t, ctx, "body")
	if heading != "Staff cannot log in to the MIS this morning" {
		t.Errorf("heading %q is not the RFA's subject", heading)
	}
	for _, want := range []string{"RFA-1", "Conversation", "Received"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not show %q:\n%s", want, body)
		}
	}
	screenshot(t, ctx, "status-page")

	// The requester adds a message with the page's own form.
	const msg = "The error also shows on the office PC."
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("message-text"), msg),
		chromedp.Submit(chromedp.ID("message-text")),
		chromedp.WaitVisible(chromedp.CSS("main")),
	); err != nil {
		t.Fatal(err)
	}
	if body := waitText(t, ctx, "body", msg); !strings.Contains(body, msg) {
		t.Errorf("the page does not show the message sent from it:\n%s", body)
	}

	// Staff clear it (the admin API); the requester presses It's fixed.
	base := "http://" + env.ln.Addr().String()
	adminPost(t, base+"/api/rfas/RFA-1/actions", `{"action": "clear", "resolution": "The MIS service is restarted."}`)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.Click(chromedp.CSS(`form input[name="action"][value="fixed"] ~ button`)),
		chromedp.WaitVisible(chromedp.CSS("main")),
	); err != nil {
		t.Fatal(err)
	}
	if body := waitText(t, ctx, "body", "Closed"); !strings.Contains(body, "Closed") {
		t.Errorf("after It's fixed the page does not say Closed:\n%s", body)
	}
}

// TestBrowserOrganisationPage opens a school's private page from a link
// the admin API made, and finds its RFAs and no other school's.
func TestBrowserOrganisationPage(t *testing.T) {
	ctx := browser(t)
	env := demoDaemon(t)
	base := "http://" + env.ln.Addr().String()
	statusLinkOf(t, env, "s.okafor@oakprimary.sch.uk") // Oak Primary's RFA is in
	var link struct{ URL string }
	if err := json.Unmarshal(adminPost(t, base+"/api/org-links", `{"organisation": "Oak Primary School"}`), &link); err != nil || link.URL == "" {
		t.Fatalf("org link: %v %+v", err, link)
	}
	u, err := url.Parse(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+u.Path+"?"+u.RawQuery)); err != nil {
		t.Fatal(err)
	}
	body := waitText(t, ctx, "body", "RFA-")
	if !strings.Contains(body, "Oak Primary School") || !strings.Contains(body, "Staff cannot log in") {
		t.Errorf("the school's page lacks its name or its RFA:\n%s", body)
	}
	if strings.Contains(body, "Elm Park") || strings.Contains(body, "Hollyfield") {
		t.Errorf("the school's page shows another school:\n%s", body)
	}
	screenshot(t, ctx, "organisation-page")
}

// adminPost POSTs body as JSON to url with the demo's admin token and
// returns the answer's body; an answer outside 2xx fails the test.
func adminPost(t *testing.T, url, body string) []byte {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+demoAdminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, b)
	}
	return b
}

// TestBrowserNewForm logs an RFA with the self-service form, as a school
// whose domain the desk knows, and follows the status link it shows.
func TestBrowserNewForm(t *testing.T) {
	ctx := browser(t)
	env := demoDaemon(t)
	base := "http://" + env.ln.Addr().String()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/new")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "new-form")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("name"), "Sam Okafor"),
		chromedp.SetValue(chromedp.ID("email"), "s.okafor@oakprimary.sch.uk"),
		chromedp.SetValue(chromedp.ID("subject"), "Registers will not save"),
		chromedp.SetValue(chromedp.ID("site"), "Main office"),
		chromedp.SetValue(chromedp.ID("action_taken"), "Level 1: restarted the PC"),
		chromedp.SetValue(chromedp.ID("error_message"), "Error 1234: save failed"),
		chromedp.SetValue(chromedp.ID("description"), "Since this morning no register saves."),
		chromedp.Submit(chromedp.ID("description")),
	); err != nil {
		t.Fatal(err)
	}
	heading := waitText(t, ctx, "h1", "is logged")
	ref := regexp.MustCompile(`RFA-\d+`).FindString(heading)
	if ref == "" {
		t.Fatalf("the result page names no reference: %q", heading)
	}
	screenshot(t, ctx, "new-done")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href*="/rfa/`+ref+`?t="]`)),
		chromedp.WaitVisible(chromedp.CSS("main")),
	); err != nil {
		t.Fatal(err)
	}
	if body := waitText(t, ctx, "body", "Registers will not save"); !strings.Contains(body, ref) {
		t.Errorf("the status link does not show %s:\n%s", ref, body)
	}
}

// TestBrowserStatusBoard reads the public status board: open or closed,
// how to reach the desk, and no RFA data.
func TestBrowserStatusBoard(t *testing.T) {
	ctx := browser(t)
	env := demoDaemon(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+env.ln.Addr().String()+"/status")); err != nil {
		t.Fatal(err)
	}
	body := text(t, ctx, "body")
	if !strings.Contains(body, env.cfg.Desk.Address.Email) || strings.Contains(body, "RFA-") {
		t.Errorf("the board lacks the desk's address or shows RFA data:\n%s", body)
	}
	screenshot(t, ctx, "status-board")
}

// TestBrowserReportPage opens the admin report page of the current month
// with the admin token, after a gauge crossing, a surge and an outage
// notice, and finds the service sections beside the RFA figures.
func TestBrowserReportPage(t *testing.T) {
	ctx := browser(t)
	env := demoDaemon(t)
	base := "http://" + env.ln.Addr().String()
	adminPost(t, base+"/api/capacity", `{"service": "mail-store", "used": 75, "limit": 100}`)
	adminPost(t, base+"/api/capacity/surge", `{"service": "portal", "reason": "Enrolment week", "hours": 48}`)
	var outage struct{ ID uint64 }
	if err := json.Unmarshal(adminPost(t, base+"/api/outages", `{"title": "Portal down", "components": ["portal"]}`), &outage); err != nil || outage.ID == 0 {
		t.Fatalf("outage: %v %+v", err, outage)
	}
	adminPost(t, base+"/api/outages/"+strconv.FormatUint(outage.ID, 10)+"/end", `{"resolution": "Restarted."}`)

	month := time.Now().UTC().Format("2006-01") // the desk's month but for a few hours at its turn
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Authorization": "Bearer " + demoAdminToken},
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/reports?month="+month)); err != nil {
		t.Fatal(err)
	}
	body := waitText(t, ctx, "body", "Availability")
	for _, want := range []string{"Service report " + month, "All RFAs", "By organisation", "Releases", "Capacity",
		"Current gauges", "mail-store", "Enrolment week", "Availability", "portal", "rfadesk"} {
		if !strings.Contains(body, want) {
			t.Errorf("the report page lacks %q:\n%s", want, body)
		}
	}
	screenshot(t, ctx, "report-page")
}
