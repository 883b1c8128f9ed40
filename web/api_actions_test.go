package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

const phoneToken = "phone-desk-token-0123456789abcdef"

// apiEnv is the web handler over a real desk on a real bbolt file.
type apiEnv struct {
	t    *testing.T
	desk *bot.Desk
	h    http.Handler
}

func newAPIEnv(t *testing.T, mod func(*Options)) *apiEnv {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "desk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	desk := bot.NewDesk(db, bot.DeskConfig{
		Name: "Acme Service Desk", Address: bot.Address{Name: "Acme Service Desk", Email: "support@desk.test"},
		BaseURL: "https://support.desk.test", LoopValue: "support@desk.test",
		Organisations: []bot.Organisation{
			{Name: "Oak Primary", Trust: "Acorn Trust", Domains: []string{"oak.sch.uk"}},
			{Name: "Elm Academy", Trust: "Acorn Trust", Domains: []string{"elm.sch.uk"}},
		},
	}, &bot.DeskOptions{Now: func() time.Time { return fixedNow }, Logger: testLogger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { desk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	opts := Options{
		Desk: desk, AdminToken: adminToken, Tokens: []APIToken{{Name: "Phone Desk", Token: phoneToken}},
		LogCall: desk.LogCall, Do: desk.Do, StatusURL: desk.StatusURL,
		Logger: testLogger(t), Now: func() time.Time { return fixedNow },
	}
	if mod != nil {
		mod(&opts)
	}
	return &apiEnv{t: t, desk: desk, h: NewHandler(opts)}
}

// post sends body as JSON with token (none if "") and decodes the answer
// into out (if not nil). A body over the cap is sent without a length,
// as a chunked request is, so that the route (not bound) meets the cap.
func (e *apiEnv) post(token, path, body string, out any) *http.Response {
	e.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if len(body) > maxRequestBody {
		req.ContentLength = -1
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	if res.Header.Get("Content-Type") != "application/json" {
		e.t.Errorf("POST %s %.100s: Content-Type %q, body %q", path, body, res.Header.Get("Content-Type"), b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("POST %s: %v in %q", path, err, b)
		}
	}
	return res
}

func (e *apiEnv) rfa(num uint64) *bot.RFA {
	e.t.Helper()
	r, err := e.desk.RFA(context.Background(), num)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// logCall logs a phone RFA through the API and returns its answer.
func (e *apiEnv) logCall(body string) RFALinkJSON {
	e.t.Helper()
	var v RFALinkJSON
	if res := e.post(phoneToken, "/api/rfas", body, &v); res.StatusCode != http.StatusCreated {
		e.t.Fatalf("POST /api/rfas = %d %+v", res.StatusCode, v)
	}
	return v
}

func TestAPILogsPhoneRFA(t *testing.T) {
	e := newAPIEnv(t, nil)
	var v RFALinkJSON
	res := e.post(phoneToken, "/api/rfas", `{"name": "Ann Head", "email": "Ann@Oak.sch.uk", "subject": "MIS down",
		"description": "Nobody can log in.", "site": "Main building", "components": ["MIS", " "], "can_replicate": "YES"}`, &v)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Location") != "/api/rfas/RFA-1" {
		t.Fatalf("answer %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	r := e.rfa(1)
	if v.Ref != "RFA-1" || v.Channel != "phone" || v.Requester != "ann@oak.sch.uk" || v.Organisation != "Oak Primary" ||
		v.Trust != "Acorn Trust" || v.Site != "Main building" || !reflect.DeepEqual(v.Components, []string{"MIS"}) ||
		v.CanReplicate != "yes" || v.StatusURL != "https://support.desk.test/rfa/RFA-1?t="+r.Token {
		t.Errorf("answer = %+v", v)
	}
	if ev := r.Events[0]; ev.Kind != bot.EventCreated || ev.Actor != "Phone Desk (api:Phone Desk)" {
		t.Errorf("created by %q (%s), want the token's name", ev.Actor, ev.Kind)
	}

	// No email: no acknowledgement, and the organisation as staff name it.
	v = e.logCall(`{"name": "Bob", "organisation": "elm academy", "subject": "Printer", "description": "Jammed."}`)
	if v.Requester != "" || v.Organisation != "Elm Academy" || !strings.HasPrefix(v.StatusURL, "https://support.desk.test/rfa/RFA-2?t=") {
		t.Errorf("answer = %+v", v)
	}

	for body, want := range map[string]string{
		`{"email": "a@oak.sch.uk", "subject": "x", "description": "y"}`:                `"name"`,
		`{"name": "A", "subject": " ", "description": "y"}`:                            `"subject"`,
		`{"name": "A", "subject": "x"}`:                                                `"description"`,
		`{"name": "A", "email": "not an address", "subject": "x", "description": "y"}`: "not an email address",
		`{"name": "A", "subject": "x", "description": "y", "can_replicate": "maybe"}`:  "can_replicate",
		`{"name": "A", "subject": "x", "description": "y", "colour": "red"}`:           "colour",
		`{"name": "A", "subject": "x", "description": "y", "components": "MIS"}`:       `"components" should be a list of strings`,
		`[1, 2]`: "bad body",
		`{"name": "A", "subject": "x", "description": "y"} {}`: "one JSON object",
	} {
		var ae apiError
		if res := e.post(phoneToken, "/api/rfas", body, &ae); res.StatusCode != http.StatusBadRequest || !strings.Contains(ae.Error, want) {
			t.Errorf("%s: %d %q, want 400 mentioning %s", body, res.StatusCode, ae.Error, want)
		}
	}
	if page, _ := e.desk.RFAPage(context.Background(), bot.RFAQuery{}); len(page.RFAs) != 2 {
		t.Errorf("%d RFAs after refused calls, want 2", len(page.RFAs))
	}
}

func TestAPIStaffActions(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "MIS down", "description": "Nobody can log in."}`)
	steps := []struct {
		token, body string
		kind        bot.EventKind
		check       func(v RFALinkJSON) bool
	}{
		{adminToken, `{"action": "severity", "level": "critical"}`, bot.EventSeverity, func(v RFALinkJSON) bool { return v.Severity == "critical" }},
		{phoneToken, `{"action": "assign", "to": "Tom Reid"}`, bot.EventAssigned, func(v RFALinkJSON) bool { return v.Assignee == "Tom Reid" }},
		{adminToken, `{"action": "reply", "text": "Looking now."}`, bot.EventStaffReply, nil},
		{phoneToken, `{"action": "note", "text": "Checked the logs."}`, bot.EventNote, nil},
		{adminToken, `{"action": "update", "text": "Fix in test."}`, bot.EventStatusUpdate, nil},
		{adminToken, `{"action": "ask", "text": "Which browser?"}`, bot.EventAsked, func(v RFALinkJSON) bool { return v.Status == "awaiting-requester" }},
		{adminToken, `{"action": "workaround", "text": "Use Firefox."}`, bot.EventWorkaround, func(v RFALinkJSON) bool { return v.Status == "open" }},
		{phoneToken, `{"action": "release", "name": "2026.2", "ships": "2026-02-05"}`, bot.EventRelease,
			func(v RFALinkJSON) bool { return v.Release != nil && v.Release.Ships == "2026-02-06T00:00:00Z" }},
		{phoneToken, `{"action": "set_fields", "site": "Annexe", "components": ["MIS", "Email"], "can_replicate": "no", "organisation": "Elm Academy"}`,
			bot.EventFieldsSet, func(v RFALinkJSON) bool {
				return v.Site == "Annexe" && len(v.Components) == 2 && v.CanReplicate == "no" && v.Organisation == "Elm Academy"
			}},
		{adminToken, `{"action": "set_fields", "error_message": "E42", "action_taken": "Rebooted", "site": ""}`, bot.EventFieldsSet,
			func(v RFALinkJSON) bool {
				return v.ErrorMessage == "E42" && v.ActionTaken == "Rebooted" && v.Site == ""
			}},
		{adminToken, `{"action": "clear", "resolution": "Session store fixed."}`, bot.EventCleared, func(v RFALinkJSON) bool { return v.Status == "cleared" }},
		{phoneToken, `{"action": "reopen", "reason": "Back again."}`, bot.EventReopened, func(v RFALinkJSON) bool { return v.Status == "open" }},
	}
	for _, s := range steps {
		var v RFALinkJSON
		if res := e.post(s.token, "/api/rfas/RFA-1/actions", s.body, &v); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %+v", s.body, res.StatusCode, v)
		}
		want := "admin (api:admin)"
		if s.token == phoneToken {
			want = "Phone Desk (api:Phone Desk)"
		}
		last := v.Events[len(v.Events)-1]
		if last.Kind != string(s.kind) || last.Actor != want {
			t.Errorf("%s: last event %s by %q, want %s by %q", s.body, last.Kind, last.Actor, s.kind, want)
		}
		if s.check != nil && !s.check(v) {
			t.Errorf("%s: answer %+v", s.body, v)
		}
		if v.StatusURL == "" {
			t.Errorf("%s: no status_url", s.body)
		}
	}
}

func TestAPIActionRefusals(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "MIS down", "description": "Nobody can log in."}`)
	before := e.rfa(1)
	cases := []struct {
		name, token, path, body string
		code                    int
		want                    string
	}{
		{"no token", "", "/api/rfas/RFA-1/actions", `{"action": "note", "text": "x"}`, 401, "unauthorized"},
		{"wrong token", "wrong", "/api/rfas/RFA-1/actions", `{"action": "note", "text": "x"}`, 401, "unauthorized"},
		{"token prefix", phoneToken[:10], "/api/rfas/RFA-1/actions", `{"action": "note", "text": "x"}`, 401, "unauthorized"},
		{"no token, phone RFA", "", "/api/rfas", `{"name": "A", "subject": "x", "description": "y"}`, 401, "unauthorized"},
		{"not JSON", adminToken, "/api/rfas/RFA-1/actions", `action=note`, 400, "not a JSON object"},
		{"no action", adminToken, "/api/rfas/RFA-1/actions", `{"text": "x"}`, 400, `needs "action"`},
		{"unknown action", adminToken, "/api/rfas/RFA-1/actions", `{"action": "delete"}`, 400, `"delete" is not an action`},
		{"field of another action", adminToken, "/api/rfas/RFA-1/actions", `{"action": "reply", "level": "critical", "text": "x"}`, 400, `"level" does not go with reply`},
		{"null field", adminToken, "/api/rfas/RFA-1/actions", `{"action": "set_fields", "site": null}`, 400, "null"},
		{"wrong type", adminToken, "/api/rfas/RFA-1/actions", `{"action": "set_fields", "components": "MIS"}`, 400, "list of strings"},
		{"bad severity", adminToken, "/api/rfas/RFA-1/actions", `{"action": "severity", "level": "urgent"}`, 400, "not a severity"},
		{"empty reply", adminToken, "/api/rfas/RFA-1/actions", `{"action": "reply", "text": " "}`, 400, "needs its text"},
		{"assign to nobody", adminToken, "/api/rfas/RFA-1/actions", `{"action": "assign"}`, 400, "who to assign"},
		{"bad ship date", adminToken, "/api/rfas/RFA-1/actions", `{"action": "release", "name": "x", "ships": "5 Feb"}`, 400, "YYYY-MM-DD"},
		{"no fields", adminToken, "/api/rfas/RFA-1/actions", `{"action": "set_fields"}`, 400, "at least one"},
		{"bad replicate", adminToken, "/api/rfas/RFA-1/actions", `{"action": "set_fields", "can_replicate": "maybe"}`, 400, "yes, no or unknown"},
		{"unknown RFA", adminToken, "/api/rfas/RFA-99/actions", `{"action": "note", "text": "x"}`, 404, "not found"},
		{"not a ref", adminToken, "/api/rfas/99/actions", `{"action": "note", "text": "x"}`, 404, "not found"},
		{"reopen an open RFA", adminToken, "/api/rfas/RFA-1/actions", `{"action": "reopen", "reason": "x"}`, 409, "RFA-1 is not cleared or closed"},
		{"too large", adminToken, "/api/rfas/RFA-1/actions", `{"action": "note", "text": "` + strings.Repeat("x", maxRequestBody) + `"}`, 413, "over 65536 bytes"},
	}
	for _, c := range cases {
		var ae apiError
		res := e.post(c.token, c.path, c.body, &ae)
		if res.StatusCode != c.code || !strings.Contains(ae.Error, c.want) {
			t.Errorf("%s: %d %q, want %d mentioning %q", c.name, res.StatusCode, ae.Error, c.code, c.want)
		}
		if c.code == 401 && res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", c.name)
		}
	}
	if after := e.rfa(1); !reflect.DeepEqual(before, after) {
		t.Errorf("refused requests changed RFA-1:\nbefore %+v\nafter  %+v", before, after)
	}
	if page, _ := e.desk.RFAPage(context.Background(), bot.RFAQuery{}); len(page.RFAs) != 1 {
		t.Errorf("%d RFAs, want 1", len(page.RFAs))
	}

	var ae apiError
	e.post(adminToken, "/api/rfas/RFA-1/actions", `{"action": "clear", "resolution": "Fixed."}`, nil)
	if res := e.post(adminToken, "/api/rfas/RFA-1/actions", `{"action": "clear", "resolution": "Again."}`, &ae); res.StatusCode != 409 || ae.Error != "RFA-1 is already cleared" {
		t.Errorf("clearing twice: %d %q", res.StatusCode, ae.Error)
	}
}

func TestAPITokensAlone(t *testing.T) {
	// Named tokens enable the API without an admin token; each request
	// is its own token's.
	e := newAPIEnv(t, func(o *Options) {
		o.AdminToken = ""
		o.Tokens = append(o.Tokens, APIToken{Name: "Night Desk", Token: "night-desk-token-0123456789abcdef"}, APIToken{Name: "Unused"})
	})
	e.logCall(`{"name": "Ann", "subject": "MIS down", "description": "Down."}`)
	var v RFALinkJSON
	if res := e.post("night-desk-token-0123456789abcdef", "/api/rfas/RFA-1/actions", `{"action": "note", "text": "x"}`, &v); res.StatusCode != 200 ||
		v.Events[len(v.Events)-1].Actor != "Night Desk (api:Night Desk)" {
		t.Errorf("night desk's note: %d %+v", res.StatusCode, v.Events)
	}
	var ae apiError
	for _, tok := range []string{adminToken, ""} {
		if res := e.post(tok, "/api/rfas/RFA-1/actions", `{"action": "note", "text": "x"}`, &ae); res.StatusCode != 401 {
			t.Errorf("token %q: %d, want 401", tok, res.StatusCode)
		}
	}

	// No token at all: the admin API is not there.
	e = newAPIEnv(t, func(o *Options) { o.AdminToken, o.Tokens = "", nil })
	if res := e.post(adminToken, "/api/rfas", `{"name": "Ann", "subject": "x", "description": "y"}`, &ae); res.StatusCode != 404 {
		t.Errorf("POST /api/rfas without tokens: %d, want 404", res.StatusCode)
	}
}

func TestSetFieldsShowsOnStatusPage(t *testing.T) {
	e := newAPIEnv(t, nil)
	v := e.logCall(`{"name": "Ann", "email": "ann@oak.sch.uk", "subject": "MIS down", "description": "Down."}`)
	if res := e.post(adminToken, "/api/rfas/RFA-1/actions",
		`{"action": "set_fields", "site": "Annexe <b>2</b>", "organisation": "Elm Academy"}`, nil); res.StatusCode != 200 {
		t.Fatalf("set_fields: %d", res.StatusCode)
	}
	path := strings.TrimPrefix(v.StatusURL, "https://support.desk.test")
	res, page := do(t, e.h, "GET", path, nil)
	if res.StatusCode != 200 || !strings.Contains(page, "<dt>School</dt><dd>Elm Academy</dd>") || !strings.Contains(page, "Annexe &lt;b&gt;2&lt;/b&gt;") {
		t.Errorf("status page %d does not show the corrections:\n%s", res.StatusCode, page)
	}
}
