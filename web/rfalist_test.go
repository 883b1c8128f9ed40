package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

// listRFAs returns RFA-1..RFA-n: even ones Vale Academy, minor and
// closed, odd ones Oak Primary and open; RFA-i last updated i hours
// after fixedNow.
func listRFAs(n int) []*bot.RFA {
	var rfas []*bot.RFA
	for i := 1; i <= n; i++ {
		r := &bot.RFA{Num: uint64(i), Status: bot.StatusOpen, Subject: fmt.Sprintf("RFA %d", i), Created: fixedNow,
			Organisation: "Oak Primary", Requester: bot.Address{Email: "ann@oak.sch.uk"}, Token: fmt.Sprintf("token-%d-AAAAAAAAAAAAAAAAAAAA", i),
			Messages: []bot.Message{{At: fixedNow, Direction: bot.Inbound, Text: strings.Repeat("body ", 100)}},
			Events:   []bot.Event{{At: fixedNow.Add(time.Duration(i) * time.Hour), Kind: bot.EventNote, Text: "n"}}}
		if i%2 == 0 {
			r.Organisation, r.Status, r.Severity = "Vale Academy", bot.StatusClosed, bot.SeverityMinor
		}
		rfas = append(rfas, r)
	}
	return rfas
}

// listPage is GET /api/rfas's body.
type listPage struct {
	RFAs []RFASummaryJSON `json:"rfas"`
	Next string           `json:"next"`
}

func TestAPIListPages(t *testing.T) {
	h := newTestHandler(t, func(o *Options) { o.Desk = storeDesk(t, listRFAs(7)...) })
	get := func(path string) (int, listPage, string) {
		t.Helper()
		res, body := do(t, h, "GET", path, map[string]string{"Authorization": "Bearer " + adminToken})
		var p listPage
		if res.StatusCode == 200 {
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatalf("%s: %v in %s", path, err, body)
			}
		}
		return res.StatusCode, p, body
	}
	refs := func(p listPage) string {
		var s []string
		for _, r := range p.RFAs {
			s = append(s, r.Ref)
		}
		return strings.Join(s, ",")
	}

	// Walk in pages of 3, following next.
	var walked []string
	path := "/api/rfas?limit=3"
	for range 5 {
		code, p, body := get(path)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if strings.Contains(body, "\n  ") {
			t.Errorf("%s is indented:\n%s", path, body)
		}
		if strings.Contains(body, "token-") {
			t.Errorf("%s shows a status token", path)
		}
		walked = append(walked, refs(p))
		if p.Next == "" {
			break
		}
		path = "/api/rfas?limit=3&after=" + p.Next
	}
	if got := strings.Join(walked, "|"); got != "RFA-1,RFA-2,RFA-3|RFA-4,RFA-5,RFA-6|RFA-7" {
		t.Errorf("pages = %s", got)
	}

	_, p, _ := get("/api/rfas?limit=1")
	if len(p.RFAs) != 1 || p.RFAs[0].URL != "/api/rfas/RFA-1" || p.RFAs[0].Messages != 1 || p.Next != "RFA-1" ||
		p.RFAs[0].Updated != "2026-01-14T11:30:00Z" || p.RFAs[0].Organisation != "Oak Primary" {
		t.Errorf("first item = %+v, next %q", p.RFAs, p.Next)
	}

	for path, want := range map[string]string{
		"/api/rfas?status=closed":                             "RFA-2,RFA-4,RFA-6",
		"/api/rfas?organisation=vale+academy&after=RFA-2":     "RFA-4,RFA-6",
		"/api/rfas?severity=minor&status=closed":              "RFA-2,RFA-4,RFA-6",
		"/api/rfas?updated_since=2026-01-14T15:30:00Z":        "RFA-5,RFA-6,RFA-7",
		"/api/rfas?updated_since=2026-01-14T15:30:00%2B01:00": "RFA-4,RFA-5,RFA-6,RFA-7",
	} {
		if code, p, body := get(path); code != 200 || refs(p) != want || p.Next != "" {
			t.Errorf("%s = %d %s next %q, want %s (%s)", path, code, refs(p), p.Next, want, body)
		}
	}

	for path, wantErr := range map[string]string{
		"/api/rfas?limit=1001":              "limit",
		"/api/rfas?limit=0":                 "limit",
		"/api/rfas?limit=ten":               "limit",
		"/api/rfas?after=7":                 "after",
		"/api/rfas?status=pending":          "status",
		"/api/rfas?severity=urgent":         "severity",
		"/api/rfas?updated_since=yesterday": "updated_since",
		"/api/rfas?sort=desc":               "sort",
	} {
		code, _, body := get(path)
		var e apiError
		if code != 400 || json.Unmarshal([]byte(body), &e) != nil || !strings.HasPrefix(e.Error, wantErr) && !strings.Contains(e.Error, `"`+wantErr+`"`) {
			t.Errorf("%s = %d %s, want 400 naming %s", path, code, body, wantErr)
		}
	}
}
