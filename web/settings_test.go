package web

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rfadesk/bot"
)

// Settings are read per request: a change (a reload) shows on the next
// page, the board's JSON and the times the templates format, with no
// new handler.
func TestSettingsAreReadPerRequest(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no Europe/Paris zone:", err)
	}
	var cur atomic.Pointer[Settings]
	cur.Store(&Settings{DeskName: "First Desk", Contact: bot.Contact{Phone: "01603 111111"}})
	h := newTestHandler(t, func(o *Options) { o.Settings = func() Settings { return *cur.Load() } })
	asJSON := map[string]string{"Accept": "application/json"}

	_, board := do(t, h, "GET", "/status", asJSON)
	_, page := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if !strings.Contains(board, `"phone":"01603 111111"`) || !strings.Contains(page, "First Desk") || !strings.Contains(page, " GMT") {
		t.Fatalf("before the change: board %s\npage %s", board, page)
	}

	cur.Store(&Settings{DeskName: "Second Desk", Contact: bot.Contact{Phone: "01603 222222"}, Location: paris})
	_, board = do(t, h, "GET", "/status", asJSON)
	if !strings.Contains(board, `"phone":"01603 222222"`) {
		t.Errorf("board after the change: %s", board)
	}
	res, page := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Second Desk") || strings.Contains(page, "First Desk") ||
		!strings.Contains(page, " CET") || strings.Contains(page, " GMT") {
		t.Errorf("page after the change (%d) does not show the new name and zone:\n%s", res.StatusCode, page)
	}
}
