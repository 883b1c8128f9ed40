package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// fakeDesk is an in-memory Desk: a map of RFAs, and an error to inject.
type fakeDesk struct {
	rfas map[uint64]*bot.RFA
	err  error
}

var _ Desk = (*fakeDesk)(nil)

func (d *fakeDesk) RFA(ctx context.Context, num uint64) (*bot.RFA, error) {
	if d.err != nil {
		return nil, d.err
	}
	r, ok := d.rfas[num]
	if !ok {
		return nil, fmt.Errorf("fake: RFA %d: %w", num, bot.ErrNotFound)
	}
	return r, nil
}

func (d *fakeDesk) RFAWithTexts(ctx context.Context, num uint64) (*bot.RFA, error) {
	return d.RFA(ctx, num)
}

func (d *fakeDesk) RFASummary(ctx context.Context, num uint64) (*bot.RFASummary, error) {
	r, err := d.RFA(ctx, num)
	if err != nil {
		return nil, err
	}
	s := bot.SummaryOf(r)
	return &s, nil
}

// RFAPage pages by number; of the filters it applies status only (the
// real ones are bot's, tested there and in rfalist_test.go).
func (d *fakeDesk) RFAPage(ctx context.Context, q bot.RFAQuery) (bot.RFAPage, error) {
	if d.err != nil {
		return bot.RFAPage{}, d.err
	}
	if q.Limit == 0 {
		q.Limit = bot.DefaultRFAPage
	}
	var nums []uint64
	for n := range d.rfas {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	var p bot.RFAPage
	for _, n := range nums {
		if n <= q.After || (q.Status != "" && d.rfas[n].Status != q.Status) {
			continue
		}
		if len(p.RFAs) == q.Limit {
			p.Next = p.RFAs[len(p.RFAs)-1].Num
			break
		}
		p.RFAs = append(p.RFAs, bot.SummaryOf(d.rfas[n]))
	}
	return p, nil
}

const (
	adminToken = "admin-secret-token"
	token1     = "s3cr3t-token-of-rfa-1_AAAAAAAAAA"
)

// fixedNow is the test clock: a winter time, so Europe/London shows GMT.
var fixedNow = time.Date(2026, 1, 14, 10, 30, 0, 0, time.UTC)

// fullRFA returns an RFA with every report field set and some hostile text.
func fullRFA() *bot.RFA {
	t0 := time.Date(2026, 1, 12, 8, 5, 0, 0, time.UTC)
	return &bot.RFA{
		Num: 1, Status: bot.StatusOpen, Channel: bot.ChannelEmail,
		Subject:      `<script>alert(1)</script> "quoted" & 'single'`,
		Created:      t0,
		Requester:    bot.Address{Name: "Ann Head", Email: "ann@oak.sch.uk"},
		Organisation: "Oak Primary", Trust: "Acorn Trust",
		Report: bot.Report{
			Site: "Main building", Components: []string{"MIS", "Email"}, Level: "Gold",
			ActionTaken:  "Restarted the server",
			ErrorMessage: `"'><img src=x onerror=alert(1)>`,
			CanReplicate: bot.ReplicateYes,
		},
		Token: token1,
		Flag:  "named another school's RFA",
		// Moderate: 3 working days from Mon 08:05, so due Thu 15 Jan 08:05.
		Severity: bot.SeverityModerate, SuggestedSeverity: bot.SeveritySerious,
		Assignee: "Priya Shah (discord:1234)",
		Messages: []bot.Message{
			{At: t0, Direction: bot.Inbound, From: bot.Address{Name: "Ann Head", Email: "ann@oak.sch.uk"},
				Text: "The MIS is down.\n<b>not bold</b>", Attachments: []bot.Attachment{{Name: "screen.png"}}},
			{At: t0.Add(time.Minute), Direction: bot.Outbound, From: bot.Address{Name: "Service Desk", Email: "support@desk.test"},
				Text: "Thanks, logged as RFA-1."},
		},
		Events: []bot.Event{
			{At: t0, Kind: bot.EventCreated, Text: "Logged from email", Actor: "ann@oak.sch.uk"},
			{At: t0, Kind: bot.EventFlagged, Text: "INTERNAL-FLAG-TEXT", Actor: "rfadesk"},
			{At: t0.Add(time.Minute), Kind: bot.EventMailSent, Text: "Acknowledgement sent", Actor: "rfadesk"},
			{At: t0.Add(10 * time.Minute), Kind: bot.EventSeverity, Text: "moderate", Actor: "Priya Shah (discord:1234)"},
			{At: t0.Add(10 * time.Minute), Kind: bot.EventAssigned, Text: "INTERNAL-ASSIGNEE-TEXT", Actor: "Priya Shah (discord:1234)"},
			{At: t0.Add(20 * time.Minute), Kind: bot.EventNote, Text: "INTERNAL-NOTE-TEXT", Actor: "Priya Shah (discord:1234)"},
			// Meets the response and first-update clocks (09:00 GMT).
			{At: t0.Add(55 * time.Minute), Kind: bot.EventStatusUpdate, Text: "We are restoring the MIS.", Actor: "Priya Shah (discord:1234)"},
			{At: t0.Add(30 * time.Hour), Kind: bot.EventJeopardy, Text: "workaround 50%", Actor: "rfadesk"},
		},
	}
}

// bareRFA has no report fields at all.
func bareRFA() *bot.RFA {
	return &bot.RFA{Num: 2, Status: bot.StatusNew, Subject: "Printer", Created: fixedNow,
		Requester: bot.Address{Email: "bob@elm.sch.uk"}, Token: "token-of-rfa-2-BBBBBBBBBBBBBBBB"}
}

func newDesk() *fakeDesk {
	return &fakeDesk{rfas: map[uint64]*bot.RFA{1: fullRFA(), 2: bareRFA()}}
}

// testLogger sends the handler's logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testPolicy is the real default SLA on the real default calendar.
var testPolicy = bot.DefaultSLAPolicy(workcal.Default())

// newTestHandler returns a handler over newDesk with the real default
// SLA's clocks at fixedNow and an Escalate that does nothing; mod may
// change any option.
func newTestHandler(t *testing.T, mod func(*Options)) http.Handler {
	t.Helper()
	opts := Options{
		Desk: newDesk(), AdminToken: adminToken,
		SupportEmail: "support@desk.test", Logger: testLogger(t),
		Now: func() time.Time { return fixedNow },
		Settings: func() Settings {
			return Settings{DeskName: "Acme Service Desk",
				Clocks: func(r *bot.RFA) []bot.ClockState { return testPolicy.Clocks(r, fixedNow) }}
		},
		Escalate: func(context.Context, uint64, bot.Actor, string, string) error { return nil },
		FormKey:  []byte("test form key"),
	}
	if mod != nil {
		mod(&opts)
	}
	return NewHandler(opts)
}

// withSettings changes o's settings: they are what o.Settings returned
// (the zero Settings if nil), with change applied.
func withSettings(o *Options, change func(*Settings)) {
	get := o.Settings
	o.Settings = func() Settings {
		var s Settings
		if get != nil {
			s = get()
		}
		change(&s)
		return s
	}
}

// do performs one request and returns the response with its body read.
func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestHealthz(t *testing.T) {
	healthy, reason := true, ""
	h := newTestHandler(t, func(o *Options) {
		o.Health = func() (bool, string) { return healthy, reason }
	})
	res, body := do(t, h, "GET", "/healthz", nil)
	if res.StatusCode != 200 || body != "ok" {
		t.Errorf("healthy: got %d %q, want 200 \"ok\"", res.StatusCode, body)
	}
	// The public answer is terse: the reason names the mailbox account
	// and what failed, and only the admin token sees it.
	healthy, reason = false, "imap.username support@oak.sch.uk: login refused\nsecond line"
	res, body = do(t, h, "GET", "/healthz", nil)
	if res.StatusCode != 503 || body != "unhealthy" {
		t.Errorf("unhealthy, no token: got %d %q, want 503 \"unhealthy\"", res.StatusCode, body)
	}
	for _, auth := range []string{"Bearer wrong", "Basic " + adminToken, adminToken} {
		if _, body := do(t, h, "GET", "/healthz", map[string]string{"Authorization": auth}); body != "unhealthy" {
			t.Errorf("Authorization %q: body %q, want \"unhealthy\"", auth, body)
		}
	}
	res, body = do(t, h, "GET", "/healthz", map[string]string{"Authorization": "Bearer " + adminToken})
	if res.StatusCode != 503 || body != "unhealthy: imap.username support@oak.sch.uk: login refused second line" {
		t.Errorf("unhealthy, admin token: got %d %q", res.StatusCode, body)
	}
	// Without an admin API nobody sees the reason.
	noAdmin := newTestHandler(t, func(o *Options) {
		o.AdminToken = ""
		o.Health = func() (bool, string) { return false, "secret detail" }
	})
	if _, body := do(t, noAdmin, "GET", "/healthz", map[string]string{"Authorization": "Bearer "}); body != "unhealthy" {
		t.Errorf("no admin API: body %q", body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	// Nil Health means healthy.
	res, body = do(t, newTestHandler(t, nil), "GET", "/healthz", nil)
	if res.StatusCode != 200 || body != "ok" {
		t.Errorf("nil Health: got %d %q", res.StatusCode, body)
	}
}

func TestAPIAuth(t *testing.T) {
	h := newTestHandler(t, nil)
	for _, path := range []string{"/api/rfas", "/api/rfas/RFA-1", "/api/rfas/RFA-999"} {
		for name, auth := range map[string]string{
			"missing":   "",
			"wrong":     "Bearer wrong-token",
			"prefix":    "Bearer " + adminToken[:5],
			"longer":    "Bearer " + adminToken + "x",
			"basic":     "Basic " + adminToken,
			"no scheme": adminToken,
		} {
			res, body := do(t, h, "GET", path, map[string]string{"Authorization": auth})
			if res.StatusCode != 401 {
				t.Errorf("%s with %s token: got %d, want 401", path, name, res.StatusCode)
			}
			if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s with %s token: WWW-Authenticate %q", path, name, res.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(body, "ann@oak.sch.uk") {
				t.Errorf("%s with %s token leaked data: %s", path, name, body)
			}
		}
	}
	res, _ := do(t, h, "GET", "/api/rfas", map[string]string{"Authorization": "bearer " + adminToken})
	if res.StatusCode != 200 {
		t.Errorf("lower-case scheme: got %d, want 200", res.StatusCode)
	}
}

func TestAPIDisabled(t *testing.T) {
	h := newTestHandler(t, func(o *Options) { o.AdminToken = "" })
	for _, auth := range []string{"", "Bearer ", "Bearer " + adminToken} {
		for _, path := range []string{"/api/rfas", "/api/rfas/RFA-1"} {
			res, body := do(t, h, "GET", path, map[string]string{"Authorization": auth})
			if res.StatusCode != 404 {
				t.Errorf("%s auth %q: got %d, want 404", path, auth, res.StatusCode)
			}
			if strings.Contains(body, "ann@oak.sch.uk") {
				t.Errorf("%s leaked data with API disabled", path)
			}
		}
	}
}

func apiGet(t *testing.T, h http.Handler, path string) (*http.Response, map[string]any) {
	t.Helper()
	res, body := do(t, h, "GET", path, map[string]string{"Authorization": "Bearer " + adminToken})
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v in %s", path, err, body)
	}
	return res, m
}

// checkRFAObject asserts the keys and JSON types of one RFA object.
func checkRFAObject(t *testing.T, o map[string]any) {
	t.Helper()
	strs := []string{"ref", "status", "subject", "requester", "organisation", "trust", "site",
		"level", "action_taken", "error_message", "can_replicate", "created"}
	for _, k := range strs {
		if _, ok := o[k].(string); !ok {
			t.Errorf("%v: %q is %T, want string", o["ref"], k, o[k])
		}
	}
	for _, k := range []string{"components", "missing", "events"} {
		if _, ok := o[k].([]any); !ok {
			t.Errorf("%v: %q is %T, want array", o["ref"], k, o[k])
		}
	}
	if _, ok := o["messages"].(float64); !ok {
		t.Errorf("%v: messages is %T, want number", o["ref"], o["messages"])
	}
	if c, _ := o["created"].(string); c != "" {
		if _, err := time.Parse(time.RFC3339, c); err != nil {
			t.Errorf("created %q: %v", c, err)
		}
	}
	if _, ok := o["token"]; ok {
		t.Errorf("%v: the raw token is in the API", o["ref"])
	}
	switch o["can_replicate"] {
	case "yes", "no", "unknown":
	default:
		t.Errorf("can_replicate %v", o["can_replicate"])
	}
}

func TestAPIList(t *testing.T) {
	h := newTestHandler(t, nil)
	res, m := apiGet(t, h, "/api/rfas")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	list, ok := m["rfas"].([]any)
	if !ok || len(list) != 2 {
		t.Fatalf("rfas: %#v", m["rfas"])
	}
	if _, ok := m["next"]; ok {
		t.Errorf("next %v on the last page", m["next"])
	}
	full, bare := list[0].(map[string]any), list[1].(map[string]any)
	if full["ref"] != "RFA-1" || bare["ref"] != "RFA-2" {
		t.Errorf("order: %v, %v", full["ref"], bare["ref"])
	}
	want := map[string]any{
		"url": "/api/rfas/RFA-1", "status": "open", "requester": "ann@oak.sch.uk", "requester_name": "Ann Head",
		"organisation": "Oak Primary", "trust": "Acorn Trust", "severity": "moderate", "severity_label": "Moderate",
		"messages": 2.0, "channel": "email", "flag": "named another school's RFA", "created": "2026-01-12T08:05:00Z",
		"subject": `<script>alert(1)</script> "quoted" & 'single'`, "assignee": "Priya Shah (discord:1234)",
	}
	for k, v := range want {
		if full[k] != v {
			t.Errorf("%s = %#v, want %#v", k, full[k], v)
		}
	}
	if bare["severity"] != "" || bare["severity_label"] != "Awaiting triage" || bare["assignee"] != "" {
		t.Errorf("bare: %v", bare)
	}
	for _, o := range list {
		for _, k := range []string{"status_url_path", "token"} {
			if _, ok := o.(map[string]any)[k]; ok {
				t.Errorf("%s (the token) is in the list view", k)
			}
		}
	}
}

// TestAPIOneFields: the one-RFA view's fields, for a full and a bare RFA.
func TestAPIOneFields(t *testing.T) {
	h := newTestHandler(t, nil)
	_, full := apiGet(t, h, "/api/rfas/RFA-1")
	_, bare := apiGet(t, h, "/api/rfas/RFA-2")
	checkRFAObject(t, full)
	checkRFAObject(t, bare)
	// The RFA with nothing: empty arrays, not null, and every field missing.
	if c := bare["components"].([]any); len(c) != 0 {
		t.Errorf("bare components %v", c)
	}
	if miss := bare["missing"].([]any); len(miss) != len(bot.RequiredFields) {
		t.Errorf("bare missing %v, want all of %v", miss, bot.RequiredFields)
	}
	if bare["can_replicate"] != "unknown" || bare["messages"] != 0.0 {
		t.Errorf("bare: can_replicate %v messages %v", bare["can_replicate"], bare["messages"])
	}
	if _, ok := bare["flag"]; ok {
		t.Error("flag present although unset")
	}
	// The full RFA: values carried through.
	if miss := full["missing"].([]any); len(miss) != 0 {
		t.Errorf("full missing %v", miss)
	}
	want := map[string]any{
		"status": "open", "requester": "ann@oak.sch.uk", "organisation": "Oak Primary", "trust": "Acorn Trust",
		"site": "Main building", "level": "Gold", "can_replicate": "yes", "messages": 2.0,
		"channel": "email", "flag": "named another school's RFA", "created": "2026-01-12T08:05:00Z",
		"error_message": `"'><img src=x onerror=alert(1)>`,
	}
	for k, v := range want {
		if full[k] != v {
			t.Errorf("%s = %#v, want %#v", k, full[k], v)
		}
	}
	if c := full["components"].([]any); len(c) != 2 || c[0] != "MIS" {
		t.Errorf("components %v", c)
	}
	ev := full["events"].([]any)
	if len(ev) != 8 { // the API shows every event, internal ones included
		t.Fatalf("events %v", ev)
	}
	e0 := ev[0].(map[string]any)
	if e0["kind"] != "created" || e0["text"] != "Logged from email" || e0["at"] != "2026-01-12T08:05:00Z" {
		t.Errorf("event 0: %v", e0)
	}
}

func TestAPIOne(t *testing.T) {
	h := newTestHandler(t, nil)
	res, m := apiGet(t, h, "/api/rfas/rfa-1")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	checkRFAObject(t, m)
	if m["status_url_path"] != "/rfa/RFA-1?t="+token1 {
		t.Errorf("status_url_path %v", m["status_url_path"])
	}
	// The path it gives opens the status page.
	if res, _ := do(t, h, "GET", m["status_url_path"].(string), nil); res.StatusCode != 200 {
		t.Errorf("status_url_path gives %d", res.StatusCode)
	}
	for _, ref := range []string{"RFA-999", "RFA-0", "garbage", "RFA-x", "1"} {
		res, m := apiGet(t, h, "/api/rfas/"+ref)
		if res.StatusCode != 404 || m["error"] == nil {
			t.Errorf("%s: got %d %v, want 404 with error", ref, res.StatusCode, m)
		}
	}
}

func TestAPIDeskError(t *testing.T) {
	d := newDesk()
	d.err = errors.New("store: disk on fire")
	h := newTestHandler(t, func(o *Options) { o.Desk = d })
	for _, path := range []string{"/api/rfas", "/api/rfas/RFA-1"} {
		res, body := do(t, h, "GET", path, map[string]string{"Authorization": "Bearer " + adminToken})
		if res.StatusCode != 500 || strings.Contains(body, "fire") {
			t.Errorf("%s: got %d %q, want 500 without the internal error", path, res.StatusCode, body)
		}
	}
}

func TestLandingAndStatic(t *testing.T) {
	h := newTestHandler(t, nil)
	res, body := do(t, h, "GET", "/", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("landing: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Acme Service Desk", "08:00–17:00", "Monday to Friday", "bank holidays",
		`href="mailto:support@desk.test"`, "Exact error message", `name="viewport"`, `href="/static/style.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("landing lacks %q", want)
		}
	}
	if strings.Contains(body, "Support tier") || strings.Contains(body, "Support level") {
		t.Error("landing asks schools for a support tier the contract never asks for")
	}
	if res, _ := do(t, h, "GET", "/nope", nil); res.StatusCode != 404 {
		t.Errorf("/nope: %d", res.StatusCode)
	}
	res, body = do(t, h, "GET", "/static/style.css", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "max-width") {
		t.Errorf("style.css: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, _ := do(t, h, "POST", "/", nil); res.StatusCode != 405 {
		t.Errorf("POST /: %d, want 405", res.StatusCode)
	}
	// The demo mail page exists only when Sent is set.
	if res, _ := do(t, h, "GET", "/demo/mail", nil); res.StatusCode != 404 {
		t.Errorf("/demo/mail without Sent: %d", res.StatusCode)
	}
}
