package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// TestPublicJSON: the page's URL with Accept: application/json answers
// the allow-listed public view: exactly its keys, the public timeline and
// conversation, the clocks, cleared_at from the clearance; no token, no
// address, no internal note, flag, assignee or staff-only event.
func TestPublicJSON(t *testing.T) {
	d := newDesk()
	r := d.rfas[1]
	r.Status = bot.StatusCleared
	clearedAt := r.Created.Add(48 * time.Hour)
	r.Events = append(r.Events, bot.Event{At: clearedAt, Kind: bot.EventCleared, Text: "INTERNAL-CLEAR-TEXT", Actor: "Priya Shah (discord:1234)"})
	r.Messages = append(r.Messages, bot.Message{At: clearedAt, Direction: bot.Inbound, From: bot.Address{Email: "colleague@oak.sch.uk"}, Text: "me too\u202e"})
	h := newTestHandler(t, func(o *Options) { o.Desk = d })
	res, body := do(t, h, "GET", page1, map[string]string{"Accept": "application/json"})
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" ||
		res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Vary") != "Accept" {
		t.Fatalf("%d %q %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), res.Header.Get("Vary"))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"action_taken", "can_replicate", "cleared_at", "clocks", "components", "conversation", "created",
		"error_message", "level", "missing", "organisation", "ref", "severity", "severity_label", "site", "status",
		"status_label", "subject", "timeline", "trust"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %q\nwant %q", keys, want)
	}
	var v PublicRFAJSON
	json.Unmarshal([]byte(body), &v)
	if v.Ref != "RFA-1" || v.Status != "cleared" || v.ClearedAt != "2026-01-14T08:05:00Z" || v.Subject != r.Subject ||
		v.ErrorMessage != r.Report.ErrorMessage || v.Severity != "moderate" || len(v.Clocks) == 0 {
		t.Errorf("view %+v", v)
	}
	for _, leak := range []string{token1, "@", "INTERNAL", "named another school", "Priya", "discord", "chat_thread", "assignee", "\u202e"} {
		if strings.Contains(body, leak) {
			t.Errorf("public JSON holds %q", leak)
		}
	}
	var texts, froms []string
	for _, e := range v.Timeline {
		texts = append(texts, e.Text)
	}
	for _, c := range v.Conversation {
		froms = append(froms, c.From+"/"+c.Direction)
	}
	if !slices.Contains(texts, "We sent you the fix and asked you to confirm that it is resolved") || len(texts) != 4 {
		t.Errorf("timeline %q", texts)
	}
	if !slices.Equal(froms, []string{"Ann Head/to-desk", "Service Desk/from-desk", "a colleague/to-desk"}) {
		t.Errorf("conversation from %q", froms)
	}
	if len(v.Conversation[0].Attachments) != 1 || v.Conversation[0].Attachments[0].Name != "screen.png" || v.Conversation[1].Attachments == nil {
		t.Errorf("attachments %+v", v.Conversation)
	}
	// A wrong token asking for JSON gets the very 404 page.
	_, want404 := do(t, h, "GET", "/rfa/RFA-1?t=wrong", nil)
	if res, b := do(t, h, "GET", "/rfa/RFA-1?t=wrong", map[string]string{"Accept": "application/json"}); res.StatusCode != 404 || b != want404 {
		t.Errorf("wrong token with JSON: %d, same 404: %v", res.StatusCode, b == want404)
	}
	// A reopen undoes the clearance.
	r.Events = append(r.Events, bot.Event{At: clearedAt.Add(time.Hour), Kind: bot.EventReopened})
	if _, b := do(t, h, "GET", page1, map[string]string{"Accept": "application/json"}); strings.Contains(b, "cleared_at") {
		t.Error("cleared_at after a reopen")
	}
}

// liveDesk is a running bot.Desk over a real store holding one RFA from
// Ann at Oak Primary; it returns the desk, the store and RFA-1's page.
func liveDesk(t *testing.T) (*bot.Desk, *store.DB, string) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "rfadesk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := bot.NewDesk(db, bot.DeskConfig{
		Name: "Acme Service Desk", Address: bot.Address{Email: "support@desk.test"}, BaseURL: "https://desk.test",
		Organisations: []bot.Organisation{{Name: "Oak Primary", Domains: []string{"oak.sch.uk"}}},
	}, &bot.DeskOptions{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	m := &bot.Mail{MessageID: "a1@oak.sch.uk", DedupeKey: "mid:a1@oak.sch.uk", From: bot.Address{Name: "Ann Head", Email: "ann@oak.sch.uk"},
		Subject: "MIS down", Text: "It is down", Reply: "It is down", Received: fixedNow}
	if _, err := d.Ingest(ctx, "INBOX", 1, []bot.Fetched{{UID: 1, Mail: m}}); err != nil {
		t.Fatal(err)
	}
	r, err := d.RFA(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	return d, db, statusPath(r)
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)" enctype="multipart/form-data">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<input type="hidden" name="action" value="(\w+)">`)
)

// TestStatusPageActsOnTheRealDesk: the page's own message form, posted
// as a browser would (multipart, with a file), records the message on a
// real desk and store; the page then shows it escaped and the file's
// name neutralised; the answer form appears once the desk asks, and
// answering resumes the RFA.
func TestStatusPageActsOnTheRealDesk(t *testing.T) {
	d, db, page := liveDesk(t)
	ctx := context.Background()
	h := NewHandler(Options{Desk: d, AddMessage: d.AddMessage, AnswerQuestion: d.AnswerQuestion, Escalate: d.Escalate,
		MaxFileBytes: 1 << 10, Logger: testLogger(t)})
	_, html := do(t, h, "GET", page, nil)
	if !strings.Contains(html, "Please reply to our email, or write below, to add them") {
		t.Error("the missing fields notice does not point to the message form")
	}
	sm := formAction.FindStringSubmatch(html)
	if sm == nil || sm[3] != "message" {
		t.Fatalf("no multipart message form on the page:\n%s", html)
	}
	action := strings.ReplaceAll(sm[1], "&amp;", "&")
	if action != page {
		t.Errorf("form posts to %q, want the page %q", action, page)
	}
	ct, body := multipartBody(t, part{"csrf", "", sm[2]}, part{"action", "", sm[3]},
		part{"text", "", "<script>alert(1)</script>\nSite location: Hall"}, part{"files", "<img src=x>\u202egnp.exe", "PNG!"})
	res, _ := send(t, h, action, ct, body, map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page+"&done=message" {
		t.Fatalf("post: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, html = do(t, h, "GET", res.Header.Get("Location"), nil)
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x&gt;gnp.exe", "Thank you: your message has been added", "Hall"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "\u202e") || strings.Contains(html, "<img src=x>") {
		t.Error("user text reached the page unescaped")
	}
	r, _ := d.RFAWithTexts(ctx, 1)
	last := r.Messages[len(r.Messages)-1]
	var got []byte
	db.View(ctx, func(tx bot.Tx) error { got, _ = tx.GetAttachment(1, len(r.Messages)-1, 0); return nil })
	if last.From.Email != "ann@oak.sch.uk" || string(got) != "PNG!" || r.Report.Site != "Hall" {
		t.Errorf("recorded %+v, file %q, site %q", last, got, r.Report.Site)
	}
	// JSON shows the same, escaped by JSON.
	_, js := do(t, h, "GET", page, map[string]string{"Accept": "application/json"})
	if !strings.Contains(js, `\u003cscript\u003e`) || strings.Contains(js, "<script>") {
		t.Error("JSON does not carry the message escaped")
	}

	if err := d.Ask(ctx, 1, bot.StaffMessage{By: bot.Actor{Name: "Priya"}, Text: "Which <browser>?"}); err != nil {
		t.Fatal(err)
	}
	_, html = do(t, h, "GET", page, nil)
	sm = formAction.FindStringSubmatch(html)
	if sm == nil || sm[3] != "answer" || !strings.Contains(html, "Which &lt;browser&gt;?") {
		t.Fatalf("no answer form quoting the question:\n%s", html)
	}
	ct, body = multipartBody(t, part{"csrf", "", sm[2]}, part{"action", "", "answer"}, part{"text", "", "Edge"})
	if res, _ := send(t, h, page, ct, body, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	if r, _ := d.RFA(ctx, 1); r.Status != bot.StatusOpen {
		t.Errorf("status after the answer %s, want open", r.Status)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", page, nil))
	if b, _ := io.ReadAll(rec.Body); strings.Contains(string(b), `value="answer"`) {
		t.Error("answer form still shown once answered")
	}
}
